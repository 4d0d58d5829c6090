import { def } from './support.js';
import { describe, expect, it } from 'vitest';
import {
  SUNS_BASES,
  SUNS_MARKER,
  encodeModel,
  findSunSBase,
  isSunSpecError,
  walkModelChain,
  type ReadRegisters,
} from '../../../src/protocols/sunspec/index.js';


/** An in-memory register map; reads of unmapped registers reject like a Modbus exception 2. */
class RegisterMap {
  private readonly regs = new Map<number, number>();
  readonly reads: [number, number][] = [];

  put(address: number, values: ArrayLike<number>): number {
    for (let i = 0; i < values.length; i++) this.regs.set(address + i, values[i]!);
    return address + values.length;
  }

  read: ReadRegisters = async (address, count) => {
    this.reads.push([address, count]);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      const v = this.regs.get(address + i);
      if (v === undefined) throw new Error(`illegal data address ${address + i}`);
      out[i] = v;
    }
    return out;
  };
}

/** SunS, then the models, then the end model (with or without its L). */
function device(base: number, models: Uint16Array[], endWithL = true): RegisterMap {
  const m = new RegisterMap();
  let at = m.put(base, SUNS_MARKER);
  for (const b of models) at = m.put(at, b);
  m.put(at, endWithL ? [0xffff, 0] : [0xffff]);
  return m;
}

const common = encodeModel(def(1), { Mn: 'acme', Md: 'inv', SN: '42', DA: 1 });
const m701 = encodeModel(def(701), {});
const m705 = encodeModel(def(705), { NCrv: 3, NPt: 4 });
const unknown = Uint16Array.from([64123, 3, 1, 2, 3]);

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isSunSpecError(e) ? e.reason : `not a SunSpecError: ${String(e)}`;
  }
  return undefined;
}

describe('walkModelChain', () => {
  it('tries 40000, then 0, then 50000', () => {
    expect(SUNS_BASES).toEqual([40000, 0, 50000]);
    expect(SUNS_MARKER).toEqual([0x5375, 0x6e53]);
  });

  it.each([40000, 0, 50000])('finds the base at %i and walks the chain', async (base) => {
    const d = device(base, [common, m701, m705]);
    expect(await findSunSBase(d.read)).toBe(base);
    expect(await walkModelChain(d.read)).toEqual([
      { id: 1, address: base + 2, length: 66, known: true },
      { id: 701, address: base + 70, length: 153, known: true },
      { id: 705, address: base + 225, length: 13 + 3 * 18, known: true },
    ]);
  });

  it('skips unknown models by their length', async () => {
    const d = device(40000, [common, unknown, m701]);
    const chain = await walkModelChain(d.read);
    expect(chain.map((m) => [m.id, m.address, m.length, m.known])).toEqual([
      [1, 40002, 66, true],
      [64123, 40070, 3, false],
      [701, 40075, 153, true],
    ]);
    // The unknown model's body is never read.
    expect(d.reads.some(([a]) => a === 40072)).toBe(false);
  });

  it('stops at an end model without L', async () => {
    const d = device(0, [common, m701], false);
    expect((await walkModelChain(d.read)).map((m) => m.id)).toEqual([1, 701]);
  });

  it('accepts the legacy model 1 with L = 65', async () => {
    const legacy = Uint16Array.from(common.subarray(0, 67));
    legacy[1] = 65;
    expect((await walkModelChain(device(40000, [legacy, m701]).read)).map((m) => [m.id, m.address])).toEqual([
      [1, 40002],
      [701, 40069],
    ]);
  });

  it('no SunS anywhere: NO_SUNS (a NOT_FOUND DermsError)', async () => {
    const m = new RegisterMap();
    m.put(40000, [0x1234, 0x5678]);
    m.put(0, [0, 0]);
    await expect(walkModelChain(m.read)).rejects.toSatisfy((e) => isSunSpecError(e, 'NO_SUNS') && e.code === 'NOT_FOUND' && /SunS/.test(e.message));
  });

  it('a known model with the wrong length: MODEL_LENGTH', async () => {
    const bad = Uint16Array.from([701, 150, ...new Array<number>(150).fill(0)]);
    expect(await reasonOf(walkModelChain(device(40000, [common, bad]).read))).toBe('MODEL_LENGTH');
  });

  it('a length running past register 65535: CHAIN', async () => {
    const d = device(50000, [common]);
    d.put(50070, [64123, 20000]);
    expect(await reasonOf(walkModelChain(d.read))).toBe('CHAIN');
  });

  it('a map that repeats (address aliasing, no end): CHAIN, not an endless walk', async () => {
    const block = [64123, 2, 0, 0];
    const read: ReadRegisters = async (address, count) => {
      if (address === 40000) return Uint16Array.from(SUNS_MARKER);
      return Uint16Array.from({ length: count }, (_, i) => block[(address + i - 40002) % 4]!);
    };
    expect(await reasonOf(walkModelChain(read, { maxModels: 100 }))).toBe('CHAIN');
  });

  it('a chain broken by zeros: CHAIN', async () => {
    const d = device(40000, [common]);
    d.put(40070, [0, 0]);
    expect(await reasonOf(walkModelChain(d.read))).toBe('CHAIN');
  });

  it('a chain that stops without an end model: the read error surfaces', async () => {
    const m = new RegisterMap();
    m.put(40000, SUNS_MARKER);
    m.put(40002, common);
    await expect(walkModelChain(m.read)).rejects.toThrow(/illegal data address 40070/);
  });

  it('a read returning fewer registers than asked: TRUNCATED', async () => {
    const d = device(40000, [common]);
    const short: ReadRegisters = async (a, c) => (a === 40002 ? Uint16Array.of(1) : d.read(a, c));
    expect(await reasonOf(walkModelChain(short))).toBe('TRUNCATED');
  });
});
