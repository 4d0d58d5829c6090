import { z } from 'zod';
import { voltVarCurveSchema, voltWattCurveSchema, type Control } from '../../core/model/control.js';
import { derFunctionNames, type DerFunctions, type DerGroup } from '../../core/model/group.js';
import { Registry, type GroupChange } from '../../core/registry.js';
import { ReplyCode, fault } from '../codes.js';
import { derGroupsEl, groupEl } from '../payloads.js';
import { derGroupsCreateSchema, derGroupsSchema, groupQueriesSchema, operationSetSchema, parseProfile, refSchema, type CurveInput, type GroupInput } from '../schema.js';
import { attempt, groupId, payloadDoc, refId, requestDoc, resolveDers, resolveGroup, tooMany, type HandlerContext, type HandlerResult, type Outcome } from './context.js';

/**
 * DERGroups: create, change (add members, functions, description, names, curves), delete, get
 * (with capability discovery), and the OperationSet that removes members element by element.
 */

const deleteSchema = z.object({ EndDeviceGroup: z.preprocess((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]), z.array(refSchema).min(1, 'mandatory element missing')) }).loose();

export function createGroups(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(derGroupsCreateSchema, payloadDoc(ctx, 'DERGroups'), 'Payload/DERGroups');
  tooMany(ctx, doc.EndDeviceGroup.length, 'EndDeviceGroup');
  return { outcomes: doc.EndDeviceGroup.map((g) => attempt(ctx, refId(g, 'DERGroup'), () => createOne(ctx, g))) };
}

function createOne(ctx: HandlerContext, g: GroupInput): Outcome {
  const functions = Object.fromEntries(derFunctionNames.map((n) => [n, g.DERFunction?.[n] ?? false])) as DerFunctions;
  const curves = curveControls(g, functions);
  const v = g.version;
  const group = ctx.registry.createGroup({
    mRID: g.mRID ?? ctx.newId(),
    names: g.Names.map((n) => n.name),
    description: g.description ?? '',
    functions,
    members: resolveDers(ctx, g.EndDevices).map((d) => d.mRID),
    ...(v && (v.major !== undefined || v.minor !== undefined || v.revision !== undefined) ? { version: { major: v.major ?? 1, minor: v.minor ?? 0, revision: v.revision ?? 0 } } : {}),
  });
  applyCurves(ctx, group, curves);
  return { ok: true, id: groupId(group) };
}

export function changeGroups(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(derGroupsSchema, payloadDoc(ctx, 'DERGroups'), 'Payload/DERGroups');
  tooMany(ctx, doc.EndDeviceGroup.length, 'EndDeviceGroup');
  return { outcomes: doc.EndDeviceGroup.map((g) => attempt(ctx, refId(g, 'DERGroup'), () => changeOne(ctx, g, 'add'))) };
}

/**
 * Change one group. `add`: EndDevices are added (a change carries the members to add; the
 * version's minor goes up); `remove`: they are removed (OperationSet element delete).
 * With an mRID, Names rename the group; without one, Names identify it.
 */
function changeOne(ctx: HandlerContext, g: GroupInput, members: 'add' | 'remove'): Outcome {
  const group = resolveGroup(ctx, g);
  const change: GroupChange = {};
  if (g.description !== undefined) change.description = g.description;
  if (g.DERFunction) change.functions = Object.fromEntries(derFunctionNames.filter((n) => g.DERFunction![n] !== undefined).map((n) => [n, g.DERFunction![n]]));
  if (g.mRID && g.Names.length > 0 && members === 'add') change.names = g.Names.map((n) => n.name);
  const ders = resolveDers(ctx, g.EndDevices).map((d) => d.mRID);
  if (ders.length > 0) {
    if (members === 'add') change.addMembers = ders;
    else change.removeMembers = ders;
  }
  const functions = { ...group.functions, ...(change.functions as Partial<DerFunctions> | undefined) };
  const curves = curveControls(g, functions);
  const changed = ctx.registry.changeGroup(group.mRID, change);
  applyCurves(ctx, changed, curves);
  return { ok: true, id: groupId(changed) };
}

export function deleteGroups(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(deleteSchema, payloadDoc(ctx, 'DERGroups'), 'Payload/DERGroups');
  tooMany(ctx, doc.EndDeviceGroup.length, 'EndDeviceGroup');
  return {
    outcomes: doc.EndDeviceGroup.map((g) =>
      attempt(ctx, refId(g, 'DERGroup'), () => {
        const group = resolveGroup(ctx, g);
        ctx.registry.deleteGroup(group.mRID);
        return { ok: true, id: groupId(group) };
      }),
    ),
  };
}

/** get DERGroups: the groups asked for (every group when the query names none), with capability. */
export function getGroups(ctx: HandlerContext): HandlerResult {
  const q = parseProfile(groupQueriesSchema, requestDoc(ctx, 'DERGroupQueries'), 'Request/DERGroupQueries');
  tooMany(ctx, q.EndDeviceGroup.length, 'EndDeviceGroup');
  const found: DerGroup[] = [];
  const outcomes = q.EndDeviceGroup.length
    ? q.EndDeviceGroup.map((ref) =>
        attempt(ctx, refId(ref, 'DERGroup'), () => {
          found.push(resolveGroup(ctx, ref));
          return { ok: true };
        }),
      )
    : [];
  if (q.EndDeviceGroup.length === 0) found.push(...ctx.registry.allGroups());
  const agg = ctx.system.aggregator;
  const els = found.map((g) => groupEl(ctx.render, g, agg.status(g.mRID)));
  return { outcomes, payload: els.length ? [derGroupsEl(ctx.render, els)] : undefined };
}

// ---------------------------------------------------------------------------------------------
// Volt-var / volt-watt curves (extension elements beside DERFunction)

/** The curve controls a group element carries, checked against the functions it will have. */
function curveControls(g: GroupInput, functions: DerFunctions): Control[] {
  const out: Control[] = [];
  if (g.VoltVarCurve) {
    if (!functions.voltVarCurveFunction) throw fault(ReplyCode.businessRule, 'a VoltVarCurve needs DERFunction/voltVarCurveFunction true');
    out.push({ kind: 'voltVar', curve: parseCurve(g.VoltVarCurve, 'voltVar') });
  }
  if (g.VoltWattCurve) {
    if (!functions.voltWattCurveFunction) throw fault(ReplyCode.businessRule, 'a VoltWattCurve needs DERFunction/voltWattCurveFunction true');
    out.push({ kind: 'voltWatt', curve: parseCurve(g.VoltWattCurve, 'voltWatt') });
  }
  return out;
}

/** Curve points into the core's curve (x % of nominal V, y % of rating), validated. */
export function parseCurve<K extends 'voltVar' | 'voltWatt'>(c: CurveInput, kind: K): K extends 'voltVar' ? z.output<typeof voltVarCurveSchema> : z.output<typeof voltWattCurveSchema> {
  const points = c.CurveData.map((p) => (kind === 'voltVar' ? { v: p.xvalue, var: p.y1value } : { v: p.xvalue, w: p.y1value }));
  const schema = kind === 'voltVar' ? voltVarCurveSchema : voltWattCurveSchema;
  const r = schema.safeParse(points);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const at = typeof i.path[0] === 'number' ? `[${i.path[0] + 1}]` : '';
    throw fault(ReplyCode.invalidSchema, `${kind === 'voltVar' ? 'VoltVarCurve' : 'VoltWattCurve'}/CurveData${at}: ${i.message}`);
  }
  return r.data as never;
}

function applyCurves(ctx: HandlerContext, g: DerGroup, curves: readonly Control[]): void {
  if (!ctx.live) return;
  for (const control of curves) ctx.system.tracker.submit({ mRID: ctx.newId(), groupId: g.mRID, control });
}

// ---------------------------------------------------------------------------------------------
// OperationSet

/**
 * execute OperationSet: DERGroups operations in document order. `delete` with elementOperation
 * removes the listed members; without, it deletes the groups; `create` and `change` as above.
 * enforceMsgSequence stops at the first failure (the rest are 5.2, not attempted);
 * enforceTransactionalIntegrity first runs every operation on a scratch copy of the registry and
 * applies none of them if any fails (the others are 5.9).
 */
export function executeOperationSet(ctx: HandlerContext): HandlerResult {
  const set = parseProfile(operationSetSchema, payloadDoc(ctx, 'OperationSet'), 'Payload/OperationSet');
  tooMany(ctx, set.Operation.length, 'Operation');
  if (set.enforceTransactionalIntegrity) {
    const scratch = copyRegistry(ctx.registry);
    const trial = runOperations({ ...ctx, registry: scratch, live: false }, set.Operation, true);
    if (trial.some((o) => !o.ok)) {
      return {
        outcomes: trial.map((o, i) =>
          o.ok ? { ok: false, error: { code: ReplyCode.abortedForIntegrity, level: 'FATAL', reason: 'not applied: another operation failed and the set is transactional', operationId: set.Operation[i]!.operationId } } : o,
        ),
      };
    }
  }
  return { outcomes: runOperations(ctx, set.Operation, set.enforceMsgSequence ?? false) };
}

type Operation = z.output<typeof operationSetSchema>['Operation'][number];

function runOperations(ctx: HandlerContext, ops: readonly Operation[], stopOnFailure: boolean): Outcome[] {
  const out: Outcome[] = [];
  let failed = false;
  for (const op of ops) {
    const withOp = (o: Outcome): Outcome => (o.ok ? o : { ok: false, error: { ...o.error, operationId: op.operationId } });
    if (failed && stopOnFailure) {
      out.push({ ok: false, error: { code: ReplyCode.notAttempted, level: 'FATAL', reason: 'not attempted: an earlier operation failed and the sequence is enforced', operationId: op.operationId } });
      continue;
    }
    const results = attemptOperation(ctx, op).map(withOp);
    if (results.some((r) => !r.ok)) failed = true;
    // One outcome per operation: its first failure, else success.
    out.push(results.find((r) => !r.ok) ?? results[0] ?? { ok: true });
  }
  return out;
}

function attemptOperation(ctx: HandlerContext, op: Operation): Outcome[] {
  try {
    const noun = op.noun ?? 'DERGroups';
    if (noun !== 'DERGroups') throw fault(ReplyCode.invalidNoun, `Operation ${op.operationId}: noun ${noun} is not supported in an OperationSet (only DERGroups)`);
    if (op.DERGroups === undefined) throw fault(ReplyCode.missingPayload, `Operation ${op.operationId} holds no DERGroups`);
    const base = `Payload/OperationSet/Operation[${op.operationId}]/DERGroups`;
    switch (op.verb) {
      case 'create': {
        const doc = parseProfile(derGroupsCreateSchema, op.DERGroups, base);
        return doc.EndDeviceGroup.map((g) => attempt(ctx, refId(g, 'DERGroup'), () => createOne(ctx, g)));
      }
      case 'change': {
        const doc = parseProfile(derGroupsSchema, op.DERGroups, base);
        return doc.EndDeviceGroup.map((g) => attempt(ctx, refId(g, 'DERGroup'), () => changeOne(ctx, g, 'add')));
      }
      case 'delete': {
        if (op.elementOperation) {
          const doc = parseProfile(derGroupsSchema, op.DERGroups, base);
          return doc.EndDeviceGroup.map((g) =>
            attempt(ctx, refId(g, 'DERGroup'), () => {
              if (g.EndDevices.length === 0) throw fault(ReplyCode.mandatoryMissing, 'an element delete needs the EndDevices to remove');
              return changeOne(ctx, { ...g, DERFunction: undefined, description: undefined, VoltVarCurve: undefined, VoltWattCurve: undefined }, 'remove');
            }),
          );
        }
        const doc = parseProfile(deleteSchema, op.DERGroups, base);
        return doc.EndDeviceGroup.map((g) =>
          attempt(ctx, refId(g, 'DERGroup'), () => {
            const group = resolveGroup(ctx, g);
            ctx.registry.deleteGroup(group.mRID);
            return { ok: true, id: groupId(group) };
          }),
        );
      }
      default:
        throw fault(ReplyCode.invalidVerb, `Operation ${op.operationId}: verb ${op.verb ?? '(none)'} is not supported on DERGroups in an OperationSet (create, change, delete)`);
    }
  } catch (e) {
    return [attempt(ctx, undefined, () => {
      throw e;
    })];
  }
}

/** A registry with the same DERs and groups (versions included), for a trial run. */
function copyRegistry(r: Registry): Registry {
  const copy = new Registry();
  for (const d of r.allDers()) copy.addDer(d);
  for (const g of r.allGroups()) copy.createGroup(g);
  return copy;
}
