import type { CommandOutcome, DnpCommandStep } from '../../../../src/protocols/dnp3/der-profile/commands.js';
import { DerControlModel } from '../../../../src/protocols/dnp3/der-profile/control-model.js';
import { pointsFromDevice } from '../../../../src/protocols/dnp3/der-profile/device-points.js';
import { defaultDerPointMap, type DerPointMap } from '../../../../src/protocols/dnp3/der-profile/point-map.js';
import type { PointSnapshot } from '../../../../src/protocols/dnp3/der-profile/snapshot.js';
import type { DeviceSpec } from '../../../../src/sim/fleet-spec.js';
import { SimInverter } from '../../../../src/sim/inverter.js';
import { noonSky } from '../../../sim/sim-fixtures.js';

/** A simulated inverter behind an outstation control model, as the DNP3 device server will hold it. */
export class Outstation {
  readonly dev: SimInverter;
  readonly model: DerControlModel;
  private t = 0;

  constructor(
    spec: DeviceSpec,
    readonly map: DerPointMap = defaultDerPointMap,
  ) {
    this.dev = new SimInverter(spec, 7);
    this.model = new DerControlModel(map, spec.nameplate, { settings: () => this.dev.settings(), apply: (p) => this.dev.update(p) });
  }

  get nameplate(): DeviceSpec['nameplate'] {
    return this.dev.spec.nameplate;
  }

  /** Advance `seconds` one-second steps under a clear noon sky at nominal voltage. */
  run(seconds: number, sky = noonSky): void {
    for (let i = 0; i < seconds; i++) {
      this.t += 1000;
      this.dev.step(this.t, 1, sky, this.nameplate.nominalV, 60);
    }
  }

  points(): PointSnapshot {
    return pointsFromDevice(this.map, this.dev.measurements(), this.dev.settings(), this.nameplate, this.model.view());
  }

  /** Send steps as a master would: select then operate where the step says so. Stops at the first failure. */
  send(steps: readonly DnpCommandStep[]): { step: DnpCommandStep; result: CommandOutcome }[] {
    const results: { step: DnpCommandStep; result: CommandOutcome }[] = [];
    for (const step of steps) {
      const modes = step.mode === 'select-operate' ? (['select', 'operate'] as const) : (['direct'] as const);
      for (const mode of modes) {
        const result = step.type === 'analog' ? this.model.analog(step.index, step.value, mode) : this.model.binary(step.index, step.op, mode, step.tripClose);
        results.push({ step, result });
        if (result.status !== 0) return results;
      }
    }
    return results;
  }
}
