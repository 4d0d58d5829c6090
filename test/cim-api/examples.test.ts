import { afterEach, describe, expect, it } from 'vitest';
import { readReply } from '../../src/cim-api/client.js';
import { startDmsListener, type ReceivedMessage } from '../../src/cim-api/listener.js';
import type { EndDeviceEventRecord } from '../../src/cim-api/pushes.js';
import type { Setpoint } from '../../src/core/model/setpoint.js';
import { battery, pv } from '../support/fixtures.js';
import { at, cimHarness, fixture, list, serve } from './support.js';

/**
 * Every example of section 4 of the CIM digest (fixtures/cim/*.xml, our own values) sent to the
 * server over HTTP: the reply it gets, and what changed in the core.
 */

const GROUP = '7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77';
const MSG = 'http://iec.ch/TC57/2011/schema/message';
const wOf = (sp: Setpoint | undefined): number | undefined => (sp?.kind === 'activePower' ? sp.w : undefined);

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function setup() {
  const h = cimHarness([pv('der-hill-01'), pv('der-hill-02'), pv('der-hill-03'), battery('der-valley-bess')]);
  const s = await serve(h.system);
  closers.push(() => s.server.close());
  const events: EndDeviceEventRecord[] = [];
  s.server.pushes.endDeviceEvents$.subscribe((e) => events.push(e));
  return { ...h, ...s, events };
}

describe('section 4 examples against the server', { timeout: 30_000 }, () => {
  it('4.1 create group: OK with the group ID, CorrelationID echoed, group in the registry', async () => {
    const t = await setup();
    const r = await t.post(fixture('create-group.xml'));
    expect(r.status).toBe(200);
    expect(r.body).toContain('<tns:DERGroupsResponseMessage xmlns:tns="http://iec.ch/TC57/2017/DERGroupsMessage"');
    expect(r.reply.result).toBe('OK');
    expect(r.reply.errors.map((e) => e.code)).toEqual(['0.0']);
    expect(r.reply.message!.header).toMatchObject({ verb: 'reply', noun: 'DERGroups', correlationId: 'f3a9d2c4-6b1e-4f70-8a25-11c0b7e4d901' });
    expect(r.reply.message!.header.messageId).not.toBe('f3a9d2c4-6b1e-4f70-8a25-11c0b7e4d901');
    expect(at(r.reply.message!.reply, 'ID')).toEqual({ '#text': GROUP, '@kind': 'uuid', '@objectType': 'DERGroup' });
    const g = t.registry.group(GROUP)!;
    expect(g).toMatchObject({ names: ['Hilltop-PV'], description: 'Hilltop substation rooftop PV', members: ['der-hill-01', 'der-hill-02'], version: { major: 1, minor: 0, revision: 0 } });
    expect(g.functions).toMatchObject({ connectDisconnect: true, realPowerDispatch: true, reactivePowerDispatch: true, maxRealPowerLimiting: true, rampRateControl: false, voltVarCurveFunction: false });

    // The same create again: refused by business rule, naming the group.
    const dup = await t.post(fixture('create-group.xml'));
    expect(dup.reply.result).toBe('FAILED');
    expect(dup.reply.errors).toHaveLength(1);
    expect(dup.reply.errors[0]).toMatchObject({ code: '6.1', level: 'FATAL', ID: { '#text': GROUP, '@kind': 'uuid', '@objectType': 'DERGroup' } });
    expect(t.registry.group(GROUP)!.members).toHaveLength(2);
  });

  it('4.2 add a member by change (minor version up), remove one by OperationSet element delete', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    const add = await t.post(fixture('add-member.xml'));
    expect(add.reply.result).toBe('OK');
    expect(add.reply.message!.header.correlationId).toBe('0c55e1b8-92a4-4a0e-b7d3-2e6f8a9b1c02');
    expect(t.registry.group(GROUP)).toMatchObject({ members: ['der-hill-01', 'der-hill-02', 'der-hill-03'], version: { major: 1, minor: 1, revision: 0 } });

    const rm = await t.post(fixture('remove-member.xml'));
    expect(rm.body).toContain('DERGroupsOperationSetResponseMessage');
    expect(rm.reply.result).toBe('OK');
    expect(rm.reply.message!.header.noun).toBe('OperationSet');
    expect(t.registry.group(GROUP)).toMatchObject({ members: ['der-hill-01', 'der-hill-03'], version: { major: 1, minor: 2, revision: 0 } });
    // Removing it again: that DER is no longer a member.
    const again = await t.post(fixture('remove-member.xml'));
    expect(again.reply.result).toBe('FAILED');
    expect(again.reply.errors[0]).toMatchObject({ code: '2.15', operationId: 1 });
    expect(again.reply.errors[0]!.reason).toContain('der-hill-02');
  });

  it('4.3 delete group', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    const r = await t.post(fixture('delete-group.xml'));
    expect(r.reply.result).toBe('OK');
    expect(t.registry.group(GROUP)).toBeUndefined();
    const again = await t.post(fixture('delete-group.xml'));
    expect(again.reply.result).toBe('FAILED');
    expect(again.reply.errors[0]).toMatchObject({ code: '2.15', ID: { '#text': 'Hilltop-PV', '@kind': 'name', '@objectType': 'DERGroup' } });
  });

  it('4.4 get group: the whole group plus capability (DERFunction, installed and available ranges)', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(6000);
    const r = await t.post(fixture('get-group.xml'));
    expect(r.reply.result).toBe('OK');
    const g = at(r.reply.payload, 'DERGroups', 'EndDeviceGroup') as Record<string, unknown>;
    expect(g['mRID']).toBe(GROUP);
    expect(at(g, 'Names', 'name')).toBe('Hilltop-PV');
    expect(at(g, 'DERFunction', 'realPowerDispatch')).toBe('true');
    expect(at(g, 'DERFunction', 'voltWattCurveFunction')).toBe('false');
    expect(list(g['EndDevices']).map((d) => at(d, 'mRID'))).toEqual(['der-hill-01', 'der-hill-02']);
    expect(at(g, 'version')).toEqual({ major: '1', minor: '0', revision: '0' });
    const params = Object.fromEntries(list(g['DERMonitorableParameter']).map((p) => [at(p, 'DERParameter'), p]));
    // Two 10 kW PV systems, 6 kW available each now, in kW.
    expect(params['activePower']).toMatchObject({ yMultiplier: 'k', yUnit: 'W', yUnitInstalledMax: '20', yUnitInstalledMin: '0', DERCurveData: { maxYValue: '12', minYValue: '0', nominalYValue: '12' } });
    expect(params['reactivePower']).toMatchObject({ yUnit: 'VAr', yUnitInstalledMax: '8.8', yUnitInstalledMin: '-8.8' });
    expect(params['apparentPower']).toMatchObject({ yUnit: 'VA', yUnitInstalledMax: '22' });
    expect(at(g, 'status', 'value')).toBe('Online');
  });

  it('4.5 get status by mRID (wrapper) and by name (bare RequestMessage in SOAP 1.1), from the live aggregation', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(7000, { var: -500 });
    const st = t.aggregator.status(GROUP)!;
    expect(st.activePowerW).toBe(14_000);
    const r = await t.post(fixture('get-status.xml'));
    expect(r.reply.result).toBe('OK');
    const g = at(r.reply.payload, 'DERGroupStatuses', 'EndDeviceGroup') as Record<string, unknown>;
    const params = Object.fromEntries(list(g['DERMonitorableParameter']).map((p) => [at(p, 'DERParameter'), p]));
    expect(params['activePower']).toMatchObject({ yMultiplier: 'k', yUnit: 'W', DERCurveData: { nominalYValue: '14', maxYValue: '14', minYValue: '0', timeStamp: new Date(st.newestSampleAt!).toISOString() } });
    expect(at(params['reactivePower'], 'DERCurveData', 'nominalYValue')).toBe('-1');
    expect(at(g, 'status', 'remark')).toBe('2 of 2 members reporting, 0 stale, 0 offline, 0 disconnected');
    expect(at(g, 'GroupStatusDetails', 'membersReporting')).toBe('2');

    const soap = await t.post(fixture('get-status-soap.xml'), 'text/xml; charset=utf-8');
    expect(soap.contentType).toMatch(/^text\/xml/);
    expect(soap.body).toMatch(/^<\?xml[^>]*\?><soapenv:Envelope xmlns:soapenv="http:\/\/schemas.xmlsoap.org\/soap\/envelope\/"/);
    expect(soap.body).toContain(`xmlns:msg="${MSG}"`);
    expect(soap.body).toContain('<soapenv:Body><msg:ResponseMessage><msg:Header><msg:Verb>reply</msg:Verb>');
    expect(soap.reply.result).toBe('OK');
    // No CorrelationID in the request: its MessageID is echoed.
    expect(soap.reply.message!.header.correlationId).toBe('b3d5f7a9-1c2e-4e4f-8a6b-8f9a0b1c2d20');
    expect(at(soap.reply.payload, 'DERGroupStatuses', 'EndDeviceGroup', 'mRID')).toBe(GROUP);
  });

  it('4.6 a pushed status event is acknowledged by a DMS endpoint with its MessageID as CorrelationID', async () => {
    const got: ReceivedMessage[] = [];
    const l = await startDmsListener({ onMessage: (m) => got.push(m) });
    closers.push(() => l.close());
    const res = await fetch(`${l.url}/change/receiveDERGroupStatuses`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: fixture('status-event.xml') });
    const body = await res.text();
    const reply = readReply(body, res.headers.get('content-type') ?? undefined);
    expect(res.status).toBe(200);
    expect(body).toContain('<tns:DERGroupStatusesResponseMessage');
    expect(reply.result).toBe('OK');
    expect(reply.message!.header.correlationId).toBe('4e6a8c0d-2f1b-4d3e-a5c7-9e0b2d4f6a07');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'ChangedDERGroupStatuses', verb: 'changed', noun: 'DERGroupStatuses', path: '/change/receiveDERGroupStatuses' });
  });

  it('4.7 get forecast: one forecast for the group, one parameter per DERParameter, numberOfIntervals points', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    const r = await t.post(fixture('get-forecast.xml'));
    expect(r.reply.result).toBe('OK');
    const forecasts = list(at(r.reply.payload, 'DERGroupForecasts', 'DERGroupForecast'));
    expect(forecasts).toHaveLength(1);
    const f = forecasts[0] as Record<string, unknown>;
    expect(at(f, 'predictionCreationDate')).toBe('2026-06-01T12:00:00.000Z');
    expect(at(f, 'EndDeviceGroup', 'mRID')).toBe(GROUP);
    const params = list(at(f, 'EndDeviceGroup', 'DERMonitorableParameter'));
    expect(params.map((p) => at(p, 'DERParameter'))).toEqual(['activePower', 'reactivePower']);
    for (const p of params) {
      const s = at(p, 'DispatchSchedule') as Record<string, unknown>;
      expect(s).toMatchObject({ curveStyleKind: 'constantYValue', startTime: '2026-06-01T13:00:00.000Z', timeIntervalDuration: '15', timeIntervalUnit: 'm' });
      const points = list(s['DERCurveData']);
      expect(points.map((c) => at(c, 'intervalNumber'))).toEqual(['1', '2', '3', '4']);
      for (const c of points) expect(Number(at(c, 'minYValue'))).toBeLessThanOrEqual(Number(at(c, 'maxYValue')));
    }
    // Afternoon sun in Munich: PV produces, below the 20 kW installed.
    const nominal = Number(at(list(at(params[0], 'DispatchSchedule', 'DERCurveData'))[0], 'nominalYValue'));
    expect(nominal).toBeGreaterThan(1);
    expect(nominal).toBeLessThan(20);
  });

  it('4.8 create dispatch: the schedule runs in the core and every member gets its share', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(8000);
    const r = await t.post(fixture('create-dispatch.xml'));
    expect(r.reply.result).toBe('OK');
    expect(at(r.reply.message!.reply, 'ID')).toMatchObject({ '#text': 'b1d3f5a7-9c0e-4e2a-8b4d-6f8a0c2e4a10', '@objectType': 'DERGroupDispatch' });
    const rec = t.tracker.record('b1d3f5a7-9c0e-4e2a-8b4d-6f8a0c2e4a10')!;
    expect(rec).toMatchObject({ groupId: GROUP, state: 'active', value: 9000 });
    expect(rec.dispatch.schedule).toMatchObject({ intervalDuration: 30, intervalUnit: 'm', curveStyle: 'constantYValue', points: [{ interval: 1, value: 9000 }, { interval: 2, value: 6000 }] });
    await t.clock.advanceBy(10);
    expect(wOf(t.dev('der-hill-01').last('activePower'))! + wOf(t.dev('der-hill-02').last('activePower'))!).toBeCloseTo(9000, 6);
    await t.clock.advanceBy(30 * 60_000);
    expect(t.tracker.record('b1d3f5a7-9c0e-4e2a-8b4d-6f8a0c2e4a10')!.value).toBe(6000);
  });

  it('4.9 disconnect a group and connect one device: per-device EndDeviceEvents carry the CorrelationID', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(8000);
    const off = await t.post(fixture('disconnect-group.xml'));
    expect(off.reply.result).toBe('OK');
    await t.clock.advanceBy(10);
    for (const id of ['der-hill-01', 'der-hill-02']) expect(t.dev(id).last('connect')).toMatchObject({ kind: 'connect', connected: false });
    expect(t.events.map((e) => [e.derId, e.connected, e.correlationId])).toEqual([
      ['der-hill-01', false, 'c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11'],
      ['der-hill-02', false, 'c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11'],
    ]);
    const on = await t.post(fixture('connect-device.xml'));
    expect(on.reply.result).toBe('OK');
    await t.clock.advanceBy(10);
    expect(t.dev('der-hill-01').last('connect')).toMatchObject({ connected: true });
    expect(t.dev('der-hill-02').last('connect')).toMatchObject({ connected: false });
    expect(t.events.at(-1)).toMatchObject({ derId: 'der-hill-01', connected: true, correlationId: 'e4a6c8d0-2f3b-4b5c-ae7a-9c0d1e2f3a13' });
  });

  it('4.10 functions on by change, then ramp-rate and voltage dispatches; a volt-var curve by extension', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(8000);
    // Before the functions are on, the core refuses the ramp rate (business rule).
    const early = await t.post(fixture('ramp-and-voltage-dispatch.xml'));
    expect(early.reply.result).toBe('FAILED');
    expect(early.reply.errors.map((e) => e.code)).toEqual(['6.1', '6.1']);

    const fn = await t.post(fixture('change-functions.xml'));
    expect(fn.reply.result).toBe('OK');
    expect(t.registry.group(GROUP)!.functions).toMatchObject({ rampRateControl: true, voltageRegulation: true, voltVarCurveFunction: true });
    expect(t.registry.group(GROUP)!.version).toEqual({ major: 1, minor: 0, revision: 1 });

    const r = await t.post(fixture('ramp-and-voltage-dispatch.xml'));
    expect(r.reply.result).toBe('OK');
    const ramp = t.tracker.live(GROUP, 'rampRates')[0]!;
    expect(ramp.dispatch.control).toEqual({ kind: 'rampRates', rates: { increasing: 2000, unit: 'W/s' } });
    const vv = t.tracker.live(GROUP, 'reactive')[0]!;
    expect(vv.dispatch.control.kind).toBe('voltVar');
    // 244.8 V on 240 V members: the dead band sits around 102 %.
    expect(vv.dispatch.control).toMatchObject({ curve: [{ v: 97, var: 44 }, { v: 101, var: 0 }, { v: 103, var: 0 }, { v: 107, var: -44 }] });
    await t.clock.advanceBy(10);
    expect(t.dev('der-hill-01').last('voltVar')).toMatchObject({ kind: 'voltVar' });
    // Straight line towards 247.2 V: half an hour in, the target is 103 %.
    await t.clock.advanceBy(30 * 60_000);
    const mid = t.tracker.live(GROUP, 'reactive')[0]!.dispatch.control;
    expect(mid.kind === 'voltVar' && mid.curve[1]!.v).toBeCloseTo(101.5, 6);

    const curve = await t.post(fixture('volt-var-curve.xml'));
    expect(curve.reply.result).toBe('OK');
    // A change naming one DERFunction flag leaves the others as they were.
    expect(t.registry.group(GROUP)!.functions).toMatchObject({ rampRateControl: true, voltageRegulation: true, realPowerDispatch: true, voltWattCurveFunction: false });
    const assigned = t.tracker.live(GROUP, 'reactive')[0]!.dispatch.control;
    expect(assigned).toEqual({ kind: 'voltVar', curve: [{ v: 93, var: 40 }, { v: 98.5, var: 0 }, { v: 101.5, var: 0 }, { v: 107, var: -40 }] });
    // The voltage schedule no longer drives the curve it was superseded by.
    await t.clock.advanceBy(15 * 60_000);
    expect(t.tracker.live(GROUP, 'reactive')[0]!.dispatch.control).toEqual(assigned);
  });

  it('the JSON mapping: a create in JSON gets a JSON reply mirroring the XML one', async () => {
    const t = await setup();
    const r = await t.post(fixture('create-group.json'), 'application/json');
    expect(r.contentType).toMatch(/^application\/json/);
    const json = JSON.parse(r.body) as Record<string, unknown>;
    expect(at(json, 'Header', 'Verb')).toBe('reply');
    expect(at(json, 'Header', 'CorrelationID')).toBe('c4e6a8b0-2d3f-4f5a-9b7c-9a0b1c2d3e21');
    expect(at(json, 'Reply', 'Result')).toBe('OK');
    expect(json['Reply']).toMatchObject({ Error: [{ code: '0.0' }], ID: [{ '#text': '1a3c5e7f-9b0d-4d2f-8e4a-6c8e0a2c4e22', '@kind': 'uuid', '@objectType': 'DERGroup' }] });
    expect(t.registry.findGroup('Valley-BESS')).toMatchObject({ members: ['der-valley-bess'], functions: { realPowerDispatch: true, connectDisconnect: true } });
  });

  it('draftProfilesOnly: documents stay within the 2017 draft profiles (capability then from flags plus statuses)', async () => {
    const h = cimHarness([pv('der-hill-01'), pv('der-hill-02')]);
    const s = await serve(h.system, { draftProfilesOnly: true });
    closers.push(() => s.server.close());
    await s.post(fixture('create-group.xml'));
    h.report(6000);
    const g = await s.post(fixture('get-group.xml'));
    expect(g.reply.result).toBe('OK');
    expect(at(g.reply.payload, 'DERGroups', 'EndDeviceGroup', 'DERFunction', 'realPowerDispatch')).toBe('true');
    expect(at(g.reply.payload, 'DERGroups', 'EndDeviceGroup', 'DERMonitorableParameter')).toBeUndefined();
    expect(at(g.reply.payload, 'DERGroups', 'EndDeviceGroup', 'status')).toBeUndefined();
    const st = await s.post(fixture('get-status.xml'));
    expect(st.body).not.toContain('urn:derms-sim:cim-extensions:1');
    expect(at(st.reply.payload, 'DERGroupStatuses', 'EndDeviceGroup', 'DERMonitorableParameter', 'yUnitInstalledMax')).toBe('20');
  });
});
