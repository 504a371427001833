// Bytes on the wire and server CPU for a stream of versions of one JSON document (~1.3 KB, two prices change
// from one version to the next), on real sockets, switchboard beside the peers that compress:
//   - switchboard: plain; permessage-deflate (compressed once per message, shared); delta updates; both;
//   - Node's ws: plain; permessage-deflate as ws does it for a server (a context per connection);
//   - Nchan: plain; nchan_deflate_message_for_websocket (compressed once per message at publish).
// Each setup: SUBSCRIBERS WebSocket clients (Node's ws, offering permessage-deflate or not), MESSAGES versions
// published one at a time over HTTP. Reported per delivery: the bytes each client read off its socket, and the
// server's CPU (user + system, /proc) over the publishing.
//
//   node bench/compression_wire.mjs BUILD_DIR [SUBSCRIBERS] [MESSAGES]
//
// Needs nginx with Nchan and bench/peers' npm packages (bench/run installs both). Loopback only; every
// process it starts is stopped by its PID.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WebSocket = createRequire(path.join(here, 'peers/package.json'))('ws');
const [build = 'build', subscribersArg = '50', messagesArg = '200'] = process.argv.slice(2);
const SUBSCRIBERS = Number(subscribersArg);
const MESSAGES = Number(messagesArg);
const TICK = 1 / 100;  // seconds per clock tick (/proc/PID/stat), as sysconf(_SC_CLK_TCK) is on Linux

// The documents of bench/micro/compression_bench.cpp: 12 rows, two prices changing a little each version.
function documents(count) {
  let seed = 3;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const prices = new Array(12).fill(10000);
  const out = [];
  for (let v = 0; v < count; v++) {
    for (let k = 0; k < 2; k++) prices[Math.floor(random() * 12)] += Math.floor(random() * 21) - 10;
    const rows = prices.map((p, i) =>
      `{"symbol":"SYM${i}","price":${Math.floor(p / 100)}.${p % 100},"currency":"EUR","exchange":"XETRA","updated":"2026-12-04T12:00:00Z"}`);
    out.push(`{"version":${v},"rows":[${rows.join(',')}]}`);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, condition, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK;  // utime, stime
}

// A server process on a free port; `pid()` is the one that serves (nginx's worker).
async function startServer(name, port) {
  let args;
  let tmp;
  if (name === 'switchboard') {
    args = [path.resolve(build, 'examples/server/switchboard-server'), '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
  } else if (name.startsWith('node-ws')) {
    args = ['node', path.join(here, 'peers/ws_server.js'), '127.0.0.1', String(port), name === 'node-ws-deflate' ? 'deflate' : ''];
  } else {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-nchan.'));
    const conf = fs.readFileSync(path.join(here, 'peers/nchan.conf.in'), 'utf8').replaceAll('@DIR@', tmp).replaceAll('@PORT@', String(port));
    fs.writeFileSync(path.join(tmp, 'nginx.conf'), conf);
    args = ['nginx', '-c', path.join(tmp, 'nginx.conf'), '-p', tmp];
  }
  const proc = spawn(args[0], args.slice(1), { stdio: 'ignore' });
  await until(`${name} listening`, () => listening(port), 15000);
  let served = proc.pid;
  if (name === 'nchan') {
    await until('the nginx worker', () => fs.readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim() !== '');
    served = Number(fs.readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(' ')[0]);
  }
  return {
    pid: served,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const SETUPS = [
  { label: 'switchboard, plain', server: 'switchboard', deflate: false },
  { label: 'switchboard, permessage-deflate (shared)', server: 'switchboard', deflate: true },
  { label: 'switchboard, delta', server: 'switchboard', deflate: false, delta: true },
  { label: 'switchboard, delta + permessage-deflate', server: 'switchboard', deflate: true, delta: true },
  { label: 'Node ws, plain', server: 'node-ws', deflate: false },
  { label: 'Node ws, permessage-deflate (per connection)', server: 'node-ws-deflate', deflate: true },
  { label: 'Nchan, plain', server: 'nchan', deflate: false },
  { label: 'Nchan, permessage-deflate (nchan_deflate_message_for_websocket)', server: 'nchan', deflate: true, publish: 'pubz' },
];

async function measure(setup, docs) {
  const port = await freePort();
  const server = await startServer(setup.server, port);
  const origin = `127.0.0.1:${port}`;
  try {
    const clients = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const url = setup.server === 'switchboard' ? `ws://${origin}/ws`
        : setup.server === 'nchan' ? `ws://${origin}/sub/ws/doc` : `ws://${origin}/ws/doc`;
      const ws = new WebSocket(url, { perMessageDeflate: setup.deflate });
      const c = { ws, messages: 0, acked: setup.server !== 'switchboard' };
      ws.on('message', (data) => {
        const text = data.toString();
        if (setup.server === 'switchboard' && !text.startsWith('{"type":"message"')) c.acked = true;
        else c.messages++;
      });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      if (setup.server === 'switchboard')
        ws.send(JSON.stringify({ type: 'subscribe', topic: 'doc', id: 1, ...(setup.delta ? { delta: true } : {}) }));
      clients.push(c);
    }
    await until('every subscription', () => clients.every((c) => c.acked));
    if (setup.server === 'nchan') await new Promise((r) => setTimeout(r, 200));  // Nchan does not acknowledge
    const before = clients.map((c) => c.ws._socket.bytesRead);
    const cpuBefore = cpuSeconds(server.pid);
    const publishPath = setup.server === 'switchboard' ? '/publish?topic=doc' : `/${setup.publish || 'pub'}/doc`;
    for (const d of docs) {
      const res = await fetch(`http://${origin}${publishPath}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: d });
      if (!res.ok) throw new Error(`${setup.label}: publish answered ${res.status}`);
      await res.arrayBuffer();
    }
    await until('every delivery', () => clients.every((c) => c.messages >= docs.length), 60000);
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const read = clients.reduce((n, c, i) => n + c.ws._socket.bytesRead - before[i], 0);
    for (const c of clients) c.ws.close();
    const deliveries = SUBSCRIBERS * docs.length;
    return { bytes: read / deliveries, cpuPerMessage: (cpu / docs.length) * 1e6, cpuPerDelivery: (cpu / deliveries) * 1e6 };
  } finally {
    await server.stop();
  }
}

const docs = documents(MESSAGES);
const average = Math.round(docs.reduce((n, d) => n + d.length, 0) / docs.length);
console.log(`${SUBSCRIBERS} WebSocket subscribers (Node's ws), ${MESSAGES} versions of a ${average}-byte JSON document, ` +
            `published one at a time over HTTP; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log('| server, frames | bytes read per delivery | server CPU per message | server CPU per delivery |');
console.log('|---|---:|---:|---:|');
for (const setup of SETUPS) {
  const r = await measure(setup, docs);
  console.log(`| ${setup.label} | ${r.bytes.toFixed(0)} | ${r.cpuPerMessage.toFixed(0)} us | ${r.cpuPerDelivery.toFixed(1)} us |`);
}
