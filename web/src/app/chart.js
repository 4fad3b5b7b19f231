// Charts drawn with uPlot: lines over time, and bars over named groups. Each chart has a text
// title for screen readers; the figures it draws are also in a table beside it.

import { el } from './util.js';

const uPlot = window.uPlot;
const charts = new Set();

function widthOf(box) {
  return Math.max(260, Math.floor(box.getBoundingClientRect().width) - 8);
}

function track(plot, box) {
  charts.add({ plot, box });
  return plot;
}

// Charts of hidden views keep their size; they are redrawn when the window changes.
window.addEventListener('resize', () => {
  for (const c of charts) {
    if (!c.box.isConnected) {
      charts.delete(c);
      continue;
    }
    if (c.box.offsetParent) c.plot.setSize({ width: widthOf(c.box), height: c.plot.height });
  }
});

// The figures of a line chart as a table, folded under it, for readers who do not see the chart.
function figuresTable(xs, series) {
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
  // A week of minutes would be 10,080 rows: past 1,500 every k-th point is listed.
  const step = Math.ceil(xs.length / 1500);
  const rows = xs.filter((_, i) => i % step === 0).map((x, j) => [x, j * step]).map(([x, i]) => el('tr', {}, el('th', { scope: 'row' }, fmt.format(new Date(x * 1000))), series.map((s) => el('td', { class: 'n' }, s.values[i] === null || s.values[i] === undefined ? '–' : Number(s.values[i]).toFixed(1)))));
  return el(
    'details',
    { class: 'figures' },
    el('summary', {}, 'The figures'),
    el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { class: 'compact' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'time'), series.map((s) => el('th', { scope: 'col', class: 'n' }, s.label)))), el('tbody', {}, rows))),
  );
}

// Times on a chart's axis in the reader's own way of writing them, as everywhere else on the page
// (uPlot's default is American, "12/6/26" and "1am"): the hour on every tick, the date under the
// first tick and under each tick that starts another day.
const tickClock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const tickDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const cursorFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function timeTicks(u, splits) {
  let day = null;
  return splits.map((t) => {
    const d = new Date(t * 1000);
    const clock = tickClock.format(d);
    if (d.toDateString() === day) return clock;
    day = d.toDateString();
    return `${clock}\n${tickDay.format(d)}`;
  });
}

// xRange [from, to] in seconds: the period asked for, so that a few points (a hub just started)
// sit where they belong in it rather than stretched over an axis of their own.
export function lineChart(box, { title, xs, series, height = 220, yLabel = '', xRange = null }) {
  const holder = el('div', { class: 'chart', role: 'img', 'aria-label': title });
  box.append(holder, figuresTable(xs, series));
  const opts = {
    title,
    width: widthOf(box),
    height,
    cursor: { drag: { x: false, y: false } },
    scales: { x: xRange ? { time: true, range: () => xRange } : { time: true } },
    axes: [{ stroke: '#333', values: timeTicks }, { stroke: '#333', label: yLabel }],
    series: [{ label: 'time', value: (u, v) => (v === null || v === undefined ? '–' : cursorFmt.format(new Date(v * 1000))) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, fill: s.fill, spanGaps: false }))],
  };
  return track(new uPlot(opts, [xs, ...series.map((s) => s.values)], holder), box);
}

// Bars over named groups, one figure per chart: uPlot draws them on an index axis whose ticks are
// the names.
export function barChart(box, { title, names, values, color, height = 220, yLabel = '' }) {
  const holder = el('div', { class: 'chart', role: 'img', 'aria-label': title });
  box.append(holder);
  const xs = names.map((_, i) => i);
  const opts = {
    title,
    width: widthOf(box),
    height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: { x: { time: false, range: [-0.6, names.length - 0.4] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: '#333', splits: () => xs, values: (u, ticks) => ticks.map((t) => names[t] ?? ''), size: 40 },
      { stroke: '#333', label: yLabel },
    ],
    series: [{}, { label: title, stroke: color, fill: color, width: 0, paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }],
  };
  return track(new uPlot(opts, [xs, values], holder), box);
}
