import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { createChannelPair, Dnp3Master, type MasterOptions } from '../../../src/protocols/dnp3/index.js';
import type { DeviceSpec } from '../../../src/sim/fleet-spec.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { DerOutstation } from '../../../src/sim/dnp3/der-outstation.js';
import { noonSky } from '../sim-fixtures.js';

export const T0 = Date.UTC(2026, 5, 21, 18);

/** A simulated device out of start-up (30 one-second steps under a clear noon sky). */
export function warmDevice(spec: DeviceSpec, seed = 1): SimInverter {
  const d = new SimInverter(spec, seed);
  for (let i = 1; i <= 30; i++) d.step(T0 + i * 1000, 1, noonSky, spec.nameplate.nominalV, 60);
  return d;
}

export interface Station {
  readonly clock: VirtualClock;
  readonly device: SimInverter;
  readonly station: DerOutstation;
  readonly master: Dnp3Master;
  /** Step the device `seconds` times (one second each) at voltage `v`, refreshing the outstation after each step. */
  step(seconds: number, v?: number): void;
  close(): void;
}

/** A simulated DER outstation and a master over an in-memory channel (1 ms each way) in virtual time. */
export function station(spec: DeviceSpec, master: Omit<MasterOptions, 'scheduler'> = {}): Station {
  const clock = new VirtualClock(T0 + 31_000);
  const device = warmDevice(spec);
  const st = new DerOutstation(device, { address: 10, scheduler: clock });
  const [m, o] = createChannelPair({ scheduler: clock, latencyMs: 1 });
  st.outstation.attach(st.decorate(o));
  const mst = new Dnp3Master(m, { scheduler: clock, remoteAddress: 10, responseTimeoutMs: 1000, maxRetries: 0, ...master });
  let t = T0 + 30_000;
  return {
    clock,
    device,
    station: st,
    master: mst,
    step(seconds, v = spec.nameplate.nominalV) {
      for (let i = 0; i < seconds; i++) {
        device.step((t += 1000), 1, noonSky, v, 60);
        st.refresh();
      }
    },
    close() {
      mst.close();
      st.close();
    },
  };
}
