// A dispatcher's trip: origin and destination by name or on the map, vehicle, charge, departure;
// POST /api/v1/routes plans it over the register as it is, and the page plans it again when a
// site on the route changes state.

import { postJSON } from './api.js';
import { el, clear, num, localTime, localClock, duration, errorBox } from './util.js';
import { ensureSites } from './view-map.js';

const L = window.L;
// The hub's built-in vehicle profiles (`ecorridor vehicle list`).
const VEHICLES = [
  ['eactros600', '621 kWh'],
  ['fh-aero-electric', '780 kWh'],
  ['etgx', '480 kWh'],
  ['generic-500', '500 kWh'],
];
const MAX_NAME = 200;

let built = false;
let layer = null;
let lastField = null;
let lastBody = null;
let routeSites = new Map(); // a stop's site id -> its state when the route was planned
let planning = false;
let again = null; // a reason to plan again that came while a plan was under way
let onSite = null;

export function reset() {
  built = false;
  lastBody = null;
  routeSites = new Map();
  if (layer) layer.clearLayers();
}

function localInputValue(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function build(ctx) {
  const body = clear(document.getElementById('dispatch-body'));
  const dl = el('datalist', { id: 'route-places' });
  const field = (id, label) =>
    el('div', { class: 'field' }, el('label', { for: id }, label), el('input', { id, 'data-testid': id, type: 'text', list: 'route-places', required: true, autocomplete: 'off', maxlength: MAX_NAME, placeholder: 'lat,lon or a place or site name' }));
  const form = el(
    'form',
    { id: 'route-form', 'data-testid': 'route-form', novalidate: true },
    field('route-from', 'From'),
    field('route-to', 'To'),
    el('div', { class: 'field' }, el('label', { for: 'route-vehicle' }, 'Vehicle'), el('select', { id: 'route-vehicle' }, VEHICLES.map(([v, n]) => el('option', { value: v }, `${v}, ${n}`)))),
    el('div', { class: 'field' }, el('label', { for: 'route-soc' }, 'State of charge at departure, %'), el('input', { id: 'route-soc', type: 'number', min: 5, max: 100, step: 1, value: 85, required: true })),
    el('div', { class: 'field' }, el('label', { for: 'route-depart' }, 'Departure (local time)'), el('input', { id: 'route-depart', type: 'datetime-local', value: localInputValue(new Date()), required: true })),
    el('p', { class: 'hint' }, 'A click on the map fills the field you were in, else the next empty one, with the nearest point of a road; a click on a site takes its name.'),
    el('p', { class: 'hint', id: 'route-click-hint', 'aria-live': 'polite' }),
    el('button', { type: 'submit', id: 'route-submit', 'data-testid': 'route-submit' }, 'Plan the route'),
    dl,
  );
  body.append(form, el('div', { id: 'route-out', 'aria-live': 'polite' }));
  for (const id of ['route-from', 'route-to']) document.getElementById(id).addEventListener('focus', () => (lastField = id));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(ctx);
  });
  built = true;
}

function fillPlaces(ctx) {
  const dl = clear(document.getElementById('route-places'));
  const names = new Set();
  for (const p of ctx.map.places) names.add(p.name);
  for (const s of ctx.map.sites.values()) if (s.name) names.add(s.name);
  for (const n of [...names].sort().slice(0, 5000)) dl.append(el('option', { value: n }));
}

// "lat,lon", or a place of the network, or a site by name or id.
function resolve(ctx, text) {
  const t = text.trim();
  if (!t) return { error: 'is empty' };
  const m = /^(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const lat = Number(m[1]);
    const lon = Number(m[2]);
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return { error: `${t} is not a latitude,longitude` };
    return { lat, lon };
  }
  const low = t.toLowerCase();
  const place = ctx.map.places.find((p) => p.name.toLowerCase() === low);
  if (place) return { lat: place.lat, lon: place.lon };
  for (const s of ctx.map.sites.values()) if (s.id.toLowerCase() === low || (s.name || '').toLowerCase() === low) return { lat: s.lat, lon: s.lon };
  const starts = ctx.map.places.find((p) => p.name.toLowerCase().startsWith(low));
  if (starts) return { lat: starts.lat, lon: starts.lon };
  return { error: `"${t}" is neither lat,lon nor a place or site the map knows` };
}

// How far from a road a click may be (the hub snaps a route's ends within 5 km).
const CLICK_ROAD_M = 3000;

function fillFromMap(text) {
  const from = document.getElementById('route-from');
  const to = document.getElementById('route-to');
  let target = lastField ? document.getElementById(lastField) : null;
  if (!target || (target.value && (!from.value || !to.value))) target = !from.value ? from : !to.value ? to : to;
  target.value = text;
  lastField = target === from ? 'route-to' : null;
  target.focus();
}

async function submit(ctx) {
  const out = document.getElementById('route-out');
  const a = resolve(ctx, document.getElementById('route-from').value);
  const b = resolve(ctx, document.getElementById('route-to').value);
  const soc = Number(document.getElementById('route-soc').value);
  const dep = new Date(document.getElementById('route-depart').value);
  const problems = [];
  if (a.error) problems.push(`From ${a.error}.`);
  if (b.error) problems.push(`To ${b.error}.`);
  if (!(soc >= 5 && soc <= 100)) problems.push('The state of charge is a percentage from 5 to 100.');
  if (Number.isNaN(dep.getTime())) problems.push('Choose a departure time.');
  if (problems.length) {
    clear(out).append(errorBox(problems.join(' ')));
    return;
  }
  lastBody = {
    from: { latitude: a.lat.toFixed(6), longitude: a.lon.toFixed(6) },
    to: { latitude: b.lat.toFixed(6), longitude: b.lon.toFixed(6) },
    vehicle: document.getElementById('route-vehicle').value,
    soc: soc / 100,
    depart: dep.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    geometry: true,
  };
  await plan(ctx, null);
}

async function plan(ctx, because) {
  if (!lastBody) return;
  if (planning) {
    if (because) again = because;
    return;
  }
  planning = true;
  const out = document.getElementById('route-out');
  const btn = document.getElementById('route-submit');
  btn.disabled = true;
  clear(out).append(el('p', { class: 'muted' }, because ? `Planning again: ${because}` : 'Planning…'));
  let r;
  try {
    r = await postJSON('/api/v1/routes', lastBody);
  } catch (e) {
    clear(out).append(errorBox(`No route: ${e.message}`));
    return;
  } finally {
    planning = false;
    btn.disabled = false;
  }
  draw(ctx, r, because);
  if (again) {
    const why = again;
    again = null;
    plan(ctx, why);
  }
}

// A span of time within one day names the day once ("7 Dec 2026, 00:57 → 01:12"): a stop's line
// is read at a glance, and the date comes back only when the span crosses midnight.
function span(from, to, sep) {
  const a = new Date(from);
  const b = new Date(to);
  if (!Number.isNaN(a.getTime()) && a.toDateString() === b.toDateString()) return `${localTime(from)}${sep}${localClock(to)}`;
  return `${localTime(from)}${sep}${localTime(to)}`;
}

function draw(ctx, r, because) {
  const out = clear(document.getElementById('route-out'));
  layer.clearLayers();
  routeSites = new Map((r.stops || []).map((s) => [s.site_id, (ctx.map.sites.get(s.site_id) || {}).status]));
  if (because) out.append(el('p', { class: 'notice' }, `Planned again at ${localTime(new Date().toISOString())}: ${because}`));
  if (r.geometry && Array.isArray(r.geometry.coordinates)) {
    const line = L.polyline(
      r.geometry.coordinates.map(([lon, lat]) => [lat, lon]),
      { color: '#6a3d9a', weight: 5, opacity: 0.85, renderer: ctx.map.canvas, interactive: false },
    ).addTo(layer);
    ctx.map.map.fitBounds(line.getBounds(), { padding: [30, 30] });
  }
  const ends = [
    [lastBody.from, 'start'],
    [lastBody.to, 'end'],
  ];
  for (const [p, kind] of ends) L.circleMarker([Number(p.latitude), Number(p.longitude)], { radius: 7, color: '#1a1a1a', weight: 2, fillColor: kind === 'start' ? '#ffffff' : '#1a1a1a', fillOpacity: 1, interactive: false }).addTo(layer);
  if (!r.feasible) {
    out.append(errorBox(`Not feasible: ${r.reason || 'no plan reaches the destination'}`));
    if (r.farthest) out.append(el('p', {}, `Farthest with charge: ${r.farthest.name || ''} (${num(r.farthest.to_go_m / 1000, 0)} km to go)`));
    return;
  }
  out.append(
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'Depart'),
      el('dd', {}, localTime(r.departure)),
      el('dt', {}, 'Arrive'),
      el('dd', {}, `${localTime(r.arrival)} at ${num(r.soc_arrival * 100, 0)} %`),
      el('dt', {}, 'Distance'),
      el('dd', {}, `${num(r.distance_m / 1000, 1)} km, ${duration(r.duration_s)} h:mm`),
      el('dt', {}, 'Driving / charging'),
      el('dd', {}, `${duration(r.drive_s)} / ${duration(r.charge_s)}`),
      el('dt', {}, 'Charging cost'),
      el('dd', {}, `${num(r.cost, 2)} ${r.currency || ''}`),
    ),
  );
  const ol = el('ol', { class: 'stops' });
  for (const s of r.stops || []) {
    const pause = s.pause ? `; ${s.pause.kind.replace('_', ' ')} ${span(s.pause.start, s.pause.end, '–')}` : '';
    ol.append(
      el(
        'li',
        { 'data-testid': 'route-stop', 'data-site-id': s.site_id },
        el('strong', {}, s.name || s.site_id),
        el('br'),
        `${span(s.arrival, s.departure, ' → ')}, ${num(s.soc_in * 100, 0)} → ${num(s.soc_out * 100, 0)} %, ${num(s.energy_kwh, 0)} kWh${s.wait_s ? `, wait ${duration(s.wait_s)}` : ''}${pause}`,
      ),
    );
    if (typeof s.lat === 'number' && typeof s.lon === 'number') {
      L.circleMarker([s.lat, s.lon], { radius: 9, color: '#6a3d9a', weight: 3, fillColor: '#ffffff', fillOpacity: 1 })
        .bindTooltip(`${s.name || s.site_id}: ${localTime(s.arrival)}`)
        .addTo(layer);
    }
  }
  out.append(el('h3', {}, `${(r.stops || []).length} charging stop${(r.stops || []).length === 1 ? '' : 's'}`), ol);
  const pauses = r.road_pauses || [];
  if (pauses.length) {
    const ul = el('ul', { class: 'pauses' });
    for (const p of pauses) {
      ul.append(el('li', {}, `${p.kind.replace('_', ' ')} ${span(p.start, p.end, '–')}${p.near ? `, ${p.near}` : ''}`));
      L.circleMarker([p.lat, p.lon], { radius: 5, color: '#1a1a1a', weight: 1, fillColor: '#f0c000', fillOpacity: 1 }).bindTooltip(`${p.kind.replace('_', ' ')} ${localTime(p.start)}`).addTo(layer);
    }
    out.append(el('h3', {}, 'Pauses on the road'), ul);
  }
}

export async function show(ctx) {
  if (!layer) layer = L.layerGroup();
  if (!built) build(ctx);
  layer.addTo(ctx.map.map);
  ctx.map.showSites(true);
  ctx.map.onMapClick = (ll) => {
    // A route starts and ends on a road: a click is taken to the nearest road drawn, and one far
    // from every road (the hub would refuse it) fills nothing and says so.
    const hint = document.getElementById('route-click-hint');
    const p = ctx.map.nearestRoad(ll);
    if (p && p.dist_m > CLICK_ROAD_M) {
      if (hint) hint.textContent = `No road within ${CLICK_ROAD_M / 1000} km of that point (the nearest is ${(p.dist_m / 1000).toFixed(1)} km away): click nearer to a road.`;
      return;
    }
    if (hint) hint.textContent = '';
    const q = p || { lat: ll.lat, lon: ll.lng };
    fillFromMap(`${q.lat.toFixed(5)},${q.lon.toFixed(5)}`);
  };
  ctx.map.onSiteClick = (id) => {
    const s = ctx.map.sites.get(id);
    if (s) fillFromMap(s.name || s.id);
  };
  onSite = (e) => {
    // A stop's site changed state (not merely which of its points is busy): the plan may no longer hold.
    const id = e.detail.id;
    if (routeSites.has(id) && routeSites.get(id) !== e.detail.status) {
      routeSites.set(id, e.detail.status);
      // A dispatcher knows the site by its name; the id is for machines.
      const name = (ctx.map.sites.get(id) || {}).name || id;
      plan(ctx, `${name} is now ${String(e.detail.status).replace(/_/g, ' ')}`);
    }
  };
  ctx.events.addEventListener('site', onSite);
  // The form works with coordinates alone when the sites or the roads cannot be read.
  await Promise.all([ensureSites(ctx).catch(() => {}), ctx.map.loadNetwork().catch(() => {})]);
  fillPlaces(ctx);
}

export function hide(ctx) {
  ctx.events.removeEventListener('site', onSite);
  ctx.map.onMapClick = null;
  ctx.map.onSiteClick = null;
  if (layer) ctx.map.map.removeLayer(layer);
}
