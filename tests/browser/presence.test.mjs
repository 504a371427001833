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

// A server batching joins and leaves into diffs (presence.batch_interval, set through its environment variable):
// switchboard.js hands each diff's leaves, then its joins, to onLeave and onJoin one by one, and never this client
// itself (a diff may name its listener).
test('diffs reach onJoin and onLeave one by one, never naming this client', async () => {
  const server = await startSwitchboard([], { env: { SWITCHBOARD_PRESENCE_BATCH_INTERVAL: '50ms' } });
  const browser = await launchBrowser();
  const ws = await member(browser, server.origin, 'websocket');
  const sse = await member(browser, server.origin, 'sse');
  const wsClient = await ws.evaluate(() => sb.presenceClient);
  const sseClient = await sse.evaluate(() => sb.presenceClient);
  await waitFor(ws, 'the SSE member joined', (c) => t.joins.some((m) => m.client === c), sseClient);
  await sse.evaluate(() => t.leave());
  await waitFor(ws, 'the SSE member left', (c) => t.leaves.some((m) => m.client === c), sseClient);
  const seen = await ws.evaluate(() => ({ joins: t.joins.map((m) => m.client), leaves: t.leaves.map((m) => m.client) }));
  assert.ok(!seen.joins.includes(wsClient) && !seen.leaves.includes(wsClient), JSON.stringify(seen));
  assert.deepEqual(seen.leaves, [sseClient]);
  await browser.close();
});

// Past presence.max_event_members listeners the server sends counts instead of joins: onCounts and the
// presence_stats event get them, and the members are read with sb.presence().
test('a topic past the bound gives onCounts the counts, and the members are read in pages', async () => {
  const server = await startSwitchboard([], {
    env: { SWITCHBOARD_PRESENCE_MAX_EVENT_MEMBERS: '1', SWITCHBOARD_PRESENCE_COUNTS_INTERVAL: '50ms' },
  });
  const browser = await launchBrowser();
  const page = await clientPage(browser, server.origin, { transports: ['websocket'] });
  const result = await page.evaluate(async () => {
    const { Switchboard } = await import('/switchboard.js');
    const clients = [];
    const counts = [];
    const stats = [];
    for (let i = 0; i < 4; ++i) {
      const c = new Switchboard('', { transports: ['websocket'] });
      if (i === 0) c.on('presence_stats', (e) => stats.push(e));
      c.subscribe('hall', () => {}, { presence: true, onCounts: (n, topic) => { if (i === 0) counts.push({ ...n, topic }); } });
      await new Promise((resolve) => c.on('subscribed', resolve));
      clients.push(c);
    }
    const deadline = Date.now() + 10000;
    while (!counts.some((n) => n.clients === 4) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const members = await clients[0].presence('hall');
    for (const c of clients) c.close();
    return { counts, stats, members: members.length };
  });
  assert.ok(result.counts.some((n) => n.clients === 4 && n.users === 4 && n.topic === 'hall'), JSON.stringify(result));
  assert.ok(result.stats.some((e) => e.clients === 4 && e.topic === 'hall'), JSON.stringify(result));
  assert.equal(result.members, 4);
  await browser.close();
});

// A namespace with presence off refuses presence=1 for a whole poll: switchboard.js says so once for the topic and
// polls on without it, so the topic's messages keep coming.
test('a poll refused presence goes on without it, and says so once', async () => {
  const server = await startSwitchboard([], {
    env: { SWITCHBOARD_NAMESPACES: JSON.stringify({ quiet: { presence: false } }) },
  });
  const browser = await launchBrowser();
  const page = await clientPage(browser, server.origin, { transports: ['long-polling'] });
  await page.evaluate(() => t.subscribe('quiet:room', { presence: true }));
  await waitFor(page, 'the refusal', () => t.events.some((e) => e.type === 'error'));
  await page.evaluate(() => fetch('/publish?topic=quiet:room', { method: 'POST', body: '{"n":1}' }));
  await waitFor(page, 'the message', () => (t.received['quiet:room'] || []).length === 1);
  const errors = await page.evaluate(() => t.events.filter((e) => e.type === 'error'));
  assert.deepEqual(errors.map((e) => [e.topic, e.error]), [['quiet:room', 'presence_unavailable']]);
  assert.deepEqual(await page.evaluate(() => t.received['quiet:room'].map((m) => m.data)), [{ n: 1 }]);
  await browser.close();
});
