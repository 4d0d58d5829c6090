// Numbers as an operator reads them; the API speaks SI units (W, var, V, %, epoch ms).

export function kw(w, digits = 1) {
  if (w === null || w === undefined || !Number.isFinite(w)) return '–';
  return Math.abs(w) >= 1e6 ? `${(w / 1e6).toFixed(2)} MW` : `${(w / 1000).toFixed(digits)} kW`;
}

export function kvar(q, digits = 1) {
  if (q === null || q === undefined || !Number.isFinite(q)) return '–';
  return `${(q / 1000).toFixed(digits)} kvar`;
}

export function pct(x, digits = 1) {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(digits)} %`;
}

export function volts(v) {
  return v === null || v === undefined ? '–' : `${v.toFixed(1)} V`;
}

export function pu(x) {
  return x === null || x === undefined ? '–' : x.toFixed(3);
}

/** System (virtual) time in the browser's time zone, as the charts' time axes show it. */
export function clockTime(ms, timeStyle = 'medium') {
  if (!Number.isFinite(ms)) return '--';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle });
}

export function ago(ms, now) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/** What a setpoint asked, in a few words. */
export function setpointText(sp) {
  if (!sp) return '';
  switch (sp.kind) {
    case 'activePower': return `P ${kw(sp.w, 2)}`;
    case 'reactivePower': return `Q ${kvar(sp.var, 2)}`;
    case 'powerFactor': return `PF ${sp.pf} ${sp.excitation}`;
    case 'activePowerLimit': return `limit ${pct(sp.pct, 0)}`;
    case 'voltVar': return `volt-var ${sp.curve.length} pts`;
    case 'voltWatt': return `volt-watt ${sp.curve.length} pts`;
    case 'rampRates': return 'ramp rates';
    case 'connect': return sp.connected ? 'connect' : 'disconnect';
    case 'release': return `release ${sp.slot}`;
    default: return sp.kind;
  }
}

/** A dispatch's value in its control's units. */
export function controlValue(kind, v) {
  if (v === null || v === undefined) return '–';
  if (kind === 'activePower' || kind === 'activePowerLimit') return kw(v);
  if (kind === 'reactivePower') return kvar(v);
  return String(v);
}
