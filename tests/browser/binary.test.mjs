// Binary payloads through switchboard.js in Chromium: bytes published over WebSocket (a binary frame) and over
// SSE's POST /publish (application/octet-stream) reach pages on WebSocket, SSE and long polling as Uint8Arrays
// holding exactly the bytes sent, live; and a JSON message beside them still arrives as JSON.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientPage, launchBrowser, startSwitchboard, waitFor } from './support/harness.mjs';

const TRANSPORTS = ['websocket', 'sse', 'long-polling'];

test('bytes published from a page reach every transport as the same Uint8Array', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const pages = {};
  for (const transport of TRANSPORTS) {
    pages[transport] = await clientPage(browser, server.origin, { transports: [transport] }, ['bin']);
    await waitFor(pages[transport], `${transport} subscribed`, () => t.count('subscribed') === 1);
  }

  // Every byte value, then a payload that is mostly line feeds and NULs, then JSON.
  await pages.websocket.evaluate(() => sb.publish('bin', Uint8Array.from({ length: 256 }, (_, i) => i)));
  await pages.sse.evaluate(() => sb.publish('bin', new Uint8Array([10, 0, 10, 13, 255, 0]).buffer));
  await pages['long-polling'].evaluate(() => sb.publish('bin', { json: true }));

  const every = Array.from({ length: 256 }, (_, i) => i);
  for (const transport of TRANSPORTS) {
    const page = pages[transport];
    await waitFor(page, `three messages on ${transport}`, () => (t.received.bin || []).length === 3);
    const got = await page.evaluate(() => t.received.bin.map((m) => (m.data instanceof Uint8Array
      ? { bytes: Array.from(m.data) } : { json: m.data })));
    assert.deepEqual(got, [{ bytes: every }, { bytes: [10, 0, 10, 13, 255, 0] }, { json: { json: true } }], transport);
    assert.deepEqual(page.problems, []);
  }
});
