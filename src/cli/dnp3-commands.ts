import { readOutstation } from '../adapters/dnp3/read-outstation.js';
import { describeIin, Flags, formatDnp3Url, parseDnp3Url, type Measurement, type PointKind } from '../protocols/dnp3/index.js';
import { fromRaw, indexAt, loadDerPointMap, type DerPointMap, type PointDef, type PointRole, type PointType } from '../protocols/dnp3/der-profile/index.js';

export interface Dnp3ScanOptions {
  readonly json: boolean;
  /** For the connection and for the integrity poll's answer. */
  readonly timeoutMs: number;
  readonly out: (line: string) => void;
  /** A point-map file (YAML/JSON overrides of the built-in DER profile map). */
  readonly pointMap?: string | undefined;
}

/** One profile point as the scan shows it. */
interface Row {
  /** `AI537`, `BO5`, `C0` */
  readonly point: string;
  /** `ai.w`, `ao.curveX[3]` */
  readonly role: string;
  /** Scaled (engineering units); binaries true/false; null when the outstation did not report it. */
  readonly value: number | boolean | null;
  readonly raw: number | boolean | null;
  readonly units: string | null;
  readonly flags: readonly string[];
}

const KIND: Record<PointType, PointKind> = { AI: 'analogInput', BI: 'binaryInput', AO: 'analogOutputStatus', BO: 'binaryOutputStatus', counter: 'counter' };
const TYPE_ORDER: readonly PointType[] = ['AI', 'BI', 'counter', 'AO', 'BO'];
const FLAG_NAMES = Object.entries(Flags) as [string, number][];

/**
 * `derms scan dnp3://HOST:PORT?outstation=N&master=M`: one integrity poll, then every point of the
 * DER profile map by its name, with its scaled value, units and quality flags (a table, or one
 * JSON object). Unreachable: UNAVAILABLE; no answer: TIMEOUT; a bad URL: INVALID_INPUT.
 */
export async function scanDnp3(url: string, o: Dnp3ScanOptions): Promise<void> {
  const target = parseDnp3Url(url);
  const map = await loadDerPointMap(o.pointMap);
  const reading = await readOutstation(target, o.timeoutMs);
  const byKey = new Map(reading.measurements.map((m) => [`${m.kind}:${m.index}`, m]));
  const rows = profileRows(map, byKey);
  const inProfile = new Set(rows.map((r) => r.key));
  const others = reading.measurements.filter((m) => !inProfile.has(`${m.kind}:${m.index}`)).length;
  const iin = describeIin(reading.iin);
  const where = formatDnp3Url(target);
  if (o.json) {
    o.out(
      JSON.stringify({
        url: where,
        outstation: target.outstation,
        master: target.master,
        profile: map.profile,
        scanSeconds: reading.seconds,
        iin,
        points: rows.map(({ key: _key, ...r }) => r),
        reported: reading.measurements.length,
        otherPoints: others,
      }),
    );
    return;
  }
  const missing = rows.filter((r) => r.value === null).length;
  o.out(`${where}: ${map.profile}, ${reading.measurements.length} points reported (integrity poll in ${reading.seconds.toFixed(2)} s), IIN ${iin.length ? iin.join(' ') : 'none'}`);
  o.out(`${rows.length - missing} of ${rows.length} profile points present${others ? `; ${others} other points not in the profile map` : ''}`);
  o.out('');
  for (const line of table(rows)) o.out(line);
}

function profileRows(map: DerPointMap, byKey: ReadonlyMap<string, Measurement>): (Row & { key: string })[] {
  const rows: (Row & { key: string; type: PointType; index: number })[] = [];
  for (const [role, def] of Object.entries(map.points) as [PointRole, PointDef][]) {
    const n = def.repeat?.count ?? 1;
    for (let k = 0; k < n; k++) {
      const index = indexAt(def, k);
      const key = `${KIND[def.type]}:${index}`;
      const m = byKey.get(key);
      rows.push({
        key,
        type: def.type,
        index,
        point: `${def.type === 'counter' ? 'C' : def.type}${index}`,
        role: def.repeat ? `${role}[${k + 1}]` : role,
        raw: m?.value ?? null,
        value: m === undefined ? null : typeof m.value === 'boolean' ? m.value : scaled(def, m.value),
        units: def.units ?? null,
        flags: m === undefined ? [] : flagNames(m.flags),
      });
    }
  }
  rows.sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.index - b.index);
  return rows.map(({ type: _t, index: _i, ...r }) => r);
}

/** Engineering value, rounded to the point's resolution (no binary-fraction noise). */
function scaled(def: PointDef, raw: number): number {
  const digits = Math.max(0, Math.ceil(Math.log10(Math.abs(def.multiplier)) - 1e-9));
  return Number(fromRaw(def, raw).toFixed(Math.min(digits, 6)));
}

function flagNames(flags: number): string[] {
  const names = FLAG_NAMES.filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
  return (flags & Flags.ONLINE) === 0 ? ['OFFLINE', ...names] : names;
}

function table(rows: readonly Row[]): string[] {
  const cells = rows.map((r) => [r.point, r.role, show(r.value), r.units ?? '', r.value === null ? 'not reported' : r.flags.join(' ')]);
  const head = ['point', 'name', 'value', 'units', 'quality'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => `  ${c[0]!.padEnd(widths[0]!)}  ${c[1]!.padEnd(widths[1]!)}  ${c[2]!.padStart(widths[2]!)}  ${c[3]!.padEnd(widths[3]!)}  ${c[4]!}`.trimEnd();
  return [line(head), ...cells.map(line)];
}

function show(v: Row['value']): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}
