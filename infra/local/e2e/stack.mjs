// The local stack and headless Chromium as the browser tests use them: one
// stack per test file, built from the repository, on a free port, with its
// data in a temporary folder; waits are on what the stack says, never
// sleeps.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// startStack builds and starts rapport-local and launches Chromium; env
// adds variables, such as RAPPORT_CLOCK to freeze its clock. The returned
// object's stop() ends both and removes the data.
export async function startStack(env = {}) {
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: run make test-browser, which installs it`);
  const work = mkdtempSync(join(tmpdir(), 'rapport-e2e-'));
  const bin = join(work, 'rapport-local');
  const data = join(work, 'data');
  execFileSync('go', ['build', '-o', bin, './infra/local/cmd/rapport-local'], { cwd: root, stdio: 'inherit' });
  const proc = spawn(bin, ['-data', data], {
    cwd: root,
    env: { ...process.env, PORT: '0', AWS_ENDPOINT_URL_DYNAMODB: '', RAPPORT_DEMO: '0', ...env }, // no demo data: each test makes its own
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s = { work, bin, data, outbox: join(data, 'outbox'), log: '', waiters: new Set() };
  for (const out of [proc.stdout, proc.stderr]) {
    out.setEncoding('utf8');
    out.on('data', (chunk) => { s.log += chunk; for (const w of [...s.waiters]) w(); });
  }
  proc.on('exit', (code) => { s.log += `\n[rapport-local exited ${code}]\n`; for (const w of [...s.waiters]) w(); });

  // waitForLog resolves once the stack's log matches re.
  s.waitForLog = (re, what, ms = 60_000) => new Promise((resolve, reject) => {
    const check = () => {
      const m = s.log.match(re);
      if (m) { clearTimeout(timer); s.waiters.delete(check); resolve(m); }
    };
    const timer = setTimeout(() => { s.waiters.delete(check); reject(new Error(`timed out waiting for ${what}; log:\n${s.log}`)); }, ms);
    s.waiters.add(check);
    check();
  });
  s.count = (re) => (s.log.match(new RegExp(re, 'g')) || []).length;
  s.token = (role) => execFileSync(bin, ['token', '-role', role, '-data', data, '-url', s.baseURL], { encoding: 'utf8' }).trim();
  // advance moves a frozen clock on, as make -s clock ADVANCE=… does, and
  // returns once everything that fell due has been handled.
  s.advance = (d) => execFileSync(bin, ['clock', '-advance', d, '-url', s.baseURL], { encoding: 'utf8' }).trim();
  // mails returns the outbox's messages, oldest first, decoded from
  // quoted-printable as a mail reader would show them.
  s.mails = () => (existsSync(s.outbox) ? readdirSync(s.outbox).filter((f) => f.endsWith('.eml')).sort() : [])
    .map((f) => readFileSync(join(s.outbox, f), 'utf8')
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));

  [, s.baseURL] = await s.waitForLog(/Rapport is running at (http:\/\/127\.0\.0\.1:\d+)/, 'the stack to start');
  s.browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });

  s.stop = async () => {
    await s.browser?.close();
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 0, `Ctrl-C should stop the stack cleanly; log:\n${s.log}`);
    }
    rmSync(work, { recursive: true, force: true });
  };
  return s;
}
