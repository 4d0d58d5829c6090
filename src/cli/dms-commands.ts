import { Command, InvalidArgumentError, Option } from 'commander';
import { DermsError, type DermsErrorCode } from '../core/errors.js';
import { derFunctionNames, type DerFunctionName, type DerFunctions } from '../core/model/group.js';
import { CimClient, type CimReply, type ClientEncoding } from '../cim-api/client.js';
import type { PlainObject } from '../cim-api/decode.js';
import { curveStyleKinds, derParameterKinds, timeIntervalKinds, unitMultiplierNames, type CurveStyleKind, type DerParameterKind, type TimeIntervalKind, type UnitMultiplier } from '../cim-api/enums.js';
import { startDmsListener, type ReceivedMessage } from '../cim-api/listener.js';
import {
  cancelDispatchesRequest,
  changeGroupsRequest,
  createGroupsRequest,
  curveDispatchRequest,
  deleteGroupsRequest,
  dispatchRequest,
  endDeviceControlsRequest,
  getForecastsRequest,
  getGroupsRequest,
  getStatusesRequest,
  removeMembersRequest,
  type CurvePoint,
  type ObjectRef,
  type RequestSpec,
} from '../cim-api/requests.js';
import type { CimNamespaces } from '../cim-api/namespaces.js';

/**
 * `derms dms ...`: a DMS at the command line. Each command sends one IEC 61968-100 request to a
 * 61968-5 server (this DERMS or another) and prints the reply as received; a FAILED or PARTIAL
 * reply ends with a non-zero exit code. `derms dms listen` is a DMS endpoint for pushed events.
 */

export interface DmsIo {
  readonly out: (line: string) => void;
  /** Notices (where the listener listens), kept off stdout so it carries only replies / events. */
  readonly err: (line: string) => void;
  /** Stops `listen`; without one, SIGINT or SIGTERM does. */
  readonly signal?: AbortSignal | undefined;
}

/** Where `derms start` serves (its default port), the CIM routes mounted at /cim. */
export const DEFAULT_CIM_URL = 'http://127.0.0.1:8080/cim';

interface GlobalOpts {
  url: string;
  xml?: boolean;
  json?: boolean;
  soap?: boolean;
  timeout: number;
  replyTo?: string;
  showRequest: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `mrid:X` or `name:X` explicitly; else a UUID is an mRID and anything else a name (`fallback` decides for members). */
export function parseRef(s: string, fallback: 'name' | 'mRID' = 'name'): ObjectRef {
  const m = /^(mrid|name):(.+)$/i.exec(s);
  if (m) return m[1]!.toLowerCase() === 'mrid' ? { mRID: m[2]! } : { name: m[2]! };
  if (fallback === 'mRID' || UUID.test(s)) return { mRID: s };
  return { name: s };
}

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function numbers(v: string): number[] {
  const xs = list(v).map(Number);
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError('expected comma-separated numbers, e.g. 250,200');
  return xs;
}

/** `15m`, `1h`, `30s`, `1D`: a DispatchSchedule interval. */
export function parseInterval(v: string): { duration: number; unit: TimeIntervalKind } {
  const m = /^(\d+)(s|m|h|D|M|Y)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1) throw new InvalidArgumentError(`expected a count and a unit (${timeIntervalKinds.join(', ')}), e.g. 15m`);
  return { duration: Number(m[1]), unit: m[2] as TimeIntervalKind };
}

/** `now`, `+10m` (from now), or an ISO 8601 date and time. */
export function parseStart(v: string, now = Date.now()): number {
  if (v === 'now') return now;
  const rel = /^\+(\d+)(s|m|h)$/.exec(v);
  if (rel) return now + Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[rel[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidArgumentError('expected now, +<n>s|m|h or an ISO 8601 date and time');
  return t;
}

/** `92:44,98:0,102:0,108:-44`: voltage (% of nominal) : var or W (% of rating). */
export function parseCurve(v: string): CurvePoint[] {
  const pts = list(v).map((p) => p.split(':').map(Number));
  if (pts.length < 2 || pts.some((p) => p.length !== 2 || p.some((x) => !Number.isFinite(x)))) {
    throw new InvalidArgumentError('expected at least two v:y points, e.g. 92:44,98:0,102:0,108:-44');
  }
  return pts.map(([x, y]) => ({ x: x!, y: y! }));
}

function functionsFrom(names: string[], value: boolean): Partial<DerFunctions> {
  const out: Partial<DerFunctions> = {};
  for (const n of names) {
    if (n === 'all') for (const f of derFunctionNames) out[f] = value;
    else if ((derFunctionNames as readonly string[]).includes(n)) out[n as DerFunctionName] = value;
    else throw new DermsError('INVALID_INPUT', `unknown DERFunction ${JSON.stringify(n)}; known: all, ${derFunctionNames.join(', ')}`);
  }
  return out;
}

/** The exit-code kind of a refused request, from its first error code. */
function errorKind(code: string | undefined): DermsErrorCode {
  if (!code) return 'CONFLICT';
  if (code === '2.15') return 'NOT_FOUND';
  if (/^[123]\./.test(code)) return 'INVALID_INPUT';
  if (code.startsWith('4.')) return 'TIMEOUT';
  if (code.startsWith('5.')) return 'UNAVAILABLE';
  return 'CONFLICT';
}

async function send(g: GlobalOpts, io: DmsIo, build: (ns: CimNamespaces) => RequestSpec): Promise<CimReply> {
  const encoding: ClientEncoding = g.json ? 'json' : g.soap ? 'soap11' : 'xml';
  const client = new CimClient({ url: g.url, encoding, timeoutMs: g.timeout, replyAddress: g.replyTo, source: 'derms-dms' });
  const spec = build(client.ns);
  const reply = await client.send(spec);
  if (g.showRequest) io.err(reply.sent);
  io.out(reply.body);
  if (reply.result === undefined) throw new DermsError('UNAVAILABLE', `${g.url} answered HTTP ${reply.status} without an IEC 61968-100 reply`);
  if (reply.result !== 'OK') {
    const first = reply.errors[0];
    const more = reply.errors.length > 1 ? ` (and ${reply.errors.length - 1} more)` : '';
    throw new DermsError(errorKind(first?.code), `the server answered ${reply.result}: ${first ? `${first.code} ${first.reason ?? ''}`.trim() : 'no error given'}${more}`);
  }
  return reply;
}

/** The `dms` command group. */
export function dmsCommand(io: DmsIo): Command {
  const dms = new Command('dms')
    .description('act as a DMS: send IEC 61968-5 requests to a CIM server and print its replies; listen for pushed events')
    .option('--url <url>', 'the server message endpoint', process.env['DERMS_CIM_URL'] ?? DEFAULT_CIM_URL)
    .addOption(new Option('--xml', 'send XML (the default)').conflicts(['json', 'soap']))
    .addOption(new Option('--json', 'send the JSON mapping').conflicts(['soap']))
    .option('--soap', 'send XML in a SOAP 1.1 envelope')
    .option('--timeout <ms>', 'request timeout', positiveInt, 30_000)
    .option('--reply-to <url>', 'ask for an asynchronous reply to this URL (AsyncReplyFlag + ReplyAddress)')
    .option('--show-request', 'also print the request sent (on stderr)', false)
    // `dms --json status` sends JSON; `dms listen --json` prints JSON: options belong to the command they follow.
    .enablePositionalOptions();
  const g = (): GlobalOpts => dms.opts<GlobalOpts>();

  dms
    .command('create-group <name>')
    .description('create a DER group (members by mRID; name:X selects a DER by name)')
    .option('--members <ders>', 'comma-separated members', list, [])
    .option('--mrid <mrid>', 'the group mRID (default: the server makes one)')
    .option('--description <text>', 'a description')
    .option('--functions <list>', `DERFunction flags to enable (all, or ${derFunctionNames.join(', ')})`, list, ['all'])
    .action(async (name: string, o: { members: string[]; mrid?: string; description?: string; functions: string[] }) => {
      const functions = functionsFrom(o.functions, true);
      await send(g(), io, (ns) => createGroupsRequest(ns, [{ mRID: o.mrid, names: [name], description: o.description, functions, members: o.members.map((m) => parseRef(m, 'mRID')) }]));
    });

  dms
    .command('change-group <group>')
    .description('change a group: functions, description, members to add, new name')
    .option('--enable <list>', 'DERFunction flags to switch on', list, [])
    .option('--disable <list>', 'DERFunction flags to switch off', list, [])
    .option('--description <text>', 'a new description')
    .option('--add <ders>', 'members to add', list, [])
    .option('--rename <name>', 'a new name (the group must be given by mRID)')
    .action(async (group: string, o: { enable: string[]; disable: string[]; description?: string; add: string[]; rename?: string }) => {
      const functions = { ...functionsFrom(o.enable, true), ...functionsFrom(o.disable, false) };
      await send(g(), io, (ns) =>
        changeGroupsRequest(ns, [{ group: parseRef(group), functions: Object.keys(functions).length ? functions : undefined, description: o.description, addMembers: o.add.map((m) => parseRef(m, 'mRID')), rename: o.rename ? [o.rename] : undefined }]),
      );
    });

  dms
    .command('add-members <group> <ders...>')
    .description('add members to a group (change DERGroups)')
    .action(async (group: string, ders: string[]) => {
      await send(g(), io, (ns) => changeGroupsRequest(ns, [{ group: parseRef(group), addMembers: ders.map((m) => parseRef(m, 'mRID')) }]));
    });

  dms
    .command('remove-members <group> <ders...>')
    .description('remove members from a group (an OperationSet element delete)')
    .action(async (group: string, ders: string[]) => {
      await send(g(), io, (ns) => removeMembersRequest(ns, parseRef(group), ders.map((m) => parseRef(m, 'mRID'))));
    });

  dms
    .command('delete-group <groups...>')
    .description('delete groups')
    .action(async (groups: string[]) => {
      await send(g(), io, (ns) => deleteGroupsRequest(ns, groups.map((x) => parseRef(x))));
    });

  dms
    .command('groups [groups...]')
    .description('get groups with their capability (every group when none is named)')
    .action(async (groups: string[]) => {
      await send(g(), io, (ns) => getGroupsRequest(ns, groups.map((x) => parseRef(x))));
    });

  dms
    .command('status [groups...]')
    .description('get group statuses (every group when none is named)')
    .action(async (groups: string[]) => {
      await send(g(), io, (ns) => getStatusesRequest(ns, groups.map((x) => parseRef(x))));
    });

  dms
    .command('forecast <groups...>')
    .description('get group forecasts')
    .option('--parameters <list>', 'DERParameters to forecast', list, ['activePower'])
    .option('--start <time>', 'first interval: now, +<n>m, or ISO 8601', 'now')
    .option('--intervals <n>', 'number of intervals', positiveInt, 4)
    .option('--interval <d>', 'interval length, e.g. 15m', '15m')
    .addOption(new Option('--curve <style>', 'curve style').choices(curveStyleKinds).default('constantYValue'))
    .action(async (groups: string[], o: { parameters: string[]; start: string; intervals: number; interval: string; curve: CurveStyleKind }) => {
      const iv = parseInterval(o.interval);
      const params = o.parameters.map((p) => {
        if (!(derParameterKinds as readonly string[]).includes(p)) throw new DermsError('INVALID_INPUT', `unknown DERParameter ${JSON.stringify(p)}`);
        return p as DerParameterKind;
      });
      await send(g(), io, (ns) => getForecastsRequest(ns, groups.map((x) => parseRef(x)), params, { start: parseStart(o.start), intervals: o.intervals, intervalDuration: iv.duration, intervalUnit: iv.unit, curveStyle: o.curve }));
    });

  dms
    .command('dispatch <group>')
    .description('dispatch a group: one value per interval of a schedule (e.g. --values 9,6 --multiplier k --interval 30m)')
    .addOption(new Option('--parameter <p>', 'the DERParameter').choices(['activePower', 'reactivePower', 'increasingRampRate', 'decreasingRampRate', 'voltage']).default('activePower'))
    .requiredOption('--values <list>', 'value of each interval, in the parameter unit times the multiplier', numbers)
    .addOption(new Option('--multiplier <m>', 'UnitMultiplier of the values').choices(unitMultiplierNames).default('k'))
    .option('--start <time>', 'start of interval 1: now, +<n>m, or ISO 8601', 'now')
    .option('--interval <d>', 'interval length, e.g. 30m', '1h')
    .addOption(new Option('--curve <style>', 'constantYValue holds each value; straightLineYValues interpolates').choices(curveStyleKinds).default('constantYValue'))
    .option('--mrid <mrid>', 'the dispatch mRID (default: the server makes one)')
    .option('--name <label>', 'a label for the dispatch')
    .option('--base-voltage <v>', 'for voltage: the base the values are relative to (same unit and multiplier)', Number)
    .action(async (group: string, o: { parameter: DerParameterKind; values: number[]; multiplier: UnitMultiplier; start: string; interval: string; curve: CurveStyleKind; mrid?: string; name?: string; baseVoltage?: number }) => {
      const iv = parseInterval(o.interval);
      await send(g(), io, (ns) =>
        dispatchRequest(ns, [
          {
            group: parseRef(group),
            mRID: o.mrid,
            name: o.name,
            parameter: o.parameter,
            multiplier: o.multiplier,
            values: o.values,
            schedule: { start: parseStart(o.start), intervalDuration: iv.duration, intervalUnit: iv.unit, curveStyle: o.curve },
            baseVoltage: o.baseVoltage,
          },
        ]),
      );
    });

  dms
    .command('curve <group>')
    .description('assign a volt-var or volt-watt curve (extension element), points as v:y in % of nominal voltage : % of rating')
    .addOption(new Option('--volt-var <points>', 'e.g. 92:44,98:0,102:0,108:-44').conflicts('voltWatt'))
    .option('--volt-watt <points>', 'e.g. 106:100,110:0')
    .option('--mrid <mrid>', 'the dispatch mRID')
    .action(async (group: string, o: { voltVar?: string; voltWatt?: string; mrid?: string }) => {
      if (!o.voltVar && !o.voltWatt) throw new DermsError('INVALID_INPUT', 'give --volt-var or --volt-watt');
      const kind = o.voltVar ? 'voltVar' : 'voltWatt';
      await send(g(), io, (ns) => curveDispatchRequest(ns, parseRef(group), kind, parseCurve((o.voltVar ?? o.voltWatt)!), o.mrid));
    });

  dms
    .command('cancel <dispatches...>')
    .description('cancel dispatches by mRID (cancel DERGroupDispatches)')
    .action(async (ids: string[]) => {
      await send(g(), io, (ns) => cancelDispatchesRequest(ns, ids));
    });

  for (const action of ['connect', 'disconnect'] as const) {
    dms
      .command(`${action} <targets...>`)
      .description(`${action} groups, or single devices with --device (EndDeviceControls ${action === 'connect' ? '2.31.0.18' : '2.31.0.23'})`)
      .option('--device', 'the targets are devices (EndDevices), not groups', false)
      .option('--mrid <mrid>', 'the control mRID')
      .action(async (targets: string[], o: { device: boolean; mrid?: string }) => {
        const refs = targets.map((t) => parseRef(t, o.device ? 'mRID' : 'name'));
        await send(g(), io, (ns) => endDeviceControlsRequest(ns, [{ mRID: o.mrid, action, groups: o.device ? [] : refs, devices: o.device ? refs : [] }]));
      });
  }

  dms
    .command('listen')
    .description('run a DMS endpoint: acknowledge pushed EventMessages and print each one')
    .option('--port <n>', 'TCP port (0: any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535');
      return n;
    }, 9100)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--json', 'one line of JSON per event', false)
    .action(async (o: { port: number; host: string; json: boolean }) => {
      await listen(o, io);
    });

  return dms;
}

async function listen(o: { port: number; host: string; json: boolean }, io: DmsIo): Promise<void> {
  const l = await startDmsListener({
    host: o.host,
    port: o.port,
    onMessage: (m) => io.out(o.json ? JSON.stringify(eventJson(m)) : eventLine(m)),
    onRejected: (why) => io.err(`refused a message: ${why}`),
  });
  io.err(`derms dms listen: acknowledging EventMessages at ${l.url}/ (any path)`);
  await new Promise<void>((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await l.close();
}

function eventJson(m: ReceivedMessage): Record<string, unknown> {
  return {
    receivedAt: new Date(m.receivedAt).toISOString(),
    kind: m.kind,
    verb: m.verb,
    noun: m.noun,
    messageId: m.messageId ?? null,
    correlationId: m.correlationId ?? null,
    timestamp: m.timestamp === undefined ? null : new Date(m.timestamp).toISOString(),
    source: m.source ?? null,
    ...(m.result ? { result: m.result } : {}),
    payload: m.payload ?? null,
  };
}

const arr = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const get = (v: unknown, k: string): unknown => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as PlainObject)[k] : undefined);
const name = (g: unknown): string => {
  const n = get(arr(get(g, 'Names'))[0], 'name');
  return typeof n === 'string' ? n : String(get(g, 'mRID') ?? '?');
};

/** One human line per event: what it says in brief. */
function eventLine(m: ReceivedMessage): string {
  const head = `${new Date(m.receivedAt).toISOString()} ${m.verb} ${m.noun}`;
  const p = m.payload;
  if (m.noun === 'DERGroupStatuses') {
    const groups = arr(get(get(p, 'DERGroupStatuses'), 'EndDeviceGroup')).map((g) => {
      const vals = arr(get(g, 'DERMonitorableParameter')).map((x) => `${String(get(x, 'DERParameter'))} ${String(get(get(x, 'DERCurveData'), 'nominalYValue'))} ${String(get(x, 'yMultiplier') === 'none' ? '' : get(x, 'yMultiplier'))}${String(get(x, 'yUnit'))}`);
      return `${name(g)}: ${vals.join(', ')} (${String(get(get(g, 'status'), 'value') ?? 'status n/a')})`;
    });
    return `${head} ${groups.join('; ')}`;
  }
  if (m.noun === 'DERGroups') {
    const groups = arr(get(get(p, 'DERGroups'), 'EndDeviceGroup')).map((g) => `${name(g)} (${arr(get(g, 'EndDevices')).length} members)`);
    return `${head} ${groups.join('; ')}`;
  }
  if (m.noun === 'EndDeviceEvents') {
    const evs = arr(get(get(p, 'EndDeviceEvents'), 'EndDeviceEvent')).map((e) => `${String(get(get(e, 'Assets'), 'mRID'))} ${String(get(get(e, 'EndDeviceEventType'), '@ref'))}`);
    return `${head} ${evs.join('; ')} (correlation ${m.correlationId ?? '-'})`;
  }
  if (m.noun === 'DERGroupForecasts') {
    const fs = arr(get(get(p, 'DERGroupForecasts'), 'DERGroupForecast')).map((f) => `${name(get(f, 'EndDeviceGroup'))} ${arr(get(arr(get(arr(get(get(f, 'EndDeviceGroup'), 'DERMonitorableParameter'))[0], 'DispatchSchedule'))[0], 'DERCurveData')).length} intervals`);
    return `${head} ${fs.join('; ')}`;
  }
  return `${head}${m.result ? ` ${m.result}` : ''} (message ${m.messageId ?? '-'}, correlation ${m.correlationId ?? '-'})`;
}

/** Run `derms dms <argv>` (argv after `dms`), for tests and embedding. */
export async function runDms(argv: readonly string[], io: DmsIo): Promise<void> {
  const cmd = dmsCommand(io).exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  for (const c of cmd.commands) c.exitOverride();
  await cmd.parseAsync([...argv], { from: 'user' });
}
