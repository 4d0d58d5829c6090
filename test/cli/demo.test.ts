import { describe, expect, it } from 'vitest';
import { DEMO_FLEET, runDemo } from '../../src/cli/demo.js';

describe('derms start (core demo)', () => {
  it('runs the scripted dispatches end to end and tracks them', async () => {
    const lines: string[] = [];
    await runDemo({ fleet: DEMO_FLEET, speed: 5000, durationS: 130, json: true, out: (l) => lines.push(l) });
    const events = lines.map((l) => JSON.parse(l) as { type: string; dispatchId?: string; state?: string; reason?: string; groupId?: string; activePowerW?: number; droppedSamples?: number });
    expect(events[0]!.type).toBe('start');
    const ended = Object.fromEntries(events.filter((e) => e.type === 'ended').map((e) => [e.dispatchId, e.state]));
    expect(ended).toEqual({ charge: 'superseded', peak: 'completed', 'limit-a': 'cancelled' });
    expect(events.some((e) => e.type === 'planned' && e.dispatchId === 'peak' && e.reason === 'member-stale')).toBe(true);
    expect(events.filter((e) => e.type === 'status' && e.groupId === 'storage').length).toBeGreaterThanOrEqual(12);
    expect(events.at(-1)).toMatchObject({ type: 'stop', droppedSamples: 0 });
  });
});
