import { asyncScheduler, ReplaySubject, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { encodeRequest, parseApdu, single, type ResponseApdu } from '../app/apdu.js';
import { bytesEqual } from '../app/bytes.js';
import { FunctionCode, IIN1, IIN2, NO_IIN, type Iin } from '../app/codes.js';
import { parseObjects, type BlockSpec, type ObjectBlock } from '../app/headers.js';
import type { ByteChannel } from '../channel/byte-channel.js';
import { Dnp3Error } from '../errors.js';
import { LinkSecondary } from '../link/frame.js';
import type { Measurement, PointKind } from '../points.js';
import { Session, type SessionStats } from '../session.js';
import { Timer } from '../timer.js';
import { measurementsOf } from './measurements.js';
import {
  classHeaders,
  clearRestartSpecs,
  commandTask,
  Priority,
  simpleTask,
  timeSyncTask,
  type CollectedResponse,
  type CommandMode,
  type CommandResult,
  type MasterCommand,
  type Step,
  type Task,
  type TaskResult,
} from './tasks.js';

export type ClassNo = 1 | 2 | 3;

export interface MasterOptions {
  /** Our link address. Default 1. */
  readonly localAddress?: number;
  /** The outstation's link address. Default 10. */
  readonly remoteAddress?: number;
  readonly scheduler?: SchedulerLike;
  /** Wait this long for a response (or its next fragment). Default 5000. */
  readonly responseTimeoutMs?: number;
  /** Identical resends of a request after a response timeout, before the task fails. Default 2. */
  readonly maxRetries?: number;
  /** Integrity poll period; 0 = only at startup and when the outstation needs one. Default 3 600 000 (1 h). */
  readonly integrityPeriodMs?: number;
  /** Event poll period per class; 0 or absent = off. */
  readonly classPeriodsMs?: Partial<Record<ClassNo, number>>;
  /** Disable unsolicited at startup and enable it after the integrity poll. Default true. */
  readonly unsolicited?: boolean;
  /** Classes to enable for unsolicited reporting. Default [1, 2, 3]. */
  readonly unsolicitedClasses?: readonly ClassNo[];
  /** How to set the outstation's time when it asks (IIN1.4). Default 'nonLan'. */
  readonly timeSync?: 'nonLan' | 'lan' | 'none';
  /** Bound on a reassembled response fragment. Default 2048. */
  readonly maxRxFragmentSize?: number;
}

/** Measurements of one response fragment. */
export interface MeasurementBatch {
  readonly measurements: readonly Measurement[];
  readonly unsolicited: boolean;
  readonly iin: Iin;
}

export interface MasterStats {
  requests: number;
  retries: number;
  timeouts: number;
  responses: number;
  unsolicited: number;
  /** Unsolicited repeats (our confirm was lost): confirmed again, not processed again. */
  duplicateUnsolicited: number;
  confirmsSent: number;
  /** Responses that match no outstanding request (late, wrong sequence). */
  unexpectedResponses: number;
  malformedApdus: number;
  /** Responses whose objects did not parse (unknown object, truncated). */
  objectErrors: number;
  tasksFailed: number;
  /** LINK_STATUS answers to requestLinkStatus(). */
  linkStatusReplies: number;
}

interface Outstanding {
  readonly task: Task;
  readonly step: Step;
  readonly seq: number;
  readonly bytes: Uint8Array;
  retriesLeft: number;
  sentAt: number;
  blocks: ObjectBlock[];
  /** Sequence number the next fragment must carry; null before the first. */
  nextFragSeq: number | null;
}

const ALL_CLASSES: readonly ClassNo[] = [1, 2, 3];

/**
 * A DNP3 master for one outstation (association) over one channel. On each connection it runs the
 * startup sequence (disable unsolicited, integrity poll, clear restart, time sync when asked,
 * enable unsolicited), then polls on its periods, confirms what needs confirming, reacts to the
 * outstation's IIN (restart or buffer overflow: integrity poll; need time: time sync), and runs
 * commands. One request is outstanding at a time; the rest queue by priority. Values go out on
 * `measurements$` (one by one) and `batches$` (per fragment); `point()`/`snapshot()` keep the latest.
 * Nothing here throws on wire input; public methods resolve with results, never reject.
 */
export class Dnp3Master {
  private readonly scheduler: SchedulerLike;
  private readonly session: Session;
  private readonly mSubject = new Subject<Measurement>();
  private readonly bSubject = new Subject<MeasurementBatch>();
  private readonly iinSubject = new ReplaySubject<Iin>(1);
  readonly measurements$: Observable<Measurement> = this.mSubject.asObservable();
  readonly batches$: Observable<MeasurementBatch> = this.bSubject.asObservable();
  /** IIN of every response, solicited or not (the latest replays on subscription). */
  readonly iin$: Observable<Iin> = this.iinSubject.asObservable();
  /** Whether the channel is connected. */
  readonly online$: Observable<boolean>;
  private readonly points = new Map<PointKind, Map<number, Measurement>>();
  private lastIin: Iin | null = null;
  private readonly counters: MasterStats = {
    requests: 0,
    retries: 0,
    timeouts: 0,
    responses: 0,
    unsolicited: 0,
    duplicateUnsolicited: 0,
    confirmsSent: 0,
    unexpectedResponses: 0,
    malformedApdus: 0,
    objectErrors: 0,
    tasksFailed: 0,
    linkStatusReplies: 0,
  };
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly useUnsolicited: boolean;
  private readonly unsClasses: readonly ClassNo[];
  private readonly timeSyncMode: 'nonLan' | 'lan' | 'none';
  private readonly queue: Task[] = [];
  private current: Outstanding | null = null;
  private seq = 0;
  private readonly responseTimer: Timer;
  private readonly periodic: { key: string; period: number; timer: Timer; make: () => Task }[];
  private lastUnsolicited: Uint8Array | null = null;
  /** The outstation refused to clear its restart bit / set its time: do not loop on it this connection. */
  private restartClearRefused = false;
  private timeSyncRefused = false;
  private readonly subs: Subscription[] = [];
  private closed = false;

  constructor(
    private readonly channel: ByteChannel,
    o: MasterOptions = {},
  ) {
    this.scheduler = o.scheduler ?? asyncScheduler;
    this.timeoutMs = o.responseTimeoutMs ?? 5000;
    this.maxRetries = o.maxRetries ?? 2;
    this.useUnsolicited = o.unsolicited ?? true;
    this.unsClasses = o.unsolicitedClasses ?? ALL_CLASSES;
    this.timeSyncMode = o.timeSync ?? 'nonLan';
    this.responseTimer = new Timer(this.scheduler);
    this.session = new Session(
      { localAddress: o.localAddress ?? 1, remoteAddress: o.remoteAddress ?? 10, isMaster: true, maxRxApduSize: o.maxRxFragmentSize ?? 2048 },
      (apdu) => this.onApdu(apdu),
      (func) => {
        if (func === LinkSecondary.LINK_STATUS) this.counters.linkStatusReplies++;
      },
    );
    this.online$ = this.session.online$;
    const integrity = o.integrityPeriodMs ?? 3_600_000;
    this.periodic = [
      { key: 'integrity', period: integrity, timer: new Timer(this.scheduler), make: () => this.integrityTask('integrity', () => {}) },
      ...ALL_CLASSES.map((c) => ({
        key: `class${c}`,
        period: o.classPeriodsMs?.[c] ?? 0,
        timer: new Timer(this.scheduler),
        make: () => simpleTask(`class${c}`, Priority.CLASS_POLL, FunctionCode.READ, classHeaders([c]), () => {}),
      })),
    ].filter((p) => p.period > 0);
    this.subs.push(this.session.online$.subscribe((up) => (up ? this.onOnline() : this.onOffline(new Dnp3Error('OFFLINE', 'channel offline')))));
    this.session.attach(channel);
  }

  get online(): boolean {
    return this.session.online;
  }

  /** IIN of the latest response; null before the first. */
  get iin(): Iin | null {
    return this.lastIin;
  }

  /** The latest value of a point, from static data or events. */
  point(kind: PointKind, index: number): Measurement | undefined {
    return this.points.get(kind)?.get(index);
  }

  /** The latest value of every point seen (of one kind, or all). */
  snapshot(kind?: PointKind): Measurement[] {
    const kinds = kind ? [kind] : [...this.points.keys()];
    return kinds.flatMap((k) => [...(this.points.get(k)?.values() ?? [])].sort((a, b) => a.index - b.index));
  }

  /** READ g60v2, g60v3, g60v4, g60v1: all events, then all static data. */
  integrityPoll(): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(this.integrityTask(null, resolve, Priority.USER)));
  }

  /** READ of the event classes given. */
  classPoll(classes: readonly ClassNo[]): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(simpleTask(null, Priority.USER, FunctionCode.READ, classHeaders(classes), resolve)));
  }

  /** READ of any object headers (e.g. g30v0 range 0..9); the values come out as measurements. */
  read(headers: readonly BlockSpec[]): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(simpleTask(null, Priority.USER, FunctionCode.READ, headers, resolve)));
  }

  directOperate(commands: MasterCommand | readonly MasterCommand[]): Promise<CommandResult> {
    return this.operate(commands, 'direct');
  }

  selectOperate(commands: MasterCommand | readonly MasterCommand[]): Promise<CommandResult> {
    return this.operate(commands, 'selectOperate');
  }

  /** DIRECT_OPERATE_NR: resolves once sent; statuses are all SUCCESS by assumption (no response exists). */
  directOperateNoAck(commands: MasterCommand | readonly MasterCommand[]): Promise<CommandResult> {
    return this.operate(commands, 'directNoAck');
  }

  operate(commands: MasterCommand | readonly MasterCommand[], mode: CommandMode): Promise<CommandResult> {
    const list = Array.isArray(commands) ? (commands as readonly MasterCommand[]) : [commands as MasterCommand];
    if (list.length === 0) return Promise.resolve({ ok: false, statuses: [], error: new Dnp3Error('MALFORMED', 'no commands') });
    return new Promise((resolve) => this.enqueue(commandTask(list, mode, resolve)));
  }

  timeSync(mode: 'nonLan' | 'lan' = this.timeSyncMode === 'lan' ? 'lan' : 'nonLan'): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue({ ...timeSyncTask(mode, () => this.scheduler.now(), resolve), key: null, priority: Priority.USER }));
  }

  enableUnsolicited(classes: readonly ClassNo[] = this.unsClasses): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(simpleTask(null, Priority.USER, FunctionCode.ENABLE_UNSOLICITED, classHeaders(classes), resolve, { failOnIin2: true })));
  }

  disableUnsolicited(classes: readonly ClassNo[] = ALL_CLASSES): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(simpleTask(null, Priority.USER, FunctionCode.DISABLE_UNSOLICITED, classHeaders(classes), resolve, { failOnIin2: true })));
  }

  /** WRITE g80v1 index 7 = 0. */
  clearRestart(): Promise<TaskResult> {
    return new Promise((resolve) => this.enqueue(simpleTask(null, Priority.USER, FunctionCode.WRITE, clearRestartSpecs(), resolve, { failOnIin2: true })));
  }

  /** Send REQUEST_LINK_STATUS (the DNP3-over-TCP keep-alive); answers count in stats().linkStatusReplies. False when offline. */
  requestLinkStatus(): boolean {
    return this.session.requestLinkStatus();
  }

  stats(): MasterStats & { session: SessionStats; queued: number } {
    return { ...this.counters, session: this.session.stats(), queued: this.queue.length + (this.current ? 1 : 0) };
  }

  /** Stop: pending work fails with CLOSED, timers stop, the channel is closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onOffline(new Dnp3Error('CLOSED', 'master closed'));
    for (const s of this.subs) s.unsubscribe();
    this.session.detach();
    this.channel.close();
    this.mSubject.complete();
    this.bSubject.complete();
    this.iinSubject.complete();
  }

  // ---- tasks ----------------------------------------------------------------------------------

  private integrityTask(key: string | null, done: (r: TaskResult) => void, priority: number = Priority.INTEGRITY): Task {
    return simpleTask(key, priority, FunctionCode.READ, classHeaders(ALL_CLASSES, true), done);
  }

  private pending(key: string): boolean {
    return this.current?.task.key === key || this.queue.some((t) => t.key === key);
  }

  private enqueue(task: Task): void {
    if (this.closed) return task.fail(new Dnp3Error('CLOSED', 'master closed'));
    if (!this.session.online) return task.fail(new Dnp3Error('OFFLINE', 'channel offline'));
    const at = this.queue.findIndex((t) => t.priority > task.priority);
    if (at < 0) this.queue.push(task);
    else this.queue.splice(at, 0, task);
    this.pump();
  }

  private enqueueOnce(key: string, make: () => Task): void {
    if (!this.pending(key)) this.enqueue(make());
  }

  private pump(): void {
    if (this.current || !this.session.online) return;
    const task = this.queue.shift();
    if (!task) return;
    this.sendStep(task, task.begin());
  }

  private sendStep(task: Task, step: Step): void {
    const seq = this.seq;
    this.seq = (seq + 1) & 0x0f;
    const bytes = encodeRequest(single(seq), step.fn, step.objects);
    const cur: Outstanding = { task, step, seq, bytes, retriesLeft: this.maxRetries, sentAt: this.scheduler.now(), blocks: [], nextFragSeq: null };
    this.current = cur;
    if (!this.session.send(bytes)) return this.failCurrent(new Dnp3Error('OFFLINE', 'channel offline'));
    this.counters.requests++;
    if (step.noResponse) {
      const now = this.scheduler.now();
      return this.complete(cur, { iin: this.lastIin ?? NO_IIN, blocks: [], sentAt: now, receivedAt: now });
    }
    this.responseTimer.start(this.timeoutMs, () => this.onTimeout());
  }

  private complete(cur: Outstanding, r: CollectedResponse): void {
    this.responseTimer.cancel();
    const next = cur.task.next(r);
    if (this.current !== cur) return;
    if (next) return this.sendStep(cur.task, next);
    this.current = null;
    this.pump();
  }

  private failCurrent(e: Dnp3Error): void {
    const cur = this.current;
    this.current = null;
    this.responseTimer.cancel();
    if (cur) {
      this.counters.tasksFailed++;
      cur.task.fail(e);
    }
    this.pump();
  }

  private onTimeout(): void {
    const cur = this.current;
    if (!cur) return;
    this.counters.timeouts++;
    if (cur.retriesLeft > 0 && this.session.online) {
      cur.retriesLeft--;
      this.counters.retries++;
      cur.blocks = [];
      cur.nextFragSeq = null;
      cur.sentAt = this.scheduler.now();
      this.session.send(cur.bytes);
      this.responseTimer.start(this.timeoutMs, () => this.onTimeout());
      return;
    }
    this.failCurrent(new Dnp3Error('TIMEOUT', `no response to function 0x${cur.step.fn.toString(16)} after ${this.maxRetries + 1} tries of ${this.timeoutMs} ms`));
  }

  // ---- connection -----------------------------------------------------------------------------

  private onOnline(): void {
    if (this.closed) return;
    this.restartClearRefused = false;
    this.timeSyncRefused = false;
    this.lastUnsolicited = null;
    if (this.useUnsolicited) {
      this.enqueue(simpleTask('disableUnsolicited', Priority.DISABLE_UNSOLICITED, FunctionCode.DISABLE_UNSOLICITED, classHeaders(ALL_CLASSES), () => {}));
    }
    this.enqueueOnce('integrity', () => this.integrityTask('integrity', () => {}));
    if (this.useUnsolicited) this.enqueueOnce('enableUnsolicited', () => this.enableUnsolicitedTask());
    for (const p of this.periodic) this.arm(p);
  }

  private arm(p: Dnp3Master['periodic'][number]): void {
    p.timer.start(p.period, () => {
      if (!this.session.online) return;
      this.enqueueOnce(p.key, p.make);
      this.arm(p);
    });
  }

  private onOffline(e: Dnp3Error): void {
    for (const p of this.periodic) p.timer.cancel();
    const queued = this.queue.splice(0);
    const cur = this.current;
    this.current = null;
    this.responseTimer.cancel();
    for (const t of cur ? [cur.task, ...queued] : queued) {
      this.counters.tasksFailed++;
      t.fail(e);
    }
  }

  private enableUnsolicitedTask(): Task {
    return simpleTask('enableUnsolicited', Priority.ENABLE_UNSOLICITED, FunctionCode.ENABLE_UNSOLICITED, classHeaders(this.unsClasses), () => {});
  }

  // ---- responses ------------------------------------------------------------------------------

  private onApdu(bytes: Uint8Array): void {
    const p = parseApdu(bytes);
    if (!p.ok) {
      this.counters.malformedApdus++;
      return;
    }
    const a = p.value;
    if (a.kind !== 'response') {
      this.counters.unexpectedResponses++;
      return;
    }
    if (a.function === FunctionCode.UNSOLICITED_RESPONSE) return this.onUnsolicited(a, bytes);
    if (a.function === FunctionCode.RESPONSE) return this.onSolicited(a);
    this.counters.unexpectedResponses++;
  }

  private onUnsolicited(a: ResponseApdu, bytes: Uint8Array): void {
    this.counters.unsolicited++;
    const prev = this.lastUnsolicited;
    if (prev && bytesEqual(prev, bytes)) {
      this.counters.duplicateUnsolicited++;
      if (a.control.con) this.confirm(a.control.seq, true);
      return;
    }
    const { blocks, error } = parseObjects(a.objects, true);
    this.deliver(blocks, a.iin, true);
    if (error) {
      // Not confirmed: the outstation keeps those events for a poll.
      this.counters.objectErrors++;
    } else {
      this.lastUnsolicited = bytes.slice();
      if (a.control.con) this.confirm(a.control.seq, true);
    }
    this.reactToIin(a.iin);
  }

  private onSolicited(a: ResponseApdu): void {
    const cur = this.current;
    const c = a.control;
    const expected = !cur || cur.step.noResponse ? false : c.fir ? c.seq === cur.seq : cur.nextFragSeq !== null && c.seq === cur.nextFragSeq;
    if (!cur || !expected) {
      this.counters.unexpectedResponses++;
      return;
    }
    this.counters.responses++;
    if (c.fir) cur.blocks = [];
    cur.nextFragSeq = (c.seq + 1) & 0x0f;
    const { blocks, error } = parseObjects(a.objects, true);
    this.deliver(blocks, a.iin, false);
    if (error) {
      this.counters.objectErrors++;
      this.reactToIin(a.iin);
      return this.failCurrent(error);
    }
    cur.blocks.push(...blocks);
    if (c.con) this.confirm(c.seq, false);
    this.reactToIin(a.iin);
    if (!c.fin) {
      this.responseTimer.start(this.timeoutMs, () => this.onTimeout());
      return;
    }
    this.complete(cur, { iin: a.iin, blocks: cur.blocks, sentAt: cur.sentAt, receivedAt: this.scheduler.now() });
  }

  private confirm(seq: number, uns: boolean): void {
    if (this.session.send(encodeRequest(single(seq, { uns }), FunctionCode.CONFIRM))) this.counters.confirmsSent++;
  }

  private deliver(blocks: readonly ObjectBlock[], iin: Iin, unsolicited: boolean): void {
    this.lastIin = iin;
    this.iinSubject.next(iin);
    const ms = measurementsOf(blocks);
    for (const m of ms) {
      let byIndex = this.points.get(m.kind);
      if (!byIndex) this.points.set(m.kind, (byIndex = new Map()));
      byIndex.set(m.index, m);
    }
    if (ms.length === 0) return;
    this.bSubject.next({ measurements: ms, unsolicited, iin });
    for (const m of ms) this.mSubject.next(m);
  }

  /** What the outstation's indications ask of us: a restart or lost events need an integrity poll; NEED_TIME a time sync. */
  private reactToIin(iin: Iin): void {
    if (this.closed || !this.session.online) return;
    if (iin.iin1 & IIN1.DEVICE_RESTART && !this.restartClearRefused) {
      this.enqueueOnce('integrity', () => this.integrityTask('integrity', () => {}));
      this.enqueueOnce('clearRestart', () =>
        simpleTask('clearRestart', Priority.CLEAR_RESTART, FunctionCode.WRITE, clearRestartSpecs(), (r) => {
          if (!r.ok && r.error.reason === 'REJECTED') this.restartClearRefused = true;
        }, { failOnIin2: true }),
      );
      if (this.useUnsolicited) this.enqueueOnce('enableUnsolicited', () => this.enableUnsolicitedTask());
    }
    if (iin.iin1 & IIN1.NEED_TIME && this.timeSyncMode !== 'none' && !this.timeSyncRefused) {
      this.enqueueOnce('timeSync', () =>
        timeSyncTask(this.timeSyncMode === 'lan' ? 'lan' : 'nonLan', () => this.scheduler.now(), (r) => {
          if (!r.ok && r.error.reason === 'REJECTED') this.timeSyncRefused = true;
        }),
      );
    }
    if (iin.iin2 & IIN2.EVENT_BUFFER_OVERFLOW) this.enqueueOnce('integrity', () => this.integrityTask('integrity', () => {}));
  }
}
