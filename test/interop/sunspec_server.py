"""A SunSpec device we did not write: pymodbus's TCP server holding a register image.

Usage: sunspec_server.py PORT IMAGE.json (IMAGE: {"base": 40000, "registers": [...]}); prints
"ready" once listening and serves until killed."""
import json
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        image = json.load(f)
    base = image["base"]
    # pymodbus data blocks are addressed from 1 for holding registers (address + 1 internally).
    block = ModbusSequentialDataBlock(base + 1, image["registers"])
    store = ModbusSlaveContext(hr=block, zero_mode=False)
    context = ModbusServerContext(slaves=store, single=True)
    print("ready", flush=True)
    StartTcpServer(context=context, address=("127.0.0.1", port))


main()
