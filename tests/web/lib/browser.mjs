// Debian's chromium driven through playwright-core (which brings no browser of its own), and what
// the dashboard's test watches in it: console errors, page errors, failed requests, answers >= 400,
// and every request the page makes (so that a role's view can be shown to ask nothing private).

import fs from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The browser, or the reason there is none (the caller skips with it).
export async function launch() {
    let chromium;
    try {
        ({ chromium } = await import('playwright-core'));
    } catch (e) {
        return { why: 'playwright-core is not installed (scripts/test runs npm ci in tests/web)' };
    }
    if (!fs.existsSync(CHROMIUM)) return { why: `${CHROMIUM} is missing (scripts/bootstrap installs Debian's chromium)` };
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    return { browser };
}

// The Leaflet map the page makes is kept where the test can move it: Leaflet (a classic script)
// assigns window.L once, and an init hook then records each map as it is created. Only Leaflet's
// own API is used, none of the page's code.
export const MAP_HOOK = `(() => {
    let real;
    Object.defineProperty(window, 'L', {
        configurable: true,
        get() { return real; },
        set(v) {
            real = v;
            try {
                if (v && v.Map && v.Map.addInitHook && !v.__ecTestHooked) {
                    v.__ecTestHooked = true;
                    v.Map.addInitHook(function () { (window.__ecTestMaps = window.__ecTestMaps || []).push(this); });
                }
            } catch (e) { /* the page then runs without the hook */ }
        },
    });
})();`;

// Problems and requests of one page, each tagged with the phase the test is in (its role).
export class Watch {
    constructor(page) {
        this.page = page;
        this.phase = 'start';
        this.problems = []; // {phase, what}
        this.requests = []; // {phase, method, url, postData}
        this.inflight = new Set();
        page.on('console', (m) => {
            if (m.type() === 'error') this.problems.push({ phase: this.phase, what: 'console error: ' + m.text() });
        });
        page.on('pageerror', (e) => this.problems.push({ phase: this.phase, what: 'page error: ' + e.message }));
        page.on('request', (r) => {
            this.requests.push({ phase: this.phase, method: r.method(), url: r.url(), postData: r.postData() });
            if (!isStream(r.url())) this.inflight.add(r);
        });
        page.on('requestfinished', (r) => this.inflight.delete(r));
        page.on('requestfailed', (r) => {
            this.inflight.delete(r);
            // A request cut short by a navigation or reload (the event stream always is), or by the
            // page itself when what it asked for is no longer wanted, is not a failure: the reader
            // sees no error and the console stays clean.
            const err = (r.failure() || {}).errorText || '';
            if (/ERR_ABORTED/.test(err)) return;
            this.problems.push({ phase: this.phase, what: `request failed: ${r.method()} ${r.url()} ${err}` });
        });
        page.on('response', (r) => {
            if (r.status() >= 400) this.problems.push({ phase: this.phase, what: `${r.status()} for ${r.request().method()} ${r.url()}` });
        });
    }

    problemsOf(phase) {
        return this.problems.filter((p) => p.phase === phase).map((p) => p.what);
    }

    requestsOf(phase) {
        return this.requests.filter((r) => r.phase === phase);
    }

    // Until no request but the event stream has been open for quietMs (the stream never ends, so
    // Playwright's own "networkidle" never comes).
    async quiet(quietMs = 300, timeoutMs = 15000) {
        const end = Date.now() + timeoutMs;
        let since = Date.now();
        while (Date.now() < end) {
            if (this.inflight.size) since = Date.now();
            else if (Date.now() - since >= quietMs) return true;
            await new Promise((r) => setTimeout(r, 50));
        }
        return false;
    }
}

function isStream(url) {
    return new URL(url).pathname === '/api/v1/events';
}
