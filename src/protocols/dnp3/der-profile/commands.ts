/**
 * Controls as the DER profile sends them: analog output values (g41) and CROBs (g12v1), named
 * rather than encoded, and the command status an outstation answers with (the one thing taken
 * from the stack, so both agree on the codes).
 */
import type { CommandStatus } from '../app/codes.js';
import type { AoRole, BoRole } from './point-map.js';

/** DNP3 command status codes, as the stack defines them (the status octet of g12 / g41 objects). */
export { CommandStatus } from '../app/codes.js';

/** CROB operation types (control code bits 0-3). */
export type CrobOp = 'PULSE_ON' | 'PULSE_OFF' | 'LATCH_ON' | 'LATCH_OFF';
/** CROB trip/close field (control code bits 6-7). */
export type CrobTripClose = 'TRIP' | 'CLOSE';

/** How the master sends a step: DIRECT_OPERATE, or SELECT then OPERATE. */
export type StepMode = 'direct' | 'select-operate';

/** One control the master sends, in the order a recipe needs them. `value` is raw (scaled). */
export type DnpCommandStep =
  | { readonly type: 'analog'; readonly role: AoRole; readonly index: number; readonly value: number; readonly mode: StepMode }
  | { readonly type: 'crob'; readonly role: BoRole; readonly index: number; readonly op: CrobOp; readonly tripClose?: CrobTripClose | undefined; readonly mode: StepMode };

/** How an outstation receives a control: SELECT (validate only), OPERATE after a select, or DIRECT_OPERATE. */
export type ControlMode = 'select' | 'operate' | 'direct';

/** What the outstation answers, with the reason behind a non-zero status for its log. */
export interface CommandOutcome {
  readonly status: CommandStatus;
  readonly reason: string | null;
}
