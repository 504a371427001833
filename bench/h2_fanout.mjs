// The fan-out latency of SSE over HTTP/2 beside SSE over HTTP/1.1, from one Node process (its built-in http and
// http2 clients: bench/loadgen has no HTTP/2 client, and h2load reports no per-message latency).
//
//   node bench/h2_fanout.mjs --port P [--subscribers 1000] [--per-connection 100] [--rate 100] [--duration 10]
//
// For each protocol in turn, on a running switchboard-server at 127.0.0.1:P: N SSE subscribers on a fresh topic
// (HTTP/1.1: N connections; HTTP/2: N streams, --per-connection on each connection), then one HTTP/1.1
// keep-alive publisher at --rate messages/s for --duration s. Each message carries the publisher's clock
// (process.hrtime, the same process), so a delivery's latency is its arrival time minus its publish time, both
// read by this process: what the server and the client's own parsing add. Prints one JSON line per protocol.
// Both protocols share this one client core: compare them with each other, not with the load generator's rows.

import http from 'node:http';
import http2 from 'node:http2';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const port = Number(args.port);
const subscribers = Number(args.subscribers || 1000);
const perConnection = Number(args['per-connection'] || 100);
const rate = Number(args.rate || 100);
const duration = Number(args.duration || 10);
if (!port) {
  console.error('usage: node bench/h2_fanout.mjs --port P [--subscribers N] [--per-connection S] [--rate R] [--duration D]');
  process.exit(2);
}

const now = () => Number(process.hrtime.bigint() / 1000n);  // microseconds

// An SSE body's events, as they complete: `onEvent(name, data)`.
function sseReader(onEvent) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) onEvent(name, data);
    }
  };
}

function withDeadline(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function run(proto) {
  const topic = `fanout-${proto}-${process.pid}-${Date.now()}`;
  const path = `/sse?topic=${topic}`;
  const latencies = [];
  let subscribed = 0;
  let onAllSubscribed;
  const allSubscribed = new Promise((resolve) => { onAllSubscribed = resolve; });
  const onEvent = (name, data) => {
    if (name === 'subscribed') {
      if (++subscribed === subscribers) onAllSubscribed();
      return;
    }
    if (name === 'message') latencies.push(now() - JSON.parse(data).data.ts);
  };
  const closers = [];
  if (proto === 'h2') {
    for (let opened = 0; opened < subscribers;) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
      closers.push(() => session.destroy());
      for (let i = 0; i < perConnection && opened < subscribers; ++i, ++opened) {
        const stream = session.request({ ':path': path });
        stream.setEncoding('utf8');
        stream.on('data', sseReader(onEvent));
        stream.on('error', () => {});
      }
    }
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    closers.push(() => agent.destroy());
    for (let i = 0; i < subscribers; ++i) {
      http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.setEncoding('utf8');
        res.on('data', sseReader(onEvent));
      }).on('error', () => {});
    }
  }
  await withDeadline(allSubscribed, 60_000, `${subscribers} ${proto} subscribers`);

  // The publisher: POST /publish over one keep-alive HTTP/1.1 connection, at a fixed rate.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const total = Math.round(rate * duration);
  const started = now();
  let published = 0;
  for (let seq = 1; seq <= total; ++seq) {
    const due = started + (seq - 1) * 1e6 / rate;
    const wait = (due - now()) / 1000;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const body = JSON.stringify({ seq, ts: now() });
    await withDeadline(new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: `/publish?topic=${topic}`, method: 'POST', agent,
        headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => { if (res.statusCode === 200) published++; resolve(); });
      });
      req.on('error', reject);
      req.end(body);
    }), 10_000, 'a publish');
  }
  const expected = published * subscribers;
  const drained = Date.now() + 10_000;
  while (latencies.length < expected && Date.now() < drained) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  for (const close of closers) close();

  latencies.sort((a, b) => a - b);
  const at = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p / 100))] / 1000 : null;
  return { protocol: proto === 'h2' ? 'HTTP/2' : 'HTTP/1.1', subscribers, per_connection: proto === 'h2' ? perConnection : 1,
    rate, duration, published, deliveries: latencies.length, expected,
    latency_ms: { p50: at(50), p90: at(90), p99: at(99), max: at(100) } };
}

for (const proto of ['h1', 'h2']) console.log(JSON.stringify(await run(proto)));
process.exit(0);
