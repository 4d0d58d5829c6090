import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../../../src/app/dashboard/live.js';
import type { FleetCounts } from '../../../src/app/dashboard/views.js';
import type { DispatchEvent } from '../../../src/core/dispatch-events.js';
import type { GroupStatus } from '../../../src/core/group-status.js';
import { demoSystem, type DemoSystem } from './system.js';

let s: DemoSystem;
let base: string;

beforeAll(async () => {
  s = await demoSystem({ options: { streamIntervalMs: 30, heartbeatMs: 40 } });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => s.stop());

interface Events {
  fleet: FleetCounts & { now: number };
  status: { now: number; groups: Record<string, { points: HistoryPoint[]; status: GroupStatus }> };
  dispatch: { now: number; events: DispatchEvent[]; dropped: number };
  registry: { now: number };
}
type Frame = { [E in keyof Events]: { event: E; data: Events[E] } }[keyof Events];

/** An SSE client: frames as they arrive, comments (heartbeats) counted. */
function subscribe(url: string): Promise<{
  res: IncomingMessage;
  frames: Frame[];
  comments: () => number;
  ended: Promise<void>;
  next: <E extends keyof Events>(event: E, pred?: (d: Events[E]) => boolean) => Promise<Events[E]>;
}> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const frames: Frame[] = [];
      const waiters = new Set<(f: Frame) => boolean>();
      let comments = 0;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith(':')) {
            comments++;
            continue;
          }
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event || data === undefined) continue;
          const f = { event, data: JSON.parse(data) } as Frame;
          frames.push(f);
          for (const w of [...waiters]) if (w(f)) waiters.delete(w);
        }
      });
      const ended = new Promise<void>((r) => res.on('end', () => r()));
      const next = <E extends keyof Events>(event: E, pred: (d: Events[E]) => boolean = () => true): Promise<Events[E]> =>
        new Promise((done) => {
          const match = (f: Frame): boolean => {
            if (f.event !== event || !pred(f.data as Events[E])) return false;
            done(f.data as Events[E]);
            return true;
          };
          if (!frames.some(match)) waiters.add(match);
        });
      resolve({ res, frames, comments: () => comments, ended, next });
    }).on('error', reject);
  });
}

describe('live stream', () => {
  it('pushes fleet counts, group points, dispatch events and registry changes; ends when the app closes', async () => {
    const c = await subscribe(`${base}/ui/api/stream`);
    expect(c.res.statusCode).toBe(200);
    expect(c.res.headers['content-type']).toMatch(/^text\/event-stream/);
    const first = await c.next('fleet');
    expect(first.total).toBe(s.spec.devices.length);

    await s.clock.advanceBy(3_000);
    const status = await c.next('status', (d) => d.groups.storage !== undefined);
    const points = status.groups.storage!.points;
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points.at(-1)!.at).toBeLessThanOrEqual(s.clock.now());
    expect(status.groups.storage!.status.groupId).toBe('storage');

    s.core.tracker.submit({ mRID: 'charge', groupId: 'storage', control: { kind: 'activePower', value: -20_000 } });
    await s.clock.advanceBy(2_000);
    const d = await c.next('dispatch', (x) => x.events.some((e) => e.type === 'planned'));
    expect(d.events.find((e) => e.type === 'planned')).toMatchObject({ dispatchId: 'charge', target: -20_000 });
    const withTarget = await c.next('status', (x) => x.groups.storage?.points.some((p) => p.targetW === -20_000) ?? false);
    expect(withTarget.groups.storage!.status.activePowerW).toBeLessThan(0);

    s.core.registry.createGroup({ mRID: 'late', members: ['pv-roof-1'] });
    await c.next('registry');

    // Every point the clock made reaches the client once, in order, however fast the clock ran.
    await s.clock.advanceBy(50_000);
    await new Promise((r) => setTimeout(r, 100));
    const ats = c.frames.flatMap((f) => (f.event === 'status' ? (f.data.groups.storage?.points ?? []).map((p) => p.at) : []));
    expect(ats.length).toBeGreaterThanOrEqual(50);
    for (let i = 1; i < ats.length; i++) expect(ats[i]).toBe(ats[i - 1]! + 1000);

    await new Promise((r) => setTimeout(r, 100));
    expect(c.comments()).toBeGreaterThan(0);
    const closed = s.app.close();
    await c.ended;
    await closed;
  });
});
