import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { startDerms } from '../support/derms-process.js';

/** A CIM request creating a group of `members` (a bare 61968-100 RequestMessage). */
function createGroup(mRID: string, members: readonly string[]): string {
  return (
    `<RequestMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header><Verb>create</Verb><Noun>DERGroups</Noun><MessageID>${mRID}-m</MessageID></Header>` +
    `<Payload><DERGroups xmlns="http://iec.ch/TC57/2017/DERGroups#"><EndDeviceGroup><mRID>${mRID}</mRID>` +
    `<DERFunction><connectDisconnect>true</connectDisconnect><frequencyWattCurveFunction>false</frequencyWattCurveFunction><maxRealPowerLimiting>true</maxRealPowerLimiting>` +
    `<rampRateControl>false</rampRateControl><reactivePowerDispatch>true</reactivePowerDispatch><realPowerDispatch>true</realPowerDispatch>` +
    `<voltageRegulation>false</voltageRegulation><voltVarCurveFunction>false</voltVarCurveFunction><voltWattCurveFunction>false</voltWattCurveFunction></DERFunction>` +
    members.map((m) => `<EndDevices><mRID>${m}</mRID></EndDevices>`).join('') +
    `<Names><name>${mRID}</name></Names></EndDeviceGroup></DERGroups></Payload></RequestMessage>`
  );
}

describe('derms start keeps what it acknowledged (SQLite store)', () => {
  it('groups created over the CIM API survive SIGKILL, default groups are not doubled, and the membership history is kept', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'derms-durable-'));
    const store = `sqlite:${join(cwd, 'state', 'derms.db')}`;
    const args = ['--port', '0', '--speed', '5', '--store', store, '--connect-timeout', '5'];
    try {
      const first = await startDerms(cwd, args);
      const acknowledged: string[] = [];
      try {
        // Write under load: concurrent creates, then kill without warning.
        const replies = await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            const id = `dms-group-${i}`;
            const r = await fetch(first.ready.api as string, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: createGroup(id, ['pv-roof-1', 'bess-school']) });
            const text = await r.text();
            if (r.status === 200 && /<(\w+:)?Result>OK</.test(text)) acknowledged.push(id);
            return r.status;
          }),
        );
        expect(replies.every((s) => s === 200)).toBe(true);
      } finally {
        first.child.kill('SIGKILL');
        await first.exited;
      }
      expect(acknowledged).toHaveLength(12);

      const second = await startDerms(cwd, args);
      try {
        const groups = (await (await fetch(new URL('/ui/api/groups', second.ready.dashboard as string))).json()) as { groups?: { mRID?: string; id?: string }[] } | { mRID?: string; id?: string }[];
        const ids = (Array.isArray(groups) ? groups : (groups.groups ?? [])).map((g) => g.mRID ?? g.id);
        for (const id of acknowledged) expect(ids).toContain(id);
        expect(ids.filter((id) => id === 'storage')).toHaveLength(1);
        expect(second.ready.groups).toEqual(expect.arrayContaining([...acknowledged, 'storage']));
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      } finally {
        second.child.kill('SIGKILL');
      }
      // The membership history says who joined each acknowledged group, once.
      const db = await openStore(store);
      try {
        const history = await db.groups.history({ groupId: 'dms-group-0' });
        expect(history.map((h) => [h.derId, h.action]).sort()).toEqual([
          ['bess-school', 'joined'],
          ['pv-roof-1', 'joined'],
        ]);
      } finally {
        await db.close();
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
