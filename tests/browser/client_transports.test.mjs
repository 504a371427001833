// switchboard.js over each transport, forced one at a time: three pages (WebSocket, SSE, long polling)
// subscribe to one topic, each publishes, and every page receives every message, once, in the same order.
// Also: the server serves the client with its content type and an ETag (304 on revalidation).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientPage, launchBrowser, publish, startSwitchboard, waitFor } from './support/harness.mjs';

const TRANSPORTS = ['websocket', 'sse', 'long-polling'];

test('the server serves switchboard.js with an ETag', async () => {
  const server = await startSwitchboard();
  const res = await fetch(`${server.origin}/switchboard.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const etag = res.headers.get('etag');
  assert.ok(etag, 'an ETag');
  assert.match(await res.text(), /export class Switchboard/);
  const again = await fetch(`${server.origin}/switchboard.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const off = await startSwitchboard([], { env: { SWITCHBOARD_CLIENT_PATH: '' } });
  assert.equal((await fetch(`${off.origin}/switchboard.js`)).status, 404);
});

test('each forced transport subscribes, receives and publishes, across transports', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const pages = [];
  for (const transport of TRANSPORTS) {
    const page = await clientPage(browser, server.origin, { transports: [transport] });
    await page.evaluate(() => t.subscribe('room'));
    await waitFor(page, `${transport} open and subscribed`,
      () => sb.state === 'open' && t.events.some((e) => e.type === 'subscribed' && e.topic === 'room'));
    assert.equal(await page.evaluate(() => sb.transport), transport);
    pages.push(page);
  }

  // Each page publishes once (its own transport: a WebSocket command or POST /publish), the test once more.
  const positions = [];
  for (const [i, page] of pages.entries())
    positions.push(await page.evaluate((n) => sb.publish('room', { from: n }), TRANSPORTS[i]));
  positions.push(await publish(server.origin, 'room', { from: 'test' }));
  for (const p of positions) assert.equal(p.epoch, positions[0].epoch);
  assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4]);

  for (const [i, page] of pages.entries()) {
    await waitFor(page, `4 messages on ${TRANSPORTS[i]}`, () => (t.received.room || []).length >= 4);
    const got = await page.evaluate(() => t.received.room);
    assert.deepEqual(got.map((m) => m.data.from), [...TRANSPORTS, 'test'], TRANSPORTS[i]);
    assert.deepEqual(got.map((m) => m.offset), [1, 2, 3, 4]);
    assert.ok(got.every((m) => m.transport === TRANSPORTS[i] && m.epoch === positions[0].epoch));
  }
  // Nothing more arrives than was published: exactly once.
  for (const page of pages) await page.evaluate(() => sb.publish('room', { from: 'last' }));
  for (const page of pages) {
    await waitFor(page, 'the last three', () => t.received.room.length >= 7);
    assert.equal(await page.evaluate(() => t.received.room.length), 7);
  }

  // Unsubscribing stops delivery; a second topic joins on the open connection (SSE and polling reopen).
  for (const page of pages)
    await page.evaluate(() => { sb.unsubscribe('room'); t.subscribe('other'); });
  for (const page of pages)
    await waitFor(page, 'subscribed to other', () => t.events.some((e) => e.type === 'subscribed' && e.topic === 'other'));
  await publish(server.origin, 'room', { from: 'after' });
  await publish(server.origin, 'other', { from: 'other' });
  for (const page of pages) {
    await waitFor(page, 'the message on other', () => (t.received.other || []).length === 1);
    assert.equal(await page.evaluate(() => t.received.room.length), 7);
    assert.deepEqual(page.problems, []);
  }
});

test('errors reach the caller: a publish the server refuses rejects with its code', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  for (const transport of TRANSPORTS) {
    const page = await clientPage(browser, server.origin, { transports: [transport] });
    const code = await page.evaluate(() => sb.publish('bad topic!', 1).then(() => 'published', (e) => e.code));
    assert.equal(code, 'invalid_topic', transport);
  }
  // A subscription the server refuses is dropped and reported; the others carry on.
  const page = await clientPage(browser, server.origin, { transports: ['websocket'] }, ['bad topic!', 'good']);
  await waitFor(page, 'the refusal', () => t.events.some((e) => e.type === 'error' && e.topic === 'bad topic!' && e.error === 'invalid_topic'));
  await waitFor(page, 'open', () => sb.state === 'open' && t.events.some((e) => e.type === 'subscribed' && e.topic === 'good'));
  await publish(server.origin, 'good', 'fine');
  await waitFor(page, 'the message', () => (t.received.good || []).length === 1);
  assert.equal(await page.evaluate(() => t.count('fallback')), 0);
});
