import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanOpenFmb } from '../../src/cli/openfmb-commands.js';
import { packageRoot } from '../../src/cli/paths.js';
import { simServe } from '../../src/cli/sim-serve.js';
import { isDermsError } from '../../src/core/errors.js';
import { EmbeddedBroker } from '../../src/protocols/mqtt/broker.js';
import type { OpenFmbEndpoint } from '../../src/sim/openfmb/gateway.js';

const code = (e: unknown): string | undefined => (isDermsError(e) ? e.code : undefined);

describe('derms sim serve (OpenFMB) + derms scan openfmb://', () => {
  it('serves the OpenFMB fleet through the embedded broker, lists openfmb:// endpoints, and scan prints the latest profiles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'derms-'));
    const endpointsFile = join(dir, 'endpoints.json');
    const stop = new AbortController();
    let ready!: (eps: readonly OpenFmbEndpoint[]) => void;
    const eps = new Promise<readonly OpenFmbEndpoint[]>((r) => (ready = r));
    const out: string[] = [];
    const serving = simServe({
      fleet: join(packageRoot(), 'fixtures', 'fleets', 'openfmb.yaml'),
      endpoints: endpointsFile,
      host: '127.0.0.1',
      basePort: 0,
      mqtt: 'embedded',
      mqttPort: 0,
      speed: 10,
      out: (l) => out.push(l),
      onReady: ready,
      signal: stop.signal,
    });
    try {
      const list = await eps;
      expect(list).toHaveLength(10);
      expect(out).toEqual(expect.arrayContaining([expect.stringMatching(/^serving: embedded MQTT broker on mqtt:\/\/127\.0\.0\.1:\d+$/), 'serving: 10 OpenFMB device(s) publishing through the embedded broker']));
      const written = JSON.parse(await readFile(endpointsFile, 'utf8')) as OpenFmbEndpoint[];
      expect(written.map((e) => e.mRID)).toEqual(list.map((e) => e.mRID));
      expect(written[0]).toMatchObject({ protocol: 'openfmb', url: expect.stringMatching(/^openfmb:\/\/127\.0\.0\.1:\d+\/[^?]+\?module=(solar|ess)$/), broker: expect.stringMatching(/^mqtt:\/\//) });
      const solar = list.find((e) => e.module === 'solar')!;
      const ess = list.find((e) => e.module === 'ess')!;

      const lines: string[] = [];
      await scanOpenFmb(solar.url, { timeoutMs: 10_000, json: true, out: (l) => lines.push(l) });
      const scanned = JSON.parse(lines.pop()!) as { mRID: string; module: string; profiles: Record<string, { view: Record<string, unknown>; message: Record<string, unknown> }> };
      expect(scanned).toMatchObject({ mRID: solar.mRID, module: 'solar' });
      expect(Object.keys(scanned.profiles).sort()).toEqual(['SolarCapabilityProfile', 'SolarReadingProfile', 'SolarStatusProfile']);
      expect(scanned.profiles.SolarReadingProfile!.view).toMatchObject({ hz: 60 });
      expect(scanned.profiles.SolarCapabilityProfile!.view).toMatchObject({ serial: solar.mRID, vendor: 'derms-sim' });
      expect(scanned.profiles.SolarReadingProfile!.message).toHaveProperty('solarInverter.conductingEquipment.mRID', solar.mRID);

      await scanOpenFmb(ess.url, { timeoutMs: 10_000, json: false, out: (l) => lines.push(l) });
      const text = lines.join('\n');
      expect(text).toContain(`on mqtt://127.0.0.1:${ess.port}: 3 profile(s)`);
      expect(text).toMatch(/ESSStatusProfile \(after [\d.]+ s\)\n {2}reported at 2026-06-21T/);
      expect(text).toMatch(/SoC \d+\.\d %/);
      expect(text).toMatch(/WHRtg \d+ Wh/);

      const none = await scanOpenFmb(`openfmb://127.0.0.1:${solar.port}/nobody?module=solar`, { timeoutMs: 300, json: false, out: () => {} }).catch((e: unknown) => e);
      expect(code(none)).toBe('TIMEOUT');
      expect(String(none)).toMatch(/no Reading and Status profile for nobody on mqtt:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    } finally {
      stop.abort();
      await serving;
    }
  });

  it('fails clearly on a bad URL and on a broker that is not there', async () => {
    expect(code(await scanOpenFmb('openfmb://127.0.0.1:1883/', { timeoutMs: 100, json: false, out: () => {} }).catch((e: unknown) => e))).toBe('INVALID_INPUT');
    expect(code(await scanOpenFmb('openfmb://127.0.0.1:1883/a+b', { timeoutMs: 100, json: false, out: () => {} }).catch((e: unknown) => e))).toBe('INVALID_INPUT');
    expect(code(await scanOpenFmb('openfmb://127.0.0.1:1883/pv?module=wind', { timeoutMs: 100, json: false, out: () => {} }).catch((e: unknown) => e))).toBe('INVALID_INPUT');
    const b = await EmbeddedBroker.start();
    const port = b.port;
    await b.close();
    const e = await scanOpenFmb(`openfmb://127.0.0.1:${port}/pv-1`, { timeoutMs: 300, json: false, out: () => {} }).catch((x: unknown) => x);
    expect(code(e)).toBe('UNAVAILABLE');
  });

  it('serves through an external broker given by URL', async () => {
    const external = await EmbeddedBroker.start();
    const stop = new AbortController();
    let ready!: (eps: readonly OpenFmbEndpoint[]) => void;
    const eps = new Promise<readonly OpenFmbEndpoint[]>((r) => (ready = r));
    const serving = simServe({ fleet: join(packageRoot(), 'fixtures', 'fleets', 'openfmb.yaml'), host: '127.0.0.1', basePort: 0, mqtt: external.url, speed: 10, out: () => {}, onReady: ready, signal: stop.signal });
    try {
      const list = await eps;
      expect(list.every((e) => e.port === external.port)).toBe(true);
      const lines: string[] = [];
      await scanOpenFmb(list[0]!.url, { timeoutMs: 10_000, json: true, out: (l) => lines.push(l) });
      expect(JSON.parse(lines[0]!)).toMatchObject({ mRID: list[0]!.mRID });
    } finally {
      stop.abort();
      await serving;
      await external.close();
    }
  });
});
