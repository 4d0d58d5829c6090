import { describe, expect, it } from 'vitest';
import { DEFAULT_STORE_URL, parseStoreUrl, StoreUrlError } from '../../src/store/url.js';

describe('store URLs', () => {
  it('reads SQLite paths and PostgreSQL URLs', () => {
    expect(parseStoreUrl(DEFAULT_STORE_URL)).toEqual({ kind: 'sqlite', path: 'data/derms.db' });
    expect(parseStoreUrl('sqlite:/var/lib/derms/derms.db')).toEqual({ kind: 'sqlite', path: '/var/lib/derms/derms.db' });
    expect(parseStoreUrl('sqlite:///var/lib/derms.db')).toEqual({ kind: 'sqlite', path: '/var/lib/derms.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('postgres://derms:pw@db.example:5432/derms?sslmode=require')).toEqual({ kind: 'postgres', url: 'postgres://derms:pw@db.example:5432/derms?sslmode=require' });
    expect(parseStoreUrl(' postgresql://derms@127.0.0.1/derms ')).toEqual({ kind: 'postgres', url: 'postgresql://derms@127.0.0.1/derms' });
  });

  it('refuses what is not a store, with a typed error that never shows a password', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['sqlite:', /no file path/],
      ['mysql://root:hunter2@db/derms', /unsupported store mysql:/],
      ['data/derms.db', /unsupported store "data\/derms.db"/],
      ['postgres:///derms', /has no host/],
      ['postgres://derms:hunter2@/derms', /not a valid URL/],
      ['postgres://derms:hunter2@db:99999/derms', /not a valid URL/],
      ['postgres://derms:hunter2@db/a/b', /database name must not contain/],
    ];
    for (const [url, message] of cases) {
      let err: unknown;
      try {
        parseStoreUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(StoreUrlError);
      const e = err as StoreUrlError;
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('hunter2');
      expect(e.issues[0]!.path).toBe('store');
    }
  });
});
