// The region's figures per jurisdiction for a calendar month (UTC), from GET /api/v1/kpis. Without
// a key the hub answers only a month that is over, so the month picker offers no other.

import { getJSON, getText } from './api.js';
import { el, clear, num, download, errorBox } from './util.js';
import { barChart } from './chart.js';

const COLUMNS = [
  { key: 'sessions', label: 'sessions', digits: 0 },
  { key: 'energy_kwh', label: 'energy kWh', digits: 1 },
  { key: 'avg_power_kw', label: 'avg power kW', digits: 1 },
  { key: 'peak_power_kw', label: 'peak kW', digits: 1 },
  { key: 'uptime_pct', label: 'uptime %', digits: 2 },
  { key: 'utilisation_pct', label: 'utilisation %', digits: 1 },
  { key: 'occupancy_pct', label: 'occupancy %', digits: 1 },
  { key: 'congestion_pct', label: 'congestion %', digits: 1 },
  { key: 'wait_mean_min', label: 'mean wait min', digits: 1 },
  { key: 'co2_avoided_kg', label: 'CO₂ avoided kg', digits: 0 },
];

const CHARTS = [
  { key: 'uptime_pct', title: 'Uptime, %', color: '#005b94' },
  { key: 'sessions', title: 'Sessions', color: '#00704f' },
  { key: 'energy_kwh', title: 'Energy, kWh', color: '#6a3d9a' },
  { key: 'utilisation_pct', title: 'Utilisation, %', color: '#b34400' },
  { key: 'avg_power_kw', title: 'Charging speed (average power), kW', color: '#1a1a1a' },
  { key: 'congestion_pct', title: 'Congestion, %', color: '#8c2d04' },
];

let built = false;
let seq = 0;

function monthValue(d) {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function period(month) {
  const [y, m] = month.split('-').map(Number);
  const from = new Date(Date.UTC(y, m - 1, 1));
  const to = new Date(Date.UTC(y, m, 1));
  const iso = (d) => d.toISOString().replace('.000Z', 'Z');
  return { from: iso(from), to: iso(to) };
}

export function reset() {
  built = false;
}

function build(ctx) {
  const body = clear(document.getElementById('jur-body'));
  const now = new Date();
  const lastOver = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const max = ctx.who.kpi_public ? monthValue(lastOver) : monthValue(now);
  // A key that may read a running month starts there; the public starts at the last month over.
  const input = el('input', { type: 'month', id: 'kpi-month', value: max, max, required: true });
  const form = el(
    'form',
    { class: 'filters', id: 'kpi-form' },
    el('label', { for: 'kpi-month' }, 'Month (UTC)'),
    input,
    el('button', { type: 'submit' }, 'Show'),
    el('button', { type: 'button', id: 'kpi-csv' }, 'Download CSV'),
  );
  const note = el(
    'p',
    { class: 'muted' },
    ctx.who.kpi_public
      ? 'The public figures: one calendar month that is over, by jurisdiction; a jurisdiction with fewer than 5 sessions or 3 fleets is withheld.'
      : 'The figures of the ports this key may see, for the month chosen (a month still running ends now).',
  );
  body.append(form, note, el('div', { id: 'kpi-out' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value) load(input.value);
  });
  input.addEventListener('change', () => {
    if (input.value && input.checkValidity()) load(input.value);
  });
  document.getElementById('kpi-csv').addEventListener('click', async () => {
    const { from, to } = period(input.value);
    try {
      const text = await getText(`/api/v1/kpis?group=jurisdiction&from=${from}&to=${to}&format=csv`, 'text/csv');
      download(text, `kpis-jurisdiction-${input.value}.csv`, 'text/csv');
    } catch (e) {
      document.getElementById('kpi-out').prepend(errorBox(`The CSV could not be read: ${e.message}`));
    }
  });
  built = true;
  return input.value;
}

async function load(month) {
  const mine = ++seq;
  const out = clear(document.getElementById('kpi-out'));
  out.append(el('p', { class: 'muted' }, 'Reading the figures…'));
  const { from, to } = period(month);
  let res;
  try {
    res = await getJSON(`/api/v1/kpis?group=jurisdiction&from=${from}&to=${to}`);
  } catch (e) {
    if (mine === seq) clear(out).append(errorBox(`The figures could not be read: ${e.message}`));
    return;
  }
  if (mine !== seq) return;
  clear(out);
  const rows = res.data || [];
  const withheld = res.suppressed ? ` ${res.suppressed} jurisdiction${res.suppressed === 1 ? '' : 's'} withheld (too few sessions or fleets).` : '';
  out.append(el('p', {}, `${rows.length} jurisdiction${rows.length === 1 ? '' : 's'}, ${month}.${withheld}`));
  const thead = el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'jurisdiction'), COLUMNS.map((c) => el('th', { scope: 'col', class: 'n' }, c.label))));
  const tbody = el('tbody');
  for (const r of rows) {
    tbody.append(
      el(
        'tr',
        { 'data-jurisdiction': r.id },
        el('th', { scope: 'row' }, r.name || r.id),
        COLUMNS.map((c) => el('td', { class: 'n', 'data-key': c.key }, num(r[c.key], c.digits))),
      ),
    );
  }
  out.append(el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { 'data-testid': 'kpi-table', class: 'kpis' }, el('caption', {}, `Figures by jurisdiction, ${month} (UTC)`), thead, tbody)));
  if (!rows.length) {
    out.append(el('p', {}, res.suppressed ? 'Every jurisdiction was withheld in that month: none had enough sessions and fleets to publish.' : 'The hub has no charger on record in that month.'));
    return;
  }
  const grid = el('div', { class: 'charts' });
  out.append(grid);
  const names = rows.map((r) => r.name || r.id);
  for (const c of CHARTS) {
    const box = el('div', { class: 'chart-box' });
    grid.append(box);
    barChart(box, { title: c.title, names, values: rows.map((r) => r[c.key]), color: c.color });
  }
}

export async function show(ctx) {
  const month = built ? document.getElementById('kpi-month').value : build(ctx);
  if (!document.querySelector('#kpi-out table')) await load(month);
}

export function hide() {}
