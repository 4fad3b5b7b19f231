// A plan (the folder `ecorridor plan --out` wrote, docs/plan.md): its chosen sites on the map,
// numbered by their rank in upgrades.csv, the upgrade curve (cumulative capex against the benefit
// the day's re-simulation measured), and who pays (cost_shares.csv) with the shared network against
// each jurisdiction building alone (shared_vs_duplicated.csv). The planning view calls it for the
// scenario on the map when that folder holds a plan.json.

import { el, clear, num, errorBox } from './util.js';
import { parseCSV, numOrNull, CSV_MAX_BYTES } from './csv.js';

const L = window.L;
const uPlot = window.uPlot;

// The three actions of a plan, each with a shape, a colour (white numbers on them keep at least
// 4.5:1) and a word, so that colour is never the only cue.
export const ACTIONS = {
  new_site: { label: 'new site', shape: 'square', color: '#6b2c91' },
  add_points: { label: 'points added', shape: 'circle', color: '#005b94' },
  grid_upgrade: { label: 'grid upgraded', shape: 'diamond', color: '#7a4f00' },
};
const OTHER = { label: 'other action', shape: 'circle', color: '#5c5c5c' };
const actionOf = (a) => ACTIONS[a] || OTHER;

// The cost shares' three columns: colours colour-blind readers tell apart, and their names.
const SHARES = [
  ['share_by_use', 'by use', '#0b5cad'],
  ['shapley', 'Shapley', '#b34400'],
  ['standalone', 'alone', '#4f5861'],
];

const PLAN_MAX_BYTES = 16 * 1048576;

let pane = null;
let layer = null;
let charts = [];
let drawn = 0; // which render is current: a slower earlier one draws nothing

// The map's pane for the plan's markers (data-testid plan-map), above the segments.
export function attach(ctx) {
  if (!pane) {
    pane = ctx.map.map.createPane('plan');
    pane.style.zIndex = 640;
    pane.dataset.testid = 'plan-map';
    layer = L.layerGroup();
  }
  layer.addTo(ctx.map.map);
}

export function detach(ctx) {
  if (layer) ctx.map.map.removeLayer(layer);
}

export function clearPlan(box) {
  drawn++;
  if (layer) layer.clearLayers();
  charts = [];
  if (box) clear(box);
}

// A plan marker: its element carries the rank and action for scripts, and a name for readers.
const PlanIcon = L.DivIcon.extend({
  createIcon(old) {
    const div = L.DivIcon.prototype.createIcon.call(this, old);
    const o = this.options;
    const act = actionOf(o.action);
    div.dataset.testid = 'plan-marker';
    div.dataset.rank = o.rank === null ? '' : String(o.rank);
    div.dataset.action = o.action;
    div.dataset.siteId = o.siteId;
    div.setAttribute('role', 'button');
    div.setAttribute('aria-label', `${o.rank === null ? 'unranked' : `rank ${o.rank}`}: ${act.label} at ${o.siteName}`);
    clear(div).append(el('span', { class: `plan-icon shape-${act.shape}`, style: `background:${act.color}`, 'aria-hidden': 'true' }, el('span', {}, o.rank === null ? '–' : String(o.rank))));
    return div;
  },
});

function money(v, currency) {
  return v === null || v === undefined ? '–' : `${num(v, 0)}${currency ? ` ${currency}` : ''}`;
}

function popup(c, currency) {
  const act = actionOf(c.action);
  return el(
    'div',
    { class: 'plan-popup' },
    el('strong', {}, c.name || c.site_id),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'action'),
      el('dd', {}, act === OTHER ? String(c.action) : act.label),
      el('dt', {}, 'rank'),
      el('dd', {}, c.rank === null ? '–' : String(c.rank)),
      el('dt', {}, 'site'),
      el('dd', {}, c.site_id),
      el('dt', {}, 'points'),
      el('dd', {}, num(c.points, 0)),
      el('dt', {}, 'kW'),
      el('dd', {}, num(c.kw, 0)),
      el('dt', {}, 'capex'),
      el('dd', {}, money(c.capex, currency)),
      c.jurisdiction_id ? el('dt', {}, 'jurisdiction') : null,
      c.jurisdiction_id ? el('dd', {}, c.jurisdiction_id) : null,
    ),
  );
}

const finite = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : numOrNull(v));

// plan.json's chosen items, each with a position: its own, else that of its rank's row in
// upgrades.csv. Those without any are counted, not drawn.
function chosenOf(plan, upgrades) {
  if (!plan || typeof plan !== 'object' || !Array.isArray(plan.chosen)) throw new Error('plan.json has no "chosen" list');
  const byRank = new Map(upgrades.map((u) => [numOrNull(u.rank), u]));
  return plan.chosen.map((x) => {
    const c = x && typeof x === 'object' ? x : {};
    const rank = finite(c.rank);
    const u = byRank.get(rank) || {};
    let lat = finite(c.lat);
    let lon = finite(c.lon);
    if (lat === null || lon === null) {
      lat = numOrNull(u.lat);
      lon = numOrNull(u.lon);
    }
    return {
      action: String(c.action ?? ''),
      site_id: String(c.site_id ?? ''),
      name: c.name ? String(c.name) : u.name || '',
      rank: rank === null ? null : rank,
      points: finite(c.points),
      kw: finite(c.kw),
      capex: finite(c.capex),
      jurisdiction_id: c.jurisdiction_id ? String(c.jurisdiction_id) : '',
      lat,
      lon,
    };
  });
}

function drawMarkers(chosen, currency) {
  layer.clearLayers();
  // Two actions at one site (points and grid) sit side by side, not one over the other.
  const atSite = new Map();
  for (const c of chosen) {
    const k = `${c.lat},${c.lon}`;
    atSite.set(k, (atSite.get(k) || 0) + 1);
  }
  const placed = new Map();
  const sorted = [...chosen].sort((a, b) => (b.rank ?? Infinity) - (a.rank ?? Infinity));
  let n = 0;
  for (const c of sorted) {
    if (c.lat === null || c.lon === null || Math.abs(c.lat) > 90 || Math.abs(c.lon) > 180) continue;
    const k = `${c.lat},${c.lon}`;
    const i = placed.get(k) || 0;
    placed.set(k, i + 1);
    const shift = (i - (atSite.get(k) - 1) / 2) * 26;
    const m = L.marker([c.lat, c.lon], {
      pane: 'plan',
      keyboard: true,
      riseOnHover: true,
      icon: new PlanIcon({ className: 'plan-marker', iconSize: [24, 24], iconAnchor: [12 - shift, 12], popupAnchor: [shift, -12], rank: c.rank, action: c.action, siteId: c.site_id, siteName: c.name || c.site_id }),
    });
    m.bindPopup(() => popup(c, currency));
    m.addTo(layer);
    n++;
  }
  return n;
}

function legend() {
  return el(
    'ul',
    { class: 'plan-legend', 'aria-label': 'The plan on the map' },
    Object.values(ACTIONS).map((a) => el('li', {}, el('span', { class: `plan-icon shape-${a.shape}`, style: `background:${a.color}`, 'aria-hidden': 'true' }, el('span', {}, '1')), ` ${a.label}`)),
    el('li', { class: 'hint' }, 'The number is the rank in the list of upgrades.'),
  );
}

function widthOf(box) {
  return Math.max(260, Math.floor(box.getBoundingClientRect().width) - 8);
}

window.addEventListener('resize', () => {
  for (const c of charts) if (c.box.isConnected && c.box.offsetParent) c.plot.setSize({ width: widthOf(c.box), height: c.plot.height });
});

const tick = (u, vals) => vals.map((v) => (v === null ? '' : Math.abs(v) >= 1e6 ? `${num(v / 1e6, 1)} M` : Math.abs(v) >= 1e3 ? `${num(v / 1e3, 0)} k` : num(v, 0)));

// The upgrade curve: each rank a point at the capex spent up to it, against the energy served and
// the waiting saved a day up to it (upgrades.csv's cumulative columns).
function curve(box, upgrades, currency) {
  const rows = [...upgrades].sort((a, b) => (numOrNull(a.rank) ?? Infinity) - (numOrNull(b.rank) ?? Infinity));
  let spent = 0;
  const pts = rows.map((r) => {
    spent += numOrNull(r.capex) ?? 0;
    return { r, x: spent };
  });
  const section = el('section', { 'data-testid': 'plan-curve', class: 'plan-part', 'aria-labelledby': 'h-plan-curve' }, el('h3', { id: 'h-plan-curve' }, 'Upgrade curve'));
  box.append(section);
  if (!pts.length) {
    section.append(el('p', {}, 'upgrades.csv lists no upgrade.'));
    return;
  }
  const title = `Energy served and waiting saved a day against capex spent, ${pts.length} upgrades in rank order`;
  const holder = el('div', { class: 'chart', role: 'img', 'aria-label': title });
  section.append(el('p', { class: 'hint' }, 'Each point is the plan up to a rank, re-simulated; the line to the right of it adds the next upgrade.'), holder);
  const xs = pts.map((p) => p.x);
  const energy = pts.map((p) => numOrNull(p.r.energy_served_kwh_per_day));
  const wait = pts.map((p) => numOrNull(p.r.wait_h_saved_per_day));
  const opts = {
    title: 'Cumulative capex against benefit',
    width: widthOf(section),
    height: 240,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: (u, min, max) => [0, max > 0 ? max * 1.04 : 1] }, kwh: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] }, h: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
    axes: [
      { stroke: '#333', label: `capex spent${currency ? `, ${currency}` : ''}`, values: tick },
      { stroke: '#333', scale: 'kwh', label: 'energy served, kWh/day', values: tick },
      { stroke: '#333', scale: 'h', side: 1, label: 'waiting saved, h/day', grid: { show: false } },
    ],
    series: [
      { label: 'capex', value: (u, v) => (v === null || v === undefined ? '–' : money(v, currency)) },
      { label: 'energy served, kWh/day', scale: 'kwh', stroke: '#0b5cad', width: 2, points: { show: true, size: 8, fill: '#0b5cad' }, value: (u, v) => num(v, 0) },
      { label: 'waiting saved, h/day', scale: 'h', stroke: '#b34400', width: 2, dash: [6, 4], points: { show: true, size: 8, fill: '#fff' }, value: (u, v) => num(v, 1) },
    ],
  };
  charts.push({ plot: new uPlot(opts, [xs, energy, wait], holder), box: section });
  const head = ['rank', 'action', 'site', 'capex spent', 'kWh/day', 'wait h saved/day', 'stranded avoided/day', 'cost per kWh'];
  section.append(
    el(
      'details',
      { class: 'figures' },
      el('summary', {}, 'The upgrades, rank by rank'),
      el(
        'div',
        { class: 'table-scroll', tabindex: '0' },
        el(
          'table',
          { class: 'compact', 'data-testid': 'plan-curve-table' },
          el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
          el(
            'tbody',
            {},
            pts.map(({ r, x }) =>
              el(
                'tr',
                { 'data-rank': r.rank },
                el('td', { class: 'n' }, r.rank),
                el('td', {}, ACTIONS[r.action] ? ACTIONS[r.action].label : r.action),
                el('th', { scope: 'row', title: r.site_id }, r.name || r.site_id),
                el('td', { class: 'n', 'data-value': x }, num(x, 0)),
                el('td', { class: 'n', 'data-value': r.energy_served_kwh_per_day }, num(numOrNull(r.energy_served_kwh_per_day), 0)),
                el('td', { class: 'n', 'data-value': r.wait_h_saved_per_day }, num(numOrNull(r.wait_h_saved_per_day), 1)),
                el('td', { class: 'n' }, num(numOrNull(r.stranded_avoided_per_day), 1)),
                el('td', { class: 'n' }, num(numOrNull(r.cost_per_kwh), 3)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

const truthy = (s) => /^(1|true|yes)$/i.test(String(s ?? '').trim());

// Bars side by side for each jurisdiction: the three shares at x = i - 0.27, i, i + 0.27, each
// series holding a figure at its own places only.
function groupedBars(section, rows, currency) {
  const n = rows.length;
  const xs = [];
  const series = SHARES.map(() => []);
  rows.forEach((r, i) => {
    SHARES.forEach(([key], k) => {
      xs.push(i + (k - 1) * 0.27);
      SHARES.forEach((_, s) => series[s].push(s === k ? numOrNull(r[key]) : null));
    });
  });
  const names = rows.map((r) => r.jurisdiction_id);
  const title = `Cost per year of each jurisdiction: ${SHARES.map(([, l]) => l).join(', ')}`;
  const holder = el('div', { class: 'chart', role: 'img', 'aria-label': title });
  section.append(holder);
  // Names that would run into each other are written slanted.
  const longest = Math.max(0, ...names.map((x) => String(x).length));
  const many = n * longest * 7 > widthOf(section) - 80;
  const opts = {
    title: 'Cost per year by jurisdiction',
    width: widthOf(section),
    height: 200 + (many ? Math.min(140, 16 + longest * 5.5) : 40),
    legend: { show: true, live: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.6, n - 0.4] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: '#333', splits: () => names.map((_, i) => i), values: (u, t) => t.map((i) => names[i] ?? ''), size: many ? Math.min(140, 16 + longest * 5.5) : 40, rotate: many ? 35 : 0, grid: { show: false } },
      { stroke: '#333', label: `per year${currency ? `, ${currency}` : ''}`, values: tick },
    ],
    series: [{}, ...SHARES.map(([, label, color]) => ({ label, stroke: color, fill: color, width: 0, paths: uPlot.paths.bars({ size: [0.95, 40] }), points: { show: false } }))],
  };
  charts.push({ plot: new uPlot(opts, [xs, ...series], holder), box: section });
}

// The table of shares, and beneath it in words who is asked to pay more than alone and what the
// shared network costs against each building alone.
function sharesTable(rows, all, currency) {
  const cols = ['jurisdiction', 'energy, kWh', ...SHARES.map(([, l]) => `${l}${currency ? `, ${currency}` : ''}`), 'more than alone?'];
  const sum = (k) => rows.reduce((t, r) => t + (numOrNull(r[k]) ?? 0), 0);
  const notes = [];
  const body = rows.map((r) => {
    const alone = numOrNull(r.standalone);
    const over = SHARES.slice(0, 2).filter(([k]) => alone !== null && (numOrNull(r[k]) ?? -Infinity) > alone);
    const flagged = truthy(r.pays_more_than_alone) || over.length > 0;
    if (flagged) {
      const why = over.map(([k, l]) => `${l} ${money(numOrNull(r[k]), currency)}`).join(' and ');
      notes.push(el('li', { 'data-jurisdiction': r.jurisdiction_id }, `${r.jurisdiction_id} is asked to pay more than it would alone${why ? `: ${why} a year, against ${money(alone, currency)} alone` : ''}.`));
    }
    return el(
      'tr',
      { 'data-jurisdiction': r.jurisdiction_id, class: flagged ? 'flagged' : '' },
      el('th', { scope: 'row' }, r.jurisdiction_id),
      el('td', { class: 'n', 'data-value': r.energy_kwh }, num(numOrNull(r.energy_kwh), 0)),
      SHARES.map(([k]) => el('td', { class: 'n', 'data-value': r[k] }, num(numOrNull(r[k]), 0))),
      el('td', {}, flagged ? el('strong', { class: 'flag' }, 'yes') : 'no'),
    );
  });
  const foot = el('tr', {}, el('th', { scope: 'row' }, 'all'), el('td', { class: 'n' }, num(sum('energy_kwh'), 0)), SHARES.map(([k]) => el('td', { class: 'n' }, num(sum(k), 0))), el('td', {}));
  const apart = all ? numOrNull(all.duplicated_cost) : null;
  return [
    el('div', { class: 'table-scroll', tabindex: '0' }, el('table', { class: 'compact', 'data-testid': 'plan-shares-table' }, el('caption', {}, 'Cost per year each jurisdiction is asked to pay, three ways'), el('thead', {}, el('tr', {}, cols.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, body), el('tfoot', {}, foot))),
    notes.length ? el('ul', { class: 'plan-notes', 'data-testid': 'plan-pays-more' }, notes) : el('p', { 'data-testid': 'plan-pays-more' }, 'No jurisdiction is asked to pay more than it would alone.'),
    all ? el('p', {}, `The shared network costs ${money(numOrNull(all.shared_cost), currency)} a year${apart === null ? '' : `; each jurisdiction building alone, ${money(apart, currency)} in all`}.`) : null,
  ];
}

function sharedTable(rows, currency) {
  const head = ['jurisdiction', 'cost shared', 'cost apart', 'p95 wait shared, min', 'apart', 'stranded shared', 'apart'];
  return el(
    'details',
    { class: 'figures' },
    el('summary', {}, 'Shared network against each building alone'),
    el(
      'div',
      { class: 'table-scroll', tabindex: '0' },
      el(
        'table',
        { class: 'compact' },
        el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
        el(
          'tbody',
          {},
          rows.map((r) =>
            el(
              'tr',
              {},
              el('th', { scope: 'row' }, r.jurisdiction_id === 'ALL' ? 'all' : r.jurisdiction_id),
              el('td', { class: 'n' }, money(numOrNull(r.shared_cost), currency)),
              el('td', { class: 'n' }, money(numOrNull(r.duplicated_cost), currency)),
              el('td', { class: 'n' }, num(numOrNull(r.shared_p95_wait_min), 1)),
              el('td', { class: 'n' }, num(numOrNull(r.duplicated_p95_wait_min), 1)),
              el('td', { class: 'n' }, num(numOrNull(r.shared_stranded), 0)),
              el('td', { class: 'n' }, num(numOrNull(r.duplicated_stranded), 0)),
            ),
          ),
        ),
      ),
    ),
  );
}

async function text(s, f) {
  const t = await s.file(f);
  if (t.length > (f === 'plan.json' ? PLAN_MAX_BYTES : CSV_MAX_BYTES)) throw new Error(`${f} is too large`);
  return t;
}

// Draws the plan of scenario s (which holds a plan.json) into box and onto the map.
export async function renderPlan(ctx, s, box) {
  clearPlan(box);
  const me = drawn;
  const section = el('section', { class: 'plan', 'aria-labelledby': 'h-plan' }, el('h3', { id: 'h-plan' }, 'Plan'));
  box.append(section);
  try {
    const has = (f) => s.has(f);
    const [planText, upText, shText, svdText] = await Promise.all([
      text(s, 'plan.json'),
      has('upgrades.csv') ? text(s, 'upgrades.csv') : null,
      has('cost_shares.csv') ? text(s, 'cost_shares.csv') : null,
      has('shared_vs_duplicated.csv') ? text(s, 'shared_vs_duplicated.csv') : null,
    ]);
    if (me !== drawn) return;
    const plan = JSON.parse(planText);
    const upgrades = upText === null ? [] : parseCSV(upText).records;
    const shares = shText === null ? null : parseCSV(shText).records;
    const svd = svdText === null ? null : parseCSV(svdText).records;
    const currency = typeof plan.currency === 'string' ? plan.currency : '';
    const chosen = chosenOf(plan, upgrades);
    const shown = drawMarkers(chosen, currency);
    const gap = finite(plan.gap);
    section.append(
      el(
        'p',
        { 'data-testid': 'plan-summary' },
        `${chosen.length} actions chosen, ${money(finite(plan.spent), currency)} spent of a budget of ${money(finite(plan.budget), currency)}`,
        gap === null ? '.' : `; the solver's optimality gap is ${num(gap * 100, 2)} %.`,
        shown < chosen.length ? ` ${chosen.length - shown} of them have no position and are not on the map.` : '',
      ),
      legend(),
    );
    if (upText === null) section.append(el('p', {}, 'The folder has no upgrades.csv.'));
    else curve(section, upgrades, currency);
    const part = el('section', { 'data-testid': 'plan-shares', class: 'plan-part', 'aria-labelledby': 'h-plan-shares' }, el('h3', { id: 'h-plan-shares' }, 'Who pays'));
    section.append(part);
    if (!shares) part.append(el('p', {}, 'The folder has no cost_shares.csv.'));
    else {
      const all = svd && svd.find((r) => r.jurisdiction_id === 'ALL');
      part.append(el('p', { class: 'hint' }, 'The shared network that serves all the demand, its cost per year split by each jurisdiction\u2019s use, by the Shapley value of the cost game, and beside them what each would pay building alone.'));
      groupedBars(part, shares, currency);
      part.append(...sharesTable(shares, all, currency).filter(Boolean));
      if (svd) part.append(sharedTable(svd, currency));
    }
  } catch (e) {
    if (me === drawn) section.append(errorBox(`The plan could not be read: ${e.message}`));
  }
}
