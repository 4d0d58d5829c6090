import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Dnp3Error } from '../errors.js';
import { FrameDecoder } from '../link/frame.js';
import type { Dnp3Outstation } from '../outstation/outstation.js';
import { BaseChannel, type ByteChannel } from './byte-channel.js';

export interface TcpServerOptions {
  /** Default '127.0.0.1'; '0.0.0.0' serves every interface. */
  readonly host?: string;
  /** Default 20000; 0 asks the OS for a free port. */
  readonly port?: number;
}

/**
 * Puts something between a connection and the outstation it serves (a simulated device's faults:
 * silence, delay). Called once per connection the outstation is bound to.
 */
export type ChannelDecorator = (channel: ByteChannel) => ByteChannel;

export interface TcpServerStats {
  connections: number;
  openConnections: number;
  /** Good frames addressed to no outstation we serve. */
  unknownDestination: number;
  badHeaderCrc: number;
  badDataCrc: number;
  discardedOctets: number;
}

/** One outstation's view of one TCP connection: the frames addressed to it in, its frames out. */
class ConnectionChannel extends BaseChannel {
  constructor(private readonly socket: Socket) {
    super();
    this.setOnline(true);
  }

  deliver(frame: Uint8Array): void {
    if (!this.closed) this.rx.next(frame);
  }

  write(bytes: Uint8Array): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  close(): void {
    if (!this.closed) this.finish();
  }
}

/**
 * The outstation side of DNP3 over TCP. Any number of outstations share the listening port,
 * told apart by the link destination address of each frame: an outstation is bound to the
 * connection that last addressed it (one outstation per port works the same way, and is bound
 * as soon as a master connects, so its startup unsolicited response goes out at once).
 */
export class Dnp3TcpServer {
  private readonly byAddress = new Map<number, Dnp3Outstation>();
  private readonly decorators = new Map<Dnp3Outstation, ChannelDecorator>();
  private readonly sockets = new Set<Socket>();
  private readonly totals: TcpServerStats = { connections: 0, openConnections: 0, unknownDestination: 0, badHeaderCrc: 0, badDataCrc: 0, discardedOctets: 0 };
  private readonly live = new Set<FrameDecoder>();

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async listen(o: TcpServerOptions = {}): Promise<Dnp3TcpServer> {
    const host = o.host ?? '127.0.0.1';
    const server = createServer();
    server.listen(o.port ?? 20000, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
    const s = new Dnp3TcpServer(server, host, (server.address() as AddressInfo).port);
    server.on('connection', (sock) => s.accept(sock));
    return s;
  }

  /** Serve an outstation on this port, under its link address (through `decorate`, when given). */
  add(outstation: Dnp3Outstation, decorate?: ChannelDecorator): void {
    const other = this.byAddress.get(outstation.localAddress);
    if (other && other !== outstation) throw new Dnp3Error('CONFIG', `link address ${outstation.localAddress} is already served on port ${this.port}`);
    this.byAddress.set(outstation.localAddress, outstation);
    if (decorate) this.decorators.set(outstation, decorate);
  }

  remove(outstation: Dnp3Outstation): void {
    if (this.byAddress.get(outstation.localAddress) !== outstation) return;
    this.byAddress.delete(outstation.localAddress);
    this.decorators.delete(outstation);
    outstation.detach();
  }

  outstations(): Dnp3Outstation[] {
    return [...this.byAddress.values()];
  }

  stats(): TcpServerStats {
    const s = { ...this.totals };
    for (const d of this.live) {
      s.badHeaderCrc += d.stats.badHeaderCrc;
      s.badDataCrc += d.stats.badDataCrc;
      s.discardedOctets += d.stats.discardedOctets;
    }
    return s;
  }

  /** Stop listening and drop every connection (outstations stay usable elsewhere). */
  async close(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(sock: Socket): void {
    sock.setNoDelay(true);
    this.sockets.add(sock);
    this.totals.connections++;
    this.totals.openConnections++;
    const decoder = new FrameDecoder();
    this.live.add(decoder);
    // Per outstation address: the connection's channel, and what the outstation is attached to.
    const channels = new Map<number, { raw: ConnectionChannel; seen: ByteChannel }>();
    const bind = (o: Dnp3Outstation): ConnectionChannel => {
      let ch = channels.get(o.localAddress);
      if (!ch) {
        const raw = new ConnectionChannel(sock);
        channels.set(o.localAddress, (ch = { raw, seen: this.decorators.get(o)?.(raw) ?? raw }));
      }
      if (o.channel !== ch.seen) o.attach(ch.seen);
      return ch.raw;
    };
    if (this.byAddress.size === 1) bind([...this.byAddress.values()][0]!);
    sock.on('data', (b: Buffer) => {
      for (const f of decoder.push(b)) {
        const o = this.byAddress.get(f.dst);
        if (!o) {
          this.totals.unknownDestination++;
          continue;
        }
        bind(o).deliver(f.raw);
      }
    });
    sock.on('error', () => {
      // 'close' follows.
    });
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.live.delete(decoder);
      this.totals.openConnections--;
      this.totals.badHeaderCrc += decoder.stats.badHeaderCrc;
      this.totals.badDataCrc += decoder.stats.badDataCrc;
      this.totals.discardedOctets += decoder.stats.discardedOctets;
      for (const ch of channels.values()) ch.raw.close();
    });
  }
}
