import { z } from 'zod';
import type { DispatchRecord } from '../../core/dispatch-events.js';
import { DermsError, ValidationError } from '../../core/errors.js';
import type { DerGroup } from '../../core/model/group.js';
import { mrid } from '../../core/model/der.js';
import { parseWith } from '../../core/model/validate.js';
import type { DashboardCore } from './deps.js';

/**
 * The operator's commands, each handed to the core as it is: the registry and the tracker
 * validate with their own schemas and throw DermsError, so the dashboard accepts exactly what
 * the API accepts and a refused command changes nothing. Only the route's own wrapper fields
 * (the curve under `curve`, the flag under `connected`) are checked here.
 */
export class DashboardActions {
  private seq = 0;

  constructor(private readonly core: DashboardCore) {}

  createGroup(body: unknown): DerGroup {
    return this.core.registry.createGroup(object(body, 'DER group'));
  }

  /** Any dispatch the tracker takes, for the group in the path; an id is made up when none is given. */
  dispatch(groupId: string, body: unknown): DispatchRecord {
    const b = object(body, 'dispatch');
    const given = b.mRID === undefined || b.mRID === '' ? undefined : b.mRID;
    const kind = isRecord(b.control) && typeof b.control.kind === 'string' ? b.control.kind : 'dispatch';
    return this.core.tracker.submit({ ...b, groupId, mRID: given ?? this.newId(kind) });
  }

  voltVar(groupId: string, body: unknown): DispatchRecord {
    const b = parseWith(voltVarBody, object(body, 'volt-var request'), 'volt-var request');
    return this.submitControl(groupId, b.mRID, { kind: 'voltVar', curve: b.curve }, 'volt-var request');
  }

  connect(groupId: string, body: unknown): DispatchRecord {
    const b = parseWith(connectBody, object(body, 'connect request'), 'connect request');
    return this.submitControl(groupId, b.mRID, { kind: 'connect', connected: b.connected }, 'connect request');
  }

  cancel(dispatchId: string, body: unknown): DispatchRecord {
    const b = parseWith(cancelBody, body ?? {}, 'cancel request');
    return this.core.tracker.cancel(dispatchId, b.reason ?? 'cancelled by the operator');
  }

  /** Submit one control; its issues are reported by the route's field names (`curve.1.v`, not `control.curve.1.v`). */
  private submitControl(groupId: string, id: string | undefined, control: { kind: string } & Record<string, unknown>, what: string): DispatchRecord {
    try {
      return this.core.tracker.submit({ mRID: id ?? this.newId(control.kind), groupId, control });
    } catch (e) {
      if (e instanceof DermsError && e.code === 'INVALID_INPUT' && e.issues.length > 0) {
        throw new ValidationError(what, e.issues.map((i) => ({ path: i.path.replace(/^control\.?/, ''), message: i.message })));
      }
      throw e;
    }
  }

  private newId(kind: string): string {
    let id: string;
    do id = `ui-${++this.seq}-${kind}`.slice(0, 128);
    while (this.core.tracker.record(id) !== undefined);
    return id;
  }
}

const voltVarBody = z.object({ mRID: mrid.optional(), curve: z.unknown() }).strict();
const connectBody = z.object({ mRID: mrid.optional(), connected: z.unknown() }).strict();
const cancelBody = z.object({ reason: z.string().max(1024).optional() }).strict();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (!isRecord(body)) throw new ValidationError(what, [{ path: '', message: 'the request body must be a JSON object' }]);
  return body;
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }> };
}

export function errorBody(e: DermsError): ErrorBody {
  return { error: { code: e.code, message: e.message, issues: e.issues } };
}
