import { DermsError } from '../core/errors.js';
import { MqttConnection } from '../protocols/mqtt/connection.js';
import { formatBrokerUrl } from '../protocols/mqtt/url.js';
import {
  capabilityView,
  decodeProfile,
  deviceFilter,
  equipmentMRID,
  formatOpenFmbUrl,
  parseOpenFmbUrl,
  parseTopic,
  readingView,
  statusView,
  type OpenFmbDeviceUrl,
  type ProfileInfo,
  type ProfileMessages,
  type ProfileName,
} from '../protocols/openfmb/index.js';
import { HealthKind, OperatingStateKind, StateKind } from '../protocols/openfmb/messages.js';

export interface OpenFmbScanOptions {
  /** How long to wait for a reading and a status. */
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly out: (line: string) => void;
}

/** After a reading and a status, how long to wait for a capability that has not come yet. */
const CAPABILITY_GRACE_MS = 500;

export interface LatestProfile {
  readonly profile: ProfileInfo;
  readonly msg: ProfileMessages[ProfileName];
  /** Seconds after listening started. */
  readonly afterS: number;
}

/** What one device published while we listened. */
export interface OpenFmbSnapshot {
  readonly target: OpenFmbDeviceUrl;
  /** The latest of each profile, capability first. */
  readonly profiles: readonly LatestProfile[];
  /** Messages on the device's topics that were not its profiles (another module, garbage, another equipment in the payload). */
  readonly ignored: number;
  readonly seconds: number;
}

/**
 * Listen on the broker for one device's profiles (`openfmb/+/+/<mRID>`; a retained Capability
 * comes at once) until a Reading and a Status have arrived (and the Capability, or half a second
 * more) or `timeoutMs` has passed. UNAVAILABLE when the broker is not there. What `derms scan`
 * prints, and what a lab tool can take a device's ratings from.
 */
export async function listenOpenFmb(url: string, timeoutMs: number): Promise<OpenFmbSnapshot> {
  const target = parseOpenFmbUrl(url);
  const started = performance.now();
  const latest = new Map<ProfileName, LatestProfile>();
  let ignored = 0;
  let done: () => void = () => undefined;
  const complete = new Promise<void>((resolve) => (done = resolve));
  const kinds = (): Set<string> => new Set([...latest.values()].map((l) => l.profile.kind));
  const conn = new MqttConnection({ broker: target.broker, clientId: `derms-scan-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, clean: true, reconnectMs: 0, connectTimeoutMs: timeoutMs });
  conn.onMessage((topic, payload) => {
    const t = parseTopic(topic);
    if (!t || t.mRID !== target.mRID || (target.module && t.profile.module !== target.module)) return void ignored++;
    try {
      const msg = decodeProfile(t.profile.name, payload);
      if (equipmentMRID(t.profile.name, msg) !== target.mRID) return void ignored++;
      latest.set(t.profile.name, { profile: t.profile, msg, afterS: (performance.now() - started) / 1000 });
    } catch {
      return void ignored++;
    }
    const k = kinds();
    if (k.has('Reading') && k.has('Status') && k.has('Capability')) done();
    // A device announcing itself right now may send its capability a moment after: wait a little for it.
    else if (k.has('Reading') && k.has('Status')) setTimeout(done, CAPABILITY_GRACE_MS);
  });
  try {
    await conn.whenOnline(timeoutMs);
    await conn.subscribe([deviceFilter(target.mRID)], 1);
    const left = Math.max(0, timeoutMs - (performance.now() - started));
    await Promise.race([complete, new Promise((r) => setTimeout(r, left))]);
  } finally {
    await conn.close();
  }
  const profiles = [...latest.values()].sort((a, b) => order(a.profile) - order(b.profile));
  return { target, profiles, ignored, seconds: (performance.now() - started) / 1000 };
}

/**
 * `derms scan openfmb://HOST:PORT/<mRID>[?module=solar|ess]`: the latest of each profile the
 * device publishes (`listenOpenFmb`), as text or JSON. Fails with TIMEOUT when no Reading and
 * Status came within the timeout (after printing what did).
 */
export async function scanOpenFmb(url: string, o: OpenFmbScanOptions): Promise<void> {
  const { target, profiles: entries, ignored, seconds } = await listenOpenFmb(url, o.timeoutMs);
  const shown = formatOpenFmbUrl({ host: target.broker.host, port: target.broker.port, tls: target.broker.tls !== null, mRID: target.mRID, module: target.module });
  const broker = formatBrokerUrl(target.broker);
  if (o.json) {
    o.out(
      JSON.stringify({
        url: shown,
        broker,
        mRID: target.mRID,
        module: entries[0]?.profile.module ?? target.module ?? null,
        scanSeconds: seconds,
        ignored,
        profiles: Object.fromEntries(entries.map((e) => [e.profile.name, { receivedAfterS: e.afterS, view: view(e), message: e.msg }])),
      }),
    );
  } else {
    o.out(`${shown} on ${broker}: ${entries.length} profile(s) in ${seconds.toFixed(2)} s${ignored ? ` (${ignored} other message(s) ignored)` : ''}`);
    for (const e of entries) {
      o.out('');
      o.out(`${e.profile.name} (after ${e.afterS.toFixed(2)} s)`);
      for (const line of text(e)) o.out(`  ${line}`);
    }
  }
  const k = new Set<string>(entries.map((e) => e.profile.kind));
  if (!k.has('Reading') || !k.has('Status')) {
    const missing = ['Reading', 'Status'].filter((x) => !k.has(x)).join(' and ');
    throw new DermsError('TIMEOUT', `no ${missing} profile for ${target.mRID} on ${broker} within ${o.timeoutMs} ms${entries.length ? ` (saw ${entries.map((e) => e.profile.name).join(', ')})` : ''}`);
  }
}

function order(p: ProfileInfo): number {
  return ['Capability', 'Reading', 'Status', 'Control', 'DiscreteControl'].indexOf(p.kind);
}

function view(e: LatestProfile): unknown {
  switch (e.profile.kind) {
    case 'Reading':
      return readingView(e.msg as ProfileMessages['SolarReadingProfile']);
    case 'Status':
      return statusView(e.msg as ProfileMessages['SolarStatusProfile']);
    case 'Capability':
      return capabilityView(e.msg as ProfileMessages['SolarCapabilityProfile']);
    default:
      return null;
  }
}

const enumName = (e: Record<string, number>, prefix: string, v: number | undefined): string =>
  v === undefined ? '-' : (Object.entries(e).find(([, x]) => x === v)?.[0].slice(prefix.length + 1) ?? String(v));
const num = (x: number | undefined, digits: number, unit: string): string => (x === undefined ? '-' : `${x.toFixed(digits)}${unit ? ` ${unit}` : ''}`);
const yes = (b: boolean | undefined): string => (b === undefined ? '-' : b ? 'yes' : 'no');
const when = (ms: number | undefined): string => (ms === undefined ? '' : ` at ${new Date(ms).toISOString()}`);

function text(e: LatestProfile): string[] {
  switch (e.profile.kind) {
    case 'Reading': {
      const r = readingView(e.msg as ProfileMessages['SolarReadingProfile']);
      return [
        `measured${when(r.timeMs)}`,
        `W ${num(r.w, 1, 'W')}   VAr ${num(r.var, 1, 'var')}   VA ${num(r.va, 1, 'VA')}   PF ${num(r.pf, 3, '')}`,
        `PhV ${num(r.v, 2, 'V')}   Hz ${num(r.hz, 3, 'Hz')}`,
        `SupWh ${num(r.exportedWh, 0, 'Wh')}   DmdWh ${num(r.importedWh, 0, 'Wh')}`,
      ];
    }
    case 'Status': {
      const s = statusView(e.msg as ProfileMessages['SolarStatusProfile']);
      const p = s.point;
      const lim = p?.limitWOperation;
      const lines = [
        `reported${when(s.timeMs)}`,
        `health ${enumName(HealthKind, 'HealthKind', s.health)}   connected ${yes(s.connected)}` +
          (s.operatingState !== undefined ? `   operating state ${enumName(OperatingStateKind, 'OperatingStateKind', s.operatingState)}` : '') +
          (s.standby !== undefined ? `   standby ${yes(s.standby)}` : ''),
      ];
      if (s.soc !== undefined) lines.push(`SoC ${num(s.soc, 1, '%')}   WHAvail ${num(s.whAvail, 0, 'Wh')}`);
      if (p) {
        const reactive = p.vArOperation?.modEna
          ? `constant var ${num(p.vArOperation.varParameter?.varTgtSpt, 0, 'var')}`
          : p.pFOperation?.ctlVal || p.pFOperation?.pFParameter?.modEna
            ? `constant PF ${num(p.pFOperation.pFParameter?.pFGnTgtMxVal, 3, '')} ${p.pFOperation.pFParameter?.pFExtSet ? 'over-excited' : 'under-excited'}`
            : p.voltVarOperation?.vVarParameter?.modEna
              ? 'volt-var'
              : 'none';
        lines.push(
          `state ${enumName(StateKind, 'StateKind', p.state?.value)}   real power setpoint ${p.realPwrSetPointEnabled?.stVal ? 'enabled' : 'off'}   ` +
            `W limit ${lim?.maxLimParameter?.modEna ? num(lim.wMaxSptVal, 0, 'W') : 'off'}   reactive ${reactive}   volt-watt ${p.voltWOperation?.voltWParameter?.modEna ? 'on' : 'off'}`,
        );
      }
      return lines;
    }
    case 'Capability': {
      const c = capabilityView(e.msg as ProfileMessages['SolarCapabilityProfile']);
      const lines = [
        `${[c.vendor, c.model, c.serial].filter(Boolean).join(' / ') || 'no nameplate'}`,
        `WMaxRtg ${num(c.maxW, 0, 'W')}   VAMaxRtg ${num(c.maxVA, 0, 'VA')}   VarMaxInjRtg ${num(c.maxVarInject, 0, 'var')}   VarMaxAbsRtg ${num(c.maxVarAbsorb, 0, 'var')}`,
        `VNomRtg ${num(c.nominalV, 1, 'V')}   FreqNomRtg ${num(c.nominalHz, 1, 'Hz')}   categories ${c.normalCategory ?? '-'} / ${c.abnormalCategory ?? '-'}`,
      ];
      if (c.energyCapacityWh !== undefined) lines.push(`WChaRteMaxRtg ${num(c.maxChargeW, 0, 'W')}   WDisChaRteMaxRtg ${num(c.maxDischargeW, 0, 'W')}   WHRtg ${num(c.energyCapacityWh, 0, 'Wh')}`);
      return lines;
    }
    default:
      return [JSON.stringify(e.msg)];
  }
}
