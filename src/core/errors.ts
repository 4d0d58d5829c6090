/**
 * Typed errors with stable codes. The CIM facade maps codes to IEC 61968-100 reply codes and the
 * CLI maps them to exit codes, so a code, once published, never changes meaning.
 */
export type DermsErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'INFEASIBLE'
  | 'TIMEOUT'
  | 'UNAVAILABLE';

export interface ErrorIssue {
  /** Dotted path of the offending field, e.g. `nameplate.maxW`. Empty for the whole value. */
  readonly path: string;
  readonly message: string;
}

export class DermsError extends Error {
  override readonly name = 'DermsError';
  constructor(
    readonly code: DermsErrorCode,
    message: string,
    readonly issues: readonly ErrorIssue[] = [],
  ) {
    super(message);
  }
}

export class ValidationError extends DermsError {
  constructor(what: string, issues: readonly ErrorIssue[]) {
    const first = issues[0];
    const detail = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('INVALID_INPUT', `invalid ${what}: ${detail}${more}`, issues);
  }
}

export class NotFoundError extends DermsError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);
  }
}

export function isDermsError(e: unknown): e is DermsError {
  return e instanceof DermsError;
}

/** HTTP status for each error code, for every JSON API at the edge: bad input 400, unknown 404, clashes 409. */
export const httpStatusOf: Readonly<Record<DermsErrorCode, number>> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  UNSUPPORTED: 422,
  INFEASIBLE: 422,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
};
