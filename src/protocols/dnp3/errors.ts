import { DermsError, type DermsErrorCode } from '../../core/errors.js';

/**
 * Why a DNP3 operation failed. The stable `code` (DermsErrorCode) says how callers map it; the
 * `reason` says what exactly went wrong on the DNP3 level.
 */
export type Dnp3ErrorReason =
  /** Bytes that do not form a valid frame, segment, APDU or object (too short, bad qualifier...). */
  | 'MALFORMED'
  /** An object group/variation this stack does not know: its size is unknown, parsing stops. */
  | 'UNKNOWN_OBJECT'
  /** No (complete) answer within the response timeout, retries included. */
  | 'TIMEOUT'
  /** The channel is not connected now. */
  | 'OFFLINE'
  /** The master or outstation was closed. */
  | 'CLOSED'
  /** The outstation answered with IIN2 error bits (function not supported, object unknown, parameter error). */
  | 'REJECTED'
  /** The answer does not match the request (command echo differs). */
  | 'MISMATCH'
  /** A configuration value out of range. */
  | 'CONFIG';

const CODES: Record<Dnp3ErrorReason, DermsErrorCode> = {
  MALFORMED: 'INVALID_INPUT',
  UNKNOWN_OBJECT: 'UNSUPPORTED',
  TIMEOUT: 'TIMEOUT',
  OFFLINE: 'UNAVAILABLE',
  CLOSED: 'UNAVAILABLE',
  REJECTED: 'UNSUPPORTED',
  MISMATCH: 'CONFLICT',
  CONFIG: 'INVALID_INPUT',
};

export class Dnp3Error extends DermsError {
  constructor(
    readonly reason: Dnp3ErrorReason,
    message: string,
  ) {
    super(CODES[reason], message);
  }
}

export function isDnp3Error(e: unknown, reason?: Dnp3ErrorReason): e is Dnp3Error {
  return e instanceof Dnp3Error && (reason === undefined || e.reason === reason);
}
