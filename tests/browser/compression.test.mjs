// permessage-deflate with third-party clients: Chromium negotiates it on its own (the page's WebSocket and
// switchboard.js over it), Node's ws with and without it. Each reads every message byte for byte as published;
// the server's metrics show the compressed deliveries, and a client that negotiated compression reads far
// fewer bytes off its socket for the same messages than one that did not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { clientPage, launchBrowser, openPage, startSwitchboard, until, waitFor } from './support/harness.mjs';

// A JSON document of about 1 KB that repeats itself, as dashboards and price lists do; numbers written so that
// a parse and a stringify would change them, to see that nothing re-serializes them.
function documentText(version) {
  const rows = [];
  for (let i = 0; i < 12; i++)
    rows.push(`{"symbol":"SYM${i}","price":${100 + i + version}.10,"currency":"EUR","exchange":"XETRA","id":12345678901234567890}`);
  return `{"version":${version},"rows":[${rows.join(',')}]}`;
}

function envelope(topic, offset, data) {
  return `{"type":"message","topic":"${topic}","offset":${offset},"data":${data}}`;
}

async function publishText(origin, topic, text) {
  const res = await fetch(`${origin}/publish?topic=${topic}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text,
  });
  assert.equal(res.status, 200, await res.text());
}

async function metric(origin, name) {
  const body = await (await fetch(`${origin}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

// A ws client subscribed to `topic`, collecting message frames as text.
async function nodeSubscriber(origin, topic, options) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, options);
  const messages = [];
  const replies = [];
  ws.on('message', (data) => {
    const text = data.toString('utf8');
    (text.startsWith('{"type":"message"') ? messages : replies).push(text);
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'subscribe', topic, id: 'sub' }));
  await until('the subscribe ack', () => replies.some((r) => r.includes('"id":"sub"')));
  return { ws, messages, replies };
}

test('Node ws: with and without permessage-deflate, the same bytes, far fewer on the wire', async () => {
  const server = await startSwitchboard();
  const compressed = await nodeSubscriber(server.origin, 'prices', {});  // ws offers permessage-deflate by default
  const plain = await nodeSubscriber(server.origin, 'prices', { perMessageDeflate: false });
  assert.match(compressed.ws.extensions, /^permessage-deflate/);
  assert.equal(plain.ws.extensions, '');
  const readBefore = [compressed, plain].map((c) => c.ws._socket.bytesRead);

  const count = 50;
  const expected = [];
  for (let v = 1; v <= count; v++) {
    await publishText(server.origin, 'prices', documentText(v));
    expected.push(envelope('prices', v, documentText(v)));
  }
  await until('every message on both clients', () => compressed.messages.length === count && plain.messages.length === count);
  assert.deepEqual(compressed.messages, expected);
  assert.deepEqual(plain.messages, expected);

  const [zipped, clear] = [compressed, plain].map((c, i) => c.ws._socket.bytesRead - readBefore[i]);
  assert.ok(zipped * 3 < clear, `compressed client read ${zipped} bytes, plain ${clear}`);
  assert.equal(await metric(server.origin, 'switchboard_websocket_compressed_frames_total'), count);
  assert.equal(await metric(server.origin, 'switchboard_websocket_compressed_deliveries_total'), count);

  // ws compresses what it sends too (threshold 0: every message): the server inflates the publish command.
  const publisher = new WebSocket(`${server.origin.replace('http', 'ws')}/ws`, { perMessageDeflate: { threshold: 0 } });
  const acks = [];
  publisher.on('message', (d) => acks.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => { publisher.once('open', resolve); publisher.once('error', reject); });
  assert.match(publisher.extensions, /^permessage-deflate/);
  publisher.send(`{"type":"publish","topic":"prices","id":"p","data":${documentText(99)}}`);
  await until('the publish ack', () => acks.some((a) => a.id === 'p'));
  assert.equal(acks.find((a) => a.id === 'p').type, 'ack');
  await until('the compressed publish delivered', () => plain.messages.length === count + 1);
  assert.equal(plain.messages.at(-1), envelope('prices', count + 1, documentText(99)));
  for (const c of [compressed, plain, { ws: publisher }]) c.ws.close();
});

test('Chromium negotiates permessage-deflate: its WebSocket and switchboard.js read every message', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const page = await openPage(browser, `${server.origin}/healthz`);
  await page.evaluate((origin) => new Promise((resolve, reject) => {
    const ws = window.ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`);
    window.texts = [];
    ws.onmessage = (e) => window.texts.push(e.data);
    ws.onerror = reject;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'subscribe', topic: 'board', id: 1 }));
      resolve();
    };
  }), server.origin);
  await waitFor(page, 'the subscribe ack', () => window.texts.length === 1);
  assert.match(await page.evaluate(() => window.ws.extensions), /^permessage-deflate/);

  const client = await clientPage(browser, server.origin, { transports: ['websocket'] }, ['board']);
  await waitFor(client, 'the client subscribed', () => t.count('subscribed') === 1);

  const count = 20;
  for (let v = 1; v <= count; v++) await publishText(server.origin, 'board', documentText(v));
  await waitFor(page, 'every message', (n) => window.texts.length === n + 1, count);
  const texts = await page.evaluate(() => window.texts.slice(1));
  assert.deepEqual(texts, Array.from({ length: count }, (_, i) => envelope('board', i + 1, documentText(i + 1))));
  await waitFor(client, 'every message in switchboard.js', (n) => (t.received.board || []).length === n, count);
  const data = await client.evaluate(() => t.received.board.map((m) => m.data.version));
  assert.deepEqual(data, Array.from({ length: count }, (_, i) => i + 1));
  // One compression per message, shared by both browser connections.
  assert.equal(await metric(server.origin, 'switchboard_websocket_compressed_frames_total'), count);
  assert.equal(await metric(server.origin, 'switchboard_websocket_compressed_deliveries_total'), 2 * count);
});
