// The user guide's pictures of the dashboard: one screenshot of each view of a running hub, at
// 1366x768, in Debian's chromium driven by playwright-core (tests/web's, as its lockfile pins it).
//   node scripts/dashboard-screenshots.mjs URL ADMIN_KEY OUTDIR [SUBSTATION]
// e.g. against ./scripts/demo after it has run a few minutes (so that the grid and the figures
// have something to show): node scripts/dashboard-screenshots.mjs http://127.0.0.1:8080 "$(cat
// build/demo.db.key)" docs/images sub-frankfurt-ost
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../tests/web/package.json'));
const { chromium } = require('playwright-core');
const [url, key, out, substation] = process.argv.slice(2);
if (!url || !key || !out) {
  console.error('usage: node scripts/dashboard-screenshots.mjs URL ADMIN_KEY OUTDIR [SUBSTATION]');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('console:', m.text());
  });
  const shot = async (name) => {
    await page.waitForTimeout(1200); // clusters and charts settle
    await page.screenshot({ path: path.join(out, `dashboard-${name}.png`) });
    console.log(path.join(out, `dashboard-${name}.png`));
  };
  await page.goto(url + '/');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="site-count"]').textContent) > 0);
  await shot('map');
  await page.click('#key-open');
  await page.getByTestId('key-input').fill(key);
  await page.getByTestId('key-submit').click();
  await page.waitForFunction(() => document.querySelectorAll('#nav a').length > 2);
  await page.goto(url + '/#/jurisdictions');
  await page.waitForSelector('[data-testid="kpi-table"] tr[data-jurisdiction]');
  await shot('jurisdictions');
  await page.goto(url + '/#/grid');
  await page.waitForSelector('#grid-substation');
  if (substation) await page.selectOption('#grid-substation', substation);
  await page.waitForSelector('#grid-out canvas');
  // The last hour: a hub started a few minutes ago has only those minutes to show.
  await page.selectOption('#grid-hours', '1');
  await page.waitForTimeout(500);
  await page.waitForSelector('#grid-out canvas');
  await shot('grid');
  await page.goto(url + '/#/dispatch');
  await page.getByTestId('route-from').fill('Rotterdam');
  await page.getByTestId('route-to').fill('Basel');
  await page.getByTestId('route-submit').click();
  await page.waitForSelector('[data-testid="route-stop"]', { timeout: 30000 });
  await shot('dispatch');
  await page.goto(url + '/#/planning');
  await page.waitForSelector('[data-testid="scenario-compare"]', { timeout: 30000 });
  await shot('planning');
} finally {
  await browser.close();
}
