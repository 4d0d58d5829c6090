import protobuf from 'protobufjs';
import { DermsError } from '../../core/errors.js';
import { openfmbDescriptor } from './descriptor.js';
import type { ControlTimestamp, Timestamp } from './messages.js';
import { profiles, type ProfileMessages, type ProfileName } from './profiles.js';

const root = protobuf.Root.fromJSON(openfmbDescriptor);
const types = new Map<ProfileName, protobuf.Type>(profiles.map((p) => [p.name, root.lookupType(p.fullName)]));
const toObjectOptions: protobuf.IConversionOptions = { longs: Number };

/** The protobufjs type of a profile (for tools that walk the schema). */
export function profileType(name: ProfileName): protobuf.Type {
  return types.get(name)!;
}

/** A profile as OpenFMB protobuf bytes (the MQTT payload). */
export function encodeProfile<N extends ProfileName>(name: N, msg: ProfileMessages[N]): Uint8Array {
  return types.get(name)!.encode(msg).finish();
}

/**
 * Bytes from the wire as a profile. Fields absent on the wire are absent in the result (proto3:
 * an absent number reads as 0). Truncated or malformed bytes throw a DermsError INVALID_INPUT.
 */
export function decodeProfile<N extends ProfileName>(name: N, bytes: Uint8Array): ProfileMessages[N] {
  const type = types.get(name)!;
  try {
    return type.toObject(type.decode(bytes), toObjectOptions) as ProfileMessages[N];
  } catch (e) {
    throw new DermsError('INVALID_INPUT', `${name}: not a valid protobuf message (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Epoch ms as an OpenFMB Timestamp (seconds and nanoseconds). */
export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanoseconds: Math.round((ms - seconds * 1000) * 1e6) };
}

export function controlTimestampOf(ms: number): ControlTimestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanoseconds: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Epoch ms of a Timestamp or ControlTimestamp; undefined when absent or zero (the NULL time). */
export function msOf(t: { seconds?: number | undefined; nanoseconds?: number | undefined } | undefined): number | undefined {
  const s = t?.seconds ?? 0;
  const ns = t?.nanoseconds ?? 0;
  if (s === 0 && ns === 0) return undefined;
  return s * 1000 + Math.round(ns / 1e6);
}
