// A Node `ws` broadcast server, the peer the seed README compares with: subscribers connect a WebSocket to
// /ws/<topic>; POST /pub/<topic> sends the body, as one text frame, to every subscriber of that topic.
//
//   node ws_server.js 127.0.0.1 18082 [deflate]
//
// With `deflate`, permessage-deflate as ws does it by default for a server: a compression context per connection
// (context takeover), so every delivery is a compression of its own (bench/compression_wire.mjs).
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const [host = '127.0.0.1', port = '18082', mode = ''] = process.argv.slice(2);
const topics = new Map();  // topic -> Set of sockets
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: mode === 'deflate' });

const server = http.createServer((req, res) => {
  const m = /^\/pub\/([A-Za-z0-9_.:@-]+)$/.exec(req.url);
  if (req.method !== 'POST' || !m) {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const subs = topics.get(m[1]);
    let n = 0;
    if (subs)
      for (const ws of subs)
        if (ws.readyState === WebSocket.OPEN) { ws.send(text); ++n; }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"subscribers":${n}}`);
  });
});

server.on('upgrade', (req, socket, head) => {
  const m = /^\/ws\/([A-Za-z0-9_.:@-]+)$/.exec(req.url);
  if (!m) { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const topic = m[1];
    if (!topics.has(topic)) topics.set(topic, new Set());
    topics.get(topic).add(ws);
    ws.on('close', () => {
      const subs = topics.get(topic);
      subs.delete(ws);
      if (subs.size === 0) topics.delete(topic);
    });
    ws.on('error', () => {});
  });
});

server.maxConnections = 100000;
server.listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
