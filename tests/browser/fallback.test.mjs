// Fallback without a negotiate request: the server refuses WebSocket (transports = sse,long-polling) and the
// client lands on SSE; SSE refused too, it lands on long polling. The app sees the fallback events, and
// messages flow both ways on the transport it landed on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientPage, launchBrowser, publish, startSwitchboard, waitFor } from './support/harness.mjs';

async function landsOn(browser, enabled, expected, fallbacks) {
  const server = await startSwitchboard(['--transports', enabled]);
  // A refused transport answers 503 transport_disabled with the JSON error.
  if (!enabled.includes('sse')) {
    const res = await fetch(`${server.origin}/sse?topic=news`);
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, 'transport_disabled');
  }
  const page = await clientPage(browser, server.origin, {}, ['news']);
  await waitFor(page, `open on ${expected}`, () => sb.state === 'open');
  assert.equal(await page.evaluate(() => sb.transport), expected);
  const events = await page.evaluate(() => t.events.filter((e) => e.type === 'fallback').map((e) => [e.from, e.to]));
  assert.deepEqual(events, fallbacks);
  assert.equal(await page.evaluate(() => t.count('open')), 1);

  await page.evaluate(() => sb.publish('news', 'from the page'));
  await publish(server.origin, 'news', 'from the test');
  await waitFor(page, 'both messages', () => (t.received.news || []).length >= 2);
  assert.deepEqual(await page.evaluate(() => t.received.news.map((m) => m.data)), ['from the page', 'from the test']);
}

test('WebSocket refused: the client lands on SSE', async () => {
  const browser = await launchBrowser();
  await landsOn(browser, 'sse,long-polling', 'sse', [['websocket', 'sse']]);
});

test('WebSocket and SSE refused: the client lands on long polling', async () => {
  const browser = await launchBrowser();
  await landsOn(browser, 'long-polling', 'long-polling', [['websocket', 'sse'], ['sse', 'long-polling']]);
});

test('a transport that opens but delivers nothing within openTimeout is given up', async () => {
  // A buffering proxy passes the request and then holds every byte. The long-polling endpoint, given to the
  // client as its SSE path, behaves just so: the request is held and no "subscribed" event ever comes.
  const server = await startSwitchboard(['--transports', 'sse,long-polling']);
  const browser = await launchBrowser();
  const page = await clientPage(browser, server.origin, {
    transports: ['sse', 'long-polling'],
    // /poll as the SSE path: the request is held, no event ever comes, as behind a buffering proxy.
    paths: { sse: '/poll' },
    openTimeout: 1500,
  }, ['news']);
  await waitFor(page, 'open on long polling', () => sb.state === 'open' && sb.transport === 'long-polling');
  const fallback = await page.evaluate(() => t.events.find((e) => e.type === 'fallback'));
  assert.equal(fallback.from, 'sse');
  assert.match(fallback.reason, /nothing within 1500 ms/);
});
