// End to end, as a manager would see it, with JavaScript off: a lead and a
// complaint come in; the scorecard page shows every KPI as a tile with its
// status in words. A screenshot is saved beside the test's data for people
// to look at (RAPPORT_SCREENSHOTS=dir keeps it).
//
// Run by `make test-browser` (part of `make test`): node --test infra/local/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from './stack.mjs';

let stack, baseURL, browser;

before(async () => {
  stack = await startStack({ RAPPORT_CLOCK: '2026-03-02T09:00:00Z' });
  ({ baseURL, browser } = stack);
});

after(async () => { await stack?.stop(); });

test('a manager reads the week\'s scorecard page without JavaScript', async () => {
  const lead = new URLSearchParams({ name: 'Ada', email: 'ada@example.com', source: 'newsletter' });
  assert.equal((await fetch(baseURL + '/leads', { method: 'POST', body: lead })).status, 201);
  const complaint = new URLSearchParams({ email: 'grace@example.com', kind: 'complaint', message: 'Charged twice.' });
  assert.equal((await fetch(baseURL + '/tickets', { method: 'POST', body: complaint })).status, 201);
  stack.advance('1m'); // the events reach the kpis function

  const json = await (await fetch(baseURL + '/scorecard?period=day&at=2026-03-02', {
    headers: { Authorization: `Bearer ${stack.token('manager')}` },
  })).json();
  const kpis = json.perspectives.flatMap((p) => p.kpis);
  assert.ok(kpis.length >= 10, `the card lists the catalogue's KPIs, got ${kpis.length}`);

  const context = await browser.newContext({
    javaScriptEnabled: false,
    extraHTTPHeaders: { Authorization: `Bearer ${stack.token('manager')}`, Accept: 'text/html' },
  });
  const page = await context.newPage();
  const res = await page.goto(baseURL + '/scorecard?period=day&at=2026-03-02');
  assert.equal(res.status(), 200);
  const body = await page.textContent('body');
  for (const k of kpis) {
    assert.ok(body.includes(k.name), `the page has a tile for ${k.name}`);
  }
  assert.match(body, /green|amber|red|no data/i, 'statuses are written in words');
  assert.ok(await page.locator('svg').count() >= kpis.length, 'a trend line per KPI');
  const shot = join(stack.work, 'scorecard.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.RAPPORT_SCREENSHOTS) {
    mkdirSync(process.env.RAPPORT_SCREENSHOTS, { recursive: true });
    copyFileSync(shot, join(process.env.RAPPORT_SCREENSHOTS, 'scorecard.png'));
  }
  await context.close();
});
