import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDnp3Url, parseDnp3Url } from '../../../src/protocols/dnp3/url.js';

describe('dnp3:// URLs', () => {
  it('parses host, port and link addresses, with defaults', () => {
    expect(parseDnp3Url('dnp3://127.0.0.1:20001?outstation=12&master=3')).toEqual({ host: '127.0.0.1', port: 20001, outstation: 12, master: 3 });
    expect(parseDnp3Url('dnp3://rtu.example.com')).toEqual({ host: 'rtu.example.com', port: 20000, outstation: 10, master: 1 });
    expect(parseDnp3Url('dnp3://[::1]:5/?master=0&outstation=65519')).toEqual({ host: '::1', port: 5, outstation: 65519, master: 0 });
  });

  it('formats what it parses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 0xffef }), fc.integer({ min: 0, max: 0xffef }), (host, port, outstation, master) => {
        fc.pre(outstation !== master);
        const t = { host, port, outstation, master };
        expect(parseDnp3Url(formatDnp3Url(t))).toEqual({ ...t, host: new URL(`http://${host.includes(':') ? `[${host}]` : host}`).hostname.replace(/^\[|\]$/g, '') });
      }),
    );
  });

  it.each([
    ['not a url', /not a URL/],
    ['modbus-tcp://h:502?unit=1', /unsupported scheme modbus-tcp:/],
    ['dnp3://h:0', /port 0/],
    ['dnp3://h/x', /no path/],
    ['dnp3://h?outstation=70000', /outstation must be a link address from 0 to 65519/],
    ['dnp3://h?outstation=65520', /outstation must be a link address/],
    ['dnp3://h?master=-1', /master must be a link address/],
    ['dnp3://h?master=1.5', /master must be a link address/],
    ['dnp3://h?outstation=', /outstation must be a link address/],
    ['dnp3://h?outstation=4&outstation=5', /outstation is given 2 times/],
    ['dnp3://h?unit=4', /unknown parameter "unit"/],
    ['dnp3://h?outstation=7&master=7', /different link addresses/],
  ])('%s is refused as invalid input', (url, message) => {
    expect(() => parseDnp3Url(url)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }));
  });
});
