import type { z } from 'zod';
import { ValidationError } from '../errors.js';

/** Parse `value` with `schema`; on failure throw a ValidationError listing every issue by path. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(
    what,
    r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}
