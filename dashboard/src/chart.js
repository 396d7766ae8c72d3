// Charts (uPlot, bundled with the page) with their text equivalent: every chart is drawn from
// the same rows as a table beside it, which screen readers read instead of the canvas.
import uPlot from 'uplot';
import { h, table } from './dom.js';

const charts = new Set();

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Redraws every chart (after a theme change the colours come from CSS again). */
export function redrawCharts() {
  for (const c of charts) c.redraw();
}

/**
 * A time-series chart and its table.
 * @param {{title: string, times: number[] (ms), series: {label: string, values: (number|null)[],
 *   format: (v: number|null) => string, color?: string, axis?: 'left'|'right'}[],
 *   timeFormat: (ms: number) => string, summary: string, bars?: boolean,
 *   xRange?: [number, number] (ms: the period shown, whatever the data covers)}} spec
 */
export function timeChart(spec) {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${spec.title}: ${spec.summary}` });
  const rows = spec.times.map((t, i) => [spec.timeFormat(t), ...spec.series.map((s) => s.format(s.values[i]))]);
  const details = h(
    'details',
    { class: 'chart-table' },
    h('summary', { text: `${spec.title}: figures as a table` }),
    table(spec.title, ['time', ...spec.series.map((s) => s.label)], rows),
  );
  const wrapper = h('figure', { class: 'chart-figure' }, h('figcaption', { text: spec.title }), box, details);

  let plot = null;
  const palette = ['--chart-1', '--chart-2', '--chart-3'];
  const draw = () => {
    plot?.destroy();
    plot = null;
    const width = box.clientWidth;
    if (!width || !box.isConnected) return;
    const axisColor = cssVar('--muted');
    const gridColor = cssVar('--grid');
    const hasRight = spec.series.some((s) => s.axis === 'right');
    const opts = {
      width,
      height: 170,
      legend: { show: true },
      cursor: { y: false },
      scales: { x: spec.xRange ? { time: true, range: () => spec.xRange.map((t) => t / 1000) } : { time: true } },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 72,
          values: (u, vals) => vals.map((v) => spec.series.find((s) => s.axis !== 'right').format(v)) },
        hasRight
          ? { scale: 'right', side: 1, stroke: axisColor, grid: { show: false }, size: 56,
              values: (u, vals) => vals.map((v) => spec.series.find((s) => s.axis === 'right').format(v)) }
          : null,
      ].filter(Boolean),
      series: [
        { value: (u, v) => (v === null ? '–' : spec.timeFormat(v * 1000)) },
        ...spec.series.map((s, i) => {
          const stroke = cssVar(palette[i % palette.length]);
          return {
            label: s.label,
            stroke,
            width: 2,
            scale: s.axis === 'right' ? 'right' : 'y',
            fill: spec.bars ? `${stroke}55` : undefined,
            paths: spec.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
            // Dots where a line cannot show a value: few points, or a value between gaps.
            points: { show: spec.times.length < 40 || s.values.filter((v) => v !== null).length < 3, size: 6 },
            spanGaps: false,
            value: (u, v) => s.format(v),
          };
        }),
      ],
    };
    try {
      plot = new uPlot(opts, [spec.times.map((t) => t / 1000), ...spec.series.map((s) => s.values)], box);
    } catch (e) {
      // The table beside it still has every figure.
      console.error(`r2watch: chart "${spec.title}" could not be drawn: ${e.message}`);
      box.replaceChildren(h('p', { class: 'note', text: 'This chart could not be drawn: its figures are in the table below.' }));
    }
  };
  const entry = { redraw: draw };
  charts.add(entry);
  // Drawn once the figure is in the page (and again when its width changes); dropped once it
  // has left the page (the panel was refreshed).
  let shown = false;
  const observer = new ResizeObserver(() => {
    if (!wrapper.isConnected) {
      if (!shown) return;
      observer.disconnect();
      charts.delete(entry);
      plot?.destroy();
      return;
    }
    shown = true;
    if (!plot || Math.abs(plot.width - box.clientWidth) > 4) draw();
  });
  observer.observe(box);
  return wrapper;
}

/** A horizontal bar list (share of a whole), with the figures in text on every row. */
export function barList(title, items, { value, label, detail }) {
  const max = Math.max(1, ...items.map(value));
  return h(
    'figure',
    { class: 'bars' },
    h('figcaption', { text: title }),
    h(
      'ul',
      {},
      items.map((item) =>
        h(
          'li',
          {},
          h('span', { class: 'bar-label', text: label(item) }),
          h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: `width:${(value(item) * 100) / max}%` })),
          h('span', { class: 'bar-value', text: detail(item) }),
        ),
      ),
    ),
  );
}
