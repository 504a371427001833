// Reconnect and resume: while the test publishes a numbered series, the server drops every connection
// (POST /admin/disconnect, code 4006) several times; on each transport the page ends with every message exactly
// once and in order, having reconnected. A server restart loses the in-memory history (a new epoch): the
// client says so with recovered:false and goes on with the new epoch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_TOKEN, clientPage, disconnectAll, launchBrowser, publish, startServer, startSwitchboard, until, waitFor,
} from './support/harness.mjs';

const TRANSPORTS = ['websocket', 'sse', 'long-polling'];
const fast = { backoff: { initial: 50, max: 400 } };

for (const transport of TRANSPORTS) {
  test(`${transport}: dropped connections lose nothing and duplicate nothing`, async () => {
    const server = await startSwitchboard([], { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin, { transports: [transport], ...fast });
    await page.evaluate(() => t.subscribe('series'));
    await waitFor(page, 'open', () => sb.state === 'open' && t.count('subscribed') === 1);

    const total = 60;
    let dropped = 0;
    for (let n = 1; n <= total; n++) {
      await publish(server.origin, 'series', n);
      if (n % 15 !== 0) continue;
      // Half the drops come while the page is connected and caught up; the others whenever they fall, even
      // while the page is still coming back from the one before.
      if (n % 30 === 0) {
        await waitFor(page, `caught up at ${n}`, (k) => sb.state === 'open' && (t.received.series || []).length === k, n);
        // Caught up, a long-polling page is between two polls for a moment: drop once its next poll is in.
        dropped += await until(`a connection to drop at ${n}`, async () => (await disconnectAll(server.origin)).disconnected);
      } else {
        dropped += (await disconnectAll(server.origin)).disconnected;
      }
    }
    assert.ok(dropped >= 2, `connections dropped: ${dropped}`);
    await waitFor(page, `all ${total} messages`, (n) => (t.received.series || []).length >= n, total, 30000);
    // Whatever is still in flight would show up as a duplicate: publish a marker and wait for it.
    await publish(server.origin, 'series', 'end');
    await waitFor(page, 'the end marker', () => t.received.series.some((m) => m.data === 'end'));
    const got = await page.evaluate(() => t.received.series.map((m) => m.data));
    assert.deepEqual(got, [...Array.from({ length: total }, (_, i) => i + 1), 'end']);
    // A long poll is answered by the drop and the next one resumes from its cursor: no reconnect to see.
    if (transport !== 'long-polling')
      assert.ok(await page.evaluate(() => t.count('reconnecting')) >= 2, 'the page reconnected');
    assert.ok(await page.evaluate(() => t.events.filter((e) => e.type === 'subscribed').every((e) => e.recovered !== false)));
  });
}

test('a restarted server (history lost) is reported as recovered:false', async () => {
  const first = await startSwitchboard([], {});
  const browser = await launchBrowser();
  const pages = [];
  for (const transport of TRANSPORTS) {
    const page = await clientPage(browser, first.origin, { transports: [transport], ...fast }, ['state']);
    await waitFor(page, 'open', () => sb.state === 'open' && t.count('subscribed') === 1);
    pages.push(page);
  }
  await publish(first.origin, 'state', 'before');
  for (const page of pages) await waitFor(page, 'before', () => (t.received.state || []).length === 1);
  await first.stop();
  // The same port, a new process: the in-memory history and its epoch are gone.
  const second = await startServer(process.env.SWITCHBOARD_SERVER_PATH, ['--listen', `127.0.0.1:${first.port}`]);
  assert.equal(second.port, first.port);
  for (const page of pages)
    await waitFor(page, 'recovered:false', () => t.events.some((e) => e.type === 'subscribed' && e.recovered === false), undefined, 20000);
  await until('every page open again', async () => {
    for (const page of pages) if ((await page.evaluate(() => sb.state)) !== 'open') return false;
    return true;
  }, 20000);
  await publish(second.origin, 'state', 'after');
  for (const page of pages) {
    await waitFor(page, 'after', () => t.received.state.some((m) => m.data === 'after'));
    assert.deepEqual(await page.evaluate(() => t.received.state.map((m) => m.data)), ['before', 'after']);
  }
});

test('a frozen server is found out by the ping, and the client comes back when it wakes', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const page = await clientPage(browser, server.origin,
    { transports: ['websocket'], pingInterval: 300, openTimeout: 1000, ...fast }, ['alive']);
  await waitFor(page, 'open', () => sb.state === 'open' && t.count('subscribed') === 1);
  // The process stops answering but its sockets stay open: only the ping can tell.
  process.kill(server.pid, 'SIGSTOP');
  try {
    await waitFor(page, 'the ping to fail', () => t.events.some((e) => e.type === 'reconnecting' && e.code === 4003), undefined, 10000);
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
  await waitFor(page, 'open again', () => sb.state === 'open' && t.count('subscribed') >= 2, undefined, 20000);
  await publish(server.origin, 'alive', 'yes');
  await waitFor(page, 'the message', () => (t.received.alive || []).length === 1);
});
