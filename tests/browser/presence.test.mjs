// switchboard.js presence (docs/client.md): pages on WebSocket and SSE subscribe with {presence: true}; each
// sees the others join and leave through onJoin/onLeave, and sb.presence(topic) lists the members present (the
// WebSocket command, GET /presence over SSE).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientPage, launchBrowser, startSwitchboard, waitFor } from './support/harness.mjs';

async function member(browser, origin, transport) {
  const page = await clientPage(browser, origin, { transports: [transport] });
  await page.evaluate(() => {
    t.joins = [];
    t.leaves = [];
    t.leave = sb.subscribe('room', () => {}, {
      presence: true,
      onJoin: (m) => t.joins.push(m),
      onLeave: (m) => t.leaves.push(m),
    });
  });
  await waitFor(page, `${transport} present`, () => sb.state === 'open' && !!sb.presenceClient);
  return page;
}

test('members on WebSocket and SSE see each other join and leave, and list each other', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const ws = await member(browser, server.origin, 'websocket');
  const sse = await member(browser, server.origin, 'sse');
  const sseClient = await sse.evaluate(() => sb.presenceClient);
  const wsClient = await ws.evaluate(() => sb.presenceClient);
  assert.match(sseClient, /^[0-9a-f]{32}$/);

  await waitFor(ws, 'the SSE member joined', (c) => t.joins.some((m) => m.client === c), sseClient);
  const listed = await ws.evaluate(() => sb.presence('room'));
  assert.deepEqual(listed.map((m) => m.client).sort(), [sseClient, wsClient].sort());
  assert.ok(listed.every((m) => m.user === '' && m.info === null));

  // The WebSocket member leaves (unsubscribes): the SSE member sees it go.
  await ws.evaluate(() => t.leave());
  await waitFor(sse, 'the WebSocket member left', (c) => t.leaves.some((m) => m.client === c), wsClient);

  // Over SSE the snapshot comes from GET /presence: the same members the WebSocket listed, less the one that left.
  const overHttp = await sse.evaluate(() => sb.presence('room'));
  assert.deepEqual(overHttp.map((m) => m.client), [sseClient]);

  // Asked as the client is made (before it connects), or in a 'subscribed' handler (over SSE that runs before
  // 'open'), a snapshot waits for the connection to open instead of failing; once closed, it fails at once.
  const seen = await sse.evaluate(async () => {
    const { Switchboard } = await import('/switchboard.js');
    const fresh = new Switchboard('', { transports: ['sse'] });
    const state = fresh.state;
    const first = fresh.presence('room');
    const inHandler = new Promise((resolve, reject) => fresh.on('subscribed', (d) => {
      const state = fresh.state;  // as the handler runs
      if (d.topic === 'other') fresh.presence('room').then((m) => resolve({ state, members: m.length }), reject);
    }));
    fresh.subscribe('other', () => {});
    const result = { state, first: (await first).length, inHandler: await inHandler };
    fresh.close();
    result.closed = await fresh.presence('room').then(() => 'resolved', (e) => e.code);
    return result;
  });
  assert.deepEqual(seen, { state: 'idle', first: 1, inHandler: { state: 'connecting', members: 1 }, closed: 'presence_unavailable' });
  await browser.close();
});
