// Application close codes on every transport: the server closes the page's channel with a code of the
// application's "reconnect" range (3000-3499) and the client reconnects and resumes, losing nothing; with one of
// its "terminal" range (3500-3999) the client stops, tells the page with a `closed` event holding the code and
// reason, and sends no further request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_TOKEN, clientPage, disconnectAll, launchBrowser, publish, startSwitchboard, until, waitFor,
} from './support/harness.mjs';

const TRANSPORTS = ['websocket', 'sse', 'long-polling'];
const fast = { backoff: { initial: 50, max: 400 } };

for (const transport of TRANSPORTS) {
  test(`${transport}: a reconnect code (3000-3499) reconnects and resumes`, async () => {
    const server = await startSwitchboard([], { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin, { transports: [transport], ...fast }, ['room']);
    await waitFor(page, 'open', () => sb.state === 'open' && t.count('subscribed') === 1);
    await publish(server.origin, 'room', 1);
    await waitFor(page, 'the first message', () => (t.received.room || []).length === 1);

    // A long poll between two requests has no channel for a moment: close once one is there.
    await until('a channel to close', async () =>
      (await disconnectAll(server.origin, ADMIN_TOKEN, { code: 3000, reason: 'move along' })).disconnected);
    await waitFor(page, 'a reconnect with the code', () =>
      t.events.some((e) => e.type === 'reconnecting' && e.code === 3000 && e.reason === 'move along'));
    await publish(server.origin, 'room', 2);
    await waitFor(page, 'the second message after the reconnect', () => (t.received.room || []).length === 2);
    assert.deepEqual(await page.evaluate(() => t.received.room.map((m) => m.data)), [1, 2]);
    assert.equal(await page.evaluate(() => sb.state), 'open');
    assert.equal(await page.evaluate(() => t.count('closed')), 0);
  });

  test(`${transport}: a terminal code (3500-3999) stops the client and reports it`, async () => {
    const server = await startSwitchboard([], { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin, { transports: [transport], ...fast }, ['room']);
    await waitFor(page, 'open', () => sb.state === 'open' && t.count('subscribed') === 1);
    // Count the page's requests from here: after the terminal close there must be none.
    let requests = 0;
    page.on('request', () => { requests++; });
    page.on('websocket', () => { requests++; });

    await until('a channel to close', async () =>
      (await disconnectAll(server.origin, ADMIN_TOKEN, { code: 3500, reason: 'account closed' })).disconnected);
    await waitFor(page, 'the closed event', () => sb.state === 'closed' && t.count('closed') === 1);
    const closed = await page.evaluate(() => t.events.find((e) => e.type === 'closed'));
    assert.equal(closed.code, 3500);
    assert.equal(closed.reason, 'account closed');
    assert.equal(await page.evaluate(() => t.count('reconnecting')), 0);
    await assert.rejects(page.evaluate(() => sb.publish('room', 'late')), /closed|Closed/);

    // No reconnect: a reconnect always begins with a `reconnecting` event, in the task that saw the close, and
    // there was none. While a witness page connects and receives a message, the closed page sends nothing and
    // holds no channel on the server.
    const before = requests;
    const witness = await clientPage(browser, server.origin, { transports: [transport], ...fast }, ['room']);
    await waitFor(witness, 'the witness open', () => sb.state === 'open' && t.count('subscribed') === 1);
    await publish(server.origin, 'room', 'seen by the witness only');
    await waitFor(witness, 'the witness message', () => (t.received.room || []).length === 1);
    assert.equal(requests, before, 'the client sent no request after the terminal close');
    assert.equal(await page.evaluate(() => t.count('reconnecting')), 0);
    assert.equal(await page.evaluate(() => (t.received.room || []).length), 0);
    // (A long-polling witness between two polls has no channel for a moment.)
    const disconnected = await until('the witness channel', async () => (await disconnectAll(server.origin)).disconnected);
    assert.equal(disconnected, 1, 'only the witness had a channel open');
  });
}
