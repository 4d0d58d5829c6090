import { BehaviorSubject, distinctUntilChanged, type Observable, type Subscription } from 'rxjs';
import type { ByteChannel } from './channel/byte-channel.js';
import { FrameDecoder, type FrameDecoderStats } from './link/frame.js';
import { LinkLayer, type LinkLayerStats } from './link/link-layer.js';
import { Reassembler, segment, type ReassemblyStats } from './transport/transport.js';

export interface SessionOptions {
  readonly localAddress: number;
  readonly remoteAddress: number;
  readonly isMaster: boolean;
  /** Bound on a reassembled APDU; bigger ones are discarded (counted). */
  readonly maxRxApduSize: number;
}

export interface SessionStats {
  readonly frames: FrameDecoderStats & { readonly pendingOctets: number };
  readonly link: LinkLayerStats;
  readonly transport: ReassemblyStats;
  apdusOut: number;
  /** APDUs whose handling threw (a bug on our side): counted, the session goes on. */
  handlerErrors: number;
}

/**
 * Link and transport layers of one association on whatever channel is attached: bytes in become
 * APDUs (to `onApdu`), APDUs out become segments in UNCONFIRMED_USER_DATA frames. One channel at a
 * time; attaching another replaces it. Nothing here throws on wire input.
 */
export class Session {
  private readonly decoder = new FrameDecoder();
  private readonly link: LinkLayer;
  private readonly reassembler: Reassembler;
  private readonly state = new BehaviorSubject(false);
  readonly online$: Observable<boolean> = this.state.pipe(distinctUntilChanged());
  private channel: ByteChannel | null = null;
  private subs: Subscription[] = [];
  private txSeq = 0;
  private apdusOut = 0;
  private handlerErrors = 0;

  constructor(
    readonly o: SessionOptions,
    private readonly onApdu: (apdu: Uint8Array) => void,
    onLinkSecondary: (func: number) => void = () => {},
  ) {
    this.reassembler = new Reassembler(o.maxRxApduSize);
    this.link = new LinkLayer(o, (b) => this.channel?.write(b), (t) => this.onSegment(t), onLinkSecondary);
  }

  get online(): boolean {
    return this.state.value;
  }

  get attached(): ByteChannel | null {
    return this.channel;
  }

  attach(channel: ByteChannel): void {
    this.detach();
    this.channel = channel;
    this.subs = [
      channel.received$.subscribe({
        next: (bytes) => this.onBytes(channel, bytes),
        complete: () => {
          if (this.channel === channel) this.detach();
        },
      }),
      channel.online$.subscribe((up) => {
        if (this.channel !== channel) return;
        if (!up) this.resetLayers();
        this.state.next(up);
      }),
    ];
  }

  detach(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.channel = null;
    this.resetLayers();
    this.state.next(false);
  }

  /** Send one APDU; false when no channel is online (nothing sent). */
  send(apdu: Uint8Array): boolean {
    const ch = this.channel;
    if (!ch || !ch.online) return false;
    const { segments, nextSeq } = segment(apdu, this.txSeq);
    this.txSeq = nextSeq;
    for (const s of segments) this.link.sendUserData(s);
    this.apdusOut++;
    return true;
  }

  requestLinkStatus(): boolean {
    if (!this.channel?.online) return false;
    this.link.requestLinkStatus();
    return true;
  }

  stats(): SessionStats {
    return { frames: { ...this.decoder.stats, pendingOctets: this.decoder.pendingLength }, link: { ...this.link.stats }, transport: { ...this.reassembler.stats }, apdusOut: this.apdusOut, handlerErrors: this.handlerErrors };
  }

  private onBytes(channel: ByteChannel, bytes: Uint8Array): void {
    if (this.channel !== channel) return;
    for (const f of this.decoder.push(bytes)) {
      if (this.channel !== channel) return;
      this.link.receive(f);
    }
  }

  private onSegment(tpdu: Uint8Array): void {
    const apdu = this.reassembler.push(tpdu);
    if (!apdu) return;
    try {
      this.onApdu(apdu);
    } catch {
      // Wire input must never take the station down; the count makes the bug visible.
      this.handlerErrors++;
    }
  }

  private resetLayers(): void {
    this.decoder.reset();
    this.link.reset();
    this.reassembler.reset();
  }
}
