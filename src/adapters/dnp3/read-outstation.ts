import { DermsError } from '../../core/errors.js';
import type { Nameplate } from '../../core/model/der.js';
import { Dnp3Master, formatDnp3Url, TcpClientChannel, type Dnp3Target, type Iin, type Measurement } from '../../protocols/dnp3/index.js';
import { defaultDerPointMap, nameplateFromPoints, type DerPointMap } from '../../protocols/dnp3/der-profile/index.js';
import { snapshotOf } from './points.js';

export interface OutstationReading {
  /** Every point the integrity poll returned, by kind and index. */
  readonly measurements: readonly Measurement[];
  /** IIN of the integrity poll's response. */
  readonly iin: Iin;
  /** From connecting to the last fragment, wall time. */
  readonly seconds: number;
}

/**
 * Connect, run one integrity poll, disconnect: what `derms scan` shows and discovery reads. The
 * master answers what the outstation asks of it on the way (confirms, clearing its restart bit) but
 * leaves unsolicited reporting and its clock alone. Unreachable: UNAVAILABLE; silent: TIMEOUT.
 */
export async function readOutstation(target: Dnp3Target, timeoutMs: number): Promise<OutstationReading> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  const where = formatDnp3Url(target);
  // No reconnect inside the deadline: one attempt tells whether anything listens.
  const channel = new TcpClientChannel({ host: target.host, port: target.port, connectTimeoutMs: timeoutMs, minBackoffMs: 2 * timeoutMs + 1000 });
  const master = new Dnp3Master(channel, {
    localAddress: target.master,
    remoteAddress: target.outstation,
    responseTimeoutMs: timeoutMs,
    maxRetries: 0,
    integrityPeriodMs: 0,
    unsolicited: false,
    timeSync: 'none',
  });
  try {
    while (!channel.online) {
      if (channel.stats.connectFailures > 0) throw new DermsError('UNAVAILABLE', `${where}: cannot connect (nothing accepts TCP connections at ${target.host}:${target.port})`);
      if (performance.now() >= deadline) throw new DermsError('TIMEOUT', `${where}: no TCP connection within ${timeoutMs} ms`);
      await sleep(5);
    }
    const poll = master.integrityPoll();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, deadline - performance.now()))));
    const r = await Promise.race([poll, late]).finally(() => clearTimeout(timer));
    if (r === 'late') throw new DermsError('TIMEOUT', `${where}: outstation ${target.outstation} did not answer an integrity poll within ${timeoutMs} ms`);
    if (!r.ok) {
      if (r.error.reason === 'TIMEOUT') throw new DermsError('TIMEOUT', `${where}: outstation ${target.outstation} did not answer an integrity poll within ${timeoutMs} ms`);
      if (r.error.reason === 'OFFLINE' || r.error.reason === 'CLOSED') throw new DermsError('UNAVAILABLE', `${where}: the connection closed during the integrity poll`);
      throw r.error;
    }
    return { measurements: master.snapshot(), iin: r.iin, seconds: (performance.now() - started) / 1000 };
  } finally {
    master.close();
  }
}

/** The nameplate an outstation declares under a point map (for a devices file without one). */
export async function discoverDnp3(target: Dnp3Target, timeoutMs: number, map: DerPointMap = defaultDerPointMap): Promise<{ nameplate: Nameplate; storage: boolean }> {
  const reading = await readOutstation(target, timeoutMs);
  const r = nameplateFromPoints(map, snapshotOf(reading.measurements));
  if ('problem' in r) throw new DermsError('UNSUPPORTED', `${formatDnp3Url(target)}: no DER nameplate under the DNP3 DER profile: ${r.problem}`);
  return r;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
