import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusTcpConnection, ModbusTcpPool } from '../../../src/adapters/sunspec/modbus-tcp.js';
import { ModbusException } from '../../../src/adapters/sunspec/modbus-transport.js';
import { DermsError } from '../../../src/core/errors.js';

/** One decoded request as a scripted server sees it. */
interface Req {
  readonly tid: number;
  readonly unit: number;
  readonly fc: number;
  readonly address: number;
  readonly count: number;
  readonly sock: Socket;
}

/**
 * A Modbus TCP server scripted per test: `answer` returns the bytes to send back for each
 * request (or null for silence). It records requests, connections and how many data chunks
 * arrived (requests written in one tick arrive together).
 */
async function scripted(answer: (r: Req) => Buffer | null): Promise<{ port: number; requests: Req[]; connections: number; chunks: number; server: Server }> {
  const state = { port: 0, requests: [] as Req[], connections: 0, chunks: 0, server: null as unknown as Server };
  const server = createServer((sock) => {
    state.connections++;
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      state.chunks++;
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 7 && buf.length >= 6 + buf.readUInt16BE(4)) {
        const len = buf.readUInt16BE(4);
        const r: Req = { tid: buf.readUInt16BE(0), unit: buf[6]!, fc: buf[7]!, address: buf.readUInt16BE(8), count: buf.readUInt16BE(10), sock };
        buf = buf.subarray(6 + len);
        state.requests.push(r);
        const out = answer(r);
        if (out) sock.write(out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  state.server = server;
  servers.push(server);
  return state;
}

/** An MBAP frame: transaction id, unit, PDU. */
function frame(tid: number, unit: number, pdu: number[]): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

/** A correct answer to a read: register i holds unit * 1000 + address + i. */
function readAnswer(r: Req): Buffer {
  const pdu = [3, r.count * 2];
  for (let i = 0; i < r.count; i++) {
    const v = r.unit * 1000 + r.address + i;
    pdu.push(v >> 8, v & 0xff);
  }
  return frame(r.tid, r.unit, pdu);
}

const servers: Server[] = [];
const conns: ModbusTcpConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
async function connect(port: number, maxInFlight = 1): Promise<ModbusTcpConnection> {
  const c = await ModbusTcpConnection.connect('127.0.0.1', port, { maxInFlight });
  conns.push(c);
  return c;
}
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e);

describe('Modbus TCP client', () => {
  it('reads and writes registers of several units over one connection', async () => {
    const s = await scripted((r) => (r.fc === 3 ? readAnswer(r) : frame(r.tid, r.unit, [16, r.address >> 8, r.address & 0xff, 0, r.count])));
    const c = await connect(s.port);
    expect([...(await c.readHoldingRegisters(7, 40000, 3, 1000))]).toEqual([47000, 47001, 47002]);
    expect([...(await c.readHoldingRegisters(200, 100, 125, 1000))].slice(0, 2)).toEqual([200100 & 0xffff, 200101 & 0xffff]);
    await c.writeRegisters(9, 40010, [1, 2, 0xffff], 1000);
    expect(s.requests.map((r) => [r.unit, r.fc])).toEqual([[7, 3], [200, 3], [9, 16]]);
    expect(s.connections).toBe(1);
  });

  it('keeps one request in flight by default and pipelines up to maxInFlight, each answer matched by transaction id', async () => {
    const held: Req[] = [];
    const s = await scripted((r) => {
      held.push(r);
      return null;
    });
    const one = await connect(s.port, 1);
    const reads = [1, 2, 3].map((u) => one.readHoldingRegisters(u, 0, 1, 2000));
    await new Promise((r) => setTimeout(r, 50));
    expect(held).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      held[i]!.sock.write(readAnswer(held[i]!));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await Promise.all(reads)).map((x) => x[0])).toEqual([1000, 2000, 3000]);

    held.length = 0;
    const four = await connect(s.port, 4);
    const many = [1, 2, 3, 4, 5, 6].map((u) => four.readHoldingRegisters(u, 0, 1, 2000));
    await new Promise((r) => setTimeout(r, 50));
    expect(held).toHaveLength(4);
    // Answered out of order: each still reaches its own request.
    for (const r of [...held].reverse()) r.sock.write(readAnswer(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(held).toHaveLength(6);
    for (const r of held.slice(4)) r.sock.write(readAnswer(r));
    expect((await Promise.all(many)).map((x) => x[0])).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
  });

  it('sends requests made in one tick in one write', async () => {
    const s = await scripted(readAnswer);
    const c = await connect(s.port, 16);
    await Promise.all(Array.from({ length: 16 }, (_, i) => c.readHoldingRegisters(i + 1, 0, 2, 1000)));
    expect(s.requests).toHaveLength(16);
    expect(s.chunks).toBe(1);
  });

  it('turns exception answers into ModbusException and keeps the connection', async () => {
    const s = await scripted((r) => (r.address === 9 ? frame(r.tid, r.unit, [0x83, 2]) : readAnswer(r)));
    const c = await connect(s.port);
    const e = await failure(c.readHoldingRegisters(1, 9, 1, 1000));
    expect(e).toBeInstanceOf(ModbusException);
    expect((e as ModbusException).exceptionCode).toBe(2);
    expect((e as Error).message).toMatch(/unit 1: read 1 at 9: Modbus exception 2 \(illegal data address\)/);
    expect((await c.readHoldingRegisters(1, 10, 1, 1000))[0]).toBe(1010);
  });

  it('times out on silence, ignores the late answer, and goes on', async () => {
    let late: Req | null = null;
    const s = await scripted((r) => {
      if (r.address === 1) {
        late = r;
        return null;
      }
      return readAnswer(r);
    });
    const c = await connect(s.port);
    const e = await failure(c.readHoldingRegisters(1, 1, 1, 100));
    expect(e).toBeInstanceOf(DermsError);
    expect((e as DermsError).code).toBe('TIMEOUT');
    late!.sock.write(readAnswer(late!));
    expect((await c.readHoldingRegisters(1, 2, 1, 1000))[0]).toBe(1002);
    expect(c.lateAnswers).toBe(1);
  });

  it('refuses short, mismatched and wrong-function answers as UNAVAILABLE without crashing', async () => {
    const s = await scripted((r) => {
      if (r.address === 1) return frame(r.tid, r.unit, [3, 4, 0, 1]); // says 4 bytes, carries 2
      if (r.address === 2) return frame(r.tid, r.unit + 1, [3, 2, 0, 1]); // another unit
      if (r.address === 3) return frame(r.tid, r.unit, [4, 2, 0, 1]); // another function
      if (r.address === 4) return frame(r.tid, r.unit, [16, 0, 5, 0, 1]); // write echo of another address
      return readAnswer(r);
    });
    const c = await connect(s.port);
    expect(String(await failure(c.readHoldingRegisters(1, 1, 2, 1000)))).toMatch(/short response/);
    expect(String(await failure(c.readHoldingRegisters(1, 2, 1, 1000)))).toMatch(/answer from unit 2/);
    expect(String(await failure(c.readHoldingRegisters(1, 3, 1, 1000)))).toMatch(/function code 4 to function 3/);
    expect(String(await failure(c.writeRegisters(1, 4, [1], 1000)))).toMatch(/malformed answer to a write/);
    expect(c.isOpen).toBe(true);
    expect((await c.readHoldingRegisters(1, 5, 1, 1000))[0]).toBe(1005);
  });

  it('drops the connection on a malformed MBAP header and fails everything outstanding', async () => {
    const s = await scripted((r) => Buffer.from([0, r.tid, 0x12, 0x34, 0, 3, r.unit, 3, 0]));
    const c = await connect(s.port, 2);
    const [a, b] = await Promise.all([failure(c.readHoldingRegisters(1, 0, 1, 1000)), failure(c.readHoldingRegisters(2, 0, 1, 1000))]);
    expect(String(a)).toMatch(/malformed Modbus TCP header \(protocol 4660/);
    expect((b as DermsError).code).toBe('UNAVAILABLE');
    expect(c.isOpen).toBe(false);
    expect(String(await failure(c.readHoldingRegisters(1, 0, 1, 1000)))).toMatch(/malformed Modbus TCP header/);
  });

  it('reassembles answers split across reads and several answers in one read', async () => {
    const pending: Req[] = [];
    const s = await scripted((r) => {
      pending.push(r);
      if (pending.length < 2) return null;
      const all = Buffer.concat(pending.map(readAnswer));
      void (async () => {
        for (let i = 0; i < all.length; i += 5) {
          r.sock.write(all.subarray(i, i + 5));
          await new Promise((x) => setTimeout(x, 2));
        }
      })();
      return null;
    });
    const c = await connect(s.port, 2);
    const got = await Promise.all([c.readHoldingRegisters(1, 0, 3, 1000), c.readHoldingRegisters(2, 0, 3, 1000)]);
    expect(got.map((g) => [...g])).toEqual([
      [1000, 1001, 1002],
      [2000, 2001, 2002],
    ]);
  });

  it('fails what is outstanding when the device hangs up, and refuses bad arguments', async () => {
    const s = await scripted((r) => {
      r.sock.destroy();
      return null;
    });
    const c = await connect(s.port);
    expect(String(await failure(c.readHoldingRegisters(1, 0, 1, 1000)))).toMatch(/connection (closed by the device|lost)/);
    expect(String(await failure(c.readHoldingRegisters(1, 0, 126, 1000)))).toMatch(/1 to 125 registers/);
    expect(String(await failure(c.writeRegisters(1, 0, new Array(124).fill(0), 1000)))).toMatch(/1 to 123 registers/);
    expect(String(await failure(ModbusTcpConnection.connect('127.0.0.1', s.port, { maxInFlight: 0 })))).toMatch(/maxInFlight/);
  });

  it('says it cannot connect when nothing listens', async () => {
    const s = await scripted(() => null);
    const port = s.port;
    await new Promise((r) => s.server.close(r));
    servers.length = 0;
    expect(String(await failure(ModbusTcpConnection.connect('127.0.0.1', port)))).toMatch(/cannot connect to modbus-tcp:\/\/127\.0\.0\.1:\d+/);
  });
});

describe('Modbus TCP pool', () => {
  it('shares one connection per host:port among units, closes it with the last unit, and replaces a lost one', async () => {
    const s = await scripted(readAnswer);
    const pool = new ModbusTcpPool();
    const units = await Promise.all([1, 2, 3].map((unit) => pool.open({ host: '127.0.0.1', port: s.port, unit }, 1000)));
    expect((await Promise.all(units.map((u) => u.read(0, 1)))).map((x) => x[0])).toEqual([1000, 2000, 3000]);
    expect(s.connections).toBe(1);
    expect(pool.size).toBe(1);
    await units[0]!.close();
    await units[0]!.close(); // twice is once
    expect(pool.size).toBe(1);
    await units[1]!.close();
    await units[2]!.close();
    expect(pool.size).toBe(0);

    const again = await pool.open({ host: '127.0.0.1', port: s.port, unit: 4 }, 1000);
    expect(s.connections).toBe(2);
    for (const sock of s.requests.map((r) => r.sock)) sock.destroy();
    await again.read(0, 1).catch(() => undefined);
    // The lost connection is gone from the pool; the next unit gets a fresh one.
    for (const r of s.requests) r.sock.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const fresh = await pool.open({ host: '127.0.0.1', port: s.port, unit: 5 }, 1000);
    expect((await fresh.read(0, 1))[0]).toBe(5000);
    await fresh.close();
    await again.close();
    await pool.close();
  });

  it('reports a connection failure to every unit waiting for it', async () => {
    const s = await scripted(() => null);
    const port = s.port;
    await new Promise((r) => s.server.close(r));
    servers.length = 0;
    const pool = new ModbusTcpPool();
    const results = await Promise.all([1, 2].map((unit) => failure(pool.open({ host: '127.0.0.1', port, unit }, 500))));
    for (const r of results) expect(String(r)).toMatch(/cannot connect/);
    expect(pool.size).toBe(0);
  });
});
