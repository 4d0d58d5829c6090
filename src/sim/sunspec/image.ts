import { ModelRegistry, SUNS_MARKER, encodeLayout, decodeWrite, isSunSpecError, layoutFor, type ModelLayout } from '../../protocols/sunspec/index.js';
import type { SimInverter } from '../inverter.js';
import { SunSpec700Face, CURVE_COUNTS, type WriteResult } from './device-700.js';
import { LEGACY_CURVES, SunSpecLegacyFace } from './device-legacy.js';
import type { PointValues } from './values-700.js';

export type SunSpecProfile = 'legacy' | '700' | 'both';

/** A Modbus exception the server answers with. */
export class ModbusServerError extends Error {
  constructor(
    readonly modbusErrorCode: 2 | 3 | 4,
    message: string,
  ) {
    super(message);
  }
}

interface Face {
  models(): number[];
  read(model: number): PointValues;
  write(model: number, changed: PointValues): WriteResult;
}

interface Block {
  readonly model: number;
  readonly address: number;
  readonly layout: ModelLayout;
  readonly face: Face;
}

const shared = new ModelRegistry();
const END_MODEL = [0xffff, 0];

/**
 * The SunSpec register image of one simulated device: "SunS" at the base, then its model chain
 * (model 1 first) and the end model. Reads encode live values of the models they touch; writes
 * decode the points they cover and hand them to the device, which accepts all of them or none
 * (Modbus exception 3). Writes to read-only points or outside the image are exception 2.
 */
export class SunSpecDeviceImage {
  readonly base: number;
  readonly size: number;
  private readonly blocks: Block[] = [];

  constructor(
    readonly device: SimInverter,
    readonly unitId: number,
    profile: SunSpecProfile,
    base = 40000,
    registry: ModelRegistry = shared,
  ) {
    this.base = base;
    const faces: Face[] = [];
    if (profile !== '700') faces.push(new SunSpecLegacyFace(device, unitId));
    if (profile !== 'legacy') faces.push(new SunSpec700Face(device, unitId));
    const seen = new Set<number>();
    let address = base + 2;
    for (const face of faces) {
      for (const model of face.models()) {
        if (seen.has(model)) continue;
        seen.add(model);
        const counts: Record<string, number> = model === 705 || model === 706 ? { ...CURVE_COUNTS } : model === 126 || model === 132 ? { curve: LEGACY_CURVES } : {};
        const layout = layoutFor(registry.require(model), counts);
        this.blocks.push({ model, address, layout, face });
        address += layout.size;
      }
    }
    this.size = address + END_MODEL.length - base;
  }

  /** The models served, with their addresses (as a client's discovery will find them). */
  chain(): { id: number; address: number; length: number }[] {
    return this.blocks.map((b) => ({ id: b.model, address: b.address, length: b.layout.length }));
  }

  read(address: number, count: number): number[] {
    this.checkRange(address, count);
    const out = new Array<number>(count);
    const end = address + count;
    const put = (at: number, regs: ArrayLike<number>): void => {
      for (let i = 0; i < regs.length; i++) {
        const a = at + i;
        if (a >= address && a < end) out[a - address] = regs[i]!;
      }
    };
    put(this.base, SUNS_MARKER);
    for (const b of this.blocks) {
      if (b.address + b.layout.size <= address || b.address >= end) continue;
      put(b.address, this.encode(b));
    }
    put(this.base + this.size - END_MODEL.length, END_MODEL);
    return out;
  }

  write(address: number, regs: readonly number[]): void {
    this.checkRange(address, regs.length);
    const end = address + regs.length;
    const touched = this.blocks.filter((b) => b.address < end && b.address + b.layout.size > address);
    if (touched.length === 0 || address < touched[0]!.address || end > touched.at(-1)!.address + touched.at(-1)!.layout.size) {
      throw new ModbusServerError(2, `write at ${address} (${regs.length}) is not inside a model`);
    }
    for (const b of touched) {
      const from = Math.max(address, b.address);
      const to = Math.min(end, b.address + b.layout.size);
      let points;
      try {
        points = decodeWrite(b.layout, this.encode(b), from - b.address, regs.slice(from - address, to - address)).points;
      } catch (e) {
        if (isSunSpecError(e)) throw new ModbusServerError(2, e.message);
        throw e;
      }
      const changed: PointValues = {};
      for (const p of points) changed[p.path] = typeof p.value === 'bigint' ? Number(p.value) : p.value;
      const r = b.face.write(b.model, changed);
      if (!r.ok) throw new ModbusServerError(3, `model ${b.model}: ${r.reason}`);
    }
  }

  private encode(b: Block): Uint16Array {
    return encodeLayout(b.layout, b.face.read(b.model));
  }

  private checkRange(address: number, count: number): void {
    if (count < 1 || address < this.base || address + count > this.base + this.size) {
      throw new ModbusServerError(2, `registers ${address}..${address + count - 1} are outside the SunSpec image ${this.base}..${this.base + this.size - 1}`);
    }
  }
}
