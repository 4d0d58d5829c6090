/** What can be wrong with a message from the wire, by kind. */
export type WireProblem =
  /** A topic outside the OpenFMB scheme, or a profile we do not take on this subscription. */
  | 'wrongTopic'
  /** Bytes that are not the profile the topic names (garbage, truncated protobuf). */
  | 'malformed'
  /** A well-formed profile for an mRID nobody here answers for. */
  | 'unknownDevice'
  /** The payload's equipment mRID or module disagrees with the topic. */
  | 'mismatch'
  /** A control the device could not act on (unsupported function, out of range, device fault). */
  | 'rejected'
  /** A control tagged out (modBlk): ignored by design. */
  | 'blocked';

/**
 * Counts problems with wire input and logs the first few of each kind (then every 1000th), so a
 * flood of garbage is visible without drowning the log. Nothing here throws.
 */
export class WireProblems {
  readonly counts: Record<WireProblem, number> = { wrongTopic: 0, malformed: 0, unknownDevice: 0, mismatch: 0, rejected: 0, blocked: 0 };

  constructor(
    private readonly who: string,
    private readonly log?: (line: string) => void,
  ) {}

  note(kind: WireProblem, detail: string): void {
    const n = ++this.counts[kind];
    if (this.log && (n <= 5 || n % 1000 === 0)) this.log(`${this.who}: ${kind}${n > 5 ? ` (#${n})` : ''}: ${detail}`);
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}
