import { isDermsError, type DermsErrorCode } from '../core/errors.js';

/**
 * IEC 61968-100 reply codes the facade uses (category digit before the dot: 0 OK, 1 bad or
 * missing element, 2 invalid parameter, 3 too many, 4 aborted, 5 application error, 6 business
 * rule). docs/cim.md explains each choice where the standard leaves one.
 */
export const ReplyCode = {
  ok: '0.0',
  /** Simple acknowledgment: the answer to an asynchronous request. */
  ack: '0.3',
  missingHeader: '1.5',
  missingRequest: '1.6',
  missingPayload: '1.7',
  /** The request does not validate: malformed XML or JSON, wrong types, bad enumerations, limits. */
  invalidSchema: '1.8',
  invalidNoun: '2.5',
  invalidVerb: '2.9',
  /** An ID that names nothing: unknown group or DER (configurable, see CimServerOptions). */
  unknownObject: '2.15',
  tooMany: '3.1',
  tooManyPending: '3.2',
  timedOut: '4.1',
  attemptedFailed: '5.3',
  /** Data the request asks for that the DERMS cannot give (e.g. a parameter it does not forecast). */
  unavailable: '5.7',
  /** Application-mandatory data missing (optional in the schema, needed to act). */
  mandatoryMissing: '5.8',
  /** Not applied to keep an OperationSet transactional. */
  abortedForIntegrity: '5.9',
  notAttempted: '5.2',
  /** Refused by a business rule: duplicate, function not enabled, unsupported, conflict. */
  businessRule: '6.1',
} as const;

export type ErrorLevel = 'INFORM' | 'WARNING' | 'FATAL' | 'CATASTROPHIC';
export type IdKind = 'name' | 'uuid' | 'transaction' | 'other';

export interface IdRef {
  readonly value: string;
  readonly kind: IdKind;
  readonly objectType: string;
}

/** One `Reply/Error` (61968-100 ErrorType). */
export interface CimError {
  readonly code: string;
  readonly level: ErrorLevel;
  readonly reason: string;
  readonly details?: string | undefined;
  /** Where in the message, XPath-like: `Payload/DERGroups/EndDeviceGroup[2]/mRID`. */
  readonly xpath?: string | undefined;
  readonly id?: IdRef | undefined;
  readonly operationId?: number | undefined;
}

/**
 * A failure that ends the processing of a whole message (or of one object, when a handler
 * catches it per object). Thrown by the decoding and validation layers.
 */
export class CimFault extends Error {
  override readonly name = 'CimFault';
  readonly errors: readonly CimError[];
  constructor(errors: CimError | readonly CimError[]) {
    const list = Array.isArray(errors) ? (errors as readonly CimError[]) : [errors as CimError];
    super(list.map((e) => `${e.code} ${e.reason}${e.xpath ? ` at ${e.xpath}` : ''}`).join('; '));
    this.errors = list;
  }
}

export function fault(code: string, reason: string, more: Partial<Omit<CimError, 'code' | 'reason'>> = {}): CimFault {
  return new CimFault({ code, reason, level: more.level ?? 'FATAL', ...more });
}

const byDermsCode: Record<DermsErrorCode, string> = {
  INVALID_INPUT: ReplyCode.invalidSchema,
  NOT_FOUND: ReplyCode.unknownObject,
  ALREADY_EXISTS: ReplyCode.businessRule,
  CONFLICT: ReplyCode.businessRule,
  UNSUPPORTED: ReplyCode.businessRule,
  INFEASIBLE: ReplyCode.businessRule,
  TIMEOUT: ReplyCode.timedOut,
  UNAVAILABLE: ReplyCode.attemptedFailed,
};

/**
 * The Error for anything a core call threw while handling one object. `unknownObjectCode`
 * replaces 2.15 for NOT_FOUND when the deployment configures another code.
 */
export function errorFromException(e: unknown, id: IdRef | undefined, unknownObjectCode: string): CimError {
  if (e instanceof CimFault) {
    const first = e.errors[0]!;
    return { ...first, id: first.id ?? id };
  }
  if (isDermsError(e)) {
    const code = e.code === 'NOT_FOUND' ? unknownObjectCode : byDermsCode[e.code];
    return { code, level: 'FATAL', reason: e.message, id };
  }
  return { code: ReplyCode.attemptedFailed, level: 'CATASTROPHIC', reason: `internal error: ${e instanceof Error ? e.message : String(e)}`, id };
}
