// End to end, as a customer would see it, with JavaScript off: they send
// the demo support form; the acknowledgement in the outbox carries the
// signed link to their ticket's page; the page shows the thread and takes
// their answer with a plain form; a tampered link gets the friendly page
// and shows nothing of the ticket.
//
// Run by `make test-browser` (part of `make test`): node --test infra/local/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';

let stack, baseURL, browser;

before(async () => {
  stack = await startStack();
  ({ baseURL, browser } = stack);
});

after(async () => { await stack?.stop(); });

// ticketLink waits for the acknowledgement mail and returns its page link.
async function ticketLink() {
  await stack.waitForLog(/detail_type=ticket\.opened/, 'the ticket.opened event on the bus');
  await stack.waitForLog(/ mail file=/, 'the acknowledgement in the outbox');
  const ack = stack.mails().find((m) => m.includes('grace@example.com') && /\/t\/[\w-]+/.test(m));
  assert.ok(ack, `the acknowledgement carries the ticket's link; outbox:\n${stack.mails().join('\n')}`);
  return ack.match(/https?:\/\/[^\s"<>]+\/t\/[\w-]+/)[0];
}

test('a customer reads their ticket and answers it without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(baseURL + '/support');
  await page.fill('#name', 'Grace Hopper');
  await page.fill('#email', 'grace@example.com');
  await page.selectOption('#kind', 'complaint');
  await page.fill('#subject', 'The invoice is wrong');
  await page.fill('#message', 'Invoice 42 charges me twice.');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('h1'), /Thank you/);

  const link = new URL(await ticketLink());
  await page.goto(baseURL + link.pathname);
  assert.match(await page.textContent('body'), /The invoice is wrong/);
  assert.match(await page.textContent('body'), /Invoice 42 charges me twice\./);

  await page.fill('textarea[name=message]', 'It is invoice 42 of November.');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('body'), /It is invoice 42 of November\./, 'the answer is on the thread');
  assert.equal(await page.locator('label[for]').count() >= 1, true, 'the answer box has a label');

  // The agent sees the customer's answer on the ticket.
  const token = stack.token('agent');
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  const { items } = await (await fetch(baseURL + '/tickets', auth)).json();
  assert.equal(items.length, 1, 'one ticket');
  assert.equal(items[0].kind, 'complaint');
  const detail = await (await fetch(`${baseURL}/tickets/${items[0].id}`, auth)).json();
  assert.equal(detail.timeline.filter((e) => e.kind === 'message').length, 2, 'the opening message and the answer');

  // One character changed in the signature: the friendly page, nothing of the ticket.
  const tampered = link.pathname.slice(0, -1) + (link.pathname.endsWith('A') ? 'B' : 'A');
  const res = await page.goto(baseURL + tampered);
  assert.equal(res.status(), 404);
  const body = await page.textContent('body');
  assert.doesNotMatch(body, /invoice|Grace/i, 'a forged link reveals nothing');
  await context.close();
});
