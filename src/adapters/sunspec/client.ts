import { DermsError } from '../../core/errors.js';
import {
  ModelRegistry,
  chunkReads,
  decodeModel,
  layoutFromBlock,
  planWrites,
  walkModelChain,
  type ChainEntry,
  type DecodedModel,
  type ModelLayout,
} from '../../protocols/sunspec/index.js';
import type { RegisterTransport } from './modbus-transport.js';
import type { ModelValues } from './semantics.js';

export interface ModelInfo extends ChainEntry {
  readonly layout: ModelLayout | null;
  /** Registers a poll reads: through the last point that is not a string (see `poll`). */
  readonly pollSize: number;
}

/** Registers from the ID register through the model's last non-string point. */
function pollSizeOf(layout: ModelLayout): number {
  let end = 2;
  for (const p of layout.points) if (p.def.type !== 'string') end = Math.max(end, p.offset + p.def.size);
  return end;
}

/**
 * A SunSpec device over a register transport: discovery (base, chain, layouts from each
 * model's own counts), coalesced and chunked reads of whole models, and point writes planned
 * against the last block with a read-back.
 */
export class SunSpecClient {
  private constructor(
    readonly transport: RegisterTransport,
    readonly registry: ModelRegistry,
    readonly models: ReadonlyMap<number, ModelInfo>,
    private readonly blocks: Map<number, Uint16Array>,
  ) {}

  static async discover(transport: RegisterTransport, registry = new ModelRegistry()): Promise<SunSpecClient> {
    const chain = await walkModelChain((a, n) => transport.read(a, n), { models: registry });
    const models = new Map<number, ModelInfo>();
    const blocks = new Map<number, Uint16Array>();
    const client = new SunSpecClient(transport, registry, models, blocks);
    const known = chain.filter((c) => c.known && !models.has(c.id));
    const raw = await client.readRanges(known.map((c) => ({ address: c.address, count: c.length + 2 })));
    known.forEach((c, i) => {
      const def = registry.require(c.id);
      blocks.set(c.id, raw[i]!);
      const layout = layoutFromBlock(def, raw[i]!);
      models.set(c.id, { ...c, layout, pollSize: pollSizeOf(layout) });
    });
    for (const c of chain) if (!models.has(c.id)) models.set(c.id, { ...c, layout: null, pollSize: 0 });
    return client;
  }

  has(id: number): boolean {
    return this.models.get(id)?.layout != null;
  }

  /** Read and decode these models (the first instance of each), coalescing adjacent blocks. */
  async read(ids: readonly number[]): Promise<Map<number, DecodedModel>> {
    const infos = ids.map((id) => this.models.get(id)).filter((m): m is ModelInfo => !!m?.layout);
    const raw = await this.readRanges(infos.map((m) => ({ address: m.address, count: m.length + 2 })));
    const out = new Map<number, DecodedModel>();
    infos.forEach((m, i) => {
      this.blocks.set(m.id, raw[i]!);
      out.set(m.id, decodeModel(m.layout!.def, raw[i]!));
    });
    return out;
  }

  /**
   * Telemetry: each model read only through its last non-string point, since trailing texts
   * (701's 32-register alarm text) do not change a sample; that makes a 701 one request instead
   * of two. The texts keep the value last read in full.
   */
  async poll(ids: readonly number[]): Promise<Map<number, ModelValues>> {
    const infos = ids.map((id) => this.models.get(id)).filter((m): m is ModelInfo => !!m?.layout);
    const raw = await this.readRanges(infos.map((m) => ({ address: m.address, count: m.pollSize })));
    const out = new Map<number, ModelValues>();
    infos.forEach((m, i) => {
      const block = this.blocks.get(m.id) ?? new Uint16Array(m.length + 2);
      block.set(raw[i]!);
      this.blocks.set(m.id, block);
      out.set(m.id, decodeModel(m.layout!.def, block).values as ModelValues);
    });
    return out;
  }

  async readValues(ids: readonly number[]): Promise<Map<number, ModelValues>> {
    const decoded = await this.read(ids);
    return new Map([...decoded].map(([id, d]) => [id, d.values as ModelValues]));
  }

  /**
   * Write points of one model (planned against its last block, so scale factors and the other
   * half of a sync group are right), then read the model back. Returns the decoded read-back.
   */
  async write(id: number, values: Readonly<Record<string, number | string | null>>): Promise<{ writes: { address: number; registers: number[] }[]; readBack: DecodedModel }> {
    const m = this.models.get(id);
    if (!m?.layout) throw new DermsError('UNSUPPORTED', `the device does not serve SunSpec model ${id}`);
    const block = this.blocks.get(id) ?? (await this.readRanges([{ address: m.address, count: m.length + 2 }]))[0]!;
    const writes = planWrites(m.layout, values, { block }).map((w) => ({ address: m.address + w.offset, registers: [...w.registers] }));
    for (const w of writes) await this.transport.write(w.address, w.registers);
    return { writes, readBack: (await this.read([id])).get(id)! };
  }

  /** Resolution of a point in its model's last block (10^sf), for read-back comparison. */
  quantum(id: number, path: string): number {
    const m = this.models.get(id);
    const slot = m?.layout?.byPath.get(path);
    if (!slot || slot.sf === undefined) return 1e-6;
    if (typeof slot.sf === 'number') return 10 ** slot.sf;
    const block = this.blocks.get(id);
    const raw = block?.[slot.sf.offset];
    const sf = raw === undefined ? 0 : (raw << 16) >> 16;
    return sf >= -10 && sf <= 10 ? 10 ** sf : 1;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Read register ranges as few requests of at most 125 registers as they allow. */
  private async readRanges(ranges: readonly { address: number; count: number }[]): Promise<Uint16Array[]> {
    if (ranges.length === 0) return [];
    const out = ranges.map((r) => new Uint16Array(r.count));
    // Copy each chunk into every requested range it overlaps (no per-register bookkeeping: hot path).
    for (const c of chunkReads(ranges.map((x) => ({ address: x.address, count: x.count })))) {
      const regs = await this.transport.read(c.address, c.count);
      ranges.forEach((r, i) => {
        const from = Math.max(r.address, c.address);
        const to = Math.min(r.address + r.count, c.address + c.count);
        if (from < to) out[i]!.set(regs.subarray(from - c.address, to - c.address), from - r.address);
      });
    }
    return out;
  }
}
