import { DermsError } from '../../core/errors.js';

/** Where a DNP3 outstation is reached over TCP, and the link addresses of the association. */
export interface Dnp3Target {
  readonly host: string;
  readonly port: number;
  /** The outstation's link address. */
  readonly outstation: number;
  /** The master's (our) link address. */
  readonly master: number;
}

export const DNP3_DEFAULT_PORT = 20000;
/** Link addresses 0xFFF0..0xFFFF are reserved (broadcast and special uses). */
const MAX_LINK_ADDRESS = 0xffef;
const EXAMPLE = 'dnp3://host:port?outstation=N&master=M';

/**
 * Parse `dnp3://host[:port]?outstation=N&master=M` (the URLs `derms scan` takes and `derms sim
 * serve` lists). Port defaults to 20000, the outstation to 10 and the master to 1, as in the stack.
 */
export function parseDnp3Url(text: string): Dnp3Target {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new DermsError('INVALID_INPUT', `not a URL: ${JSON.stringify(text)} (expected ${EXAMPLE})`);
  }
  if (u.protocol !== 'dnp3:') throw new DermsError('INVALID_INPUT', `${text}: unsupported scheme ${u.protocol} (expected ${EXAMPLE})`);
  if (!u.hostname) throw new DermsError('INVALID_INPUT', `${text}: no host (expected ${EXAMPLE})`);
  if (u.pathname !== '' && u.pathname !== '/') throw new DermsError('INVALID_INPUT', `${text}: a DNP3 URL has no path (expected ${EXAMPLE})`);
  for (const key of u.searchParams.keys()) {
    if (key !== 'outstation' && key !== 'master') throw new DermsError('INVALID_INPUT', `${text}: unknown parameter ${JSON.stringify(key)} (outstation, master)`);
  }
  const outstation = address(u, text, 'outstation', 10);
  const master = address(u, text, 'master', 1);
  if (outstation === master) throw new DermsError('INVALID_INPUT', `${text}: outstation and master need different link addresses (both ${master})`);
  const port = u.port === '' ? DNP3_DEFAULT_PORT : Number(u.port);
  if (port === 0) throw new DermsError('INVALID_INPUT', `${text}: port 0 cannot be connected to`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, outstation, master };
}

export function formatDnp3Url(t: Dnp3Target): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `dnp3://${host}:${t.port}?outstation=${t.outstation}&master=${t.master}`;
}

function address(u: URL, text: string, name: string, dflt: number): number {
  const all = u.searchParams.getAll(name);
  if (all.length > 1) throw new DermsError('INVALID_INPUT', `${text}: ${name} is given ${all.length} times`);
  const raw = all[0];
  if (raw === undefined) return dflt;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n > MAX_LINK_ADDRESS) throw new DermsError('INVALID_INPUT', `${text}: ${name} must be a link address from 0 to ${MAX_LINK_ADDRESS}, got ${JSON.stringify(raw)}`);
  return n;
}
