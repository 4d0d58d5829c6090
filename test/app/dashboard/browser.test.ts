import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/cli/paths.js';
import { pace } from '../../../src/sim/pacer.js';
import { chromiumPeer, launchChromium, type HeadlessBrowser } from '../../support/browser.js';
import { MemoryServices, sampleApplications } from './memory-services.js';
import { demoSystem, type DemoSystem } from './system.js';

/** Virtual seconds per real second: values move visibly while the test waits a few seconds. */
const SPEED = 10;
/** `UPDATE_SCREENSHOTS=1` refreshes the README's pictures; otherwise they go to a temporary folder. */
const shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(packageRoot(), 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'derms-shots-'));

const chromium = chromiumPeer();

/** A chart element: the page keeps its uPlot instance on it, so the test reads what is drawn. */
type Charted = { uplot?: { data: (number | null)[][] } };

describe.skipIf(!chromium.available)('dashboard in chromium', () => {
  let s: DemoSystem;
  let services: MemoryServices;
  let browser: HeadlessBrowser;
  let page: Page;
  let base: string;
  const stop = new AbortController();
  let pacing: Promise<void>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    s = await demoSystem({
      services: (core) => (services = new MemoryServices(core.registry, () => core.clock.now(), sampleApplications(core.clock.now()))),
      options: { streamIntervalMs: 250 },
    });
    // Two minutes of history for the charts, then the clock follows the wall clock, accelerated.
    await s.clock.advanceBy(120_000);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    pacing = pace(s.clock, { mode: 'accelerated', speed: SPEED, untilMs: Infinity, signal: stop.signal });
    browser = await launchChromium({ viewport: { width: 1400, height: 900 } });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 30_000);

  afterAll(async () => {
    stop.abort();
    await pacing;
    await browser?.close();
    services?.close();
    await s?.stop();
  }, 30_000);

  afterEach(() => expect(pageErrors).toEqual([]));

  const value = (sel: string): Promise<number> => page.locator(sel).getAttribute('data-value').then((v) => Number(v));

  it('loads the fleet overview and shows live values that change', async () => {
    await page.goto(`${base}/#/fleet`);
    await expect.poll(() => value('#fleet-total')).toBe(s.spec.devices.length);
    expect(await value('#fleet-fresh')).toBe(s.spec.devices.length);
    await expect.poll(() => page.locator('.feeder').count()).toBe(2);
    const a3 = Number(await page.locator('[data-feeder=feeder-a] [data-section=a3]').getAttribute('data-vpu'));
    expect(a3).toBeGreaterThan(0.95);
    expect(a3).toBeLessThan(1.05);
    await expect.poll(() => page.locator('tr[data-der]').count()).toBe(s.spec.devices.length);
    const w0 = await value('#fleet-w');
    const t0 = await value('#clock');
    await expect.poll(() => value('#clock'), { timeout: 5_000 }).toBeGreaterThan(t0);
    await expect.poll(() => value('#fleet-w'), { timeout: 10_000 }).not.toBe(w0);
    // The fleet output chart grows from the stream, one point per push.
    const points = (): Promise<number> => page.locator('[data-chart=fleet-output]').evaluate((el) => (el as unknown as Charted).uplot?.data[0]?.length ?? 0);
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(8);
    await page.screenshot({ path: join(shots, 'fleet-overview.png') });
  }, 30_000);

  it('dispatches a group from the form; its chart moves to the target', async () => {
    await page.goto(`${base}/#/groups/storage`);
    const chart = page.locator('[data-chart=active-power]');
    await expect.poll(() => chart.evaluate((el) => (el as unknown as Charted).uplot?.data[0]?.length ?? 0)).toBeGreaterThan(100);
    // 50 kW more than the group makes now (its PV plus idle batteries): the batteries discharge.
    const before = await value('#g-w');
    const target = Math.round((before + 50_000) / 1000) * 1000;
    const form = page.locator('#dispatch-form');
    await form.locator('[name=kind]').selectOption('activePower');
    await form.locator('[name=value]').fill(String(target));
    await form.locator('[name=unit]').selectOption('W');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-ok').textContent()).toContain('active');
    // The chart's own data: the target series steps to the target and P follows it.
    const last = (): Promise<{ p: number; target: number | null }> =>
      chart.evaluate((el) => {
        const d = (el as unknown as Charted).uplot!.data;
        const n = d[0]!.length - 1;
        return { p: d[1]![n] as number, target: d[2]![n] ?? null };
      });
    await expect.poll(async () => (await last()).target, { timeout: 10_000 }).toBe(target);
    await expect.poll(async () => Math.abs((await last()).p - target), { timeout: 15_000 }).toBeLessThan(0.02 * target);
    expect(await value('#g-target')).toBe(target);
    await expect.poll(() => page.locator('tr[data-dispatch] .badge.active').count()).toBe(1);
    // Members show the setpoint each one applied.
    await expect.poll(() => page.locator('tr[data-der] .badge.applied').count(), { timeout: 10_000 }).toBe(s.core.registry.group('storage')!.members.length);
    await page.waitForTimeout(1_500);
    await page.evaluate('scrollTo(0, 0)');
    await page.screenshot({ path: join(shots, 'group-dispatch.png') });
  }, 40_000);

  it('shows a bad value as a form error and changes nothing', async () => {
    const form = page.locator('#dispatch-form');
    const live = (): string[] => s.core.tracker.live('storage').map((r) => r.dispatchId);
    const before = live();
    const rows = await page.locator('tr[data-dispatch]').count();
    await form.locator('[name=kind]').selectOption('powerFactor');
    await form.locator('[name=value]').fill('1.5');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('control.value');
    expect(await form.locator('[name=value]').getAttribute('class')).toContain('invalid');
    expect(await form.locator('.field-error').textContent()).toMatch(/1/);
    await form.locator('[name=kind]').selectOption('activePower');
    await form.locator('[name=value]').fill('lots');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('expected number');
    // The volt-var editor: voltages that go down are refused at the offending point.
    await page.locator('[data-tab=volt-var]').click();
    const vv = page.locator('#volt-var-form');
    await vv.locator('[name=v2]').fill('90');
    await vv.locator('button[type=submit]').click();
    await expect.poll(() => vv.locator('.form-error').textContent()).toContain('curve.2.v');
    expect(await vv.locator('[name=v2]').getAttribute('class')).toContain('invalid');
    await page.waitForTimeout(1_000);
    expect(live()).toEqual(before);
    expect(s.core.tracker.live('storage', 'reactive')).toEqual([]);
    expect(await page.locator('tr[data-dispatch]').count()).toBe(rows);
  }, 30_000);

  it('creates a group from members picked in the fleet, and refuses a bad one', async () => {
    await page.goto(`${base}/#/new-group`);
    const form = page.locator('#group-form');
    await expect.poll(() => form.locator('tr[data-der]').count()).toBe(s.spec.devices.length);
    await form.locator('[name=mRID]').fill('evening peak');
    await form.locator('[name=filter-kind]').selectOption('battery');
    await form.getByRole('button', { name: 'Select shown' }).click();
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('mRID');
    expect(s.core.registry.group('evening peak')).toBeUndefined();
    await form.locator('[name=mRID]').fill('evening-peak');
    await form.locator('[name=name]').fill('Evening peak');
    await form.locator('button[type=submit]').click();
    await page.waitForURL(/#\/groups\/evening-peak$/);
    const batteries = s.spec.devices.filter((d) => d.kind === 'battery').map((d) => d.id);
    expect(s.core.registry.group('evening-peak')).toMatchObject({ names: ['Evening peak'], members: batteries });
    await expect.poll(() => page.locator('tr[data-der]').count()).toBe(batteries.length);
  }, 30_000);

  it('runs the customer services queue', async () => {
    await page.goto(`${base}/#/services`);
    const row = (id: string) => page.locator(`tr[data-application="${id}"]`);
    await expect.poll(() => page.locator('tr[data-application]').count()).toBe(4);
    await row('APP-1041').locator('[name=reason]').fill('hosting capacity ok');
    await row('APP-1041').locator('[data-action=approve]').click();
    await expect.poll(() => row('APP-1041').locator('.badge').textContent()).toBe('approved');
    expect(services.apps.get('APP-1041')).toMatchObject({ state: 'approved', note: 'hosting capacity ok' });
    await row('APP-1041').locator('[data-action=hold]').click();
    await expect.poll(() => row('APP-1041').locator('.form-error').textContent()).toContain('approved');
    expect(services.apps.get('APP-1041')!.state).toBe('approved');
    await expect.poll(() => page.locator('text=evening-peak').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'customer-services.png') });
  }, 30_000);
});
