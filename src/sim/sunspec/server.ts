import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import modbusSerial from 'modbus-serial';
import type { ServerTCP as ServerTcpType, IServiceVector } from 'modbus-serial/ServerTCP.js';
import { formatModbusUrl } from '../../protocols/modbus-url.js';
import type { SimInverter } from '../inverter.js';
import { ModbusServerError, SunSpecDeviceImage, type SunSpecProfile } from './image.js';

// modbus-serial is CommonJS; its ServerTCP is a property of the module object.
const { ServerTCP } = modbusSerial as unknown as { ServerTCP: new (vector: IServiceVector, options: { host: string; port: number; unitID: number }) => ServerTcpType };

export interface SunSpecServedDevice {
  readonly device: SimInverter;
  readonly profile: SunSpecProfile;
  /** 'port': a listening port of its own; 'gateway': a unit id behind a shared port. */
  readonly mode: 'port' | 'gateway';
}

export interface SunSpecEndpoint {
  readonly mRID: string;
  readonly protocol: 'sunspec';
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly unit: number;
}

type Cb<T> = (err: Error | null, value: T) => void;
const modbusError = (code: number, msg: string): Error => Object.assign(new Error(msg), { modbusErrorCode: code });
/** Unit ids a gateway hands out (Modbus serial addresses 1..247). */
const UNITS_PER_GATEWAY = 247;
/**
 * How long a gateway waits for a unit on its serial side before it answers exception 11
 * (gateway target device failed to respond), as Modbus TCP gateways do.
 */
export const GATEWAY_TARGET_TIMEOUT_MS = 500;

/**
 * Serve simulated devices as SunSpec Modbus TCP devices: each on a port of its own, or many
 * behind gateway ports by unit id. Answers follow the devices' faults: a device with a
 * communication loss does not answer; a slow one answers late.
 */
export class SunSpecServers {
  private readonly servers: ServerTcpType[] = [];
  private readonly list: SunSpecEndpoint[] = [];

  private constructor(private readonly host: string) {}

  static async start(devices: readonly SunSpecServedDevice[], opts: { host?: string; basePort?: number } = {}): Promise<SunSpecServers> {
    const s = new SunSpecServers(opts.host ?? '127.0.0.1');
    let nextPort = opts.basePort ?? 0;
    const port = (): number => (nextPort === 0 ? 0 : nextPort++);
    try {
      for (const d of devices.filter((x) => x.mode === 'port')) {
        const img = new SunSpecDeviceImage(d.device, 1, d.profile);
        const p = await s.listen(() => img, port(), false);
        s.add(d.device.id, p, 1);
      }
      const behind = devices.filter((x) => x.mode === 'gateway');
      for (let g = 0; g < behind.length; g += UNITS_PER_GATEWAY) {
        const units = new Map<number, SunSpecDeviceImage>();
        behind.slice(g, g + UNITS_PER_GATEWAY).forEach((d, i) => units.set(i + 1, new SunSpecDeviceImage(d.device, i + 1, d.profile)));
        const p = await s.listen((unit) => units.get(unit), port(), true);
        for (const [unit, img] of units) s.add(img.device.id, p, unit);
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  endpoints(): readonly SunSpecEndpoint[] {
    return this.list;
  }

  async close(): Promise<void> {
    // Drop open client connections too, or closing would wait for every client to hang up.
    for (const srv of this.servers) for (const sock of srv.socks.keys()) sock.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    this.servers.length = 0;
  }

  private add(mRID: string, port: number, unit: number): void {
    this.list.push({ mRID, protocol: 'sunspec', url: formatModbusUrl({ kind: 'tcp', host: this.host, port, unit }), host: this.host, port, unit });
  }

  private async listen(imageFor: (unit: number) => SunSpecDeviceImage | undefined, port: number, gateway: boolean): Promise<number> {
    const vector = serviceVector(imageFor, gateway);
    // modbus-serial treats port 0 as "502": ask the OS for a free port first.
    const srv = new ServerTCP(vector, { host: this.host, port: port === 0 ? await freePort(this.host) : port, unitID: 255 });
    this.servers.push(srv);
    const net = (srv as unknown as { _server: Server })._server;
    if (!net.listening) await Promise.race([once(net, 'listening'), once(srv, 'serverError').then(([e]) => Promise.reject(e as Error))]);
    return (net.address() as AddressInfo).port;
  }
}

/** A TCP port nobody listens on right now. */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A simulated device served as a SunSpec Modbus RTU slave on a serial line (or pseudo-terminal). */
export class SunSpecRtuServer {
  private constructor(private readonly server: { close(cb: () => void): void }) {}

  static async start(device: SimInverter, o: { path: string; baudRate: number; unitId: number; profile: SunSpecProfile }): Promise<SunSpecRtuServer> {
    const { ServerSerial } = modbusSerial as unknown as { ServerSerial: new (vector: IServiceVector, options: Record<string, unknown>) => NodeJS.EventEmitter & { close(cb: () => void): void } };
    const img = new SunSpecDeviceImage(device, o.unitId, o.profile);
    const srv = new ServerSerial(serviceVector((unit) => (unit === o.unitId ? img : undefined)), { path: o.path, baudRate: o.baudRate, unitID: o.unitId });
    await Promise.race([once(srv, 'initialized'), once(srv, 'error').then(([e]) => Promise.reject(e as Error))]);
    return new SunSpecRtuServer(srv);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The Modbus service for a set of images by unit id. Answers follow each device's faults: a
 * device with a communication loss does not answer (behind a gateway, the gateway answers
 * exception 11 after its serial timeout, so the other units on the connection are not held up
 * for the client's whole timeout); a slow one answers late.
 */
function serviceVector(imageFor: (unit: number) => SunSpecDeviceImage | undefined, gateway = false): IServiceVector {
  const answer = <T>(unit: number, cb: Cb<T>, op: (img: SunSpecDeviceImage) => T): void => {
    const img = imageFor(unit);
    if (!img) return cb(modbusError(0x0b, `no device at unit ${unit}`), undefined as T); // gateway target failed to respond
    const f = img.device.faults;
    if (f.commsLoss) {
      if (gateway) setTimeout(() => cb(modbusError(0x0b, `unit ${unit} does not answer`), undefined as T), GATEWAY_TARGET_TIMEOUT_MS);
      return; // a device of its own: no answer at all, the client times out
    }
    let result: T;
    try {
      result = op(img);
    } catch (e) {
      const err = e instanceof ModbusServerError ? modbusError(e.modbusErrorCode, e.message) : modbusError(4, String(e));
      const fail = (): void => cb(err, undefined as T);
      return f.responseDelayMs > 0 ? void setTimeout(fail, f.responseDelayMs) : fail();
    }
    if (f.responseDelayMs > 0) setTimeout(() => cb(null, result), f.responseDelayMs);
    else cb(null, result);
  };
  return {
    getHoldingRegister: (addr: number, unit: number, cb: Cb<number>) => answer(unit, cb, (img) => img.read(addr, 1)[0]!),
    getMultipleHoldingRegisters: (addr: number, len: number, unit: number, cb: Cb<number[]>) => answer(unit, cb, (img) => img.read(addr, len)),
    setRegister: (addr: number, value: number, unit: number, cb: Cb<void>) => answer(unit, cb, (img) => img.write(addr, [value])),
    setRegisterArray: (addr: number, values: number[], unit: number, cb: Cb<void>) => answer(unit, cb, (img) => img.write(addr, values)),
  };
}
