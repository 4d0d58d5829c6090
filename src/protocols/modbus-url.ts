import { DermsError } from '../core/errors.js';
import { hostText } from './mqtt/url.js';

export type ModbusTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly unit: number }
  | { readonly kind: 'rtu'; readonly path: string; readonly baudRate: number; readonly parity: 'none' | 'even' | 'odd'; readonly unit: number };

/**
 * Parse `modbus-tcp://host:port?unit=N` or `modbus-rtu:///dev/ttyX?baud=9600&parity=none&unit=N`
 * (the URLs `derms scan` takes and `derms sim serve` lists).
 */
export function parseModbusUrl(text: string): ModbusTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new DermsError('INVALID_INPUT', `not a URL: ${JSON.stringify(text)} (expected modbus-tcp://host:port?unit=N or modbus-rtu:///dev/ttyX?baud=9600&unit=N)`);
  }
  const unit = intParam(u, 'unit', 1, 0, 255);
  if (u.protocol === 'modbus-tcp:') {
    if (!u.hostname) throw new DermsError('INVALID_INPUT', `${text}: no host`);
    const port = u.port === '' ? 502 : Number(u.port);
    return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port, unit };
  }
  if (u.protocol === 'modbus-rtu:') {
    const path = decodeURIComponent(u.pathname);
    if (!path || path === '/') throw new DermsError('INVALID_INPUT', `${text}: no serial device path`);
    const parity = u.searchParams.get('parity') ?? 'none';
    if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw new DermsError('INVALID_INPUT', `${text}: parity must be none, even or odd`);
    if (unit < 1 || unit > 247) throw new DermsError('INVALID_INPUT', `${text}: an RTU unit id is 1 to 247`);
    return { kind: 'rtu', path, baudRate: intParam(u, 'baud', 9600, 300, 4_000_000), parity, unit };
  }
  throw new DermsError('INVALID_INPUT', `${text}: unsupported scheme ${u.protocol} (modbus-tcp: or modbus-rtu:)`);
}

export function formatModbusUrl(t: ModbusTarget): string {
  return t.kind === 'tcp' ? `${modbusTcpAddress(t.host, t.port)}?unit=${t.unit}` : `modbus-rtu://${t.path}?baud=${t.baudRate}&parity=${t.parity}&unit=${t.unit}`;
}

/** `modbus-tcp://host:port`, the part of a TCP URL one connection serves (every unit behind it). */
export function modbusTcpAddress(host: string, port: number): string {
  return `modbus-tcp://${hostText(host)}:${port}`;
}

function intParam(u: URL, name: string, dflt: number, min: number, max: number): number {
  const raw = u.searchParams.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new DermsError('INVALID_INPUT', `${u.href}: ${name} must be an integer from ${min} to ${max}`);
  return n;
}
