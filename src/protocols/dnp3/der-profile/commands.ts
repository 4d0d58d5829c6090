/**
 * Controls as the DER profile sends them, independent of the DNP3 stack that carries them: analog
 * output values (g41) and CROBs (g12v1), and the command status an outstation answers with.
 */
import type { AoRole, BoRole } from './point-map.js';

/** DNP3 command status codes (the status octet of g12 / g41 objects). */
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
  NON_PARTICIPATING: 126,
  UNDEFINED: 127,
} as const;
export type CommandStatus = (typeof CommandStatus)[keyof typeof CommandStatus];

/** CROB operation types (control code bits 0-3). */
export type CrobOp = 'PULSE_ON' | 'PULSE_OFF' | 'LATCH_ON' | 'LATCH_OFF';
/** CROB trip/close field (control code bits 6-7). */
export type TripClose = 'TRIP' | 'CLOSE';

/** How the master sends a step: DIRECT_OPERATE, or SELECT then OPERATE. */
export type StepMode = 'direct' | 'select-operate';

/** One control the master sends, in the order a recipe needs them. `value` is raw (scaled). */
export type DnpCommandStep =
  | { readonly type: 'analog'; readonly role: AoRole; readonly index: number; readonly value: number; readonly mode: StepMode }
  | { readonly type: 'crob'; readonly role: BoRole; readonly index: number; readonly op: CrobOp; readonly tripClose?: TripClose | undefined; readonly mode: StepMode };

/** How an outstation receives a control: SELECT (validate only), OPERATE after a select, or DIRECT_OPERATE. */
export type ControlMode = 'select' | 'operate' | 'direct';

/** What the outstation answers, with the reason behind a non-zero status for its log. */
export interface CommandResult {
  readonly status: CommandStatus;
  readonly reason: string | null;
}
