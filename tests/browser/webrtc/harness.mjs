// What the WebRTC browser tests share: the example server, coturn and Chromium as processes of this test,
// started on ports the kernel picks, waited for with deadlines, and stopped by PID. The tests run inside a
// network namespace that has only loopback (run_in_netns.sh), so nothing here can reach another interface.
//
// Environment (set by tests/browser/webrtc/CMakeLists.txt):
//   SWITCHBOARD_WEBRTC        the switchboard-webrtc binary
//   SWITCHBOARD_NPM_PREFIX    the directory where `npm ci` installed tests/browser/package.json (playwright-core)

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';

const require = createRequire(path.join(process.env.SWITCHBOARD_NPM_PREFIX ?? '.', 'package.json'));
const { chromium } = require('playwright-core');

// Launch flags from issue #8. No --disable-features: it would replace Playwright's own list.
const chromium_args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection'];

const cleanups = [];
let failed = false;

async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch (e) { console.error('cleanup:', e); }
  }
}

/// Runs one test: body(assert), then stops everything it started, last first (browser, coturn, server), and
/// exits 0 or 1. A watchdog fails the test before ctest's timeout would kill us and orphan the children.
export async function run(name, body, ms = 90000) {
  const watchdog = setTimeout(async () => {
    console.error(`not ok - ${name}: no result after ${ms} ms`);
    failed = true;
    await cleanup();
    process.exit(1);
  }, ms);
  try {
    await body(assert);
    console.log(`ok - ${name}`);
  } catch (e) {
    failed = true;
    console.error(`not ok - ${name}`);
    console.error(e);
  }
  clearTimeout(watchdog);
  await cleanup();
  process.exit(failed ? 1 : 0);
}

/// Polls `condition` (sync or async) until it returns a truthy value, which it returns; throws after `ms`.
export async function wait_for(what, condition, ms = 15000, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

export function temp_dir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-webrtc-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A port the kernel picked (bound and released: inside the namespace nobody else takes it meanwhile).
export function free_udp_port() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Spawns a process, keeps its output for failure reports, and registers its stop (by PID).
function start_process(name, file, args, env) {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, output: '', exited: false };
  child.stdout.on('data', (d) => { proc.output += d; });
  child.stderr.on('data', (d) => { proc.output += d; });
  child.on('exit', () => { proc.exited = true; });
  cleanups.push(async () => {
    if (!proc.exited) process.kill(child.pid, 'SIGTERM');
    try {
      await wait_for(`${name} (pid ${child.pid}) to stop`, () => proc.exited, 5000);
    } catch {
      process.kill(child.pid, 'SIGKILL');
    }
    if (failed) console.error(`--- ${name} output\n${proc.output}`);
  });
  return proc;
}

/// Starts switchboard-webrtc on a kernel-picked port; returns its origin ("http://127.0.0.1:PORT").
export async function start_server(args = [], env = {}) {
  const proc = start_process('switchboard-webrtc', process.env.SWITCHBOARD_WEBRTC,
    ['--listen', '127.0.0.1:0', ...args], env);
  const match = await wait_for('the server to listen', () => {
    if (proc.exited) throw new Error(`switchboard-webrtc exited:\n${proc.output}`);
    return proc.output.match(/listening on 127\.0\.0\.1:(\d+)/);
  }, 10000);
  return `http://127.0.0.1:${match[1]}`;
}

// One STUN Binding request (RFC 5389: type 0x0001, length 0, magic cookie, transaction id); true on a success
// answer (0x0101) with our transaction id.
function stun_binding(port, ms) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const id = crypto.randomBytes(12);
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
    const done = (ok) => { clearTimeout(timer); s.close(); resolve(ok); };
    const timer = setTimeout(() => done(false), ms);
    s.on('error', () => done(false));
    s.on('message', (m) => done(m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(id)));
    s.send(request, port, '127.0.0.1');
  });
}

/// Starts coturn on 127.0.0.1 with the use-auth-secret scheme; returns its port once it answers STUN.
export async function start_coturn(secret) {
  const dir = temp_dir();
  const port = await free_udp_port();
  const proc = start_process('turnserver', '/usr/bin/turnserver', [
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--allow-loopback-peers', '--no-multicast-peers', '--no-cli', '--no-tls', '--no-dtls',
    `--userdb=${path.join(dir, 'turndb')}`, '--use-auth-secret', `--static-auth-secret=${secret}`,
    '--realm=switchboard.test', `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    `--log-file=${path.join(dir, 'turnserver.log')}`, '--simple-log', '--no-stdout-log']);
  cleanups.push(async () => {
    if (failed) {
      try { console.error(`--- coturn log\n${fs.readFileSync(path.join(dir, 'turnserver.log'), 'utf8')}`); } catch {}
    }
  });
  await wait_for('coturn to answer STUN', async () => {
    if (proc.exited) throw new Error(`turnserver exited:\n${proc.output}`);
    return stun_binding(port, 200);
  }, 10000, 0);
  return port;
}

/// Chromium with a fresh profile; returns a function that opens a page of `origin` in its own context
/// (a second user), with the camera and microphone granted so host candidates are not hidden behind mDNS.
export async function start_browser(origin) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromium_args });
  cleanups.push(() => browser.close());
  return async function open_page() {
    const context = await browser.newContext();
    await context.grantPermissions(['microphone', 'camera'], { origin });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error(`page: ${m.text()}`); });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    // On failure, what the page saw and the state of each of its peer connections (before the browser closes).
    cleanups.push(async () => {
      if (!failed || page.isClosed()) return;
      const seen = await page.evaluate(() => ({ id: window.demo.my_id, events: window.demo.events,
                                                 peers: window.demo.peers() }));
      console.error(`--- page of peer ${seen.id}\n${seen.events.join('\n')}\n${JSON.stringify(seen.peers)}`);
    });
    await page.goto(`${origin}/`);
    return page;
  };
}

/// Waits until both pages see each other with an open data channel; returns [peer of a, peer of b].
export async function connect_pair(a, b, room, options = {}) {
  await a.evaluate(([r, o]) => window.demo.join(r, o), [room, options]);
  await b.evaluate(([r, o]) => window.demo.join(r, o), [room, options]);
  const open = (page) => wait_for('the data channel to open', () => page.evaluate(() => {
    const p = window.demo.peer();
    return p && p.channel === 'open' ? p : null;
  }), 20000, 100);
  return Promise.all([open(a), open(b)]);
}

/// Sends a chat line from a to b and a random file of `size` bytes; checks both arrive intact.
export async function exchange(a, b, size = 300 * 1024) {
  await a.evaluate(() => window.demo.send_chat('hello over the data channel'));
  await wait_for('the chat line', () => b.evaluate(() => window.demo.events.some((e) => e.endsWith(': hello over the data channel'))));

  const sent = await a.evaluate(async (n) => {
    const bytes = new Uint8Array(n);
    for (let at = 0; at < n; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, n)));
    return window.demo.send_file(new File([bytes], 'random.bin'));
  }, size);
  assert.equal(sent.size, size);
  assert.equal(sent.peers, 1);
  const received = await wait_for('the file', () => b.evaluate(() => window.demo.received_files[0]), 20000, 100);
  assert.deepEqual({ size: received.size, sha256: received.sha256, ok: received.ok },
    { size, sha256: sent.sha256, ok: true });
}
