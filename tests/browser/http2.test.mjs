// HTTP/2 in Chromium (docs/client.md, "When HTTP/2 helps"): over https:// one page opens 12 EventSource streams
// and a WebSocket; with HTTP/2 every stream, the WebSocket too (RFC 8441: the server's SETTINGS allow extended
// CONNECT, so Chromium opens wss:// as a stream of the page's connection), shares the page's one connection and
// all receive a published message; with HTTP/2 off the browser's 6 connections per origin leave the rest waiting
// (the WebSocket then has a connection of its own, outside that limit).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, openPage, startSwitchboard, waitFor } from './support/harness.mjs';

const STREAMS = 12;

// A self-signed P-256 certificate for 127.0.0.1, in a temporary directory removed after the test.
function certificate(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-h2-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
  { stdio: 'ignore' });
  return { cert, key };
}

// The page opens STREAMS EventSources and one WebSocket on topic `news`, counting what each receives.
async function openStreams(page) {
  await page.evaluate((n) => {
    window.t = { open: 0, received: new Array(n).fill(0), ws: { acked: false, received: 0 }, sources: [] };
    for (let i = 0; i < n; ++i) {
      const es = new EventSource('/sse?topic=news');
      es.onopen = () => { t.open += 1; };
      es.onmessage = (e) => { if (JSON.parse(e.data).data?.n === 1) t.received[i] += 1; };
      t.sources.push(es);
    }
    const ws = new WebSocket(`wss://${location.host}/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', topic: 'news', id: 1 }));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'ack' && m.id === 1) t.ws.acked = true;
      if (m.type === 'message' && m.data?.n === 1) t.ws.received += 1;
    };
  }, STREAMS);
}

// A gauge of /metrics, read by the page (same origin, its certificate already accepted).
function gauge(page, name) {
  return page.evaluate(async (metric) => {
    const text = await (await fetch('/metrics', { cache: 'no-store' })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
    return line ? Number(line.split(' ')[1]) : null;
  }, name);
}

function publishFromPage(page) {
  return page.evaluate(async () => {
    const res = await fetch('/publish?topic=news', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ n: 1 }) });
    return res.status;
  });
}

test('over HTTP/2, 12 EventSource streams and a WebSocket on one page all receive a message', async (t) => {
  const { cert, key } = certificate(t);
  const server = await startSwitchboard(['--tls-cert', cert, '--tls-key', key]);
  const origin = `https://127.0.0.1:${server.port}`;
  const browser = await launchBrowser({ args: ['--ignore-certificate-errors'] });
  const page = await openPage(browser, `${origin}/healthz`);
  await openStreams(page);
  await waitFor(page, 'every stream open and the WebSocket subscribed', (n) => t.open === n && t.ws.acked, STREAMS);

  assert.equal(await publishFromPage(page), 200);
  await waitFor(page, 'the message on every stream and the WebSocket',
    () => t.received.every((c) => c === 1) && t.ws.received === 1);
  // The 13 channels, the page and its fetches on one HTTP/2 connection: the WebSocket is a stream of it.
  assert.equal(await gauge(page, 'switchboard_http2_connections'), 1);
  assert.equal(await gauge(page, 'switchboard_connections{transport="websocket"}'), 1);
  assert.equal(await gauge(page, 'switchboard_connections{transport="sse"}'), STREAMS);
  // The EventSources, the WebSocket and the /metrics request itself.
  assert.equal(await gauge(page, 'switchboard_http2_streams'), STREAMS + 2);
  await browser.close();
});

test('over HTTP/1.1 the browser holds 6 connections per origin: the other EventSources wait', async (t) => {
  const { cert, key } = certificate(t);
  const server = await startSwitchboard(['--tls-cert', cert, '--tls-key', key, '--no-http2']);
  const origin = `https://127.0.0.1:${server.port}`;
  const browser = await launchBrowser({ args: ['--ignore-certificate-errors'] });
  const page = await openPage(browser, `${origin}/healthz`);
  await openStreams(page);
  // Six streams take the six connections; the WebSocket does not count against them.
  await waitFor(page, 'six streams open and the WebSocket subscribed', () => t.open === 6 && t.ws.acked);

  // The page itself cannot publish now (its connections are all held), so the test publishes from outside.
  const res = await fetch(`http://127.0.0.1:${server.port}/publish?topic=news`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ n: 1 }) });
  assert.equal(res.status, 200);
  await waitFor(page, 'the message on the six open streams and the WebSocket',
    () => t.received.filter((c) => c === 1).length === 6 && t.ws.received === 1);
  // The message has come and gone: the other six never opened.
  const states = await page.evaluate(() => t.sources.map((es) => ['connecting', 'open', 'closed'][es.readyState]));
  assert.equal(states.filter((s) => s === 'open').length, 6, JSON.stringify(states));
  assert.equal(states.filter((s) => s === 'connecting').length, STREAMS - 6, JSON.stringify(states));
  await browser.close();
});
