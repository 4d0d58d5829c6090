import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aggregator } from '../../src/core/aggregator.js';
import { PerformanceRatioTracker } from '../../src/core/forecast.js';
import { TelemetryHub } from '../../src/core/hub.js';
import type { DerInput } from '../../src/core/model/der.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';
import { Registry } from '../../src/core/registry.js';
import { DispatchTracker } from '../../src/core/tracker.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { readReply } from '../../src/cim-api/client.js';
import { createCimServer, type CimServer, type CimServerOptions } from '../../src/cim-api/server.js';
import { coreForecaster, type CimSystem } from '../../src/cim-api/system.js';
import { packageRoot } from '../../src/cli/paths.js';
import { sample } from '../support/fixtures.js';
import { TestDevice } from '../support/test-device.js';

export const FIXTURES = join(packageRoot(), 'fixtures', 'cim');
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** Noon UTC on 1 June 2026: fixture dispatches start here. */
export const T0 = Date.UTC(2026, 5, 1, 12);
/** Munich: the sun is up at 13:00 UTC in June, so forecasts have substance. */
export const SITE = { latitudeDeg: 48.1, longitudeDeg: 11.6, altitudeM: 520 };

/** The core on TestDevices in virtual time, as a CimSystem. */
export function cimHarness(ders: DerInput[]) {
  const clock = new VirtualClock(T0);
  const registry = new Registry();
  const aggregator = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
  const hub = new TelemetryHub(aggregator);
  const tracker = new DispatchTracker(registry, aggregator, hub, clock);
  const devices = new Map<string, TestDevice>();
  for (const d of ders) {
    registry.addDer(d);
    const dev = new TestDevice(d.mRID);
    devices.set(d.mRID, dev);
    hub.attach(dev);
  }
  const ratios = new PerformanceRatioTracker();
  const forecaster = coreForecaster({ registry, aggregator, ratios, siteOf: () => SITE });
  const system: CimSystem = { clock, registry, aggregator, tracker, adapters: hub, forecaster };
  /** Every device reports: `availW` available, output its last active-power setpoint (else all of it). */
  const report = (availW = 8000, over: Partial<TelemetrySample> = {}): void => {
    for (const [id, d] of devices) {
      const last = d.last('activePower');
      const w = last?.kind === 'activePower' ? last.w : availW;
      d.telemetry$.next(sample(id, clock.now(), { availWMax: availW, availWMin: 0, availVarMax: 3000, availVarMin: -3000, w, ...over }));
    }
  };
  return { clock, registry, aggregator, hub, tracker, devices, system, report, dev: (id: string) => devices.get(id)! };
}

export interface Posted {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly reply: ReturnType<typeof readReply>;
}

/** A CIM server on 127.0.0.1:0 over `system`, with a poster. */
export async function serve(system: CimSystem, options: CimServerOptions = {}) {
  const server: CimServer = createCimServer(system, options);
  const base = await server.listen();
  const post = async (body: string, contentType = 'application/xml', path = '/cim'): Promise<Posted> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    return { status: res.status, contentType: ct, body: text, reply: readReply(text, ct) };
  };
  return { server, base, post };
}

/** Wait (wall clock) until `cond` holds; fail after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A value at a path in a plain tree, one-element arrays looked through. */
export function at(v: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = v;
  for (const p of path) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof p === 'string' && Array.isArray(cur)) cur = cur[0];
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** Always an array. */
export function list(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
