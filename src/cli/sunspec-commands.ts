import { DermsError } from '../core/errors.js';
import { SunSpecClient } from '../adapters/sunspec/client.js';
import { openModbus } from '../adapters/sunspec/open.js';
import { parseModbusUrl, formatModbusUrl } from '../protocols/modbus-url.js';
import { ModelRegistry, type DecodedModel, type DecodedPoint } from '../protocols/sunspec/index.js';

export interface LabOptions {
  readonly models?: string | undefined;
  readonly timeoutMs: number;
  readonly out: (line: string) => void;
}

async function connect(url: string, o: LabOptions): Promise<SunSpecClient> {
  const target = parseModbusUrl(url);
  const registry = await ModelRegistry.create(o.models);
  const transport = await openModbus(target, o.timeoutMs);
  try {
    return await SunSpecClient.discover(transport, registry);
  } catch (e) {
    await transport.close();
    throw e;
  }
}

const jsonValue = (v: DecodedPoint['value']): unknown => (typeof v === 'bigint' ? v.toString() : v);

function pointJson(p: DecodedPoint): Record<string, unknown> {
  return { value: jsonValue(p.value), ...(p.units ? { units: p.units } : {}), ...(p.symbol ? { symbol: p.symbol } : {}), ...(p.symbols ? { symbols: p.symbols } : {}), access: p.def.access };
}

/** `derms scan URL`: every model the device serves, with its points' current values. */
export async function scan(url: string, o: LabOptions & { json: boolean }): Promise<void> {
  const started = performance.now();
  const client = await connect(url, o);
  try {
    const ids = [...client.models.keys()];
    const decoded = await client.read(ids);
    const seconds = (performance.now() - started) / 1000;
    if (o.json) {
      o.out(
        JSON.stringify({
          url: formatModbusUrl(client.transport.target),
          scanSeconds: seconds,
          models: [...client.models.values()].map((m) => {
            const d = decoded.get(m.id);
            return { id: m.id, name: d?.layout.def.name ?? null, address: m.address, length: m.length, known: !!m.layout, points: d ? Object.fromEntries(d.points.filter((p) => p.def.type !== 'pad').map((p) => [p.path, pointJson(p)])) : null };
          }),
        }),
      );
      return;
    }
    o.out(`${formatModbusUrl(client.transport.target)}: ${client.models.size} models (scanned in ${seconds.toFixed(2)} s)`);
    for (const m of client.models.values()) {
      const d = decoded.get(m.id);
      o.out('');
      o.out(`model ${m.id}${d ? ` ${d.layout.def.name}` : ' (unknown, skipped)'} at ${m.address}, length ${m.length}`);
      if (d) for (const line of table(d)) o.out(line);
    }
  } finally {
    await client.close();
  }
}

function table(d: DecodedModel): string[] {
  const rows = d.points.filter((p) => p.def.type !== 'pad' && p.path !== 'ID' && p.path !== 'L').map((p) => [p.path, show(p), p.units ?? '', p.def.access === 'RW' ? 'rw' : '']);
  const w0 = Math.max(...rows.map((r) => r[0]!.length), 4);
  const w1 = Math.max(...rows.map((r) => r[1]!.length), 5);
  return rows.map((r) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padStart(w1)}  ${r[2]!.padEnd(8)} ${r[3]}`.trimEnd());
}

function show(p: DecodedPoint): string {
  if (p.value === null) return '-';
  if (p.symbol) return `${String(p.value)} ${p.symbol}`;
  if (p.symbols) return `${String(p.value)} [${p.symbols.join(',')}]`;
  return String(p.value);
}

function splitPoint(spec: string, client: SunSpecClient): { id: number; path: string } {
  const m = /^(\d+)\.(.+)$/.exec(spec);
  if (!m) throw new DermsError('INVALID_INPUT', `expected MODEL.POINT, e.g. 704.WMaxLimPct, got ${JSON.stringify(spec)}`);
  const id = Number(m[1]);
  const info = client.models.get(id);
  if (!info?.layout) throw new DermsError('NOT_FOUND', `the device does not serve SunSpec model ${id} (it serves ${[...client.models.keys()].join(', ')})`);
  if (!info.layout.byPath.has(m[2]!)) throw new DermsError('NOT_FOUND', `model ${id} has no point ${m[2]}`);
  return { id, path: m[2]! };
}

/** `derms read URL MODEL.POINT`. */
export async function readPoint(url: string, spec: string, o: LabOptions & { json: boolean }): Promise<void> {
  const client = await connect(url, o);
  try {
    const { id, path } = splitPoint(spec, client);
    const p = (await client.read([id])).get(id)!.get(path)!;
    o.out(o.json ? JSON.stringify({ point: `${id}.${path}`, raw: jsonValue(p.raw), ...pointJson(p) }) : `${id}.${path} = ${show(p)}${p.units ? ` ${p.units}` : ''}`);
  } finally {
    await client.close();
  }
}

/** `derms write URL MODEL.POINT VALUE`: a scaled value in, the raw registers written, the read-back shown. */
export async function writePoint(url: string, spec: string, value: string, o: LabOptions & { json: boolean }): Promise<void> {
  const client = await connect(url, o);
  try {
    const { id, path } = splitPoint(spec, client);
    const v = value === 'null' ? null : Number.isFinite(Number(value)) ? Number(value) : value;
    const { writes, readBack } = await client.write(id, { [path]: v });
    const p = readBack.get(path)!;
    if (o.json) o.out(JSON.stringify({ point: `${id}.${path}`, wrote: v, registers: writes, readBack: pointJson(p) }));
    else {
      for (const w of writes) o.out(`wrote ${w.registers.map((r) => `0x${r.toString(16).padStart(4, '0')}`).join(' ')} at ${w.address}`);
      o.out(`${id}.${path} reads back ${show(p)}${p.units ? ` ${p.units}` : ''}`);
    }
  } finally {
    await client.close();
  }
}
