import { DermsError } from '../../core/errors.js';
import { modulePackage, profileInfo, type OpenFmbModule, type ProfileInfo, type ProfileKind, profileName } from './profiles.js';

/**
 * MQTT topics as the OpenFMB adapters name them: `openfmb/<package>/<Profile>/<mRID>`, e.g.
 * `openfmb/solarmodule/SolarReadingProfile/pv-17`; the mRID is the conducting equipment's.
 */
export const TOPIC_ROOT = 'openfmb';

/** Why `mRID` cannot be one MQTT topic level (null when it can). */
export function topicLevelProblem(mRID: string): string | null {
  if (mRID.length === 0) return 'is empty';
  if (/[/+#]/.test(mRID) || mRID.includes('\0')) return "contains '/', '+', '#' or NUL, which MQTT topic levels cannot hold";
  return null;
}

export function checkTopicMRID(mRID: string): string {
  const problem = topicLevelProblem(mRID);
  if (problem) throw new DermsError('INVALID_INPUT', `equipment mRID ${JSON.stringify(mRID)} ${problem}`);
  return mRID;
}

export function profileTopic(module: OpenFmbModule, kind: ProfileKind, mRID: string): string {
  return `${TOPIC_ROOT}/${modulePackage[module]}/${profileName(module, kind)}/${mRID}`;
}

/** The subscription filter for one profile of every device: `openfmb/solarmodule/SolarReadingProfile/+`. */
export function profileFilter(module: OpenFmbModule, kind: ProfileKind): string {
  return profileTopic(module, kind, '+');
}

/** Every profile of one device: `openfmb/+/+/<mRID>`. */
export function deviceFilter(mRID: string): string {
  return `${TOPIC_ROOT}/+/+/${mRID}`;
}

export interface ParsedTopic {
  readonly profile: ProfileInfo;
  readonly mRID: string;
}

/**
 * The profile and device a topic names, or null when it is not an OpenFMB profile topic we speak
 * (another root, an unknown profile, a profile under the wrong package, extra or missing levels).
 */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_ROOT) return null;
  const profile = profileInfo(parts[2]!);
  if (!profile || modulePackage[profile.module] !== parts[1] || parts[3] === '') return null;
  return { profile, mRID: parts[3]! };
}
