import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { parseApdu, type Apdu } from '../../../src/protocols/dnp3/app/apdu.js';
import { parseObjects, type ObjectBlock } from '../../../src/protocols/dnp3/app/headers.js';
import { createChannelPair, tapChannel, type ByteChannel } from '../../../src/protocols/dnp3/channel/byte-channel.js';
import { FrameDecoder } from '../../../src/protocols/dnp3/link/frame.js';
import { Dnp3Master, type MasterOptions } from '../../../src/protocols/dnp3/master/master.js';
import { Dnp3Outstation, type OutstationOptions } from '../../../src/protocols/dnp3/outstation/outstation.js';
import { Session } from '../../../src/protocols/dnp3/session.js';
import { Reassembler } from '../../../src/protocols/dnp3/transport/transport.js';

export type Direction = 'toOutstation' | 'toMaster';

export interface WireApdu {
  readonly dir: Direction;
  readonly at: number;
  readonly apdu: Apdu;
  readonly blocks: readonly ObjectBlock[];
}

/** Decodes one direction of traffic into APDUs (frames -> segments -> APDUs). */
export class WireDecoder {
  private readonly frames = new FrameDecoder();
  private readonly reassembler = new Reassembler(65536);

  push(bytes: Uint8Array): Apdu[] {
    const out: Apdu[] = [];
    for (const f of this.frames.push(bytes)) {
      if (f.userData.length === 0) continue;
      const a = this.reassembler.push(f.userData);
      if (!a) continue;
      const p = parseApdu(a);
      if (p.ok) out.push(p.value);
    }
    return out;
  }
}

/** Should this APDU be dropped on the wire? (fault injection) */
export type DropRule = (a: Apdu, dir: Direction) => boolean;

export interface Pair {
  readonly clock: VirtualClock;
  readonly outstation: Dnp3Outstation;
  readonly master: Dnp3Master;
  /** Every APDU that went over the wire (dropped ones included, marked). */
  readonly log: (WireApdu & { dropped: boolean })[];
  drop: DropRule | null;
  /** APDUs of one direction that were delivered, optionally of one function. */
  sent(dir: Direction, fn?: number): WireApdu[];
}

/**
 * A master and an outstation over an in-memory channel pair in virtual time, with every APDU
 * logged and a hook to drop chosen ones. Each channel write is one frame, and the APDUs here fit
 * one frame unless a test makes them bigger, so dropping a frame drops its APDU.
 */
export function pair(o: { outstation: Omit<OutstationOptions, 'scheduler'>; master?: Omit<MasterOptions, 'scheduler'>; latencyMs?: number }): Pair {
  const clock = new VirtualClock();
  const [m, s] = createChannelPair({ scheduler: clock, latencyMs: o.latencyMs ?? 1 });
  const log: Pair['log'] = [];
  const dec: Record<Direction, WireDecoder> = { toOutstation: new WireDecoder(), toMaster: new WireDecoder() };
  const p = { clock, log, drop: null as DropRule | null } as Pair;
  const tap = (ch: ByteChannel, dir: Direction): ByteChannel =>
    tapChannel(ch, (way, bytes) => {
      if (way !== 'tx') return true;
      let keep = true;
      for (const apdu of dec[dir].push(bytes)) {
        const parsed = parseObjects(apdu.objects, !(apdu.kind === 'request' && [1, 0x14, 0x15].includes(apdu.function)));
        const dropped = p.drop?.(apdu, dir) ?? false;
        if (dropped) keep = false;
        log.push({ dir, at: clock.now(), apdu, blocks: parsed.blocks, dropped });
      }
      return keep;
    });
  const outstation = new Dnp3Outstation({ ...o.outstation, scheduler: clock });
  outstation.attach(tap(s, 'toMaster'));
  const master = new Dnp3Master(tap(m, 'toOutstation'), { ...o.master, scheduler: clock });
  return Object.assign(p, {
    outstation,
    master,
    sent: (dir: Direction, fn?: number) => log.filter((l) => !l.dropped && l.dir === dir && (fn === undefined || l.apdu.function === fn)),
  });
}

/** A bare master-side session, to send hand-made requests and see the raw responses. */
export function rawClient(channel: ByteChannel): { send(apdu: Uint8Array): void; responses: Apdu[] } {
  const responses: Apdu[] = [];
  const session = new Session({ localAddress: 1, remoteAddress: 10, isMaster: true, maxRxApduSize: 65536 }, (a) => {
    const p = parseApdu(a);
    if (p.ok) responses.push(p.value);
  });
  session.attach(channel);
  return { send: (apdu) => session.send(apdu), responses };
}
