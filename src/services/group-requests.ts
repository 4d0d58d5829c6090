import { DermsError } from '../core/errors.js';
import { parseGroup, type DerGroup } from '../core/model/group.js';
import type { Actor, GroupRecord, Tariff } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { authorize, isDso } from './authz.js';
import type { ServiceContext } from './context.js';
import { dermsInstanceOf, writeCore } from './core-writer.js';
import { eligibilityIssues } from './registration.js';
import type { GroupRequestBody } from './schemas.js';

/**
 * Groups and the requests to form, change and dissolve them (the report's proposed Part 8
 * messages): checked against the tariff's rules when made and again when approved, then applied
 * to the DERMS with the membership history, and announced to Operations.
 */
export class GroupRequests {
  constructor(private readonly c: ServiceContext) {}

  async listGroups(actor: Actor) {
    authorize(actor, 'group.read');
    return actor.role === 'provider' ? this.c.store.groups.list({ ownerOrgId: actor.orgId, active: true }) : this.c.store.groups.list({ active: true });
  }

  async getGroup(actor: Actor, id: string) {
    authorize(actor, 'group.read');
    return this.c.scope.visibleGroup(this.c.store, actor, id);
  }

  async groupHistory(actor: Actor, id: string) {
    authorize(actor, 'group.read');
    await this.c.scope.visibleGroup(this.c.store, actor, id);
    return this.c.store.groups.history({ groupId: id });
  }

  /**
   * Why a request breaks the rules: members must be visible to the requester, registered, approved
   * and handed over to the DERMS, under the group's tariff, eligible for it, within the tariff's
   * group size and total rating, and on one DERMS instance. An empty list means it may go ahead.
   */
  private async refusals(tx: StoreTx, actor: Actor, b: GroupRequestBody): Promise<{ reasons: string[]; instance: string | null }> {
    const reasons: string[] = [];
    let group: GroupRecord | undefined;
    if (b.kind !== 'form') {
      group = await tx.groups.get(b.groupId);
      if (!group || !group.active || !this.c.scope.seesGroup(actor, group)) return { reasons: [`unknown group ${b.groupId}`], instance: null };
      if (actor.role === 'provider' && group.ownerOrgId !== actor.orgId) reasons.push(`group ${b.groupId} was formed by another organization`);
    } else {
      const existing = await tx.groups.get(b.group.mRID);
      if (existing?.active) reasons.push(`group ${b.group.mRID} already exists`);
      if (actor.role === 'provider' && b.tariffId === undefined) reasons.push('a third party offers a group under a tariff: give tariffId');
    }
    if (b.kind === 'dissolve') return { reasons, instance: group!.dermsInstance };
    const tariffId = b.kind === 'form' ? b.tariffId : (group!.tariffId ?? undefined);
    const tariff = tariffId === undefined ? undefined : await tx.tariffs.get(tariffId);
    if (tariffId !== undefined && !tariff) return { reasons: [...reasons, `unknown tariff ${tariffId}`], instance: null };
    const rules = tariff?.spec.grouping;
    if (rules && !rules.allowed) reasons.push(`tariff ${tariff!.id} does not allow groups`);

    const current = group ? group.group.members : [];
    const asked = b.kind === 'form' ? b.group.members : b.members;
    const dupes = asked.filter((m, i) => asked.indexOf(m) !== i);
    if (dupes.length) reasons.push(`members listed twice: ${[...new Set(dupes)].join(', ')}`);
    let members: string[];
    if (b.kind === 'remove-members') {
      const absent = asked.filter((m) => !current.includes(m));
      if (absent.length) reasons.push(`not members of ${b.groupId}: ${absent.join(', ')}`);
      members = current.filter((m) => !asked.includes(m));
    } else {
      const joining = asked.filter((m) => !current.includes(m));
      if (b.kind === 'add-members' && joining.length < asked.length) reasons.push(`already members of ${b.groupId}: ${asked.filter((m) => current.includes(m)).join(', ')}`);
      for (const m of [...new Set(joining)]) reasons.push(...(await this.memberRefusals(tx, actor, m, tariff)));
      members = [...new Set([...current, ...asked])];
    }
    if (rules) {
      if (members.length < rules.minMembers) {
        reasons.push(`a group under tariff ${tariff!.id} needs at least ${rules.minMembers} members; this one would have ${members.length}${b.kind === 'remove-members' ? ' (dissolve it instead)' : ''}`);
      }
      if (rules.maxMembers !== undefined && members.length > rules.maxMembers) reasons.push(`a group under tariff ${tariff!.id} has at most ${rules.maxMembers} members; this one would have ${members.length}`);
      const recs = await tx.ders.list({ ids: members });
      const total = recs.reduce((s, r) => s + r.ratedW, 0);
      if (total < rules.minTotalW) reasons.push(`a group under tariff ${tariff!.id} needs at least ${rules.minTotalW} W in total; this one would have ${total} W`);
    }
    const instances = new Set<string | null>();
    for (const r of await tx.ders.list({ ids: members })) instances.add(await dermsInstanceOf(tx, r));
    if (group) instances.add(group.dermsInstance);
    if (instances.size > 1) reasons.push(`members are managed by different DERMS instances (${[...instances].map((i) => i ?? 'central').join(', ')}); a group lives on one`);
    return { reasons, instance: [...instances][0] ?? null };
  }

  private async memberRefusals(tx: StoreTx, actor: Actor, derId: string, tariff: Tariff | undefined): Promise<string[]> {
    const r = await tx.ders.get(derId);
    if (!r || !this.c.scope.seesDer(actor, r)) return [`unknown DER ${derId}`];
    if (!r.managed) {
      const app = await tx.applications.forDer(derId);
      const state = app?.state ?? 'not applied for';
      if (app && (state === 'approved' || state === 'installation-verified')) return [`DER ${derId} is approved but not yet handed over to the DERMS (${state})`];
      return [`DER ${derId} is not approved and connected (application ${state})`];
    }
    if (!tariff) return [];
    const out: string[] = [];
    const agreement = await tx.agreements.current(derId);
    if (agreement?.tariffId !== tariff.id) out.push(`DER ${derId} is under tariff ${agreement?.tariffId ?? 'none'}, not ${tariff.id}`);
    for (const i of eligibilityIssues(r.der, tariff)) out.push(`DER ${derId}: ${i.message}`);
    return out;
  }

  /** A request to form, change or dissolve a group; one that breaks the rules is recorded refused, with the reasons. */
  async submitGroupRequest(actor: Actor, b: GroupRequestBody) {
    authorize(actor, 'group-request.submit');
    return this.c.store.transaction(async (tx) => {
      const { reasons } = await this.refusals(tx, actor, b);
      const groupId = b.kind === 'form' ? b.group.mRID : b.groupId;
      return tx.groupRequests.create({ kind: b.kind, groupId, body: b, refusedFor: reasons });
    }, actor);
  }

  async listGroupRequests(actor: Actor) {
    authorize(actor, 'group-request.read');
    return isDso(actor) ? this.c.store.groupRequests.list() : this.c.store.groupRequests.list({ orgId: actor.orgId });
  }

  async getGroupRequest(actor: Actor, id: string) {
    authorize(actor, 'group-request.read');
    return this.c.scope.visibleRequest(this.c.store, actor, id);
  }

  /**
   * DSO customer support approves a pending request: the rules are checked again (things may have
   * changed since it was submitted), the group is formed, changed or dissolved in the DERMS with
   * the membership history, and Operations is told through a DERGroups event.
   */
  async approveGroupRequest(actor: Actor, id: string) {
    authorize(actor, 'group-request.decide');
    return writeCore(this.c.store, this.c.deps, actor, async (tx, core) => {
      const req = await this.c.scope.visibleRequest(tx, actor, id, { lock: true });
      if (req.state !== 'pending') throw new DermsError('CONFLICT', `group request ${id} is already ${req.state}${req.reasons.length ? ` (${req.reasons.join('; ')})` : ''}`);
      const b = req.body as GroupRequestBody;
      const requester: Actor = { ...actor, orgId: req.orgId, orgKind: (await tx.orgs.require(req.orgId)).kind, role: (await tx.users.get(req.requestedByUserId))?.role ?? actor.role, userId: req.requestedByUserId };
      // Lock the group first, so a concurrent change to it waits and the rules see its latest members.
      if (b.kind !== 'form') await tx.groups.get(b.groupId, { lock: true });
      const { reasons, instance } = await this.refusals(tx, requester, b);
      if (reasons.length) throw new DermsError('CONFLICT', `group request ${id} no longer meets the rules: ${reasons.join('; ')}`, reasons.map((message) => ({ path: '', message })));
      const why = { reason: b.reason ?? `group request ${id} (${b.kind})`, requestId: id };
      let group: DerGroup;
      if (b.kind === 'form') {
        group = await core.createGroup(parseGroup(b.group), instance, why, { ownerOrgId: req.orgId, tariffId: b.tariffId ?? null, dermsInstance: instance });
        await this.c.notify.group(tx, 'created', group, null, id);
      } else if (b.kind === 'dissolve') {
        group = await core.deleteGroup(b.groupId, instance, why);
        await this.c.notify.group(tx, 'deleted', group, null, id);
      } else {
        const change = b.kind === 'add-members' ? { addMembers: b.members } : { removeMembers: b.members };
        const r = await core.changeGroup(b.groupId, instance, change, why);
        group = r.group;
        await this.c.notify.group(tx, 'changed', group, r.previous, id);
      }
      const decided = await tx.groupRequests.decide(id, 'approved', []);
      await this.c.notify.requester(tx, decided);
      return { request: decided, group };
    });
  }

  async refuseGroupRequest(actor: Actor, id: string, reason: string) {
    authorize(actor, 'group-request.decide');
    return this.c.store.transaction(async (tx) => {
      await this.c.scope.visibleRequest(tx, actor, id, { lock: true });
      const decided = await tx.groupRequests.decide(id, 'refused', [reason]);
      await this.c.notify.requester(tx, decided);
      return decided;
    }, actor);
  }
}
