#!/usr/bin/env node
// The planning view's plan in a real browser (Debian's chromium, driven by playwright-core): a hub
// serves two folders under --scenarios, a plan (the folder `ecorridor plan --out` writes: by default
// tests/fixtures/plan_view, or PLAN_DIR) and a day without one (the plan folder's twin files alone).
//
// Checked, each against the plan's own files read here:
// - GET /api/v1/scenarios names the files each folder holds, and each plan file is served as it is
//   on disk with its content type;
// - the day without a plan shows no plan marker and the page asks for no plan file;
// - the plan: as many markers in `plan-map` as plan.json has chosen items, their ranks and actions
//   those of plan.json; a marker's popup gives its action, points, kW and capex;
// - `plan-curve` draws a chart and lists every upgrade of upgrades.csv in rank order, with the capex
//   summed up to each rank (worked out here) and the benefit columns as the file has them;
// - `plan-shares-table` has a row per row of cost_shares.csv whose figures are the file's (as the
//   page rounds them), and says in words which jurisdictions pay more than alone; `plan-shares` has
//   its bar chart;
// - no console error, page error, failed request or answer >= 400; axe-core's WCAG 2.1 A and AA rules
//   pass on the view with the plan and a popup open; a screenshot is left in ARTIFACT_DIR;
// - the same folder opened from disk (the folder picker) shows the same plan, asking nothing of the hub.
//
// usage: test_plan_view.mjs ECORRIDOR SOURCE_DIR WEB_DIR ARTIFACT_DIR [PLAN_DIR]   (exit 77: skipped)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hub, createKey } from './lib/hub.mjs';
import { launch, Watch, MAP_HOOK } from './lib/browser.mjs';

const [EXE, SRC, WEB, ART, PLAN_ARG] = process.argv.slice(2);
if (!EXE || !SRC || !WEB || !ART) {
    console.log('usage: test_plan_view.mjs ECORRIDOR SOURCE_DIR WEB_DIR ARTIFACT_DIR [PLAN_DIR]');
    process.exit(2);
}
const PLAN = PLAN_ARG || path.join(SRC, 'tests', 'fixtures', 'plan_view');
const DEMO = path.join(SRC, 'data', 'demo', 'rhine_alpine');
const PLAN_FILES = ['plan.json', 'upgrades.csv', 'shared_vs_duplicated.csv', 'cost_shares.csv', 'resilience.csv', 'tco.csv'];
const DAY_FILES = ['summary.json', 'sites.csv', 'segments.geojson'];
const TYPES = { json: 'application/json', csv: 'text/csv; charset=utf-8', geojson: 'application/geo+json' };

let passed = 0, failed = 0;
function check(ok, what) {
    if (ok) passed++;
    else {
        failed++;
        console.log('FAIL: ' + what);
    }
    return ok;
}
function skip(why) {
    console.log('SKIP: ' + why);
    process.exit(77);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!fs.existsSync(path.join(WEB, 'index.html'))) skip(`the page is not built: ${WEB}/index.html is missing`);
for (const f of [...PLAN_FILES, ...DAY_FILES]) if (!fs.existsSync(path.join(PLAN, f))) check(false, `${PLAN} has no ${f}`);
if (failed) process.exit(1);
const { browser, why } = await launch();
if (!browser) skip(why);

// RFC 4180 as the plan writes it; the page has its own reader (web/src/app/csv.js), this is the test's.
function readCSV(file) {
    const text = fs.readFileSync(file, 'utf8');
    const rows = [];
    let row = [], field = '', q = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (q) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
            else if (c === '"') q = false;
            else field += c;
        } else if (c === '"') q = true;
        else if (c === ',') { row.push(field); field = ''; }
        else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
        else if (c !== '\r') field += c;
    }
    if (field || row.length) { row.push(field); rows.push(row); }
    const [head, ...body] = rows.filter((r) => r.length > 1 || r[0] !== '');
    return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}

// A number as the page writes it in en-GB (thousands with commas), read back.
const shownNum = (s) => Number(String(s).replace(/[,\s]/g, ''));
const round = (v, d) => Math.round(Number(v) * 10 ** d) / 10 ** d;

const plan = JSON.parse(fs.readFileSync(path.join(PLAN, 'plan.json'), 'utf8'));
const upgrades = readCSV(path.join(PLAN, 'upgrades.csv')).sort((a, b) => Number(a.rank) - Number(b.rank));
const shares = readCSV(path.join(PLAN, 'cost_shares.csv'));

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-planview-'));
fs.mkdirSync(ART, { recursive: true });
const SCEN = path.join(TMP, 'scenarios');
const PLAN_NAME = 'rhine-ruhr-plan', DAY_NAME = 'a-day-without-plan';
for (const [name, files] of [[PLAN_NAME, [...PLAN_FILES, ...DAY_FILES]], [DAY_NAME, DAY_FILES]]) {
    fs.mkdirSync(path.join(SCEN, name), { recursive: true });
    for (const f of files) fs.copyFileSync(path.join(PLAN, f), path.join(SCEN, name, f));
}

let hub = null;
async function api() {
    const k = (await createKey(EXE, path.join(TMP, 'hub.db'), 'fleet', 'weber-transporte')).key;
    const [s, list] = await hub.api('GET', '/api/v1/scenarios', undefined, k);
    const by = Object.fromEntries(((list && list.scenarios) || []).map((x) => [x.name, x]));
    check(s === 200 && by[PLAN_NAME] && by[DAY_NAME], `the list has both folders: ${s} ${JSON.stringify(list).slice(0, 300)}`);
    const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
    check(by[PLAN_NAME] && same(by[PLAN_NAME].files, [...DAY_FILES, ...PLAN_FILES]), `the plan's folder names its nine files: ${JSON.stringify(by[PLAN_NAME] && by[PLAN_NAME].files)}`);
    check(by[DAY_NAME] && same(by[DAY_NAME].files, DAY_FILES), `the day names its three: ${JSON.stringify(by[DAY_NAME] && by[DAY_NAME].files)}`);
    for (const f of PLAN_FILES) {
        const r = await fetch(`${hub.base}/api/v1/scenarios/${PLAN_NAME}/${f}`, { headers: { Authorization: 'Bearer ' + k } });
        const body = Buffer.from(await r.arrayBuffer());
        const want = fs.readFileSync(path.join(PLAN, f));
        const type = TYPES[f.split('.').pop()];
        check(r.status === 200 && r.headers.get('content-type') === type && body.equals(want),
            `${f}: 200 ${type}, as on disk (got ${r.status} ${r.headers.get('content-type')}, ${body.length} of ${want.length} bytes)`);
        const [s404] = await hub.api('GET', `/api/v1/scenarios/${DAY_NAME}/${f}`, undefined, k);
        check(s404 === 404, `${f} of a folder without it: 404, not ${s404}`);
    }
    return k;
}

let AXE = null;
async function audit(page, name) {
    AXE ??= fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js'), 'utf8');
    await page.evaluate(AXE);
    const r = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
    const bad = r.violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    check(bad.length === 0, `${name}: no WCAG 2.1 AA violation (axe-core): ${bad.join('; ')}`);
}

const markers = (page) => page.locator('[data-testid="plan-map"] [data-testid="plan-marker"]');

async function view(page, W, key) {
    await page.goto(hub.base + '/');
    await page.getByRole('button', { name: /key/i }).first().click();
    await page.getByTestId('key-input').fill(key);
    const who = page.waitForResponse((r) => r.url().endsWith('/api/v1/whoami'));
    await page.getByTestId('key-submit').click();
    await who;
    await page.evaluate(() => { location.hash = '#/planning'; });
    await page.locator('#plan-a').waitFor();
    await W.quiet();

    // The day without a plan first: no marker, no plan file asked for.
    await page.selectOption('#plan-a', DAY_NAME);
    await sleep(300);
    await W.quiet();
    check(await markers(page).count() === 0, 'the day without a plan has no plan marker');
    const asked = W.requests.filter((r) => PLAN_FILES.some((f) => r.url.endsWith('/' + f)));
    check(asked.length === 0, 'no plan file is asked for a day without one: ' + asked.map((r) => r.url));

    // The plan.
    await page.selectOption('#plan-a', PLAN_NAME);
    const n = plan.chosen.length;
    const got = await page.waitForFunction((want) => document.querySelectorAll('[data-testid="plan-map"] [data-testid="plan-marker"]').length === want, n, { timeout: 15000 })
        .then(() => true).catch(() => false);
    check(got, `plan-map shows ${n} markers, one for each chosen item of plan.json; it shows ${await markers(page).count()}`);
    await W.quiet();
    const drawn = await markers(page).evaluateAll((ms) => ms.map((m) => `${m.dataset.rank}/${m.dataset.action}/${m.dataset.siteId}`).sort());
    const want = plan.chosen.map((c) => `${c.rank}/${c.action}/${c.site_id}`).sort();
    check(JSON.stringify(drawn) === JSON.stringify(want), `the markers' ranks, actions and sites are plan.json's: ${drawn} against ${want}`);
    // Each marker is numbered by its rank.
    const numbers = await markers(page).evaluateAll((ms) => ms.every((m) => m.textContent.trim() === m.dataset.rank));
    check(numbers, 'each marker shows its rank');
    // Ranks agree with upgrades.csv: the chosen item of rank r is the r-th row's action and site.
    for (const c of plan.chosen) {
        const u = upgrades.find((r) => Number(r.rank) === c.rank);
        check(u && u.action === c.action && u.site_id === c.site_id, `rank ${c.rank} is ${c.action} at ${c.site_id} in both files`);
    }

    // A marker's popup: the first ranked one.
    const first = plan.chosen.reduce((a, b) => (a.rank <= b.rank ? a : b));
    const m = page.locator(`[data-testid="plan-marker"][data-rank="${first.rank}"]`);
    await page.evaluate(([lat, lon]) => { window.__ecTestMaps[0].setView([lat, lon], 11, { animate: false }); }, [first.lat, first.lon]);
    await m.click();
    const pop = page.locator('.leaflet-popup-content');
    await pop.waitFor({ timeout: 5000 }).catch(() => null);
    const ptext = (await pop.textContent().catch(() => '')) || '';
    const label = { new_site: 'new site', add_points: 'points added', grid_upgrade: 'grid upgraded' }[first.action];
    const fmt = (v) => Math.round(v).toLocaleString('en-GB');
    check(ptext.includes(label) && ptext.includes(`points${fmt(first.points)}`) && ptext.includes(`kW${fmt(first.kw)}`) && ptext.includes(`capex${fmt(first.capex)}`),
        `the popup of rank ${first.rank} gives its action, points, kW and capex: "${ptext}"`);

    // The upgrade curve: a chart, and every upgrade with the capex spent up to it.
    const curve = page.getByTestId('plan-curve');
    check(await curve.locator('canvas').count() > 0 && (await curve.locator('canvas').first().boundingBox() || { width: 0 }).width > 200, 'plan-curve draws a chart');
    const rows = await curve.locator('[data-testid="plan-curve-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    check(rows.length === upgrades.length, `the curve has ${upgrades.length} points (upgrades.csv's rows): ${rows.length}`);
    let spent = 0;
    upgrades.forEach((u, i) => {
        spent += Number(u.capex);
        const r = rows[i] || [];
        check(Number(r[0]) === Number(u.rank) && shownNum(r[3]) === Math.round(spent) &&
            shownNum(r[4]) === Math.round(Number(u.energy_served_kwh_per_day)) && shownNum(r[5]) === round(u.wait_h_saved_per_day, 1),
        `curve point ${i + 1}: rank ${u.rank}, capex ${Math.round(spent)}, ${u.energy_served_kwh_per_day} kWh/day, ${u.wait_h_saved_per_day} h/day; the page: ${r.join(' | ')}`);
    });

    // Who pays: the table's figures are cost_shares.csv's.
    const table = page.getByTestId('plan-shares-table');
    const trs = await table.locator('tbody tr').evaluateAll((t) => t.map((tr) => ({ id: tr.dataset.jurisdiction, cells: [...tr.children].map((c) => c.textContent) })));
    check(trs.length === shares.length, `plan-shares-table has ${shares.length} rows: ${trs.length}`);
    for (const s of shares) {
        const r = trs.find((x) => x.id === s.jurisdiction_id);
        if (!check(r, `a row for ${s.jurisdiction_id}`)) continue;
        const [, energy, use, shap, alone, flag] = r.cells;
        check(shownNum(energy) === Math.round(Number(s.energy_kwh)) && shownNum(use) === Math.round(Number(s.share_by_use)) &&
            shownNum(shap) === Math.round(Number(s.shapley)) && shownNum(alone) === Math.round(Number(s.standalone)),
        `${s.jurisdiction_id}: ${s.energy_kwh} kWh, ${s.share_by_use} by use, ${s.shapley} Shapley, ${s.standalone} alone; the page: ${r.cells.join(' | ')}`);
        const more = /^(1|true|yes)$/i.test(s.pays_more_than_alone);
        check(flag.trim() === (more ? 'yes' : 'no'), `${s.jurisdiction_id}: pays more than alone ${more}, said as "${flag}"`);
    }
    // And in words beneath: the jurisdictions that pay more than alone, each named once.
    const said = await page.getByTestId('plan-pays-more').evaluate((e) => [...e.querySelectorAll('li')].map((li) => [li.dataset.jurisdiction, li.textContent]));
    const more = shares.filter((s) => /^(1|true|yes)$/i.test(s.pays_more_than_alone)).map((s) => s.jurisdiction_id);
    check(JSON.stringify(said.map((x) => x[0]).sort()) === JSON.stringify(more.sort()) && said.every(([j, t]) => t.startsWith(j) && /more than it would alone/.test(t)),
        `plan-pays-more names ${more}: ${JSON.stringify(said)}`);
    check(shares.some((s) => /^(1|true|yes)$/i.test(s.pays_more_than_alone)) || PLAN_ARG, 'the fixture has a jurisdiction that pays more than alone');
    const bars = page.getByTestId('plan-shares');
    const legend = (await bars.locator('.u-legend').textContent().catch(() => '')) || '';
    check(await bars.locator('canvas').count() > 0 && /by use/.test(legend) && /Shapley/.test(legend) && /alone/.test(legend), `plan-shares draws its bars with a legend: "${legend}"`);

    await sleep(400); // the popup fades in
    await page.screenshot({ path: path.join(ART, 'planning-plan.png') });
    await curve.screenshot({ path: path.join(ART, 'planning-plan-curve.png') });
    await bars.screenshot({ path: path.join(ART, 'planning-plan-shares.png') });
    await audit(page, 'planning with a plan');
    // Back to the day: the plan leaves the map.
    await page.keyboard.press('Escape');
    await page.selectOption('#plan-a', DAY_NAME);
    await sleep(300);
    await W.quiet();
    check(await markers(page).count() === 0, 'the plan leaves the map with its folder');

    // The same plan opened from the reader's disk: read in the browser, nothing asked of the hub.
    const before = W.requests.length;
    await page.locator('#plan-folder').setInputFiles(path.join(SCEN, PLAN_NAME));
    const fromDisk = await page.waitForFunction((want) => document.querySelectorAll('[data-testid="plan-map"] [data-testid="plan-marker"]').length === want, n, { timeout: 15000 })
        .then(() => true).catch(() => false);
    check(fromDisk && (await page.locator('#plan-a').inputValue()) === `${PLAN_NAME} (disk)`,
        `the plan opened from disk shows its ${n} markers: ${await markers(page).count()}, on the map "${await page.locator('#plan-a').inputValue()}"`);
    const disk = await page.getByTestId('plan-shares-table').locator('tbody tr').count();
    check(disk === shares.length, `the plan from disk has its ${shares.length} jurisdictions: ${disk}`);
    const sent = W.requests.slice(before).filter((r) => r.url.includes('/api/v1/scenarios'));
    check(sent.length === 0, 'a folder from disk asks nothing of the hub: ' + sent.map((r) => r.url));
    check(W.problems.length === 0, 'a clean console and no failing request: ' + JSON.stringify(W.problems.map((p) => p.what)));
}

let code = 1;
try {
    hub = await new Hub(EXE, ['--db', path.join(TMP, 'hub.db'), '--region', DEMO, '--web', WEB, '--scenarios', SCEN], path.join(TMP, 'hub.log')).start();
    const key = await api();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    await context.addInitScript(MAP_HOOK);
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const W = new Watch(page);
    try {
        await view(page, W, key);
    } catch (e) {
        check(false, e.stack || String(e));
        await page.screenshot({ path: path.join(ART, 'planning-plan-failed.png') }).catch(() => null);
    }
    await context.close();
    code = failed ? 1 : 0;
} catch (e) {
    check(false, e.stack || String(e));
} finally {
    await browser.close().catch(() => null);
    if (hub) await hub.stop();
}
console.log(`${passed} passed, ${failed} failed; screenshot in ${ART}` + (failed ? `; logs in ${TMP}` : ''));
if (!failed) fs.rmSync(TMP, { recursive: true, force: true });
process.exit(failed ? 1 : code);
