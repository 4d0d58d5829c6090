import { connect } from 'node:net';
import { firstValueFrom, race, timer, filter, map } from 'rxjs';
import type { Der } from '../core/model/der.js';
import type { Clock, DeviceAdapter } from '../core/ports.js';

/** Whether a DER answered on its endpoint: true, or the reason it did not. */
export type ProbeResult = true | string;

/**
 * Hand-over check (flow C): a tariff that requires monitoring or control lets a DER into the DERMS
 * only after it has answered on its endpoint. Must not throw: failures are reasons.
 */
export type Probe = (der: Der) => Promise<ProbeResult>;

/** A TCP connection to the endpoint's host and port (SunSpec TCP, DNP3): something listens there. */
export function tcpProbe(o: { timeoutMs?: number } = {}): Probe {
  const timeoutMs = o.timeoutMs ?? 3000;
  return (der) => {
    const e = der.endpoint;
    if (e.protocol !== 'sunspec-tcp' && e.protocol !== 'dnp3') return Promise.resolve(`a ${e.protocol} endpoint cannot be checked by a TCP connection`);
    return new Promise<ProbeResult>((resolve) => {
      const socket = connect({ host: e.host, port: e.port });
      const done = (r: ProbeResult): void => {
        socket.destroy();
        resolve(r);
      };
      socket.setTimeout(timeoutMs, () => done(`no answer from ${e.host}:${e.port} within ${timeoutMs} ms`));
      socket.once('connect', () => done(true));
      socket.once('error', (err) => done(`cannot connect to ${e.host}:${e.port}: ${err.message}`));
    });
  };
}

/**
 * The DER answered through a real adapter for its endpoint: open one (how is the caller's: the
 * protocol adapters), wait for its first telemetry sample, close it. This is the check a tariff
 * requiring monitoring means: the DERMS can read the device, not merely reach a port.
 */
export function adapterProbe(open: (der: Der) => DeviceAdapter | Promise<DeviceAdapter>, clock: Clock, o: { timeoutMs?: number } = {}): Probe {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return async (der) => {
    let adapter: DeviceAdapter;
    try {
      adapter = await open(der);
    } catch (e) {
      return `cannot open an adapter for ${der.mRID}: ${e instanceof Error ? e.message : String(e)}`;
    }
    try {
      const sampled = adapter.telemetry$.pipe(
        filter((s) => s.derId === der.mRID),
        map((): ProbeResult => true),
      );
      const late = timer(timeoutMs, clock).pipe(map((): ProbeResult => `no telemetry from ${der.mRID} within ${timeoutMs} ms`));
      return await firstValueFrom(race(sampled, late), { defaultValue: `${der.mRID}'s adapter closed before any telemetry` });
    } finally {
      await adapter.close().catch(() => undefined);
    }
  };
}

/** Pick a probe by endpoint protocol; a protocol without one is refused with the reason. */
export function probeByProtocol(probes: Partial<Record<Der['endpoint']['protocol'], Probe>>): Probe {
  return (der) => probes[der.endpoint.protocol]?.(der) ?? Promise.resolve(`no way to check a ${der.endpoint.protocol} endpoint is configured`);
}
