// Shared pieces of the browser tests: finding chromium and baton, starting `baton serve`.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

