// End to end, as a customer would see it, with JavaScript off, on the
// stack's movable clock: their ticket is solved; an hour later the survey
// invitation is in the outbox; they follow a one-click link, which records
// nothing, and submit the page; the manager's results count the answer
// once and the bus sees survey.responded once.
//
// Run by `make test-browser` (part of `make test`): node --test infra/local/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';

let stack, baseURL, browser;

before(async () => {
  stack = await startStack({ RAPPORT_CLOCK: '2026-03-02T09:00:00Z' });
  ({ baseURL, browser } = stack);
});

after(async () => { await stack?.stop(); });

const csatResults = async (manager) => {
  const res = await fetch(`${baseURL}/surveys/results?question=csat&period=2026-W10`, { headers: { Authorization: `Bearer ${manager}` } });
  assert.equal(res.status, 200);
  return res.json();
};

test('a customer answers the survey after their ticket with one click and a submit', async () => {
  const form = new URLSearchParams({ name: 'Grace Hopper', email: 'grace@example.com', subject: 'Invoice 42', message: 'Charged twice.' });
  assert.equal((await fetch(baseURL + '/tickets', { method: 'POST', body: form })).status, 201);
  const agent = { Authorization: `Bearer ${stack.token('agent')}` };
  const { items } = await (await fetch(baseURL + '/tickets', { headers: agent })).json();
  const reply = await fetch(`${baseURL}/tickets/${items[0].id}/replies`, {
    method: 'POST', headers: { ...agent, 'Content-Type': 'application/json' },
    body: JSON.stringify({ body: 'Refunded today, sorry.', public: true, status: 'solved' }),
  });
  assert.equal(reply.status, 201);

  stack.advance('61m');
  const invitation = stack.mails().find((m) => /\/s\/[\w-]+\?score=5/.test(m));
  assert.ok(invitation, `the survey invitation is in the outbox an hour after the solve; outbox:\n${stack.mails().join('\n')}`);
  assert.doesNotMatch(invitation, /<img/i, 'no tracking pixel, no remote images');
  const oneClick = new URL(invitation.match(/https?:\/\/[^\s"<>]+\/s\/[\w-]+\?score=5/)[0]);

  const manager = stack.token('manager');
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(baseURL + oneClick.pathname + oneClick.search);
  assert.equal(await page.isChecked('input[type=radio][value="5"]'), true, 'the clicked score is chosen');
  assert.equal((await csatResults(manager)).answers, 0, 'opening the link records nothing');

  await page.fill('textarea', 'Quick and kind.');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('body'), /thank you/i);

  stack.advance('1m');
  const results = await csatResults(manager);
  assert.equal(results.answers, 1);
  assert.equal(results.score, 100);
  assert.equal(stack.count('detail_type=survey\\.responded'), 1, `one survey.responded on the bus; log:\n${stack.log}`);

  // A second submit from the same page is answered "already answered" and counted once.
  await page.goto(baseURL + oneClick.pathname);
  assert.match(await page.textContent('body'), /already|thank you/i);
  assert.equal((await csatResults(manager)).answers, 1);
  await context.close();
});
