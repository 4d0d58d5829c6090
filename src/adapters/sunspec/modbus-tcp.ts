import { connect, type Socket } from 'node:net';
import { DermsError } from '../../core/errors.js';
import { modbusTcpAddress } from '../../protocols/modbus-url.js';
import { ModbusException, exceptionName, type RegisterTransport } from './modbus-transport.js';

/**
 * Modbus TCP client (MBAP framing) for holding registers, shared by every unit id behind one
 * host:port, as a DERMS talks to a gateway: one connection, each request carrying its unit id
 * and a transaction id. Up to `maxInFlight` requests are outstanding at once (1, the default,
 * suits devices that take one request at a time; more pipelines requests over the connection,
 * which the Modbus TCP specification allows and servers that queue handle); the rest wait in
 * order. Requests written in one tick leave in one write. Every failure is typed: exception
 * responses are ModbusException, no answer is TIMEOUT, a lost connection or a malformed answer
 * is UNAVAILABLE; a malformed stream (a bad MBAP header) drops the connection, since nothing
 * after it can be trusted.
 */

/** Registers one read may ask for (FC 3) and one write may carry (FC 16). */
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;
const FC_READ_HOLDING = 3;
const FC_WRITE_MULTIPLE = 16;
const MBAP = 7;

export interface ModbusTcpOptions {
  /** Requests outstanding on the connection at once (default 1). */
  readonly maxInFlight?: number;
  /** Give up connecting after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

interface Pending {
  readonly unit: number;
  readonly fc: number;
  readonly frame: Buffer;
  readonly timeoutMs: number;
  readonly what: string;
  readonly check: (pdu: Buffer) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  tid: number;
  timer: NodeJS.Timeout | null;
}

export class ModbusTcpConnection {
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  private nextTid = 1;
  private rx: Buffer | null = null;
  private corked = false;
  private closedWith: Error | null = null;
  private readonly closeListeners: (() => void)[] = [];
  /** Answers that came after their request timed out (ignored). */
  lateAnswers = 0;
  /** `modbus-tcp://host:port`, for messages. */
  private readonly where: string;

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly socket: Socket,
    private readonly maxInFlight: number,
  ) {
    this.where = modbusTcpAddress(host, port);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.shutDown(new DermsError('UNAVAILABLE', `${this.where}: connection lost: ${e.message}`)));
    socket.on('close', () => this.shutDown(new DermsError('UNAVAILABLE', `${this.where}: connection closed by the device`)));
  }

  static connect(host: string, port: number, o: ModbusTcpOptions = {}): Promise<ModbusTcpConnection> {
    const maxInFlight = o.maxInFlight ?? 1;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 65535) {
      return Promise.reject(new DermsError('INVALID_INPUT', `maxInFlight must be an integer from 1 to 65535, got ${maxInFlight}`));
    }
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const fail = (why: string): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new DermsError('UNAVAILABLE', `cannot connect to ${modbusTcpAddress(host, port)}: ${why}`));
      };
      const timer = setTimeout(() => fail('no answer'), o.connectTimeoutMs ?? 5000);
      socket.once('error', (e) => fail(e.message));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ModbusTcpConnection(host, port, socket, maxInFlight));
      });
    });
  }

  get isOpen(): boolean {
    return this.closedWith === null;
  }

  /** Called once when the connection ends, whatever the reason. */
  onClose(fn: () => void): void {
    if (this.closedWith) fn();
    else this.closeListeners.push(fn);
  }

  readHoldingRegisters(unit: number, address: number, count: number, timeoutMs: number): Promise<Uint16Array> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_READ_REGISTERS) {
      return Promise.reject(new DermsError('INVALID_INPUT', `a read takes 1 to ${MAX_READ_REGISTERS} registers, not ${count}`));
    }
    const pdu = Buffer.allocUnsafe(5);
    pdu[0] = FC_READ_HOLDING;
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(count, 3);
    return this.request(unit, pdu, timeoutMs, `read ${count} at ${address}`, (r) => {
      if (r.length < 2 || r[1] !== count * 2 || r.length !== 2 + count * 2) {
        throw new DermsError('UNAVAILABLE', `short response: asked ${count} registers at ${address}, got ${r.length >= 2 ? Math.floor(Math.min(r[1]!, r.length - 2) / 2) : 'none'}`);
      }
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = (r[2 + 2 * i]! << 8) | r[3 + 2 * i]!;
      return out;
    }) as Promise<Uint16Array>;
  }

  writeRegisters(unit: number, address: number, registers: readonly number[], timeoutMs: number): Promise<void> {
    const n = registers.length;
    if (n < 1 || n > MAX_WRITE_REGISTERS) return Promise.reject(new DermsError('INVALID_INPUT', `a write takes 1 to ${MAX_WRITE_REGISTERS} registers, not ${n}`));
    const pdu = Buffer.allocUnsafe(6 + 2 * n);
    pdu[0] = FC_WRITE_MULTIPLE;
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(n, 3);
    pdu[5] = 2 * n;
    registers.forEach((v, i) => pdu.writeUInt16BE(v & 0xffff, 6 + 2 * i));
    return this.request(unit, pdu, timeoutMs, `write ${n} at ${address}`, (r) => {
      if (r.length !== 5 || r.readUInt16BE(1) !== address || r.readUInt16BE(3) !== n) {
        throw new DermsError('UNAVAILABLE', `malformed answer to a write of ${n} registers at ${address}`);
      }
    }) as Promise<void>;
  }

  close(): Promise<void> {
    this.shutDown(new DermsError('UNAVAILABLE', `${this.where}: connection closed`));
    return Promise.resolve();
  }

  private request(unit: number, pdu: Buffer, timeoutMs: number, what: string, check: (pdu: Buffer) => unknown): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const frame = Buffer.allocUnsafe(MBAP + pdu.length);
    frame.writeUInt16BE(0, 2); // protocol: Modbus
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unit;
    pdu.copy(frame, MBAP);
    return new Promise((resolve, reject) => {
      this.queue.push({ unit, fc: pdu[0]!, frame, timeoutMs, what: `unit ${unit}: ${what}`, check, resolve, reject, tid: 0, timer: null });
      this.pump();
    });
  }

  /** Send queued requests while there is room in flight; one write per tick. */
  private pump(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      const p = this.queue.shift()!;
      p.tid = this.takeTid();
      p.frame.writeUInt16BE(p.tid, 0);
      this.inFlight.set(p.tid, p);
      p.timer = setTimeout(() => this.expire(p), p.timeoutMs);
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(p.frame);
    }
  }

  private takeTid(): number {
    for (;;) {
      const t = this.nextTid;
      this.nextTid = t === 0xffff ? 1 : t + 1;
      if (!this.inFlight.has(t)) return t;
    }
  }

  private expire(p: Pending): void {
    if (this.inFlight.get(p.tid) !== p) return;
    this.inFlight.delete(p.tid);
    p.reject(new DermsError('TIMEOUT', `${this.where}: ${p.what}: no answer in ${p.timeoutMs} ms`));
    this.pump();
  }

  private receive(chunk: Buffer): void {
    let buf = this.rx ? Buffer.concat([this.rx, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= MBAP) {
      const protocol = buf.readUInt16BE(at + 2);
      const length = buf.readUInt16BE(at + 4);
      if (protocol !== 0 || length < 2 || length > 254) {
        // shutDown destroys the socket: nothing after a bad header can be framed.
        this.shutDown(new DermsError('UNAVAILABLE', `${this.where}: malformed Modbus TCP header (protocol ${protocol}, length ${length}); connection dropped`));
        return;
      }
      if (buf.length - at < 6 + length) break;
      this.answer(buf.readUInt16BE(at), buf[at + 6]!, buf.subarray(at + MBAP, at + 6 + length));
      at += 6 + length;
    }
    buf = buf.subarray(at);
    this.rx = buf.length > 0 ? Buffer.from(buf) : null;
    this.pump();
  }

  private answer(tid: number, unit: number, pdu: Buffer): void {
    const p = this.inFlight.get(tid);
    if (!p) {
      this.lateAnswers++;
      return;
    }
    this.inFlight.delete(tid);
    clearTimeout(p.timer!);
    const fc = pdu[0]!;
    try {
      if (unit !== p.unit) throw new DermsError('UNAVAILABLE', `answer from unit ${unit}`);
      if (fc === (p.fc | 0x80)) {
        const code = pdu[1] ?? 0;
        throw new ModbusException(code, `${this.where}: ${p.what}: Modbus exception ${code} (${exceptionName(code)})`);
      }
      if (fc !== p.fc) throw new DermsError('UNAVAILABLE', `answer with function code ${fc} to function ${p.fc}`);
      p.resolve(p.check(pdu));
    } catch (e) {
      const err = e instanceof ModbusException ? e : new DermsError('UNAVAILABLE', `${this.where}: ${p.what}: ${e instanceof Error ? e.message : String(e)}`);
      p.reject(err);
    }
  }

  private shutDown(why: Error): void {
    if (this.closedWith) return;
    this.closedWith = why;
    this.socket.destroy();
    for (const p of this.inFlight.values()) {
      clearTimeout(p.timer!);
      p.reject(why);
    }
    this.inFlight.clear();
    for (const p of this.queue.splice(0)) p.reject(why);
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}

/**
 * Modbus TCP connections shared by host:port: every unit transport opened on the same gateway
 * uses one connection, opened on first use and closed when its last unit closes. A lost
 * connection is replaced by the next `open`.
 */
export class ModbusTcpPool {
  private readonly entries = new Map<string, { conn: Promise<ModbusTcpConnection>; users: number }>();

  constructor(private readonly o: ModbusTcpOptions = {}) {}

  /** Connections open now (for metrics and tests). */
  get size(): number {
    return this.entries.size;
  }

  async open(target: { host: string; port: number; unit: number }, timeoutMs = 2000): Promise<RegisterTransport> {
    const key = `${target.host}|${target.port}`;
    let e = this.entries.get(key);
    if (!e) {
      const conn = ModbusTcpConnection.connect(target.host, target.port, { ...this.o, connectTimeoutMs: this.o.connectTimeoutMs ?? Math.max(timeoutMs, 1000) });
      const entry = { conn, users: 0 };
      e = entry;
      this.entries.set(key, entry);
      conn.then(
        (c) => c.onClose(() => this.entries.get(key) === entry && this.entries.delete(key)),
        () => this.entries.get(key) === entry && this.entries.delete(key),
      );
    }
    e.users++;
    let conn: ModbusTcpConnection;
    try {
      conn = await e.conn;
    } catch (err) {
      e.users--;
      throw err;
    }
    const entry = e;
    let closed = false;
    const { unit } = target;
    return {
      target: { kind: 'tcp', host: target.host, port: target.port, unit },
      read: (address, count) => conn.readHoldingRegisters(unit, address, count, timeoutMs),
      write: (address, registers) => conn.writeRegisters(unit, address, registers, timeoutMs),
      close: async () => {
        if (closed) return;
        closed = true;
        if (--entry.users === 0) {
          if (this.entries.get(key) === entry) this.entries.delete(key);
          await conn.close();
        }
      },
    };
  }

  /** Close every connection (units still open see their requests fail as UNAVAILABLE). */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.conn.then((c) => c.close(), () => undefined)));
  }
}
