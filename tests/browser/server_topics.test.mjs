// switchboard.js with server-side subscriptions (docs/protocol.md, "Server-side subscriptions") in a namespace
// no client may subscribe to: the token names the user's topic, the backend pushes to it through the server
// API, and the page gets it on every transport, resumed across dropped connections; over WebSocket a page that
// holds no handler for the topic gets it as `message` events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  ADMIN_TOKEN, clientPage, disconnectAll, launchBrowser, startSwitchboard, until, waitFor,
} from './support/harness.mjs';

const SECRET = 'browser-test-jwt-secret-0123456789';
const API_KEY = 'browser-test-api-key-0123456789';

function jwt(claims) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

function start() {
  return startSwitchboard([], {
    env: {
      SWITCHBOARD_AUTH_JWT_SECRET: SECRET,
      SWITCHBOARD_API_KEY: API_KEY,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHBOARD_NAMESPACES: JSON.stringify({ user: { subscribe: 'nobody', publish: 'nobody' } }),
    },
  });
}

// The backend's push: POST /api/broadcast with the API key.
async function push(origin, topic, data) {
  const res = await fetch(`${origin}/api/broadcast`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-API-Key': API_KEY },
    body: JSON.stringify({ topics: [topic], data }),
  });
  const body = await res.json();
  if (!res.ok || body.results[0].error) throw new Error(`broadcast ${topic}: ${res.status} ${JSON.stringify(body)}`);
}

const token = jwt({ sub: '42', topics: ['user:42'], exp: Math.floor(Date.now() / 1000) + 3600 });

for (const transport of ['websocket', 'sse', 'long-polling']) {
  test(`${transport}: the token's topic reaches the page and resumes after dropped connections`, async () => {
    const server = await start();
    const browser = await launchBrowser();
    const page = await clientPage(browser, server.origin,
      { transports: [transport], token, backoff: { initial: 50, max: 400 } }, ['user:42']);
    await waitFor(page, 'open', () => sb.state === 'open' && t.events.some((e) => e.type === 'subscribed'));

    // Another user's topic is no client's to subscribe to, with or without a token.
    const other = await clientPage(browser, server.origin, { transports: [transport], token });
    await other.evaluate(() => t.subscribe('user:7'));
    await waitFor(other, 'the refusal', () => t.events.some((e) => e.type === 'error' || e.type === 'fallback' ||
      e.type === 'reconnecting'));

    const total = 30;
    let dropped = 0;
    for (let n = 1; n <= total; n++) {
      await push(server.origin, 'user:42', n);
      if (n % 10 === 0)
        dropped += await until(`a connection to drop at ${n}`, async () => (await disconnectAll(server.origin)).disconnected);
    }
    assert.ok(dropped >= 1);
    await waitFor(page, `all ${total} messages`, (k) => (t.received['user:42'] || []).length >= k, total, 30000);
    const got = await page.evaluate(() => t.received['user:42'].map((m) => m.data));
    assert.deepEqual(got, Array.from({ length: total }, (_, i) => i + 1), 'each once, in order');
    assert.deepEqual(await other.evaluate(() => t.received['user:7'] || []), []);
    assert.deepEqual(page.problems, []);
  });
}

test('websocket: a server-side topic without a handler comes as message events', async () => {
  const server = await start();
  const browser = await launchBrowser();
  const page = await clientPage(browser, server.origin, { transports: ['websocket'], token });
  await page.evaluate(() => {
    t.messages = [];
    sb.on('message', (m) => t.messages.push(`${m.topic}#${m.offset}=${JSON.stringify(m.data)}`));
  });
  await waitFor(page, 'the server-side subscription', () =>
    t.events.some((e) => e.type === 'subscribed' && e.topic === 'user:42' && e.server === true));
  await push(server.origin, 'user:42', { text: 'your order shipped' });
  await waitFor(page, 'the message', () => t.messages.length >= 1);
  assert.deepEqual(await page.evaluate(() => t.messages), ['user:42#1={"text":"your order shipped"}']);
  assert.deepEqual(page.problems, []);
});
