import modbusSerial from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import type { RegisterTransport } from '../../src/adapters/sunspec/modbus-transport.js';
import type { ModbusTarget } from '../../src/protocols/modbus-url.js';

/**
 * One Modbus TCP connection to a gateway port shared by every unit id behind it, as a DERMS
 * talks to a real Modbus gateway: requests from all its units are serialized on the one
 * connection (one in flight), each sent with its unit's id. `ModbusSerialTransport` binds one unit
 * id per connection, so the benchmark's shared-connection variant uses this instead; failures are
 * plain errors (the benchmark only counts them).
 */
export class SharedModbusConnection {
  // The package is CommonJS: under ESM its default export is the client constructor itself.
  private readonly client: ModbusClient = new (modbusSerial as unknown as new () => ModbusClient)();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  static async open(host: string, port: number, timeoutMs: number): Promise<SharedModbusConnection> {
    const c = new SharedModbusConnection(host, port);
    await c.client.connectTCP(host, { port });
    c.client.setTimeout(timeoutMs);
    return c;
  }

  /** The transport of one unit behind this connection; closing it leaves the connection open. */
  unit(unit: number): RegisterTransport {
    const target: ModbusTarget = { kind: 'tcp', host: this.host, port: this.port, unit };
    return {
      target,
      read: (address, count) =>
        this.serial(async () => {
          this.client.setID(unit);
          const r = await this.client.readHoldingRegisters(address, count);
          if (!Array.isArray(r.data) || r.data.length !== count) throw new Error(`unit ${unit}: short response at ${address}`);
          return Uint16Array.from(r.data);
        }),
      write: (address, registers) =>
        this.serial(async () => {
          this.client.setID(unit);
          await this.client.writeRegisters(address, [...registers]);
        }),
      close: () => Promise.resolve(),
    };
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.client.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
