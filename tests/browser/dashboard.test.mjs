// The dashboard example: a page with the browser's own EventSource (no client library) receives the server's
// figures and, when the server drops the stream, reconnects with Last-Event-ID and misses nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, disconnectAll, launchBrowser, openPage, startServer, waitFor } from './support/harness.mjs';

test('the dashboard receives its feed and resumes with Last-Event-ID', async () => {
  const server = await startServer(process.env.SWITCHBOARD_DASHBOARD_PATH, ['0', '100'],
    { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
  const browser = await launchBrowser();
  const page = await openPage(browser, `${server.origin}/`);
  await waitFor(page, 'five ticks', () => window.dashboard.offsets.length >= 5);
  assert.equal(await page.evaluate(() => typeof window.Switchboard), 'undefined');
  const before = await page.evaluate(() => ({ n: dashboard.offsets.length, id: dashboard.lastEventId }));
  assert.match(before.id, /^\d+\.[A-Za-z0-9]+\.stats$/);
  // The stream counts itself among the figures.
  assert.ok(await page.evaluate(() => Number(document.getElementById('sse').textContent)) >= 1);

  await disconnectAll(server.origin);
  await waitFor(page, 'the reconnect', () => dashboard.opens >= 2 && dashboard.errors >= 1);
  // Ticks published while the page was away (EventSource waits the retry: 500 ms, five ticks) come first.
  await waitFor(page, 'ten more ticks', (n) => dashboard.offsets.length >= n + 10, before.n);
  const offsets = await page.evaluate(() => dashboard.offsets);
  const first = offsets[0];
  assert.deepEqual(offsets, offsets.map((_, i) => first + i), 'every tick once, in order, across the reconnect');
  assert.deepEqual(page.problems.filter((p) => !/ERR_|Failed to load resource/.test(p)), []);
});
