/* global setInterval, clearInterval */
import { get, post } from './api.js';
import { timeChart, palette } from './charts.js';
import { badge, fill, h, setStat, stat, table } from './dom.js';
import { ago, controlValue, kvar, kw, pct, setpointText, volts } from './format.js';
import { clearErrors, num, showError, showOk } from './forms.js';

const REFRESH_MS = 2000;

/** Group list: every group with its live status and dispatches. */
export function groupsView(root, { stream }) {
  let alive = true;
  const body = h('div', { class: 'scroll' });
  fill(
    root,
    h('div', { class: 'chart-title' }, h('h1', {}, 'Groups'), h('a', { href: '#/new-group' }, '+ New group')),
    h('p', { class: 'lead' }, 'Aggregated status per group: output, what the members can reach now, and the dispatches in force.'),
    h('div', { class: 'card' }, body),
  );
  async function load() {
    try {
      const { groups } = await get('/ui/api/groups');
      if (!alive) return;
      if (!groups.length) return fill(body, h('div', { class: 'empty' }, 'No groups yet. ', h('a', { href: '#/new-group' }, 'Create one')));
      fill(body, table(['Group', 'Names', 'Members', { label: 'P', num: true }, { label: 'Q', num: true }, { label: 'Available P', num: true }, { label: 'SoC', num: true }, 'Dispatches'],
        groups.map((g) => {
          const s = g.status;
          const m = s?.members;
          return h('tr', { class: 'clickable', dataset: { group: g.mRID }, onclick: () => (globalThis.location.hash = `#/groups/${encodeURIComponent(g.mRID)}`) },
            h('td', {}, h('a', { href: `#/groups/${encodeURIComponent(g.mRID)}` }, g.mRID)),
            h('td', {}, g.names.join(', ')),
            h('td', {}, m ? `${m.reporting}/${m.total} reporting` : g.memberCount, m?.stale ? [' ', badge(`${m.stale} stale`, 'stale')] : null, m?.offline ? [' ', badge(`${m.offline} offline`, 'offline')] : null),
            h('td', { class: 'num' }, kw(s?.activePowerW)),
            h('td', { class: 'num' }, kvar(s?.reactivePowerVar)),
            h('td', { class: 'num' }, s ? `${kw(s.availableMinW)} .. ${kw(s.availableMaxW)}` : '–'),
            h('td', { class: 'num' }, pct(s?.storage?.socPct)),
            h('td', {}, g.live.map((d) => [badge(`${d.kind} ${controlValue(d.kind, d.target ?? d.value)}`, d.state), ' '])));
        })));
    } catch (e) {
      if (alive) fill(body, h('div', { class: 'form-error' }, e.message));
    }
  }
  load();
  const timer = setInterval(load, REFRESH_MS);
  const off = stream.on('registry', load);
  return () => {
    alive = false;
    clearInterval(timer);
    off();
  };
}

/** One group: live charts, the operator's controls, its dispatches and its members. */
export function groupDetailView(root, { stream, params }) {
  const id = params[0];
  const url = `/ui/api/groups/${encodeURIComponent(id)}`;
  let alive = true;
  let now = NaN;
  let charts = [];
  const head = h('div');
  const chartsEl = h('div', { class: 'grid wide' });
  const dispatchesEl = h('div', { class: 'scroll' });
  const membersEl = h('div', { class: 'scroll' });
  const act = actPanel(id, () => now, () => refresh());
  fill(
    root,
    head,
    h('div', { class: 'stats' },
      stat('Active power', 'g-w'), stat('Target', 'g-target'), stat('Reactive power', 'g-var'), stat('State of charge', 'g-soc'),
      stat('Headroom up', 'g-up'), stat('Headroom down', 'g-down'), stat('Members', 'g-members')),
    chartsEl,
    h('div', { class: 'grid' }, act, h('div', { class: 'card' }, h('h2', {}, 'Dispatches'), dispatchesEl)),
    h('div', { class: 'card' }, h('h2', {}, 'Members'), membersEl),
  );

  const showStatus = (s, last) => {
    if (!s) return;
    setStat('g-w', kw(s.activePowerW), s.activePowerW, `available ${kw(s.availableMinW)} .. ${kw(s.availableMaxW)}`);
    const target = last?.targetW ?? null;
    setStat('g-target', target === null ? (last?.limitW == null ? 'none' : `≤ ${kw(last.limitW)}`) : kw(target), target, target === null ? 'no active-power dispatch' : 'active-power dispatch');
    setStat('g-var', kvar(s.reactivePowerVar), s.reactivePowerVar, last?.targetVar == null ? '' : `target ${kvar(last.targetVar)}`);
    setStat('g-soc', pct(s.storage?.socPct), s.storage?.socPct ?? null, s.storage ? `${kw(s.storage.storedEnergyWh).replace('W', 'Wh')} stored` : 'no storage');
    setStat('g-up', kw(s.headroomUpW), s.headroomUpW);
    setStat('g-down', kw(s.headroomDownW), s.headroomDownW);
    const m = s.members;
    setStat('g-members', `${m.reporting}/${m.total}`, m.reporting, `${m.stale} stale · ${m.offline} offline · ${m.disconnected} disconnected`);
  };

  const buildCharts = (g) => {
    charts.forEach((c) => c.destroy());
    const box = (title) => {
      const el = h('div', { class: 'chart', dataset: { chart: title.toLowerCase().replace(/\W+/g, '-') } });
      chartsEl.append(h('div', { class: 'card' }, h('h3', {}, title), el));
      return el;
    };
    fill(chartsEl);
    const kW = { div: 1000, suffix: ' kW' };
    const power = timeChart(box('Active power'), {
      unit: kW,
      series: [
        { label: 'P', color: palette.w },
        { label: 'target', color: palette.target, dash: [6, 4], step: true },
        { label: 'limit', color: palette.limit, dash: [2, 4], step: true },
        { label: 'available max', color: palette.up, width: 1 },
        { label: 'available min', color: palette.down, width: 1 },
      ],
    });
    const headroom = timeChart(box('Available headroom'), { unit: kW, series: [{ label: 'up', color: palette.up }, { label: 'down', color: palette.down }] });
    const reactive = timeChart(box('Reactive power'), { unit: { div: 1000, suffix: ' kvar' }, series: [{ label: 'Q', color: palette.var }, { label: 'target', color: palette.target, dash: [6, 4], step: true }] });
    charts = [
      { c: power, row: (p) => [p.at / 1000, p.w, p.targetW, p.limitW, p.availableMaxW, p.availableMinW] },
      { c: headroom, row: (p) => [p.at / 1000, p.headroomUpW, p.headroomDownW] },
      { c: reactive, row: (p) => [p.at / 1000, p.var, p.targetVar] },
    ];
    if (g.status?.storage) {
      const soc = timeChart(box('State of charge'), { unit: { div: 1, suffix: ' %' }, series: [{ label: 'SoC', color: palette.soc }] });
      charts.push({ c: soc, row: (p) => [p.at / 1000, p.socPct] });
    }
    charts = charts.map(({ c, row }) => ({ destroy: () => c.destroy(), append: (points) => c.append(points.map(row)) }));
  };

  const showHead = (g) => {
    const fns = Object.entries(g.functions).filter(([, on]) => on).map(([n]) => n);
    fill(head,
      h('div', { class: 'chart-title' }, h('h1', {}, g.mRID, g.names.length ? h('span', { class: 'muted' }, ` · ${g.names.join(', ')}`) : null), h('a', { href: '#/groups' }, 'All groups')),
      h('p', { class: 'lead' }, g.description || 'No description.',
        h('br'), h('span', { class: 'legend-note' }, `version ${g.version.major}.${g.version.minor}.${g.version.revision} · `, fns.length ? `functions: ${fns.join(', ')}` : 'no DER functions enabled')));
  };

  const showDispatches = (g) => {
    if (!g.dispatches.length) return fill(dispatchesEl, h('div', { class: 'empty' }, 'No dispatches since the dashboard started.'));
    fill(dispatchesEl, table(['Dispatch', 'Control', 'State', { label: 'Value', num: true }, { label: 'Target', num: true }, { label: 'Achievable', num: true }, 'Members', ''],
      g.dispatches.map((d) => h('tr', { dataset: { dispatch: d.dispatchId } },
        h('td', {}, d.dispatchId, d.scheduled ? h('span', { class: 'muted' }, ' (schedule)') : null),
        h('td', {}, d.kind),
        h('td', { title: d.endReason ?? '' }, badge(d.state)),
        h('td', { class: 'num' }, controlValue(d.kind, d.value)),
        h('td', { class: 'num' }, controlValue(d.kind, d.target)),
        h('td', { class: 'num' }, controlValue(d.kind, d.achievable), d.shortfall ? h('div', { class: 'field-error' }, `short ${controlValue(d.kind, d.shortfall)}`) : null),
        h('td', {}, `${d.members.applied} applied`, d.members.rejected ? `, ${d.members.rejected} rejected` : '', d.members.timedOut ? `, ${d.members.timedOut} timed out` : '', d.members.excluded ? `, ${d.members.excluded} excluded` : ''),
        h('td', {}, d.state === 'active' || d.state === 'scheduled' ? h('button', { class: 'danger', onclick: () => cancel(d.dispatchId) }, 'Cancel') : null)))));
  };

  const showMembers = (g) => {
    fill(membersEl, table(['DER', 'Type', 'Protocol', 'Freshness', 'State', { label: 'P', num: true }, { label: 'Q', num: true }, { label: 'V', num: true }, { label: 'SoC', num: true }, 'Sample', 'Last setpoint'],
      g.members.map((m) => h('tr', { dataset: { der: m.id } },
        h('td', { title: m.name }, m.id), h('td', {}, m.kind), h('td', {}, m.protocol), h('td', {}, badge(m.freshness)), h('td', {}, badge(m.state)),
        h('td', { class: 'num' }, kw(m.w, 2)), h('td', { class: 'num' }, kvar(m.var, 2)), h('td', { class: 'num' }, volts(m.v)), h('td', { class: 'num' }, pct(m.socPct)),
        h('td', {}, ago(m.sampleAt, g.now)),
        h('td', {}, m.lastOutcome
          ? [badge(m.lastOutcome.outcome.status), ' ', setpointText(m.lastOutcome.setpoint), m.lastOutcome.outcome.reason ? h('span', { class: 'muted' }, ` (${m.lastOutcome.outcome.reason})`) : null]
          : h('span', { class: 'muted' }, 'none'))))));
  };

  async function cancel(dispatchId) {
    const r = await post(`/ui/api/dispatches/${encodeURIComponent(dispatchId)}/cancel`, { reason: 'cancelled from the dashboard' });
    if (!r.ok) globalThis.alert(r.body.error.message);
    refresh();
  }

  let built = false;
  async function refresh() {
    try {
      const g = await get(url);
      if (!alive) return;
      now = g.now;
      showHead(g);
      if (!built) {
        buildCharts(g);
        charts.forEach((c) => c.append(g.history));
        showStatus(g.status, g.history[g.history.length - 1]);
        built = true;
      }
      showDispatches(g);
      showMembers(g);
    } catch (e) {
      if (alive) fill(head, h('div', { class: 'form-error' }, `Group ${id}: ${e.message}`));
    }
  }
  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  const offStatus = stream.on('status', (ev) => {
    now = ev.now;
    const mine = ev.groups[id];
    if (!mine || !built) return;
    charts.forEach((c) => c.append(mine.points));
    showStatus(mine.status, mine.points[mine.points.length - 1]);
  });
  const offDispatch = stream.on('dispatch', (ev) => {
    if (ev.events.some((e) => e.groupId === id && e.type !== 'outcome')) refresh();
  });
  return () => {
    alive = false;
    clearInterval(timer);
    offStatus();
    offDispatch();
    charts.forEach((c) => c.destroy());
  };
}

const scalarKinds = {
  activePower: { label: 'Active power', units: ['W', '%'] },
  reactivePower: { label: 'Reactive power', units: ['var', '%'] },
  powerFactor: { label: 'Power factor', units: [] },
  activePowerLimit: { label: 'Active power limit', units: ['%', 'W'] },
};

/** The operator's controls for one group: dispatch (value or schedule), volt-var curve, connect. */
function actPanel(groupId, nowMs, changed) {
  const base = `/ui/api/groups/${encodeURIComponent(groupId)}`;
  const panes = { dispatch: dispatchForm(base, nowMs, changed), 'volt-var': voltVarForm(base, changed), connect: connectForm(base, changed) };
  const tabs = h('div', { class: 'tabs' });
  const holder = h('div');
  const show = (name) => {
    for (const b of tabs.children) b.classList.toggle('on', b.dataset.tab === name);
    fill(holder, panes[name]);
  };
  for (const [name, label] of [['dispatch', 'Dispatch'], ['volt-var', 'Volt-var curve'], ['connect', 'Connect / disconnect']]) {
    tabs.append(h('button', { type: 'button', dataset: { tab: name }, onclick: () => show(name) }, label));
  }
  show('dispatch');
  return h('div', { class: 'card', id: 'act' }, h('h2', {}, 'Act on this group'), tabs, holder);
}

function dispatchForm(base, nowMs, changed) {
  const kind = h('select', { name: 'kind', dataset: { path: 'control.kind' } }, Object.entries(scalarKinds).map(([k, v]) => h('option', { value: k }, v.label)));
  const value = h('input', { name: 'value', inputmode: 'decimal', placeholder: 'e.g. 20000', dataset: { path: 'control.value' } });
  const unit = h('select', { name: 'unit', dataset: { path: 'control.unit' } });
  const excitation = h('select', { name: 'excitation', dataset: { path: 'control.excitation' } }, h('option', { value: 'injecting' }, 'injecting'), h('option', { value: 'absorbing' }, 'absorbing'));
  const mode = h('select', { name: 'mode' }, h('option', { value: 'value' }, 'now, until cancelled'), h('option', { value: 'schedule' }, 'on a schedule'));
  const policy = h('select', { name: 'policy', dataset: { path: 'policy' } }, ['headroom', 'rating', 'soc-balance'].map((p) => h('option', { value: p }, p)));
  const mrid = h('input', { name: 'mRID', placeholder: 'made up when empty', dataset: { path: 'mRID' } });
  const startIn = h('input', { name: 'startIn', value: '0', inputmode: 'decimal', dataset: { path: 'schedule.start' } });
  const duration = h('input', { name: 'intervalDuration', value: '60', inputmode: 'numeric', dataset: { path: 'schedule.intervalDuration' } });
  const durUnit = h('select', { name: 'intervalUnit', dataset: { path: 'schedule.intervalUnit' } }, ['s', 'm', 'h'].map((u) => h('option', { value: u }, u)));
  const style = h('select', { name: 'curveStyle', dataset: { path: 'schedule.curveStyle' } }, h('option', { value: 'constantYValue' }, 'steps'), h('option', { value: 'straightLineYValues' }, 'straight lines'));
  const points = h('input', { name: 'points', size: 30, placeholder: 'values, e.g. 10000, 20000, 5000', dataset: { path: 'schedule.points' } });
  const unitLabel = h('label', {}, 'Unit', unit);
  const excLabel = h('label', {}, 'Excitation', excitation);
  const valueLabel = h('label', {}, 'Value', value);
  const scheduleRow = h('div', { class: 'row' }, h('label', {}, 'Starts in (s)', startIn), h('label', {}, 'Each interval', duration), h('label', {}, 'Unit', durUnit), h('label', {}, 'Shape', style), h('label', {}, 'Interval values', points));
  const syncKind = () => {
    const units = scalarKinds[kind.value].units;
    fill(unit, units.map((u) => h('option', { value: u }, u)));
    unitLabel.hidden = units.length === 0;
    excLabel.hidden = kind.value !== 'powerFactor';
  };
  const syncMode = () => {
    scheduleRow.hidden = mode.value !== 'schedule';
    valueLabel.hidden = mode.value === 'schedule';
  };
  kind.addEventListener('change', syncKind);
  mode.addEventListener('change', syncMode);
  syncKind();
  syncMode();

  const form = h('form', { id: 'dispatch-form', novalidate: true },
    h('div', { class: 'row' }, h('label', {}, 'Control', kind), valueLabel, unitLabel, excLabel, h('label', {}, 'When', mode)),
    scheduleRow,
    h('div', { class: 'row' }, h('label', {}, 'Allocation', policy), h('label', {}, 'Dispatch id', mrid), h('button', { class: 'primary', type: 'submit' }, 'Dispatch')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const control = { kind: kind.value };
    if (scalarKinds[kind.value].units.length) control.unit = unit.value;
    if (kind.value === 'powerFactor') control.excitation = excitation.value;
    const body = { control, policy: policy.value };
    if (mrid.value.trim()) body.mRID = mrid.value.trim();
    if (mode.value === 'schedule') {
      const off = num(startIn.value) ?? 0;
      body.schedule = {
        start: typeof off === 'number' ? Math.round(nowMs() + off * 1000) : off,
        intervalDuration: num(duration.value),
        intervalUnit: durUnit.value,
        curveStyle: style.value,
        points: points.value.split(/[,;\s]+/).filter(Boolean).map((v, i) => ({ interval: i + 1, value: num(v) })),
      };
    } else {
      control.value = num(value.value);
    }
    const r = await post(`${base}/dispatch`, body);
    if (!r.ok) return showError(form, r.body);
    const d = r.body.dispatch;
    showOk(form, `Dispatch ${d.dispatchId} ${d.state}${d.target === null ? '' : `: target ${controlValue(d.dispatch.control.kind, d.target)}`}${d.shortfall ? `, short by ${controlValue(d.dispatch.control.kind, d.shortfall)}` : ''}.`);
    changed();
  });
  form.addEventListener('input', () => clearErrors(form));
  return form;
}

/** IEEE 1547-2018 category B default curve, the starting point of the editor. */
const defaultCurve = [{ v: 92, var: 44 }, { v: 98, var: 0 }, { v: 102, var: 0 }, { v: 108, var: -44 }];

function voltVarForm(base, changed) {
  const rows = h('tbody');
  const addRow = (p = { v: '', var: '' }) => {
    const i = rows.children.length;
    rows.append(h('tr', {},
      h('td', {}, h('input', { name: `v${i}`, value: String(p.v), inputmode: 'decimal', dataset: { path: `curve.${i}.v` } })),
      h('td', {}, h('input', { name: `var${i}`, value: String(p.var), inputmode: 'decimal', dataset: { path: `curve.${i}.var` } }))));
  };
  defaultCurve.forEach(addRow);
  const form = h('form', { id: 'volt-var-form', novalidate: true },
    h('p', { class: 'legend-note' }, 'Voltage in % of nominal, reactive power in % of each DER\'s var rating (injecting positive). Starts from the IEEE 1547 category B default.'),
    h('table', { dataset: { path: 'curve' } }, h('thead', {}, h('tr', {}, h('th', {}, 'V (%)'), h('th', {}, 'Q (%)'))), rows),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => rows.children.length < 10 && addRow() }, 'Add point'),
      h('button', { type: 'button', onclick: () => rows.children.length > 0 && rows.lastElementChild.remove() }, 'Remove point'),
      h('button', { class: 'primary', type: 'submit' }, 'Set curve')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const curve = [...rows.children].map((tr) => {
      const [v, q] = tr.querySelectorAll('input');
      return { v: num(v.value), var: num(q.value) };
    });
    const r = await post(`${base}/volt-var`, { curve });
    if (!r.ok) return showError(form, r.body);
    showOk(form, `Volt-var curve sent as ${r.body.dispatch.dispatchId} (${r.body.dispatch.state}).`);
    changed();
  });
  form.addEventListener('input', () => clearErrors(form));
  return form;
}

function connectForm(base, changed) {
  const form = h('form', { id: 'connect-form' },
    h('p', { class: 'legend-note' }, 'Connect or disconnect every member from the grid (the group must enable connectDisconnect).'));
  const send = async (connected) => {
    const r = await post(`${base}/connect`, { connected });
    if (!r.ok) return showError(form, r.body);
    showOk(form, `${connected ? 'Connect' : 'Disconnect'} sent as ${r.body.dispatch.dispatchId}.`);
    changed();
  };
  form.append(h('div', { class: 'row' },
    h('button', { type: 'button', class: 'primary', onclick: () => send(true) }, 'Connect'),
    h('button', { type: 'button', class: 'danger', onclick: () => send(false) }, 'Disconnect')));
  form.addEventListener('submit', (ev) => ev.preventDefault());
  return form;
}
