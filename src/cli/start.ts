import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { startSystem, type RunningSystem } from '../app/system.js';
import { DermsError } from '../core/errors.js';
import { DEFAULT_STORE_URL, parseStoreUrl } from '../store/index.js';
import { DEMO_FLEET } from './demo.js';

/** `derms start` settings: from the command line, else the environment, else a config file, else defaults. */
export const startSettingsSchema = z
  .object({
    fleet: z.string().min(1).default(DEMO_FLEET),
    sim: z.boolean().default(true),
    devices: z.string().min(1).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    speed: z.coerce.number().positive().optional(),
    store: z
      .string()
      .default(DEFAULT_STORE_URL)
      .superRefine((v, ctx) => {
        try {
          parseStoreUrl(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
        }
      }),
    mqtt: z.string().regex(/^(embedded|mqtts?:\/\/.+)$/, 'embedded, or a broker URL mqtt://host:port or mqtts://host:port').default('embedded'),
    connectTimeoutS: z.coerce.number().positive().max(3600).default(30),
    /** Modbus TCP requests in flight per connection (one connection per host:port, shared by its unit ids). */
    modbusInFlight: z.coerce.number().int().min(1).max(64).default(1),
    /** DMS endpoints for CIM pushes; the environment gives them comma-separated. */
    dmsEndpoints: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v), z.array(z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })))
      .default([]),
    json: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.sim && !s.devices) ctx.addIssue({ code: 'custom', path: ['devices'], message: '--no-sim needs --devices FILE (the devices to manage)' });
    if (s.sim && s.devices) ctx.addIssue({ code: 'custom', path: ['devices'], message: '--devices is for --no-sim (real devices only)' });
    if (!s.sim && s.speed !== undefined && s.speed !== 1) ctx.addIssue({ code: 'custom', path: ['speed'], message: 'real devices run in real time: --speed needs the simulator' });
  });
export type StartSettings = z.output<typeof startSettingsSchema>;

/** Environment variables `derms start` reads, by setting. */
const ENV: Record<string, string> = {
  fleet: 'DERMS_FLEET',
  devices: 'DERMS_DEVICES',
  host: 'DERMS_HOST',
  port: 'DERMS_PORT',
  speed: 'DERMS_SPEED',
  mqtt: 'DERMS_MQTT',
  store: 'DERMS_STORE',
  connectTimeoutS: 'DERMS_CONNECT_TIMEOUT_S',
  modbusInFlight: 'DERMS_MODBUS_INFLIGHT',
  dmsEndpoints: 'DERMS_DMS_ENDPOINTS',
};

/** Merge a config file (YAML or JSON), the environment and the command line, in rising precedence. */
export async function resolveStartSettings(cli: Record<string, unknown>, env: NodeJS.ProcessEnv, configFile?: string): Promise<StartSettings> {
  let fromFile: Record<string, unknown> = {};
  if (configFile) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (e) {
      throw new DermsError('NOT_FOUND', `config file ${configFile}: ${(e as Error).message}`);
    }
    const parsed: unknown = (() => {
      try {
        return parseYaml(text);
      } catch (e) {
        throw new DermsError('INVALID_INPUT', `config file ${configFile}: ${(e as Error).message}`);
      }
    })();
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new DermsError('INVALID_INPUT', `config file ${configFile}: expected a mapping of settings`);
    fromFile = (parsed ?? {}) as Record<string, unknown>;
  }
  const fromEnv = Object.fromEntries(Object.entries(ENV).flatMap(([k, name]) => (env[name] !== undefined && env[name] !== '' ? [[k, env[name]]] : [])));
  const fromCli = Object.fromEntries(Object.entries(cli).filter(([, v]) => v !== undefined));
  const r = startSettingsSchema.safeParse({ ...fromFile, ...fromEnv, ...fromCli });
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new DermsError('INVALID_INPUT', `${i.path.join('.') || 'settings'}: ${i.message}`);
  }
  return r.data;
}

export interface StartIo {
  readonly out: (line: string) => void;
  /** Progress bar on this stream when it is a terminal (and not --json). */
  readonly progressStream?: NodeJS.WriteStream | undefined;
  /** Resolves when the process should stop (SIGINT / SIGTERM). */
  readonly stopSignal: Promise<string>;
}

/**
 * `derms start`: bring the whole system up, print one line per part, a progress bar while the
 * fleet connects, then one `ready` line with the URLs (one JSON object with --json); stop cleanly
 * on SIGINT / SIGTERM.
 */
export async function start(s: StartSettings, io: StartIo): Promise<void> {
  const say = (part: string, message: string, detail: Record<string, unknown> = {}): void =>
    io.out(s.json ? JSON.stringify({ part, message, ...detail }) : `${part.padEnd(18)} ${message}`);
  let bar: cliProgress.SingleBar | null = null;
  const system: RunningSystem = await startSystem({
    fleet: s.sim ? s.fleet : null,
    devices: s.sim ? null : (s.devices ?? null),
    host: s.host,
    port: s.port,
    speed: s.speed,
    mqtt: s.mqtt,
    store: s.store,
    dmsEndpoints: s.dmsEndpoints,
    connectTimeoutMs: s.connectTimeoutS * 1000,
    modbusInFlight: s.modbusInFlight,
    say,
    onConnectProgress: (online, total) => {
      if (!io.progressStream?.isTTY || s.json || total === 0) return;
      bar ??= new cliProgress.SingleBar({ stream: io.progressStream, format: 'connecting        [{bar}] {value}/{total} devices online', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      if (!bar.isActive) bar.start(total, online);
      bar.update(online);
    },
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  const total = system.devices.length;
  const missing = total - system.online;
  const ready = { ready: true, ...system.urls, ders: total, online: system.online, groups: [...system.core.registry.allGroups()].map((g) => g.mRID) };
  if (s.json) io.out(JSON.stringify(ready));
  else {
    io.out(
      `ready              ${system.online}/${total} devices online${missing ? ` (${missing} not yet: they keep reconnecting)` : ''}; ` +
        Object.entries(system.urls)
          .map(([k, u]) => `${k} ${u}`)
          .join('  '),
    );
  }
  const why = await io.stopSignal;
  say('stop', `${why}: stopping`);
  await system.stop();
  say('stop', 'stopped');
}
