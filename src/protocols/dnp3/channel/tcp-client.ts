import { connect, type Socket } from 'node:net';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { Timer } from '../timer.js';
import { BaseChannel } from './byte-channel.js';

export interface TcpClientOptions {
  readonly host: string;
  /** Default 20000. */
  readonly port?: number;
  readonly scheduler?: SchedulerLike;
  /** First reconnect wait; doubles after each failure up to maxBackoffMs. Default 1000. */
  readonly minBackoffMs?: number;
  /** Default 30000. */
  readonly maxBackoffMs?: number;
  /** A connection attempt that takes longer fails. Default 5000. */
  readonly connectTimeoutMs?: number;
}

export interface TcpClientStats {
  connects: number;
  connectFailures: number;
  disconnects: number;
}

/**
 * The master side of DNP3 over TCP: one connection to an outstation (or a gateway), reconnected
 * with exponential back-off whenever it drops, until closed. Goes online/offline accordingly.
 */
export class TcpClientChannel extends BaseChannel {
  private socket: Socket | null = null;
  private readonly retry: Timer;
  private readonly connectTimer: Timer;
  private backoff: number;
  readonly stats: TcpClientStats = { connects: 0, connectFailures: 0, disconnects: 0 };

  constructor(private readonly o: TcpClientOptions) {
    super();
    const scheduler = o.scheduler ?? asyncScheduler;
    this.retry = new Timer(scheduler);
    this.connectTimer = new Timer(scheduler);
    this.backoff = o.minBackoffMs ?? 1000;
    this.open();
  }

  write(bytes: Uint8Array): void {
    if (this.online && this.socket) this.socket.write(bytes);
  }

  close(): void {
    if (this.closed) return;
    this.retry.cancel();
    this.connectTimer.cancel();
    this.socket?.destroy();
    this.socket = null;
    this.finish();
  }

  private open(): void {
    if (this.closed) return;
    const s = connect({ host: this.o.host, port: this.o.port ?? 20000 });
    this.socket = s;
    let up = false;
    this.connectTimer.start(this.o.connectTimeoutMs ?? 5000, () => s.destroy());
    s.on('connect', () => {
      this.connectTimer.cancel();
      up = true;
      this.stats.connects++;
      this.backoff = this.o.minBackoffMs ?? 1000;
      s.setNoDelay(true);
      this.setOnline(true);
    });
    s.on('data', (b: Buffer) => {
      if (this.socket === s) this.rx.next(b);
    });
    s.on('error', () => {
      // 'close' follows; the reconnect happens there.
    });
    s.on('close', () => {
      this.connectTimer.cancel();
      if (this.socket !== s) return;
      this.socket = null;
      if (up) this.stats.disconnects++;
      else this.stats.connectFailures++;
      this.setOnline(false);
      if (this.closed) return;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 30_000);
      this.retry.start(wait, () => this.open());
    });
  }
}
