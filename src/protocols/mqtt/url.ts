import { DermsError } from '../../core/errors.js';

/** TLS settings of an `mqtts://` broker: PEM files to read, and whether to check the server. */
export interface BrokerTls {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** false accepts any server certificate (test brokers with self-signed certificates). */
  readonly rejectUnauthorized: boolean;
}

/** An MQTT broker to connect to. */
export interface BrokerTarget {
  readonly tls: BrokerTls | null;
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** MQTT 3.1.1 (4, the default) or 5. */
  readonly protocolVersion: 4 | 5;
}

/** Query parameters a broker URL may carry (paths are files on this machine). */
const QUERY = ['ca', 'cert', 'key', 'insecure', 'version'] as const;

/**
 * Parse `mqtt://[user[:password]@]host[:port]` or `mqtts://...` (TLS), with optional query
 * parameters `ca=`, `cert=`, `key=` (PEM file paths), `insecure=true` (skip the server
 * certificate check) and `version=5` (MQTT 5; 3.1.1 by default). Ports default to 1883 / 8883.
 */
export function parseBrokerUrl(text: string): BrokerTarget {
  const u = parseUrl(text, 'mqtt://host:1883 or mqtts://host:8883');
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') throw new DermsError('INVALID_INPUT', `${redact(text)}: unsupported scheme ${u.protocol} (mqtt: or mqtts:)`);
  if (u.pathname !== '' && u.pathname !== '/') throw new DermsError('INVALID_INPUT', `${redact(text)}: a broker URL has no path`);
  return brokerFrom(u, u.protocol === 'mqtts:', text, QUERY);
}

/** The broker URL without credentials or TLS file parameters (for logs and endpoint lists). */
export function formatBrokerUrl(t: Pick<BrokerTarget, 'tls' | 'host' | 'port'>): string {
  return `${t.tls ? 'mqtts' : 'mqtt'}://${hostText(t.host)}:${t.port}`;
}

export function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `new URL` with our error. */
export function parseUrl(text: string, expected: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new DermsError('INVALID_INPUT', `not a URL: ${JSON.stringify(redact(text))} (expected ${expected})`);
  }
}

/**
 * The broker part of a parsed URL (host, port, credentials, TLS and version parameters).
 * `allowed` lists the query parameters the caller's URL may carry; any other is an error.
 */
export function brokerFrom(u: URL, tls: boolean, text: string, allowed: readonly string[]): BrokerTarget {
  for (const k of u.searchParams.keys()) {
    if (!allowed.includes(k)) throw new DermsError('INVALID_INPUT', `${redact(text)}: unknown parameter ${JSON.stringify(k)} (known: ${allowed.join(', ')})`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new DermsError('INVALID_INPUT', `${redact(text)}: no host`);
  const port = u.port === '' ? (tls ? 8883 : 1883) : Number(u.port);
  const version = u.searchParams.get('version');
  if (version !== null && version !== '5' && version !== '4' && version !== '3.1.1') {
    throw new DermsError('INVALID_INPUT', `${redact(text)}: version must be 3.1.1 (or 4) or 5`);
  }
  const file = (k: string): string | undefined => u.searchParams.get(k) ?? undefined;
  const insecure = u.searchParams.get('insecure');
  if (insecure !== null && insecure !== 'true' && insecure !== 'false') throw new DermsError('INVALID_INPUT', `${redact(text)}: insecure must be true or false`);
  if (!tls && (file('ca') || file('cert') || file('key') || insecure !== null)) {
    throw new DermsError('INVALID_INPUT', `${redact(text)}: ca, cert, key and insecure apply to TLS brokers only`);
  }
  if ((file('cert') === undefined) !== (file('key') === undefined)) throw new DermsError('INVALID_INPUT', `${redact(text)}: give cert and key together`);
  return {
    tls: tls ? { caFile: file('ca'), certFile: file('cert'), keyFile: file('key'), rejectUnauthorized: insecure !== 'true' } : null,
    host,
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    protocolVersion: version === '5' ? 5 : 4,
  };
}

/** The URL with any password replaced, for messages. */
export function redact(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
