#!/usr/bin/env node
// The dashboard's first view, timed in Debian's chromium: for each database given, a hub serving the
// page, then RUNS loads of `/` in a new browser context each (a first visit: nothing cached), each
// timed from navigation to the first frame in which `site-count` shows the API's count and the
// markers or clusters are drawn. Beside it, in the same run: the bare GET /api/v1/map/sites (Node's
// fetch, the whole body read) and the size of the page's files. One JSON object per line.
//
// usage: measure.mjs ECORRIDOR WEB_DIR REGION_DIR RUNS NAME=DB [NAME=DB...]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Hub } from '../../tests/web/lib/hub.mjs';
import { launch } from '../../tests/web/lib/browser.mjs';

const [EXE, WEB, REGION, RUNS_ARG, ...DBS] = process.argv.slice(2);
const RUNS = Number(RUNS_ARG);
if (!EXE || !WEB || !REGION || !(RUNS >= 1 && RUNS <= 50) || DBS.length === 0) {
    console.error('usage: measure.mjs ECORRIDOR WEB_DIR REGION_DIR RUNS(1-50) NAME=DB [NAME=DB...]');
    process.exit(2);
}

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;
// The median of the loads that had the figure (a request not done by the first view has none).
const medianOf = (views, k) => {
    const xs = views.map((v) => v[k]).filter((x) => typeof x === 'number' && x > 0);
    return xs.length ? r1(median(xs)) : null;
};

// Bytes of every file under dir, as served and gzip'd (level 9, each file alone, as a server would).
function bundle(dir) {
    const out = { files: 0, bytes: 0, gzip_bytes: 0, app_bytes: 0, app_gzip_bytes: 0, vendor_bytes: 0, vendor_gzip_bytes: 0 };
    const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) {
                const b = fs.readFileSync(p);
                const g = zlib.gzipSync(b, { level: 9 }).length;
                const part = path.relative(dir, p).startsWith('vendor' + path.sep) ? 'vendor' : 'app';
                out.files++;
                out.bytes += b.length;
                out.gzip_bytes += g;
                out[part + '_bytes'] += b.length;
                out[part + '_gzip_bytes'] += g;
            }
        }
    };
    walk(dir);
    return out;
}

async function firstView(browser, base, expected) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base + '/', { waitUntil: 'commit' });
    // performance.now() counts from the navigation's start, in the page's own clock.
    const h = await page.waitForFunction((n) => {
        const e = document.querySelector('[data-testid="site-count"]');
        const drawn = document.querySelectorAll('[data-testid="site-marker"], .marker-cluster, .site-cluster').length;
        return e && Number(e.textContent.replace(/[^\d]/g, '')) === n && drawn > 0 ? performance.now() : false;
    }, expected, { polling: 'raf', timeout: 60000 });
    const ms = await h.jsonValue();
    const detail = await page.evaluate(() => {
        const res = performance.getEntriesByType('resource');
        const entry = (p) => res.find((x) => new URL(x.name).pathname === p) || {};
        const end = (p) => entry(p).responseEnd ?? null;
        const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
        return {
            fcp_ms: fcp ? fcp.startTime : null,
            map_sites_start_ms: entry('/api/v1/map/sites').requestStart ?? null,
            map_sites_done_ms: end('/api/v1/map/sites'),
            whoami_done_ms: end('/api/v1/whoami'),
            network_done_ms: end('/api/v1/map/network'),
            dom_elements: document.getElementsByTagName('*').length,
            markers_drawn: document.querySelectorAll('.leaflet-marker-icon').length,
        };
    });
    await context.close();
    return { ms, ...detail, errors };
}

async function main() {
    const { browser, why } = await launch();
    if (!browser) {
        console.error('measure.mjs: ' + why);
        process.exit(1);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-bench-dashboard-'));
    console.log(JSON.stringify({ bench: 'dashboard_bundle', dir: WEB, ...bundle(WEB) }));
    try {
        for (const spec of DBS) {
            const [name, db] = spec.split('=');
            const hub = await new Hub(EXE, ['--db', db, '--region', REGION, '--web', WEB], path.join(tmp, name + '.log')).start();
            try {
                const [s, body] = await hub.api('GET', '/api/v1/map/sites');
                if (s !== 200) throw new Error(`GET /api/v1/map/sites: ${s}`);
                const fetches = [];
                let bytes = 0;
                for (let i = 0; i < RUNS; i++) {
                    const t = performance.now();
                    const r = await fetch(hub.base + '/api/v1/map/sites');
                    bytes = (await r.arrayBuffer()).byteLength;
                    fetches.push(performance.now() - t);
                }
                const views = [];
                for (let i = 0; i < RUNS; i++) views.push(await firstView(browser, hub.base, body.count));
                console.log(JSON.stringify({
                    bench: 'dashboard_first_view', sites: body.count, name, runs: RUNS,
                    first_view_ms: views.map((v) => r1(v.ms)), first_view_median_ms: r1(median(views.map((v) => v.ms))),
                    map_sites_fetch_ms: fetches.map(r1), map_sites_fetch_median_ms: r1(median(fetches)), map_sites_bytes: bytes,
                    in_page_whoami_done_median_ms: medianOf(views, 'whoami_done_ms'),
                    in_page_map_sites_start_median_ms: medianOf(views, 'map_sites_start_ms'),
                    in_page_map_sites_done_median_ms: medianOf(views, 'map_sites_done_ms'),
                    in_page_network_done_median_ms: medianOf(views, 'network_done_ms'),
                    fcp_median_ms: medianOf(views, 'fcp_ms'),
                    markers_drawn: views[0].markers_drawn, dom_elements: views[0].dom_elements,
                    console_errors: views.flatMap((v) => v.errors).slice(0, 5),
                }));
            } finally {
                await hub.stop();
            }
        }
    } finally {
        await browser.close();
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

await main();
