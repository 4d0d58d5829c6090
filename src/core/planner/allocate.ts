import type { AllocationPolicy } from '../model/control.js';

/** One member as the allocator sees it: its feasible range now and its policy inputs. */
export interface AllocMember {
  readonly id: string;
  /** Lowest and highest value the member can take now (lo <= hi). */
  readonly lo: number;
  readonly hi: number;
  /** Installed rating in each direction (>= 0), for the rating policy. */
  readonly ratingUp: number;
  readonly ratingDown: number;
  /** State of charge in percent, for the soc-balance policy; undefined for non-storage. */
  readonly soc?: number | undefined;
  /** Lower runs first under the priority policy. */
  readonly priority?: number | undefined;
}

export interface Allocation {
  /** Value per member, in input order. */
  readonly values: Float64Array;
  /** Sum of values: the target when feasible, else the nearest reachable sum. */
  readonly achievable: number;
  /** target - achievable: positive when the request asked for more than the members can give. */
  readonly shortfall: number;
  readonly feasibleMin: number;
  readonly feasibleMax: number;
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
/** Rooms and weights below this (W, var) are treated as none: they only breed overflow in ratios. */
const EPS = 1e-9;

/**
 * Split a group target over members. Every member starts from its neutral point (0, or the
 * nearest end of its range) and moves in the requested direction by a share of the difference,
 * weighted by the policy and capped by its room; the remainder of capped members is re-spread over
 * those with room left (water-filling). An infeasible target is clamped and its shortfall returned.
 */
export function allocate(members: readonly AllocMember[], target: number, policy: AllocationPolicy): Allocation {
  const n = members.length;
  const values = new Float64Array(n);
  const room = new Float64Array(n);
  let neutralSum = 0;
  let feasibleMin = 0;
  let feasibleMax = 0;
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    values[i] = clamp(0, m.lo, m.hi);
    neutralSum += values[i]!;
    feasibleMin += m.lo;
    feasibleMax += m.hi;
  }
  const up = target >= neutralSum;
  const dir = up ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    room[i] = up ? m.hi - values[i]! : values[i]! - m.lo;
  }
  let remaining = Math.abs(target - neutralSum);

  if (policy === 'priority') {
    remaining = fillByPriority(members, room, remaining, values, dir);
  } else {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = weight(members[i]!, room[i]!, up, policy);
    remaining = fill(room, w, remaining, values, dir, null);
  }
  // Whatever a weighted pass could not place (zero weight with room left) goes by room.
  if (remaining > EPS) remaining = fill(room, room, remaining, values, dir, null);

  let achievable = 0;
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    values[i] = clamp(values[i]!, m.lo, m.hi); // float residue of the arithmetic above
    achievable += values[i]!;
  }
  const reachable = clamp(target, feasibleMin, feasibleMax);
  return { values, achievable, shortfall: target - reachable, feasibleMin, feasibleMax };
}

function weight(m: AllocMember, room: number, up: boolean, policy: AllocationPolicy): number {
  if (room <= EPS) return 0;
  switch (policy) {
    case 'rating':
      return up ? m.ratingUp : m.ratingDown;
    case 'soc-balance': {
      // Fuller batteries discharge more and charge less; members without SoC sit in the middle.
      const soc = m.soc === undefined ? 50 : m.soc;
      return room * (up ? soc / 100 : 1 - soc / 100);
    }
    default:
      return room;
  }
}

function fillByPriority(members: readonly AllocMember[], room: Float64Array, remaining: number, values: Float64Array, dir: number): number {
  const tiers = new Map<number, number[]>();
  members.forEach((m, i) => {
    const p = m.priority ?? Number.MAX_SAFE_INTEGER;
    let t = tiers.get(p);
    if (!t) tiers.set(p, (t = []));
    t.push(i);
  });
  for (const p of [...tiers.keys()].sort((a, b) => a - b)) {
    if (remaining <= EPS) break;
    remaining = fill(room, room, remaining, values, dir, tiers.get(p)!);
  }
  return remaining;
}

/**
 * Water-fill `amount` over members (all, or `only`): member i gets min(room_i, lambda * w_i) with
 * lambda chosen so the total is `amount`, or everyone is capped. Moves values by dir * share and
 * consumes the room used. Returns what could not be placed.
 */
function fill(room: Float64Array, w: Float64Array, amount: number, values: Float64Array, dir: number, only: number[] | null): number {
  const idx = only ?? Array.from({ length: room.length }, (_, i) => i);
  const active = idx.filter((i) => w[i]! > EPS && room[i]! > EPS);
  if (active.length === 0 || amount <= 0) return amount;
  let wSum = 0;
  let minRatio = Infinity;
  for (const i of active) {
    wSum += w[i]!;
    const r = room[i]! / w[i]!;
    if (r < minRatio) minRatio = r;
  }
  let lambda = amount / wSum;
  let placed: number;
  if (lambda <= minRatio) {
    placed = amount; // common case: nobody is capped (always so when weights are the room)
  } else {
    // Sweep members in the order they cap; find the lambda at which the total equals amount.
    active.sort((a, b) => room[a]! / w[a]! - room[b]! / w[b]!);
    let capped = 0;
    let k = 0;
    for (; k < active.length; k++) {
      const i = active[k]!;
      lambda = (amount - capped) / wSum;
      if (lambda <= room[i]! / w[i]!) break;
      capped += room[i]!;
      wSum -= w[i]!;
    }
    if (k === active.length) lambda = Infinity;
    placed = Math.min(amount, capped + (k < active.length ? lambda * wSum : 0));
  }
  for (const i of active) {
    const share = Math.min(room[i]!, lambda * w[i]!);
    values[i]! += dir * share;
    room[i]! -= share;
  }
  return amount - placed;
}
