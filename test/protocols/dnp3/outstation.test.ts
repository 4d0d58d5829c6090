import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { encodeRequest, single, type ResponseApdu } from '../../../src/protocols/dnp3/app/apdu.js';
import { CommandStatus, FunctionCode, IIN1, IIN2 } from '../../../src/protocols/dnp3/app/codes.js';
import { encodeObjects, parseObjects, Qualifier, type BlockSpec } from '../../../src/protocols/dnp3/app/headers.js';
import { createChannelPair } from '../../../src/protocols/dnp3/channel/byte-channel.js';
import { Dnp3Outstation, type Command, type CommandMode, type OutstationOptions } from '../../../src/protocols/dnp3/outstation/outstation.js';
import { hex } from './support.js';
import { rawClient } from './harness.js';

function setup(o: Partial<OutstationOptions> = {}) {
  const clock = new VirtualClock();
  const [m, s] = createChannelPair({ scheduler: clock, latencyMs: 1 });
  const calls: [CommandMode, Command][] = [];
  const outstation = new Dnp3Outstation({
    scheduler: clock,
    database: { points: { binaryInput: 3, analogInput: 3, analogOutputStatus: 3 } },
    unsolicited: { allowed: false },
    onCommand: (c, mode) => {
      calls.push([mode, c]);
      return CommandStatus.SUCCESS;
    },
    ...o,
  });
  outstation.attach(s);
  const client = rawClient(m);
  let seq = 0;
  /** Send a request and return the response it got (or undefined). */
  const ask = async (fn: number, objects: Uint8Array | readonly BlockSpec[] = new Uint8Array(0), at?: number): Promise<ResponseApdu | undefined> => {
    const n = client.responses.length;
    const s = at ?? seq++ & 15;
    client.send(encodeRequest(single(s), fn, objects instanceof Uint8Array ? objects : encodeObjects(objects)));
    await clock.advanceBy(10);
    const r = client.responses[n];
    return r?.kind === 'response' ? r : undefined;
  };
  return { clock, outstation, client, calls, ask, nextSeq: () => seq & 15, setSeq: (v: number) => (seq = v) };
}

const aoSpec = (value: number, index = 1): BlockSpec[] => [{ group: 41, variation: 1, qualifier: Qualifier.INDEX_8, items: [{ index, value: { type: 'analogOutput', value, status: 0 } }] }];
const statuses = (r: ResponseApdu | undefined): number[] =>
  parseObjects(r!.objects, true).blocks.flatMap((b) => b.items.map((i) => ('status' in i.value ? i.value.status : -1)));

describe('outstation: select-before-operate rules', () => {
  it('SELECT then OPERATE with identical objects and the next SEQ executes once', async () => {
    const t = setup();
    const sel = await t.ask(FunctionCode.SELECT, aoSpec(500));
    expect(statuses(sel)).toEqual([CommandStatus.SUCCESS]);
    const op = await t.ask(FunctionCode.OPERATE, aoSpec(500));
    expect(statuses(op)).toEqual([CommandStatus.SUCCESS]);
    expect(t.calls.map(([m]) => m)).toEqual(['select', 'operate']);
    // The echo is the request, status filled in.
    expect(op!.objects).toEqual(encodeObjects(aoSpec(500)));
  });

  it('an OPERATE whose objects differ from the SELECT gets NO_SELECT', async () => {
    const t = setup();
    await t.ask(FunctionCode.SELECT, aoSpec(500));
    const op = await t.ask(FunctionCode.OPERATE, aoSpec(501));
    expect(statuses(op)).toEqual([CommandStatus.NO_SELECT]);
    expect(t.calls.map(([m]) => m)).toEqual(['select']);
  });

  it('an OPERATE without the next SEQ, after another request, or after the timeout gets NO_SELECT', async () => {
    const t = setup({ selectTimeoutMs: 2000 });
    await t.ask(FunctionCode.SELECT, aoSpec(1));
    t.setSeq(t.nextSeq() + 1);
    expect(statuses(await t.ask(FunctionCode.OPERATE, aoSpec(1)))).toEqual([CommandStatus.NO_SELECT]);

    await t.ask(FunctionCode.SELECT, aoSpec(2));
    await t.ask(FunctionCode.READ, [{ group: 60, variation: 1, qualifier: Qualifier.ALL }]);
    expect(statuses(await t.ask(FunctionCode.OPERATE, aoSpec(2)))).toEqual([CommandStatus.NO_SELECT]);

    await t.ask(FunctionCode.SELECT, aoSpec(3));
    await t.clock.advanceBy(2500);
    expect(statuses(await t.ask(FunctionCode.OPERATE, aoSpec(3)))).toEqual([CommandStatus.NO_SELECT]);
    expect(t.calls.map(([m]) => m)).toEqual(['select', 'select', 'select']);
  });

  it('a select the device refuses leaves nothing selected', async () => {
    const t = setup({ onCommand: () => CommandStatus.LOCAL });
    expect(statuses(await t.ask(FunctionCode.SELECT, aoSpec(7)))).toEqual([CommandStatus.LOCAL]);
    expect(statuses(await t.ask(FunctionCode.OPERATE, aoSpec(7)))).toEqual([CommandStatus.NO_SELECT]);
  });

  it('more controls than allowed get TOO_MANY_OBJS', async () => {
    const t = setup({ maxControlsPerRequest: 2 });
    const items = [1, 2, 3].map((index) => ({ index, value: { type: 'analogOutput' as const, value: index, status: 0 } }));
    const r = await t.ask(FunctionCode.DIRECT_OPERATE, [{ group: 41, variation: 1, qualifier: Qualifier.INDEX_16, items }]);
    expect(statuses(r)).toEqual([0, 0, CommandStatus.TOO_MANY_OBJS]);
    expect(t.calls).toHaveLength(2);
  });

  it('a handler that throws answers HARDWARE_ERROR and the outstation keeps serving', async () => {
    const t = setup({
      onCommand: () => {
        throw new Error('device model bug');
      },
    });
    expect(statuses(await t.ask(FunctionCode.DIRECT_OPERATE, aoSpec(1)))).toEqual([CommandStatus.HARDWARE_ERROR]);
    expect(t.outstation.stats().commandHandlerErrors).toBe(1);
    expect(await t.ask(FunctionCode.READ, [{ group: 60, variation: 1, qualifier: Qualifier.ALL }])).toBeDefined();
  });

  it('controls must name their points with an index prefix', async () => {
    const t = setup();
    const r = await t.ask(FunctionCode.DIRECT_OPERATE, [{ group: 41, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'analogOutput', value: 1, status: 0 } }] }]);
    expect(r!.iin.iin2 & IIN2.PARAM_ERROR).toBeTruthy();
    expect(t.calls).toHaveLength(0);
  });
});

describe('outstation: requests it cannot do', () => {
  it('answers an unsupported function with FUNC_NOT_SUPPORTED', async () => {
    const t = setup();
    for (const fn of [FunctionCode.COLD_RESTART, FunctionCode.IMMED_FREEZE, FunctionCode.ASSIGN_CLASS, 0x70]) {
      const r = await t.ask(fn);
      expect(r!.iin.iin2 & IIN2.FUNC_NOT_SUPPORTED).toBeTruthy();
    }
    expect(t.outstation.stats().unsupportedFunctions).toBe(4);
  });

  it('reports unknown objects and out-of-range reads, answering what it can', async () => {
    const t = setup();
    const unknown = await t.ask(FunctionCode.READ, [{ group: 99, variation: 1, qualifier: Qualifier.ALL }, { group: 30, variation: 0, qualifier: Qualifier.ALL }]);
    expect(unknown!.iin.iin2 & IIN2.OBJECT_UNKNOWN).toBeTruthy();
    expect(parseObjects(unknown!.objects, true).blocks.map((b) => b.group)).toEqual([30]);
    const range = await t.ask(FunctionCode.READ, [{ group: 30, variation: 1, qualifier: Qualifier.RANGE_8, range: { kind: 'range', start: 1, stop: 9 } }]);
    expect(range!.iin.iin2 & IIN2.PARAM_ERROR).toBeTruthy();
    const wrongVar = await t.ask(FunctionCode.READ, [{ group: 30, variation: 9, qualifier: Qualifier.ALL }]);
    expect(wrongVar!.iin.iin2 & IIN2.OBJECT_UNKNOWN).toBeTruthy();
  });

  it('reads of chosen points, ranges and variations', async () => {
    const t = setup();
    t.outstation.update('analogInput', 2, 12.5);
    const r = await t.ask(FunctionCode.READ, [
      { group: 30, variation: 5, qualifier: Qualifier.INDEX_8, indices: [2] },
      { group: 1, variation: 1, qualifier: Qualifier.RANGE_8, range: { kind: 'range', start: 0, stop: 2 } },
      { group: 32, variation: 0, qualifier: Qualifier.COUNT_8, range: { kind: 'count', count: 5 } },
    ]);
    const blocks = parseObjects(r!.objects, true).blocks;
    expect(blocks.map((b) => `g${b.group}v${b.variation}`)).toEqual(['g32v3', 'g30v5', 'g1v1']);
    expect(blocks[1]!.items).toEqual([{ index: 2, value: { type: 'analog', value: 12.5, flags: 1 } }]);
  });

  it('WRITE: only restart (index 7 to 0) of g80v1; unknown objects refused', async () => {
    const t = setup();
    const bad = await t.ask(FunctionCode.WRITE, [{ group: 80, variation: 1, qualifier: Qualifier.RANGE_8, items: [{ index: 4, value: { type: 'bit', value: false } }] }]);
    expect(bad!.iin.iin2 & IIN2.PARAM_ERROR).toBeTruthy();
    expect(bad!.iin.iin1 & IIN1.DEVICE_RESTART).toBeTruthy();
    const unknown = await t.ask(FunctionCode.WRITE, [{ group: 30, variation: 1, qualifier: Qualifier.RANGE_8, items: [{ index: 0, value: { type: 'analog', value: 1, flags: 1 } }] }]);
    expect(unknown!.iin.iin2 & IIN2.OBJECT_UNKNOWN).toBeTruthy();
    const ok = await t.ask(FunctionCode.WRITE, hex('50 01 00 07 07 00'));
    expect(ok!.iin).toEqual({ iin1: 0, iin2: 0 });
  });

  it('drops malformed and multi-fragment requests, counting them', async () => {
    const t = setup();
    t.client.send(hex('c0'));
    t.client.send(encodeRequest({ fir: true, fin: false, con: false, uns: false, seq: 1 }, FunctionCode.READ, hex('3c 01 06')));
    await t.clock.advanceBy(10);
    expect(t.client.responses).toHaveLength(0);
    expect(t.outstation.stats()).toMatchObject({ malformedApdus: 1, multiFragmentRequests: 1 });
    const truncated = await t.ask(FunctionCode.WRITE, hex('32 01 07 01 00 00'));
    expect(truncated!.iin.iin2 & IIN2.PARAM_ERROR).toBeTruthy();
  });

  it('ENABLE_UNSOLICITED is not supported when unsolicited reporting is off', async () => {
    const t = setup();
    const r = await t.ask(FunctionCode.ENABLE_UNSOLICITED, [{ group: 60, variation: 2, qualifier: Qualifier.ALL }]);
    expect(r!.iin.iin2 & IIN2.FUNC_NOT_SUPPORTED).toBeTruthy();
  });
});

describe('outstation: indications', () => {
  it('reports class bits for unreported events, NEED_TIME and application indications', () => {
    const t = setup({ needTimeAtStartup: true, database: { points: { binaryInput: [{ eventClass: 2 }], analogInput: [{ eventClass: 3 }] } } });
    t.outstation.update('binaryInput', 0, true);
    t.outstation.update('analogInput', 0, 3);
    t.outstation.setIndications({ localControl: true, deviceTrouble: true });
    expect(t.outstation.iin().iin1).toBe(IIN1.DEVICE_RESTART | IIN1.NEED_TIME | IIN1.CLASS2_EVENTS | IIN1.CLASS3_EVENTS | IIN1.LOCAL_CONTROL | IIN1.DEVICE_TROUBLE);
  });

  it('rejects configurations it cannot serve', () => {
    expect(() => setup({ database: { points: { analogInput: [{ staticVariation: 9 }] } } })).toThrow(/static variation/);
    expect(() => setup({ maxTxFragmentSize: 20 })).toThrow(/maxTxFragmentSize/);
    expect(t().update('analogInput', 99, 1)).toBe(false);
    function t() {
      return setup().outstation;
    }
  });
});
