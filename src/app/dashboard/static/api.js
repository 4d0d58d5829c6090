/* global fetch, EventSource */
// The dashboard's JSON API and its live stream.

/** GET JSON; throws with the server's message on an error status. */
export async function get(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** POST JSON; resolves to { ok, status, body } so forms can show the error's field issues. */
export async function post(path, data) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(data ?? {}),
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = { error: { code: 'HTTP', message: `${res.status} ${res.statusText}`, issues: [] } };
  }
  return { ok: res.ok, status: res.status, body };
}

/**
 * One EventSource for the whole page, shared by the views: `on(event, fn)` returns an unsubscribe.
 * Events: fleet (counts, every push), status (group points since the last push), dispatch
 * (tracker events), registry (groups or DERs changed).
 */
export function liveStream(onState) {
  const listeners = new Map();
  let es = null;
  const open = () => {
    es = new EventSource('/ui/api/stream');
    es.onopen = () => onState('live');
    es.onerror = () => onState('down');
    for (const name of ['fleet', 'status', 'dispatch', 'registry']) {
      es.addEventListener(name, (m) => {
        const data = JSON.parse(m.data);
        for (const fn of listeners.get(name) ?? []) fn(data);
      });
    }
  };
  open();
  return {
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
      return () => listeners.get(event).delete(fn);
    },
    close() {
      es?.close();
    },
  };
}
