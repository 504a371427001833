// What every browser test shares: starting a switchboard process on a kernel-chosen port (and stopping it by its
// PID), launching Debian's chromium through playwright-core with a fresh profile, and bounded waits.
// No fixed sleeps: every wait is for a condition, with a deadline.

import { spawn } from 'node:child_process';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SWITCHBOARD_CHROMIUM_PATH || '/usr/bin/chromium';

// The flags the tests run chromium with: headless, no sandbox (containers), nothing that talks to the network
// on its own. Add to them with launchBrowser({args}); never add --disable-features (it replaces Playwright's).
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';

const started = new Set();  // child processes still running, stopped by PID if a test leaves one behind
const cleanups = [];        // run after the test file, last first: browsers closed, servers stopped
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});
process.on('exit', () => {
  for (const child of started) {
    try { process.kill(child.pid, 'SIGKILL'); } catch (_) { /* gone */ }
  }
});

/**
 * Starts a server binary that logs "listening on HOST:PORT" and resolves once it does.
 * `args` must make it listen on port 0 (or a port given for a restart).
 * Returns {port, origin, pid, output(), stop()}.
 */
export async function startServer(path, args = [], { env = {}, timeout = 15000 } = {}) {
  if (!path) throw new Error('no server binary given (is the SWITCHBOARD_*_PATH variable set by ctest?)');
  const child = spawn(path, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let text = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    started.delete(child);
    resolve({ code, signal });
  }));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path} did not report its port within ${timeout} ms:\n${text}`)), timeout);
    const onData = (chunk) => {
      text += chunk;
      const m = /listening on [^\s]*:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${path} exited (${code ?? signal}) before listening:\n${text}`));
    });
  });
  const server = {
    port,
    pid: child.pid,
    origin: `http://127.0.0.1:${port}`,
    output: () => text,
    // SIGTERM by PID, then SIGKILL if it has not exited within the deadline.
    async stop(deadline = 10000) {
      if (!started.has(child)) return exited;
      try { process.kill(child.pid, 'SIGTERM'); } catch (_) { return exited; }
      const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch (_) { /* gone */ } }, deadline);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  cleanups.push(() => server.stop());
  return server;
}

/** switchboard-server on a free port with extra flags (and environment). */
export function startSwitchboard(flags = [], options = {}) {
  return startServer(process.env.SWITCHBOARD_SERVER_PATH, ['--listen', '127.0.0.1:0', ...flags], options);
}

/** Chromium with a fresh profile (a temporary one per launch), closed after the test file. */
export async function launchBrowser({ args = [], timeout = 30000 } = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...args],
    timeout,
  });
  cleanups.push(() => browser.close());
  return browser;
}

/**
 * A new page (in its own context: no shared cache or cookies) at `url`; console errors and page errors are
 * collected in page.problems for the assertions' messages.
 */
export async function openPage(browser, url, { timeout = 15000 } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  // Chromium asks every origin for a favicon; a 404 for it is no problem of the page.
  await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204, body: '' }));
  await page.goto(url);
  return page;
}

/** page.waitForFunction with a deadline and a message that says what was awaited. */
export async function waitFor(page, what, fn, arg, timeout = 15000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (e) {
    const events = await page.evaluate(() => window.t && window.t.events).catch(() => undefined);
    throw new Error(`timed out after ${timeout} ms waiting for ${what}; page problems: ${JSON.stringify(page.problems)}` +
      `${events ? '; client events: ' + JSON.stringify(events) : ''}\n${e.message}`);
  }
}

/** Waits in Node (not in a page) for an async condition, polling, with a deadline. */
export async function until(what, fn, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** POST /publish from the test itself; resolves to {topic, offset, epoch}. */
export async function publish(origin, topic, data) {
  const res = await fetch(`${origin}/publish?topic=${encodeURIComponent(topic)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data),
  });
  if (!res.ok) throw new Error(`publish ${topic}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * POST /admin/disconnect: the server closes every client channel (4006, or an application close code
 * {code, reason} in 3000-3999).
 */
export async function disconnectAll(origin, token = ADMIN_TOKEN, { code, reason } = {}) {
  // encodeURIComponent, not URLSearchParams: the server reads '+' as itself, not as a space.
  const query = code === undefined ? '' : `?code=${code}&reason=${encodeURIComponent(reason || '')}`;
  const res = await fetch(`${origin}/admin/disconnect${query}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`disconnect: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * A page on the server's origin with switchboard.js imported from the server and a client made with `options`:
 * window.sb is the client, window.t records its events (t.events) and what each topic received (t.received);
 * t.subscribe(topic, options) subscribes a recorder; `topics` are subscribed at once.
 */
export async function clientPage(browser, origin, options = {}, topics = []) {
  const page = await openPage(browser, `${origin}/healthz`);
  await page.evaluate(async ([opts, topics]) => {
    const { Switchboard } = await import('/switchboard.js');
    const t = window.t = { events: [], received: {} };
    const sb = window.sb = new Switchboard('', opts);
    for (const type of ['connecting', 'open', 'fallback', 'reconnecting', 'closed', 'subscribed', 'error'])
      sb.on(type, (d) => t.events.push(Object.assign({ type }, d, d && d.error ? { error: d.error.code } : {})));
    t.subscribe = (topic, o) => sb.subscribe(topic, (data, meta) => {
      (t.received[topic] = t.received[topic] || []).push({ data, offset: meta.offset, epoch: meta.epoch, transport: meta.transport });
    }, o);
    t.count = (type) => t.events.filter((e) => e.type === type).length;
    // Subscribed in the same task as the construction, as a page would: the first request carries them.
    for (const topic of topics) t.subscribe(topic);
  }, [options, topics]);
  return page;
}
