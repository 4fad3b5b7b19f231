// The page's frame: who the reader is (GET /api/v1/whoami decides which views show), the key
// prompt, the views behind #/..., and the hub's live events, which every view may listen to.

import { getJSON, getKey, setKey, whenUnauthorized } from './api.js';
import { CorridorMap } from './mapcore.js';
import { el, clear, STATES } from './util.js';
import * as mapView from './view-map.js';
import * as jurView from './view-jurisdictions.js';
import * as gridView from './view-grid.js';
import * as dispatchView from './view-dispatch.js';
import * as planningView from './view-planning.js';

const VIEWS = [
  { name: 'map', hash: '#/', label: 'Map', mod: mapView, usesMap: true },
  { name: 'jurisdictions', hash: '#/jurisdictions', label: 'Jurisdictions', mod: jurView, usesMap: false },
  { name: 'grid', hash: '#/grid', label: 'Grid', mod: gridView, usesMap: false },
  { name: 'dispatch', hash: '#/dispatch', label: 'Dispatch', mod: dispatchView, usesMap: true },
  { name: 'planning', hash: '#/planning', label: 'Planning', mod: planningView, usesMap: true },
];

const PUBLIC = { role: 'public', org_id: null, org: null, views: ['map', 'jurisdictions'], kpi_public: true, scope: { all: false, operator_id: null, jurisdiction_ids: null } };

const ctx = {
  who: PUBLIC,
  map: null,
  events: new EventTarget(), // 'site' events from the hub, as CustomEvent detail
  current: null,
  mayReadUtilisation(site) {
    const sc = this.who.scope || {};
    if (sc.all) return true;
    if (sc.operator_id && site.operator_id === sc.operator_id) return true;
    return Array.isArray(sc.jurisdiction_ids) && sc.jurisdiction_ids.includes(site.jurisdiction_id);
  },
};

const dialog = document.getElementById('key-dialog');
const keyInput = document.getElementById('key-input');
const keyError = document.getElementById('key-error');

function openKeyPrompt(message = '') {
  keyError.textContent = message;
  keyInput.value = '';
  if (!dialog.open) dialog.showModal();
  keyInput.focus();
}

document.getElementById('key-open').addEventListener('click', () => openKeyPrompt());
document.getElementById('key-forget').addEventListener('click', () => {
  setKey('');
  start();
});
document.getElementById('key-cancel').addEventListener('click', () => dialog.close());
for (const b of document.querySelectorAll('.key-again')) b.addEventListener('click', () => openKeyPrompt());
document.getElementById('key-form').addEventListener('submit', (e) => {
  const key = keyInput.value.trim();
  if (!key) {
    e.preventDefault();
    keyError.textContent = 'Enter a key, or continue without one.';
    return;
  }
  setKey(key);
  start();
});

let asking = false; // start() is asking who the reader is
whenUnauthorized(() => {
  // The hub refused the key: it is gone from this tab; the reader may enter another, and meanwhile
  // the page is the public view (start() does that itself when the refusal answered its question).
  openKeyPrompt('The hub refused that key (unknown or revoked). Enter another, or continue without one.');
  if (!asking) start();
});

function renderNav() {
  const nav = clear(document.getElementById('nav'));
  for (const v of VIEWS) {
    if (!ctx.who.views.includes(v.name)) continue;
    nav.append(el('li', {}, el('a', { href: v.hash, id: `nav-${v.name}` }, v.label)));
  }
  const role = document.getElementById('role');
  role.textContent = ctx.who.role === 'public' ? 'public view' : `${ctx.who.role}${ctx.who.org ? `: ${ctx.who.org}` : ''}`;
  document.getElementById('key-forget').hidden = !getKey();
}

function renderLegend() {
  const ul = clear(document.getElementById('legend'));
  for (const [k, st] of Object.entries(STATES)) {
    ul.append(
      el('li', {}, el('span', { class: `site-icon shape-${st.shape} st-${k}`, 'aria-hidden': 'true' }, el('span', {}, st.letter)), ` ${st.label}`),
    );
  }
}

function viewFromHash() {
  const h = location.hash || '#/';
  return VIEWS.find((v) => v.hash === h) || VIEWS[0];
}

async function route() {
  const v = viewFromHash();
  if (ctx.current && ctx.current !== v) ctx.current.mod.hide(ctx);
  for (const s of document.querySelectorAll('.view')) s.hidden = true;
  for (const a of document.querySelectorAll('#nav a')) a.removeAttribute('aria-current');
  const link = document.getElementById(`nav-${v.name}`);
  if (link) link.setAttribute('aria-current', 'page');
  const allowed = ctx.who.views.includes(v.name);
  document.body.classList.toggle('no-map', !(allowed && v.usesMap));
  document.body.classList.toggle('planning', allowed && v.name === 'planning');
  if (!allowed) {
    // A view this key may not see makes no request at all.
    ctx.current = null;
    document.getElementById('view-denied').hidden = false;
    return;
  }
  document.getElementById(`view-${v.name}`).hidden = false;
  if (v.usesMap) ctx.map.invalidate();
  ctx.current = v;
  await v.mod.show(ctx);
}

let source = null;
let wasDown = false;
function listen() {
  if (source) return;
  const live = document.getElementById('live');
  source = new EventSource('/api/v1/events');
  source.addEventListener('open', () => {
    live.textContent = 'live';
    live.classList.add('on');
    // What changed while the stream was down came as no event: the sites are read again.
    if (wasDown) mapView.refresh(ctx);
    wasDown = false;
  });
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting';
    live.classList.remove('on');
    wasDown = true;
    // The browser tries again by itself after a cut, but not after a refusal (the hub's streams
    // all taken: 503): then the page asks again itself, a little later.
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(listen, 15000);
    }
  });
  source.addEventListener('register', () => mapView.refresh(ctx));
  source.addEventListener('site', (e) => {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    if (!data || typeof data.id !== 'string') return;
    const known = ctx.map.updateSite(data);
    // A site added or deleted changes the count and the markers: read them again.
    if (data.deleted ? known : !known && !ctx.map.filtered) mapView.refresh(ctx);
    ctx.events.dispatchEvent(new CustomEvent('site', { detail: data }));
  });
}

async function start() {
  asking = true;
  try {
    ctx.who = await getJSON('/api/v1/whoami');
  } catch (e) {
    // A refused key has opened the prompt already; the public view shows meanwhile.
    ctx.who = PUBLIC;
  } finally {
    asking = false;
  }
  if (!getKey()) ctx.who = PUBLIC;
  // What a refused key kept from loading is read again now (both are read once only).
  ctx.map.loadNetwork().catch(() => {});
  mapView.ensureSites(ctx).catch(() => {});
  for (const v of VIEWS) if (v.mod.reset) v.mod.reset(ctx);
  renderNav();
  ctx.current = null;
  await route();
}

function init() {
  performance.mark('page-init');
  ctx.map = new CorridorMap('map');
  ctx.map.prefetchSites();
  // Every role sees the map: its sites are placed while the page still asks who the reader is.
  mapView.ensureSites(ctx).catch(() => {});
  renderLegend();
  // A view chosen in the header takes the focus: from the keyboard, the next Tab is its first field,
  // not the map's markers (every one of them a Tab stop) that lie between the header and the view.
  window.addEventListener('hashchange', async () => {
    await route();
    const section = ctx.current && document.getElementById(`view-${ctx.current.name}`);
    if (!section || section.contains(document.activeElement)) return;
    section.setAttribute('tabindex', '-1');
    section.focus({ preventScroll: true });
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !dialog.open && ctx.current && ctx.current.mod.escape) ctx.current.mod.escape(ctx);
  });
  // Without the corridor's roads the sites still show on an empty map.
  ctx.map.loadNetwork().catch(() => {});
  listen();
  start();
}

init();
