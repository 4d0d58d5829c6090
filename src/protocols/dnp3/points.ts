/** The five kinds of points a DNP3 outstation serves and a master collects. */
export type PointKind = 'binaryInput' | 'binaryOutputStatus' | 'counter' | 'analogInput' | 'analogOutputStatus';

export const POINT_KINDS: readonly PointKind[] = ['binaryInput', 'binaryOutputStatus', 'counter', 'analogInput', 'analogOutputStatus'];

export interface PointKindInfo {
  readonly staticGroup: number;
  readonly eventGroup: number;
  readonly staticVariations: readonly number[];
  readonly eventVariations: readonly number[];
  readonly defaultStatic: number;
  readonly defaultEvent: number;
  readonly valueType: 'binary' | 'analog' | 'counter';
}

/** Object groups and variations per point kind (static and event), with our defaults. */
export const KIND_INFO: Readonly<Record<PointKind, PointKindInfo>> = {
  binaryInput: { staticGroup: 1, eventGroup: 2, staticVariations: [1, 2], eventVariations: [1, 2, 3], defaultStatic: 2, defaultEvent: 2, valueType: 'binary' },
  binaryOutputStatus: { staticGroup: 10, eventGroup: 11, staticVariations: [1, 2], eventVariations: [1, 2], defaultStatic: 2, defaultEvent: 2, valueType: 'binary' },
  counter: { staticGroup: 20, eventGroup: 22, staticVariations: [1, 2, 5, 6], eventVariations: [1, 2, 5, 6], defaultStatic: 1, defaultEvent: 1, valueType: 'counter' },
  analogInput: { staticGroup: 30, eventGroup: 32, staticVariations: [1, 2, 3, 4, 5, 6], eventVariations: [1, 2, 3, 4, 5, 6, 7, 8], defaultStatic: 1, defaultEvent: 3, valueType: 'analog' },
  analogOutputStatus: { staticGroup: 40, eventGroup: 42, staticVariations: [1, 2, 3, 4], eventVariations: [1, 2, 3, 4, 5, 6, 7, 8], defaultStatic: 1, defaultEvent: 3, valueType: 'analog' },
};

const BY_GROUP = new Map<number, { kind: PointKind; isEvent: boolean }>(
  (Object.entries(KIND_INFO) as [PointKind, PointKindInfo][]).flatMap(([kind, i]) => [
    [i.staticGroup, { kind, isEvent: false }],
    [i.eventGroup, { kind, isEvent: true }],
  ]),
);

/** Which point kind an object group reports, and whether it is the event group. */
export function kindOfGroup(group: number): { kind: PointKind; isEvent: boolean } | undefined {
  return BY_GROUP.get(group);
}

/** One reported value of a point, as the master hands it out. */
export interface Measurement {
  readonly kind: PointKind;
  readonly index: number;
  /** boolean for binaries, number otherwise. */
  readonly value: boolean | number;
  /** Quality flags (bits 0-6; ONLINE = 0x01). The state of a binary is `value`, not a flag. */
  readonly flags: number;
  /** Epoch ms of the change, for event variations with time. */
  readonly timestamp?: number;
  /** Came from an event object (g2, g11, g22, g32, g42) rather than static data. */
  readonly isEvent: boolean;
}
