// The chat example: three pages, each forced onto one transport, join a room; the one who joins late sees the
// history; everyone sees everyone's messages in the same order; the member list shows who is in the room, and
// someone who leaves goes from it (a long poll is no member: its page says so and still reads the list).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, startServer, waitFor } from './support/harness.mjs';

test('three windows on three transports talk to each other, with history on join', async () => {
  const server = await startServer(process.env.SWITCHBOARD_CHAT_PATH, ['0']);
  const browser = await launchBrowser();
  const open = async (nick, transport) => {
    const page = await openPage(browser, `${server.origin}/?nick=${nick}&room=test&transport=${transport}`);
    await waitFor(page, `${nick} open on ${transport}`, () => window.chat && chat.state === 'open');
    assert.equal(await page.evaluate(() => chat.transport), transport);
    return page;
  };
  const alice = await open('alice', 'websocket');
  await alice.evaluate(() => chat.send('first, before anyone else came'));
  await waitFor(alice, 'her own message', () => chat.messages.length === 1);

  const bob = await open('bob', 'sse');
  const carol = await open('carol', 'long-polling');
  for (const page of [bob, carol])
    await waitFor(page, 'the history', () => chat.messages.length === 1 && chat.messages[0].nick === 'alice');
  assert.equal(await bob.evaluate(() => document.querySelectorAll('#log .history').length), 1);

  await bob.evaluate(() => chat.send('hello from SSE'));
  await carol.evaluate(() => chat.send('hello from long polling'));
  await alice.evaluate(() => chat.send('hello from WebSocket'));
  const expected = [
    'alice: first, before anyone else came', 'bob: hello from SSE', 'carol: hello from long polling',
    'alice: hello from WebSocket',
  ];
  for (const page of [alice, bob, carol]) {
    await waitFor(page, 'four messages', () => chat.messages.length >= 4);
    assert.deepEqual(await page.evaluate(() => chat.messages.map((m) => `${m.nick}: ${m.text}`)), expected);
    assert.equal(await page.evaluate(() => document.querySelectorAll('#log > div').length), 4);
  }
  // The member list: every page is a member (its nickname is its presence info), the long poll too, each poll
  // taking the membership over from the one before; every page lists them, the long poll's by reading the list
  // again.
  for (const page of [alice, bob, carol])
    await waitFor(page, 'alice, bob and carol in the member list', () => chat.members.join() === 'alice,bob,carol');
  assert.equal(await alice.evaluate(() => document.querySelector('#members .you').textContent), 'alice (you)');
  await waitFor(carol, 'carol marked as herself', () => (document.querySelector('#members .you') || {}).textContent === 'carol (you)');
  for (const page of [alice, carol])
    assert.deepEqual(await page.evaluate(() => chat.errors), []);
  // Bob closes his window: once the server's reconnect grace (5 s) is over, he leaves every list.
  await bob.close();
  for (const page of [alice, carol])
    await waitFor(page, 'bob gone from the member list', () => chat.members.join() === 'alice,carol', undefined, 30000);

  // The server's hook refuses what is not a chat message.
  const refused = await alice.evaluate(() => window.sb === undefined &&
    fetch('/publish?topic=chat.test&token=alice', { method: 'POST', body: '"just text"' }).then((r) => r.status));
  assert.equal(refused, 403);
});
