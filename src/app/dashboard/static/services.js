import { get, post } from './api.js';
import { badge, fill, h, table } from './dom.js';
import { clockTime, kw } from './format.js';
import { showError } from './forms.js';

/** Customer services: the interconnection application queue and the membership history. */
export function servicesView(root) {
  let alive = true;
  const queue = h('div', { class: 'scroll' });
  const history = h('div', { class: 'scroll' });
  const groupFilter = h('select', { name: 'history-group' }, h('option', { value: '' }, 'all groups'));
  fill(root, h('h1', {}, 'Customer services'), h('p', { class: 'lead' }, 'Applications to connect DER, and when each DER joined or left each group.'));

  const when = (ms) => clockTime(ms, 'short');

  async function loadQueue() {
    const { applications } = await get('/ui/api/services/applications');
    if (!alive) return;
    if (!applications.length) return fill(queue, h('div', { class: 'empty' }, 'No applications.'));
    fill(queue, table(['Application', 'Customer', 'DER', { label: 'Rating', num: true }, 'Feeder', 'Tariff', 'State', 'Updated', 'Decision'], applications.map((a) => {
      const reason = h('input', { name: 'reason', placeholder: 'reason', size: 14, dataset: { path: 'reason' } });
      const form = h('form', { class: 'decision', novalidate: true }, reason);
      for (const action of ['approve', 'hold', 'reject']) {
        form.append(h('button', { type: 'button', class: action === 'reject' ? 'danger' : action === 'approve' ? 'primary' : '', dataset: { action }, onclick: async () => {
          const r = await post(`/ui/api/services/applications/${encodeURIComponent(a.id)}/decision`, { action, reason: reason.value });
          if (!r.ok) return showError(form, r.body);
          await Promise.all([loadQueue(), loadHistory()]);
        } }, action[0].toUpperCase() + action.slice(1)));
      }
      return h('tr', { dataset: { application: a.id } },
        h('td', {}, a.id), h('td', {}, a.customer), h('td', {}, a.derId ?? '', a.derKind ? h('span', { class: 'muted' }, a.derId ? ` ${a.derKind}` : a.derKind) : null),
        h('td', { class: 'num' }, a.ratingW === null ? '–' : kw(a.ratingW)), h('td', {}, a.feeder ?? '–'), h('td', {}, a.tariff ?? '–'),
        h('td', { title: a.note ?? '' }, badge(a.state), a.note ? h('div', { class: 'muted' }, a.note) : null), h('td', {}, when(a.updatedAt)), h('td', {}, form));
    })));
  }

  async function loadHistory() {
    const g = groupFilter.value;
    const { entries } = await get(`/ui/api/services/memberships${g ? `?groupId=${encodeURIComponent(g)}` : ''}`);
    if (!alive) return;
    if (!entries.length) return fill(history, h('div', { class: 'empty' }, 'No membership changes recorded.'));
    fill(history, table(['When', 'Group', 'DER', 'Change', 'Reason'], entries.map((e) => h('tr', {},
      h('td', {}, when(e.at)), h('td', {}, h('a', { href: `#/groups/${encodeURIComponent(e.groupId)}` }, e.groupId)), h('td', {}, e.derId),
      h('td', {}, badge(e.change, e.change === 'joined' ? 'applied' : 'stale')), h('td', {}, e.reason)))));
  }

  (async () => {
    try {
      const { enabled } = await get('/ui/api/services');
      if (!alive) return;
      if (!enabled) {
        root.append(h('div', { class: 'card empty', id: 'services-disabled' }, 'Customer services are not enabled in this process.'));
        return;
      }
      const { groups } = await get('/ui/api/groups');
      groupFilter.append(...groups.map((x) => h('option', { value: x.mRID }, x.mRID)));
      groupFilter.addEventListener('change', () => loadHistory().catch((e) => fill(history, h('div', { class: 'form-error' }, e.message))));
      root.append(
        h('div', { class: 'card' }, h('h2', {}, 'Application queue'), queue),
        h('div', { class: 'card' }, h('div', { class: 'chart-title' }, h('h2', {}, 'Membership history'), groupFilter), history),
      );
      await Promise.all([loadQueue(), loadHistory()]);
    } catch (e) {
      if (alive) root.append(h('div', { class: 'form-error' }, e.message));
    }
  })();
  return () => {
    alive = false;
  };
}
