import modbusSerial from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import { DermsError } from '../../core/errors.js';
import type { ModbusTarget } from '../../protocols/modbus-url.js';
import { formatModbusUrl } from '../../protocols/modbus-url.js';

/** A Modbus exception from the device (illegal function, address, value, device failure ...). */
export class ModbusException extends DermsError {
  constructor(
    readonly exceptionCode: number,
    message: string,
  ) {
    super('UNAVAILABLE', message);
  }
}

/** Holding-register access to one device, one request at a time. */
export interface RegisterTransport {
  readonly target: ModbusTarget;
  read(address: number, count: number): Promise<Uint16Array>;
  write(address: number, registers: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

type RtuTarget = Extract<ModbusTarget, { kind: 'rtu' }>;

/**
 * Modbus RTU on a serial line through modbus-serial (TCP goes through ModbusTcpPool). Requests
 * are serialized (a serial line takes one at a time); failures become typed errors:
 * ModbusException for exception responses, DermsError TIMEOUT for no answer, UNAVAILABLE for a
 * closed port or one that cannot be opened.
 */
export class ModbusSerialTransport implements RegisterTransport {
  // The package is CommonJS: under ESM its default export is the client constructor itself.
  private readonly client: ModbusClient = new (modbusSerial as unknown as new () => ModbusClient)();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(readonly target: RtuTarget) {}

  static async open(target: RtuTarget, timeoutMs = 2000): Promise<ModbusSerialTransport> {
    const t = new ModbusSerialTransport(target);
    try {
      await t.client.connectRTUBuffered(target.path, { baudRate: target.baudRate, parity: target.parity, dataBits: 8, stopBits: 1 });
    } catch (e) {
      throw new DermsError('UNAVAILABLE', `cannot connect to ${formatModbusUrl(target)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    t.client.setID(target.unit);
    t.client.setTimeout(timeoutMs);
    return t;
  }

  read(address: number, count: number): Promise<Uint16Array> {
    return this.serial(async () => {
      const r = await this.client.readHoldingRegisters(address, count);
      if (!Array.isArray(r.data) || r.data.length !== count) {
        throw new DermsError('UNAVAILABLE', `short response: asked ${count} registers at ${address}, got ${Array.isArray(r.data) ? r.data.length : 'none'}`);
      }
      return Uint16Array.from(r.data);
    }, `read ${count} at ${address}`);
  }

  write(address: number, registers: readonly number[]): Promise<void> {
    return this.serial(async () => {
      await this.client.writeRegisters(address, [...registers]);
    }, `write ${registers.length} at ${address}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      try {
        this.client.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private serial<T>(op: () => Promise<T>, what: string): Promise<T> {
    const run = this.chain.then(() => op().catch((e: unknown) => Promise.reject(this.typed(e, what))));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private typed(e: unknown, what: string): DermsError {
    if (e instanceof DermsError) return e;
    const err = e as { modbusCode?: number; errno?: string; message?: string };
    const where = `${formatModbusUrl(this.target)}: ${what}`;
    if (typeof err.modbusCode === 'number') return new ModbusException(err.modbusCode, `${where}: Modbus exception ${err.modbusCode} (${exceptionName(err.modbusCode)})`);
    if (err.errno === 'ETIMEDOUT' || /timed out/i.test(err.message ?? '')) return new DermsError('TIMEOUT', `${where}: no answer`);
    return new DermsError('UNAVAILABLE', `${where}: ${err.message ?? String(e)}`);
  }
}

export function exceptionName(code: number): string {
  return ({ 1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'server device failure', 5: 'acknowledge', 6: 'server device busy', 11: 'gateway target failed to respond' } as Record<number, string>)[code] ?? 'unknown';
}
