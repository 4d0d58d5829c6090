import { Subscription } from 'rxjs';
import type { FastifyInstance } from 'fastify';
import type { DispatchEvent } from '../core/dispatch-events.js';
import type { PushPublisher } from './pushes.js';
import type { CimSystem } from './system.js';

export const streamEvents = ['status', 'group', 'dispatch', 'outcome', 'endDeviceEvent'] as const;
export type StreamEvent = (typeof streamEvents)[number];
const defaultEvents: readonly StreamEvent[] = ['status', 'group', 'dispatch', 'endDeviceEvent'];

export interface StreamOptions {
  /** Comment line sent this often so proxies keep the connection, ms (default 15 000). */
  readonly heartbeatMs: number;
  /** A client that lets this much pile up unread is disconnected, bytes (default 1 MiB). */
  readonly maxBufferedBytes: number;
}

/**
 * GET /cim/stream: a Server-Sent Events stream of the core for humans and tools. Events (JSON):
 * `status` (each group status as aggregated, about once a second per group), `group` (registry
 * changes), `dispatch` (accepted, planned, progress, ended), `outcome` (each member write; off
 * unless asked for), `endDeviceEvent`. Query: `groups=a,b` keeps those groups only,
 * `events=status,dispatch` picks event types.
 */
export function registerStream(app: FastifyInstance, system: CimSystem, pushes: PushPublisher, o: StreamOptions): void {
  // A server closing waits for its connections: end the streams first, whatever the host's settings.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  app.get('/cim/stream', (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const groups = q['groups'] ? new Set(q['groups'].split(',').map((s) => s.trim()).filter(Boolean)) : null;
    const asked = q['events'] ? q['events'].split(',').map((s) => s.trim()) : defaultEvents;
    const unknown = asked.filter((e) => !(streamEvents as readonly string[]).includes(e));
    if (unknown.length) {
      void reply.code(400).send({ error: `unknown event type ${unknown.join(', ')}; known: ${streamEvents.join(', ')}` });
      return;
    }
    const events = new Set(asked as StreamEvent[]);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': derms CIM live stream\n\n');
    const subs = new Subscription();
    const close = (): void => {
      subs.unsubscribe();
      clearInterval(beat);
      open.delete(close);
      if (!res.writableEnded) res.end();
    };
    open.add(close);
    const send = (event: StreamEvent, groupId: string | null, data: unknown): void => {
      if (!events.has(event) || (groups && groupId !== null && !groups.has(groupId))) return;
      if (res.writableLength > o.maxBufferedBytes) {
        res.write('event: error\ndata: {"error":"client too slow; disconnected"}\n\n');
        return close();
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const beat = setInterval(() => res.write(': keep-alive\n\n'), o.heartbeatMs);
    beat.unref();
    subs.add(system.aggregator.status$.subscribe((s) => send('status', s.groupId, s)));
    subs.add(
      system.registry.changes$.subscribe((c) => {
        if (c.type === 'groupCreated' || c.type === 'groupChanged' || c.type === 'groupDeleted') send('group', c.group.mRID, c);
      }),
    );
    subs.add(
      system.tracker.events$.subscribe((e: DispatchEvent) => {
        if (e.type === 'outcome') send('outcome', e.groupId, e);
        else send('dispatch', e.groupId, e);
      }),
    );
    subs.add(pushes.endDeviceEvents$.subscribe((e) => send('endDeviceEvent', null, e)));
    req.raw.on('close', close);
  });
}
