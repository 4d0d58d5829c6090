import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CimFault } from '../../src/cim-api/codes.js';
import { decodeJson, decodeXml, scanXml, type Plain } from '../../src/cim-api/decode.js';
import { builder, formatNumber, toJson, toXml, type El } from '../../src/cim-api/tree.js';

const limits = { maxDepth: 32, maxElements: 10_000 };
const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CimFault) return `${e.errors[0]!.code} ${e.errors[0]!.reason}`;
    throw e;
  }
  return 'no fault';
};

describe('scanXml', () => {
  it('skips comments, CDATA, processing instructions and quoted ">" while counting depth', () => {
    const ok = `<?xml version="1.0"?><!-- <a><b><c> --><r a="x > y" b='/>'><![CDATA[<q><q><q>]]><s/><t>x</t></r>`;
    expect(() => scanXml(ok, { maxDepth: 2, maxElements: 4 })).not.toThrow();
    expect(reason(() => scanXml(ok, { maxDepth: 1, maxElements: 4 }))).toBe('1.8 elements nested deeper than 1 levels');
    expect(reason(() => scanXml(ok, { maxDepth: 2, maxElements: 2 }))).toBe('1.8 more than 2 elements');
  });

  it('refuses every markup declaration, not only DOCTYPE', () => {
    expect(reason(() => scanXml('<!DOCTYPE x><x/>', limits))).toMatch(/DOCTYPE declarations/);
    expect(reason(() => scanXml('<x/><!ENTITY e "x">', limits))).toMatch(/markup declarations/);
    expect(reason(() => scanXml('<x><!-- open', limits))).toMatch(/unterminated comment/);
    expect(reason(() => scanXml('<x a="1', limits))).toMatch(/unterminated start tag/);
  });
});

describe('decodeXml', () => {
  it('resolves prefixes and default namespaces, merges repeated elements, decodes predefined entities only', () => {
    const d = decodeXml(
      `<w:Root xmlns:w="urn:w" xmlns:m="urn:m"><m:Header><m:Noun>A &amp; B &#x41;&#66;</m:Noun></m:Header><P xmlns="urn:p"><E k="&lt;v&gt;">1</E><E>2</E><F/></P></w:Root>`,
      limits,
    );
    expect(d).toMatchObject({ encoding: 'xml', rootName: 'Root', rootNs: 'urn:w' });
    expect(d.body).toEqual({ Header: { Noun: 'A & B AB' }, P: { E: [{ '#text': '1', '@k': '<v>' }, '2'], F: '' } });
    expect([...d.namespaces].sort()).toEqual(['urn:m', 'urn:p', 'urn:w']);
    expect(reason(() => decodeXml('<x:a/>', limits))).toMatch(/unbound namespace prefix: "x" \(line 1, column 6\)/);
    expect(reason(() => decodeXml('<a>&#0;</a>', limits))).toMatch(/malformed character entity/);
    expect(reason(() => decodeXml('<a>fish & chips</a>', limits))).toMatch(/^1\.8 not well-formed XML/);
    expect(reason(() => decodeXml('<a>&unknown;</a>', limits))).toMatch(/undefined entity/);
  });

  it('refuses every well-formedness error, with the line and column', () => {
    const cases: [string, RegExp][] = [
      ['<a><b></a>', /unexpected close tag \(line 1, column 10\)/],
      ['<a>', /unclosed tag: a/],
      ['<a/>trailing', /text data outside of root node/],
      ['text<a/>', /text data outside of root node/],
      ['<a b="1" b="2"/>', /duplicate attribute: b/],
      ['<a b=1/>', /unquoted attribute value|attribute/],
      ['<a x="<"/>', /disallowed character/],
      ['<a>1 < 2</a>', /disallowed character in tag name/],
      ['<1a/>', /disallowed character in tag name/],
      ['<a:b xmlns:a="u"></a:c>', /unexpected close tag/],
    ];
    for (const [xml, why] of cases) expect(reason(() => decodeXml(xml, limits)), xml).toMatch(why);
  });

  it('unwraps SOAP 1.1 and 1.2 envelopes', () => {
    for (const [ns, enc] of [
      ['http://schemas.xmlsoap.org/soap/envelope/', 'soap11'],
      ['http://www.w3.org/2003/05/soap-envelope', 'soap12'],
    ] as const) {
      const d = decodeXml(`<s:Envelope xmlns:s="${ns}"><s:Header/><s:Body><m:Msg xmlns:m="urn:m"><m:Header><m:Verb>get</m:Verb></m:Header></m:Msg></s:Body></s:Envelope>`, limits);
      expect(d).toMatchObject({ encoding: enc, rootName: 'Msg', rootNs: 'urn:m', body: { Header: { Verb: 'get' } } });
    }
    expect(reason(() => decodeXml('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/><b/></s:Body></s:Envelope>', limits))).toMatch(/exactly one message/);
  });
});

describe('decodeJson', () => {
  it('accepts the bare form and the form under the message name; drops prototype keys', () => {
    expect(decodeJson('{"Header":{"Verb":"get"}}', limits)).toMatchObject({ encoding: 'json', rootName: '', body: { Header: { Verb: 'get' } } });
    const d = decodeJson('{"CreateDERGroups":{"Header":{"Verb":"create"},"__proto__":{"polluted":1},"Payload":{"constructor":{"x":1}}}}', limits);
    expect(d.rootName).toBe('CreateDERGroups');
    expect(Object.keys(d.body)).toEqual(['Header', 'Payload']);
    expect(d.body['Payload']).toEqual({});
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(reason(() => decodeJson('[1]', limits))).toMatch(/must be an object/);
    expect(reason(() => decodeJson('{"a":1,"b":2}', limits))).toMatch(/needs a Header/);
    expect(reason(() => decodeJson('{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "Header": {}}', limits))).toBe('no fault');
  });
});

/** Element trees as the server writes them (names, values, lists), to round-trip. */
const nameArb = fc.constantFrom('Header', 'Verb', 'EndDeviceGroup', 'mRID', 'Names', 'name', 'DERCurveData', 'value');
/** Text XML can carry as it is: no control characters, no lone surrogates, no surrounding space. */
const xmlChar = (c: string): boolean => {
  const n = c.charCodeAt(0);
  return n >= 0x20 && !(n >= 0xd800 && n <= 0xdfff) && n !== 0xfffe && n !== 0xffff;
};
const textArb = fc.string({ maxLength: 12 }).filter((s) => s.trim() === s && s.length > 0 && [...s].every(xmlChar));
const leafArb: fc.Arbitrary<El> = fc.record({ name: nameArb, value: textArb, ns: fc.constantFrom('urn:a', 'urn:b') });
const treeArb: fc.Arbitrary<El> = fc.letrec<{ node: El }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ name: nameArb, ns: fc.constantFrom('urn:a', 'urn:b'), children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) }),
  ),
})).node;

/** What decoding should give back for `e`: the JSON mapping, with every value a string. */
function expected(e: El): Plain {
  const j = toJson(e) as Plain;
  const strings = (v: Plain): Plain => (Array.isArray(v) ? v.map(strings) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strings(x)])) : String(v));
  return strings(j);
}

describe('round trip', () => {
  it('toXml then decodeXml gives the JSON mapping back, for any tree (namespaces, escapes, repeats)', () => {
    fc.assert(
      fc.property(treeArb, (child) => {
        const root = builder('urn:root')('Root', [child]);
        const d = decodeXml(toXml(root, new Map([['urn:a', 'a'], ['urn:b', '']])), { maxDepth: 64, maxElements: 100_000 });
        expect(d.body).toEqual(expected(root));
        const viaJson = decodeJson(JSON.stringify({ Root: toJson(root) }), { maxDepth: 64, maxElements: 100_000 });
        expect(viaJson.body).toEqual(toJson(root));
      }),
      { numRuns: 300 },
    );
  });

  it('numbers are written without float noise', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(-12)).toBe('-12');
    expect(formatNumber(18.822085251312345)).toBe('18.822085251');
  });
});
