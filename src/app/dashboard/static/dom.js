/* global document, Node */
// Small DOM helpers: the page is built from plain elements, no framework.

/** Create an element: h('td', { class: 'num' }, '12 kW'). Attributes starting with `on` are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function badge(text, cls = text) {
  return h('span', { class: `badge ${cls}` }, text);
}

/** A stat card whose value element carries `data-value` (SI units) next to the formatted text. */
export function stat(label, id) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, '--'), h('div', { class: 'sub', id: `${id}-sub` }));
}

export function setStat(id, text, value, sub) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  el.dataset.value = value === null || value === undefined ? '' : String(value);
  if (sub !== undefined) {
    const s = document.getElementById(`${id}-sub`);
    if (s) s.textContent = sub;
  }
}

export function table(headers, rows) {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, headers.map((x) => (typeof x === 'string' ? h('th', {}, x) : h('th', { class: x.num ? 'num' : '' }, x.label))))),
    h('tbody', {}, rows),
  );
}
