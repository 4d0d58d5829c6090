import type { Actor, Tariff } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { authorize } from './authz.js';
import type { ServiceContext } from './context.js';
import { amountFor, energyIn, memberParticipation, type MemberParticipation } from './participation.js';

type Period = { from: number; to: number };

/** Flows G to I: per-DER participation, customer statements, and what a group's owner invoices the DSO. */
export class Settlement {
  constructor(private readonly c: ServiceContext) {}

  private async participationOf(tx: StoreTx, derId: string, p: Period): Promise<MemberParticipation[]> {
    const out: MemberParticipation[] = [];
    const energy = await tx.energy.range(derId, p.from, p.to);
    for (const d of await tx.dispatches.ofDer(derId, p)) {
      const m = memberParticipation(d, await tx.dispatches.outcomes(d.id, derId), energy, p.from, p.to, this.c.now());
      if (m) out.push(m);
    }
    return out;
  }

  private async rateOf(tx: StoreTx, derId: string): Promise<{ tariff: Tariff | undefined; agreementId: string | null }> {
    const agreement = await tx.agreements.current(derId);
    return { tariff: agreement ? await tx.tariffs.get(agreement.tariffId) : undefined, agreementId: agreement?.id ?? null };
  }

  /** Per dispatch the DER took part in: energy requested, delivered (from the rollups) and settled, and what it earns. */
  async derParticipation(actor: Actor, id: string, p: Period) {
    authorize(actor, 'participation.read');
    return this.c.store.transaction(async (tx) => {
      await this.c.scope.visibleDer(tx, actor, id);
      const { tariff } = await this.rateOf(tx, id);
      const rate = tariff?.spec.settlement;
      const dispatches = (await this.participationOf(tx, id, p)).map((m) => this.forActor(actor, { ...m, amount: rate ? amountFor(m.settledWh, rate.ratePerKWh) : 0 }));
      return { derId: id, from: p.from, to: p.to, currency: rate?.currency ?? null, dispatches };
    });
  }

  /** Customers are told when their DER were dispatched and what they delivered, not which group asked. */
  private forActor<T extends { groupId: string }>(actor: Actor, m: T): T | Omit<T, 'groupId'> {
    if (actor.role !== 'customer') return m;
    const { groupId: _g, ...rest } = m;
    return rest;
  }

  /** A customer's statement for a period: per DER, energy produced and consumed, participation and credit. */
  async customerStatement(actor: Actor, customerId: string, p: Period) {
    authorize(actor, 'statement.read');
    return this.c.store.transaction(async (tx) => {
      const customer = await this.c.scope.visibleCustomer(tx, actor, customerId);
      const ders = (await tx.ders.list({ customerId })).filter((d) => this.c.scope.seesDer(actor, d));
      const lines = [];
      for (const d of ders) {
        const { tariff, agreementId } = await this.rateOf(tx, d.der.mRID);
        const energy = energyIn(await tx.energy.range(d.der.mRID, p.from, p.to), p.from, p.to);
        const parts = await this.participationOf(tx, d.der.mRID, p);
        const rate = tariff?.spec.settlement.ratePerKWh ?? 0;
        const dispatches = parts.map((m) => this.forActor(actor, { ...m, amount: amountFor(m.settledWh, rate) }));
        lines.push({
          derId: d.der.mRID,
          name: d.der.name,
          agreementId,
          tariffId: tariff?.id ?? null,
          producedWh: energy.outWh,
          consumedWh: energy.inWh,
          dispatches,
          credit: Math.round(dispatches.reduce((s, x) => s + x.amount, 0) * 100) / 100,
        });
      }
      const currencies = new Set((await Promise.all(ders.map((d) => this.rateOf(tx, d.der.mRID)))).map((r) => r.tariff?.spec.settlement.currency ?? null).filter((c) => c !== null));
      return {
        customerId: customer.id,
        name: customer.name,
        from: p.from,
        to: p.to,
        currency: currencies.size === 1 ? [...currencies][0]! : null,
        ders: lines,
        totalCredit: Math.round(lines.reduce((s, l) => s + l.credit, 0) * 100) / 100,
      };
    });
  }

  /**
   * What the group's owner invoices the DSO for a period: per dispatch, energy requested, delivered
   * and settled over the members that took part, at the group's tariff rate, with the breakdown per
   * DER, agreement and customer that customer invoicing needs.
   */
  async groupInvoice(actor: Actor, groupId: string, p: Period) {
    authorize(actor, 'invoice.read');
    return this.c.store.transaction(async (tx) => {
      const g = await this.c.scope.visibleGroup(tx, actor, groupId);
      const groupTariff = g.tariffId ? await tx.tariffs.get(g.tariffId) : undefined;
      const dispatches = [];
      for (const d of await tx.dispatches.list({ groupId, ...p })) {
        const members: Array<{ derId: string; customerId: string | null; agreementId: string | null; requestedWh: number | null; deliveredWh: number; settledWh: number; amount: number }> = [];
        for (const derId of [...new Set((await tx.dispatches.outcomes(d.id)).map((o) => o.derId))]) {
          const m = memberParticipation(d, await tx.dispatches.outcomes(d.id, derId), await tx.energy.range(derId, p.from, p.to), p.from, p.to, this.c.now());
          if (!m) continue;
          const rec = await tx.ders.get(derId);
          const { tariff, agreementId } = await this.rateOf(tx, derId);
          const rate = (groupTariff ?? tariff)?.spec.settlement.ratePerKWh ?? 0;
          members.push({ derId, customerId: rec?.customerId ?? null, agreementId, requestedWh: m.requestedWh, deliveredWh: m.deliveredWh, settledWh: m.settledWh, amount: amountFor(m.settledWh, rate) });
        }
        const sum = (k: 'deliveredWh' | 'settledWh' | 'amount') => members.reduce((s, m) => s + m[k], 0);
        const requested = members.some((m) => m.requestedWh !== null) ? members.reduce((s, m) => s + (m.requestedWh ?? 0), 0) : null;
        dispatches.push({
          dispatchId: d.id,
          controlKind: d.controlKind,
          from: Math.max(d.acceptedAt, p.from),
          to: Math.min(d.endedAt ?? this.c.now(), p.to),
          state: d.state,
          requestedWh: requested,
          deliveredWh: sum('deliveredWh'),
          settledWh: sum('settledWh'),
          // The group's tariff prices the aggregate; without one each member is paid at its own tariff.
          amount: groupTariff ? amountFor(sum('settledWh'), groupTariff.spec.settlement.ratePerKWh) : Math.round(sum('amount') * 100) / 100,
          members,
        });
      }
      return {
        groupId,
        ownerOrgId: g.ownerOrgId,
        tariffId: g.tariffId,
        ratePerKWh: groupTariff?.spec.settlement.ratePerKWh ?? null,
        currency: groupTariff?.spec.settlement.currency ?? null,
        from: p.from,
        to: p.to,
        dispatches,
        totalSettledWh: dispatches.reduce((s, d) => s + d.settledWh, 0),
        totalAmount: Math.round(dispatches.reduce((s, d) => s + d.amount, 0) * 100) / 100,
      };
    });
  }
}
