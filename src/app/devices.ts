import { InProcessAdapter } from '../adapters/in-process.js';
import { SunSpecAdapter } from '../adapters/sunspec/adapter.js';
import { DermsError } from '../core/errors.js';
import type { DerInput } from '../core/model/der.js';
import type { Clock, DeviceAdapter } from '../core/ports.js';
import { parseModbusUrl } from '../protocols/modbus-url.js';
import type { Simulation } from '../sim/engine.js';
import { InProcessLink } from '../sim/in-process-link.js';
import type { SystemMetrics } from './metrics.js';

/** A device the system manages: its registration and where to reach it. */
export interface DeviceEntry {
  readonly der: DerInput;
  readonly protocol: 'sunspec' | 'dnp3' | 'openfmb' | 'in-process';
  readonly url: string;
}

export interface AdapterContext {
  readonly clock: Clock;
  readonly sim: Simulation | null;
  readonly pollPeriodMs: number;
  readonly metrics?: SystemMetrics;
}

/** The registry endpoint a device URL stands for. */
export function endpointOf(protocol: DeviceEntry['protocol'], url: string, mRID: string): DerInput['endpoint'] {
  switch (protocol) {
    case 'sunspec': {
      const t = parseModbusUrl(url);
      return t.kind === 'tcp' ? { protocol: 'sunspec-tcp', host: t.host, port: t.port, unitId: t.unit } : { protocol: 'sunspec-rtu', path: t.path, baudRate: t.baudRate, unitId: t.unit };
    }
    case 'in-process':
      return { protocol: 'in-process', device: mRID };
    default:
      throw new DermsError('UNSUPPORTED', `${url}: ${protocol} devices are not supported yet`);
  }
}

/** Open the DERMS-side adapter for a device over its protocol. */
export function openAdapter(d: DeviceEntry, ctx: AdapterContext): DeviceAdapter {
  const id = d.der.mRID;
  switch (d.protocol) {
    case 'sunspec':
      return new SunSpecAdapter(id, parseModbusUrl(d.url), ctx.clock, {
        pollPeriodMs: ctx.pollPeriodMs,
        requestTimeoutMs: 2000,
        onPoll: (ms, ok) => ok && ctx.metrics?.pollLatency('sunspec', ms / 1000),
      });
    case 'in-process': {
      if (!ctx.sim?.has(id)) throw new DermsError('NOT_FOUND', `no simulated device ${id} to reach in process`);
      return new InProcessAdapter(id, new InProcessLink(ctx.sim.device(id)), ctx.clock, { pollPeriodMs: ctx.pollPeriodMs, timeoutMs: 3000 });
    }
    default:
      throw new DermsError('UNSUPPORTED', `${d.url}: no ${d.protocol} adapter yet`);
  }
}
