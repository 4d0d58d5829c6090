"""A SunSpec walk with pymodbus (Debian's python3-pymodbus): the independent client for interop tests.

Usage: sunspec_client.py HOST PORT UNIT -> prints one JSON object."""
import json
import sys

from pymodbus.client import ModbusTcpClient


def regs(client, address, count, unit):
    out = []
    while count > 0:
        n = min(count, 125)  # the most one Modbus read may ask for
        r = client.read_holding_registers(address, n, slave=unit)
        if r.isError():
            raise SystemExit(f"read {n} at {address} failed: {r}")
        out += r.registers
        address += n
        count -= n
    return out


def text(words):
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    return raw.split(b"\0", 1)[0].decode("ascii")


def s16(x):
    return x - 0x10000 if x & 0x8000 else x


def main():
    host, port, unit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = ModbusTcpClient(host, port=port)
    if not client.connect():
        raise SystemExit("cannot connect")
    base = 40000
    if regs(client, base, 2, unit) != [0x5375, 0x6E53]:
        raise SystemExit("no SunS at 40000")
    addr = base + 2
    chain = []
    while True:
        mid = regs(client, addr, 1, unit)[0]
        if mid == 0xFFFF:
            break
        length = regs(client, addr + 1, 1, unit)[0]
        chain.append({"id": mid, "address": addr, "length": length})
        addr += length + 2
    out = {"chain": chain}
    common = next(m for m in chain if m["id"] == 1)
    out["Mn"] = text(regs(client, common["address"] + 2, 16, unit))
    out["SN"] = text(regs(client, common["address"] + 50, 16, unit))
    m701 = next((m for m in chain if m["id"] == 701), None)
    if m701:
        block = regs(client, m701["address"], m701["length"] + 2, unit)
        out["W"] = s16(block[10]) * 10 ** s16(block[116])
        out["LNV"] = block[16] * 10 ** s16(block[114])
    client.close()
    print(json.dumps(out))


main()
