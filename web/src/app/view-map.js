// The map view: every site of the current filter, live, and a side panel for the site chosen.

import { getJSON } from './api.js';
import { el, clear, num, localTime, STATES, stateOf, standardName, errorBox } from './util.js';
import { lineChart } from './chart.js';

let loaded = false;
let loading = null;
let panelSite = null;
let panelSeq = 0;
let onSite = null;
let opener = null; // the marker the panel was opened from, which has the focus back on close

const panel = () => document.getElementById('site-panel');
const HINT = 'Choose a site on the map (or tab to it and press Enter) to see its chargers, price and use.';

export function reset() {
  // A new key may see other figures in the panel: close it.
  closePanel();
}

function fillFilters(map) {
  const ops = new Map();
  const jurs = new Map();
  for (const s of map.sites.values()) {
    if (s.operator_id) ops.set(s.operator_id, s.operator || s.operator_id);
    if (s.jurisdiction_id) jurs.set(s.jurisdiction_id, s.jurisdiction || s.jurisdiction_id);
  }
  const fill = (sel, entries) => {
    const keep = sel.value;
    clear(sel).append(el('option', { value: '' }, 'all'));
    for (const [id, name] of [...entries].sort((a, b) => a[1].localeCompare(b[1]))) sel.append(el('option', { value: id }, name));
    sel.value = keep;
  };
  fill(document.getElementById('filter-operator'), ops);
  fill(document.getElementById('filter-jurisdiction'), jurs);
}

async function load(ctx) {
  const filter = {
    operator_id: document.getElementById('filter-operator').value,
    jurisdiction_id: document.getElementById('filter-jurisdiction').value,
  };
  const count = await ctx.map.loadSites(filter);
  document.getElementById('site-count').textContent = String(count);
  // A message of an earlier failure goes once the sites are read.
  document.getElementById('map-hint').textContent = HINT;
  if (!filter.operator_id && !filter.jurisdiction_id) fillFilters(ctx.map);
}

export async function ensureSites(ctx) {
  if (loaded) return;
  if (!loading) {
    loading = load(ctx).then(
      () => {
        loaded = true;
        loading = null;
      },
      (e) => {
        loading = null;
        throw e;
      },
    );
  }
  await loading;
}

// The register changed in a way a site event does not carry (an import, a site added or deleted,
// events missed while the stream was down): the sites are read again, once for a burst of such news.
let refreshTimer = null;
export function refresh(ctx) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (!loaded || loading) return;
    loading = load(ctx)
      .catch(() => {})
      .finally(() => {
        loading = null;
      });
  }, 1000);
}

let wired = false;
function wire(ctx) {
  if (wired) return;
  wired = true;
  for (const id of ['filter-operator', 'filter-jurisdiction']) {
    document.getElementById(id).addEventListener('change', () => {
      closePanel(ctx);
      const hint = document.getElementById('map-hint');
      loading = load(ctx)
        .catch((e) => {
          hint.textContent = `The sites could not be read: ${e.message}`;
        })
        .finally(() => {
          loading = null;
        });
    });
  }
  onSite = (e) => {
    if (panelSite && e.detail.id === panelSite.id) renderLive(e.detail);
  };
}

export async function show(ctx) {
  wire(ctx);
  ctx.map.showSites(true);
  ctx.map.onSiteClick = (id) => openPanel(ctx, id);
  ctx.map.onMapClick = null;
  ctx.events.addEventListener('site', onSite);
  try {
    await ensureSites(ctx);
  } catch (e) {
    const p = document.getElementById('map-hint');
    p.textContent = `The sites could not be read: ${e.message}`;
  }
}

export function hide(ctx) {
  ctx.events.removeEventListener('site', onSite);
  ctx.map.onSiteClick = null;
  closePanel(ctx);
}

export function escape(ctx) {
  closePanel(ctx);
}

function closePanel(ctx) {
  const p = panel();
  if (!p) return;
  const wasOpen = !p.hidden;
  p.hidden = true;
  clear(p);
  panelSite = null;
  document.getElementById('map-hint').hidden = false;
  if (ctx && ctx.map) ctx.map.clearSelection();
  if (wasOpen && opener && opener.isConnected) opener.focus();
  else if (wasOpen && ctx && ctx.map) ctx.map.map.getContainer().focus();
  opener = null;
}

function evseRows(evses) {
  const tbody = el('tbody', { id: 'panel-evses' });
  for (const e of evses) {
    const conns = (e.connectors || []).map((c) => `${standardName(c.standard)} ${c.max_electric_power ? `${num(c.max_electric_power / 1000, 0)} kW` : ''}`.trim());
    tbody.append(
      el('tr', { dataset: { evse: e.uid } }, el('td', {}, e.uid), el('td', { class: 'evse-status' }, (e.status || 'UNKNOWN').toLowerCase()), el('td', {}, conns.join(', ') || '–')),
    );
  }
  return tbody;
}

function statusBadge(status) {
  const s = stateOf(status);
  const st = STATES[s];
  return el('span', { class: 'badge', id: 'panel-status' }, el('span', { class: `site-icon shape-${st.shape} st-${s}`, 'aria-hidden': 'true' }, el('span', {}, st.letter)), ` ${st.label}`);
}

function renderLive(ev) {
  const b = document.getElementById('panel-status');
  if (b) b.replaceWith(statusBadge(ev.status));
  const tb = document.getElementById('panel-evses');
  if (!tb || !ev.evses) return;
  for (const e of ev.evses) {
    const row = tb.querySelector(`tr[data-evse="${CSS.escape(e.uid)}"] .evse-status`);
    if (row) row.textContent = (e.status || 'UNKNOWN').toLowerCase();
  }
}

async function openPanel(ctx, id) {
  const entry = ctx.map.sites.get(id);
  if (!entry) return;
  const seq = ++panelSeq;
  const active = document.activeElement;
  if (active && active.dataset && active.dataset.siteId === id) opener = active;
  const p = panel();
  clear(p);
  p.hidden = false;
  document.getElementById('map-hint').hidden = true;
  panelSite = entry;
  ctx.map.clearSelection();
  const m = ctx.map.markers.get(id);
  if (m && m.getElement()) m.getElement().classList.add('selected');
  const head = el('div', { class: 'panel-head' }, el('h3', { id: 'panel-title' }, entry.name || id), el('button', { type: 'button', class: 'close', 'aria-label': 'Close the site panel', onclick: () => closePanel(ctx) }, '×'));
  p.setAttribute('aria-labelledby', 'panel-title');
  p.append(head, el('p', { class: 'muted' }, id));
  p.focus();
  let site;
  try {
    site = await getJSON(`/api/v1/sites/${encodeURIComponent(id)}`);
  } catch (e) {
    if (seq === panelSeq) p.append(errorBox(`The site could not be read: ${e.message}`));
    return;
  }
  if (seq !== panelSeq) return;
  const dl = el(
    'dl',
    { class: 'facts' },
    el('dt', {}, 'Status'),
    el('dd', {}, statusBadge(entry.status)),
    el('dt', {}, 'Operator'),
    el('dd', {}, entry.operator || entry.operator_id || '–'),
    el('dt', {}, 'Jurisdiction'),
    el('dd', {}, entry.jurisdiction || entry.jurisdiction_id || '–'),
    el('dt', {}, 'Plugs'),
    el('dd', {}, (entry.standards || []).map(standardName).join(', ') || '–'),
    el('dt', {}, 'Most power'),
    el('dd', {}, entry.max_power_kw ? `${num(entry.max_power_kw, 0)} kW` : '–'),
    el('dt', {}, 'Price now'),
    el('dd', { id: 'panel-price' }, '…'),
  );
  const evses = site.evses || [];
  const table = el('table', { class: 'evses' }, el('caption', {}, `${evses.length} charging points (EVSEs)`), el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'EVSE'), el('th', { scope: 'col' }, 'status'), el('th', { scope: 'col' }, 'connectors'))), evseRows(evses));
  p.append(dl, table);
  fillPrice(site, seq);
  if (ctx.mayReadUtilisation(entry)) {
    const box = el('div', { class: 'chart-box' }, el('h4', {}, 'Use over the last day'));
    p.append(box);
    fillUtilisation(id, box, seq);
  }
}

async function fillPrice(site, seq) {
  const parts = [];
  const tariffId = (site.evses || []).flatMap((e) => e.connectors || []).map((c) => (c.tariff_ids || [])[0]).find(Boolean);
  try {
    const [prices, tariff] = await Promise.all([
      getJSON(`/api/v1/sites/${encodeURIComponent(site.id)}/prices?hours=1`),
      tariffId ? getJSON(`/api/v1/tariffs/${encodeURIComponent(tariffId)}`) : null,
    ]);
    const slot = (prices.slots || [])[0];
    const currency = tariff ? ` ${tariff.currency}` : '';
    // Both prices read the same way, the amount then its unit, and the load says whose it is.
    if (tariff) {
      const energy = (tariff.elements || []).flatMap((x) => x.price_components || []).find((c) => c.type === 'ENERGY');
      if (energy) {
        let price = energy.price;
        if (tariff.dynamic && slot) price = Math.max(0, price + slot.price_per_kwh);
        parts.push(`${num(price, 2)} ${tariff.currency}/kWh excl. VAT${tariff.dynamic ? ' (dynamic)' : ''}`);
      }
    }
    if (prices.substation_id && slot) parts.push(`grid price ${num(slot.price_per_kwh, 3)}${currency}/kWh, substation at ${num(slot.load_share * 100, 0)} % load`);
  } catch (e) {
    parts.push(`not available (${e.message})`);
  }
  if (seq !== panelSeq) return;
  const dd = document.getElementById('panel-price');
  if (dd) dd.textContent = parts.join('; ') || 'no tariff published';
}

async function fillUtilisation(id, box, seq) {
  let u;
  try {
    u = await getJSON(`/api/v1/sites/${encodeURIComponent(id)}/utilisation?hours=24`);
  } catch (e) {
    if (seq === panelSeq) box.append(errorBox(`The site's use could not be read: ${e.message}`));
    return;
  }
  if (seq !== panelSeq) return;
  const pts = u.points || [];
  const xs = pts.map((p) => Date.parse(p.start) / 1000);
  // The hub gives each hour's utilisation and occupancy in percent (null for an hour without open time).
  const util = pts.map((p) => p.utilisation ?? null);
  const occ = pts.map((p) => p.occupancy ?? null);
  const sum = (k) => pts.reduce((a, p) => a + (p[k] || 0), 0);
  const open = sum('open_min');
  const dayUtil = open > 0 ? `, utilisation ${num((100 * sum('charging_min')) / open, 1)} %` : '';
  box.append(el('p', {}, `${sum('sessions')} sessions, ${num(sum('energy_kwh'), 1)} kWh${dayUtil} since ${localTime(pts.length ? pts[0].start : null)}`));
  lineChart(box, {
    title: 'Utilisation and occupancy per hour, %',
    xs,
    series: [
      { label: 'utilisation %', values: util, color: '#005b94' },
      { label: 'occupancy %', values: occ, color: '#b34400', dash: [6, 4] },
    ],
    height: 180,
  });
}
