import { h } from './dom.js';

/**
 * A form value as the API should see it: empty is absent, a number is a number, anything else is
 * sent as typed so the server's validation (the core's own schemas) says what is wrong with it.
 */
export function num(raw) {
  const s = String(raw ?? '').trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** Clear a form's error marks and messages. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  for (const el of form.querySelectorAll('.field-error, .form-error, .form-ok')) el.remove();
}

/**
 * Show an API error on a form: the message on top, and each issue next to the field whose
 * `data-path` is the longest prefix of the issue's path (`control.value`, `curve.1.v`...).
 */
export function showError(form, body) {
  clearErrors(form);
  const err = body?.error ?? { message: 'request failed', issues: [] };
  form.prepend(h('div', { class: 'form-error', role: 'alert' }, err.message));
  const fields = [...form.querySelectorAll('[data-path]')];
  for (const issue of err.issues ?? []) {
    const path = issue.path ?? '';
    let best = null;
    for (const f of fields) {
      const p = f.dataset.path;
      if ((path === p || path.startsWith(`${p}.`)) && (!best || p.length > best.dataset.path.length)) best = f;
    }
    if (!best) continue;
    best.classList.add('invalid');
    best.after(h('span', { class: 'field-error' }, issue.message));
  }
}

export function showOk(form, text) {
  clearErrors(form);
  form.prepend(h('div', { class: 'form-ok', role: 'status' }, text));
}
