import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { loadProtoRoot, renderSchema } from '../../../scripts/gen-openfmb-schema.js';
import { openfmbDescriptor } from '../../../src/protocols/openfmb/descriptor.js';
import { decodeProfile, encodeProfile, msOf, profileType, timestampOf } from '../../../src/protocols/openfmb/codec.js';
import { equipmentMRID, profiles, type ProfileMessages, type ProfileName } from '../../../src/protocols/openfmb/profiles.js';
import { isDermsError } from '../../../src/core/errors.js';
import { allTypes, fullMessage, plain } from './support.js';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '../../../src/protocols/openfmb');
const ours = protobuf.Root.fromJSON(openfmbDescriptor);

describe('OpenFMB schema', () => {
  it('the generated descriptor and message types match the .proto files', () => {
    for (const [file, text] of Object.entries(renderSchema())) {
      expect(readFileSync(join(srcDir, file), 'utf8'), `${file} is stale: run npx tsx scripts/gen-openfmb-schema.ts`).toBe(text);
    }
  });

  it('covers the ten profiles, solar and ESS: reading, status, control, discrete control, capability', () => {
    expect(profiles.map((p) => p.fullName).sort()).toEqual(
      [
        'essmodule.ESSCapabilityProfile',
        'essmodule.ESSControlProfile',
        'essmodule.ESSDiscreteControlProfile',
        'essmodule.ESSReadingProfile',
        'essmodule.ESSStatusProfile',
        'solarmodule.SolarCapabilityProfile',
        'solarmodule.SolarControlProfile',
        'solarmodule.SolarDiscreteControlProfile',
        'solarmodule.SolarReadingProfile',
        'solarmodule.SolarStatusProfile',
      ].sort(),
    );
    for (const p of profiles) expect(ours.lookupType(p.fullName)).toBe(ours.lookupType(p.fullName));
  });

  // Every message type of the schema, each with every field set, survives encode then decode.
  const types = allTypes(ours).filter((t) => !t.fullName.startsWith('.google.'));
  it(`has ${types.length} message types, each with at least one field`, () => {
    expect(types.length).toBeGreaterThan(100);
    for (const t of types) expect(t.fieldsArray.length, t.fullName).toBeGreaterThan(0);
  });
  it.each(types.map((t) => [t.fullName, t] as const))('round-trips %s with every field set', (_name, t) => {
    for (const seed of [1, 2]) {
      const msg = fullMessage(t, seed);
      expect(t.verify(msg), t.fullName).toBeNull();
      const back = t.toObject(t.decode(t.encode(msg).finish()), plain);
      expect(back).toEqual(msg);
    }
  });

  it('encodes and decodes each profile through the codec, naming the equipment', () => {
    for (const p of profiles) {
      const msg = fullMessage(profileType(p.name), 3) as ProfileMessages[ProfileName];
      const bytes = encodeProfile(p.name, msg);
      const back = decodeProfile(p.name, bytes);
      expect(back).toEqual(msg);
      const equipment = (msg as Record<string, { conductingEquipment?: { mRID?: string } }>)[p.module === 'solar' ? 'solarInverter' : 'ess'];
      expect(equipmentMRID(p.name, back)).toBe(equipment?.conductingEquipment?.mRID);
    }
  });

  it('throws INVALID_INPUT on truncated or malformed bytes, never anything else', () => {
    const bytes = encodeProfile('SolarReadingProfile', fullMessage(profileType('SolarReadingProfile'), 4) as ProfileMessages['SolarReadingProfile']);
    let threw = 0;
    for (let cut = 1; cut < bytes.length; cut += 7) {
      try {
        decodeProfile('SolarReadingProfile', bytes.subarray(0, cut));
      } catch (e) {
        threw++;
        expect(isDermsError(e) && e.code === 'INVALID_INPUT').toBe(true);
      }
    }
    expect(threw).toBeGreaterThan(0);
    expect(() => decodeProfile('ESSStatusProfile', Uint8Array.from([0x0f, 0xff, 0xff]))).toThrow(/ESSStatusProfile: not a valid protobuf message/);
  });

  it('timestamps carry epoch ms as seconds and nanoseconds', () => {
    const t = Date.UTC(2026, 5, 21, 18, 0, 0, 123);
    expect(timestampOf(t)).toEqual({ seconds: Math.floor(t / 1000), nanoseconds: 123_000_000 });
    expect(msOf(timestampOf(t))).toBe(t);
    expect(msOf(undefined)).toBeUndefined();
    expect(msOf({})).toBeUndefined();
  });

  it('the .proto files parse with protobufjs the same way the descriptor loads', () => {
    const parsed = loadProtoRoot();
    for (const t of types) {
      const p = parsed.lookupType(t.fullName);
      expect(p.fieldsArray.map((f) => [f.name, f.id, f.type, f.repeated])).toEqual(t.fieldsArray.map((f) => [f.name, f.id, f.type, f.repeated]));
    }
  });
});
