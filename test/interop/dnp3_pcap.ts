/**
 * Writes captured DNP3 traffic as a classic pcap file (Ethernet / IPv4 / TCP around each payload),
 * for dissection by tshark. The TCP stream starts with a three-way handshake and carries correct
 * sequence and acknowledgement numbers; checksums are left zero (read with tcp.check_checksum off).
 */
export interface PcapPacket {
  /** Client (master) to server (outstation), or the reverse. */
  readonly fromClient: boolean;
  readonly payload: Uint8Array;
}

const CLIENT = { mac: [0x02, 0, 0, 0, 0, 0x01], ip: [10, 0, 0, 1], port: 50_000 };
const SERVER = { mac: [0x02, 0, 0, 0, 0, 0x0a], ip: [10, 0, 0, 10], port: 20_000 };
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

export function pcapFile(packets: readonly PcapPacket[], startMs = Date.UTC(2026, 0, 1)): Uint8Array {
  const records: Uint8Array[] = [];
  const seq = { client: 1000, server: 5000 };
  let t = startMs * 1000;
  const push = (fromClient: boolean, flags: number, payload: Uint8Array): void => {
    const [src, dst] = fromClient ? [CLIENT, SERVER] : [SERVER, CLIENT];
    const mySeq = fromClient ? seq.client : seq.server;
    const ack = flags & ACK ? (fromClient ? seq.server : seq.client) : 0;
    records.push(record((t += 1000), ethernet(src, dst, ipv4(src.ip, dst.ip, tcp(src.port, dst.port, mySeq, ack, flags, payload)))));
    const advance = payload.length + (flags & SYN ? 1 : 0);
    if (fromClient) seq.client += advance;
    else seq.server += advance;
  };
  push(true, SYN, new Uint8Array(0));
  push(false, SYN | ACK, new Uint8Array(0));
  push(true, ACK, new Uint8Array(0));
  for (const p of packets) push(p.fromClient, PSH | ACK, p.payload);
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, 65_535, true);
  h.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  return concat([header, ...records]);
}

function record(usec: number, data: Uint8Array): Uint8Array {
  const r = new Uint8Array(16);
  const v = new DataView(r.buffer);
  v.setUint32(0, Math.floor(usec / 1e6), true);
  v.setUint32(4, usec % 1e6, true);
  v.setUint32(8, data.length, true);
  v.setUint32(12, data.length, true);
  return concat([r, data]);
}

function ethernet(src: typeof CLIENT, dst: typeof CLIENT, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([...dst.mac, ...src.mac, 0x08, 0x00]), payload]);
}

function ipv4(src: number[], dst: number[], payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  const v = new DataView(h.buffer);
  h[0] = 0x45;
  v.setUint16(2, 20 + payload.length);
  h[8] = 64; // TTL
  h[9] = 6; // TCP
  h.set(src, 12);
  h.set(dst, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  return concat([h, payload]);
}

function tcp(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  const v = new DataView(h.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, seq >>> 0);
  v.setUint32(8, ack >>> 0);
  h[12] = 5 << 4;
  h[13] = flags;
  v.setUint16(14, 65_535);
  return concat([h, payload]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
