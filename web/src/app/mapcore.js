// The one Leaflet map the map, dispatch and planning views share: the corridor's own roads as
// the base layer (no tile server is reachable where the hub runs), and the sites as clustered
// markers coloured by the state the hub gives them.

import { getJSON } from './api.js';
import { STATES, stateOf } from './util.js';

const L = window.L;

// A marker's element carries the site's id and state, so that scripts and tests can find it.
const SiteIcon = L.DivIcon.extend({
  createIcon(old) {
    const div = L.DivIcon.prototype.createIcon.call(this, old);
    const o = this.options;
    div.dataset.testid = 'site-marker';
    div.dataset.siteId = o.siteId;
    div.dataset.status = o.status;
    div.setAttribute('role', 'button');
    div.setAttribute('aria-label', `${o.siteName}: ${STATES[o.status].label}`);
    return div;
  },
});

function siteIcon(site) {
  const status = stateOf(site.status);
  const st = STATES[status];
  // Leaflet places the marker's element with a transform of its own, so the shape (a diamond is
  // a turned square) is drawn by an element inside it.
  return new SiteIcon({
    className: `site-marker st-${status}`,
    html: `<span class="site-icon shape-${st.shape} st-${status}" aria-hidden="true"><span>${st.letter}</span></span>`,
    iconSize: [22, 22],
    iconAnchor: [11, 11],
    siteId: site.id,
    siteName: site.name,
    status,
  });
}

// A cluster tells a screen reader how many sites it holds and what Enter does.
const ClusterIcon = L.DivIcon.extend({
  createIcon(old) {
    const div = L.DivIcon.prototype.createIcon.call(this, old);
    div.setAttribute('role', 'button');
    div.setAttribute('aria-label', `${this.options.count} sites here: Enter zooms in`);
    return div;
  },
});

function clusterIcon(cluster) {
  const n = cluster.getChildCount();
  const size = n < 100 ? 34 : n < 1000 ? 40 : 46;
  return new ClusterIcon({
    count: n,
    className: 'site-cluster',
    html: `<span>${n}</span>`,
    iconSize: [size, size],
  });
}

// The point half way along a line (in degrees, which is close enough to place a label).
function halfway(coords) {
  let total = 0;
  for (let i = 1; i < coords.length; i++) total += Math.hypot(coords[i][0] - coords[i - 1][0], coords[i][1] - coords[i - 1][1]);
  let left = total / 2;
  for (let i = 1; i < coords.length; i++) {
    const [x0, y0] = coords[i - 1];
    const [x1, y1] = coords[i];
    const d = Math.hypot(x1 - x0, y1 - y0);
    if (d >= left && d > 0) return [y0 + ((y1 - y0) * left) / d, x0 + ((x1 - x0) * left) / d];
    left -= d;
  }
  const [lon, lat] = coords[0];
  return [lat, lon];
}

export class CorridorMap {
  constructor(container) {
    // Readers who ask for less motion get a map that jumps instead of gliding.
    const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.map = L.map(container, { zoomControl: true, minZoom: 5, maxZoom: 16, zoomAnimation: !still, fadeAnimation: !still, markerZoomAnimation: !still, inertia: !still });
    this.map.setView([50.5, 7.5], 6);
    this.map.attributionControl.setPrefix(false);
    this.canvas = L.canvas({ padding: 0.2 });
    // Place names lie above the roads and below the sites, so that no name hides a site.
    this.map.createPane('places').style.zIndex = 450;
    this.network = null;
    this.places = [];
    this.placeLayer = L.layerGroup();
    this.roadLabelLayer = L.layerGroup();
    this.roadLayer = null;
    this.sites = new Map(); // id -> site from /api/v1/map/sites
    this.markers = new Map(); // id -> L.Marker
    this.cluster = L.markerClusterGroup({
      chunkedLoading: true,
      chunkInterval: 300,
      chunkDelay: 1,
      showCoverageOnHover: false,
      maxClusterRadius: 50,
      spiderfyOnMaxZoom: true,
      iconCreateFunction: clusterIcon,
      // Past zoom 13 a truck site stands alone anyway; fewer levels to cluster make 10,000 sites load faster.
      disableClusteringAtZoom: 14,
      animate: !still,
    });
    this.onSiteClick = null;
    this.onMapClick = null;
    this.map.on('click', (e) => this.onMapClick && this.onMapClick(e.latlng));
    this.map.on('zoomend', () => this.updatePlaceLabels());
    // A focused marker or cluster opens with Enter or Space, as a click would.
    this.map.getContainer().addEventListener('keydown', (e) => {
      const t = e.target;
      if ((e.key === 'Enter' || e.key === ' ') && t.classList && t.classList.contains('leaflet-marker-icon')) {
        e.preventDefault();
        e.stopPropagation();
        t.click();
      }
    });
    this.loadedFilter = null;
    // Whether the reader has moved or zoomed the map (by hand, not by the page).
    this.readerMoved = false;
    for (const ev of ['mousedown', 'wheel', 'touchstart', 'keydown']) {
      this.map.getContainer().addEventListener(ev, () => {
        this.readerMoved = true;
      }, { passive: true });
    }
  }

  loadNetwork() {
    if (!this.networkLoad) {
      this.networkLoad = this.readNetwork();
      // A failed read (a refused key, the hub away) is tried again by the next caller.
      this.networkLoad.catch(() => {
        this.networkLoad = null;
      });
    }
    return this.networkLoad;
  }

  // The point of the roads drawn nearest to ll, and how far it is (m), by a local flat projection
  // (good to a few metres over the few kilometres that matter); null without roads.
  nearestRoad(ll) {
    const fc = this.network;
    if (!fc) return null;
    const kx = 111320 * Math.cos((ll.lat * Math.PI) / 180);
    const ky = 110540;
    const px = ll.lng * kx;
    const py = ll.lat * ky;
    let best = null;
    const seg = (a, b) => {
      const ax = a[0] * kx, ay = a[1] * ky, bx = b[0] * kx, by = b[1] * ky;
      const dx = bx - ax, dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
      const qx = ax + t * dx, qy = ay + t * dy;
      const d = Math.hypot(px - qx, py - qy);
      if (!best || d < best.dist_m) best = { lat: qy / ky, lon: qx / kx, dist_m: d };
    };
    for (const f of fc.features || []) {
      const g = f.geometry;
      if (!g) continue;
      const lines = g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates : [];
      for (const line of lines) for (let i = 1; i < line.length; i++) seg(line[i - 1], line[i]);
    }
    return best;
  }

  async readNetwork() {
    const fc = await getJSON('/api/v1/map/network');
    this.network = fc;
    if (fc.tile_url) {
      L.tileLayer(fc.tile_url, { attribution: fc.tile_attribution || '', maxZoom: 18 }).addTo(this.map);
    }
    const roads = { type: 'FeatureCollection', features: [] };
    for (const f of fc.features || []) {
      if (!f.geometry) continue;
      if (f.geometry.type === 'Point' && f.properties && f.properties.name) {
        const [lon, lat] = f.geometry.coordinates;
        this.places.push({ name: f.properties.name, lat, lon });
      } else if (f.geometry.type === 'LineString' || f.geometry.type === 'MultiLineString') {
        roads.features.push(f);
      }
    }
    this.roadLayer = L.geoJSON(roads, {
      renderer: this.canvas,
      interactive: false,
      style: (f) => {
        const ref = (f.properties && f.properties.ref) || '';
        const major = /^[AEM]\s?\d/.test(ref);
        return { color: major ? '#4a5a6a' : '#8895a3', weight: major ? 3 : 1.5, opacity: 0.9 };
      },
    }).addTo(this.map);
    this.roadLayer.bringToBack();
    const label = (lat, lon, text, cls) =>
      L.marker([lat, lon], {
        interactive: false,
        keyboard: false,
        pane: 'places',
        icon: L.divIcon({ className: cls, html: '', iconSize: null }),
      }).on('add', (e) => {
        // Text, never markup: the names come from the road graph.
        e.target.getElement().textContent = text;
      });
    for (const p of this.places) this.placeLayer.addLayer(label(p.lat, p.lon, p.name, 'place-label'));
    // A road's number (or name) at the middle of its line, as long as there are few enough to read.
    const named = roads.features.filter((f) => f.geometry.type === 'LineString' && f.properties && (f.properties.ref || f.properties.name));
    if (named.length <= 400) {
      const seen = new Set();
      for (const f of named) {
        const [lat, lon] = halfway(f.geometry.coordinates);
        const text = f.properties.ref || f.properties.name;
        // Both directions of a road are two lines: one label.
        const key = `${text}|${lat.toFixed(2)}|${lon.toFixed(2)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        this.roadLabelLayer.addLayer(label(lat, lon, text, 'road-label'));
      }
    }
    const b = this.roadLayer.getBounds();
    if (b.isValid()) {
      this.corridorBounds = b;
      this.map.fitBounds(b, { padding: [10, 10] });
    }
    this.updatePlaceLabels();
    return fc;
  }

  // Place names only where they do not crowd each other: few places, or a close zoom.
  // Road numbers from zoom 8, where they no longer crowd the places.
  updatePlaceLabels() {
    const toggle = (layer, show) => {
      if (show && !this.map.hasLayer(layer)) layer.addTo(this.map);
      if (!show && this.map.hasLayer(layer)) this.map.removeLayer(layer);
    };
    toggle(this.placeLayer, this.places.length > 0 && (this.places.length <= 150 || this.map.getZoom() >= 9));
    toggle(this.roadLabelLayer, this.map.getZoom() >= 8);
  }

  // The first view's sites are asked for while the page still finds out who the reader is.
  prefetchSites() {
    const boot = window.ecorridorBoot && window.ecorridorBoot.sites;
    this.prefetched = (async () => {
      const body = boot ? await boot : null;
      // Anything but a good answer is asked again the ordinary way, which handles errors and 401.
      return body || getJSON('/api/v1/map/sites');
    })();
    this.prefetched.catch(() => {});
  }

  async loadSites(filter = {}) {
    const q = new URLSearchParams();
    if (filter.operator_id) q.set('operator_id', filter.operator_id);
    if (filter.jurisdiction_id) q.set('jurisdiction_id', filter.jurisdiction_id);
    const qs = q.toString();
    // The early answer serves once, good or bad: after a failure the sites are asked for again.
    const early = qs ? null : this.prefetched;
    this.prefetched = null;
    const body = await (early || getJSON(`/api/v1/map/sites${qs ? `?${qs}` : ''}`));
    performance.mark('sites-read');
    this.loadedFilter = filter;
    this.cluster.clearLayers();
    this.sites.clear();
    this.markers.clear();
    // Every site of the answer, also one without a place on the map: a live event for it is no news.
    this.known = new Set((body.sites || []).map((s) => s.id));
    const list = [];
    for (const s of body.sites || []) {
      if (typeof s.lat !== 'number' || typeof s.lon !== 'number') continue;
      this.sites.set(s.id, s);
      const m = L.marker([s.lat, s.lon], { icon: siteIcon(s), keyboard: true, riseOnHover: true });
      m.on('click', () => this.onSiteClick && this.onSiteClick(s.id));
      this.markers.set(s.id, m);
      list.push(m);
    }
    performance.mark('markers-made');
    await new Promise((resolve) => {
      this.cluster.options.chunkProgress = (done, total) => {
        if (done >= total) resolve();
      };
      if (!this.map.hasLayer(this.cluster)) this.cluster.addTo(this.map);
      this.cluster.addLayers(list);
      if (list.length === 0) resolve();
    });
    this.cluster.options.chunkProgress = null;
    performance.mark('sites-shown');
    return body.count ?? this.sites.size;
  }

  // The sites held are those of an operator or a jurisdiction only.
  get filtered() {
    const f = this.loadedFilter || {};
    return Boolean(f.operator_id || f.jurisdiction_id);
  }

  showSites(on) {
    if (on && !this.map.hasLayer(this.cluster)) this.cluster.addTo(this.map);
    if (!on && this.map.hasLayer(this.cluster)) this.map.removeLayer(this.cluster);
  }

  // A live change from the hub: only the marker of that site is redrawn.
  updateSite(ev) {
    const s = this.sites.get(ev.id);
    if (!s) return Boolean(this.known && this.known.has(ev.id));
    s.status = ev.status;
    if (ev.evses) s.evses = ev.evses;
    const m = this.markers.get(ev.id);
    if (m) m.setIcon(siteIcon(s));
    return true;
  }

  focusSite(id) {
    const m = this.markers.get(id);
    if (!m) return;
    this.cluster.zoomToShowLayer(m, () => {
      const e = m.getElement();
      if (e) e.classList.add('selected');
    });
  }

  clearSelection() {
    for (const e of this.map.getContainer().querySelectorAll('.site-marker.selected')) e.classList.remove('selected');
  }

  // A view's panel changes the map's width: the corridor is fitted again to what is left, unless
  // the reader has moved the map meanwhile.
  invalidate() {
    this.map.invalidateSize();
    if (this.corridorBounds && !this.readerMoved) this.map.fitBounds(this.corridorBounds, { padding: [10, 10], animate: false });
  }
}
