/**
 * OpenFMB through Eclipse Mosquitto (Debian's broker, a program we did not write): the simulated
 * devices' gateway and the DERMS bus on one real external broker; the broker killed and restarted
 * on the same port (with persistence, so it keeps sessions and queued QoS 1 messages); a device
 * away while a control is sent gets it when it is back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenFmbAdapter } from '../../src/adapters/openfmb/adapter.js';
import { OpenFmbBus } from '../../src/adapters/openfmb/bus.js';
import { scanOpenFmb } from '../../src/cli/openfmb-commands.js';
import { isDermsError } from '../../src/core/errors.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import { parseBrokerUrl } from '../../src/protocols/mqtt/url.js';
import type { BrokerTarget } from '../../src/protocols/mqtt/url.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { OpenFmbGateway } from '../../src/sim/openfmb/gateway.js';
import { eventually } from '../protocols/openfmb/observer.js';
import { batterySpec, noonSky, pvSpec } from '../sim/sim-fixtures.js';
import { peer } from './peers.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
// `mosquitto -h` prints its usage and exits 3 (2.0.x) or 0: either means it is there and runs.
const mosquitto = peer('mosquitto', ['sh', '-c', `${MOSQUITTO} -h >/dev/null 2>&1; s=$?; [ $s -eq 0 ] || [ $s -eq 3 ]`]);
const openssl = peer('openssl', ['openssl', 'version']);
const PERIOD = 100;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A mosquitto process on `port` keeping its sessions and queued messages in `dir` across restarts. */
class Mosquitto {
  private proc: ChildProcess | null = null;
  log = '';
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `extra` lines go into the config after the listener (TLS files, password file). */
  static async create(extra: (dir: string) => string[] = () => ['allow_anonymous true']): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'derms-mosquitto-'));
    // Started as root, mosquitto drops to its own user, which must be able to read and write here.
    await chmod(dir, 0o777);
    const m = new Mosquitto(dir, await freePort());
    await writeFile(
      join(dir, 'mosquitto.conf'),
      [`listener ${m.port} 127.0.0.1`, ...extra(dir), 'persistence true', `persistence_location ${dir}/`, 'persistent_client_expiration 1h', 'max_queued_messages 10000', ''].join('\n'),
    );
    return m;
  }

  get target(): BrokerTarget {
    return { tls: null, host: '127.0.0.1', port: this.port, protocolVersion: 4 };
  }

  async start(): Promise<void> {
    const p = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf'), '-v']);
    this.proc = p;
    const seen = (b: Buffer): void => void (this.log += b.toString());
    p.stdout.on('data', seen);
    p.stderr.on('data', seen);
    await eventually(() => /mosquitto version .* running/.test(this.log) || p.exitCode !== null, 'mosquitto to start', 5000);
    if (p.exitCode !== null) throw new Error(`mosquitto exited ${p.exitCode}: ${this.log}`);
    this.log = '';
  }

  /** SIGTERM: mosquitto saves its persistence file and exits. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.proc = null;
    const exited = once(p, 'exit');
    p.kill('SIGTERM');
    await exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `p`, or a clear failure after `ms` instead of a test that hangs. */
function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))]);
}

function warm(d: SimInverter): SimInverter {
  for (let i = 1; i <= 30; i++) d.step(Date.now() - (31 - i) * 1000, 1, noonSky, 240, 60);
  return d;
}

async function startGateway(devices: SimInverter[], broker: BrokerTarget): Promise<OpenFmbGateway> {
  return OpenFmbGateway.start(
    devices.map((device) => ({ device })),
    { broker, clientId: 'derms-sim-gw', clock: asyncScheduler, readingPeriodMs: PERIOD, statusPeriodMs: 5 * PERIOD, reconnectMs: 100 },
  );
}

describe.skipIf(!mosquitto.available)('OpenFMB through mosquitto', () => {
  it('carries readings, status and controls; survives a broker restart; delivers a control sent while the device was away', async () => {
    const broker = await Mosquitto.create();
    cleanup.push(() => broker.remove());
    await broker.start();
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const bat = warm(new SimInverter(batterySpec('bat-1'), 2));
    let gw = await startGateway([pv, bat], broker.target);
    cleanup.push(() => gw.close());
    // The DERMS side speaks MQTT 5 to mosquitto (session expiry set), the gateway 3.1.1.
    const bus = new OpenFmbBus({ broker: { ...broker.target, protocolVersion: 5 }, clientId: 'derms-bus', clock: asyncScheduler, sweepMs: PERIOD, reconnectMs: 100 });
    cleanup.push(() => bus.close());
    await bus.whenReady(3000);
    const a = new OpenFmbAdapter('der-pv-1', { mRID: 'pv-1', module: 'solar' }, bus, asyncScheduler, { readingPeriodMs: PERIOD, confirmTimeoutMs: 1500, kind: 'pv' });
    const b = new OpenFmbAdapter('der-bat-1', { mRID: 'bat-1', module: 'ess' }, bus, asyncScheduler, { readingPeriodMs: PERIOD, confirmTimeoutMs: 1500, kind: 'battery' });
    cleanup.push(() => a.close(), () => b.close());

    // 1. Readings, status and the retained capability arrive; a control is applied and confirmed.
    const first = await within(firstValueFrom(a.telemetry$), 'a first PV sample');
    expect(first.w).toBeCloseTo(pv.measurements().w, 6);
    expect((await within(firstValueFrom(b.telemetry$), 'a first battery sample')).soc).toBeCloseTo(bat.measurements().soc!, 3);
    expect(a.capability).toMatchObject({ maxW: 10_000, serial: 'pv-1' });
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 6000, pct: 60 })).toEqual({ status: 'applied' });
    expect(pv.settings().activePowerLimitPct).toBeCloseTo(60, 6);

    // 2. The broker goes down: both adapters' links go offline; it comes back on the same port:
    //    both sides reconnect (mosquitto kept their sessions), readings resume, controls flow.
    const down = Promise.all([a, b].map((x) => firstValueFrom(x.link$.pipe(filter((l) => l === 'offline')))));
    await broker.stop();
    await within(down, 'both links offline');
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 5000, pct: 50 })).toMatchObject({ status: 'rejected' });
    await broker.start();
    await within(Promise.all([a, b].map((x) => firstValueFrom(x.link$.pipe(filter((l) => l === 'online'))))), 'both links online after the restart');
    // mosquitto restored both sessions from its persistence file (CONNACK session-present 1).
    expect(broker.log).toMatch(/Sending CONNACK to derms-sim-gw \(1, 0\)/);
    expect(broker.log).toMatch(/Sending CONNACK to derms-bus \(1, 0\)/);
    const readings = a.stats.readings;
    await eventually(() => a.stats.readings > readings + 3, 'readings after the restart');
    expect(await b.apply({ derId: b.derId, kind: 'activePower', w: -2000 })).toEqual({ status: 'applied' });
    expect(bat.settings().activePowerSetpointW).toBe(-2000);

    // 3. The device's gateway goes away; a control sent meanwhile is not confirmed in time, but
    //    mosquitto holds it (QoS 1, persistent session) and the device acts on it when it is back,
    //    even though the broker restarts in between.
    await gw.close();
    await within(firstValueFrom(a.link$.pipe(filter((l) => l === 'offline'))), 'the PV link offline without its gateway');
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 2500, pct: 25 })).toEqual({ status: 'timedOut' });
    expect(pv.settings().activePowerLimitPct).toBeCloseTo(60, 6);
    await broker.stop();
    await broker.start();
    gw = await startGateway([pv, bat], broker.target);
    await eventually(() => Math.abs((pv.settings().activePowerLimitPct ?? 0) - 25) < 1e-6, 'the queued control delivered');
    expect(broker.log).toMatch(/Sending CONNACK to derms-sim-gw \(1, 0\)/);
    await within(firstValueFrom(a.link$.pipe(filter((l) => l === 'online'))), 'the PV link online with its gateway back');
    await eventually(() => a.status?.point?.limitWOperation?.wMaxSptVal === 2500, 'the status showing it');
    expect(gw.stats.applied).toBe(1);
  }, 60_000);

  it.skipIf(!openssl.available)('over TLS with a username and password (mqtts:// and openfmbs:// URLs)', async () => {
    const broker = await Mosquitto.create((dir) => {
      // A throw-away CA and a server certificate for 127.0.0.1; a password file for user derms.
      const sh = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=derms-test-ca']);
      sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
      execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
      sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext']);
      execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'derms', 's3cret'], { stdio: 'pipe' });
      execFileSync('chmod', ['a+r', 'ca.crt', 'server.crt', 'server.key', 'passwd'], { cwd: dir });
      return [`cafile ${dir}/ca.crt`, `certfile ${dir}/server.crt`, `keyfile ${dir}/server.key`, 'allow_anonymous false', `password_file ${dir}/passwd`];
    });
    cleanup.push(() => broker.remove());
    await broker.start();
    const ca = join(broker.dir, 'ca.crt');
    const target = parseBrokerUrl(`mqtts://derms:s3cret@127.0.0.1:${broker.port}?ca=${ca}`);
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const gw = await startGateway([pv], target);
    cleanup.push(() => gw.close());
    const lines: string[] = [];
    await scanOpenFmb(`openfmbs://derms:s3cret@127.0.0.1:${broker.port}/pv-1?module=solar&ca=${ca}`, { timeoutMs: 5000, json: true, out: (l) => lines.push(l) });
    expect(JSON.parse(lines[0]!)).toMatchObject({ mRID: 'pv-1', module: 'solar', broker: `mqtts://127.0.0.1:${broker.port}` });
    // A wrong password, and a server certificate nobody vouches for, are refused.
    for (const url of [`mqtts://derms:wrong@127.0.0.1:${broker.port}?ca=${ca}`, `mqtts://derms:s3cret@127.0.0.1:${broker.port}`]) {
      const c = new MqttConnection({ broker: parseBrokerUrl(url), clientId: 'intruder', reconnectMs: 0 });
      const e = await c.whenOnline(3000).catch((x: unknown) => x);
      await c.close();
      expect(isDermsError(e) && e.code === 'UNAVAILABLE', `${url}: ${String(e)}`).toBe(true);
    }
  }, 30_000);
});
