// switchboard.js publishing with idempotency keys (docs/client.md, sb.publish): while the server drops every
// connection again and again, every keyed publish resolves (one whose answer was lost is sent again after the
// reconnect) and the topic holds each message exactly once, on WebSocket and on the HTTP publishes of SSE.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, clientPage, disconnectAll, launchBrowser, startSwitchboard, waitFor } from './support/harness.mjs';

const API_KEY = 'browser-test-api-key-0123456789';

// Every message of `topic`, oldest first, through the server API's history pages.
async function history(origin, topic) {
  const all = [];
  let since = 0;
  let epoch = '';
  for (;;) {
    const query = `topic=${topic}&since=${since}${epoch ? `&epoch=${epoch}` : ''}&limit=1000`;
    const res = await fetch(`${origin}/api/history?${query}`, { headers: { 'X-API-Key': API_KEY } });
    const page = await res.json();
    if (!res.ok) throw new Error(`history: ${res.status} ${JSON.stringify(page)}`);
    all.push(...page.messages.map((m) => m.data));
    if (!page.more) return all;
    since = page.next;
    epoch = page.latest.epoch;
  }
}

for (const transport of ['websocket', 'sse']) {
  test(`${transport}: keyed publishes land once each while connections drop`, async () => {
    const server = await startSwitchboard([], { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN, SWITCHBOARD_API_KEY: API_KEY } });
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin, { transports: [transport], backoff: { initial: 50, max: 400 } },
      ['ready']);
    await waitFor(page, 'open', () => sb.state === 'open');
    await page.evaluate(() => {
      t.settled = [];
      t.send = (from, count) => {
        for (let n = from; n < from + count; n++)
          sb.publish('orders', n, { idempotencyKey: `order-${n}` })
            .then(() => t.settled.push(`ok ${n}`), (e) => t.settled.push(`${e.code || e} ${n}`));
      };
    });

    // Batches sent at once, each followed by a drop while many of them still wait for their answers.
    const total = 60;
    let dropped = 0;
    for (let from = 1; from <= total; from += 15) {
      await page.evaluate(([f]) => t.send(f, 15), [from]);
      dropped += (await disconnectAll(server.origin)).disconnected;
      await waitFor(page, `batch ${from} settled`, (k) => t.settled.length >= k, from + 14, 30000);
    }
    assert.ok(dropped >= 2, `connections dropped: ${dropped}`);
    const settled = await page.evaluate(() => t.settled);
    assert.deepEqual(settled.filter((s) => !s.startsWith('ok ')), [], 'every keyed publish resolves');
    const stored = await history(server.origin, 'orders');
    assert.deepEqual([...stored].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1),
      'each message stored once');
    assert.deepEqual(await page.evaluate(() => sb.publish('orders', 0, { idempotencyKey: 'a key' }).catch((e) => e.name)),
      'TypeError');
    assert.deepEqual(page.problems, []);
  });
}
