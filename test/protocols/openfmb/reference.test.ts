/**
 * Wire compatibility with OpenFMB itself: our schema against the official OpenFMB v2.1 .proto files
 * (third-party, in ../shared/reference/openfmb-proto, read at test time only). Every message and
 * enum of ours exists there with the same field numbers, types and values; every profile encoded
 * with our schema decodes with theirs to the same content, and the other way round.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { openfmbDescriptor } from '../../../src/protocols/openfmb/descriptor.js';
import { decodeProfile, encodeProfile } from '../../../src/protocols/openfmb/codec.js';
import { profiles, type ProfileMessages, type ProfileName } from '../../../src/protocols/openfmb/profiles.js';
import { allEnums, allTypes, fullMessage, plain } from './support.js';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared');
const refDir = process.env.OPENFMB_REFERENCE_DIR ?? join(shared, 'reference/openfmb-proto/openfmb');
const haveRef = existsSync(join(refDir, 'solarmodule/solarmodule.proto'));
if (!haveRef && process.env.CI === 'true') throw new Error(`CI needs the OpenFMB reference .proto files at ${refDir}`);
if (!haveRef) console.warn(`skipping: no OpenFMB reference .proto files at ${refDir}`);

/** The official files: imports are relative to the proto root; descriptor.proto comes with protobufjs. */
function loadReference(): protobuf.Root {
  const require = createRequire(import.meta.url);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target === 'google/protobuf/descriptor.proto') return require.resolve('protobufjs/google/protobuf/descriptor.proto');
    if (target.startsWith('google/protobuf/')) return target;
    return isAbsolute(target) ? target : join(refDir, target);
  };
  root.loadSync([join(refDir, 'solarmodule/solarmodule.proto'), join(refDir, 'essmodule/essmodule.proto')], { keepCase: true });
  root.resolveAll();
  return root;
}

const typeName = (f: protobuf.Field): string => (f.resolvedType ? f.resolvedType.fullName : f.type);

describe.skipIf(!haveRef)('OpenFMB schema against the official OpenFMB v2.1 .proto files', () => {
  const ref = haveRef ? loadReference() : new protobuf.Root();
  const ours = protobuf.Root.fromJSON(openfmbDescriptor);
  ours.resolveAll();
  const ourTypes = allTypes(ours).filter((t) => !t.fullName.startsWith('.google.'));

  it('every message of ours exists there, every field with the same number, type and repetition', () => {
    const diffs: string[] = [];
    for (const t of ourTypes) {
      const r = ref.lookup(t.fullName);
      if (!(r instanceof protobuf.Type)) {
        diffs.push(`${t.fullName}: not in the reference`);
        continue;
      }
      for (const f of t.fieldsArray) {
        const rf = r.fields[f.name];
        if (!rf) diffs.push(`${t.fullName}.${f.name}: not in the reference`);
        else if (rf.id !== f.id || typeName(rf) !== typeName(f) || rf.repeated !== f.repeated) {
          diffs.push(`${t.fullName}.${f.name}: ours ${f.id} ${typeName(f)}${f.repeated ? '[]' : ''}, reference ${rf.id} ${typeName(rf)}${rf.repeated ? '[]' : ''}`);
        }
      }
      // Our messages are whole: nothing a real OpenFMB peer sends in them is dropped as unknown.
      for (const rf of r.fieldsArray) if (!t.fields[rf.name]) diffs.push(`${t.fullName}.${rf.name}: missing from ours`);
    }
    expect(diffs).toEqual([]);
    expect(ourTypes.length).toBeGreaterThan(100);
  });

  it('every enum of ours has the reference values', () => {
    for (const e of allEnums(ours)) {
      const r = ref.lookup(e.fullName);
      expect(r, e.fullName).toBeInstanceOf(protobuf.Enum);
      expect((r as protobuf.Enum).values, e.fullName).toEqual(e.values);
    }
  });

  it('the profiles are profiles there too', () => {
    for (const p of profiles) {
      const r = ref.lookupType(p.fullName);
      expect(r.options?.['(uml.option_openfmb_profile)'], p.fullName).toBe(true);
    }
  });

  it.each(profiles.map((p) => [p.name] as const))('%s: our bytes decode with the reference schema, and theirs with ours', (name: ProfileName) => {
    const r = ref.lookupType(profiles.find((p) => p.name === name)!.fullName);
    for (const seed of [11, 12, 13]) {
      const msg = fullMessage(r, seed) as ProfileMessages[typeof name];
      // ours -> reference
      const ourBytes = encodeProfile(name, msg);
      expect(r.toObject(r.decode(ourBytes), plain)).toEqual(msg);
      // reference -> ours
      const refBytes = r.encode(r.fromObject(msg)).finish();
      expect(decodeProfile(name, refBytes)).toEqual(msg);
      // and the same bytes either way
      expect(Buffer.from(ourBytes).equals(Buffer.from(refBytes))).toBe(true);
    }
  });
});
