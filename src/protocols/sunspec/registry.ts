import type { ModelDef } from './defs.js';
import { SunSpecError } from './errors.js';
import { loadModelDir } from './loader.js';
import { BUILTIN_MODELS } from './models/index.js';

/** Model definitions by id: the built-ins, overridden (by id) by any added later. */
export class ModelRegistry {
  private readonly defs = new Map<number, ModelDef>();

  constructor(defs: Iterable<ModelDef> = BUILTIN_MODELS) {
    this.add(defs);
  }

  /** The built-ins plus every `model_<id>.json` in `modelsDir` (which win over built-ins of the same id). */
  static async create(modelsDir?: string): Promise<ModelRegistry> {
    const r = new ModelRegistry();
    if (modelsDir !== undefined) r.add(await loadModelDir(modelsDir));
    return r;
  }

  add(defs: Iterable<ModelDef>): this {
    for (const d of defs) this.defs.set(d.id, d);
    return this;
  }

  get(id: number): ModelDef | undefined {
    return this.defs.get(id);
  }

  /** Like get, but a missing model is an error (UNKNOWN_MODEL). */
  require(id: number): ModelDef {
    const d = this.defs.get(id);
    if (!d) throw new SunSpecError('UNKNOWN_MODEL', `no definition of SunSpec model ${id}`);
    return d;
  }

  has(id: number): boolean {
    return this.defs.has(id);
  }

  ids(): number[] {
    return [...this.defs.keys()].sort((a, b) => a - b);
  }
}
