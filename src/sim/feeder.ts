import { DermsError, NotFoundError, ValidationError, type ErrorIssue } from '../core/errors.js';
import type { FeederSectionSpec, FeederSpec } from './fleet-spec.js';
import {
  LOAD_PROFILE_KINDS,
  LoadNoise,
  loadShapeAtHour,
  noisyShape,
  solarHourOfDay,
  type LoadNoiseOptions,
} from './load-profile.js';
import { subSeed } from './random.js';

export interface FeederOptions {
  /** Longitude used to turn UTC into local solar time for the load profiles, degrees east; 0 by default. */
  readonly longitudeDeg?: number;
  /** Per-section multiplicative load noise (defaults: 3 % sd, 900 s correlation time; `sd: 0` turns it off). */
  readonly noise?: LoadNoiseOptions;
}

const KIND_RESIDENTIAL = 0;
const KIND_COMMERCIAL = 1;
const KIND_FLAT = 2;

/**
 * A radial distribution feeder whose section voltages respond to the DERs on it.
 *
 * Model (linearized DistFlow, "LinDistFlow", lossless):
 * - Each section j hangs off its parent i (or, for the one root section, off the substation, held
 *   at `headVoltagePu x nominalV`) through a line of impedance r_j + j x_j ohms referred to
 *   `nominalV`. Each section carries a load (its peak W times its profile at the solve time, at its
 *   lagging power factor, so var consumption is positive) and the DER injections added this step
 *   (generation and var injection positive).
 * - P_j, Q_j, the power flowing from i into j, is the sum over j's subtree of (load - injection).
 * - V_j = V_i - (r_j P_j + x_j Q_j) / V_nominal, in volts. This is the DistFlow voltage equation
 *   V_j^2 = V_i^2 - 2 (r P + x Q) + (r^2 + x^2)(P^2 + Q^2)/V_i^2 with the loss term dropped and
 *   V_i + V_j ~ 2 V_nominal. It is a single-phase-equivalent magnitude: read r, x as the loop
 *   (out and back) impedance of a single-phase line with P, Q its power, or as the per-phase
 *   impedance of a balanced three-phase line with P, Q the three-phase totals and V line-to-line;
 *   the formula is the same. Angles are ignored (small angle differences along a feeder).
 * - No line losses are modelled, so the head flow is exactly total load minus total injection.
 *
 * The solve is two sweeps over a precomputed topological order (children accumulate into parents
 * in reverse, voltages propagate forward) on typed arrays indexed by section number; `beginStep`,
 * `inject`, `solve` and `voltage` do not allocate.
 */
export class Feeder {
  readonly id: string;
  readonly nominalV: number;
  readonly sectionCount: number;

  private readonly ids: readonly string[];
  private readonly indexById: ReadonlyMap<string, number>;
  /** Parent section index, -1 for the root (fed by the substation). */
  private readonly parent: Int32Array;
  /** Sections in topological order: every parent before its children. */
  private readonly order: Int32Array;
  private readonly root: number;
  private readonly r: Float64Array;
  private readonly x: Float64Array;
  private readonly peakW: Float64Array;
  /** var of load per W of load: tan(acos(pf)). */
  private readonly varPerW: Float64Array;
  private readonly kind: Uint8Array;
  private readonly hasResidential: boolean;
  private readonly hasCommercial: boolean;
  private readonly hasNoisy: boolean;
  private readonly longitudeDeg: number;
  private readonly noise: LoadNoise;
  private readonly injW: Float64Array;
  private readonly injVar: Float64Array;
  private readonly flowW: Float64Array;
  private readonly flowVar: Float64Array;
  private readonly v: Float64Array;
  private readonly invNominalV: number;
  private headPu: number;
  private loadW = 0;
  private loadVar = 0;

  constructor(spec: FeederSpec, seed: number, options: FeederOptions = {}) {
    validateFeeder(spec);
    const sections = spec.sections;
    const n = sections.length;
    this.id = spec.id;
    this.nominalV = spec.nominalV;
    this.invNominalV = 1 / spec.nominalV;
    this.headPu = spec.headVoltagePu;
    this.sectionCount = n;
    this.ids = sections.map((s) => s.id);
    this.indexById = new Map(sections.map((s, i) => [s.id, i]));

    this.parent = new Int32Array(n);
    this.r = new Float64Array(n);
    this.x = new Float64Array(n);
    this.peakW = new Float64Array(n);
    this.varPerW = new Float64Array(n);
    this.kind = new Uint8Array(n);
    let root = -1;
    for (let i = 0; i < n; i++) {
      const s = sections[i]!;
      const p = s.parent === null ? -1 : this.indexById.get(s.parent)!;
      this.parent[i] = p;
      if (p < 0) root = i;
      this.r[i] = s.rOhm;
      this.x[i] = s.xOhm;
      this.peakW[i] = s.loadPeakW;
      this.varPerW[i] = Math.sqrt(1 - s.loadPf * s.loadPf) / s.loadPf;
      this.kind[i] = s.loadProfile === 'residential' ? KIND_RESIDENTIAL : s.loadProfile === 'commercial' ? KIND_COMMERCIAL : KIND_FLAT;
    }
    this.root = root;
    this.order = topologicalOrder(this.parent, root);
    this.hasResidential = this.kind.includes(KIND_RESIDENTIAL);
    this.hasCommercial = this.kind.includes(KIND_COMMERCIAL);
    this.hasNoisy = this.hasResidential || this.hasCommercial;

    const lon = options.longitudeDeg ?? 0;
    if (!Number.isFinite(lon)) throw new DermsError('INVALID_INPUT', `feeder ${JSON.stringify(spec.id)}: longitude must be finite`);
    this.longitudeDeg = lon;
    const seeds = new Uint32Array(n);
    for (let i = 0; i < n; i++) seeds[i] = subSeed(seed, i);
    this.noise = new LoadNoise(seeds, options.noise);

    this.injW = new Float64Array(n);
    this.injVar = new Float64Array(n);
    this.flowW = new Float64Array(n);
    this.flowVar = new Float64Array(n);
    this.v = new Float64Array(n).fill(this.headPu * this.nominalV);
  }

  /** Index of the section with this id (what `inject` and `voltage` take). */
  sectionIndex(id: string): number {
    const i = this.indexById.get(id);
    if (i === undefined) throw new NotFoundError(`feeder ${JSON.stringify(this.id)} section`, id);
    return i;
  }

  /** Id of section number `section`. */
  sectionId(section: number): string {
    const id = this.ids[section];
    if (id === undefined) throw this.badSection(section);
    return id;
  }

  /** Substation voltage, per unit of nominal. */
  get headVoltagePu(): number {
    return this.headPu;
  }

  /** Clear the DER injections for a new step. */
  beginStep(): void {
    this.injW.fill(0);
    this.injVar.fill(0);
  }

  /** Add a DER's injection at a section (generation positive, var injection positive), W and var. */
  inject(section: number, w: number, vars: number): void {
    if (!(section >= 0 && section < this.sectionCount && (section | 0) === section)) throw this.badSection(section);
    this.injW[section]! += w;
    this.injVar[section]! += vars;
  }

  /**
   * Solve for time `tMs` (epoch ms): loads from their profiles at `tMs` (the load noise advances
   * by the time since the previous solve; solving twice at one time gives the same loads), the
   * head voltage, then LinDistFlow.
   */
  solve(tMs: number): void {
    const n = this.sectionCount;
    const { kind, peakW, varPerW, injW, injVar, flowW, flowVar, parent, order, r, x, v, noise } = this;
    const h = solarHourOfDay(tMs, this.longitudeDeg);
    const shapeRes = this.hasResidential ? loadShapeAtHour('residential', h) : 0;
    const shapeCom = this.hasCommercial ? loadShapeAtHour('commercial', h) : 0;
    if (this.hasNoisy) noise.advance(tMs);

    let loadW = 0;
    let loadVar = 0;
    for (let i = 0; i < n; i++) {
      const k = kind[i]!;
      const frac = k === KIND_FLAT ? 1 : noisyShape(k === KIND_RESIDENTIAL ? shapeRes : shapeCom, noise.factor(i));
      const lw = peakW[i]! * frac;
      const lq = lw * varPerW[i]!;
      loadW += lw;
      loadVar += lq;
      flowW[i] = lw - injW[i]!;
      flowVar[i] = lq - injVar[i]!;
    }
    this.loadW = loadW;
    this.loadVar = loadVar;

    // Backward sweep: each section's flow becomes its whole subtree's net load.
    for (let k = n - 1; k > 0; k--) {
      const j = order[k]!;
      const p = parent[j]!;
      flowW[p]! += flowW[j]!;
      flowVar[p]! += flowVar[j]!;
    }
    // Forward sweep: voltage drop along each line from the substation out.
    const inv = this.invNominalV;
    const head = this.headPu * this.nominalV;
    for (let k = 0; k < n; k++) {
      const j = order[k]!;
      const p = parent[j]!;
      const up = p < 0 ? head : v[p]!;
      v[j] = up - (r[j]! * flowW[j]! + x[j]! * flowVar[j]!) * inv;
    }
  }

  /** Voltage at a section after the last solve, volts (head voltage before the first solve). */
  voltage(section: number): number {
    const value = this.v[section];
    if (value === undefined) throw this.badSection(section);
    return value;
  }

  /** Power flowing from the parent (or substation) into a section after the last solve, W and var. */
  flow(section: number): { w: number; vars: number } {
    const w = this.flowW[section];
    if (w === undefined) throw this.badSection(section);
    return { w, vars: this.flowVar[section]! };
  }

  /**
   * Net power flowing from the substation into the feeder after the last solve (W, var): total
   * load minus total DER injection. The model is lossless, so there is no loss term; negative
   * means reverse flow into the substation.
   */
  headFlow(): { w: number; vars: number } {
    return { w: this.flowW[this.root]!, vars: this.flowVar[this.root]! };
  }

  /** Total load at the last solve, W and var. */
  load(): { w: number; vars: number } {
    return { w: this.loadW, vars: this.loadVar };
  }

  /** Set the substation voltage, per unit of nominal (0.8..1.2); takes effect at the next solve. */
  setHeadVoltagePu(pu: number): void {
    if (!(Number.isFinite(pu) && pu >= 0.8 && pu <= 1.2)) {
      throw new DermsError('INVALID_INPUT', `feeder ${JSON.stringify(this.id)}: head voltage must be within 0.8..1.2 pu, got ${pu}`);
    }
    this.headPu = pu;
  }

  private badSection(section: number): DermsError {
    return new DermsError('INVALID_INPUT', `feeder ${JSON.stringify(this.id)} has no section number ${section} (0..${this.sectionCount - 1})`);
  }
}

/** Breadth-first order from the root: parents before children. Assumes a validated tree. */
function topologicalOrder(parent: Int32Array, root: number): Int32Array {
  const n = parent.length;
  // Children in compressed rows: start[i]..start[i+1] in `kids`.
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) if (parent[i]! >= 0) start[parent[i]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const kids = new Int32Array(Math.max(0, n - 1));
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p >= 0) kids[fill[p]!++] = i;
  }
  const order = new Int32Array(n);
  order[0] = root;
  let tail = 1;
  for (let head = 0; head < tail; head++) {
    const j = order[head]!;
    for (let c = start[j]!; c < start[j + 1]!; c++) order[tail++] = kids[c]!;
  }
  return order;
}

function isFiniteAtLeast(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min;
}

/**
 * Check a feeder spec: one root, known parents, no cycles, unique ids, sane numbers. Throws a
 * `ValidationError` (code INVALID_INPUT) listing every problem, each naming its section.
 */
export function validateFeeder(spec: FeederSpec): void {
  const issues: ErrorIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  if (typeof spec.id !== 'string' || spec.id === '') add('id', 'feeder id must be a non-empty string');
  if (!(isFiniteAtLeast(spec.nominalV, 0) && spec.nominalV > 0)) add('nominalV', `nominal voltage must be a positive number, got ${String(spec.nominalV)}`);
  if (!(isFiniteAtLeast(spec.headVoltagePu, 0.8) && spec.headVoltagePu <= 1.2)) {
    add('headVoltagePu', `head voltage must be within 0.8..1.2 pu, got ${String(spec.headVoltagePu)}`);
  }
  const sections: readonly FeederSectionSpec[] = Array.isArray(spec.sections) ? spec.sections : [];
  if (sections.length === 0) add('sections', 'a feeder needs at least one section');

  const indexById = new Map<string, number>();
  sections.forEach((s, i) => {
    const at = `sections[${i}]`;
    if (typeof s.id !== 'string' || s.id === '') {
      add(`${at}.id`, 'section id must be a non-empty string');
      return;
    }
    const first = indexById.get(s.id);
    if (first !== undefined) add(`${at}.id`, `section ${JSON.stringify(s.id)} is defined more than once (also sections[${first}])`);
    else indexById.set(s.id, i);
  });

  const name = (i: number): string => JSON.stringify(sections[i]!.id);
  const parentIdx = new Int32Array(sections.length).fill(-1);
  const roots: number[] = [];
  sections.forEach((s, i) => {
    const at = `sections[${i}]`;
    const me = `section ${name(i)}`;
    if (!isFiniteAtLeast(s.rOhm, 0)) add(`${at}.rOhm`, `${me}: rOhm must be a finite number >= 0, got ${String(s.rOhm)}`);
    if (!isFiniteAtLeast(s.xOhm, 0)) add(`${at}.xOhm`, `${me}: xOhm must be a finite number >= 0, got ${String(s.xOhm)}`);
    if (!isFiniteAtLeast(s.loadPeakW, 0)) add(`${at}.loadPeakW`, `${me}: loadPeakW must be a finite number >= 0, got ${String(s.loadPeakW)}`);
    if (!(isFiniteAtLeast(s.loadPf, 0) && s.loadPf > 0 && s.loadPf <= 1)) {
      add(`${at}.loadPf`, `${me}: loadPf must be within (0, 1] (lagging), got ${String(s.loadPf)}`);
    }
    if (!LOAD_PROFILE_KINDS.includes(s.loadProfile)) {
      add(`${at}.loadProfile`, `${me}: unknown load profile ${JSON.stringify(s.loadProfile)} (expected ${LOAD_PROFILE_KINDS.join(', ')})`);
    }
    if (s.parent === null) {
      roots.push(i);
      return;
    }
    const p = typeof s.parent === 'string' ? indexById.get(s.parent) : undefined;
    if (p === undefined) add(`${at}.parent`, `${me} has unknown parent ${JSON.stringify(s.parent)}`);
    else parentIdx[i] = p;
  });

  if (sections.length > 0 && roots.length === 0) {
    add('sections', 'no root section: exactly one section must have parent null (it hangs off the substation)');
  } else if (roots.length > 1) {
    const list = roots.map(name).join(', ');
    for (const i of roots.slice(1)) {
      add(`sections[${i}].parent`, `section ${name(i)} is a second root: exactly one section may have parent null, found ${roots.length} (${list})`);
    }
  }

  // Cycles: walk up from every section; meeting a section already on the current walk closes a loop.
  const state = new Uint8Array(sections.length); // 0 unseen, 1 on the current walk, 2 done
  const path: number[] = [];
  for (let i = 0; i < sections.length; i++) {
    if (state[i] !== 0) continue;
    path.length = 0;
    let j = i;
    while (j >= 0 && state[j] === 0) {
      state[j] = 1;
      path.push(j);
      j = parentIdx[j]!;
    }
    if (j >= 0 && state[j] === 1) {
      const loop = path.slice(path.indexOf(j));
      if (loop.length === 1) add(`sections[${j}].parent`, `section ${name(j)} is its own parent (cycle)`);
      else add(`sections[${j}].parent`, `sections ${[...loop, j].map(name).join(' -> ')} form a cycle (each is the parent of the one before)`);
    }
    for (const k of path) state[k] = 2;
  }

  if (issues.length > 0) {
    const what = typeof spec.id === 'string' && spec.id !== '' ? `feeder ${JSON.stringify(spec.id)}` : 'feeder';
    throw new ValidationError(what, issues);
  }
}
