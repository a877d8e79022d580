// Shared pieces of the browser tests: finding chromium and baton, starting `baton serve` and
// the browser, and stopping them.

import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
export const screenshots = join(here, 'screenshots');
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function fail(message) {
  console.error(`e2e: FAILED: ${message}`);
  process.exitCode = 1;
}

export function findChromium() {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}

export function findBaton() {
  if (process.env.BATON_BIN) return existsSync(process.env.BATON_BIN) ? process.env.BATON_BIN : undefined;
  const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  const found = ['debug', 'release']
    .map((profile) => join(target, profile, 'baton'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return found[0];
}

export function freePort() {
  return new Promise((ok, err) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', err);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Starts `baton serve` on a free port with a new data dir; resolves with its URL and owner. */
export async function startBaton(bin, dataDir) {
  const port = await freePort();
  const child = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--no-rate-limits'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let out = '';
  let errText = '';
  child.stderr.on('data', (d) => (errText += d));
  const owner = await new Promise((ok, no) => {
    const timer = setTimeout(() => no(new Error(`baton serve did not start in 60 s:\n${out}\n${errText}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^\s*owner:\s+(\S+) \/ (\S+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ email: m[1], password: m[2] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      no(new Error(`baton serve exited with ${code}:\n${out}\n${errText}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, owner };
}

/** A request from the signed-in page, with its session and CSRF token. */
export function call(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const headers = { 'x-csrf-token': sessionStorage.getItem('baton.csrf') ?? '' };
      if (b !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(p, { method: m, headers, body: b === undefined ? undefined : JSON.stringify(b) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, body],
  );
}

/** Signs in through the login page and waits for the flows list. */
export async function signIn(page, url, email, password) {
  await page.goto(`${url}/app/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Flows' }).waitFor();
}

/** A one-page site on another origin ("localhost" vs the API's "127.0.0.1"): `html` at `/`. */
export async function serveOtherOrigin(html) {
  const port = await freePort();
  const srv = createHttpServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => srv.listen(port, '127.0.0.1', ok));
  return { srv, url: `http://localhost:${port}/` };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}


/**
 * Starts `baton serve` on a new data dir and chromium. Resolves with `{ server, browser, dataDir }`,
 * or with null when the test cannot run: without chromium it is skipped, except in CI, where it
 * fails (and so does a missing baton binary or one built without the web app).
 */
export async function launch(label) {
  const chromiumPath = findChromium();
  if (!chromiumPath) {
    const message = 'chromium is missing (apt-get install -y chromium, or set CHROMIUM_PATH)';
    if (inCI) fail(message);
    else console.log(`${label}: SKIPPED: ${message}`);
    return null;
  }
  const bin = findBaton();
  if (!bin) {
    fail('no baton binary: run `cargo build -p baton` first (or set BATON_BIN)');
    return null;
  }
  mkdirSync(screenshots, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-e2e-'));
  const server = await startBaton(bin, dataDir);
  console.log(`${label}: ${bin} at ${server.url}; chromium ${chromiumPath}`);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
  const run = { server, browser, dataDir };
  const home = await fetch(`${server.url}/app/`).then((r) => r.text());
  if (home.includes('not built')) {
    fail('this baton binary was compiled without web/dist: run `npm run build` in web/, then `cargo build -p baton`');
    await shutDown(run);
    return null;
  }
  return run;
}

/** Takes a screenshot of every open page, named `<prefix>-<n>.png` (after a failure). */
export async function screenshotAll(browser, prefix) {
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    for (const [i, p] of pages.entries()) await p.screenshot({ path: join(screenshots, `${prefix}-${i}.png`) });
  } catch {
    // no screenshot
  }
}

/** Collects a page's errors, console errors and dialogs (a dialog would be a script running). */
export function watch(page, problems, label) {
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label}: console error: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`${label}: a dialog fired: ${d.message()}`);
    void d.dismiss();
  });
}

/** Closes the browser, stops the server and removes its data. */
export async function shutDown({ server, browser, dataDir }) {
  await browser.close().catch(() => undefined);
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dataDir, { recursive: true, force: true });
}
