import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDmsListener, type ReceivedMessage } from '../../src/cim-api/index.js';
import { resolveStartSettings } from '../../src/cli/start.js';
import { isDermsError } from '../../src/core/errors.js';
import { startDerms } from '../support/derms-process.js';


async function settingsError(cli: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, file?: string): Promise<string> {
  try {
    await resolveStartSettings(cli, env, file);
  } catch (e) {
    expect(isDermsError(e) && e.code !== undefined).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the settings to be refused');
}

describe('derms start settings', () => {
  it('take the command line over the environment over the config file over defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'derms-start-'));
    try {
      const file = join(dir, 'derms.yaml');
      await writeFile(file, 'port: 9001\nspeed: 5\nhost: 0.0.0.0\n');
      const s = await resolveStartSettings({ port: 9003 }, { DERMS_PORT: '9002', DERMS_SPEED: '7' }, file);
      expect(s).toMatchObject({ port: 9003, speed: 7, host: '0.0.0.0', sim: true, json: false });
      expect(s.fleet).toMatch(/fixtures\/fleets\/demo\.yaml$/);
      expect((await resolveStartSettings({}, {}, file)).port).toBe(9001);
      expect((await resolveStartSettings({}, {})).port).toBe(8080);
      expect((await resolveStartSettings({}, { DERMS_DMS_ENDPOINTS: 'http://dms:9/a, https://dms2/b' })).dmsEndpoints).toEqual(['http://dms:9/a', 'https://dms2/b']);
      expect((await resolveStartSettings({}, {})).modbusInFlight).toBe(1);
      expect((await resolveStartSettings({}, { DERMS_MODBUS_INFLIGHT: '8' })).modbusInFlight).toBe(8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse bad values with the setting named', async () => {
    expect(await settingsError({ port: 70_000 })).toMatch(/^port:/);
    expect(await settingsError({}, { DERMS_PORT: 'eighty' })).toMatch(/^port:/);
    expect(await settingsError({}, { DERMS_SPEED: '-2' })).toMatch(/^speed:/);
    expect(await settingsError({ modbusInFlight: 0 })).toMatch(/^modbusInFlight:/);
    expect(await settingsError({}, { DERMS_MODBUS_INFLIGHT: '1.5' })).toMatch(/^modbusInFlight:/);
    expect(await settingsError({ sim: false })).toMatch(/--no-sim needs --devices/);
    expect(await settingsError({ sim: false, devices: 'x.json', speed: 10 })).toMatch(/^speed: real devices run in real time/);
    expect(await settingsError({}, {}, '/no/such/derms.yaml')).toMatch(/config file \/no\/such\/derms.yaml/);
    const dir = await mkdtemp(join(tmpdir(), 'derms-start-'));
    try {
      await writeFile(join(dir, 'list.yaml'), '- 1\n- 2\n');
      expect(await settingsError({}, {}, join(dir, 'list.yaml'))).toMatch(/expected a mapping/);
      await writeFile(join(dir, 'typo.yaml'), 'prot: 1\n');
      expect(await settingsError({}, {}, join(dir, 'typo.yaml'))).toMatch(/prot|Unrecognized/i);
      await writeFile(join(dir, 'broken.yaml'), 'port: [1\n');
      expect(await settingsError({}, {}, join(dir, 'broken.yaml'))).toMatch(/config file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('derms start (the process)', () => {
  it('comes up from any working directory, prints a JSON ready line, answers, and exits 0 on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'derms-start-cwd-'));
    const pushed: ReceivedMessage[] = [];
    const dms = await startDmsListener({ host: '127.0.0.1', onMessage: (m) => pushed.push(m) });
    const { child, lines, ready, exited } = await startDerms(cwd, ['--port', '0', '--speed', '5', '--dms-endpoint', `${dms.url}/events`]);
    try {
      expect(lines.map((l) => l.part).filter(Boolean)).toEqual(expect.arrayContaining(['simulator', 'devices/sunspec', 'devices/dnp3', 'devices/mqtt', 'devices/openfmb', 'core', 'http']));
      expect(ready).toMatchObject({ ready: true, ders: 60, online: 60 });
      const health = await fetch(ready.health as string);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ready: true, ders: 60 });
      // The CIM API answers a DMS: the default groups' statuses.
      const query = `<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header><Verb>get</Verb><Noun>DERGroupStatuses</Noun><MessageID>m1</MessageID></Header><Request><DERGroupStatusQueries xmlns="http://iec.ch/TC57/2017/DERGroupStatusQueries#"><EndDeviceGroup><mRID>storage</mRID></EndDeviceGroup></DERGroupStatusQueries></Request></RequestMessage>`;
      const cim = await fetch(ready.api as string, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: query });
      expect(cim.status).toBe(200);
      const reply = await cim.text();
      expect(reply).toMatch(/<(\w+:)?Result>OK</);
      expect(reply).toMatch(/storage/);
      // Customer services behind the dashboard: the seeded applications, the default groups' history, a refused decision.
      const ui = (path: string): URL => new URL(path, ready.dashboard as string);
      const apps = (await (await fetch(ui('/ui/api/services/applications'))).json()) as { applications: { id: string; state: string }[] };
      expect(apps.applications).toHaveLength(60);
      expect(apps.applications.every((a) => a.state === 'connected')).toBe(true);
      const history = (await (await fetch(ui("/ui/api/services/memberships?groupId=storage"))).json()) as { entries: unknown[] };
      expect(history.entries.length).toBeGreaterThan(0);
      const refused = await fetch(ui(`/ui/api/services/applications/${apps.applications[0]!.id}/decision`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'approve', reason: '' }) });
      expect(refused.status).toBe(409);
      const page = await fetch(ready.dashboard as string);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const fleet = (await (await fetch(new URL('/ui/api/fleet', ready.dashboard as string))).json()) as Record<string, unknown>;
      expect(JSON.stringify(fleet)).toMatch(/sunspec/);
      const metrics = await (await fetch(ready.metrics as string)).text();
      expect(metrics).toMatch(/derms_devices\{protocol="sunspec",state="fresh"\} 24/);
      expect(metrics).toMatch(/derms_devices\{protocol="openfmb",state="fresh"\} 18/);
      expect(metrics).toMatch(/derms_devices\{protocol="dnp3",state="fresh"\} 18/);
      expect(metrics).toMatch(/derms_poll_latency_seconds_count\{protocol="dnp3"\} [1-9]/);
      expect(metrics).toMatch(/derms_poll_latency_seconds_count\{protocol="sunspec"\} [1-9]/);
      // The DMS endpoint hears from the DERMS: group statuses pushed on significant change.
      for (let i = 0; i < 100 && !pushed.some((m) => m.noun === 'DERGroupStatuses'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(pushed.find((m) => m.noun === 'DERGroupStatuses')).toMatchObject({ verb: 'changed' });
      child.kill('SIGTERM');
      const started = performance.now();
      expect(await exited).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      child.kill('SIGKILL');
      await dms.close();
      await rm(cwd, { recursive: true, force: true });
    }
  }, 90_000);
});
