#!/usr/bin/env node
// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a hub this
// test starts on the demo region, with the region's simulated charge points running beside it.
//
// Set-up: the region's chargers run 20 s of short sessions, and the hub's journal and sessions are
// then moved into last month, so that the public figures (a month that is over, small groups
// withheld) have rows; two twin days are written as scenarios; a site of the test's own, with one
// EVSE, gets a charger that a charge point no one here wrote (ocpp-rpc, strict mode) drives.
//
// Checked, each against the API or against truth worked out here:
// - public view and with an admin key: no console error, page error, failed request or answer >= 400;
// - `site-count` = GET /api/v1/map/sites `count` = GET /api/v1/sites `total`; every marker drawn
//   in its site's state, and the hub's states by the contract's rule over the register's EVSEs;
// - a StatusNotification Faulted recolours the site's marker (data-status out_of_order) within 2 s;
// - a site added (then deleted) through the API while the page is open changes `site-count`;
// - the route form (place names, then lat,lon) shows the `route-stop`s of POST /api/v1/routes with
//   the same body, and sends the coordinates of what was typed; a map click near a road fills a
//   field with the road's nearest point (one the hub routes from), one far from every road nothing;
// - the KPI table's rows and figures = GET /api/v1/kpis for the period the page asked, per role;
// - the public view offers no grid, dispatch or planning, asks for nothing private (not even when
//   sent to #/grid), and its KPI rows are only jurisdictions of at least 5 sessions and 3 fleets;
//   an operator's key sees those views and its own sites' use;
// - a key revoked while in use leads back to the key prompt, and is gone from the tab;
// - a screenshot of every view is left in ARTIFACT_DIR, and each view so shot passes axe-core's
//   WCAG 2.1 A and AA rules (contrast, labels, names, keyboard reach).
//
// usage: test_dashboard.mjs ECORRIDOR SOURCE_DIR WEB_DIR ARTIFACT_DIR   (exit 77: skipped)

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hub, run, createKey } from './lib/hub.mjs';
import { launch, Watch, MAP_HOOK } from './lib/browser.mjs';

const [EXE, SRC, WEB, ART] = process.argv.slice(2);
if (!EXE || !SRC || !WEB || !ART) {
    console.log('usage: test_dashboard.mjs ECORRIDOR SOURCE_DIR WEB_DIR ARTIFACT_DIR');
    process.exit(2);
}
const DEMO = path.join(SRC, 'data', 'demo', 'rhine_alpine');
const SANITIZED = fs.readFileSync(EXE).includes('__asan_init');
// The issue's bound; a sanitized build runs several times slower.
const RECOLOUR_MS = SANITIZED ? 6000 : 2000;
const TEST_SITE = { id: 'DASH-TEST-1', lat: 50.62, lon: 7.21 };
const TEST_CP = { id: 'DASH-TEST-CP', password: 'dashboard-test-pw' };
const PRIVATE = /^\/api\/v1\/(substations|renewables|chargers|sessions|cdrs|tokens|outages|organisations|jurisdictions|scenarios|routes|import)\b|\/(utilisation|history|allocation)$|^\/metrics$/;

let passed = 0, failed = 0;
function check(ok, what) {
    if (ok) passed++;
    else {
        failed++;
        console.log('FAIL: ' + what);
    }
    return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function skip(why) {
    console.log('SKIP: ' + why);
    process.exit(77);
}

if (!fs.existsSync(path.join(WEB, 'index.html'))) skip(`the page is not built: ${WEB}/index.html is missing (the build's web target makes it)`);
let RPCClient;
try {
    ({ RPCClient } = createRequire(path.join(SRC, 'tests/integration/ocpp/package.json'))('ocpp-rpc'));
} catch (e) {
    skip('ocpp-rpc is not installed (scripts/test runs npm ci in tests/integration/ocpp)');
}
const { browser, why } = await launch();
if (!browser) skip(why);

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-dashboard-'));
fs.mkdirSync(ART, { recursive: true });
const LOG = path.join(TMP, 'hub.log');
const DB = path.join(TMP, 'hub.db');
const t0 = Date.now();
const stamp = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

let hub = null, sim = null, cp = null;
const keys = {};

// ---- set-up ------------------------------------------------------------------------------------

// The month before this one, as [from, to) in RFC 3339.
function lastMonth() {
    const d = new Date();
    const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
    return [from, to];
}

// A live quarter-minute of the region's chargers, moved into last month (every journal row and
// session alike; their bills, and so their fleets, stay theirs).
async function pastMonth() {
    hub = await new Hub(EXE, ['--db', DB, '--region', DEMO], LOG).start();
    keys.admin = await createKey(EXE, DB, 'admin', 'hub-admin');
    keys.operator = await createKey(EXE, DB, 'operator', 'corridor-hubs');
    const r = await run(EXE, ['chargers', 'simulate', '--hub', hub.ocpp, '--region', DEMO, '--json', '--quiet', '--seed', '5',
        '--first-s', '1', '--session-s', '10', '--pause-s', '1', '--meter-s', '2', '--duration', '20'], { timeoutMs: 90000 });
    check(r.code === 0, `chargers simulate (last month's sessions): ${r.code} ${r.stderr.slice(-400)}`);
    const [s, cdrs] = await hub.api('GET', '/api/v1/cdrs?limit=1000', undefined, keys.admin.key);
    check(s === 200 && cdrs.data.length > 20, `the sessions have CDRs: ${s} ${(cdrs.data || []).length}`);
    check(await hub.stop() === 0, 'the first hub stops cleanly');
    const [from] = lastMonth();
    const py = `
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
first = con.execute("SELECT min(t_ms) FROM journal").fetchone()[0]
shift = first - int(sys.argv[2])
con.execute("UPDATE journal SET t_ms = t_ms - ?", (shift,))
con.execute("UPDATE transactions SET start_s = start_s - ?", (shift // 1000,))
con.commit()
`;
    const p = spawnSync('python3', ['-c', py, DB, String(from + 10 * 86400000)], { encoding: 'utf8' });
    check(p.status === 0, 'the sessions moved into last month: ' + p.stderr);
    // Truth for the public rows: each jurisdiction's sessions and fleets, from the CDRs.
    const reg = JSON.parse(fs.readFileSync(path.join(DEMO, 'register.json'), 'utf8'));
    const fleetOf = Object.fromEntries(reg.tokens.map((t) => [t.uid, t.issuer_id]));
    const siteOf = Object.fromEntries(reg.chargers.map((c) => [c.id, c.site_id]));
    const jurOf = Object.fromEntries(reg.sites.map((x) => [x.id, x.jurisdiction_id || '']));
    const byJur = {};
    for (const c of cdrs.data || []) {
        const j = jurOf[siteOf[c.charge_point_id]] || '';
        byJur[j] = byJur[j] || { sessions: 0, fleets: new Set() };
        byJur[j].sessions++;
        byJur[j].fleets.add(fleetOf[c.token_uid]);
    }
    return byJur;
}

async function scenarios() {
    const dir = path.join(TMP, 'scenarios');
    const days = [['baseline', []], ['koeln-hub-down', ['--scenario', path.join(DEMO, 'scenarios', 'cold-koeln-hub-down.json')]]];
    for (const [name, extra] of days) {
        const r = await run(EXE, ['simulate', '--corridor', DEMO, '--sites', path.join(DEMO, 'sites.csv'), '--bev-share', '0.15',
            '--quiet', '--out', path.join(dir, name), ...extra]);
        check(r.code === 0, `simulate ${name}: ${r.stderr.slice(-300)}`);
    }
    return dir;
}

// The test's own site, one EVSE, and its charger, registered through the API as an admin would.
async function ownSite() {
    const k = keys.admin.key;
    let [s, b] = await hub.api('POST', '/api/v1/sites', {
        id: TEST_SITE.id, name: 'Browser test bay', operator_id: 'corridor-hubs',
        coordinates: { latitude: String(TEST_SITE.lat), longitude: String(TEST_SITE.lon) },
        evses: [{ uid: 'E1', status: 'UNKNOWN', connectors: [{ id: '1', standard: 'MCS', max_electric_power: 1000000 }] }],
    }, k);
    check(s === 201, `the test's site: ${s} ${JSON.stringify(b).slice(0, 300)}`);
    [s, b] = await hub.api('POST', '/api/v1/chargers', { id: TEST_CP.id, password: TEST_CP.password, site_id: TEST_SITE.id,
        operator_id: 'corridor-hubs', connectors: 1, evse_uids: ['E1'] }, k);
    check(s === 201, `the test's charger: ${s} ${JSON.stringify(b).slice(0, 300)}`);
    cp = new RPCClient({ endpoint: hub.ocpp, identity: TEST_CP.id, password: TEST_CP.password, protocols: ['ocpp1.6'],
        strictMode: true, reconnect: false, callTimeoutMs: 10000 });
    cp.on('strictValidationFailure', (e) => check(false, 'strict validation failed: ' + (e.error && e.error.message)));
    cp.handle(({ method }) => (method === 'GetConfiguration' ? { configurationKey: [] } : { status: 'Accepted' }));
    await cp.connect();
    b = await cp.call('BootNotification', { chargePointVendor: 'ocpp-rpc', chargePointModel: 'dashboard-test' });
    check(b.status === 'Accepted', 'the charge point booted: ' + JSON.stringify(b));
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
}

// ---- the page ------------------------------------------------------------------------------------

async function siteCount(page) {
    const h = await page.waitForFunction(() => {
        const e = document.querySelector('[data-testid="site-count"]');
        const drawn = document.querySelectorAll('[data-testid="site-marker"], .marker-cluster, .site-cluster').length;
        return e && /^\s*[1-9][\d,]*\s*$/.test(e.textContent) && drawn > 0 ? e.textContent : false;
    }, null, { timeout: 15000 });
    return Number((await h.jsonValue()).replace(/[^\d]/g, ''));
}

async function countMatchesApi(page, who, key) {
    const shown = await siteCount(page).catch(() => -1);
    const [s1, ms] = await hub.api('GET', '/api/v1/map/sites', undefined, key);
    const [s2, list] = await hub.api('GET', '/api/v1/sites?limit=1', undefined, key);
    check(s1 === 200 && s2 === 200 && ms.count === list.total && ms.sites.length === ms.count,
        `${who}: /map/sites count ${ms.count} (${(ms.sites || []).length} sites) = /sites total ${list.total}`);
    check(shown === ms.count, `${who}: site-count shows ${shown}, the API ${ms.count}`);
    return ms;
}

// Moves the map to a site close enough that its marker is not clustered, and returns the marker.
// The page may still be fitting the map to the corridor when asked (its roads come later than
// its sites), so the move is made again until the marker shows.
async function reveal(page, site, zoom = 15) {
    const sel = `[data-testid="site-marker"][data-site-id="${site.id}"]`;
    for (let attempt = 0; attempt < 4; attempt++) {
        const ok = await page.evaluate(([lat, lon, z]) => {
            const m = (window.__ecTestMaps || [])[0];
            if (!m) return false;
            m.setView([lat, lon], z, { animate: false });
            return true;
        }, [site.lat, site.lon, zoom]);
        if (!check(ok, 'the page made a Leaflet map the test can move')) break;
        if (await page.waitForSelector(sel, { timeout: 2000 }).then(() => true).catch(() => false)) return sel;
    }
    check(false, `the marker of ${site.id} shows at zoom ${zoom}`);
    return sel;
}

// Records, in the page, when the marker of a site first shows each status (the marker element may
// be replaced whole when its icon changes).
async function watchStatus(page, id) {
    await page.evaluate((siteId) => {
        window.__ecSeen = {};
        const look = () => {
            const e = document.querySelector(`[data-testid="site-marker"][data-site-id="${siteId}"]`);
            if (e && !(e.dataset.status in window.__ecSeen)) window.__ecSeen[e.dataset.status] = Date.now();
        };
        new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
        look();
    }, id);
}

async function recolour(page, status, ocppStatus, errorCode) {
    const was = await page.evaluate((id) => {
        const e = document.querySelector(`[data-testid="site-marker"][data-site-id="${id}"]`);
        return e ? e.dataset.status : null;
    }, TEST_SITE.id);
    check(was !== null && was !== status, `the marker is not yet ${status} before ${ocppStatus}: ${was}`);
    const sent = Date.now();
    await cp.call('StatusNotification', { connectorId: 1, errorCode, status: ocppStatus });
    const seen = await page.waitForFunction((st) => window.__ecSeen && window.__ecSeen[st], status, { timeout: 10000, polling: 20 })
        .then((h) => h.jsonValue()).catch(() => null);
    const ms = seen === null ? Infinity : seen - sent;
    check(ms <= RECOLOUR_MS, `${ocppStatus} recolours the marker to ${status} within ${RECOLOUR_MS} ms: ${ms} ms`);
    const [, one] = await hub.api('GET', `/api/v1/map/sites`);
    const api = (one.sites || []).find((x) => x.id === TEST_SITE.id);
    check(api && api.status === status, `the API says ${TEST_SITE.id} is ${status}: ${api && api.status}`);
    return ms;
}

// The contract's one rule for a site's state, from its EVSEs' statuses.
function siteState(evses) {
    const st = new Set((evses || []).map((e) => e.status));
    if (st.has('AVAILABLE')) return 'available';
    if (['CHARGING', 'BLOCKED', 'RESERVED'].some((x) => st.has(x))) return 'charging';
    if (['OUTOFORDER', 'INOPERATIVE'].some((x) => st.has(x))) return 'out_of_order';
    return 'unknown';
}

// Every marker drawn shows its site's state as the hub gives it, and the hub's state is the rule's
// over the register's EVSEs. The region's chargers change states meanwhile, so only sites whose
// state was the same before and after the page was read are held to it.
async function markersMatch(page, who) {
    const before = await hub.api('GET', '/api/v1/map/sites');
    const [, reg] = await hub.api('GET', '/api/v1/sites?limit=1000');
    const drawn = await page.$$eval('[data-testid="site-marker"]', (es) => es.map((e) => [e.dataset.siteId, e.dataset.status]));
    const after = await hub.api('GET', '/api/v1/map/sites');
    const a = Object.fromEntries((before[1].sites || []).map((x) => [x.id, x.status]));
    const b = Object.fromEntries((after[1].sites || []).map((x) => [x.id, x.status]));
    const steady = drawn.filter(([id]) => a[id] && a[id] === b[id]);
    const wrong = steady.filter(([id, st]) => st !== a[id]);
    check(drawn.length > 0 && wrong.length === 0, `${who}: ${drawn.length} markers drawn, each in its site's state: ${JSON.stringify(wrong)}`);
    const rule = (reg.data || []).filter((x) => a[x.id] && a[x.id] === b[x.id] && siteState(x.evses) !== a[x.id]);
    check((reg.data || []).length > 0 && rule.length === 0,
        `the hub's site states follow the rule over their EVSEs: ${JSON.stringify(rule.map((x) => [x.id, a[x.id], (x.evses || []).map((e) => e.status)]))}`);
}

// axe-core (tests/web's lockfile) audits each view shot for WCAG 2.1 A and AA: contrast, labels,
// names, roles, keyboard reach of scrolling parts. It is run through the debugging protocol, which
// the page's content security policy does not govern, so the page itself stays as it is served.
let AXE = null;
async function audit(page, name) {
    AXE ??= fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js'), 'utf8');
    await page.evaluate(AXE);
    const r = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
    const bad = r.violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    check(bad.length === 0, `${name}: no WCAG 2.1 AA violation (axe-core): ${bad.join('; ')}`);
}

async function shot(page, name) {
    await page.screenshot({ path: path.join(ART, name + '.png') });
    if (name !== 'key-prompt') await audit(page, name);
}

async function showKeyPrompt(page) {
    const input = page.getByTestId('key-input');
    if (await input.isVisible()) return;
    await page.getByRole('button', { name: /key/i }).first().click();
    await input.waitFor({ state: 'visible', timeout: 5000 });
}

async function signIn(page, key) {
    await showKeyPrompt(page);
    await page.getByTestId('key-input').fill(key);
    const who = page.waitForResponse((r) => r.url().endsWith('/api/v1/whoami'), { timeout: 10000 });
    await page.getByTestId('key-submit').click();
    return (await who).json();
}

async function go(page, W, hash) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await sleep(100);
    await W.quiet();
}

function navLinks(page) {
    return page.$$eval('a[href^="#/"], a[href="/"]', (as) => as.filter((a) => a.offsetParent !== null).map((a) => a.getAttribute('href')));
}

// ---- the KPI table against /api/v1/kpis -------------------------------------------------------------

// Columns the page may show, by their heading, and the figure each is.
const COLUMNS = [[/^sessions?\b/i, 'sessions'], [/energy/i, 'energy_kwh'], [/uptime/i, 'uptime_pct'],
    [/utili[sz]ation/i, 'utilisation_pct'], [/occupancy/i, 'occupancy_pct'], [/congestion/i, 'congestion_pct'],
    [/peak/i, 'peak_power_kw'], [/avg|average|speed/i, 'avg_power_kw'], [/^ports?\b/i, 'ports'], [/co2|co₂/i, 'co2_avoided_kg'],
    [/outage/i, 'outage_min'], [/revenue/i, 'revenue']];

// The number a cell shows and how precisely (null for a cell without one, as for a null figure).
function cellNumber(text) {
    const t = text.replace(/[\s\u00a0\u202f]/g, '').replace(/,/g, '');
    const m = /(-?\d+(?:\.(\d+))?)([kM]?)/.exec(t);
    if (!m) return null;
    const mult = m[3] === 'k' ? 1e3 : m[3] === 'M' ? 1e6 : 1;
    return { value: Number(m[1]) * mult, tol: 0.5 * Math.pow(10, -(m[2] || '').length) * mult * 1.0001 + 1e-9 };
}

async function kpiTable(page) {
    return page.evaluate(() => {
        const t = document.querySelector('[data-testid="kpi-table"]');
        if (!t) return null;
        const head = [...t.querySelectorAll('thead th, thead td')].map((c) => c.textContent.trim());
        const rows = [...t.querySelectorAll('tr[data-jurisdiction]')].map((tr) => ({
            id: tr.dataset.jurisdiction, cells: [...tr.children].map((c) => c.textContent.trim()),
        }));
        return { head, rows };
    });
}

// The page's last /api/v1/kpis request of this phase, asked again of the hub with the same key, and
// the table against its answer. Returns the answer's rows and the query.
async function kpiMatches(page, W, who, key) {
    const reqs = W.requestsOf(W.phase).filter((r) => new URL(r.url).pathname === '/api/v1/kpis');
    if (!check(reqs.length > 0, `${who}: the jurisdictions view asked /api/v1/kpis`)) return null;
    const u = new URL(reqs[reqs.length - 1].url);
    check(u.searchParams.get('group') === 'jurisdiction', `${who}: the table is by jurisdiction: ${u.search}`);
    await page.waitForSelector('[data-testid="kpi-table"]', { timeout: 10000 }).catch(() => null);
    await W.quiet();
    const [s, ans] = await hub.api('GET', u.pathname + u.search, undefined, key);
    check(s === 200, `${who}: GET ${u.pathname + u.search}: ${s}`);
    const table = await kpiTable(page);
    if (!check(table, `${who}: a kpi-table shows`) || s !== 200) return null;
    const api = (ans.data || []).map((r) => r.id);
    check(same(table.rows.map((r) => r.id).sort(), [...api].sort()),
        `${who}: the table's jurisdictions ${JSON.stringify(table.rows.map((r) => r.id))} = the API's ${JSON.stringify(api)}`);
    const cols = [];
    table.head.forEach((h, i) => {
        const c = COLUMNS.find(([re]) => re.test(h));
        if (c) cols.push([i, c[1], h]);
    });
    check(cols.some(([, k]) => k === 'sessions') && cols.length >= 3,
        `${who}: the table shows sessions and at least two other figures: ${JSON.stringify(table.head)}`);
    let compared = 0;
    for (const r of table.rows) {
        const a = (ans.data || []).find((x) => x.id === r.id);
        if (!a) continue;
        if (a.name) check(r.cells.some((c) => c.includes(a.name)), `${who}: ${r.id}'s row names it ${a.name}: ${JSON.stringify(r.cells)}`);
        for (const [i, k, h] of cols) {
            const n = cellNumber(r.cells[i] || '');
            if (a[k] === null || a[k] === undefined) {
                check(n === null, `${who}: ${r.id} ${h}: the API has no figure, the page shows "${r.cells[i]}"`);
            } else {
                check(n !== null && Math.abs(n.value - a[k]) <= n.tol, `${who}: ${r.id} ${h}: "${r.cells[i]}" = ${a[k]}`);
            }
            compared++;
        }
    }
    stamp(`${who}: KPI table ${table.rows.length} rows x ${cols.length} figures compared (${compared} cells), period ${u.searchParams.get('from')}..${u.searchParams.get('to')}`);
    return { rows: ans.data || [], query: u.search, suppressed: ans.suppressed };
}

// Sets the jurisdictions view to last month, a period that is over, when the page offers a month to
// choose: a running month's figures change between any two requests (the period ends now).
async function chooseLastMonth(page, W) {
    const input = page.locator('input[type="month"]:visible').first();
    if (!(await input.count())) return false;
    const month = new Date(lastMonth()[0]).toISOString().slice(0, 7);
    if ((await input.inputValue()) === month) return true;
    await input.fill(month);
    // The page may read the month on change or when its form is sent: both are done.
    await input.dispatchEvent('change');
    await input.press('Enter');
    await sleep(100);
    await W.quiet();
    return true;
}

// ---- the route form against POST /api/v1/routes ---------------------------------------------------

function nearM(a, b) {
    const rad = Math.PI / 180;
    const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad), y = (b.lat - a.lat) * rad;
    return Math.sqrt(x * x + y * y) * 6371000;
}

function point(v) {
    if (!v) return null;
    if (Array.isArray(v)) return { lat: Number(v[0]), lon: Number(v[1]) };
    return { lat: Number(v.latitude ?? v.lat), lon: Number(v.longitude ?? v.lon) };
}

// Fills the form, submits, and compares the stops shown with the page's answer and with the hub's
// answer to the same body asked at the same moment (the live chargers change which sites are free).
async function routeMatches(page, W, from, to, what) {
    const asked = [];
    const onReq = (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/routes') {
            const body = r.postData();
            asked.push({ body, mine: hub.api('POST', '/api/v1/routes', body, keys.admin.key), page: r.response() });
        }
    };
    page.on('request', onReq);
    try {
        for (let attempt = 1; attempt <= 3; attempt++) {
            asked.length = 0;
            await page.getByTestId('route-from').fill(from);
            await page.getByTestId('route-to').fill(to);
            await page.getByTestId('route-submit').click();
            const t = Date.now();
            while (!asked.length && Date.now() - t < 10000) await sleep(50);
            if (!check(asked.length > 0, `${what}: the form POSTs /api/v1/routes`)) return null;
            await W.quiet(500, 30000);
            const last = asked[asked.length - 1];
            const res = await last.page;
            const pageAns = res ? await res.json().catch(() => null) : null;
            const [s, mine] = await last.mine;
            const shown = await page.$$eval('[data-testid="route-stop"]', (es) => es.map((e) => e.dataset.siteId));
            const want = pageAns && Array.isArray(pageAns.stops) ? pageAns.stops.map((x) => x.site_id) : null;
            const ours = s === 200 && Array.isArray(mine.stops) ? mine.stops.map((x) => x.site_id) : null;
            if (!same(want, ours) && attempt < 3) {
                stamp(`${what}: a site changed state between the page's request and ours; asked again`);
                continue;
            }
            check(res && res.status() === 200, `${what}: the page's route answered ${res && res.status()}`);
            check(ours !== null, `${what}: POST /api/v1/routes with the page's body: ${s} ${JSON.stringify(mine).slice(0, 200)}`);
            check(same(shown, ours), `${what}: route-stops ${JSON.stringify(shown)} = POST /api/v1/routes ${JSON.stringify(ours)}`);
            stamp(`${what}: ${shown.length} stops ${JSON.stringify(shown)}, as POST /api/v1/routes answers`);
            return { body: JSON.parse(last.body), stops: shown, answer: mine };
        }
    } finally {
        page.off('request', onReq);
    }
    return null;
}

// ---- the phases -------------------------------------------------------------------------------------

async function publicView(page, W, byJur) {
    W.phase = 'public';
    await page.goto(hub.base + '/');
    const ms = await countMatchesApi(page, 'public', undefined);
    const links = await navLinks(page);
    for (const v of ['grid', 'dispatch', 'planning']) check(!links.some((h) => h.includes(v)), `public: no ${v} view offered: ${links}`);
    check(links.some((h) => h.includes('jurisdictions')), `public: the jurisdictions view is offered: ${links}`);
    const [fs1] = await hub.api('GET', '/favicon.ico');
    check(fs1 === 200, `the hub serves /favicon.ico: ${fs1}`);
    await W.quiet();
    await markersMatch(page, 'public');
    await shot(page, 'map');

    // The live recolouring, watched at the test's own site.
    const sel = await reveal(page, TEST_SITE, 11);
    const first = await page.$eval(sel, (e) => e.dataset.status).catch(() => null);
    const api = (ms.sites || []).find((x) => x.id === TEST_SITE.id);
    check(first === 'available' && api && api.status === 'available', `the test site shows available as the API says: ${first}, ${api && api.status}`);
    await watchStatus(page, TEST_SITE.id);
    const faulted = await recolour(page, 'out_of_order', 'Faulted', 'GroundFailure');
    await shot(page, 'map-faulted');
    await watchStatus(page, TEST_SITE.id);
    const back = await recolour(page, 'available', 'Available', 'NoError');
    stamp(`recoloured in ${faulted} ms (Faulted) and ${back} ms (Available again)`);

    // A site added through the API comes onto the open page, and goes when deleted: the count follows.
    const before = await siteCount(page);
    const added = { id: 'DASH-LIVE-ADD', name: 'Added while the page is open', coordinates: { latitude: '50.70', longitude: '7.10' } };
    const [sa] = await hub.api('POST', '/api/v1/sites', added, keys.admin.key);
    const countIs = (n) => page.waitForFunction((want) => document.querySelector('[data-testid="site-count"]').textContent.replace(/[^\d]/g, '') === String(want), n, { timeout: 5000 }).then(() => true, () => false);
    check(sa === 201 && await countIs(before + 1), `a site added while the page is open shows in site-count (${before} -> ${before + 1})`);
    const [sd] = await hub.api('DELETE', '/api/v1/sites/' + added.id, undefined, keys.admin.key);
    check(sd === 204 && await countIs(before), `a site deleted while the page is open leaves site-count (back to ${before})`);

    // A click opens the site; the public is shown no private figure of it.
    await page.click(sel);
    await W.quiet();
    await shot(page, 'site-panel-public');

    // The public figures: one month that is over, by jurisdiction, small groups withheld.
    await go(page, W, '#/jurisdictions');
    const pub = await kpiMatches(page, W, 'public', undefined);
    if (pub) {
        const q = new URLSearchParams(pub.query);
        const [from, to] = lastMonth().map((t) => new Date(t).toISOString().replace('.000Z', 'Z'));
        check(q.get('from') === from && q.get('to') === to, `public: the table is last month (${from}..${to}): ${pub.query}`);
        for (const r of pub.rows) {
            const j = byJur[r.id] || { sessions: 0, fleets: new Set() };
            check(j.sessions >= 5 && j.fleets.size >= 3, `public: ${r.id} shown with ${j.sessions} sessions of ${j.fleets.size} fleets`);
        }
        check(pub.rows.length > 0, 'public: last month has jurisdictions big enough to show');
    }
    await shot(page, 'jurisdictions-public');

    // Views the public may not see ask nothing, even when their address is typed.
    for (const h of ['#/grid', '#/dispatch', '#/planning']) await go(page, W, h);
    const asked = W.requestsOf('public').map((r) => new URL(r.url)).filter((u) => u.origin === hub.base);
    const priv = asked.filter((u) => PRIVATE.test(u.pathname) || (u.pathname === '/api/v1/kpis' && u.searchParams.get('group') !== 'jurisdiction'));
    check(priv.length === 0, `public: no request for a private figure: ${priv.map((u) => u.pathname + u.search)}`);
    check(W.problemsOf('public').length === 0, 'public: a clean console and no failing request: ' + JSON.stringify(W.problemsOf('public')));
    return pub;
}

async function adminView(page, W, pub) {
    W.phase = 'admin';
    const who = await signIn(page, keys.admin.key);
    check(who.role === 'admin' && who.scope && who.scope.all === true, 'admin: whoami ' + JSON.stringify(who));
    await page.goto(hub.base + '/');
    await page.reload();
    await countMatchesApi(page, 'admin', keys.admin.key);
    const links = await navLinks(page);
    for (const v of ['jurisdictions', 'grid', 'dispatch', 'planning']) check(links.some((h) => h.includes(v)), `admin: the ${v} view is offered: ${links}`);
    const key = await page.evaluate(() => JSON.stringify(Object.values(sessionStorage)));
    check(key.includes(keys.admin.key), 'admin: the key is kept in the tab (sessionStorage)');
    check(!W.requestsOf('admin').some((r) => r.url.includes(keys.admin.key)), 'admin: the key is never in an address');

    // A demo site that charged: its panel with the day's use.
    const kln = { id: 'DE-KLN-HUB', ...(await siteAt('DE-KLN-HUB')) };
    await page.click(await reveal(page, kln, 13));
    await W.quiet();
    const used = W.requestsOf('admin').filter((r) => r.url.includes('/sites/DE-KLN-HUB/utilisation'));
    check(used.length > 0, 'admin: the site panel asks for the site\'s use');
    await shot(page, 'site-panel');

    stamp('admin: ' + '#/jurisdictions');
    await go(page, W, '#/jurisdictions');
    check(await chooseLastMonth(page, W), 'admin: the jurisdictions view offers a month to choose');
    const adm = await kpiMatches(page, W, 'admin', keys.admin.key);
    if (adm && pub && adm.query === pub.query) {
        check(adm.rows.length === pub.rows.length + pub.suppressed,
            `admin: the month's every jurisdiction (${adm.rows.length}) = the public's ${pub.rows.length} + ${pub.suppressed} withheld`);
    }
    await shot(page, 'jurisdictions');

    stamp('admin: ' + '#/grid');
    await go(page, W, '#/grid');
    const hist = W.requestsOf('admin').filter((r) => /\/api\/v1\/substations\/[^/]+\/history/.test(r.url));
    check(hist.length > 0, 'admin: the grid view asks for substations\' history');
    await shot(page, 'grid');

    stamp('admin: ' + '#/dispatch');
    await go(page, W, '#/dispatch');
    await page.getByTestId('route-form').waitFor({ timeout: 5000 }).catch(() => check(false, 'admin: a route-form shows'));
    const places = await placeNames();
    if (check(places.length >= 4, `the network has named places: ${places.length}`)) {
        const byLat = [...places].sort((a, b) => b.lat - a.lat);
        const [north, south] = [byLat[0], byLat[byLat.length - 1]];
        const r1 = await routeMatches(page, W, north.name, south.name, `route ${north.name} -> ${south.name}`);
        if (r1) {
            check(r1.stops.length > 0, `route ${north.name} -> ${south.name} has charging stops: ${r1.stops}`);
            const f = point(r1.body.from), t = point(r1.body.to);
            const near = (p, name) => p && places.some((x) => x.name === name && nearM(p, x) < 1000);
            check(near(f, north.name) && near(t, south.name), `the names became their places' coordinates: ${JSON.stringify(r1.body.from)} ${JSON.stringify(r1.body.to)}`);
        }
        const [a, b] = [byLat[1], byLat[byLat.length - 2]];
        const typed = [`${a.lat.toFixed(5)},${a.lon.toFixed(5)}`, `${b.lat.toFixed(5)},${b.lon.toFixed(5)}`];
        const r2 = await routeMatches(page, W, typed[0], typed[1], `route ${typed[0]} -> ${typed[1]}`);
        if (r2) {
            const f = point(r2.body.from), t = point(r2.body.to);
            check(f && t && nearM(f, { lat: +a.lat.toFixed(5), lon: +a.lon.toFixed(5) }) < 1 && nearM(t, { lat: +b.lat.toFixed(5), lon: +b.lon.toFixed(5) }) < 1,
                `lat,lon is sent as typed: ${JSON.stringify(r2.body.from)} ${JSON.stringify(r2.body.to)}`);
        }
    }
    await shot(page, 'dispatch');
    await mapClickFills(page);

    stamp('admin: ' + '#/planning');
    await go(page, W, '#/planning');
    await comparePlanning(page, W);
    await shot(page, 'planning');
    check(W.problemsOf('admin').length === 0, 'admin: a clean console and no failing request: ' + JSON.stringify(W.problemsOf('admin')));
}

// A click on the map, where no site is, fills the field the reader was in with that point's
// "lat,lon" (the map is moved to an empty spot in the Ardennes first).
async function mapClickFills(page) {
    const from = page.getByTestId('route-from');
    // A point 1 km off a road of the network the hub serves (a vertex of its first road, moved north).
    const [, net] = await hub.api('GET', '/api/v1/map/network');
    const road = (net.features || []).find((f) => f.geometry && f.geometry.type === 'LineString');
    if (!check(road, 'the network has a road to click near')) return;
    const [lon0, lat0] = road.geometry.coordinates[0];
    const clickAt = async (lat, lon) => {
        await from.fill('');
        await from.focus();
        const spot = await page.evaluate(([la, lo]) => {
            const m = (window.__ecTestMaps || [])[0];
            if (!m) return null;
            m.setView([la, lo], 12, { animate: false });
            const c = m.getContainer().getBoundingClientRect();
            return { x: c.left + c.width / 2, y: c.top + c.height / 2, lat: m.getCenter().lat, lon: m.getCenter().lng };
        }, [lat, lon]);
        if (!spot) return null;
        await page.mouse.click(spot.x, spot.y);
        await sleep(200);
        return { spot, value: await from.inputValue() };
    };
    const near = await clickAt(lat0 + 0.009, lon0);
    if (!check(near, 'the dispatch view has a map the test can move')) return;
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(near.value);
    const got = m && { lat: Number(m[1]), lon: Number(m[2]) };
    // How far got lies from the roads: the least distance to any of their segments, by sampling each
    // segment every few metres (the test's own arithmetic, not the page's projection).
    const offRoad = (p) => {
        let best = Infinity;
        for (const f of net.features || []) {
            if (!f.geometry || f.geometry.type !== 'LineString') continue;
            const c = f.geometry.coordinates;
            for (let i = 1; i < c.length; i++) {
                const n = Math.max(1, Math.ceil(nearM({ lat: c[i - 1][1], lon: c[i - 1][0] }, { lat: c[i][1], lon: c[i][0] }) / 5));
                for (let k = 0; k <= n; k++) {
                    const q = { lat: c[i - 1][1] + ((c[i][1] - c[i - 1][1]) * k) / n, lon: c[i - 1][0] + ((c[i][0] - c[i - 1][0]) * k) / n };
                    best = Math.min(best, nearM(p, q));
                }
            }
        }
        return best;
    };
    check(got && nearM(got, near.spot) < 1100 && offRoad(got) < 20,
        `a click 1 km off a road fills route-from with the road's nearest point: "${near.value}" for a click at ${near.spot.lat.toFixed(5)},${near.spot.lon.toFixed(5)}`);
    // The filled point is one the hub routes from.
    if (got) {
        const [st] = await hub.api('POST', '/api/v1/routes', { from: { latitude: got.lat, longitude: got.lon }, to: { latitude: 47.5596, longitude: 7.5886 }, vehicle: 'eactros600', soc: 0.9 }, keys.admin.key);
        check(st === 200, `the hub routes from the point a click filled in: ${st}`);
    }
    // Far from every road (the Eifel, 40 km from the corridor) nothing is filled, and the page says why.
    const far = await clickAt(50.2, 5.6);
    const hint = await page.locator('#route-click-hint').textContent().catch(() => '');
    check(far && far.value === '' && /No road within/.test(hint), `a click far from every road fills nothing and says so: "${far && far.value}", "${hint}"`);
}

async function siteAt(id) {
    const [, ms] = await hub.api('GET', '/api/v1/map/sites');
    const s = (ms.sites || []).find((x) => x.id === id) || {};
    return { lat: s.lat, lon: s.lon, operator_id: s.operator_id };
}

async function placeNames() {
    const [s, fc] = await hub.api('GET', '/api/v1/map/network');
    if (s !== 200) return [];
    const seen = new Map();
    for (const f of fc.features || []) {
        if (f.geometry && f.geometry.type === 'Point' && f.properties && f.properties.name) {
            const n = f.properties.name;
            // A name given to two places is not one a person could type and be understood.
            seen.set(n, seen.has(n) ? null : { name: n, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] });
        }
    }
    return [...seen.values()].filter(Boolean);
}

// Two scenarios side by side: the page's choice of two (or the first two offered) and its compare.
async function comparePlanning(page, W) {
    const [s, list] = await hub.api('GET', '/api/v1/scenarios', undefined, keys.admin.key);
    check(s === 200 && (list.scenarios || []).length === 2, `GET /api/v1/scenarios lists the two days: ${s} ${JSON.stringify(list).slice(0, 200)}`);
    const selects = page.locator('#view-planning select, [data-view="planning"] select, main select:visible');
    const n = await selects.count();
    if (n >= 2) {
        await selects.nth(0).selectOption('baseline').catch(() => null);
        await selects.nth(1).selectOption('koeln-hub-down').catch(() => null);
    }
    const cmp = page.getByTestId('scenario-compare');
    await cmp.waitFor({ timeout: 10000 }).catch(() => null);
    await W.quiet();
    const text = (await cmp.textContent().catch(() => '')) || '';
    check(text.includes('baseline') && text.includes('koeln-hub-down'), 'admin: scenario-compare shows both scenarios: ' + text.slice(0, 200));
}

async function operatorView(page, W) {
    W.phase = 'operator';
    const who = await signIn(page, keys.operator.key);
    check(who.role === 'operator' && who.scope && who.scope.operator_id === 'corridor-hubs', 'operator: whoami ' + JSON.stringify(who));
    await page.goto(hub.base + '/');
    await page.reload();
    await countMatchesApi(page, 'operator', keys.operator.key);
    const links = await navLinks(page);
    for (const v of ['grid', 'dispatch', 'planning']) check(links.some((h) => h.includes(v)), `operator: the ${v} view is offered: ${links}`);
    // Its own site's use is shown; another operator's is not asked for.
    for (const [id, mine] of [['DE-FRA-HUB', true], ['NL-GOR-01', false]]) {
        const at = { id, ...(await siteAt(id)) };
        const want = `/sites/${id}/utilisation`;
        // Started before the click: on a loaded machine the browser may tell of the request later
        // than a quiet spell of the network would wait.
        const seen = page.waitForRequest((r) => r.url().includes(want), { timeout: mine ? 15000 : 1500 }).then(() => true).catch(() => false);
        await page.click(await reveal(page, at, 13));
        // The panel has read the site once its EVSE table is there; the page decides on the chart
        // in the same step.
        const opened = await page.locator('#site-panel table.evses')
            .waitFor({ timeout: 15000 }).then(() => true).catch(() => false);
        check(opened, `operator: the panel of ${id} opened and read the site`);
        const asked = (await seen) || W.requestsOf('operator').some((r) => r.url.includes(want));
        await W.quiet();
        check(asked === mine, `operator: the use of ${id} (${at.operator_id}) ${mine ? 'is' : 'is not'} asked for`);
    }
    await go(page, W, '#/jurisdictions');
    await chooseLastMonth(page, W);
    const op = await kpiMatches(page, W, 'operator', keys.operator.key);
    // Truth: the operator's own sites' jurisdictions, from the register.
    const reg = JSON.parse(fs.readFileSync(path.join(DEMO, 'register.json'), 'utf8'));
    const own = new Set(reg.sites.filter((x) => x.operator_id === 'corridor-hubs').map((x) => x.jurisdiction_id));
    own.add(''); // the test's own site, of that operator, in no jurisdiction
    if (op) check(op.rows.length > 0 && op.rows.every((r) => own.has(r.id)), `operator: only its own sites' jurisdictions: ${op.rows.map((r) => r.id)}`);
    await shot(page, 'jurisdictions-operator');
    check(W.problemsOf('operator').length === 0, 'operator: a clean console and no failing request: ' + JSON.stringify(W.problemsOf('operator')));
}

async function revokedKey(page, W) {
    W.phase = 'revoked';
    const k = await createKey(EXE, DB, 'fleet', 'weber-transporte');
    const who = await signIn(page, k.key);
    check(who.role === 'fleet', 'fleet: whoami ' + JSON.stringify(who));
    // The page has finished asking with the key before it is revoked (else the prompt would come
    // before the reload, and the reload find no key to refuse).
    await page.goto(hub.base + '/');
    await siteCount(page).catch(() => null);
    await W.quiet();
    const r = await run(EXE, ['keys', 'revoke', k.id, '--db', DB]);
    check(r.code === 0, 'keys revoke: ' + r.stderr);
    await page.reload();
    const prompt = await page.getByTestId('key-input').waitFor({ state: 'visible', timeout: 5000 }).then(() => true).catch(() => false);
    if (!check(prompt, 'a revoked key brings back the key prompt')) {
        console.log('  the page after the reload: ' + JSON.stringify(await page.evaluate(() => ({
            dialog: (document.querySelector('dialog') || {}).open, role: (document.getElementById('role') || {}).textContent,
            url: location.href }))) + '; ' + JSON.stringify(W.requestsOf('revoked').map((x) => x.url.replace(hub.base, ''))));
    }
    const kept = await page.evaluate(() => JSON.stringify(Object.values(sessionStorage)));
    check(!kept.includes(k.key), 'the revoked key is gone from the tab');
    await shot(page, 'key-prompt');
    const p = W.problemsOf('revoked');
    check(p.length > 0 && p.every((x) => /\b401\b|status of 401/.test(x)), 'the only failures after revoking are the 401s: ' + JSON.stringify(p));
}

// ---- main -------------------------------------------------------------------------------------------

let code = 1;
try {
    const byJur = await pastMonth();
    stamp('last month written');
    const scen = await scenarios();
    // A hub without --scenarios still runs every other check; the planning view's then fails.
    const help = await run(EXE, ['serve', '--help']);
    const withScen = check(help.stdout.includes('--scenarios'), 'serve has --scenarios DIR') ? ['--scenarios', scen] : [];
    hub = await new Hub(EXE, ['--db', DB, '--region', DEMO, '--web', WEB, ...withScen], LOG).start();
    await ownSite();
    // The region's charge points, live beside the hub for the rest of the test.
    sim = spawn(EXE, ['chargers', 'simulate', '--hub', hub.ocpp, '--region', DEMO, '--quiet', '--seed', '2'],
        { stdio: ['ignore', 'ignore', fs.openSync(path.join(TMP, 'chargers.log'), 'a')] });
    stamp(`hub at ${hub.base}`);

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    await context.addInitScript(MAP_HOOK);
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const W = new Watch(page);
    const phases = [['public', () => publicView(page, W, byJur)], ['admin', (pub) => adminView(page, W, pub)],
        ['operator', () => operatorView(page, W)], ['revoked', () => revokedKey(page, W)]];
    let carry = null;
    for (const [name, fn] of phases) {
        const before = failed;
        try {
            const r = await fn(carry);
            if (name === 'public') carry = r;
        } catch (e) {
            check(false, `${name}: ${e.stack || e}`);
            await shot(page, `failed-${name}`).catch(() => null);
        }
        stamp(`${name}: ${failed === before ? 'ok' : `${failed - before} failed`}`);
    }
    await context.close();
    code = failed ? 1 : 0;
} catch (e) {
    check(false, e.stack || String(e));
} finally {
    await browser.close().catch(() => null);
    if (cp) await cp.close({ force: true }).catch(() => null);
    if (sim && sim.exitCode === null) {
        // Ctrl-C, as the demo stops it: its sessions end at the hub first.
        const gone = new Promise((r) => sim.on('exit', r));
        sim.kill('SIGINT');
        await Promise.race([gone, sleep(5000)]);
        if (sim.exitCode === null) sim.kill('SIGKILL');
    }
    if (hub) await hub.stop();
}
console.log(`${passed} passed, ${failed} failed; screenshots in ${ART}` + (failed ? `; logs in ${TMP}` : ''));
if (!failed) fs.rmSync(TMP, { recursive: true, force: true });
process.exit(failed ? 1 : code);
