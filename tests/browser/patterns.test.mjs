// switchboard.js with pattern subscriptions (docs/protocol.md, "Patterns"): over WebSocket and SSE a pattern
// brings every topic it matches, topics made after it included, in each message's own topic and offset; a
// handler holding the topic and patterns matching it gets each message once; unsubscribing ends it. On every
// transport a pattern resumes across dropped connections (docs/protocol.md, "Resuming a pattern"): each message
// once, in publish order, topics first published while the page was away included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_TOKEN, clientPage, disconnectAll, launchBrowser, publish, startSwitchboard, until, waitFor,
} from './support/harness.mjs';

// One handler for everything the page subscribes: what it got, as "<topic>#<offset>".
async function patternPage(browser, origin, transport) {
  const page = await clientPage(browser, origin, { transports: [transport] });
  await page.evaluate(() => {
    t.got = [];
    t.handler = (data, meta) => t.got.push(`${meta.topic}#${meta.offset}`);
  });
  return page;
}

for (const transport of ['websocket', 'sse']) {
  test(`${transport}: patterns bring matching topics once, and stop when unsubscribed`, async () => {
    const server = await startSwitchboard();
    const browser = await launchBrowser();
    const page = await patternPage(browser, server.origin, transport);
    await page.evaluate(() => {
      for (const name of ['sports.tennis', 'sports.*', 'sports.>']) sb.subscribe(name, t.handler);
    });
    await waitFor(page, 'both patterns and the topic acknowledged', () =>
      ['sports.*', 'sports.>'].every((p) => t.events.some((e) => e.type === 'subscribed' && e.pattern === p)) &&
      t.events.some((e) => e.type === 'subscribed' && e.topic === 'sports.tennis'));

    await publish(server.origin, 'sports.tennis', 1);       // the topic and both patterns: once
    await publish(server.origin, 'sports.golf', 2);         // made after the subscriptions
    await publish(server.origin, 'sports.tennis.live', 3);  // sports.> only
    await publish(server.origin, 'news.tennis', 4);         // nothing
    await publish(server.origin, 'sports.tennis', 5);
    await waitFor(page, 'four messages', () => t.got.length >= 4);
    assert.deepEqual(await page.evaluate(() => t.got),
      ['sports.tennis#1', 'sports.golf#1', 'sports.tennis.live#1', 'sports.tennis#2']);

    await page.evaluate(() => { sb.unsubscribe('sports.*'); sb.unsubscribe('sports.>'); });
    if (transport === 'sse')  // SSE reopens its stream with the topic alone
      await waitFor(page, 'the stream reopened', () => t.count('subscribed') >= 4);
    else  // a publish on the same WebSocket is answered after the unsubscribes before it were handled
      await page.evaluate(() => sb.publish('marker', 0));
    await publish(server.origin, 'sports.golf', 6);
    await publish(server.origin, 'sports.tennis', 7);
    await waitFor(page, 'the topic still comes', () => t.got.includes('sports.tennis#3'));
    assert.equal(await page.evaluate(() => t.got.filter((g) => g.startsWith('sports.golf')).length), 1,
      'nothing more through the unsubscribed patterns');
    assert.deepEqual(page.problems, []);
  });
}

for (const transport of ['websocket', 'sse', 'long-polling']) {
  test(`${transport}: a pattern resumes across dropped connections, topics made meanwhile included`, async () => {
    const server = await startSwitchboard([], { env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin, { transports: [transport], backoff: { initial: 50, max: 400 } });
    await page.evaluate(() => {
      t.got = [];
      sb.subscribe('r.*', (data, meta) => t.got.push(`${meta.topic}#${meta.offset}=${data}`));
    });
    await waitFor(page, 'open', () => sb.state === 'open' && t.events.some((e) => e.type === 'subscribed' && e.pattern === 'r.*'));

    // A numbered series spread over topics, a new topic every 10 messages; the server drops every connection
    // now and then, sometimes while the page is still coming back.
    const total = 60;
    const expected = [];
    const offsets = {};
    let dropped = 0;
    for (let n = 1; n <= total; n++) {
      const topic = `r.t${Math.floor(n / 10)}`;
      offsets[topic] = (offsets[topic] || 0) + 1;
      expected.push(`${topic}#${offsets[topic]}=${n}`);
      await publish(server.origin, topic, n);
      await publish(server.origin, `q.t${n}`, n);  // not matched
      if (n % 15 !== 0) continue;
      if (n % 30 === 0) {
        await waitFor(page, `caught up at ${n}`, (k) => sb.state === 'open' && t.got.length === k, n);
        dropped += await until(`a connection to drop at ${n}`, async () => (await disconnectAll(server.origin)).disconnected);
      } else {
        dropped += (await disconnectAll(server.origin)).disconnected;
      }
    }
    assert.ok(dropped >= 2, `connections dropped: ${dropped}`);
    await waitFor(page, `all ${total} messages`, (k) => t.got.length >= k, total, 30000);
    await publish(server.origin, 'r.end', 'end');
    await waitFor(page, 'the end marker', () => t.got.some((g) => g.startsWith('r.end#')));
    assert.deepEqual(await page.evaluate(() => t.got), [...expected, 'r.end#1=end'], 'each once, in publish order');
    assert.ok(await page.evaluate(() =>
      t.events.filter((e) => e.type === 'subscribed' && e.pattern).every((e) => e.recovered !== false)));
    assert.deepEqual(page.problems, []);
  });
}
