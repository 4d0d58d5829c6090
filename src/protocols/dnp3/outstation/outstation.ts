import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { encodeResponse, parseApdu, single, type AppControl, type RequestApdu } from '../app/apdu.js';
import { bytesEqual } from '../app/bytes.js';
import { CommandStatus, FunctionCode, IIN1, IIN2, type Iin } from '../app/codes.js';
import { encodeObjects, parseObjects, qualifierShape, Qualifier, type ObjectBlock } from '../app/headers.js';
import { codecFor, type AnalogOutputValue, type CrobValue } from '../app/objects.js';
import type { ByteChannel } from '../channel/byte-channel.js';
import { Dnp3Error } from '../errors.js';
import { kindOfGroup, KIND_INFO, type PointKind } from '../points.js';
import { Session, type SessionStats } from '../session.js';
import { Timer } from '../timer.js';
import { PointDatabase, type DatabaseConfig, type PointState, type UpdateOptions } from './database.js';
import { EventBuffer, type EventBufferStats, type EventClass, type StoredEvent } from './event-buffer.js';
import { FragmentCutter, type Section } from './fragments.js';
import { concat } from '../transport/transport.js';

/** A command the master sent, as the device model sees it. */
export type Command =
  | { readonly type: 'crob'; readonly index: number; readonly crob: CrobValue }
  | { readonly type: 'analogOutput'; readonly index: number; readonly variation: 1 | 2 | 3 | 4; readonly value: number };

/** SELECT asks whether the command would be accepted; OPERATE (after a select) and DIRECT do it. */
export type CommandMode = 'select' | 'operate' | 'direct';

/** The device model's decision on a command: a CommandStatus code (SUCCESS = 0 executes/accepts). */
export type CommandHandler = (cmd: Command, mode: CommandMode) => number;

export interface UnsolicitedOptions {
  /** Whether this outstation reports unsolicited at all (null unsolicited at start, then when enabled). Default true. */
  readonly allowed?: boolean;
  /** Identical resends after a confirm timeout. Default 3. */
  readonly maxRetries?: number;
  /** After the retries, wait this long before a new attempt (with a new sequence number). Default 5000. */
  readonly retryDelayMs?: number;
}

export interface OutstationOptions {
  /** Our link address. Default 10. */
  readonly localAddress?: number;
  /** The master's link address; frames from other sources are ignored. Default 1. */
  readonly masterAddress?: number;
  readonly scheduler?: SchedulerLike;
  readonly database: DatabaseConfig;
  /** Decides commands; without one every command gets NOT_SUPPORTED. */
  readonly onCommand?: CommandHandler;
  /** Largest response fragment we send, APDU header included. Default 2048 (at least 64). */
  readonly maxTxFragmentSize?: number;
  /** Largest request we reassemble. Default 2048. */
  readonly maxRxFragmentSize?: number;
  /** Events kept per class (all classes, or per class). Default 100. */
  readonly eventBufferSize?: number | Partial<Record<EventClass, number>>;
  /** An OPERATE must follow its SELECT within this. Default 5000. */
  readonly selectTimeoutMs?: number;
  /** How long we wait for the master's CONFIRM of a response. Default 5000. */
  readonly confirmTimeoutMs?: number;
  readonly unsolicited?: UnsolicitedOptions;
  /** Set NEED_TIME at start (and after restart) until the master writes the time. Default false. */
  readonly needTimeAtStartup?: boolean;
  /** Ask for time again this long after each time set; 0 = never. Default 0. */
  readonly timeSyncPeriodMs?: number;
  /** More controls in one request get TOO_MANY_OBJS. Default 32. */
  readonly maxControlsPerRequest?: number;
}

export interface OutstationStats {
  requests: number;
  responses: number;
  /** APDUs that do not parse (counted, dropped). */
  malformedApdus: number;
  /** Response APDUs sent to us (an outstation takes only requests). */
  unexpectedApdus: number;
  /** Requests spread over several fragments (not supported; dropped). */
  multiFragmentRequests: number;
  /** Repeats of the last request (same SEQ and octets): answered again without executing again. */
  duplicateRequests: number;
  unsupportedFunctions: number;
  unknownObjects: number;
  parameterErrors: number;
  confirms: number;
  /** CONFIRMs that matched nothing we wait for. */
  unexpectedConfirms: number;
  confirmTimeouts: number;
  unsolicitedSent: number;
  unsolicitedRetries: number;
  /** Unsolicited responses given up after the retries. */
  unsolicitedFailures: number;
  commands: number;
  /** The command handler threw (answered HARDWARE_ERROR). */
  commandHandlerErrors: number;
  timeSets: number;
}

interface SolicitedTx {
  readonly cutter: FragmentCutter;
  readonly iin2: number;
  seq: number;
  ids: ReadonlySet<number>;
  final: boolean;
}

interface UnsolicitedTx {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly ids: ReadonlySet<number>;
  readonly isNull: boolean;
  retriesLeft: number;
}

interface Reply {
  readonly iin2: number;
  readonly objects?: Uint8Array;
  /** Multi-fragment capable report (READ). */
  readonly sections?: readonly Section[];
}

const CLASSES: readonly EventClass[] = [1, 2, 3];
const CLASS_IIN: Record<EventClass, number> = { 1: IIN1.CLASS1_EVENTS, 2: IIN1.CLASS2_EVENTS, 3: IIN1.CLASS3_EVENTS };
const KIND_ORDER: readonly PointKind[] = ['binaryInput', 'binaryOutputStatus', 'counter', 'analogInput', 'analogOutputStatus'];

/**
 * A DNP3 outstation: a point database with per-class event buffers, answering a master's reads,
 * writes (IIN restart, time) and controls (select-before-operate, direct operate) over whatever
 * channel is attached, and reporting events unsolicited when the master enables it. Events leave
 * the buffers only when the master confirms the response that carried them. Wire input never
 * throws; errors are counted in `stats()`.
 */
export class Dnp3Outstation {
  readonly localAddress: number;
  readonly masterAddress: number;
  private readonly scheduler: SchedulerLike;
  private readonly session: Session;
  private readonly events: EventBuffer;
  private readonly db: PointDatabase;
  private readonly maxTx: number;
  private readonly selectTimeoutMs: number;
  private readonly confirmTimeoutMs: number;
  private readonly uo: Required<UnsolicitedOptions>;
  private readonly maxControls: number;
  private readonly counters: OutstationStats = {
    requests: 0,
    responses: 0,
    malformedApdus: 0,
    unexpectedApdus: 0,
    multiFragmentRequests: 0,
    duplicateRequests: 0,
    unsupportedFunctions: 0,
    unknownObjects: 0,
    parameterErrors: 0,
    confirms: 0,
    unexpectedConfirms: 0,
    confirmTimeouts: 0,
    unsolicitedSent: 0,
    unsolicitedRetries: 0,
    unsolicitedFailures: 0,
    commands: 0,
    commandHandlerErrors: 0,
    timeSets: 0,
  };

  private restartIin = true;
  private needTime: boolean;
  private localControl = false;
  private deviceTrouble = false;
  private timeOffset = 0;
  private recordedAt: number | null = null;
  private readonly needTimeTimer: Timer;

  private sol: SolicitedTx | null = null;
  private readonly solTimer: Timer;
  private uns: UnsolicitedTx | null = null;
  private readonly unsTimer: Timer;
  private readonly unsTrigger: Timer;
  private unsSeq = 0;
  private nullConfirmed = false;
  private readonly unsEnabled = new Set<EventClass>();

  private selection: { seq: number; objects: Uint8Array; at: number } | null = null;
  private last: { seq: number; fn: number; bytes: Uint8Array; response: Uint8Array } | null = null;
  private readonly onlineSub: Subscription;
  private closed = false;

  constructor(private readonly o: OutstationOptions) {
    this.localAddress = o.localAddress ?? 10;
    this.masterAddress = o.masterAddress ?? 1;
    this.scheduler = o.scheduler ?? asyncScheduler;
    this.maxTx = o.maxTxFragmentSize ?? 2048;
    if (this.maxTx < 64) throw new Dnp3Error('CONFIG', `maxTxFragmentSize ${this.maxTx} (at least 64)`);
    this.selectTimeoutMs = o.selectTimeoutMs ?? 5000;
    this.confirmTimeoutMs = o.confirmTimeoutMs ?? 5000;
    this.uo = { allowed: o.unsolicited?.allowed ?? true, maxRetries: o.unsolicited?.maxRetries ?? 3, retryDelayMs: o.unsolicited?.retryDelayMs ?? 5000 };
    this.maxControls = o.maxControlsPerRequest ?? 32;
    this.needTime = o.needTimeAtStartup ?? false;
    const size = o.eventBufferSize ?? 100;
    const per = (c: EventClass): number => (typeof size === 'number' ? size : (size[c] ?? 100));
    this.events = new EventBuffer({ 1: per(1), 2: per(2), 3: per(3) });
    this.db = new PointDatabase(o.database, this.events, (c) => this.onEvent(c), this.deviceTime());
    this.solTimer = new Timer(this.scheduler);
    this.unsTimer = new Timer(this.scheduler);
    this.unsTrigger = new Timer(this.scheduler);
    this.needTimeTimer = new Timer(this.scheduler);
    this.session = new Session(
      { localAddress: this.localAddress, remoteAddress: this.masterAddress, isMaster: false, maxRxApduSize: o.maxRxFragmentSize ?? 2048 },
      (apdu) => this.onApdu(apdu),
    );
    this.onlineSub = this.session.online$.subscribe((up) => (up ? this.triggerUnsolicited(0) : this.onOffline()));
  }

  /** Serve the master on this channel (replacing any previous one, which is left open). */
  attach(channel: ByteChannel): void {
    if (this.closed) return;
    this.session.attach(channel);
  }

  detach(): void {
    this.session.detach();
  }

  /** The channel we serve on now, if any. */
  get channel(): ByteChannel | null {
    return this.session.attached;
  }

  get online(): boolean {
    return this.session.online;
  }

  /** Number of points of a kind. */
  count(kind: PointKind): number {
    return this.db.count(kind);
  }

  /** Set a point's value (events follow the point's class and deadband). False if the index does not exist. */
  update(kind: PointKind, index: number, value: boolean | number, opts?: UpdateOptions): boolean {
    return this.db.update(kind, index, value, this.deviceTime(), opts);
  }

  point(kind: PointKind, index: number): PointState | undefined {
    return this.db.get(kind, index);
  }

  /** The outstation's clock: the scheduler's time moved by the master's last time set. */
  deviceTime(): number {
    return this.scheduler.now() + this.timeOffset;
  }

  /** Internal indications we would report now (without per-request error bits). */
  iin(): Iin {
    return this.computeIin(0);
  }

  /** Application-set indications: LOCAL_CONTROL and DEVICE_TROUBLE. */
  setIndications(i: { localControl?: boolean; deviceTrouble?: boolean }): void {
    if (i.localControl !== undefined) this.localControl = i.localControl;
    if (i.deviceTrouble !== undefined) this.deviceTrouble = i.deviceTrouble;
  }

  /** Events buffered per class, confirmed or not. */
  bufferedEvents(): Record<EventClass, number> {
    return { 1: this.events.size(1), 2: this.events.size(2), 3: this.events.size(3) };
  }

  /**
   * Behave as after a device restart: events lost, DEVICE_RESTART set, unsolicited disabled until
   * the master enables it again (after a new null unsolicited), selections dropped.
   */
  restart(): void {
    this.abortSolicited();
    this.abortUnsolicited();
    this.events.clear();
    this.restartIin = true;
    this.needTime = this.o.needTimeAtStartup ?? false;
    this.needTimeTimer.cancel();
    this.unsEnabled.clear();
    this.nullConfirmed = false;
    this.selection = null;
    this.last = null;
    this.triggerUnsolicited(0);
  }

  stats(): OutstationStats & { session: SessionStats; events: EventBufferStats } {
    return { ...this.counters, session: this.session.stats(), events: { ...this.events.stats } };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abortSolicited();
    this.abortUnsolicited();
    for (const t of [this.unsTrigger, this.needTimeTimer]) t.cancel();
    this.onlineSub.unsubscribe();
    this.session.detach();
  }

  // ---- requests -------------------------------------------------------------------------------

  private onApdu(bytes: Uint8Array): void {
    const p = parseApdu(bytes);
    if (!p.ok) {
      this.counters.malformedApdus++;
      return;
    }
    const req = p.value;
    if (req.kind === 'response') {
      this.counters.unexpectedApdus++;
      return;
    }
    if (req.function === FunctionCode.CONFIRM) return this.onConfirm(req.control);
    this.counters.requests++;
    if (!req.control.fir || !req.control.fin) {
      this.counters.multiFragmentRequests++;
      return;
    }
    const last = this.last;
    if (last && last.seq === req.control.seq && last.fn === req.function && bytesEqual(last.bytes, bytes)) {
      this.counters.duplicateRequests++;
      this.sendRaw(last.response);
      return;
    }
    this.last = null;
    this.abortSolicited();
    const selection = this.selection;
    this.selection = null;
    const reply = this.handle(req, selection);
    if (!reply) return;
    if (reply.sections) return this.startSolicited(req.control.seq, reply.sections, reply.iin2);
    const response = encodeResponse(single(req.control.seq), FunctionCode.RESPONSE, this.computeIin(reply.iin2), reply.objects);
    if (req.function !== FunctionCode.READ) this.last = { seq: req.control.seq, fn: req.function, bytes: bytes.slice(), response };
    this.sendRaw(response);
    this.triggerUnsolicited(0);
  }

  private handle(req: RequestApdu, selection: Dnp3Outstation['selection']): Reply | null {
    switch (req.function) {
      case FunctionCode.READ:
        return this.read(req.objects);
      case FunctionCode.WRITE:
        return this.write(req.objects);
      case FunctionCode.SELECT:
      case FunctionCode.OPERATE:
      case FunctionCode.DIRECT_OPERATE:
        return this.control(req, selection);
      case FunctionCode.DIRECT_OPERATE_NR:
        this.control(req, null);
        return null;
      case FunctionCode.ENABLE_UNSOLICITED:
      case FunctionCode.DISABLE_UNSOLICITED:
        return this.unsolicitedControl(req);
      case FunctionCode.DELAY_MEASURE:
        // We answer at once, so the processing delay we report is 0 ms.
        return { iin2: 0, objects: encodeObjects([{ group: 52, variation: 2, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'delay', ms: 0 } }] }]) };
      case FunctionCode.RECORD_CURRENT_TIME:
        this.recordedAt = this.scheduler.now();
        return { iin2: 0 };
      default:
        this.counters.unsupportedFunctions++;
        return { iin2: IIN2.FUNC_NOT_SUPPORTED };
    }
  }

  private parseError(e: Dnp3Error): number {
    if (e.reason === 'UNKNOWN_OBJECT') {
      this.counters.unknownObjects++;
      return IIN2.OBJECT_UNKNOWN;
    }
    this.counters.parameterErrors++;
    return IIN2.PARAM_ERROR;
  }

  private read(objects: Uint8Array): Reply {
    const { blocks, error } = parseObjects(objects, false);
    let iin2 = error ? this.parseError(error) : 0;
    const picked: StoredEvent[] = [];
    const statics: Section[] = [];
    for (const b of blocks) {
      const r = this.readBlock(b, picked, statics);
      if (r === 'unknown') this.counters.unknownObjects++;
      if (r === 'param') this.counters.parameterErrors++;
      iin2 |= r === 'unknown' ? IIN2.OBJECT_UNKNOWN : r === 'param' ? IIN2.PARAM_ERROR : 0;
    }
    picked.sort((a, b) => a.id - b.id);
    return { iin2, sections: [...eventSections(picked), ...statics] };
  }

  private readBlock(b: ObjectBlock, picked: StoredEvent[], statics: Section[]): 'ok' | 'unknown' | 'param' {
    const limit = b.range.kind === 'count' && !b.indices ? b.range.count : Infinity;
    if (b.group === 60) {
      if (b.variation === 1) {
        if (b.range.kind !== 'all') return 'param';
        for (const k of KIND_ORDER) statics.push(...this.staticSections(k, 0, this.db.count(k) - 1, 0));
        return 'ok';
      }
      if (b.variation >= 2 && b.variation <= 4) {
        if (b.indices || b.range.kind === 'range') return 'param';
        picked.push(...this.events.select([(b.variation - 1) as EventClass], 'solicited', () => true, limit));
        return 'ok';
      }
      return 'unknown';
    }
    const g = kindOfGroup(b.group);
    if (!g) return 'unknown';
    const info = KIND_INFO[g.kind];
    if (g.isEvent) {
      if (b.variation !== 0 && !info.eventVariations.includes(b.variation)) return 'unknown';
      if (b.indices || b.range.kind === 'range') return 'param';
      const sel = this.events.select(CLASSES, 'solicited', (e) => e.kind === g.kind, limit);
      picked.push(...(b.variation === 0 ? sel : sel.map((e) => ({ ...e, variation: b.variation }))));
      return 'ok';
    }
    if (b.variation !== 0 && !info.staticVariations.includes(b.variation)) return 'unknown';
    const n = this.db.count(g.kind);
    if (b.indices) {
      if (b.indices.some((i) => i >= n)) return 'param';
      for (const i of b.indices) statics.push(...this.staticSections(g.kind, i, i, b.variation));
      return 'ok';
    }
    const [from, to] = b.range.kind === 'all' ? [0, n - 1] : b.range.kind === 'count' ? [0, b.range.count - 1] : [b.range.start, b.range.stop];
    if (to >= n) return 'param';
    statics.push(...this.staticSections(g.kind, from, to, b.variation));
    return 'ok';
  }

  /** Static data of points from..to, one section per run of the same variation (`variation` 0 = each point's own). */
  private staticSections(kind: PointKind, from: number, to: number, variation: number): Section[] {
    const info = KIND_INFO[kind];
    const pts = this.db.all(kind);
    const out: Section[] = [];
    let run: { variation: number; items: Section['items'][number][] } | null = null;
    for (let i = from; i <= to; i++) {
      const p = pts[i]!;
      const v = variation || p.staticVariation;
      if (!run || run.variation !== v) {
        run = { variation: v, items: [] };
        out.push({ kind: 'static', group: info.staticGroup, variation: v, items: run.items });
      }
      run.items.push({ index: i, value: valueOf(info.valueType, p.value, p.flags) });
    }
    return out;
  }

  private write(objects: Uint8Array): Reply {
    const { blocks, error } = parseObjects(objects, true);
    let iin2 = error ? this.parseError(error) : 0;
    for (const b of blocks) {
      if (b.group === 80 && b.variation === 1 && b.range.kind === 'range') {
        for (const it of b.items) {
          if (it.index === 7 && it.value.type === 'bit' && !it.value.value) this.restartIin = false;
          else iin2 |= IIN2.PARAM_ERROR;
        }
      } else if (b.group === 50 && (b.variation === 1 || b.variation === 3) && b.items.length === 1) {
        const t = b.items[0]!.value;
        if (t.type !== 'time') iin2 |= IIN2.PARAM_ERROR;
        else if (b.variation === 1) this.setTime(t.time);
        else if (this.recordedAt === null) iin2 |= IIN2.PARAM_ERROR;
        // LAN procedure: the master's time at our recording instant, plus what has passed since.
        else this.setTime(t.time + (this.scheduler.now() - this.recordedAt));
      } else {
        this.counters.unknownObjects++;
        iin2 |= IIN2.OBJECT_UNKNOWN;
      }
    }
    if (iin2 & IIN2.PARAM_ERROR) this.counters.parameterErrors++;
    return { iin2 };
  }

  private setTime(ms: number): void {
    this.timeOffset = ms - this.scheduler.now();
    this.needTime = false;
    this.counters.timeSets++;
    const period = this.o.timeSyncPeriodMs ?? 0;
    if (period > 0) this.needTimeTimer.start(period, () => (this.needTime = true));
  }

  private unsolicitedControl(req: RequestApdu): Reply {
    if (!this.uo.allowed) {
      this.counters.unsupportedFunctions++;
      return { iin2: IIN2.FUNC_NOT_SUPPORTED };
    }
    const { blocks, error } = parseObjects(req.objects, false);
    let iin2 = error ? this.parseError(error) : 0;
    for (const b of blocks) {
      if (b.group !== 60 || b.variation < 2 || b.variation > 4) {
        this.counters.unknownObjects++;
        iin2 |= IIN2.OBJECT_UNKNOWN;
        continue;
      }
      const c = (b.variation - 1) as EventClass;
      if (req.function === FunctionCode.ENABLE_UNSOLICITED) this.unsEnabled.add(c);
      else this.unsEnabled.delete(c);
    }
    return { iin2 };
  }

  private control(req: RequestApdu, selection: Dnp3Outstation['selection']): Reply {
    const { blocks, error } = parseObjects(req.objects, true);
    if (error) return { iin2: this.parseError(error) };
    for (const b of blocks) {
      const cmd = (b.group === 12 && b.variation === 1) || (b.group === 41 && b.variation >= 1 && b.variation <= 4);
      if (!cmd) {
        this.counters.unknownObjects++;
        return { iin2: IIN2.OBJECT_UNKNOWN };
      }
      const s = qualifierShape(b.qualifier);
      if (!s?.prefix || s.prefixIsSize) {
        // Controls name their points by index prefix.
        this.counters.parameterErrors++;
        return { iin2: IIN2.PARAM_ERROR };
      }
    }
    const fn = req.function;
    const mode: CommandMode = fn === FunctionCode.SELECT ? 'select' : fn === FunctionCode.OPERATE ? 'operate' : 'direct';
    const selected =
      mode !== 'operate' ||
      (selection !== null &&
        selection.seq === ((req.control.seq - 1) & 0x0f) &&
        this.scheduler.now() - selection.at <= this.selectTimeoutMs &&
        bytesEqual(selection.objects, req.objects));
    let n = 0;
    let allOk = true;
    const echo = blocks.map((b) => {
      const raw = b.raw.slice();
      const s = qualifierShape(b.qualifier)!;
      const size = codecFor(b.group, b.variation)!.size;
      const head = 3 + s.rangeSize;
      b.items.forEach((it, i) => {
        const status = n++ >= this.maxControls ? CommandStatus.TOO_MANY_OBJS : selected ? this.execute(b.group, b.variation, it.index, it.value, mode) : CommandStatus.NO_SELECT;
        if (status !== CommandStatus.SUCCESS) allOk = false;
        const at = head + i * (s.prefix + size) + s.prefix + size - 1;
        raw[at] = (raw[at]! & 0x80) | (status & 0x7f);
      });
      return raw;
    });
    if (mode === 'select' && allOk && n > 0) this.selection = { seq: req.control.seq, objects: req.objects.slice(), at: this.scheduler.now() };
    return { iin2: 0, objects: concat(echo) };
  }

  private execute(group: number, variation: number, index: number, value: ObjectBlock['items'][number]['value'], mode: CommandMode): number {
    this.counters.commands++;
    const handler = this.o.onCommand;
    if (!handler) return CommandStatus.NOT_SUPPORTED;
    const cmd: Command =
      group === 12 ? { type: 'crob', index, crob: value as CrobValue } : { type: 'analogOutput', index, variation: variation as 1 | 2 | 3 | 4, value: (value as AnalogOutputValue).value };
    try {
      const s = handler(cmd, mode);
      return Number.isInteger(s) && s >= 0 && s <= 127 ? s : CommandStatus.UNDEFINED;
    } catch {
      this.counters.commandHandlerErrors++;
      return CommandStatus.HARDWARE_ERROR;
    }
  }

  // ---- solicited responses --------------------------------------------------------------------

  private startSolicited(seq: number, sections: readonly Section[], iin2: number): void {
    const cutter = new FragmentCutter(sections, this.maxTx);
    this.sol = { cutter, iin2, seq, ids: new Set(), final: false };
    this.sendFragment(true);
  }

  private sendFragment(first: boolean): void {
    const tx = this.sol!;
    const frag = tx.cutter.next();
    const final = tx.cutter.done;
    const con = !(first && final) || frag.eventIds.size > 0;
    tx.ids = frag.eventIds;
    tx.final = final;
    // Events cut into later fragments stay selected; the IIN class bits count the rest.
    const control: AppControl = { fir: first, fin: final, con, uns: false, seq: tx.seq };
    this.sendRaw(encodeResponse(control, FunctionCode.RESPONSE, this.computeIin(tx.iin2), frag.objects));
    if (con) this.solTimer.start(this.confirmTimeoutMs, () => this.onSolicitedTimeout());
    else this.endSolicited();
  }

  private onSolicitedTimeout(): void {
    this.counters.confirmTimeouts++;
    this.abortSolicited();
    this.triggerUnsolicited(0);
  }

  private endSolicited(): void {
    this.sol = null;
    this.solTimer.cancel();
    this.triggerUnsolicited(0);
  }

  private abortSolicited(): void {
    if (!this.sol) return;
    this.sol = null;
    this.solTimer.cancel();
    this.events.unselect('solicited');
  }

  private onConfirm(c: AppControl): void {
    if (c.uns) {
      const u = this.uns;
      if (!u || c.seq !== u.seq) {
        this.counters.unexpectedConfirms++;
        return;
      }
      this.counters.confirms++;
      this.unsTimer.cancel();
      this.events.release(u.ids);
      if (u.isNull) this.nullConfirmed = true;
      this.uns = null;
      this.unsSeq = (this.unsSeq + 1) & 0x0f;
      this.triggerUnsolicited(0);
      return;
    }
    const tx = this.sol;
    if (!tx || !this.solTimer.active || c.seq !== tx.seq) {
      this.counters.unexpectedConfirms++;
      return;
    }
    this.counters.confirms++;
    this.solTimer.cancel();
    this.events.release(tx.ids);
    if (tx.final) return this.endSolicited();
    tx.seq = (tx.seq + 1) & 0x0f;
    this.sendFragment(false);
  }

  // ---- unsolicited responses ------------------------------------------------------------------

  private onEvent(c: EventClass): void {
    if (this.unsEnabled.has(c)) this.triggerUnsolicited(0);
  }

  /** Look for something to report unsolicited after `ms` (coalescing updates made together). */
  private triggerUnsolicited(ms: number): void {
    if (!this.uo.allowed || this.closed || this.unsTrigger.active) return;
    this.unsTrigger.start(ms, () => this.sendUnsolicited());
  }

  private sendUnsolicited(): void {
    if (!this.session.online || this.uns || this.sol) return;
    let objects: Uint8Array = new Uint8Array(0);
    let ids: ReadonlySet<number> = new Set();
    const isNull = !this.nullConfirmed;
    if (!isNull) {
      const enabled = CLASSES.filter((c) => this.unsEnabled.has(c));
      if (enabled.length === 0) return;
      const picked = this.events.select(enabled, 'unsolicited');
      if (picked.length === 0) return;
      const cutter = new FragmentCutter(eventSections(picked), this.maxTx);
      const frag = cutter.next();
      objects = frag.objects;
      ids = frag.eventIds;
      // What did not fit waits for the next unsolicited response.
      const rest = new Set(picked.filter((e) => !ids.has(e.id)).map((e) => e.id));
      this.events.unselect('unsolicited', rest);
    }
    const bytes = encodeResponse({ fir: true, fin: true, con: true, uns: true, seq: this.unsSeq }, FunctionCode.UNSOLICITED_RESPONSE, this.computeIin(0), objects);
    this.uns = { seq: this.unsSeq, bytes, ids, isNull, retriesLeft: this.uo.maxRetries };
    this.counters.unsolicitedSent++;
    this.sendRaw(bytes);
    this.unsTimer.start(this.confirmTimeoutMs, () => this.onUnsolicitedTimeout());
  }

  private onUnsolicitedTimeout(): void {
    const u = this.uns;
    if (!u) return;
    this.counters.confirmTimeouts++;
    if (u.retriesLeft > 0 && this.session.online) {
      u.retriesLeft--;
      this.counters.unsolicitedRetries++;
      this.sendRaw(u.bytes);
      this.unsTimer.start(this.confirmTimeoutMs, () => this.onUnsolicitedTimeout());
      return;
    }
    this.counters.unsolicitedFailures++;
    this.abortUnsolicited();
    this.triggerUnsolicited(this.uo.retryDelayMs);
  }

  private abortUnsolicited(): void {
    if (!this.uns) return;
    this.uns = null;
    this.unsTimer.cancel();
    this.unsSeq = (this.unsSeq + 1) & 0x0f;
    this.events.unselect('unsolicited');
  }

  private onOffline(): void {
    this.abortSolicited();
    this.abortUnsolicited();
    this.unsTrigger.cancel();
    this.selection = null;
  }

  // ---- common ---------------------------------------------------------------------------------

  private computeIin(iin2: number): Iin {
    let iin1 = 0;
    if (this.restartIin) iin1 |= IIN1.DEVICE_RESTART;
    if (this.needTime) iin1 |= IIN1.NEED_TIME;
    if (this.localControl) iin1 |= IIN1.LOCAL_CONTROL;
    if (this.deviceTrouble) iin1 |= IIN1.DEVICE_TROUBLE;
    for (const c of CLASSES) if (this.events.pending(c) > 0) iin1 |= CLASS_IIN[c];
    return { iin1, iin2: iin2 | (this.events.overflow ? IIN2.EVENT_BUFFER_OVERFLOW : 0) };
  }

  private sendRaw(apdu: Uint8Array): void {
    if (this.session.send(apdu)) this.counters.responses++;
  }
}

function valueOf(type: 'binary' | 'analog' | 'counter', value: boolean | number, flags: number, time?: number): Section['items'][number]['value'] {
  const base = type === 'binary' ? { type, value: Boolean(value), flags } : { type, value: Number(value), flags };
  return (time === undefined ? base : { ...base, time }) as Section['items'][number]['value'];
}

/** Events in order, one section per run of the same group and variation. */
function eventSections(events: readonly StoredEvent[]): Section[] {
  const out: { kind: 'event'; group: number; variation: number; items: Section['items'][number][]; eventIds: number[] }[] = [];
  for (const e of events) {
    const info = KIND_INFO[e.kind];
    let s = out[out.length - 1];
    if (!s || s.group !== info.eventGroup || s.variation !== e.variation) {
      s = { kind: 'event', group: info.eventGroup, variation: e.variation, items: [], eventIds: [] };
      out.push(s);
    }
    s.items.push({ index: e.index, value: valueOf(info.valueType, e.value, e.flags, e.time) });
    s.eventIds.push(e.id);
  }
  return out;
}
