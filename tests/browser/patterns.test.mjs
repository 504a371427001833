// switchboard.js with pattern subscriptions (docs/protocol.md, "Patterns"): over WebSocket and SSE a pattern
// brings every topic it matches, topics made after it included, in each message's own topic and offset; a
// handler holding the topic and patterns matching it gets each message once; unsubscribing ends it; long polling
// refuses patterns by name (an `error` event) while its topics keep working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientPage, launchBrowser, publish, startSwitchboard, waitFor } from './support/harness.mjs';

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

test('long polling refuses a pattern by name and keeps its topics', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const page = await patternPage(browser, server.origin, 'long-polling');
  await page.evaluate(() => { sb.subscribe('a.*', t.handler); sb.subscribe('a.b', t.handler); });
  await waitFor(page, 'the pattern refused', () =>
    t.events.some((e) => e.type === 'error' && e.pattern === 'a.*' && e.error === 'invalid_pattern'));
  await waitFor(page, 'open', () => sb.state === 'open');
  await publish(server.origin, 'a.b', 1);
  await waitFor(page, 'the topic', () => t.got.length === 1);
  assert.deepEqual(await page.evaluate(() => t.got), ['a.b#1']);
});
