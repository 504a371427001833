// WebSocket over HTTP/2 (RFC 8441) from Node's built-in http2 client, a third-party HTTP/2 stack: run by
// http2_websocket_test.cpp as `node http2_websocket_node.mjs PORT` against h2c with prior knowledge. It waits for
// the server's SETTINGS to allow extended CONNECT, opens /ws with :protocol websocket, subscribes to topic "node"
// (prints "subscribed"), prints "received DATA" for the first message, does the close handshake and exits 0;
// anything else exits 1 within 15 s.

import http2 from 'node:http2';

const port = process.argv[2];
const fail = (why) => { console.log(`failed: ${why}`); process.exit(1); };
setTimeout(() => fail('timed out'), 15000).unref();

// A client frame: FIN, opcode, masked (RFC 6455 5.3).
function frame(opcode, payload) {
  const body = Buffer.from(payload);
  const key = Buffer.from([1, 2, 3, 4]);
  const head = body.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | body.length])
    : Buffer.from([0x80 | opcode, 0x80 | 126, body.length >> 8, body.length & 0xff]);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, masked]);
}

// The server's frames (unmasked, unfragmented) at the front of `buffer`: [frames, rest].
function frames(buffer) {
  const out = [];
  while (buffer.length >= 2) {
    let n = buffer[1] & 0x7f;
    let at = 2;
    if (n === 126) { if (buffer.length < 4) break; n = buffer.readUInt16BE(2); at = 4; }
    else if (n === 127) { if (buffer.length < 10) break; n = Number(buffer.readBigUInt64BE(2)); at = 10; }
    if (buffer.length < at + n) break;
    out.push({ opcode: buffer[0] & 0x0f, payload: buffer.subarray(at, at + n) });
    buffer = buffer.subarray(at + n);
  }
  return [out, buffer];
}

const session = http2.connect(`http://127.0.0.1:${port}`);
session.on('error', (e) => fail(`session: ${e.message}`));
session.once('remoteSettings', (settings) => {
  if (!settings.enableConnectProtocol) fail('the server does not allow extended CONNECT');
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws',
    'sec-websocket-version': '13' });
  stream.on('error', (e) => fail(`stream: ${e.message}`));
  stream.on('response', (headers) => {
    if (headers[':status'] !== 200) fail(`status ${headers[':status']}`);
    if (headers['sec-websocket-accept']) fail('an HTTP/1.1 handshake answer over HTTP/2');
    stream.write(frame(1, JSON.stringify({ type: 'subscribe', topic: 'node', id: 1 })));
  });
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk) => {
    let got;
    [got, pending] = frames(Buffer.concat([pending, chunk]));
    for (const f of got) {
      if (f.opcode === 8) {  // the server's close frame: the handshake is done, end our side
        console.log(`closed ${f.payload.readUInt16BE(0)}`);
        stream.end();
        continue;
      }
      if (f.opcode !== 1) continue;
      const m = JSON.parse(f.payload.toString());
      if (m.type === 'ack' && m.id === 1) console.log('subscribed');
      if (m.type === 'message' && m.topic === 'node') {
        console.log(`received ${JSON.stringify(m.data)}`);
        const close = Buffer.alloc(2);
        close.writeUInt16BE(1000);
        stream.write(frame(8, close));
      }
    }
  });
  stream.on('close', () => {
    session.close();
    process.exitCode = stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? 0 : 1;
    if (process.exitCode) console.log(`reset ${stream.rstCode}`);
  });
});
