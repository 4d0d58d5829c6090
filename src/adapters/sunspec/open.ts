import type { ModbusTarget } from '../../protocols/modbus-url.js';
import { ModbusTcpPool } from './modbus-tcp.js';
import { ModbusSerialTransport, type RegisterTransport } from './modbus-transport.js';

/** Connections of every TCP device opened without a pool of its own: one per host:port. */
export const defaultModbusTcpPool = new ModbusTcpPool();

/**
 * Open a device: Modbus TCP through `pool` (one connection per host:port, shared by its unit
 * ids), Modbus RTU through modbus-serial (a serial line takes one request at a time anyway).
 */
export function openModbus(target: ModbusTarget, timeoutMs = 2000, pool: ModbusTcpPool = defaultModbusTcpPool): Promise<RegisterTransport> {
  return target.kind === 'tcp' ? pool.open(target, timeoutMs) : ModbusSerialTransport.open(target, timeoutMs);
}
