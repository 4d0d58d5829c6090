/**
 * Volt-var and volt-watt curves in the profile's curve-edit form (AO244..AO248 and the X/Y point
 * block), shared by the master that writes them and the outstation that holds and applies them.
 */
import { voltVarCurveSchema, voltWattCurveSchema, type VoltVarCurve, type VoltWattCurve } from '../../../core/model/control.js';
import { fromRaw, quantum, toRaw, type DerPointMap, type PointDef } from './point-map.js';

export type CurveKind = 'voltVar' | 'voltWatt';

/** One curve slot as the outstation holds it: raw values of AO245..AO248 and the point block. */
export interface CurveSlot {
  readonly modeType: number;
  readonly xUnits: number;
  readonly yUnits: number;
  /** Number of points in use (AO246). */
  readonly n: number;
  /** Raw X and Y of every point of the block (curves.maxPoints), staged ones beyond `n` included. */
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export const emptySlot = (maxPoints: number): CurveSlot => ({ modeType: 0, xUnits: 0, yUnits: 0, n: 0, x: new Array<number>(maxPoints).fill(0), y: new Array<number>(maxPoints).fill(0) });

/** The header values (AO245, AO247, AO248) that mark a slot as a curve of `kind`. */
export function curveHeader(map: DerPointMap, kind: CurveKind): Pick<CurveSlot, 'modeType' | 'xUnits' | 'yUnits'> {
  const c = map.curves;
  return kind === 'voltVar'
    ? { modeType: c.voltVarModeType, xUnits: c.xUnitsPercentVoltage, yUnits: c.yUnitsPercentVar }
    : { modeType: c.voltWattModeType, xUnits: c.xUnitsPercentVoltage, yUnits: c.yUnitsPercentW };
}

function blocks(map: DerPointMap): { x: PointDef; y: PointDef } | null {
  const x = map.points['ao.curveX'];
  const y = map.points['ao.curveY'];
  return x && y ? { x, y } : null;
}

/** Pairs of (% of nominal V, % of rating) of a core curve. */
export function curvePairs(kind: CurveKind, curve: VoltVarCurve | VoltWattCurve): [number, number][] {
  return kind === 'voltVar' ? (curve as VoltVarCurve).map((p) => [p.v, p.var]) : (curve as VoltWattCurve).map((p) => [p.v, p.w]);
}

/** A core curve as the slot that holds it (scaled; a map without a point block keeps only the header). */
export function encodeCurve(map: DerPointMap, kind: CurveKind, pairs: readonly (readonly [number, number])[]): CurveSlot {
  const b = blocks(map);
  const max = map.curves.maxPoints;
  const x = new Array<number>(max).fill(0);
  const y = new Array<number>(max).fill(0);
  if (b) {
    pairs.slice(0, max).forEach(([px, py], i) => {
      x[i] = toRaw(b.x, px);
      y[i] = toRaw(b.y, py);
    });
  }
  return { ...curveHeader(map, kind), n: b ? Math.min(pairs.length, max) : 0, x, y };
}

/** Why the map cannot carry this curve exactly enough (too many points, voltages merged by scaling), or null. */
export function curveEncodingProblem(map: DerPointMap, pairs: readonly (readonly [number, number])[]): string | null {
  const b = blocks(map);
  if (!b) return 'the point map has no curve point block (ao.curveX / ao.curveY)';
  const max = map.curves.maxPoints;
  if (pairs.length > max) return `${pairs.length} curve points, the map allows ${max}`;
  for (let i = 1; i < pairs.length; i++) {
    if (toRaw(b.x, pairs[i]![0]) <= toRaw(b.x, pairs[i - 1]![0])) {
      return `curve voltages ${pairs[i - 1]![0]} and ${pairs[i]![0]} % fall on one step of ${quantum(b.x)} % after scaling`;
    }
  }
  return null;
}

/** The core curve a slot holds, or why it is not a valid curve of `kind`. */
export function decodeCurve(map: DerPointMap, slot: CurveSlot, kind: 'voltVar'): VoltVarCurve | string;
export function decodeCurve(map: DerPointMap, slot: CurveSlot, kind: 'voltWatt'): VoltWattCurve | string;
export function decodeCurve(map: DerPointMap, slot: CurveSlot, kind: CurveKind): VoltVarCurve | VoltWattCurve | string {
  const b = blocks(map);
  if (!b) return 'the point map has no curve point block';
  const want = curveHeader(map, kind);
  const name = kind === 'voltVar' ? 'volt-var' : 'volt-watt';
  if (slot.modeType !== want.modeType) return `mode type ${slot.modeType} is not ${name} (${want.modeType})`;
  if (slot.xUnits !== want.xUnits) return `X units ${slot.xUnits}, ${name} needs ${want.xUnits} (percent voltage)`;
  if (slot.yUnits !== want.yUnits) return `Y units ${slot.yUnits}, ${name} needs ${want.yUnits}`;
  const pts = Array.from({ length: slot.n }, (_, i) => [fromRaw(b.x, slot.x[i] ?? 0), fromRaw(b.y, slot.y[i] ?? 0)] as const);
  const r = kind === 'voltVar' ? voltVarCurveSchema.safeParse(pts.map(([v, y]) => ({ v, var: y }))) : voltWattCurveSchema.safeParse(pts.map(([v, y]) => ({ v, w: y })));
  if (!r.success) {
    const i = r.error.issues[0]!;
    const where = typeof i.path[0] === 'number' ? `point ${i.path[0] + 1}: ` : '';
    return `${name} curve ${where}${i.message}`;
  }
  return r.data;
}
