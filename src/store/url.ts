import { DermsError } from '../core/errors.js';
import { redactUrl } from './postgres.js';
import { MEMORY } from './sqlite.js';

/** Where the store lives: `--store sqlite:PATH` (default `sqlite:data/derms.db`) or `--store postgres://...`. */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export const DEFAULT_STORE_URL = 'sqlite:data/derms.db';

export class StoreUrlError extends DermsError {
  constructor(message: string) {
    super('INVALID_INPUT', message, [{ path: 'store', message }]);
  }
}

/**
 * Parse a store URL. `sqlite:PATH` takes a relative or absolute file path (`sqlite:///abs` and
 * `sqlite://rel` are accepted too) or `sqlite::memory:`; `postgres://` and `postgresql://` take a
 * libpq-style URL with a host. Errors never echo a password.
 */
export function parseStoreUrl(text: string): StoreLocation {
  const s = text.trim();
  if (s === '') throw new StoreUrlError('store URL is empty; use sqlite:PATH or postgres://user@host/db');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    let path = s.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new StoreUrlError(`store URL ${JSON.stringify(s)} has no file path; use sqlite:data/derms.db`);
    if (path.includes('\0')) throw new StoreUrlError('store URL has a NUL character in its path');
    return { kind: 'sqlite', path: path === MEMORY ? MEMORY : path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new StoreUrlError(`store URL ${redactUrl(s)} is not a valid URL`);
    }
    if (!u.hostname) throw new StoreUrlError(`store URL ${redactUrl(s)} has no host; use postgres://user@host:5432/db`);
    if (u.port && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) throw new StoreUrlError(`store URL ${redactUrl(s)} has a bad port`);
    if (u.pathname.length > 1 && u.pathname.slice(1).includes('/')) throw new StoreUrlError(`store URL ${redactUrl(s)}: the database name must not contain '/'`);
    return { kind: 'postgres', url: s };
  }
  const shown = scheme ? `${scheme}:` : JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
  throw new StoreUrlError(`unsupported store ${shown}; use sqlite:PATH or postgres://user@host/db`);
}

/** A store location for logs: a PostgreSQL password is masked. */
export function redactStoreUrl(text: string): string {
  if (!/^postgres(ql)?:/i.test(text)) return text;
  try {
    const u = new URL(text);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unreadable URL)';
  }
}
