// Delta updates with third-party decoders: Node's ws subscribers apply the server's deltas with the npm
// fossil-delta package (not our code) to 10,000 random versions of a document, and every version comes out
// byte for byte as published: on subscribers there from the start, one that joins mid-stream and one that
// resumes after missing some. Then Chromium: switchboard.js applies them over WebSocket and SSE.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { applyStringDelta } from 'fossil-delta';
import { clientPage, launchBrowser, startSwitchboard, until, waitFor } from './support/harness.mjs';

// A seeded generator (mulberry32), so that a failure can be replayed.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Successive versions of a document as JSON text written by hand (numbers the way a backend writes them, text
// with multi-byte characters): each version changes a few figures, now and then adds or drops a row, and once
// in a while is a new document altogether.
function versions(count, seed) {
  const random = generator(seed);
  const words = ['prix', 'Größe', 'température', '東京', 'ü', 'naïve', '€', '😀', 'line\\nfeed', 'quote\\"d'];
  const row = (i) => ({ id: `row-${i}`, label: words[Math.floor(random() * words.length)], value: (random() * 1e6).toFixed(2), big: '12345678901234567890' });
  const text = (rows, v) => `{"version":${v},"rows":[${rows.map((r) => `{"id":"${r.id}","label":"${r.label}","value":${r.value},"big":${r.big}}`).join(',')}]}`;
  let rows = Array.from({ length: 12 }, (_, i) => row(i));
  const out = [];
  for (let v = 1; v <= count; v++) {
    if (random() < 0.002) rows = Array.from({ length: 5 + Math.floor(random() * 15) }, (_, i) => row(i + v));
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) rows[Math.floor(random() * rows.length)].value = (random() * 1e6).toFixed(2);
    if (random() < 0.05) rows.push(row(v));
    if (random() < 0.05 && rows.length > 3) rows.splice(Math.floor(random() * rows.length), 1);
    out.push(text(rows, v));
  }
  return out;
}

// The "data" member's text: the envelope's last member (docs/protocol.md).
function rawData(envelope) {
  return envelope.slice(envelope.indexOf(',"data":') + 8, -1);
}

async function metric(origin, name) {
  const body = await (await fetch(`${origin}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

// A ws subscriber that rebuilds every payload itself: full messages as they come, deltas applied with the npm
// decoder to the previous payload's text.
async function subscriber(origin, topic, { delta, since } = {}) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
  const s = { ws, texts: new Map(), deltas: 0, fulls: 0, first: undefined, acked: false, last: undefined, epoch: undefined };
  let base;
  ws.on('message', (data) => {
    const frame = data.toString('utf8');
    const msg = JSON.parse(frame);
    if (msg.type === 'ack') {
      s.acked = true;
      s.epoch = msg.epoch;
      return;
    }
    if (msg.type !== 'message') throw new Error(`unexpected ${frame}`);
    if (msg.encoding === 'delta') {
      assert.ok(base !== undefined, `a delta at offset ${msg.offset} before any full message`);
      base = applyStringDelta(base, msg.data);
      s.deltas++;
    } else {
      base = rawData(frame);
      s.fulls++;
    }
    if (s.first === undefined) s.first = msg.encoding || 'full';
    s.texts.set(msg.offset, base);
    s.last = msg.offset;
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const cmd = { type: 'subscribe', topic, id: 1 };
  if (delta) cmd.delta = true;
  if (since) cmd.since = since;
  ws.send(JSON.stringify(cmd));
  await until('the subscribe ack', () => s.acked);
  return s;
}

// Publishes `texts` over one WebSocket, 200 in flight at a time; resolves once each is acknowledged.
async function publishAll(origin, topic, texts, from = 0) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let acked = 0;
  ws.on('message', (d) => {
    const msg = JSON.parse(d.toString());
    if (msg.type !== 'ack') throw new Error(`publish refused: ${d}`);
    acked++;
  });
  for (let i = 0; i < texts.length; i += 200) {
    const batch = texts.slice(i, i + 200);
    batch.forEach((t, j) => ws.send(`{"type":"publish","topic":"${topic}","id":${from + i + j},"data":${t}}`));
    await until(`acks up to ${i + batch.length}`, () => acked === i + batch.length, 30000);
  }
  ws.close();
}

test('10,000 versions: every delta subscriber rebuilds every version byte for byte with the npm decoder', async () => {
  const server = await startSwitchboard();
  const docs = versions(10000, 20261204);
  const whole = await subscriber(server.origin, 'doc', { delta: true });
  const plain = await subscriber(server.origin, 'doc');
  const leaving = await subscriber(server.origin, 'doc', { delta: true });
  const readBefore = [whole, plain].map((s) => s.ws._socket.bytesRead);

  await publishAll(server.origin, 'doc', docs.slice(0, 3000));
  const joining = await subscriber(server.origin, 'doc', { delta: true });  // mid-stream: from now on
  await publishAll(server.origin, 'doc', docs.slice(3000, 5000), 3000);
  await until('the leaving subscriber has 5,000', () => leaving.texts.size === 5000, 30000);
  leaving.ws.close();
  await publishAll(server.origin, 'doc', docs.slice(5000, 5500), 5000);
  // Back, resuming after its last message: what it missed comes from history, the first one in full.
  const resumed = await subscriber(server.origin, 'doc', { delta: true, since: { offset: 5000, epoch: leaving.epoch } });
  await publishAll(server.origin, 'doc', docs.slice(5500), 5500);
  await until('every subscriber at 10,000', () => [whole, plain, joining, resumed].every((s) => s.last === 10000), 60000);

  for (const [name, s, from] of [['whole', whole, 1], ['plain', plain, 1], ['leaving', leaving, 1],
                                 ['joining', joining, 3001], ['resumed', resumed, 5001]]) {
    const to = name === 'leaving' ? 5000 : 10000;
    assert.equal(s.texts.size, to - from + 1, `${name}: every message once`);
    for (let offset = from; offset <= to; offset++)
      if (s.texts.get(offset) !== docs[offset - 1]) assert.fail(`${name}: version ${offset} differs`);
  }
  // Deltas were used, after a full first message; the plain subscriber never got one.
  for (const s of [whole, joining, resumed]) {
    assert.equal(s.first, 'full');
    assert.ok(s.deltas > s.fulls * 10, `${s.deltas} deltas, ${s.fulls} full`);
  }
  assert.equal(plain.deltas, 0);
  const [deltaBytes, plainBytes] = [whole, plain].map((s, i) => s.ws._socket.bytesRead - readBefore[i]);
  assert.ok(deltaBytes * 4 < plainBytes, `delta subscriber read ${deltaBytes} bytes, plain ${plainBytes}`);
  // The server counted every delta the subscribers applied.
  assert.equal(await metric(server.origin, 'switchboard_delta_deliveries_total'),
               [whole, leaving, joining, resumed].reduce((n, s) => n + s.deltas, 0));
  assert.ok(await metric(server.origin, 'switchboard_delta_bytes_saved_total') > 0);
  for (const s of [whole, plain, joining, resumed]) s.ws.close();
});

test('Chromium: switchboard.js applies deltas over WebSocket and SSE and hands over the documents', async () => {
  const server = await startSwitchboard();
  const browser = await launchBrowser();
  const docs = versions(300, 7);
  const pages = [];
  for (const transport of ['websocket', 'sse']) {
    const page = await clientPage(browser, server.origin, { transports: [transport] });
    await page.evaluate(() => t.subscribe('board', { delta: true }));
    await waitFor(page, 'subscribed', () => t.count('subscribed') === 1);
    pages.push(page);
  }
  const before = await metric(server.origin, 'switchboard_delta_deliveries_total');
  await publishAll(server.origin, 'board', docs);
  for (const page of pages) {
    await waitFor(page, 'every version', (n) => (t.received.board || []).length === n, docs.length);
    const got = await page.evaluate(() => t.received.board.map((m) => [m.offset, m.data]));
    assert.deepEqual(got, docs.map((d, i) => [i + 1, JSON.parse(d)]));
    assert.equal(await page.evaluate(() => t.count('error')), 0);
  }
  // Both pages got deltas: every message but each one's first (and those a delta did not pay for).
  const deltas = (await metric(server.origin, 'switchboard_delta_deliveries_total')) - before;
  assert.ok(deltas > 2 * (docs.length - 1) * 0.9, `${deltas} delta deliveries`);
});
