import { asapScheduler, BehaviorSubject, distinctUntilChanged, Subject, type Observable, type SchedulerLike } from 'rxjs';

/**
 * What the DNP3 stack needs from a transport: bytes in, bytes out, and whether it is connected.
 * TCP (client or server side) implements it here; a serial port can follow.
 */
export interface ByteChannel {
  /** Bytes from the peer, in order, in any chunking. Completes when the channel is closed for good. */
  readonly received$: Observable<Uint8Array>;
  /** Whether bytes can flow; emits the current state on subscription. A reconnecting client goes false and true again. */
  readonly online$: Observable<boolean>;
  readonly online: boolean;
  /** Send bytes; dropped when offline. */
  write(bytes: Uint8Array): void;
  /** Close for good (no reconnect). */
  close(): void;
}

/** The common part of channels: subjects for received bytes and the online state. */
export abstract class BaseChannel implements ByteChannel {
  protected readonly rx = new Subject<Uint8Array>();
  protected readonly state = new BehaviorSubject<boolean>(false);
  readonly received$: Observable<Uint8Array> = this.rx.asObservable();
  readonly online$: Observable<boolean> = this.state.pipe(distinctUntilChanged());
  protected closed = false;

  get online(): boolean {
    return this.state.value;
  }

  abstract write(bytes: Uint8Array): void;
  abstract close(): void;

  protected setOnline(v: boolean): void {
    if (this.state.value !== v) this.state.next(v);
  }

  protected finish(): void {
    this.closed = true;
    this.setOnline(false);
    this.state.complete();
    this.rx.complete();
  }
}

export interface ChannelPairOptions {
  /** Delivery happens on this scheduler (a VirtualClock in tests); default: as soon as possible. */
  readonly scheduler?: SchedulerLike;
  /** One-way delay of every write. */
  readonly latencyMs?: number;
}

class MemoryChannel extends BaseChannel {
  peer!: MemoryChannel;

  constructor(private readonly o: ChannelPairOptions) {
    super();
    this.setOnline(true);
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    const copy = new Uint8Array(bytes);
    const peer = this.peer;
    (this.o.scheduler ?? asapScheduler).schedule(() => {
      if (!peer.closed) peer.rx.next(copy);
    }, this.o.latencyMs ?? 0);
  }

  close(): void {
    if (this.closed) return;
    this.finish();
    this.peer.close();
  }
}

/** Two connected in-memory channels (a write on one arrives on the other, asynchronously). Closing either closes both. */
export function createChannelPair(o: ChannelPairOptions = {}): [ByteChannel, ByteChannel] {
  const a = new MemoryChannel(o);
  const b = new MemoryChannel(o);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export type TapDirection = 'tx' | 'rx';

/**
 * The same channel, with every byte chunk that goes out (`tx`) or comes in (`rx`) shown to `tap`
 * first; for captures and tests. `tx` may return false to drop the chunk (fault injection).
 */
export function tapChannel(inner: ByteChannel, tap: (dir: TapDirection, bytes: Uint8Array) => boolean | void): ByteChannel {
  const received$ = new Subject<Uint8Array>();
  inner.received$.subscribe({
    next: (b) => {
      if (tap('rx', b) !== false) received$.next(b);
    },
    complete: () => received$.complete(),
  });
  return {
    received$: received$.asObservable(),
    online$: inner.online$,
    get online() {
      return inner.online;
    },
    write(bytes) {
      if (tap('tx', bytes) !== false) inner.write(bytes);
    },
    close: () => inner.close(),
  };
}
