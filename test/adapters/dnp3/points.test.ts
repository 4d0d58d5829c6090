import { describe, expect, it } from 'vitest';
import { putMeasurement, snapshotOf } from '../../../src/adapters/dnp3/points.js';
import { emptySnapshot } from '../../../src/protocols/dnp3/der-profile/index.js';
import type { Measurement } from '../../../src/protocols/dnp3/index.js';

const m = (kind: Measurement['kind'], index: number, value: number | boolean, flags: number): Measurement => ({ kind, index, value, flags, isEvent: false });

describe('DNP3 measurements into a point snapshot', () => {
  it('keeps ONLINE points and leaves out points that are not (never set since restart, or off line)', () => {
    const s = snapshotOf([
      m('analogInput', 537, 4200, 0x01),
      m('analogInput', 48, 0, 0x02), // RESTART only: a PV inverter's state of charge it never sets
      m('binaryInput', 23, true, 0x01),
      m('analogOutputStatus', 88, 500, 0x01),
      m('counter', 0, 12, 0x01),
    ]);
    expect([...s.ai]).toEqual([[537, 4200]]);
    expect(s.bi.get(23)).toBe(true);
    expect(s.aoStatus.get(88)).toBe(500);
    expect(s.counters.get(0)).toBe(12);
  });

  it('drops a point that goes off line, and takes it back when it is online again', () => {
    const s = emptySnapshot();
    putMeasurement(s, m('analogInput', 547, 2400, 0x01));
    putMeasurement(s, m('analogInput', 547, 2400, 0x04)); // COMM_LOST
    expect(s.ai.has(547)).toBe(false);
    putMeasurement(s, m('analogInput', 547, 2410, 0x01));
    expect(s.ai.get(547)).toBe(2410);
  });
});
