import type { ObjectBlock } from '../app/headers.js';
import { kindOfGroup, type Measurement } from '../points.js';

/** The point values in parsed object blocks (static and event groups; other groups are skipped). */
export function measurementsOf(blocks: readonly ObjectBlock[]): Measurement[] {
  const out: Measurement[] = [];
  for (const b of blocks) {
    const g = kindOfGroup(b.group);
    if (!g) continue;
    for (const it of b.items) {
      const v = it.value;
      if (v.type !== 'binary' && v.type !== 'analog' && v.type !== 'counter') continue;
      const m: Measurement = { kind: g.kind, index: it.index, value: v.value, flags: v.flags, isEvent: g.isEvent };
      out.push(v.time === undefined ? m : { ...m, timestamp: v.time });
    }
  }
  return out;
}
