import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { DermsError } from '../../core/errors.js';
import type { BrokerTarget } from './url.js';
import { formatBrokerUrl } from './url.js';

export interface EmbeddedBrokerOptions {
  readonly host?: string;
  /** TCP port; 0 (the default) lets the OS choose one. */
  readonly port?: number;
  /** Messages the broker routes at once (aedes' `concurrency`); raised for large fleets. */
  readonly concurrency?: number;
}

const SOCKET_BUFFER_BYTES = 1 << 20;

/**
 * aedes writes every message it delivers on its own (each delivery runs in a setImmediate of its
 * own), so a subscriber receiving thousands of messages a second cost one system call each. The
 * socket is held corked from its first write until the end of the event loop's next check phase,
 * so what the deliveries of one turn write leaves in one write; order is unchanged.
 */
function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let held = false;
  const release = (): void => {
    held = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!held) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    return write.apply(this, args as never);
  } as Socket['write'];
}

/**
 * An MQTT 3.1.1 broker in this process (aedes, in-memory persistence) on a TCP port, so the
 * simulator, the DERMS, `derms scan` and tools like mosquitto_sub can all reach it. Persistent
 * sessions and QoS 1 queues live as long as the broker does.
 */
export class EmbeddedBroker {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(o: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const host = o.host ?? '127.0.0.1';
    const aedes = await Aedes.createBroker({ concurrency: o.concurrency ?? 1000, heartbeatInterval: 60_000, maxClientsIdLength: 256 });
    // A misbehaving client (bad packet, slow reader) is dropped by aedes; the broker keeps serving.
    aedes.on('clientError', () => undefined);
    aedes.on('connectionError', () => undefined);
    // Large socket buffers: a busy subscriber takes bursts without aedes waiting for 'drain' at every message.
    const server = createServer({ highWaterMark: SOCKET_BUFFER_BYTES }, (socket) => {
      coalesceWrites(socket);
      aedes.handle(socket);
    });
    try {
      server.listen(o.port ?? 0, host);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (e) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new DermsError('UNAVAILABLE', `embedded MQTT broker cannot listen on ${host}:${o.port ?? 0}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const broker = new EmbeddedBroker(aedes, server, host, (server.address() as AddressInfo).port);
    server.on('connection', (s) => {
      broker.sockets.add(s);
      s.once('close', () => broker.sockets.delete(s));
    });
    return broker;
  }

  /** Where clients connect. */
  target(): BrokerTarget {
    return { tls: null, host: this.host, port: this.port, protocolVersion: 4 };
  }

  get url(): string {
    return formatBrokerUrl(this.target());
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  /** Stop listening, drop every client and the broker's sessions. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
