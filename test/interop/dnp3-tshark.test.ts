import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import {
  CommandStatus,
  createChannelPair,
  Dnp3Master,
  Dnp3Outstation,
  Dnp3TcpServer,
  FrameDecoder,
  OpType,
  parseApdu,
  parseObjects,
  tapChannel,
  TcpClientChannel,
  type DecodedFrame,
  type ObjectBlock,
} from '../../src/protocols/dnp3/index.js';
import { pcapFile, type PcapPacket } from './dnp3_pcap.js';
import { peer } from './peers.js';

const tshark = peer('tshark', ['tshark', '--version']);
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** tshark fields we read, one column each (multiple occurrences joined by ','). */
const FIELDS = [
  'dnp3.ctl.dir',
  'dnp3.ctl.prm',
  'dnp3.ctl.prifunc',
  'dnp3.ctl.secfunc',
  'dnp3.dst',
  'dnp3.src',
  'dnp.hdr.CRC.status',
  'dnp.data_chunk.CRC.status',
  'dnp3.tr.fir',
  'dnp3.tr.fin',
  'dnp3.al.func',
  'dnp3.al.seq',
  'dnp3.al.uns',
  'dnp3.al.con',
  'dnp3.al.obj',
  'dnp3.al.index',
  'dnp3.al.point_index',
  'dnp3.al.ana.int',
  'dnp3.al.ana.float',
  'dnp3.al.anaout.int',
  'dnp3.al.cnt',
  'dnp3.al.ctrlstatus',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

async function dissect(packets: readonly PcapPacket[]): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dnp3-pcap-'));
  const file = join(dir, 'session.pcap');
  await writeFile(file, pcapFile(packets));
  const args = ['-r', file, '-o', 'tcp.check_checksum:FALSE', '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of FIELDS) args.push('-e', f);
  const out = await run('tshark', args);
  return out
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split('|').map((v, i) => [FIELDS[i], v])) as Row);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Captured {
  readonly fromClient: boolean;
  readonly frame: DecodedFrame;
}

/** A real session over TCP, every frame recorded in wire order by a tap on the master's channel. */
async function recordSession(): Promise<Captured[]> {
  const server = await Dnp3TcpServer.listen({ port: 0 });
  cleanup.push(() => server.close());
  const o: Dnp3Outstation = new Dnp3Outstation({
    localAddress: 10,
    needTimeAtStartup: true,
    database: {
      points: {
        binaryInput: 2,
        analogInput: [{}, { staticVariation: 5, eventVariation: 7 }],
        counter: 1,
        analogOutputStatus: [{ staticVariation: 1 }],
      },
    },
    onCommand: (c, mode): number => {
      if (mode !== 'select' && c.type === 'analogOutput') o.update('analogOutputStatus', 0, c.value);
      return CommandStatus.SUCCESS;
    },
  });
  cleanup.push(() => o.close());
  o.update('binaryInput', 1, true);
  o.update('analogInput', 0, -1234);
  o.update('analogInput', 1, 59.5);
  o.update('counter', 0, 987654);
  server.add(o);
  const decoders = { tx: new FrameDecoder(), rx: new FrameDecoder() };
  const frames: Captured[] = [];
  const channel = tapChannel(new TcpClientChannel({ host: '127.0.0.1', port: server.port }), (dir, bytes) => {
    for (const frame of decoders[dir].push(bytes)) frames.push({ fromClient: dir === 'tx', frame });
  });
  const m = new Dnp3Master(channel, { remoteAddress: 10 });
  cleanup.push(() => m.close());
  await until(() => m.point('counter', 0)?.value === 987654 && m.iin?.iin1 === 0, 'startup');
  o.update('analogInput', 0, 4321);
  o.update('analogInput', 1, 60.25);
  await until(() => m.point('analogInput', 1)?.value === 60.25, 'unsolicited events');
  expect(await m.directOperate({ type: 'crob', index: 5, opType: OpType.LATCH_ON, onTimeMs: 1000 })).toMatchObject({ ok: true });
  expect(await m.selectOperate({ type: 'analogOutput', index: 88, value: 500 })).toMatchObject({ ok: true });
  expect(await m.integrityPoll()).toMatchObject({ ok: true });
  expect(m.requestLinkStatus()).toBe(true);
  await until(() => m.stats().linkStatusReplies === 1, 'LINK_STATUS');
  expect(decoders.tx.stats.discardedOctets + decoders.rx.stats.discardedOctets).toBe(0);
  return frames;
}

/** What tshark should show for a frame, from our own decoding of it. */
function expected(f: DecodedFrame): Partial<Row> {
  const row: Partial<Row> = {
    'dnp3.ctl.dir': f.dir ? '1' : '0',
    'dnp3.ctl.prm': f.prm ? '1' : '0',
    'dnp3.dst': String(f.dst),
    'dnp3.src': String(f.src),
    'dnp.hdr.CRC.status': '1',
    'dnp.data_chunk.CRC.status': Array.from({ length: Math.ceil(f.userData.length / 16) }, () => '1').join(','),
  };
  if (!f.prm) return { ...row, 'dnp3.ctl.secfunc': String(f.func) };
  row['dnp3.ctl.prifunc'] = String(f.func);
  if (f.userData.length === 0) return row;
  const p = parseApdu(f.userData.subarray(1));
  if (!p.ok) throw p.error;
  const a = p.value;
  const isRead = a.kind === 'request' && [0x01, 0x14, 0x15].includes(a.function);
  const { blocks, error } = parseObjects(a.objects, !isRead);
  if (error) throw error;
  const values = (pick: (b: ObjectBlock) => boolean, field: (v: ObjectBlock['items'][number]['value']) => number | undefined): string =>
    blocks
      .filter(pick)
      .flatMap((b) => b.items.map((i) => field(i.value)))
      .filter((x) => x !== undefined)
      .join(',');
  const indexed = (b: ObjectBlock): boolean => (b.qualifier & 0x70) !== 0;
  // tshark shows analog inputs as ana.*, analog output statuses and commands as anaout.*.
  const intAnalog = (b: ObjectBlock): boolean => (b.group === 30 && b.variation <= 4) || (b.group === 32 && b.variation <= 4);
  const floatAnalog = (b: ObjectBlock): boolean => (b.group === 30 && b.variation === 5) || (b.group === 32 && (b.variation === 5 || b.variation === 7));
  const intOutput = (b: ObjectBlock): boolean => (b.group === 40 || b.group === 41) && b.variation <= 2;
  return {
    ...row,
    'dnp3.tr.fir': '1',
    'dnp3.tr.fin': '1',
    'dnp3.al.func': String(a.function),
    'dnp3.al.seq': String(a.control.seq),
    'dnp3.al.obj': blocks.map((b) => `0x${((b.group << 8) | b.variation).toString(16).padStart(4, '0')}`).join(','),
    'dnp3.al.index': blocks.filter(indexed).flatMap((b) => b.items.map((i) => i.index)).join(','),
    'dnp3.al.ana.int': values(intAnalog, (v) => (v.type === 'analog' ? v.value : undefined)),
    'dnp3.al.ana.float': values(floatAnalog, (v) => (v.type === 'analog' ? v.value : undefined)),
    'dnp3.al.anaout.int': values(intOutput, (v) => (v.type === 'analogOutput' || v.type === 'analog' ? v.value : undefined)),
    'dnp3.al.cnt': values((b) => b.group === 20 || b.group === 22, (v) => (v.type === 'counter' ? v.value : undefined)),
    'dnp3.al.ctrlstatus': values((b) => b.group === 12 || b.group === 41, (v) => (v.type === 'crob' || v.type === 'analogOutput' ? v.status : undefined)),
  };
}

describe.skipIf(!tshark.available)('DNP3 on the wire, dissected by tshark', () => {
  it('every frame of a real master/outstation session dissects as DNP3 with good CRCs and the content we meant', async () => {
    const frames = await recordSession();
    const rows = await dissect(frames.map((c) => ({ fromClient: c.fromClient, payload: c.frame.raw })));
    expect(rows).toHaveLength(frames.length);
    const fns = new Set<string>();
    frames.forEach((c, i) => {
      const want = expected(c.frame);
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, rows[i]![k as keyof Row]]));
      expect({ frame: i, ...got }).toEqual({ frame: i, ...want });
      if (want['dnp3.al.func']) fns.add(want['dnp3.al.func']);
    });
    // The session covered what we meant to show tshark: link functions, then application ones.
    expect(rows.map((r) => r['dnp3.ctl.prifunc'])).toContain('9');
    expect(rows.map((r) => r['dnp3.ctl.secfunc'])).toContain('11');
    for (const fn of ['0', '1', '2', '3', '4', '5', '20', '21', '23', '129', '130']) expect([...fns]).toContain(fn);
  });

  it('a corrupted data-chunk CRC: tshark shows it bad, and our stack rejects the frame', async () => {
    const frames = await recordSession();
    const i = frames.findIndex((c) => !c.fromClient && c.frame.userData.length > 16 && c.frame.userData[2] === 0x81);
    expect(i).toBeGreaterThanOrEqual(0);
    const bad = frames[i]!.frame.raw.slice();
    bad[10 + 16 + 1]! ^= 0xff; // second octet of the first data block's CRC
    const packets = frames.map((c, k) => ({ fromClient: c.fromClient, payload: k === i ? bad : c.frame.raw }));
    const rows = await dissect(packets);
    expect(rows[i]!['dnp.hdr.CRC.status']).toBe('1');
    expect(rows[i]!['dnp.data_chunk.CRC.status'].split(',')[0]).toBe('0');
    rows.forEach((r, k) => k !== i && expect(r['dnp.data_chunk.CRC.status']).not.toContain('0'));

    // Our decoder drops it and counts it; a master given it processes nothing from it.
    const d = new FrameDecoder();
    expect(d.push(bad)).toHaveLength(0);
    expect(d.stats.badDataCrc).toBe(1);
    const clock = new VirtualClock();
    const [mine, peerSide] = createChannelPair({ scheduler: clock });
    const m = new Dnp3Master(mine, { scheduler: clock, remoteAddress: 10, unsolicited: false });
    const seen: unknown[] = [];
    m.measurements$.subscribe((x) => seen.push(x));
    peerSide.write(bad);
    await clock.advanceBy(10);
    expect(m.stats().session.frames.badDataCrc).toBe(1);
    expect(m.stats().responses + m.stats().unexpectedResponses).toBe(0);
    expect(seen).toHaveLength(0);
    m.close();
  });
});
