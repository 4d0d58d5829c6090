/* global document, window */
import { liveStream } from './api.js';
import { h, fill } from './dom.js';
import { clockTime } from './format.js';
import { fleetView } from './fleet.js';
import { groupsView, groupDetailView } from './groups.js';
import { newGroupView } from './new-group.js';
import { servicesView } from './services.js';

// One stream for the page; the views subscribe to what they show and unsubscribe when left.
const dot = document.getElementById('link-state');
const stream = liveStream((state) => {
  dot.className = `dot ${state}`;
  dot.title = state === 'live' ? 'live stream connected' : 'live stream reconnecting';
});
stream.on('fleet', (f) => {
  const el = document.getElementById('clock');
  el.textContent = clockTime(f.now);
  el.dataset.value = String(f.now);
});

const routes = [
  [/^#\/fleet$/, 'fleet', () => fleetView],
  [/^#\/groups$/, 'groups', () => groupsView],
  [/^#\/new-group$/, 'new-group', () => newGroupView],
  [/^#\/groups\/(.+)$/, 'groups', () => groupDetailView],
  [/^#\/services$/, 'services', () => servicesView],
];

let leave = null;

function route() {
  const hash = window.location.hash || '#/fleet';
  const root = document.getElementById('view');
  leave?.();
  leave = null;
  for (const [re, nav, view] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
    fill(root);
    leave = view()(root, { stream, params: m.slice(1).map(decodeURIComponent) }) ?? null;
    return;
  }
  fill(root, h('div', { class: 'empty' }, 'No such page. ', h('a', { href: '#/fleet' }, 'Back to the fleet')));
}

window.addEventListener('hashchange', route);
route();
