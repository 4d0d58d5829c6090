#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { isDermsError, type DermsErrorCode } from '../core/errors.js';
import { DEMO_FLEET, runDemo } from './demo.js';
import { dmsCommand } from './dms-commands.js';
import { simRun } from './sim-run.js';
import { simServe } from './sim-serve.js';
import { resolveStartSettings, start } from './start.js';
import { scanDnp3 } from './dnp3-commands.js';
import { scanOpenFmb } from './openfmb-commands.js';
import { readPoint, scan, writePoint } from './sunspec-commands.js';

function intIn(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

const program = new Command()
  .name('derms')
  .description('Open DERMS simulator: group and dispatch inverters and batteries over SunSpec Modbus, DNP3 and OpenFMB')
  .showHelpAfterError();

program
  .command('start')
  .description('the whole system: simulated fleet on its protocols, adapters, core, HTTP API, metrics and dashboard')
  .option('--fleet <file>', `fleet file (YAML; default ${DEMO_FLEET})`)
  .option('--no-sim', 'manage real devices only (needs --devices)')
  .option('--devices <file>', 'devices to manage with --no-sim: JSON or YAML list of { mRID, url, name?, kind?, nameplate? }')
  .option('--host <host>', 'address the HTTP server listens on (default 127.0.0.1)')
  .option('--port <n>', 'HTTP port (default 8080; 0: any free port)', intIn(0, 65535))
  .option('--speed <x>', "clock factor: virtual seconds per real second (default: the fleet file's pace)", positive)
  .option('--store <url>', 'where state is kept: sqlite:PATH (default sqlite:data/derms.db) or postgres://user:pass@host/db')
  .option('--mqtt <broker>', 'MQTT broker for OpenFMB: embedded (default) or mqtt://host:port, mqtts://user:pass@host:port')
  .option('--dms-endpoint <url>', 'a DMS endpoint for CIM pushes (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--connect-timeout <s>', 'how long to wait for devices before declaring ready (default 30)', positive)
  .option('--modbus-inflight <n>', 'Modbus TCP requests in flight per connection (default 1; more pipelines requests to gateways that queue them)', intIn(1, 64))
  .option('--config <file>', 'settings file (YAML or JSON; keys as the options: fleet, port, speed, ...); environment DERMS_* and options override it')
  .option('--json', 'print each line as one JSON object (the ready line: {"ready":true,"api":...})')
  .action(async (o: { fleet?: string; sim: boolean; devices?: string; host?: string; port?: number; speed?: number; store?: string; mqtt?: string; dmsEndpoint?: string[]; connectTimeout?: number; modbusInflight?: number; config?: string; json?: boolean }) => {
    const settings = await resolveStartSettings(
      { fleet: o.fleet, sim: o.sim === false ? false : undefined, devices: o.devices, host: o.host, port: o.port, speed: o.speed, store: o.store, mqtt: o.mqtt, dmsEndpoints: o.dmsEndpoint, connectTimeoutS: o.connectTimeout, modbusInFlight: o.modbusInflight, json: o.json },
      process.env,
      o.config,
    );
    const stopSignal = new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    await start(settings, { out: (l) => console.log(l), progressStream: process.stderr, stopSignal });
    process.exit(0);
  });

program
  .command('demo')
  .description('the reactive core on a simulated fleet (in process) with a scripted dispatch sequence')
  .option('--fleet <file>', 'fleet file (YAML)', DEMO_FLEET)
  .option('--speed <x>', "virtual seconds per real second (default: the fleet file's pace)", positive)
  .option('--duration <s>', 'stop after this many virtual seconds (default: run until Ctrl-C)', positive)
  .option('--json', 'print one JSON object per line instead of text', false)
  .action(async (opts: { fleet: string; speed?: number; duration?: number; json: boolean }) => {
    await runDemo({ fleet: opts.fleet, speed: opts.speed, durationS: opts.duration, json: opts.json, out: (l) => console.log(l) });
  });

const lab = (c: Command): Command =>
  c
    .option('--models <dir>', 'also load SunSpec model definitions (official JSON) from this folder')
    .option('--points <file>', 'DNP3: a DER point map (YAML or JSON) over the default profile')
    .option('--timeout <ms>', 'request timeout (default 2000); for openfmb:// how long to wait for a reading and a status (default 10000)', intIn(50, 60_000))
    .option('--json', 'print JSON', false);
type LabOpts = { models?: string; points?: string; timeout?: number; json: boolean };
const labOut = (o: LabOpts) => ({ models: o.models, timeoutMs: o.timeout ?? 2000, json: o.json, out: (l: string) => console.log(l) });

lab(
  program
    .command('scan <url>')
    .description(
      'discover a SunSpec device and print its models and points (modbus-tcp://host:port?unit=N or modbus-rtu:///dev/ttyX?baud=9600&unit=N), ' +
        'or print the latest OpenFMB profiles of a device (openfmb://host:port/<mRID>?module=solar|ess; openfmbs:// over TLS), ' +
        'or integrity-poll a DNP3 outstation and print its DER profile points (dnp3://host:port?outstation=N&master=M)',
    ),
).action(async (url: string, o: LabOpts) =>
  /^openfmbs?:/i.test(url)
    ? scanOpenFmb(url, { timeoutMs: o.timeout ?? 10_000, json: o.json, out: (l) => console.log(l) })
    : /^dnp3:/i.test(url)
      ? scanDnp3(url, { json: o.json, timeoutMs: o.timeout ?? 2000, out: (l) => console.log(l), ...(o.points ? { pointMap: o.points } : {}) })
      : scan(url, labOut(o)),
);
lab(program.command('read <url> <point>').description('read one point, e.g. 701.W')).action(async (url: string, point: string, o: LabOpts) => readPoint(url, point, labOut(o)));
lab(program.command('write <url> <point> <value>').description('write one point (scaled value), show the registers written and the read-back')).action(
  async (url: string, point: string, value: string, o: LabOpts) => writePoint(url, point, value, labOut(o)),
);

const sim = program.command('sim').description('the simulated fleet on its own');
sim
  .command('run')
  .description('run a fleet file without the DERMS and print a summary')
  .requiredOption('--fleet <file>', 'fleet file (YAML), e.g. fixtures/fleets/day.yaml')
  .option('--hours <h>', 'simulated hours', positive, 1)
  .option('--fast', 'as fast as the CPU allows, whatever the file says', false)
  .option('--json', 'print the summary as one JSON object', false)
  .option('--workers <n>', 'worker threads, each running whole feeders', intIn(1, 256), 1)
  .action(async (opts: { fleet: string; hours: number; fast: boolean; json: boolean; workers: number }) => {
    await simRun({ ...opts, out: (l) => console.log(l), progress: process.stderr.isTTY === true && !opts.json });
  });

sim
  .command('serve')
  .description('serve a fleet file\'s devices on their protocols (device side only) until SIGTERM / SIGINT')
  .requiredOption('--fleet <file>', 'fleet file (YAML)')
  .option('--endpoints <file>', 'write the endpoint list (JSON: mRID, protocol, url) here')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--base-port <port>', 'first TCP port (0: any free port)', intIn(0, 65535), 0)
  .option('--store <url>', 'where state is kept: sqlite:PATH (default sqlite:data/derms.db) or postgres://user:pass@host/db')
  .option('--mqtt <broker>', 'OpenFMB devices: embedded (an MQTT broker in this process) or an external broker URL (mqtt://host:1883, mqtts://host:8883?ca=FILE)', 'embedded')
  .option('--mqtt-port <port>', 'TCP port of the embedded MQTT broker (0: any free port)', intIn(0, 65535), 0)
  .option('--speed <x>', "virtual seconds per real second (default: the fleet file's pace)", positive)
  .action(async (o: { fleet: string; endpoints?: string; host: string; basePort: number; mqtt: string; mqttPort: number; speed?: number }) => {
    await simServe({ ...o, out: (l) => console.log(l) });
  });

program.addCommand(dmsCommand({ out: (l) => console.log(l), err: (l) => console.error(l) }));

/** Exit codes by error code, so scripts can tell bad input from an unreachable device. */
const EXIT: Partial<Record<DermsErrorCode, number>> = { INVALID_INPUT: 2, NOT_FOUND: 3, ALREADY_EXISTS: 3, UNAVAILABLE: 4, TIMEOUT: 4, UNSUPPORTED: 5 };

program.parseAsync().catch((e: unknown) => {
  console.error(`derms: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = isDermsError(e) ? (EXIT[e.code] ?? 1) : 1;
});
