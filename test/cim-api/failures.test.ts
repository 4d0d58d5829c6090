import { afterEach, describe, expect, it } from 'vitest';
import { startDmsListener, type ReceivedMessage } from '../../src/cim-api/listener.js';
import { pv } from '../support/fixtures.js';
import { at, cimHarness, fixture, serve, until, type Posted } from './support.js';

/**
 * Every kind of bad request gets the right FAILED reply (or FaultMessage when nothing could be
 * read), and the server keeps serving afterwards.
 */

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function setup(options: Parameters<typeof serve>[1] = {}) {
  const h = cimHarness([pv('der-hill-01'), pv('der-hill-02'), pv('der-hill-03')]);
  const s = await serve(h.system, options);
  closers.push(() => s.server.close());
  const ok = await s.post(fixture('create-group.xml'));
  expect(ok.reply.result).toBe('OK');
  /** The server still answers a good request. */
  const alive = async (): Promise<void> => {
    const r = await s.post(fixture('get-status.xml'));
    expect(r.reply.result).toBe('OK');
  };
  return { ...h, ...s, alive };
}

const codes = (r: Posted): string[] => r.reply.errors.map((e) => e.code);

describe('refusals', { timeout: 30_000 }, () => {
  it('DOCTYPE with an entity bomb, external entities and undefined entities: FaultMessage 1.8, nothing expanded', async () => {
    const t = await setup();
    for (const [file, words] of [
      ['bad/doctype-bomb.xml', /DOCTYPE declarations are not accepted/],
      ['bad/external-entity.xml', /DOCTYPE declarations are not accepted/],
      ['bad/undefined-entity.xml', /undefined entity &nbsp;/],
    ] as const) {
      const r = await t.post(fixture(file));
      expect(r.status).toBe(400);
      expect(r.body).toContain('<msg:FaultMessage');
      expect(r.reply.result).toBe('FAILED');
      expect(codes(r)).toEqual(['1.8']);
      expect(r.reply.errors[0]!.reason).toMatch(words);
      expect(r.body).not.toContain('root:');
    }
    await t.alive();
    expect(t.server.stats().requests.malformed).toBe(3);
  });

  it('malformed XML, no XML at all, two roots, bad JSON: 1.8 with where it broke', async () => {
    const t = await setup();
    const bad = await t.post(fixture('bad/malformed.xml'));
    expect(codes(bad)).toEqual(['1.8']);
    expect(bad.reply.errors[0]!.reason).toMatch(/not well-formed XML: .*line \d+/);
    expect(codes(await t.post('hello'))).toEqual(['1.8']);
    expect((await t.post('<a/><b/>')).reply.errors[0]!.reason).toMatch(/more than one root/);
    expect((await t.post('')).reply.errors[0]!.reason).toMatch(/no XML element/);
    const json = await t.post('{"Header": {"Verb": "get",', 'application/json');
    expect(json.status).toBe(400);
    expect(json.contentType).toMatch(/json/);
    expect(JSON.parse(json.body)).toMatchObject({ Reply: { Result: 'FAILED', Error: [{ code: '1.8' }] } });
    await t.alive();
  });

  it('too deep (XML and JSON), too many elements, body too large', async () => {
    const t = await setup({ limits: { maxDepth: 20, maxElements: 500, bodyBytes: 20_000 } });
    const deep = `<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message">${'<a>'.repeat(40)}${'</a>'.repeat(40)}</RequestMessage>`;
    const r1 = await t.post(deep);
    expect(codes(r1)).toEqual(['1.8']);
    expect(r1.reply.errors[0]!.reason).toMatch(/deeper than 20/);
    const deepJson = `{"Header":{"Verb":"get","Noun":"DERGroups"},"Request":${'['.repeat(60)}${']'.repeat(60)}}`;
    const r2 = await t.post(deepJson, 'application/json');
    expect(r2.reply.errors[0]!.reason).toMatch(/JSON nested deeper than 40/);
    const wide = `<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message">${'<b/>'.repeat(600)}</RequestMessage>`;
    expect((await t.post(wide)).reply.errors[0]!.reason).toMatch(/more than 500 elements/);
    const big = await t.post(`<RequestMessage>${' '.repeat(30_000)}</RequestMessage>`);
    expect(big.status).toBe(413);
    expect(codes(big)).toEqual(['3.1']);
    expect(big.reply.errors[0]!.reason).toMatch(/larger than 20000 bytes/);
    await t.alive();
  });

  it('missing Header 1.5, unknown Noun 2.5, wrong Verb for the Noun 2.9 (CorrelationID echoed)', async () => {
    const t = await setup();
    const nh = await t.post(fixture('bad/no-header.xml'));
    expect(nh.status).toBe(400);
    expect(codes(nh)).toEqual(['1.5']);
    const noun = await t.post(fixture('bad/unknown-noun.xml'));
    expect(noun.status).toBe(200);
    expect(codes(noun)).toEqual(['2.5']);
    expect(noun.reply.message!.header.noun).toBe('MeterReadings');
    const verb = await t.post(fixture('bad/wrong-verb.xml'));
    expect(codes(verb)).toEqual(['2.9']);
    expect(verb.reply.errors[0]!.details).toBe('DERGroupStatuses takes get');
    expect(verb.reply.message!.header.correlationId).toBe('corr-wrong-verb');
    const nonsense = await t.post(fixture('bad/wrong-verb.xml').replace('<Verb>create</Verb>', '<Verb>frobnicate</Verb>'));
    expect(codes(nonsense)).toEqual(['2.9']);
    await t.alive();
  });

  it('bad enumerations and a missing mandatory element: one 1.8 Error each, with its place', async () => {
    const t = await setup();
    const e = await t.post(fixture('bad/bad-enum.xml'));
    expect(e.reply.result).toBe('FAILED');
    expect(codes(e)).toEqual(['1.8', '1.8']);
    expect(e.reply.errors.map((x) => x.reason)).toEqual([
      expect.stringMatching(/^Payload\/DERGroupDispatches\/DERGroupDispatch\[1\]\/EndDeviceGroup\/DERMonitorableParameter\/DERParameter: Invalid option/),
      expect.stringMatching(/yMultiplier: Invalid option/),
    ]);
    const m = await t.post(fixture('bad/missing-derfunction.xml'));
    expect(codes(m)).toEqual(['1.8']);
    expect(m.reply.errors[0]!.reason).toBe('Payload/DERGroups/EndDeviceGroup[1]/DERFunction: mandatory element missing');
    expect(t.registry.findGroup('No-Functions')).toBeUndefined();
    const noPayload = await t.post('<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header><Verb>create</Verb><Noun>DERGroups</Noun></Header></RequestMessage>');
    expect(codes(noPayload)).toEqual(['1.7']);
    const noRequest = await t.post('<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header><Verb>get</Verb><Noun>DERGroupStatuses</Noun></Header></RequestMessage>');
    expect(codes(noRequest)).toEqual(['1.6']);
    await t.alive();
  });

  it('unknown group: FAILED with the documented code and an ID naming it; PARTIAL when only some objects fail', async () => {
    const t = await setup();
    const r = await t.post(fixture('bad/unknown-group-dispatch.xml'));
    expect(r.reply.result).toBe('FAILED');
    expect(r.reply.errors).toEqual([expect.objectContaining({ code: '2.15', level: 'FATAL', ID: { '#text': 'Nowhere-PV', '@kind': 'name', '@objectType': 'DERGroup' } })]);
    expect(r.reply.message!.header.correlationId).toBe('corr-no-group');

    // Status of two groups, one unknown: PARTIAL, the known one in the payload.
    const two = fixture('get-status.xml').replace(
      '<q:EndDeviceGroup><q:mRID>',
      '<q:EndDeviceGroup><q:Names><q:name>Nowhere-PV</q:name></q:Names></q:EndDeviceGroup><q:EndDeviceGroup><q:mRID>',
    );
    const p = await t.post(two);
    expect(p.reply.result).toBe('PARTIAL');
    expect(p.reply.errors.map((x) => [x.code, at(x.ID, '#text')])).toEqual([['2.15', 'Nowhere-PV']]);
    expect(at(p.reply.payload, 'DERGroupStatuses', 'EndDeviceGroup', 'mRID')).toBe('7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77');

    // A group of an unknown DER: 2.15 naming the EndDevice; the deployment may choose another code.
    const { post } = await serve(t.system, { unknownObjectCode: '99.1' });
    const unknownDer = await post(fixture('create-group.xml').replace('der-hill-02', 'der-nowhere').replace('7e4b2c10', '00000000').replace('Hilltop-PV', 'Other'));
    expect(unknownDer.reply.errors[0]).toMatchObject({ code: '99.1', reason: 'EndDevice der-nowhere does not exist' });
  });

  it('an OperationSet with integrity enforced applies nothing when one operation fails', async () => {
    const t = await setup();
    const set = fixture('remove-member.xml')
      .replace('<tns:OperationSet>', '<tns:OperationSet><enforceTransactionalIntegrity>true</enforceTransactionalIntegrity>')
      .replace(
        '</Operation>',
        '</Operation><Operation><operationId>2</operationId><noun>DERGroups</noun><verb>delete</verb><DERGroups xmlns="http://iec.ch/TC57/2017/DERGroups#"><EndDeviceGroup><Names><name>Nowhere-PV</name></Names></EndDeviceGroup></DERGroups></Operation>',
      );
    const r = await t.post(set);
    expect(r.reply.result).toBe('FAILED');
    expect(r.reply.errors.map((e) => [e.operationId, e.code])).toEqual([
      [1, '5.9'],
      [2, '2.15'],
    ]);
    expect(t.registry.findGroup('Hilltop-PV')!.members).toEqual(['der-hill-01', 'der-hill-02']);
    // Without integrity the first operation applies and the result is PARTIAL.
    const loose = await t.post(set.replace('<enforceTransactionalIntegrity>true</enforceTransactionalIntegrity>', ''));
    expect(loose.reply.result).toBe('PARTIAL');
    expect(t.registry.findGroup('Hilltop-PV')!.members).toEqual(['der-hill-01']);
  });

  it('strict namespaces refuse elements from elsewhere', async () => {
    const t = await setup({ strictNamespaces: true });
    const r = await t.post(fixture('get-status.xml').replace('http://iec.ch/TC57/2017/DERGroupStatusQueries#', 'http://example.com/other#'));
    expect(codes(r)).toEqual(['1.8']);
    expect(r.reply.errors[0]!.reason).toContain('http://example.com/other#');
    await t.alive();
  });
});

describe('asynchronous replies', { timeout: 30_000 }, () => {
  it('answers 0.3 at once and posts the full reply to ReplyAddress with the CorrelationID', async () => {
    const t = await setup();
    const got: ReceivedMessage[] = [];
    const l = await startDmsListener({ onMessage: (m) => got.push(m) });
    closers.push(() => l.close());
    const req = fixture('get-status.xml').replace('<MessageID>', `<AsyncReplyFlag>true</AsyncReplyFlag><ReplyAddress>${l.url}/replies</ReplyAddress><MessageID>`);
    const ack = await t.post(req);
    expect(ack.reply.result).toBe('OK');
    expect(codes(ack)).toEqual(['0.3']);
    expect(ack.reply.payload).toBeUndefined();
    await until(() => got.length === 1, 5000, 'the asynchronous reply');
    expect(got[0]).toMatchObject({ path: '/replies', verb: 'reply', noun: 'DERGroupStatuses', correlationId: '9c1e3a5b-7d2f-4b6e-8a0c-1d3e5f7a9b06', result: 'OK', kind: 'DERGroupStatusQueriesResponseMessage' });
    expect(at(got[0]!.payload, 'DERGroupStatuses', 'EndDeviceGroup', 'mRID')).toBe('7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77');

    const noAddress = await t.post(fixture('get-status.xml').replace('<MessageID>', '<AsyncReplyFlag>true</AsyncReplyFlag><MessageID>'));
    expect(codes(noAddress)).toEqual(['1.5']);
    const ftp = await t.post(fixture('get-status.xml').replace('<MessageID>', '<AsyncReplyFlag>true</AsyncReplyFlag><ReplyAddress>ftp://x/y</ReplyAddress><MessageID>'));
    expect(codes(ftp)).toEqual(['1.8']);
  });

  it('a ReplyAddress the deployment does not allow is refused (6.1)', async () => {
    const t = await setup({ allowReplyAddress: (u) => u.hostname === 'dms.example' });
    const r = await t.post(fixture('get-status.xml').replace('<MessageID>', '<AsyncReplyFlag>true</AsyncReplyFlag><ReplyAddress>http://127.0.0.1:9/x</ReplyAddress><MessageID>'));
    expect(codes(r)).toEqual(['6.1']);
  });
});
