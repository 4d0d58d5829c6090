import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { CommandStatus, commandStatusName, crobParts, Dnp3Outstation, OpType, TripClose, type ByteChannel, type Command, type CommandMode, type EventMode, type PointKind } from '../../protocols/dnp3/index.js';
import type { CommandOutcome, CrobOp, CrobTripClose } from '../../protocols/dnp3/der-profile/commands.js';
import { DerControlModel } from '../../protocols/dnp3/der-profile/control-model.js';
import { pointsFromDevice } from '../../protocols/dnp3/der-profile/device-points.js';
import { defaultDerPointMap, type DerPointMap } from '../../protocols/dnp3/der-profile/point-map.js';
import type { SimInverter } from '../inverter.js';
import { derDatabase } from './database.js';
import { faultChannel } from './fault-channel.js';

export interface DerOutstationOptions {
  /** The outstation's link address. */
  readonly address: number;
  /** The master it answers. Default 1. */
  readonly masterAddress?: number;
  readonly map?: DerPointMap;
  /** Timers (select, confirm, unsolicited retries) and the fault delay run on it. */
  readonly scheduler?: SchedulerLike;
  /** Told about every refused command, with the device's reason. */
  readonly log?: (line: string) => void;
}

const CROB_OPS: Partial<Record<number, CrobOp>> = { [OpType.PULSE_ON]: 'PULSE_ON', [OpType.PULSE_OFF]: 'PULSE_OFF', [OpType.LATCH_ON]: 'LATCH_ON', [OpType.LATCH_OFF]: 'LATCH_OFF' };
const TRIP_CLOSE: Partial<Record<number, CrobTripClose | undefined>> = { [TripClose.NUL]: undefined, [TripClose.CLOSE]: 'CLOSE', [TripClose.TRIP]: 'TRIP' };

/**
 * One simulated DER as a DNP3 outstation under the DER profile: its published points follow the
 * device on each `refresh()` (events by class and deadband), its controls go through the profile's
 * control model to the device, and its faults shape the wire: no answers during a communication
 * loss, late answers with a response delay, every command refused as LOCAL (with IIN1.5 set)
 * while the device rejects commands.
 */
export class DerOutstation {
  readonly outstation: Dnp3Outstation;
  readonly map: DerPointMap;
  private readonly model: DerControlModel;
  private readonly scheduler: SchedulerLike;
  /** The last refusal, with the device's reason (the wire carries only the status code). */
  lastRefusal: string | null = null;

  constructor(
    readonly device: SimInverter,
    private readonly o: DerOutstationOptions,
  ) {
    this.map = o.map ?? defaultDerPointMap;
    this.scheduler = o.scheduler ?? asyncScheduler;
    const nameplate = device.spec.nameplate;
    this.model = new DerControlModel(this.map, nameplate, { settings: () => device.settings(), apply: (p) => device.update(p) });
    this.outstation = new Dnp3Outstation({
      localAddress: o.address,
      masterAddress: o.masterAddress ?? 1,
      scheduler: this.scheduler,
      database: derDatabase(this.map, nameplate),
      onCommand: (cmd, mode) => this.command(cmd, mode),
    });
    // The values a restart starts from are no events.
    this.publish('suppress');
  }

  /** The connection as this device sees it (its faults in between), for Dnp3TcpServer.add. */
  readonly decorate = (channel: ByteChannel): ByteChannel => faultChannel(channel, this.device.faults, this.scheduler);

  /** Publish the device's current values (call once per simulation step). */
  refresh(): void {
    this.publish('detect');
  }

  close(): void {
    this.outstation.close();
  }

  private publish(event: EventMode): void {
    const d = this.device;
    const pts = pointsFromDevice(this.map, d.measurements(), d.settings(), d.spec.nameplate, this.model.view());
    const o = this.outstation;
    const opts = { event };
    const put = (kind: PointKind, values: ReadonlyMap<number, number | boolean>): void => {
      for (const [i, v] of values) o.update(kind, i, v, opts);
    };
    put('analogInput', pts.ai);
    put('binaryInput', pts.bi);
    put('analogOutputStatus', pts.aoStatus);
    put('binaryOutputStatus', pts.boStatus);
    put('counter', pts.counters);
    o.setIndications({ localControl: d.faults.rejectCommands });
  }

  private command(cmd: Command, mode: CommandMode): number {
    const name = cmd.type === 'crob' ? `BO${cmd.index}` : `AO${cmd.index}`;
    const out = this.device.faults.rejectCommands ? { status: CommandStatus.LOCAL, reason: 'the device is in local control (rejects commands)' } : this.decide(cmd, mode);
    if (out.status !== CommandStatus.SUCCESS) {
      this.lastRefusal = `${mode} ${name}: ${commandStatusName(out.status)}${out.reason ? ` (${out.reason})` : ''}`;
      this.o.log?.(`dnp3 outstation ${this.o.address} (${this.device.id}): ${this.lastRefusal}`);
    } else if (mode !== 'select') {
      // Output statuses and read-back inputs follow the command at once, not at the next step.
      this.refresh();
    }
    return out.status;
  }

  private decide(cmd: Command, mode: CommandMode): CommandOutcome {
    if (cmd.type === 'analogOutput') return this.model.analog(cmd.index, cmd.value, mode);
    const parts = crobParts(cmd.crob.code);
    const op = CROB_OPS[parts.opType];
    if (op === undefined || !(parts.tripClose in TRIP_CLOSE) || parts.queue || parts.clear) {
      return { status: CommandStatus.NOT_SUPPORTED, reason: `control code 0x${cmd.crob.code.toString(16).padStart(2, '0')}` };
    }
    return this.model.binary(cmd.index, op, mode, TRIP_CLOSE[parts.tripClose]);
  }
}
