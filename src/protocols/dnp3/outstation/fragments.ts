import { Writer } from '../app/bytes.js';
import { blockSize, Qualifier, writeBlock, type ObjectItem } from '../app/headers.js';
import { codecFor, type ObjectCodec } from '../app/objects.js';

/** Objects of one group/variation to report: static ones have consecutive indexes; events carry their ids. */
export interface Section {
  readonly kind: 'static' | 'event';
  readonly group: number;
  readonly variation: number;
  readonly items: readonly ObjectItem[];
  /** Event ids, parallel to items (event sections). */
  readonly eventIds?: readonly number[];
}

export interface Fragment {
  readonly objects: Uint8Array;
  readonly eventIds: ReadonlySet<number>;
}

/** APDU header of a response: control, function, IIN1, IIN2. */
const RESPONSE_HEADER = 4;
const CTO_BLOCK = 3 + 1 + 6;
const MAX_RELATIVE_MS = 0xffff;

/**
 * Cuts report sections into response fragments of at most `maxFragmentSize` octets (APDU header
 * included). Static data goes under start/stop qualifiers (0x00 when the indexes fit one octet,
 * else 0x01), events under 2-octet count and index (0x28); relative-time events get a common
 * time of occurrence (g51v1) ahead of them. A section may continue in the next fragment.
 */
export class FragmentCutter {
  private si = 0;
  private ii = 0;

  constructor(
    private readonly sections: readonly Section[],
    private readonly maxFragmentSize: number,
  ) {}

  get done(): boolean {
    return this.si >= this.sections.length;
  }

  next(): Fragment {
    const w = new Writer();
    const ids = new Set<number>();
    const budget = this.maxFragmentSize - RESPONSE_HEADER;
    while (!this.done) {
      const sec = this.sections[this.si]!;
      const codec = codecFor(sec.group, sec.variation)!;
      const left = sec.items.length - this.ii;
      if (left <= 0) {
        this.advance();
        continue;
      }
      const avail = budget - w.length;
      const n = sec.kind === 'static' ? Math.min(left, fit(codec, Qualifier.RANGE_16, avail)) : this.eventFit(sec, codec, avail, left);
      if (n <= 0) {
        if (w.length === 0) throw new RangeError(`fragment size ${this.maxFragmentSize} too small for one g${sec.group}v${sec.variation} object`);
        break;
      }
      const items = sec.items.slice(this.ii, this.ii + n);
      if (sec.kind === 'static') {
        const q = items[items.length - 1]!.index <= 0xff ? Qualifier.RANGE_8 : Qualifier.RANGE_16;
        writeBlock(w, { group: sec.group, variation: sec.variation, qualifier: q, items });
      } else {
        let cto: number | undefined;
        if (codec.relativeTime) {
          cto = timeOf(items[0]!);
          writeBlock(w, { group: 51, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time', time: cto } }] });
        }
        writeBlock(w, { group: sec.group, variation: sec.variation, qualifier: Qualifier.INDEX_16, items }, cto);
        for (let i = this.ii; i < this.ii + n; i++) ids.add(sec.eventIds![i]!);
      }
      this.ii += n;
      if (this.ii >= sec.items.length) this.advance();
    }
    return { objects: w.finish(), eventIds: ids };
  }

  private advance(): void {
    this.si++;
    this.ii = 0;
  }

  /** How many events from ii fit, keeping relative times within 16 bits of the first one. */
  private eventFit(sec: Section, codec: ObjectCodec, avail: number, left: number): number {
    if (!codec.relativeTime) return Math.min(left, fit(codec, Qualifier.INDEX_16, avail));
    let n = Math.min(left, fit(codec, Qualifier.INDEX_16, avail - CTO_BLOCK));
    const cto = timeOf(sec.items[this.ii]!);
    for (let i = 1; i < n; i++) {
      const dt = timeOf(sec.items[this.ii + i]!) - cto;
      if (dt < 0 || dt > MAX_RELATIVE_MS) {
        n = i;
        break;
      }
    }
    return n;
  }
}

function fit(codec: ObjectCodec, qualifier: number, avail: number): number {
  const head = blockSize(codec, qualifier, 0);
  if (avail <= head) return 0;
  if (codec.layout === 'packed') return (avail - head) * 8;
  return Math.floor((avail - head) / (blockSize(codec, qualifier, 1) - head));
}

function timeOf(it: ObjectItem): number {
  return 'time' in it.value ? (it.value.time ?? 0) : 0;
}
