/** Application function codes (IEEE 1815 table 4-1, the ones a master/outstation pair uses). */
export const FunctionCode = {
  CONFIRM: 0x00,
  READ: 0x01,
  WRITE: 0x02,
  SELECT: 0x03,
  OPERATE: 0x04,
  DIRECT_OPERATE: 0x05,
  DIRECT_OPERATE_NR: 0x06,
  IMMED_FREEZE: 0x07,
  COLD_RESTART: 0x0d,
  WARM_RESTART: 0x0e,
  ENABLE_UNSOLICITED: 0x14,
  DISABLE_UNSOLICITED: 0x15,
  ASSIGN_CLASS: 0x16,
  DELAY_MEASURE: 0x17,
  RECORD_CURRENT_TIME: 0x18,
  RESPONSE: 0x81,
  UNSOLICITED_RESPONSE: 0x82,
} as const;
export type FunctionCode = (typeof FunctionCode)[keyof typeof FunctionCode];

export function isResponseFunction(fc: number): boolean {
  return fc === FunctionCode.RESPONSE || fc === FunctionCode.UNSOLICITED_RESPONSE || fc === 0x83;
}

/** IIN1 bits (first internal-indications octet). */
export const IIN1 = {
  BROADCAST: 0x01,
  CLASS1_EVENTS: 0x02,
  CLASS2_EVENTS: 0x04,
  CLASS3_EVENTS: 0x08,
  NEED_TIME: 0x10,
  LOCAL_CONTROL: 0x20,
  DEVICE_TROUBLE: 0x40,
  DEVICE_RESTART: 0x80,
} as const;

/** IIN2 bits (second internal-indications octet). */
export const IIN2 = {
  FUNC_NOT_SUPPORTED: 0x01,
  OBJECT_UNKNOWN: 0x02,
  PARAM_ERROR: 0x04,
  EVENT_BUFFER_OVERFLOW: 0x08,
  ALREADY_EXECUTING: 0x10,
  CONFIG_CORRUPT: 0x20,
} as const;

/** Internal indications of a response. */
export interface Iin {
  readonly iin1: number;
  readonly iin2: number;
}

export const NO_IIN: Iin = { iin1: 0, iin2: 0 };

/** IIN2 bits that say the outstation refused (part of) a request. */
export const IIN2_REQUEST_ERRORS = IIN2.FUNC_NOT_SUPPORTED | IIN2.OBJECT_UNKNOWN | IIN2.PARAM_ERROR;

const IIN_NAMES: readonly (readonly [1 | 2, number, string])[] = [
  ...Object.entries(IIN1).map(([k, v]) => [1, v, k] as const),
  ...Object.entries(IIN2).map(([k, v]) => [2, v, k] as const),
];

/** Names of the set bits, e.g. ['DEVICE_RESTART', 'NEED_TIME']. */
export function describeIin(iin: Iin): string[] {
  return IIN_NAMES.filter(([o, bit]) => ((o === 1 ? iin.iin1 : iin.iin2) & bit) !== 0).map(([, , name]) => name);
}

/** Control relay output block / analog output command status codes (IEEE 1815 table 11-10). */
export const CommandStatus = {
  SUCCESS: 0,
  TIMEOUT: 1,
  NO_SELECT: 2,
  FORMAT_ERROR: 3,
  NOT_SUPPORTED: 4,
  ALREADY_ACTIVE: 5,
  HARDWARE_ERROR: 6,
  LOCAL: 7,
  TOO_MANY_OBJS: 8,
  NOT_AUTHORIZED: 9,
  AUTOMATION_INHIBIT: 10,
  PROCESSING_LIMITED: 11,
  OUT_OF_RANGE: 12,
  DOWNSTREAM_LOCAL: 13,
  ALREADY_COMPLETE: 14,
  BLOCKED: 15,
  CANCELLED: 16,
  BLOCKED_OTHER_MASTER: 17,
  DOWNSTREAM_FAIL: 18,
  NON_PARTICIPATING: 126,
  UNDEFINED: 127,
} as const;
export type CommandStatus = (typeof CommandStatus)[keyof typeof CommandStatus];

export function commandStatusName(s: number): string {
  return Object.entries(CommandStatus).find(([, v]) => v === s)?.[0] ?? `STATUS_${s}`;
}

/** CROB operation type (control code bits 0-3). */
export const OpType = { NUL: 0, PULSE_ON: 1, PULSE_OFF: 2, LATCH_ON: 3, LATCH_OFF: 4 } as const;
/** CROB trip/close code (control code bits 6-7). */
export const TripClose = { NUL: 0, CLOSE: 1, TRIP: 2 } as const;

/** Quality flags of measurement objects (bit 7 of binaries is the state, not a flag). */
export const Flags = {
  ONLINE: 0x01,
  RESTART: 0x02,
  COMM_LOST: 0x04,
  REMOTE_FORCED: 0x08,
  LOCAL_FORCED: 0x10,
  /** Binary: chatter filter; counter: rollover; analog: over-range. */
  OVER_RANGE: 0x20,
  /** Analog: reference error; counter: discontinuity. */
  REFERENCE_ERR: 0x40,
} as const;
