import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SunSpecClient } from '../adapters/sunspec/client.js';
import { discoverDnp3 } from '../adapters/dnp3/read-outstation.js';
import { openModbus } from '../adapters/sunspec/open.js';
import { capabilitiesFrom } from '../adapters/sunspec/semantics.js';
import { DermsError } from '../core/errors.js';
import { derKinds, mrid, nameplateSchema, type DerInput } from '../core/model/der.js';
import { parseDnp3Url } from '../protocols/dnp3/url.js';
import { parseModbusUrl } from '../protocols/modbus-url.js';
import type { DeviceEntry } from './devices.js';
import { endpointOf } from './devices.js';

/**
 * A lab's devices file (`derms start --no-sim --devices FILE`): JSON or YAML, a list of devices by
 * URL. `derms sim serve --endpoints` writes a file of this shape too. Name, kind and nameplate are
 * optional for SunSpec devices (models 1, 120/702, 713) and DNP3 outstations (DER profile
 * nameplate points); OpenFMB devices need them in the file.
 */
const entrySchema = z
  .object({
    mRID: mrid,
    url: z.string().min(1),
    protocol: z.string().optional(),
    name: z.string().min(1).optional(),
    kind: z.enum(derKinds).optional(),
    nameplate: nameplateSchema.optional(),
  })
  .loose();
const listSchema = z.array(entrySchema);
const wrappedSchema = z.object({ devices: listSchema }).transform((f) => f.devices);

function protocolOfUrl(url: string): DeviceEntry['protocol'] {
  const scheme = url.slice(0, url.indexOf(':') + 1);
  if (scheme === 'modbus-tcp:' || scheme === 'modbus-rtu:') return 'sunspec';
  if (scheme === 'dnp3:') return 'dnp3';
  if (scheme === 'openfmb:') return 'openfmb';
  throw new DermsError('INVALID_INPUT', `${url}: unsupported scheme (modbus-tcp:, modbus-rtu:, dnp3:, openfmb:)`);
}

export async function loadLabDevices(file: string, o: { timeoutMs: number }): Promise<DeviceEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DermsError('NOT_FOUND', `devices file ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new DermsError('INVALID_INPUT', `devices file ${file}: ${(e as Error).message}`);
  }
  // A bare list, or { devices: [...] }; choosing first gives errors that name the entry and field.
  const r = Array.isArray(raw) ? listSchema.safeParse(raw) : wrappedSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new DermsError('INVALID_INPUT', `devices file ${file}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const seen = new Set<string>();
  const out: DeviceEntry[] = [];
  for (const e of r.data) {
    if (seen.has(e.mRID)) throw new DermsError('INVALID_INPUT', `devices file ${file}: mRID ${e.mRID} appears twice`);
    seen.add(e.mRID);
    const protocol = protocolOfUrl(e.url);
    const found = e.nameplate && e.kind ? null : await discover(protocol, e.url, o.timeoutMs);
    const nameplate = e.nameplate ?? found?.nameplate;
    if (!nameplate) throw new DermsError('INVALID_INPUT', `devices file ${file}: ${e.mRID}: give a nameplate (it is discovered only for SunSpec and DNP3 devices)`);
    const der: DerInput = { mRID: e.mRID, name: e.name ?? found?.name ?? e.mRID, kind: e.kind ?? found?.kind ?? 'pv', nameplate, endpoint: endpointOf(protocol, e.url, e.mRID) };
    out.push({ der, protocol, url: e.url });
  }
  return out;
}

/** Name, kind and nameplate from a SunSpec device's models or a DNP3 outstation's DER profile points. */
async function discover(protocol: DeviceEntry['protocol'], url: string, timeoutMs: number): Promise<{ name: string; kind: DerInput['kind']; nameplate: DerInput['nameplate'] } | null> {
  if (protocol === 'dnp3') {
    const found = await discoverDnp3(parseDnp3Url(url), timeoutMs);
    // The profile cannot tell a hybrid from a battery; give `kind` in the file for one.
    return { name: url, kind: found.storage ? 'battery' : 'pv', nameplate: found.nameplate };
  }
  if (protocol !== 'sunspec') return null;
  const transport = await openModbus(parseModbusUrl(url), timeoutMs);
  try {
    const client = await SunSpecClient.discover(transport);
    const values = await client.readValues([...client.models.keys()]);
    const caps = capabilitiesFrom(values);
    const common = values.get(1) ?? {};
    const name = [common.Mn, common.Md, common.SN].filter((x) => typeof x === 'string' && x.length > 0).join(' ') || url;
    const kind = caps.storage ? (caps.pv ? 'hybrid' : 'battery') : 'pv';
    return { name, kind, nameplate: { ...caps.nameplate } };
  } finally {
    await transport.close();
  }
}
