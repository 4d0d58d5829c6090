import { describe, expect, it } from 'vitest';
import { formatModbusUrl, parseModbusUrl } from '../../src/protocols/modbus-url.js';

describe('Modbus URLs', () => {
  it('parses TCP and RTU targets and formats them back', () => {
    const tcp = parseModbusUrl('modbus-tcp://127.0.0.1:5020?unit=3');
    expect(tcp).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5020, unit: 3 });
    expect(formatModbusUrl(tcp)).toBe('modbus-tcp://127.0.0.1:5020?unit=3');
    expect(parseModbusUrl('modbus-tcp://inverter.lab')).toEqual({ kind: 'tcp', host: 'inverter.lab', port: 502, unit: 1 });
    const rtu = parseModbusUrl('modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even&unit=7');
    expect(rtu).toEqual({ kind: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even', unit: 7 });
    expect(formatModbusUrl(rtu)).toBe('modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even&unit=7');
  });

  it.each([
    ['inverter', /not a URL/],
    ['http://x:1', /unsupported scheme/],
    ['modbus-tcp://x:1?unit=300', /unit must be an integer from 0 to 255/],
    ['modbus-tcp://x:1?unit=abc', /unit must be an integer/],
    ['modbus-rtu:///dev/ttyS0?parity=mark', /parity/],
    ['modbus-rtu:///dev/ttyS0?unit=0', /RTU unit id is 1 to 247/],
    ['modbus-rtu:///dev/ttyS0?baud=12.5', /baud/],
  ])('rejects %s clearly', (url, msg) => {
    expect(() => parseModbusUrl(url)).toThrow(msg);
  });
});
