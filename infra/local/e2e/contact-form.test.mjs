// End to end, as a visitor and an agent would see it: the local stack runs
// the real handlers; headless Chromium fills in the demo contact form (plain
// HTML, no JavaScript) and submits it twice; the agent's list shows one lead,
// and the bus saw exactly one lead.captured.
//
// Run by `make test-browser` (part of `make test`): node --test infra/local/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'rapport-e2e-'));
const bin = join(work, 'rapport-local');
const data = join(work, 'data');

let stack, baseURL, browser, log = '';
const waiters = new Set();

// waitForLog resolves once the stack's log matches re: a condition on what
// the stack says, not a sleep.
function waitForLog(re, what, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = log.match(re);
      if (m) { clearTimeout(timer); waiters.delete(check); resolve(m); }
    };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}; log:\n${log}`)); }, ms);
    waiters.add(check);
    check();
  });
}

function count(re) { return (log.match(new RegExp(re, 'g')) || []).length; }

before(async () => {
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: run make test-browser, which installs it`);
  execFileSync('go', ['build', '-o', bin, './infra/local/cmd/rapport-local'], { cwd: root, stdio: 'inherit' });
  stack = spawn(bin, ['-data', data], {
    cwd: root,
    env: { ...process.env, PORT: '0', AWS_ENDPOINT_URL_DYNAMODB: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [stack.stdout, stack.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (chunk) => { log += chunk; for (const w of [...waiters]) w(); });
  }
  stack.on('exit', (code) => { log += `\n[rapport-local exited ${code}]\n`; for (const w of [...waiters]) w(); });
  [, baseURL] = await waitForLog(/Rapport is running at (http:\/\/127\.0\.0\.1:\d+)/, 'the stack to start');
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  if (stack && stack.exitCode === null) {
    const exited = new Promise((resolve) => stack.once('exit', resolve));
    stack.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 0, `Ctrl-C should stop the stack cleanly; log:\n${log}`);
  }
  rmSync(work, { recursive: true, force: true });
});

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
  await page.screenshot({ path: join(work, 'thanks.png') });

  await submitContactForm(page);
  assert.match(await page.textContent('h1'), /Thank you/, 'a second submission is thanked too');

  const token = execFileSync(bin, ['token', '-role', 'agent', '-data', data], { encoding: 'utf8' }).trim();
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
  await waitForLog(/detail_type=lead\.captured/, 'the lead.captured event on the bus');
  assert.equal(count('detail_type=lead\\.captured'), 1, `one lead.captured; log:\n${log}`);

  const anonymous = await fetch(baseURL + '/leads');
  assert.equal(anonymous.status, 401, 'staff routes need a token');
});
