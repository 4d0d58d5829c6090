/**
 * SunSpec discovery, free of I/O: the caller passes a `read(address, count)` function (FC 0x03,
 * 0-based protocol addresses); this finds the "SunS" marker and walks the model chain.
 */
import { END_MODEL_ID, type ModelDef } from './defs.js';
import { SunSpecError } from './errors.js';
import { lengthProblem } from './layout.js';
import { ModelRegistry } from './registry.js';

/** Where the "SunS" marker may sit, in the order tried (40000 is "40001" in 1-based notation). */
export const SUNS_BASES: readonly number[] = [40000, 0, 50000];
/** "SunS" as two registers. */
export const SUNS_MARKER: readonly [number, number] = [0x5375, 0x6e53];

/** Read `count` holding registers at `address`; rejects on a Modbus exception or timeout. */
export type ReadRegisters = (address: number, count: number) => Promise<ArrayLike<number>>;

export interface ChainEntry {
  readonly id: number;
  /** Address of the model's ID register. */
  readonly address: number;
  /** L: registers after the L register (the block is address .. address + L + 1). */
  readonly length: number;
  /** Whether a definition of the model is known (unknown ones are skipped by their length). */
  readonly known: boolean;
}

export interface WalkOptions {
  /** Definitions to check lengths against; default: the built-ins. */
  readonly models?: { get(id: number): ModelDef | undefined };
  /** Bases to try; default SUNS_BASES. */
  readonly bases?: readonly number[];
  /** Most models before the chain counts as runaway; default 256. */
  readonly maxModels?: number;
}

const ADDRESS_SPACE = 0x10000;
let builtins: ModelRegistry | undefined;

async function readExactly(read: ReadRegisters, address: number, count: number): Promise<ArrayLike<number>> {
  const regs = await read(address, count);
  if (regs.length < count) throw new SunSpecError('TRUNCATED', `read of ${count} register(s) at ${address} returned ${regs.length}`);
  return regs;
}

/** The first base in `bases` holding "SunS"; bases whose read fails are skipped. */
export async function findSunSBase(read: ReadRegisters, bases: readonly number[] = SUNS_BASES): Promise<number> {
  for (const base of bases) {
    let regs: ArrayLike<number>;
    try {
      regs = await read(base, 2);
    } catch {
      continue;
    }
    if (regs.length >= 2 && regs[0] === SUNS_MARKER[0] && regs[1] === SUNS_MARKER[1]) return base;
  }
  throw new SunSpecError('NO_SUNS', `no SunSpec "SunS" marker at ${bases.join(', ')}`);
}

/**
 * Find the base, then walk the model chain from base + 2: each model is (id, L) followed by L
 * registers; unknown models are skipped by L; the walk stops at the end model 0xFFFF (whose L may be
 * missing: when reading two registers there fails, one is read). Known models must have a length
 * their definition allows (MODEL_LENGTH). A chain that runs past register 65535, holds a model id 0
 * or more than `maxModels` models is a CHAIN error. Addresses only grow, so a chain cannot loop
 * except through address aliasing, which the model cap catches.
 */
export async function walkModelChain(read: ReadRegisters, opts: WalkOptions = {}): Promise<ChainEntry[]> {
  const models = opts.models ?? (builtins ??= new ModelRegistry());
  const maxModels = opts.maxModels ?? 256;
  const base = await findSunSBase(read, opts.bases);
  const out: ChainEntry[] = [];
  let address = base + 2;
  for (;;) {
    if (address >= ADDRESS_SPACE) throw new SunSpecError('CHAIN', `the model chain from ${base} runs past register 65535 without an end model`);
    if (out.length >= maxModels) throw new SunSpecError('CHAIN', `the model chain from ${base} has more than ${maxModels} models (a loop?)`);
    const header = await readHeader(read, address);
    const id = header[0]!;
    if (id === END_MODEL_ID) break;
    if (header.length < 2) throw new SunSpecError('TRUNCATED', `model ${id} at ${address}: no L register`);
    const length = header[1]!;
    if (id === 0) throw new SunSpecError('CHAIN', `model id 0 at ${address}: not a model (chain broken?)`);
    if (address + 2 + length > ADDRESS_SPACE) throw new SunSpecError('CHAIN', `model ${id} at ${address}: L = ${length} runs past register 65535`);
    const def = models.get(id);
    if (def) {
      const problem = lengthProblem(def, length);
      if (problem) throw new SunSpecError('MODEL_LENGTH', `model ${id} at ${address}: ${problem}`);
    }
    out.push({ id, address, length, known: def !== undefined });
    address += length + 2;
  }
  return out;
}

/** ID and L at `address`, or just the ID when only an end model without L is there. */
async function readHeader(read: ReadRegisters, address: number): Promise<ArrayLike<number>> {
  if (address + 2 > ADDRESS_SPACE) return readExactly(read, address, 1);
  try {
    return await readExactly(read, address, 2);
  } catch (e) {
    let one: ArrayLike<number>;
    try {
      one = await readExactly(read, address, 1);
    } catch {
      throw e;
    }
    if (one[0] === END_MODEL_ID) return one;
    throw e;
  }
}
