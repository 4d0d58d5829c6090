/* global uPlot, ResizeObserver */
// Live time charts on uPlot (served from its npm package). x is seconds, as uPlot expects.

const palette = { w: '#1f6feb', target: '#e8590c', limit: '#c0362c', up: '#2f9e44', down: '#9c36b5', var: '#0b7285', soc: '#5f3dc4' };
export { palette };

/**
 * A chart of some series over time in `el`. `series`: [{ label, color, dash?, step?, width? }].
 * Values are in SI units; `unit` ({ div, suffix }) says how the axis shows them (W as kW...), with
 * as many decimals as the tick spacing needs. The uPlot instance is kept on the element
 * (`el.uplot`) so the data behind what is drawn can be read back.
 */
export function timeChart(el, { series, unit = { div: 1, suffix: '' }, height = 220, maxPoints = 900 }) {
  const tick = (v, incr) => {
    const decimals = Math.min(3, Math.max(0, Math.ceil(-Math.log10(incr / unit.div) - 1e-9)));
    return `${(v / unit.div).toFixed(decimals)}${unit.suffix}`;
  };
  const data = [[], ...series.map(() => [])];
  const opts = {
    width: Math.max(200, el.clientWidth || 600),
    height,
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#5d6b78', grid: { stroke: '#eef1f4' } },
      { stroke: '#5d6b78', grid: { stroke: '#eef1f4' }, size: 78, values: (_u, ticks, _axis, _space, incr) => ticks.map((v) => tick(v, incr)) },
    ],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.width ?? 2,
        dash: s.dash,
        points: { show: false },
        paths: s.step ? uPlot.paths.stepped({ align: 1 }) : undefined,
      })),
    ],
  };
  const u = new uPlot(opts, data, el);
  el.uplot = u;
  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
  ro.observe(el);
  return {
    /** Append rows [tSec, y1, y2...] and redraw, keeping the newest `maxPoints`. */
    append(rows) {
      if (!rows.length) return;
      for (const r of rows) {
        if (data[0].length && r[0] <= data[0][data[0].length - 1]) continue;
        r.forEach((v, i) => data[i].push(v));
      }
      const extra = data[0].length - maxPoints;
      if (extra > 0) for (const col of data) col.splice(0, extra);
      u.setData(data);
    },
    destroy() {
      ro.disconnect();
      u.destroy();
    },
  };
}
