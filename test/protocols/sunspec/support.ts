import { BUILTIN_MODELS, isSunSpecError, type ModelDef } from '../../../src/protocols/sunspec/index.js';

/** A built-in model definition by id. */
export const def = (id: number): ModelDef => BUILTIN_MODELS.find((d) => d.id === id)!;

/** The SunSpecError reason `f` throws, or undefined when it does not throw. */
export function reason(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isSunSpecError(e) ? e.reason : `not a SunSpecError: ${String(e)}`;
  }
  return undefined;
}
