/** Point values of one outstation as the wire carries them: raw, before scaling, by index. */
export interface PointSnapshot {
  /** Analog inputs (g30). */
  readonly ai: ReadonlyMap<number, number>;
  /** Binary inputs (g1). */
  readonly bi: ReadonlyMap<number, boolean>;
  /** Analog output status (g40). */
  readonly aoStatus: ReadonlyMap<number, number>;
  /** Binary output status (g10). */
  readonly boStatus: ReadonlyMap<number, boolean>;
  /** Counters (g20). */
  readonly counters: ReadonlyMap<number, number>;
}

export interface MutablePointSnapshot extends PointSnapshot {
  readonly ai: Map<number, number>;
  readonly bi: Map<number, boolean>;
  readonly aoStatus: Map<number, number>;
  readonly boStatus: Map<number, boolean>;
  readonly counters: Map<number, number>;
}

export function emptySnapshot(): MutablePointSnapshot {
  return { ai: new Map(), bi: new Map(), aoStatus: new Map(), boStatus: new Map(), counters: new Map() };
}
