/* global setInterval, clearInterval */
import { get } from './api.js';
import { palette, timeChart } from './charts.js';
import { badge, fill, h, setStat, stat, table } from './dom.js';
import { ago, kvar, kw, pct, pu, volts } from './format.js';

const REFRESH_MS = 2000;
/** The voltage bars span 0.90..1.10 pu; ANSI C84.1 range A (0.95..1.05) is drawn green. */
const BAR_MIN = 0.9;
const BAR_MAX = 1.1;

/** Fleet overview: devices by type, protocol and state, feeder voltages, and every device. */
export function fleetView(root, { stream }) {
  let alive = true;
  let filter = '';
  const matrixEl = h('div');
  const statesEl = h('div', { class: 'pill-row' });
  const feedersEl = h('div', { class: 'grid' });
  const devicesEl = h('div', { class: 'scroll' });
  const outputEl = h('div', { class: 'chart', dataset: { chart: 'fleet-output' } });
  fill(
    root,
    h('h1', {}, 'Fleet'),
    h('p', { class: 'lead' }, 'Every DER the system manages, as the core sees it: freshness of its telemetry, operating state and output.'),
    h('div', { class: 'stats' }, stat('Devices', 'fleet-total'), stat('Fresh', 'fleet-fresh'), stat('Stale', 'fleet-stale'), stat('Offline', 'fleet-offline'), stat('Active power', 'fleet-w'), stat('Reactive power', 'fleet-var')),
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Devices by type and protocol'), matrixEl),
      h('div', { class: 'card' }, h('h2', {}, 'Operating state'), statesEl, h('p', { class: 'legend-note' }, 'From each DER\'s latest sample; "unknown" before the first.'),
        h('h3', {}, 'Fleet output since this page opened'), outputEl)),
    h('div', { class: 'chart-title' }, h('h2', {}, 'Feeders'), h('span', { class: 'legend-note' }, 'Section voltages; green is ANSI C84.1 range A (0.95 to 1.05 pu).')),
    feedersEl,
    h('div', { class: 'card' },
      h('div', { class: 'chart-title' }, h('h2', {}, 'Devices'),
        h('input', { type: 'search', placeholder: 'filter by id, kind, protocol, feeder, state', size: 36, oninput: (e) => { filter = e.target.value.trim().toLowerCase(); load(); } })),
      devicesEl),
  );

  const showCounts = (f) => {
    setStat('fleet-total', String(f.total), f.total);
    setStat('fleet-fresh', String(f.byFreshness.fresh), f.byFreshness.fresh);
    setStat('fleet-stale', String(f.byFreshness.stale), f.byFreshness.stale);
    setStat('fleet-offline', String(f.byFreshness.offline), f.byFreshness.offline);
    setStat('fleet-w', kw(f.activePowerW), f.activePowerW, 'from fresh samples');
    setStat('fleet-var', kvar(f.reactivePowerVar), f.reactivePowerVar);
    fill(matrixEl, table(['Type', 'Protocol', { label: 'Fresh', num: true }, { label: 'Stale', num: true }, { label: 'Offline', num: true }],
      f.matrix.map((r) => h('tr', {}, h('td', {}, r.kind), h('td', {}, r.protocol), h('td', { class: 'num' }, r.fresh), h('td', { class: 'num' }, r.stale), h('td', { class: 'num' }, r.offline)))));
    fill(statesEl, Object.entries(f.byState).sort().map(([s, n]) => h('span', {}, badge(s), ' ', n)));
  };

  const showFeeders = (fv) => {
    if (fv.source === 'none') {
      fill(feedersEl, h('div', { class: 'card empty' }, 'No feeder model: this process manages devices without a fleet file.'));
      return;
    }
    fill(feedersEl, fv.feeders.map((f) => h('div', { class: 'card feeder', dataset: { feeder: f.id } },
      h('div', { class: 'chart-title' }, h('h2', {}, f.id), h('span', { class: 'muted' }, fv.source === 'model' ? 'feeder model' : 'measured at the DERs')),
      h('p', { class: 'legend-note' },
        `head ${pu(f.headVoltagePu)} pu · min ${pu(f.minPu)} · max ${pu(f.maxPu)} pu`,
        f.headFlowW === null ? '' : ` · from substation ${kw(f.headFlowW)} · load ${kw(f.loadW)}`),
      f.sections.map((s) => h('div', { class: 'section', dataset: { section: s.id, vpu: s.vPu ?? '' } },
        h('span', { class: 'name', title: `${s.id}: ${s.ders} DER` }, '\u00a0'.repeat(Math.min(s.depth, 6) * 2), s.id),
        h('div', { class: 'vbar' }, s.vPu === null ? null : h('span', { class: 'mark', style: `left: calc(${barPos(s.vPu)}% - 1px)` })),
        h('span', { class: 'num' }, s.vPu === null ? '–' : `${pu(s.vPu)} pu`),
        h('span', { class: 'num w', title: volts(s.v) }, s.ders ? `${s.ders} DER ${kw(s.derW)}` : ''))),
    )));
  };

  const showDevices = (f) => {
    const rows = f.devices.filter((d) => !filter || [d.id, d.name, d.kind, d.protocol, d.feeder, d.section, d.freshness, d.state].join(' ').toLowerCase().includes(filter));
    fill(devicesEl, table(['DER', 'Type', 'Protocol', 'Feeder', 'Freshness', 'State', { label: 'P', num: true }, { label: 'Q', num: true }, { label: 'V', num: true }, { label: 'SoC', num: true }, 'Sample', 'Groups'],
      rows.map((d) => h('tr', { dataset: { der: d.id } },
        h('td', { title: d.name }, d.id), h('td', {}, d.kind), h('td', {}, d.protocol), h('td', {}, d.feeder ? `${d.feeder}/${d.section}` : '–'),
        h('td', {}, badge(d.freshness)), h('td', {}, badge(d.state)),
        h('td', { class: 'num' }, kw(d.w, 2)), h('td', { class: 'num' }, kvar(d.var, 2)), h('td', { class: 'num' }, volts(d.v)), h('td', { class: 'num' }, pct(d.socPct)),
        h('td', {}, ago(d.sampleAt, f.now)), h('td', {}, d.groups.map((g) => h('a', { href: `#/groups/${encodeURIComponent(g)}` }, g, ' ')))))));
  };

  async function load() {
    try {
      const [f, fv] = await Promise.all([get('/ui/api/fleet'), get('/ui/api/feeders')]);
      if (!alive) return;
      showCounts(f);
      showFeeders(fv);
      showDevices(f);
    } catch (e) {
      if (alive) fill(devicesEl, h('div', { class: 'form-error' }, `Could not load the fleet: ${e.message}`));
    }
  }
  const output = timeChart(outputEl, {
    unit: { div: 1000, suffix: ' k' },
    height: 180,
    series: [{ label: 'P (kW)', color: palette.w }, { label: 'Q (kvar)', color: palette.var }],
  });
  load();
  const timer = setInterval(load, REFRESH_MS);
  const off = stream.on('fleet', (f) => {
    if (!alive) return;
    showCounts(f);
    output.append([[f.now / 1000, f.activePowerW, f.reactivePowerVar]]);
  });
  return () => {
    alive = false;
    clearInterval(timer);
    off();
    output.destroy();
  };
}

function barPos(vPu) {
  return Math.max(0, Math.min(100, ((vPu - BAR_MIN) / (BAR_MAX - BAR_MIN)) * 100));
}
