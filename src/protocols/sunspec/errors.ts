import { DermsError, type DermsErrorCode } from '../../core/errors.js';

/**
 * Why a SunSpec operation failed. The stable `code` (DermsErrorCode) says how callers map it; the
 * `reason` says what exactly went wrong on the SunSpec level.
 */
export type SunSpecErrorReason =
  /** No "SunS" marker at any base address. */
  | 'NO_SUNS'
  /** A block's ID register is not the id of the definition used for it. */
  | 'MODEL_ID'
  /** A model's length L does not match its definition (or its repeating groups). */
  | 'MODEL_LENGTH'
  /** Fewer registers than the model (or a read) needs. */
  | 'TRUNCATED'
  /** The model chain runs in a loop, past register 65535, or has absurdly many models. */
  | 'CHAIN'
  /** A value does not fit the point's type. */
  | 'RANGE'
  /** A value of the wrong kind (text for a number, unknown symbol, missing scale factor). */
  | 'BAD_VALUE'
  /** A point path that the model (with these counts) does not have. */
  | 'UNKNOWN_POINT'
  /** A repeating group's count is missing or contradicts another. */
  | 'COUNT'
  /** A model id that no definition describes. */
  | 'UNKNOWN_MODEL';

const CODES: Record<SunSpecErrorReason, DermsErrorCode> = {
  NO_SUNS: 'NOT_FOUND',
  MODEL_ID: 'INVALID_INPUT',
  MODEL_LENGTH: 'INVALID_INPUT',
  TRUNCATED: 'INVALID_INPUT',
  CHAIN: 'INVALID_INPUT',
  RANGE: 'INVALID_INPUT',
  BAD_VALUE: 'INVALID_INPUT',
  UNKNOWN_POINT: 'NOT_FOUND',
  COUNT: 'INVALID_INPUT',
  UNKNOWN_MODEL: 'NOT_FOUND',
};

export class SunSpecError extends DermsError {
  constructor(
    readonly reason: SunSpecErrorReason,
    message: string,
  ) {
    super(CODES[reason], message);
  }
}

export function isSunSpecError(e: unknown, reason?: SunSpecErrorReason): e is SunSpecError {
  return e instanceof SunSpecError && (reason === undefined || e.reason === reason);
}
