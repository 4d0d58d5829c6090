/* global window */
import { get, post } from './api.js';
import { fill, h, table } from './dom.js';
import { kw } from './format.js';
import { clearErrors, showError } from './forms.js';

/** IEC 61968-5 DERFunction flags; the common ones start ticked. */
const functions = [
  ['realPowerDispatch', true], ['reactivePowerDispatch', true], ['maxRealPowerLimiting', true], ['voltVarCurveFunction', true],
  ['connectDisconnect', true], ['voltWattCurveFunction', false], ['rampRateControl', false], ['frequencyWattCurveFunction', false], ['voltageRegulation', false],
];

/** Create a group: id, names, DER functions, and members picked from the fleet. */
export function newGroupView(root) {
  let alive = true;
  let devices = [];
  const picked = new Set();
  const filters = { kind: '', protocol: '', feeder: '', text: '' };
  const mrid = h('input', { name: 'mRID', required: true, placeholder: 'e.g. evening-peak', dataset: { path: 'mRID' } });
  const name = h('input', { name: 'name', placeholder: 'optional display name', dataset: { path: 'names' } });
  const description = h('input', { name: 'description', size: 40, dataset: { path: 'description' } });
  const fnBoxes = functions.map(([n, on]) => h('input', { type: 'checkbox', name: n, checked: on, dataset: { path: `functions.${n}` } }));
  const count = h('span', { class: 'muted', id: 'picked-count' }, '0 selected');
  const selects = {
    kind: h('select', { name: 'filter-kind' }),
    protocol: h('select', { name: 'filter-protocol' }),
    feeder: h('select', { name: 'filter-feeder' }),
  };
  const text = h('input', { type: 'search', name: 'filter-text', placeholder: 'id or name' });
  const list = h('div', { class: 'scroll', dataset: { path: 'members' } });

  const shown = () => devices.filter((d) =>
    (!filters.kind || d.kind === filters.kind) && (!filters.protocol || d.protocol === filters.protocol) && (!filters.feeder || d.feeder === filters.feeder) &&
    (!filters.text || `${d.id} ${d.name}`.toLowerCase().includes(filters.text)));
  const render = () => {
    count.textContent = `${picked.size} selected`;
    fill(list, table(['', 'DER', 'Type', 'Protocol', 'Feeder', { label: 'Rating', num: true }, 'Groups'], shown().map((d) => h('tr', { dataset: { der: d.id } },
      h('td', {}, h('input', { type: 'checkbox', name: `member-${d.id}`, checked: picked.has(d.id), onchange: (e) => { if (e.target.checked) picked.add(d.id); else picked.delete(d.id); count.textContent = `${picked.size} selected`; } })),
      h('td', { title: d.name }, d.id), h('td', {}, d.kind), h('td', {}, d.protocol), h('td', {}, d.feeder ?? '–'), h('td', { class: 'num' }, kw(d.maxW)), h('td', {}, d.groups.join(', '))))));
  };
  for (const [k, sel] of Object.entries(selects)) sel.addEventListener('change', () => { filters[k] = sel.value; render(); });
  text.addEventListener('input', () => { filters.text = text.value.trim().toLowerCase(); render(); });

  const form = h('form', { id: 'group-form', novalidate: true },
    h('div', { class: 'row' }, h('label', {}, 'Group id (mRID)', mrid), h('label', {}, 'Name', name), h('label', {}, 'Description', description)),
    h('h3', {}, 'DER functions the group enables'),
    h('div', { class: 'functions' }, fnBoxes.map((b) => h('label', { class: 'inline' }, b, b.name))),
    h('h3', {}, 'Members'),
    h('div', { class: 'row' }, h('label', {}, 'Type', selects.kind), h('label', {}, 'Protocol', selects.protocol), h('label', {}, 'Feeder', selects.feeder), h('label', {}, 'Search', text),
      h('button', { type: 'button', onclick: () => { shown().forEach((d) => picked.add(d.id)); render(); } }, 'Select shown'),
      h('button', { type: 'button', onclick: () => { picked.clear(); render(); } }, 'Clear'), count),
    list,
    h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, 'Create group')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      mRID: mrid.value.trim(),
      names: name.value.trim() ? [name.value.trim()] : [],
      description: description.value,
      functions: Object.fromEntries(fnBoxes.map((b) => [b.name, b.checked])),
      members: [...picked],
    };
    const r = await post('/ui/api/groups', body);
    if (!r.ok) return showError(form, r.body);
    window.location.hash = `#/groups/${encodeURIComponent(r.body.group.mRID)}`;
  });
  form.addEventListener('input', () => clearErrors(form));
  fill(root, h('h1', {}, 'New group'), h('p', { class: 'lead' }, 'Validated by the same rules as the CIM API: ids without spaces, members that exist, names not taken.'), h('div', { class: 'card' }, form));

  get('/ui/api/fleet').then((f) => {
    if (!alive) return;
    devices = f.devices;
    const options = (key) => ['', ...new Set(devices.map((d) => d[key]).filter(Boolean))].map((v) => h('option', { value: v }, v || 'all'));
    for (const [k, sel] of Object.entries(selects)) fill(sel, options(k));
    render();
  }, (e) => fill(list, h('div', { class: 'form-error' }, e.message)));
  return () => {
    alive = false;
  };
}
