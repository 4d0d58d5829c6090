import { encodeFrame, LinkPrimary, LinkSecondary, type LinkFrame } from './frame.js';

export interface LinkLayerOptions {
  /** Our link address (0..65519). */
  readonly localAddress: number;
  /** The peer's link address; frames from another source are ignored. */
  readonly remoteAddress: number;
  /** Sets DIR on every frame we send. */
  readonly isMaster: boolean;
}

export interface LinkLayerStats {
  framesIn: number;
  framesOut: number;
  /** Frames addressed to another station (normal on a shared line). */
  wrongDestination: number;
  /** Frames for us from a station we are not associated with. */
  wrongSource: number;
  /** CONFIRMED_USER_DATA repeats (same FCB) acknowledged but not delivered again. */
  duplicateFrames: number;
  /** Primary functions we answer with NOT_SUPPORTED. */
  unsupportedFunctions: number;
  linkStatusRequests: number;
  /** Secondary frames (ACK, NACK, LINK_STATUS, NOT_SUPPORTED) received. */
  secondaryFrames: number;
}

/**
 * The secondary-station duties of the link layer for one association: answers RESET_LINK_STATES
 * and TEST_LINK_STATES with ACK, REQUEST_LINK_STATUS with LINK_STATUS, acknowledges
 * CONFIRMED_USER_DATA (dropping repeats by FCB once the link is reset), and hands user data on.
 * Outgoing user data goes as UNCONFIRMED_USER_DATA, as over TCP practically everyone does.
 */
export class LinkLayer {
  readonly stats: LinkLayerStats = {
    framesIn: 0,
    framesOut: 0,
    wrongDestination: 0,
    wrongSource: 0,
    duplicateFrames: 0,
    unsupportedFunctions: 0,
    linkStatusRequests: 0,
    secondaryFrames: 0,
  };
  /** Expected FCB of the next CONFIRMED_USER_DATA, once a RESET_LINK_STATES was seen. */
  private expectedFcb: boolean | null = null;

  constructor(
    private readonly o: LinkLayerOptions,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly deliver: (tpdu: Uint8Array) => void,
    private readonly onSecondary: (func: number) => void = () => {},
  ) {}

  reset(): void {
    this.expectedFcb = null;
  }

  receive(f: LinkFrame): void {
    this.stats.framesIn++;
    if (f.dst !== this.o.localAddress) {
      this.stats.wrongDestination++;
      return;
    }
    if (f.src !== this.o.remoteAddress) {
      this.stats.wrongSource++;
      return;
    }
    if (!f.prm) {
      this.stats.secondaryFrames++;
      this.onSecondary(f.func);
      return;
    }
    switch (f.func) {
      case LinkPrimary.UNCONFIRMED_USER_DATA:
        if (f.userData.length > 0) this.deliver(f.userData);
        return;
      case LinkPrimary.CONFIRMED_USER_DATA: {
        this.answer(LinkSecondary.ACK);
        if (this.expectedFcb !== null && f.fcv) {
          if (f.fcb !== this.expectedFcb) {
            this.stats.duplicateFrames++;
            return;
          }
          this.expectedFcb = !this.expectedFcb;
        }
        if (f.userData.length > 0) this.deliver(f.userData);
        return;
      }
      case LinkPrimary.RESET_LINK_STATES:
        this.expectedFcb = true;
        this.answer(LinkSecondary.ACK);
        return;
      case LinkPrimary.TEST_LINK_STATES:
        if (this.expectedFcb !== null && f.fcb === this.expectedFcb) this.expectedFcb = !this.expectedFcb;
        this.answer(LinkSecondary.ACK);
        return;
      case LinkPrimary.REQUEST_LINK_STATUS:
        this.stats.linkStatusRequests++;
        this.answer(LinkSecondary.LINK_STATUS);
        return;
      default:
        this.stats.unsupportedFunctions++;
        this.answer(LinkSecondary.NOT_SUPPORTED);
    }
  }

  sendUserData(tpdu: Uint8Array): void {
    this.send({ prm: true, fcb: false, fcv: false, func: LinkPrimary.UNCONFIRMED_USER_DATA, userData: tpdu });
  }

  /** Ask the peer whether it is there (the DNP3-over-TCP keep-alive); its LINK_STATUS comes to onSecondary. */
  requestLinkStatus(): void {
    this.send({ prm: true, fcb: false, fcv: false, func: LinkPrimary.REQUEST_LINK_STATUS, userData: new Uint8Array(0) });
  }

  private answer(func: number): void {
    this.send({ prm: false, fcb: false, fcv: false, func, userData: new Uint8Array(0) });
  }

  private send(f: Omit<LinkFrame, 'dir' | 'dst' | 'src'>): void {
    this.stats.framesOut++;
    this.write(encodeFrame({ ...f, dir: this.o.isMaster, dst: this.o.remoteAddress, src: this.o.localAddress }));
  }
}
