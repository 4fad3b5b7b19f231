// A simulated day (the twin's output folder, docs/twin.md "Outputs"): segment demand on the map,
// the sites by wait and use, and two scenarios side by side; when the folder is a plan's
// (plan --out, with a plan.json), the plan too (plan-view.js). The folders come from the hub
// (serve --scenarios DIR) or from the reader's disk, read in the browser and sent nowhere.

import { getJSON, getText } from './api.js';
import { el, clear, num, errorBox } from './util.js';
import { parseCSV, numOrNull, CSV_MAX_BYTES } from './csv.js';
import { attach, detach, clearPlan, renderPlan } from './plan-view.js';

const L = window.L;
const MAX_SCENARIOS = 64;
// Demand classes from light to heavy: a sequential palette readable by colour-blind readers.
const RAMP = ['#c6dbef', '#6baed6', '#2171b5', '#08519c', '#08306b'];

let scenarios = []; // {name, origin, summary, has(name) -> bool, file(name) -> Promise<string>}
let served = false;
let built = false;
let layer = null;
let legend = null;
let sortKey = 'p95_wait_min';

export function reset() {
  scenarios = scenarios.filter((s) => s.origin === 'disk');
  served = false;
  built = false;
}

function byName(name) {
  return scenarios.find((s) => s.name === name);
}

// The hub reads these files in a lane that takes at most 4 requests of one reader at once and
// answers more with 503 (docs/api.md, "Heavy work"); a plan's folder asks for six: the page sends
// two at a time, and the next as one returns.
const LANE_MAX = 2;
let inLane = 0;
const waiting = [];
async function inTurn(fn) {
  if (inLane < LANE_MAX) inLane++;
  else await new Promise((r) => waiting.push(r));
  try {
    return await fn();
  } finally {
    // The place passes to the next in line, or is given back.
    const next = waiting.shift();
    if (next) next();
    else inLane--;
  }
}

async function loadServed() {
  if (served) return;
  served = true;
  const res = await getJSON('/api/v1/scenarios');
  for (const s of (res.scenarios || []).slice(0, MAX_SCENARIOS)) {
    // The hub names the files each folder holds: a file it lacks is never asked for.
    const files = new Set(Array.isArray(s.files) ? s.files : []);
    scenarios.push({
      name: s.name,
      origin: 'hub',
      summary: s.summary || {},
      has: (f) => files.has(f),
      file: (f) => inTurn(() => getText(`/api/v1/scenarios/${encodeURIComponent(s.name)}/${f}`, '*/*')),
    });
  }
}

// A picked folder: every directory in it that holds a summary.json is a scenario.
async function loadFolder(files) {
  const dirs = new Map();
  for (const f of files) {
    const path = f.webkitRelativePath || f.name;
    const cut = path.lastIndexOf('/');
    const dir = cut < 0 ? '' : path.slice(0, cut);
    const base = path.slice(cut + 1);
    if (!dirs.has(dir)) dirs.set(dir, new Map());
    dirs.get(dir).set(base, f);
  }
  const added = [];
  for (const [dir, m] of dirs) {
    if (!m.has('summary.json') || added.length >= MAX_SCENARIOS) continue;
    const sf = m.get('summary.json');
    if (sf.size > 1048576) throw new Error(`${dir}/summary.json is over 1 MiB`);
    const summary = JSON.parse(await sf.text());
    const name = `${dir || 'folder'} (disk)`;
    scenarios = scenarios.filter((s) => s.name !== name);
    const s = {
      name,
      origin: 'disk',
      summary,
      has: (f) => m.has(f),
      file: async (f) => {
        const file = m.get(f);
        if (!file) throw new Error(`${dir}/${f} is not in the folder`);
        if (file.size > CSV_MAX_BYTES) throw new Error(`${dir}/${f} is over ${CSV_MAX_BYTES / 1048576} MiB`);
        return file.text();
      },
    };
    scenarios.push(s);
    added.push(s);
  }
  if (!added.length) throw new Error('no folder in it holds a summary.json (the twin writes one in its --out folder)');
  return added;
}

async function sitesOf(s) {
  if (!s.sites) s.sites = parseCSV(await s.file('sites.csv')).records;
  return s.sites;
}

async function segmentsOf(s) {
  if (!s.segments) {
    const text = await s.file('segments.geojson');
    if (text.length > CSV_MAX_BYTES) throw new Error('segments.geojson is too large');
    s.segments = JSON.parse(text);
  }
  return s.segments;
}

function options(sel, keep) {
  clear(sel);
  for (const s of scenarios) sel.append(el('option', { value: s.name }, s.name));
  if (keep && byName(keep)) sel.value = keep;
}

function build(ctx) {
  const body = clear(document.getElementById('planning-body'));
  const a = el('select', { id: 'plan-a' });
  const b = el('select', { id: 'plan-b' });
  const pick = el('input', { type: 'file', id: 'plan-folder', webkitdirectory: true, multiple: true });
  body.append(
    el(
      'form',
      { class: 'filters', onsubmit: (e) => e.preventDefault() },
      el('div', { class: 'field' }, el('label', { for: 'plan-folder' }, 'Open a simulated day or a plan (the folder simulate --out or plan --out wrote)'), pick),
      el('div', { class: 'field' }, el('label', { for: 'plan-a' }, 'Scenario on the map'), a),
      el('div', { class: 'field' }, el('label', { for: 'plan-b' }, 'Compare with'), b),
    ),
    el('div', { id: 'plan-msg', 'aria-live': 'polite' }),
    el('div', { id: 'plan-plan' }),
    el('div', { id: 'plan-compare' }),
    el('div', { id: 'plan-sites' }),
  );
  pick.addEventListener('change', async () => {
    const msg = clear(document.getElementById('plan-msg'));
    try {
      const added = await loadFolder([...pick.files]);
      options(a, added[0].name);
      options(b, b.value || (scenarios.find((s) => s !== added[0]) || added[0]).name);
      msg.append(el('p', {}, `Opened ${added.map((s) => s.name).join(', ')}.`));
      await render(ctx);
    } catch (e) {
      msg.append(errorBox(`That folder could not be read: ${e.message}`));
    }
  });
  a.addEventListener('change', () => render(ctx));
  b.addEventListener('change', () => render(ctx));
  built = true;
}

function drawSegments(ctx, fc) {
  layer.clearLayers();
  const feats = (fc.features || []).filter((f) => f.geometry && f.properties);
  const flows = feats.map((f) => Number(f.properties.trucks_per_day) || 0);
  const max = Math.max(1, ...flows);
  const cls = (v) => Math.min(RAMP.length - 1, Math.floor((v / max) * RAMP.length));
  feats.sort((x, y) => (x.properties.trucks_per_day || 0) - (y.properties.trucks_per_day || 0));
  L.geoJSON(
    { type: 'FeatureCollection', features: feats },
    {
      renderer: ctx.map.canvas,
      style: (f) => {
        const v = Number(f.properties.trucks_per_day) || 0;
        return { color: RAMP[cls(v)], weight: 2 + 8 * (v / max), opacity: 0.9, lineCap: 'round' };
      },
      onEachFeature: (f, l) => {
        const p = f.properties;
        l.bindTooltip(`${p.from}→${p.to}: ${num(p.trucks_per_day, 0)} trucks/day, ${num(p.e_trucks_per_day, 0)} electric, ${num(p.energy_kwh, 0)} kWh`, { sticky: true });
      },
    },
  ).addTo(layer);
  const ul = clear(legend);
  ul.append(el('li', { class: 'legend-title' }, 'trucks per day'));
  RAMP.forEach((c, i) => {
    ul.append(el('li', {}, el('span', { class: 'swatch', style: `background:${c}` }), ` ${num((max * i) / RAMP.length, 0)}–${num((max * (i + 1)) / RAMP.length, 0)}`));
  });
}

const SITE_COLS = [
  ['site_id', 'site', 0],
  ['points', 'points', 0],
  ['sessions', 'sessions', 0],
  ['energy_kwh', 'kWh', 0],
  ['utilisation', 'utilisation %', 1],
  ['occupancy', 'occupancy %', 1],
  ['congestion_pct', 'congestion %', 1],
  ['mean_wait_min', 'mean wait min', 1],
  ['p95_wait_min', 'p95 wait min', 1],
  ['max_queue', 'max queue', 0],
];
const PERCENT_OF_SHARE = new Set(['utilisation', 'occupancy']);

function cell(r, key, digits) {
  if (key === 'site_id') return r.site_id;
  const v = numOrNull(r[key]);
  return num(v === null ? null : PERCENT_OF_SHARE.has(key) ? v * 100 : v, digits);
}

function sitesTable(rows) {
  const box = clear(document.getElementById('plan-sites'));
  const sel = el('select', { id: 'plan-sort' }, [
    ['p95_wait_min', 'p95 wait'],
    ['mean_wait_min', 'mean wait'],
    ['utilisation', 'utilisation'],
  ].map(([k, label]) => el('option', { value: k, selected: k === sortKey }, label)));
  sel.addEventListener('change', () => {
    sortKey = sel.value;
    sitesTable(rows);
  });
  const sorted = [...rows].sort((x, y) => (numOrNull(y[sortKey]) ?? -1) - (numOrNull(x[sortKey]) ?? -1) || (numOrNull(y.utilisation) ?? -1) - (numOrNull(x.utilisation) ?? -1));
  box.append(
    el('h3', {}, 'Sites'),
    el('label', {}, 'Sorted by ', sel, ' (then utilisation), the longest first'),
    el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { class: 'compact' }, el('thead', {}, el('tr', {}, SITE_COLS.map(([, label]) => el('th', { scope: 'col' }, label)))), el('tbody', {}, sorted.map((r) => el('tr', {}, SITE_COLS.map(([k, , d]) => (k === 'site_id' ? siteCell(r.site_id) : el('td', { class: 'n' }, cell(r, k, d))))))))),
  );
}

// Each figure of summary.json (docs/twin.md, "Outputs") in words, with its unit: a planner reads
// "energy charged, kWh", not the file's key.
const SUMMARY_LABELS = {
  trips: 'trucks (diesel and electric)',
  e_trips: 'electric trucks',
  e_trips_charged: 'electric trucks that charged',
  stranded: 'stranded trucks',
  sessions: 'charging sessions',
  energy_charged_kwh: 'energy charged, kWh',
  mean_wait_min: 'mean wait, min',
  p95_wait_min: 'p95 wait, min',
  co2_avoided_t_ttw: 'CO₂ avoided, t (tank to wheel)',
  co2_avoided_t_wtw: 'CO₂ avoided, t (well to wheel)',
  e_km: 'electric distance, km',
  bev_share: 'electric share of trucks',
  temp_c: 'temperature, °C',
};
const SUMMARY_KEYS = Object.keys(SUMMARY_LABELS);

// A site of a simulated day by its name when the hub's register knows it (the day may have been run
// on another sites file, whose ids the register lacks: those keep their id).
let siteNames = new Map();
function siteCell(id) {
  const name = siteNames.get(id);
  return el('th', { scope: 'row', title: id }, name || id);
}

function diffCell(a, b, digits) {
  if (typeof a !== 'number' || typeof b !== 'number') return el('td', { class: 'n' }, '–');
  const d = b - a;
  return el('td', { class: `n ${d > 0 ? 'up' : d < 0 ? 'down' : ''}` }, `${d > 0 ? '+' : ''}${num(d, digits)}`);
}

async function compare(sa, sb) {
  const box = clear(document.getElementById('plan-compare'));
  const head = el('tr', {}, el('th', { scope: 'col' }, 'figure'), el('th', { scope: 'col', class: 'n' }, sa.name), el('th', { scope: 'col', class: 'n' }, sb.name), el('th', { scope: 'col', class: 'n' }, 'difference'));
  const tbody = el('tbody');
  for (const k of SUMMARY_KEYS) {
    const x = sa.summary[k];
    const y = sb.summary[k];
    if (x === undefined && y === undefined) continue;
    const d = Number.isInteger(x) && Number.isInteger(y) ? 0 : 2;
    tbody.append(el('tr', { 'data-figure': k }, el('th', { scope: 'row' }, SUMMARY_LABELS[k]), el('td', { class: 'n' }, typeof x === 'number' ? num(x, d) : String(x ?? '–')), el('td', { class: 'n' }, typeof y === 'number' ? num(y, d) : String(y ?? '–')), diffCell(x, y, d)));
  }
  const scen = (s) => (s.summary.scenario && s.summary.scenario.name) || s.summary.scenario || 'none';
  tbody.append(el('tr', {}, el('th', { scope: 'row' }, 'scenario'), el('td', {}, String(scen(sa))), el('td', {}, String(scen(sb))), el('td', {})));
  const section = el('section', { 'data-testid': 'scenario-compare', class: 'compare' }, el('h3', {}, 'Side by side'), el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { class: 'compact' }, el('thead', {}, head), tbody)));
  box.append(section);
  // The sites whose wait changed most between the two days.
  try {
    const [ra, rb] = await Promise.all([sitesOf(sa), sitesOf(sb)]);
    const other = new Map(rb.map((r) => [r.site_id, r]));
    const changes = [];
    for (const r of ra) {
      const o = other.get(r.site_id);
      if (!o) continue;
      changes.push({ id: r.site_id, a: r, b: o, d: (numOrNull(o.p95_wait_min) ?? 0) - (numOrNull(r.p95_wait_min) ?? 0) });
    }
    changes.sort((x, y) => Math.abs(y.d) - Math.abs(x.d));
    const rows = changes.slice(0, 15).map((c) =>
      el(
        'tr',
        { 'data-site-id': c.id },
        siteCell(c.id),
        el('td', { class: 'n' }, num(numOrNull(c.a.p95_wait_min), 1)),
        el('td', { class: 'n' }, num(numOrNull(c.b.p95_wait_min), 1)),
        diffCell(numOrNull(c.a.p95_wait_min), numOrNull(c.b.p95_wait_min), 1),
        el('td', { class: 'n' }, num(numOrNull(c.a.sessions), 0)),
        el('td', { class: 'n' }, num(numOrNull(c.b.sessions), 0)),
        diffCell(numOrNull(c.a.sessions), numOrNull(c.b.sessions), 0),
      ),
    );
    section.append(
      el('h4', {}, 'Sites whose p95 wait changed most'),
      el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { class: 'compact' }, el('thead', {}, el('tr', {}, ['site', `p95 wait, min: ${sa.name}`, sb.name, 'Δ min', `sessions: ${sa.name}`, sb.name, 'Δ'].map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows))),
    );
  } catch (e) {
    section.append(errorBox(`The sites could not be compared: ${e.message}`));
  }
}

async function render(ctx) {
  const sa = byName(document.getElementById('plan-a').value);
  const sb = byName(document.getElementById('plan-b').value);
  const msg = document.getElementById('plan-msg');
  if (!sa) {
    clearPlan(document.getElementById('plan-plan'));
    clear(document.getElementById('plan-compare'));
    clear(document.getElementById('plan-sites'));
    layer.clearLayers();
    return;
  }
  siteNames = new Map([...ctx.map.sites.values()].map((x) => [x.id, x.name]));
  // The plan is drawn beside the day's figures; its own errors stay in its own box.
  const planned = sa.has('plan.json') ? renderPlan(ctx, sa, document.getElementById('plan-plan')) : clearPlan(document.getElementById('plan-plan'));
  try {
    drawSegments(ctx, await segmentsOf(sa));
    sitesTable(await sitesOf(sa));
    if (sb) await compare(sa, sb);
  } catch (e) {
    msg.append(errorBox(`${sa.name} could not be read: ${e.message}`));
  }
  await planned;
}

export async function show(ctx) {
  if (!layer) layer = L.layerGroup();
  if (!legend) legend = el('ul', { class: 'legend seg-legend', 'aria-label': 'Segment demand' });
  document.getElementById('map-wrap').append(legend);
  legend.hidden = false;
  document.getElementById('legend').hidden = true;
  layer.addTo(ctx.map.map);
  attach(ctx);
  ctx.map.showSites(false);
  if (!built) build(ctx);
  try {
    await loadServed();
  } catch (e) {
    clear(document.getElementById('plan-msg')).append(errorBox(`The hub's scenarios could not be read: ${e.message}`));
  }
  const a = document.getElementById('plan-a');
  const b = document.getElementById('plan-b');
  const keepA = a.value;
  const keepB = b.value;
  options(a, keepA);
  options(b, keepB || (scenarios[1] || scenarios[0] || {}).name);
  if (!scenarios.length) {
    clear(document.getElementById('plan-msg')).append(el('p', {}, 'The hub serves no simulated day (serve --scenarios DIR). Open a folder that ecorridor simulate --out wrote.'));
    return;
  }
  await render(ctx);
}

export function hide(ctx) {
  if (layer) ctx.map.map.removeLayer(layer);
  detach(ctx);
  if (legend) legend.hidden = true;
  document.getElementById('legend').hidden = false;
  ctx.map.showSites(true);
}
