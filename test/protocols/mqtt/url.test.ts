import { describe, expect, it } from 'vitest';
import { formatBrokerUrl, parseBrokerUrl, redact } from '../../../src/protocols/mqtt/url.js';

describe('MQTT broker URLs', () => {
  it('parses plain and TLS brokers with default ports', () => {
    expect(parseBrokerUrl('mqtt://broker.lab')).toEqual({ tls: null, host: 'broker.lab', port: 1883, username: undefined, password: undefined, protocolVersion: 4 });
    expect(parseBrokerUrl('mqtts://broker.lab')).toMatchObject({ tls: { rejectUnauthorized: true }, port: 8883 });
    expect(parseBrokerUrl('mqtt://[::1]:1884')).toMatchObject({ host: '::1', port: 1884 });
  });

  it('takes credentials, TLS files, insecure and the protocol version', () => {
    const t = parseBrokerUrl('mqtts://derms:s%40cret@10.0.0.5:8884?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem&insecure=true&version=5');
    expect(t).toEqual({
      tls: { caFile: '/etc/ca.pem', certFile: '/etc/c.pem', keyFile: '/etc/k.pem', rejectUnauthorized: false },
      host: '10.0.0.5',
      port: 8884,
      username: 'derms',
      password: 's@cret',
      protocolVersion: 5,
    });
    expect(formatBrokerUrl(t)).toBe('mqtts://10.0.0.5:8884');
  });

  it.each([
    ['broker.lab:1883', /unsupported scheme broker.lab:/],
    ['//no scheme', /not a URL/],
    ['http://broker.lab', /unsupported scheme http:/],
    ['mqtt://broker.lab/topic', /no path/],
    ['mqtt://broker.lab?ca=/etc/ca.pem', /TLS brokers only/],
    ['mqtts://broker.lab?cert=/etc/c.pem', /cert and key together/],
    ['mqtt://broker.lab?version=6', /version must be/],
    ['mqtt://broker.lab?qos=1', /unknown parameter "qos"/],
    ['mqtts://broker.lab?insecure=yes', /insecure must be/],
  ])('rejects %s', (url, why) => {
    expect(() => parseBrokerUrl(url)).toThrow(why);
  });

  it('never shows a password in a message', () => {
    expect(redact('mqtt://user:hunter2@host:1883')).toBe('mqtt://user:***@host:1883');
    expect(() => parseBrokerUrl('mqtt://user:hunter2@host/x')).toThrow(/user:\*\*\*@host/);
  });
});
