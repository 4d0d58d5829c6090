import protobuf from 'protobufjs';

/**
 * A message of `type` with every field set to a non-zero value (proto3 drops zeros, so a zero
 * could not be told from an absent field after a round trip), repeated fields with two items,
 * nested messages down to `depth`. Numbers are exact in their wire type (float32 included), so a
 * round trip must give back the same object. `seed` varies the values.
 */
export function fullMessage(type: protobuf.Type, seed: number, depth = 12): Record<string, unknown> {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const build = (t: protobuf.Type, d: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const f of t.fieldsArray) {
      const one = (): unknown => value(f, d);
      const v = f.repeated ? [one(), one()] : one();
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  };
  const value = (f: protobuf.Field, d: number): unknown => {
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Type) return d > 0 ? build(rt, d - 1) : undefined;
    if (rt instanceof protobuf.Enum) {
      const vals = Object.values(rt.values).filter((v) => v !== 0);
      return vals[next() % vals.length];
    }
    const n = next();
    switch (f.type) {
      case 'double':
        return (n % 100_000) / 8 + 0.125;
      case 'float':
        return Math.fround((n % 10_000) / 4 + 0.25);
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        return (n % 2_000_000) - 1_000_001 || 7;
      case 'uint32':
      case 'fixed32':
        return (n % 4_000_000) + 1;
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        return (n % 4_000_000_000) - 2_000_000_001;
      case 'uint64':
      case 'fixed64':
        return (n % 4_000_000_000) + 1_700_000_000;
      case 'bool':
        return true;
      case 'string':
        return `s${n.toString(36)}`;
      case 'bytes':
        return Buffer.from([n & 255, (n >> 8) & 255 || 1]);
      default:
        throw new Error(`no sample value for ${f.type}`);
    }
  };
  return build(type, depth);
}

/** Every message type under `ns`, depth first. */
export function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) out.push(o);
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) out.push(...allTypes(o));
  }
  return out;
}

export function allEnums(ns: protobuf.NamespaceBase): protobuf.Enum[] {
  const out: protobuf.Enum[] = [];
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Enum) out.push(o);
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) out.push(...allEnums(o));
  }
  return out;
}

/** toObject options that give comparable plain objects: 64-bit integers as numbers, bytes as arrays. */
export const plain: protobuf.IConversionOptions = { longs: Number, bytes: Array };
