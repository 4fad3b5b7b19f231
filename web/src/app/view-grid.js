// Each substation's allocated load against its headroom over time, and the sites behind it.
// Operators, agencies and admins read the substations themselves; a fleet's key may not
// (403), so for it the page finds them through the sites that name them, which anyone may read.

import { getJSON } from './api.js';
import { el, clear, num, errorBox, STATES, stateOf } from './util.js';
import { lineChart } from './chart.js';

const READS_SUBSTATIONS = ['operator', 'agency', 'admin'];
let list = null;
let seq = 0;

export function reset() {
  list = null;
}

async function substations(ctx) {
  if (READS_SUBSTATIONS.includes(ctx.who.role)) {
    const out = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await getJSON(`/api/v1/substations?limit=1000&offset=${offset}`);
      out.push(...page.data.map((s) => ({ id: s.id, name: s.name, capacity_kw: s.capacity_kw })));
      if (offset + page.data.length >= page.total || page.data.length === 0) break;
    }
    return out;
  }
  const ids = new Set();
  for (let offset = 0; ; offset += 1000) {
    const page = await getJSON(`/api/v1/sites?limit=1000&offset=${offset}`);
    for (const s of page.data) if (s.substation_id) ids.add(s.substation_id);
    if (offset + page.data.length >= page.total || page.data.length === 0) break;
  }
  return [...ids].sort().map((id) => ({ id, name: id, capacity_kw: null }));
}

export async function show(ctx) {
  const body = document.getElementById('grid-body');
  if (list) return;
  clear(body).append(el('p', { class: 'muted' }, 'Reading the substations…'));
  try {
    list = await substations(ctx);
  } catch (e) {
    clear(body).append(errorBox(`The substations could not be read: ${e.message}`));
    return;
  }
  clear(body);
  if (!list.length) {
    body.append(el('p', {}, 'The register has no substation that feeds a site.'));
    return;
  }
  const sel = el('select', { id: 'grid-substation' }, list.map((s) => el('option', { value: s.id }, s.name === s.id ? s.id : `${s.name} (${s.id})`)));
  const hours = el('select', { id: 'grid-hours' }, [1, 6, 24, 72, 168].map((h) => el('option', { value: h, selected: h === 24 }, `${h} h`)));
  body.append(
    el('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, el('label', {}, 'Substation ', sel), el('label', {}, 'Last ', hours)),
    el('div', { id: 'grid-out' }),
  );
  const go = () => history(ctx, sel.value, Number(hours.value));
  sel.addEventListener('change', go);
  hours.addEventListener('change', go);
  await go();
}

async function history(ctx, id, hours) {
  const mine = ++seq;
  const out = clear(document.getElementById('grid-out'));
  let h;
  try {
    h = await getJSON(`/api/v1/substations/${encodeURIComponent(id)}/history?hours=${hours}`);
  } catch (e) {
    if (mine === seq) out.append(errorBox(`The substation's history could not be read: ${e.message}`));
    return;
  }
  if (mine !== seq) return;
  const pts = h.points || [];
  const last = pts[pts.length - 1];
  out.append(
    el('h3', {}, h.name || id),
    el(
      'p',
      {},
      `Capacity ${num(h.capacity_kw, 0)} kW. `,
      last ? `Now: ${num(last.allocated_kw, 1)} kW allocated, ${num(last.headroom_kw, 1)} kW headroom (the capacity less the base load), ${num(last.base_load_kw, 1)} kW base load, ${num(last.renewables_kw, 1)} kW renewables.` : 'No minute sampled yet: the hub samples once a minute from its start.',
    ),
  );
  const box = el('div', { class: 'chart-box' });
  out.append(box);
  lineChart(box, {
    title: `Allocated load against headroom, kW (one point a minute since the hub started, last ${hours} h)`,
    xs: pts.map((p) => Date.parse(p.t) / 1000),
    xRange: [Date.now() / 1000 - hours * 3600, Date.now() / 1000],
    series: [
      { label: 'allocated kW', values: pts.map((p) => p.allocated_kw), color: '#b34400' },
      { label: 'headroom kW', values: pts.map((p) => p.headroom_kw), color: '#00704f', dash: [6, 4] },
      { label: 'base load kW', values: pts.map((p) => p.base_load_kw), color: '#5c5c5c', dash: [2, 3] },
    ],
    height: 260,
  });
  const sites = h.sites || [];
  const ul = el('ul', { class: 'sites-behind' });
  for (const s of sites) {
    const known = ctx.map.sites.get(s.id);
    const st = STATES[stateOf(known && known.status)];
    ul.append(el('li', {}, el('span', { class: 'muted' }, `${st.letter} `), `${s.name || s.id} `, el('span', { class: 'muted' }, `(${s.id}${known ? `, ${st.label}` : ''})`)));
  }
  out.append(el('h4', {}, `${sites.length} site${sites.length === 1 ? '' : 's'} behind it`), ul);
}

export function hide() {}
