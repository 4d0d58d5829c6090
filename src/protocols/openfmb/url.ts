import { DermsError } from '../../core/errors.js';
import { brokerFrom, hostText, parseUrl, redact, type BrokerTarget } from '../mqtt/url.js';
import { openfmbModules, type OpenFmbModule } from './profiles.js';
import { checkTopicMRID } from './topics.js';

/** One OpenFMB device: the broker its profiles go through and its equipment mRID. */
export interface OpenFmbDeviceUrl {
  readonly broker: BrokerTarget;
  readonly mRID: string;
  /** Given in the URL, or left for the device's profiles to tell. */
  readonly module: OpenFmbModule | undefined;
}

/**
 * Parse `openfmb://[user[:password]@]host[:port]/<mRID>[?module=solar|ess]` (plain MQTT) or
 * `openfmbs://...` (MQTT over TLS, with the broker URL's `ca`, `cert`, `key` and `insecure`
 * parameters); `version=5` for MQTT 5. The URLs `derms sim serve` lists and `derms scan` takes.
 */
export function parseOpenFmbUrl(text: string): OpenFmbDeviceUrl {
  const u = parseUrl(text, 'openfmb://host:port/<mRID>?module=solar|ess');
  if (u.protocol !== 'openfmb:' && u.protocol !== 'openfmbs:') throw new DermsError('INVALID_INPUT', `${redact(text)}: unsupported scheme ${u.protocol} (openfmb: or openfmbs:)`);
  const tls = u.protocol === 'openfmbs:';
  const broker = brokerFrom(u, tls, text, ['module', 'ca', 'cert', 'key', 'insecure', 'version']);
  const path = u.pathname.replace(/^\//, '');
  if (!path) throw new DermsError('INVALID_INPUT', `${redact(text)}: no equipment mRID (openfmb://host:port/<mRID>)`);
  let mRID: string;
  try {
    mRID = decodeURIComponent(path);
  } catch {
    throw new DermsError('INVALID_INPUT', `${redact(text)}: the mRID is not valid percent-encoding`);
  }
  checkTopicMRID(mRID);
  const m = u.searchParams.get('module');
  if (m !== null && !(openfmbModules as readonly string[]).includes(m)) throw new DermsError('INVALID_INPUT', `${redact(text)}: module must be ${openfmbModules.join(' or ')}`);
  return { broker, mRID, module: (m ?? undefined) as OpenFmbModule | undefined };
}

export function formatOpenFmbUrl(d: { host: string; port: number; tls?: boolean; mRID: string; module?: OpenFmbModule | undefined }): string {
  const q = d.module ? `?module=${d.module}` : '';
  return `${d.tls ? 'openfmbs' : 'openfmb'}://${hostText(d.host)}:${d.port}/${encodeURIComponent(d.mRID)}${q}`;
}
