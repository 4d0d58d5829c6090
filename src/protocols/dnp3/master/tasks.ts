import { describeIin, FunctionCode, IIN2_REQUEST_ERRORS, type Iin } from '../app/codes.js';
import { encodeObjects, Qualifier, type BlockSpec, type ObjectBlock } from '../app/headers.js';
import { crobCode, type ObjectValue } from '../app/objects.js';
import { Dnp3Error } from '../errors.js';

/** One request a task sends next. */
export interface Step {
  readonly fn: number;
  readonly objects: Uint8Array;
  /** DIRECT_OPERATE_NR: no response follows. */
  readonly noResponse?: boolean;
}

/** A complete (possibly multi-fragment) response. */
export interface CollectedResponse {
  readonly iin: Iin;
  readonly blocks: readonly ObjectBlock[];
  /** When the request of this step went out (the last send, retries included). */
  readonly sentAt: number;
  readonly receivedAt: number;
}

export type TaskResult = { readonly ok: true; readonly iin: Iin } | { readonly ok: false; readonly error: Dnp3Error };

/** The outcome of a command: per-object statuses from the outstation, or why there are none. */
export interface CommandResult {
  /** No error and every status SUCCESS. */
  readonly ok: boolean;
  /** One CommandStatus per command object, in request order (empty on error). */
  readonly statuses: readonly number[];
  readonly iin?: Iin;
  readonly error?: Dnp3Error;
}

/** A control relay output block to send (g12v1). */
export interface CrobCommand {
  readonly type: 'crob';
  readonly index: number;
  /** CROB operation: PULSE_ON 1, PULSE_OFF 2, LATCH_ON 3, LATCH_OFF 4 (see OpType). */
  readonly opType: number;
  /** CLOSE 1, TRIP 2 (see TripClose). Default 0. */
  readonly tripClose?: number;
  readonly queue?: boolean;
  readonly clear?: boolean;
  /** Default 1. */
  readonly count?: number;
  /** Default 0 / 0. */
  readonly onTimeMs?: number;
  readonly offTimeMs?: number;
}

/** An analog output block to send (g41): variation 1 i32 (default), 2 i16, 3 f32, 4 f64. Integer variations round. */
export interface AnalogOutputCommand {
  readonly type: 'analogOutput';
  readonly index: number;
  readonly value: number;
  readonly variation?: 1 | 2 | 3 | 4;
}

export type MasterCommand = CrobCommand | AnalogOutputCommand;

export type CommandMode = 'direct' | 'selectOperate' | 'directNoAck';

/**
 * A unit of work on the association: one or more request/response steps. The master runs one at
 * a time; `key` makes a task unique in the queue (polls, startup steps); lower `priority` first.
 */
export interface Task {
  readonly key: string | null;
  readonly priority: number;
  begin(): Step;
  /** The response to the current step; the next step, or null when the task is done. */
  next(r: CollectedResponse): Step | null;
  fail(e: Dnp3Error): void;
}

export const Priority = {
  DISABLE_UNSOLICITED: 10,
  INTEGRITY: 20,
  CLEAR_RESTART: 30,
  TIME_SYNC: 40,
  ENABLE_UNSOLICITED: 50,
  COMMAND: 60,
  USER: 70,
  CLASS_POLL: 80,
} as const;

type ClassNo = 1 | 2 | 3;

export function classHeaders(classes: readonly ClassNo[], withClass0 = false): BlockSpec[] {
  const specs: BlockSpec[] = classes.map((c) => ({ group: 60, variation: c + 1, qualifier: Qualifier.ALL }));
  if (withClass0) specs.push({ group: 60, variation: 1, qualifier: Qualifier.ALL });
  return specs;
}

/** A task of one request whose response just needs to arrive (reads, writes, unsolicited control). */
export function simpleTask(key: string | null, priority: number, fn: number, specs: readonly BlockSpec[], done: (r: TaskResult) => void, opts: { failOnIin2?: boolean } = {}): Task {
  return {
    key,
    priority,
    begin: () => ({ fn, objects: encodeObjects(specs) }),
    next(r) {
      const refused = r.iin.iin2 & IIN2_REQUEST_ERRORS;
      if (refused && opts.failOnIin2) done({ ok: false, error: rejected(r.iin) });
      else done({ ok: true, iin: r.iin });
      return null;
    },
    fail: (error) => done({ ok: false, error }),
  };
}

export function rejected(iin: Iin): Dnp3Error {
  return new Dnp3Error('REJECTED', `outstation refused: ${describeIin({ iin1: 0, iin2: iin.iin2 & IIN2_REQUEST_ERRORS }).join(', ')}`);
}

/** WRITE g80v1 index 7 = 0: clear DEVICE_RESTART. */
export function clearRestartSpecs(): BlockSpec[] {
  return [{ group: 80, variation: 1, qualifier: Qualifier.RANGE_8, items: [{ index: 7, value: { type: 'bit', value: false } }] }];
}

/**
 * Time synchronization. Non-LAN: DELAY_MEASURE, then WRITE g50v1 with our time plus half the
 * round trip less the outstation's processing delay. LAN: RECORD_CURRENT_TIME, then WRITE g50v3
 * with the time that request went out.
 */
export function timeSyncTask(mode: 'nonLan' | 'lan', now: () => number, done: (r: TaskResult) => void): Task {
  let step = 0;
  return {
    key: 'timeSync',
    priority: Priority.TIME_SYNC,
    begin: () => ({ fn: mode === 'lan' ? FunctionCode.RECORD_CURRENT_TIME : FunctionCode.DELAY_MEASURE, objects: new Uint8Array(0) }),
    next(r) {
      if (r.iin.iin2 & IIN2_REQUEST_ERRORS) {
        done({ ok: false, error: rejected(r.iin) });
        return null;
      }
      if (step++ > 0) {
        done({ ok: true, iin: r.iin });
        return null;
      }
      if (mode === 'lan') {
        return { fn: FunctionCode.WRITE, objects: encodeObjects([{ group: 50, variation: 3, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time', time: r.sentAt } }] }]) };
      }
      const delay = r.blocks.flatMap((b) => b.items).find((i) => i.value.type === 'delay')?.value;
      const processing = delay?.type === 'delay' ? delay.ms : 0;
      const oneWay = Math.max(0, (r.receivedAt - r.sentAt - processing) / 2);
      return { fn: FunctionCode.WRITE, objects: encodeObjects([{ group: 50, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time', time: now() + oneWay } }] }]) };
    },
    fail: (error) => done({ ok: false, error }),
  };
}

function commandValue(c: MasterCommand): { group: number; variation: number; value: ObjectValue } {
  if (c.type === 'crob') {
    return {
      group: 12,
      variation: 1,
      value: { type: 'crob', code: crobCode(c), count: c.count ?? 1, onTimeMs: c.onTimeMs ?? 0, offTimeMs: c.offTimeMs ?? 0, status: 0 },
    };
  }
  return { group: 41, variation: c.variation ?? 1, value: { type: 'analogOutput', value: c.value, status: 0 } };
}

/** Command objects: one header (2-octet count and index, 0x28) per run of the same group/variation. */
export function commandSpecs(commands: readonly MasterCommand[]): BlockSpec[] {
  const specs: { group: number; variation: number; qualifier: number; items: { index: number; value: ObjectValue }[] }[] = [];
  for (const c of commands) {
    const { group, variation, value } = commandValue(c);
    let s = specs[specs.length - 1];
    if (!s || s.group !== group || s.variation !== variation) {
      s = { group, variation, qualifier: Qualifier.INDEX_16, items: [] };
      specs.push(s);
    }
    s.items.push({ index: c.index, value });
  }
  return specs;
}

/** Statuses of the echoed command objects, or why the echo is not what we sent. */
function echoStatuses(sent: readonly MasterCommand[], r: CollectedResponse): number[] | Dnp3Error {
  const items = r.blocks.filter((b) => b.group === 12 || b.group === 41).flatMap((b) => b.items);
  if (items.length !== sent.length) return new Dnp3Error('MISMATCH', `${sent.length} commands sent, ${items.length} echoed`);
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const v = items[i]!.value;
    if (items[i]!.index !== sent[i]!.index || (v.type !== 'crob' && v.type !== 'analogOutput')) return new Dnp3Error('MISMATCH', `echo of command ${i} differs`);
    out.push(v.status);
  }
  return out;
}

/** DIRECT_OPERATE, SELECT then OPERATE (consecutive sequence numbers, nothing in between), or DIRECT_OPERATE_NR. */
export function commandTask(commands: readonly MasterCommand[], mode: CommandMode, done: (r: CommandResult) => void): Task {
  const objects = encodeObjects(commandSpecs(commands));
  let selecting = mode === 'selectOperate';
  const finish = (r: CollectedResponse): null => {
    if (r.iin.iin2 & IIN2_REQUEST_ERRORS) {
      done({ ok: false, statuses: [], iin: r.iin, error: rejected(r.iin) });
      return null;
    }
    const s = echoStatuses(commands, r);
    if (s instanceof Dnp3Error) done({ ok: false, statuses: [], iin: r.iin, error: s });
    else done({ ok: s.every((x) => x === 0), statuses: s, iin: r.iin });
    return null;
  };
  return {
    key: null,
    priority: Priority.COMMAND,
    begin() {
      if (mode === 'directNoAck') return { fn: FunctionCode.DIRECT_OPERATE_NR, objects, noResponse: true };
      return { fn: mode === 'selectOperate' ? FunctionCode.SELECT : FunctionCode.DIRECT_OPERATE, objects };
    },
    next(r) {
      if (mode === 'directNoAck') {
        done({ ok: true, statuses: commands.map(() => 0) });
        return null;
      }
      if (!selecting) return finish(r);
      selecting = false;
      const s = echoStatuses(commands, r);
      if (r.iin.iin2 & IIN2_REQUEST_ERRORS || s instanceof Dnp3Error || s.some((x) => x !== 0)) return finish(r);
      return { fn: FunctionCode.OPERATE, objects };
    },
    fail: (error) => done({ ok: false, statuses: [], error }),
  };
}
