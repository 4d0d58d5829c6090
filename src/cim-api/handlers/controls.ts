import { ReplyCode, fault, type IdRef } from '../codes.js';
import { EndDeviceCodes } from '../enums.js';
import { endDeviceControlsSchema, parseProfile, type ControlInput } from '../schema.js';
import { attempt, payloadDoc, refId, resolveDers, resolveGroup, tooMany, type HandlerContext, type HandlerResult, type Outcome } from './context.js';

/**
 * create EndDeviceControls: connect (2.31.0.18) or disconnect (2.31.0.23) groups through the
 * tracker, or single devices through their adapter. Each device's acknowledgment becomes a
 * `created EndDeviceEvents` (2.31.0.42 / 2.31.0.68) carrying the request's CorrelationID. The
 * reply has one outcome per target, so a missing group or device is one Error.
 */
export function createEndDeviceControls(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(endDeviceControlsSchema, payloadDoc(ctx, 'EndDeviceControls'), 'Payload/EndDeviceControls');
  tooMany(ctx, doc.EndDeviceControl.length, 'EndDeviceControl');
  return { outcomes: doc.EndDeviceControl.flatMap((c) => controlOne(ctx, c)) };
}

function controlOne(ctx: HandlerContext, c: ControlInput): Outcome[] {
  const mRID = c.mRID ?? ctx.newId();
  const controlId: IdRef = { value: mRID, kind: 'uuid', objectType: 'EndDeviceControl' };
  const code = c.EndDeviceControlType['@ref'];
  if (code !== EndDeviceCodes.connect && code !== EndDeviceCodes.disconnect) {
    return [{ ok: false, error: { code: ReplyCode.businessRule, level: 'FATAL', reason: `EndDeviceControlType ${code} is not supported (${EndDeviceCodes.connect} connect, ${EndDeviceCodes.disconnect} disconnect)`, id: controlId } }];
  }
  const connected = code === EndDeviceCodes.connect;
  const targets = c.EndDeviceGroups.length + c.EndDevices.length;
  if (targets === 0) return [{ ok: false, error: { code: ReplyCode.mandatoryMissing, level: 'FATAL', reason: 'the EndDeviceControl names no EndDeviceGroups and no EndDevices', id: controlId } }];
  const outcomes: Outcome[] = [];
  for (const ref of c.EndDeviceGroups) {
    outcomes.push(
      attempt(ctx, refId(ref, 'DERGroup'), () => {
        const g = resolveGroup(ctx, ref);
        const dispatchId = targets > 1 ? `${mRID}/${g.mRID}` : mRID;
        ctx.controls.groupControl(dispatchId, ctx.correlationId);
        ctx.system.tracker.submit({ mRID: dispatchId, groupId: g.mRID, control: { kind: 'connect', connected } });
        return { ok: true, id: controlId };
      }),
    );
  }
  for (const ref of c.EndDevices) {
    outcomes.push(
      attempt(ctx, refId(ref, 'EndDevice'), () => {
        const der = resolveDers(ctx, [ref])[0]!;
        const adapter = ctx.system.adapters.adapter(der.mRID);
        if (!adapter) throw fault(ReplyCode.attemptedFailed, `EndDevice ${der.mRID} has no connection to the DERMS`, { id: refId(ref, 'EndDevice') });
        const correlationId = ctx.correlationId;
        void adapter.apply({ derId: der.mRID, kind: 'connect', connected }).then(
          (o) => ctx.controls.deviceControlled(der.mRID, connected, correlationId, o),
          (e: unknown) => ctx.controls.deviceControlled(der.mRID, connected, correlationId, { status: 'rejected', reason: `adapter failed: ${e instanceof Error ? e.message : String(e)}` }),
        );
        return { ok: true, id: controlId };
      }),
    );
  }
  return outcomes;
}
