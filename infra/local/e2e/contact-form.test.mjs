// End to end, as a visitor and an agent would see it: the local stack runs
// the real handlers; headless Chromium fills in the demo contact form (plain
// HTML, no JavaScript) and submits it twice; the agent's list shows one lead,
// and the bus saw exactly one lead.captured.
//
// Run by `make test-browser` (part of `make test`): node --test infra/local/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack } from './stack.mjs';

let stack, baseURL, browser;

before(async () => {
  stack = await startStack();
  ({ baseURL, browser } = stack);
});

after(async () => { await stack?.stop(); });

async function submitContactForm(page) {
  await page.goto(baseURL + '/');
  await page.fill('#name', 'Ada Lovelace');
  await page.fill('#email', 'ada@example.com');
  await page.fill('#company', 'Analytical Engines');
  await page.fill('#message', 'Please call me about the engine.');
  await page.check('input[name=consent]');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

test('a visitor submits the plain HTML form twice and sales sees one lead', async () => {
  const page = await browser.newPage();
  assert.equal(await page.isVisible('#website'), false, 'the honeypot must be hidden from people');

  await submitContactForm(page);
  assert.match(await page.textContent('h1'), /Thank you/);
  await page.screenshot({ path: join(stack.work, 'thanks.png') });

  await submitContactForm(page);
  assert.match(await page.textContent('h1'), /Thank you/, 'a second submission is thanked too');

  const token = stack.token('agent');
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token command prints a JWT and nothing else');
  const res = await fetch(baseURL + '/leads', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const { items } = await res.json();
  assert.equal(items.length, 1, 'the same person twice is one lead');
  assert.equal(items[0].email, 'ada@example.com');
  assert.equal(items[0].source, 'demo-form');
  assert.equal(items[0].consent, true);

  const detail = await (await fetch(`${baseURL}/leads/${items[0].id}`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(detail.timeline.filter((e) => e.kind === 'submission').length, 2, 'both submissions are on the timeline');

  // The write's event travels table → stream → relay → bus, once.
  await stack.waitForLog(/detail_type=lead\.captured/, 'the lead.captured event on the bus');
  assert.equal(stack.count('detail_type=lead\\.captured'), 1, `one lead.captured; log:\n${stack.log}`);

  const anonymous = await fetch(baseURL + '/leads');
  assert.equal(anonymous.status, 401, 'staff routes need a token');
});
