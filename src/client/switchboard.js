// switchboard.js: the browser client of switchboard (https://.../docs/client.md). One dependency-free ES module.
//
//   import { Switchboard } from '/switchboard.js';
//   const sb = new Switchboard('', { transports: ['websocket', 'sse', 'long-polling'] });
//   sb.subscribe('news', (data, meta) => console.log(meta.offset, data));
//   const position = await sb.publish('news', { hello: 'world' });
//
// It tries the transports in order and keeps the first that proves itself: WebSocket, then Server-Sent Events
// (publishing with POST /publish), then long polling. A transport that fails to open, or opens but delivers
// nothing within `openTimeout` (a proxy that buffers the stream), is given up for the next one, with a
// `fallback` event. There is no negotiate request: the first transport that works costs nothing extra.
// A lost connection is reopened with exponential backoff and jitter, and every topic resumes from its last
// position, so nothing published meanwhile is lost within the server's history; when the server cannot honour a
// position (history gone, new epoch) the `subscribed` event says `recovered: false`. Close codes come in ranges
// (docs/protocol.md): 3000-3499 (the application's) and 4000-4499 (switchboard's) reconnect; 3500-3999 and
// 4500-4999 are terminal: the client stops, with a `closed` event holding the code and reason. Every transport
// carries them: the WebSocket close frame, the SSE `close` event, the long poll's `close` field.
//
// It speaks docs/protocol.md: WebSocket JSON commands on /ws; /sse?topic=..&since=<cursor>; /poll?topic=..
// &cursor=<cursor>; POST /publish?topic=T. Cursors are opaque to applications, but this client ships with the
// server and builds them itself (`<offset>.<epoch>.<topic>` joined by `,`) so it can move a subscription
// between transports.

const DEFAULTS = {
  transports: ['websocket', 'sse', 'long-polling'],
  token: undefined,
  paths: { websocket: '/ws', sse: '/sse', 'long-polling': '/poll', publish: '/publish', presence: '/presence' },
  openTimeout: 5000,      // ms for a transport to prove it works (a subscription acknowledged, a pong)
  pollOpenGrace: 1000,    // ms a poll may be held by the server before the long-polling transport counts as open
  pollTimeout: 60000,     // ms a poll may take in all (the server holds one 25 s by default) before it is given up
  pingInterval: 25000,    // ms without input after which a WebSocket is pinged; no answer within openTimeout: dead
  backoff: { initial: 250, max: 15000 },  // ms: the reconnect delay doubles from initial up to max, with jitter
  maxQueuedPublishes: 1000,  // publishes waiting for a connection; past it publish() rejects
};

const TRANSPORTS = ['websocket', 'sse', 'long-polling'];
// What the server says of a topic's presence: its WebSocket frame types and SSE event names.
const PRESENCE_EVENTS = ['join', 'leave', 'presence_diff', 'presence_stats'];

// The reconnect delay's ceiling after `attempt` failed attempts: `initial` doubled per attempt, at most `max` (ms).
function backoffCeiling({ initial, max }, attempt) {
  return Math.min(max, initial * 2 ** Math.min(attempt, 30));
}

/** A close code after which the client must not reconnect: the application's 3500-3999, switchboard's 4500-4999. */
export function isTerminalCode(code) {
  return (code >= 3500 && code <= 3999) || (code >= 4500 && code <= 4999);
}

// The application's "reconnect" codes: the server answered, so the transport works even if it had not proved
// itself yet.
function isApplicationReconnect(code) {
  return code >= 3000 && code <= 3499;
}

/** True for a pattern (`sports.*`, `orders.>`): a name with a wildcard token, which no topic has. */
export function isPattern(name) {
  return name.includes('*') || name.includes('>');
}

/** NATS semantics, as the server's: `*` is exactly one token, a last `>` one or more. */
export function patternMatches(pattern, topic) {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

function encodeCursor(entries) {
  return entries.map(([topic, p]) => `${p.offset}.${p.epoch}.${topic}`).join(',');
}

function decodeCursor(text) {
  const out = new Map();
  if (!text) return out;
  for (const entry of text.split(',')) {
    const first = entry.indexOf('.');
    const second = entry.indexOf('.', first + 1);
    if (first <= 0 || second < 0) continue;
    out.set(entry.slice(second + 1), { offset: Number(entry.slice(0, first)), epoch: entry.slice(first + 1, second) });
  }
  return out;
}

class SwitchboardError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'SwitchboardError';
    this.code = code;
  }
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return new SwitchboardError(body.error.code, body.error.message);
  } catch (_) { /* not our JSON: a proxy's page */ }
  return new SwitchboardError('http_' + response.status, `HTTP ${response.status}`);
}

// ---------------------------------------------------------------------------------------------------------
// Transports. Each gets the client (`sb`) and calls back: sb._opened(t), sb._failed(t, reason) before open,
// sb._lost(t, reason, code) after, sb._deliver(envelope), sb._acknowledged(topic, position, recovered).

class WebSocketTransport {
  constructor(sb) {
    this.sb = sb;
    this.name = 'websocket';
    this.nextId = 1;
    this.waiting = new Map();  // command id -> {resolve, reject, topic, kind}
    this.isOpen = false;
    // A delta that cannot be applied: subscribe again from the last message delivered; the server sends the
    // next one in full.
    this.deltas = new DeltaBases((topic) => this.subscribe(topic));
  }

  start() {
    const url = this.sb._url(this.sb.options.paths.websocket);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    // The server subscribes the server-side topics before any command is read: their positions go with the
    // upgrade, so that they resume in order (a subscribe sent after would come behind their live messages).
    const entries = [];
    for (const topic of this.sb.serverTopics) {
      const s = this.sb._since(topic);
      if (s) entries.push([topic, s]);
    }
    if (entries.length) url.searchParams.set('since', encodeCursor(entries));
    let ws;
    try {
      ws = new WebSocket(url.href);
    } catch (e) {
      this.sb._failed(this, String(e));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      // Open is proved by an answer, not by the handshake: a proxy may pass the upgrade and then nothing.
      const topics = this.sb._topics();
      const patterns = this.sb._patterns();
      if (topics.length === 0 && patterns.length === 0) this._send({ type: 'ping', id: this._id('ping') });
      for (const topic of topics) this.subscribe(topic);
      for (const pattern of patterns) this.subscribePattern(pattern);
    };
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (e) => (typeof e.data === 'string' ? this._receive(e.data) : this._receiveBinary(e.data));
    ws.onclose = (e) => {
      clearInterval(this.pinger);
      this._rejectAll(new SwitchboardError('connection_lost', 'the connection closed before the answer'));
      if (this.stopped) return;
      const reason = e.reason || `closed (${e.code})`;
      if (this.isOpen) this.sb._lost(this, reason, e.code);
      else this.sb._failed(this, reason, e.code);
    };
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    this._rejectAll(new SwitchboardError('connection_lost', 'the client closed the connection'));
    if (this.ws) {
      this.ws.onopen = this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
      try { this.ws.close(1000); } catch (_) { /* already closed */ }
    }
  }

  subscribe(topic) {
    const cmd = { type: 'subscribe', topic, id: this._id('subscribe', topic) };
    const since = this.sb._since(topic);
    if (since) cmd.since = since;
    if (this.sb._wantsDelta(topic)) {
      cmd.delta = true;
      this.deltas.track(topic);
    }
    if (this.sb._wantsPresence(topic)) {
      cmd.presence = true;
      // The key of the member this client was: within the server's grace it is that member again.
      if (this.sb.presenceKey) cmd.resume = this.sb.presenceKey;
    }
    this._send(cmd);
  }

  // Every member of `topic`, a page at a time (docs/protocol.md, "Presence").
  async presence(topic) {
    const members = [];
    let cursor;
    for (;;) {
      const page = await new Promise((resolve, reject) => {
        const cmd = { type: 'presence', topic, id: this._id('presence', topic, resolve, reject) };
        if (cursor) cmd.cursor = cursor;
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
          return reject(new SwitchboardError('connection_lost', 'the connection is closed'));
        this._send(cmd);
      });
      members.push(...page.members);
      if (!page.next) return members;
      cursor = page.next;
    }
  }

  unsubscribe(topic) {
    this.deltas.forget(topic);
    this._send({ type: 'unsubscribe', topic });
  }

  subscribePattern(pattern) {
    const cmd = { type: 'subscribe', pattern, id: this._id('subscribe-pattern', pattern) };
    const since = this.sb._patternSince(pattern);
    if (since) cmd.since = { sequence: since.offset, epoch: since.epoch };
    this._send(cmd);
  }

  unsubscribePattern(pattern) {
    this._send({ type: 'unsubscribe', pattern });
  }

  publish(topic, data, key) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new SwitchboardError('connection_lost', 'the connection is closed'));
    return new Promise((resolve, reject) => {
      const id = this._id('publish', topic, resolve, reject);
      const bytes = asBytes(data);
      const cmd = key === undefined ? { type: 'publish', topic, id } : { type: 'publish', topic, id, idempotency_key: key };
      if (!bytes) return this._send(Object.assign(cmd, { data }));
      // Bytes go in a binary frame: the command without data on one line, then the bytes (docs/protocol.md).
      const head = new TextEncoder().encode(JSON.stringify(cmd) + '\n');
      const frame = new Uint8Array(head.length + bytes.length);
      frame.set(head);
      frame.set(bytes, head.length);
      this.ws.send(frame);
    });
  }

  _id(kind, topic, resolve, reject) {
    const id = this.nextId++;
    this.waiting.set(id, { kind, topic, resolve, reject });
    return id;
  }

  _send(cmd) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(cmd));
  }

  // A binary message: its envelope without data (JSON, one line), a line feed, then the payload's bytes.
  _receiveBinary(buffer) {
    this.lastInput = Date.now();
    this.pingAt = 0;
    const bytes = new Uint8Array(buffer);
    const end = bytes.indexOf(10);
    if (end < 0) return;
    let msg;
    try { msg = JSON.parse(new TextDecoder().decode(bytes.subarray(0, end))); } catch (_) { return; }
    if (msg.type === 'message') this.sb._deliver(msg.topic, msg.offset, undefined, bytes.slice(end + 1), msg.sequence);
  }

  _receive(text) {
    this.lastInput = Date.now();
    this.pingAt = 0;
    let msg;
    try { msg = JSON.parse(text); } catch (_) { return; }
    if (msg.type === 'message') {
      const data = this.deltas.payload(msg, text);
      if (data !== DeltaBases.SKIP) this.sb._deliver(msg.topic, msg.offset, undefined, data, msg.sequence);
      return;
    }
    if (msg.type === 'replayed') {
      this.sb._patternReplayed(msg.pattern, { offset: msg.sequence, epoch: msg.epoch });
      return;
    }
    if (PRESENCE_EVENTS.includes(msg.type)) {
      this.sb._presenceEvent(msg);
      return;
    }
    if (msg.type === 'unsubscribed') {
      this.sb._unsubscribedByServer(msg);
      return;
    }
    if (msg.type === 'subscribed') {
      // A server-side subscription (the token's topics): the server subscribed this client as it connected.
      this._proved();
      this.sb.serverTopics.add(msg.topic);
      this.sb._acknowledged(msg.topic, { offset: msg.offset, epoch: msg.epoch }, msg.recovered, true);
      return;
    }
    const w = msg.id !== undefined ? this.waiting.get(msg.id) : undefined;
    if (w) this.waiting.delete(msg.id);
    if (msg.type === 'ack' && w && w.kind === 'subscribe') {
      this._proved();
      if (msg.presence) this.sb._presenceAcknowledged(msg.presence);
      this.sb._acknowledged(msg.topic, { offset: msg.offset, epoch: msg.epoch }, msg.recovered);
    } else if (msg.type === 'ack' && w && w.kind === 'subscribe-pattern') {
      this._proved();
      this.sb._patternAcknowledged(w.topic, { offset: msg.sequence, epoch: msg.epoch }, msg.recovered, msg.lost, true);
    } else if (msg.type === 'ack' && w && w.kind === 'publish') {
      w.resolve({ topic: msg.topic, offset: msg.offset, epoch: msg.epoch });
    } else if (msg.type === 'presence' && w && w.kind === 'presence') {
      w.resolve(msg);
    } else if (msg.type === 'pong') {
      this._proved();
    } else if (msg.type === 'error') {
      const err = new SwitchboardError(msg.code, msg.message);
      if (w && w.reject) w.reject(err);
      else if (w && w.kind === 'subscribe-pattern') {
        this._proved();
        if (msg.code !== 'unsubscribed') this.sb._refusedPattern(w.topic, err);
      } else if (w && w.kind === 'subscribe') {
        // An answer all the same: the transport works. The server refused this topic, unless the answer is to a
        // subscribe this client called off itself (unsubscribed before it completed): the topic may have been
        // subscribed again since, and that later subscribe has its own answer.
        this._proved();
        if (msg.code !== 'unsubscribed') this.sb._refused(w.topic, err);
      }
    }
  }

  _proved() {
    if (this.isOpen) return;
    this.isOpen = true;
    this._keepalive();
    this.sb._opened(this);
  }

  // A connection that died without a FIN (a laptop's sleep, a NAT that forgot it) looks open to the browser
  // for minutes: ping when idle, and give the connection up when the pong does not come.
  _keepalive() {
    const every = this.sb.options.pingInterval;
    if (!every) return;
    this.lastInput = Date.now();
    this.pinger = setInterval(() => {
      const now = Date.now();
      if (this.pingAt && now - this.pingAt > this.sb.options.openTimeout) {
        this.stop();  // silences and closes the socket; the client still has to hear of the loss
        this.sb._lost(this, 'no answer to ping', 4003);
      } else if (!this.pingAt && now - this.lastInput >= every) {
        this.pingAt = now;
        this._send({ type: 'ping' });
      }
    }, Math.max(100, Math.floor(every / 4)));
  }

  _rejectAll(err) {
    for (const w of this.waiting.values()) if (w.reject) w.reject(err);
    this.waiting.clear();
  }
}

// SSE and long polling receive on a stream of topics fixed per request: a change of topics reopens it, from the
// positions reached, so nothing is missed. Both publish with POST.
class HttpTransport {
  constructor(sb) {
    this.sb = sb;
    this.isOpen = false;
  }

  subscribe() { this._restartSoon(); }
  unsubscribe() { this._restartSoon(); }
  subscribePattern() { this._restartSoon(); }
  unsubscribePattern() { this._restartSoon(); }

  _restartSoon() {
    // Several subscribe() calls in one task make one new request.
    if (this.restartQueued || this.stopped) return;
    this.restartQueued = true;
    queueMicrotask(() => {
      this.restartQueued = false;
      if (!this.stopped) this._request();
    });
  }

  _params(cursorName, deltas) {
    const topics = this.sb._topics();
    const url = this.sb._url(this.sb.options.paths[this.name]);
    for (const t of topics) url.searchParams.append('topic', t);
    // A stream takes delta updates for all its topics or none: asked when any subscription wants them.
    if (deltas && topics.some((t) => this.sb._wantsDelta(t))) {
      url.searchParams.set('delta', '1');
      for (const t of topics) deltas.track(t);
    }
    // The same for presence: a stream or a poll is a member of all its topics or none. Each poll takes the
    // membership over from the one before with the resume key, so a polling client stays one member. Once the
    // server said it cannot (a backplane without presence, a namespace with it off), requests go without it.
    if (!this.sb.presenceRefused && topics.some((t) => this.sb._wantsPresence(t))) {
      url.searchParams.set('presence', '1');
      if (this.sb.presenceKey) url.searchParams.set('presence_resume', this.sb.presenceKey);
    }
    const entries = [];
    for (const t of topics) {
      const s = this.sb._since(t);
      if (s) entries.push([t, s]);
    }
    // A pattern's entry holds the server's sequence: it resumes every topic the pattern matches.
    const patterns = this.sb._patterns();
    for (const p of patterns) {
      url.searchParams.append('pattern', p);
      const s = this.sb._patternSince(p);
      if (s) entries.push([p, s]);
    }
    if (entries.length) url.searchParams.set(cursorName, encodeCursor(entries));
    return { url, topics, patterns };
  }

  // `carried`: a stream of topics did work. With no topic there is nothing to stream, so the transport opens
  // (publishing needs no stream) but is proved only by its first stream.
  _proved(carried = true) {
    if (this.stopped) return;
    if (carried) this.carried = true;
    if (this.isOpen) return;
    this.isOpen = true;
    this.sb._opened(this);
  }

  _trouble(reason, code) {
    if (this.stopped) return;
    this.stopped = true;
    this._close();
    // A transport whose streams never worked failed (the next is tried), even if it was open for publishing.
    if (this.isOpen && this.carried) this.sb._lost(this, reason, code);
    else this.sb._failed(this, reason, code);
  }

  start() { this._request(); }

  stop() {
    this.stopped = true;
    this._close();
  }

  async publish(topic, data, key) {
    const url = this.sb._url(this.sb.options.paths.publish);
    url.searchParams.set('topic', topic);
    const bytes = asBytes(data);
    const headers = { 'Content-Type': bytes ? 'application/octet-stream' : 'application/json' };
    if (key !== undefined) headers['Idempotency-Key'] = key;
    let response;
    try {
      response = await fetch(url.href, { method: 'POST', headers, body: bytes || JSON.stringify(data) });
    } catch (e) {
      // No answer: the publish may or may not have landed.
      throw new SwitchboardError('connection_lost', `the publish got no answer: ${e}`);
    }
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  // A snapshot without a command channel: GET /presence, a page at a time, each page's next as the cursor.
  async presence(topic) {
    const members = [];
    let cursor;
    do {
      const url = this.sb._url(this.sb.options.paths.presence);
      url.searchParams.set('topic', topic);
      if (cursor) url.searchParams.set('cursor', cursor);
      const response = await fetch(url.href, { cache: 'no-store' });
      if (!response.ok) throw await errorOf(response);
      const page = await response.json();
      members.push(...page.members);
      cursor = page.next;
    } while (cursor);
    return members;
  }
}

class SseTransport extends HttpTransport {
  constructor(sb) {
    super(sb);
    this.name = 'sse';
  }

  _request() {
    this._close();
    // A new stream: its first message of each topic comes in full. A delta that cannot be applied reopens it.
    this.deltas = new DeltaBases(() => this._restartSoon());
    const { url, topics, patterns } = this._params('since', this.deltas);
    if (topics.length === 0 && patterns.length === 0) {
      this._proved(false);
      return;
    }
    const pending = new Set([...topics, ...patterns]);
    // A stream that says nothing (a proxy that buffers it) is given up.
    const timeout = this.sb.options.openTimeout;
    this.watchdog = setTimeout(() => { if (pending.size) this._trouble(`nothing within ${timeout} ms`); }, timeout);
    const es = new EventSource(url.href);
    this.es = es;
    let closeCode, closeReason;
    es.addEventListener('subscribed', (e) => {
      const info = JSON.parse(e.data);
      if (info.pattern !== undefined) {
        // Its position then comes with the stream's event ids (the server moves it as the replay ends).
        this.sb._patternAcknowledged(info.pattern, { offset: info.sequence, epoch: info.epoch }, info.recovered, info.lost, false);
        pending.delete(info.pattern);
        if (pending.size === 0) this._proved();
        return;
      }
      if (info.presence) this.sb._presenceAcknowledged(info.presence);
      this.sb._acknowledged(info.topic, { offset: info.offset, epoch: info.epoch }, info.recovered, info.server);
      pending.delete(info.topic);
      if (pending.size === 0) this._proved();
    });
    es.onmessage = (e) => {
      const positions = decodeCursor(e.lastEventId);
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      const p = positions.get(msg.topic);
      const data = this.deltas.payload(msg, e.data);
      if (data !== DeltaBases.SKIP) this.sb._deliver(msg.topic, msg.offset, p && p.epoch, data);
      this.sb._patternPositions(positions);
    };
    for (const type of PRESENCE_EVENTS)
      es.addEventListener(type, (e) => {
        try { this.sb._presenceEvent(JSON.parse(e.data)); } catch (_) { /* not JSON: not ours */ }
      });
    es.addEventListener('unsubscribed', (e) => this.sb._unsubscribedByServer(JSON.parse(e.data)));
    es.addEventListener('close', (e) => {
      try { ({ code: closeCode, reason: closeReason } = JSON.parse(e.data)); } catch (_) { /* keep undefined */ }
    });
    // EventSource would retry by itself, but with the topics of its first request: we reopen it ourselves,
    // after the client's backoff, with the positions reached (or not at all, after a terminal code).
    es.onerror = () => this._trouble(closeCode ? closeReason || `closed (${closeCode})` : 'stream failed', closeCode);
  }

  _close() {
    clearTimeout(this.watchdog);
    if (this.es) {
      // An event of only an id (a pattern's replay that ended, a stream with nothing to replay) moved it too.
      this.sb._patternPositions(decodeCursor(this.es.lastEventId));
      this.es.onerror = this.es.onmessage = null;
      this.es.close();
      this.es = null;
    }
  }
}

class PollTransport extends HttpTransport {
  constructor(sb) {
    super(sb);
    this.name = 'long-polling';
    this.generation = 0;
  }

  async _request(fresh = true) {
    this._close();
    const generation = ++this.generation;
    // Between two polls nothing is subscribed: the cursor carries each pattern's sequence, and the next poll
    // reads what its topics got meanwhile.
    const { url, topics, patterns } = this._params('cursor');
    if (topics.length === 0 && patterns.length === 0) {
      this._proved(false);
      return;
    }
    const before = new Map(topics.map((t) => [t, this.sb._since(t)]));
    const abort = new AbortController();
    this.abort = abort;
    // A poll the server holds is a poll it accepted and subscribed (refusals, and resumes it cannot honour,
    // answer at once): that plays the part of WebSocket's subscribe ack, unless the answer comes first.
    let announced = false;
    const announce = (positions, unrecovered, lost) => {
      if (announced) return;
      announced = true;
      for (const topic of topics) this.sb._polled(topic, before.get(topic), positions && positions.get(topic), unrecovered);
      for (const p of patterns) {
        const at = positions && positions.get(p);
        this.sb._patternAcknowledged(p, at || {}, !unrecovered, lost, false);
      }
    };
    const grace = setTimeout(() => {
      this._proved();
      if (fresh) announce(null, false);
    }, this.sb.options.pollOpenGrace);
    // A path that died silently would hold the request for ever.
    let timedOut = false;
    const deadline = setTimeout(() => { timedOut = true; abort.abort(); }, this.sb.options.pollTimeout);
    let answer;
    try {
      const response = await fetch(url.href, { signal: abort.signal, cache: 'no-store' });
      if (!response.ok) throw await errorOf(response);
      answer = await response.json();
    } catch (e) {
      clearTimeout(grace);
      clearTimeout(deadline);
      if (timedOut && generation === this.generation && !this.stopped)
        return this._trouble(`no answer within ${this.sb.options.pollTimeout} ms`);
      if (generation !== this.generation || this.stopped) return;  // replaced by a newer request
      // Presence refused for the whole poll, which would stop its messages too: say so, and poll without it.
      if (e && e.code === 'presence_unavailable' && url.searchParams.has('presence') && !this.sb.presenceRefused) {
        this.sb._presenceRefused(topics, e);
        return this._request(fresh);
      }
      this._trouble(e && e.message ? e.message : String(e), e && e.code);
      return;
    }
    clearTimeout(grace);
    clearTimeout(deadline);
    if (generation !== this.generation || this.stopped) return;
    this._proved();
    // A member: the key the next poll presents to stay the same member (no join and leave between polls).
    if (answer.presence) this.sb._presenceAcknowledged(answer.presence);
    const positions = decodeCursor(answer.cursor);
    // "recovered" is for the whole request, so every resumed topic of it is told.
    const unrecovered = answer.recovered === false;
    if (fresh || unrecovered) announce(positions, unrecovered, answer.lost);
    for (const m of answer.messages) {
      const p = positions.get(m.topic);
      this.sb._deliver(m.topic, m.offset, p && p.epoch, payloadOf(m));
    }
    for (const [topic, p] of positions) this.sb._advance(topic, p);
    this.sb._patternPositions(positions);
    // The server closed this poll's channel with a code: act on it as on a WebSocket close frame's.
    const close = answer.close;
    if (close) return this._trouble(close.reason || `closed (${close.code})`, close.code);
    if (!this.stopped && generation === this.generation) this._request(false);
  }

  _close() {
    this.generation++;
    if (this.abort) {
      this.abort.abort();
      this.abort = null;
    }
  }
}

// Binary data to publish as bytes (a Uint8Array or any typed array, a DataView, an ArrayBuffer), or undefined.
function asBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

// An envelope's data: a binary payload comes as base64 over SSE and long polling, and is handed over as bytes.
function payloadOf(envelope) {
  if (envelope.encoding !== 'base64') return envelope.data;
  const text = atob(envelope.data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Delta updates (docs/protocol.md): a message with "encoding":"delta" carries a Fossil delta against the
// previous message of its topic on the same connection. Its payload's JSON text is kept per topic, byte for
// byte as it came (the text between the envelope's "data": and its closing brace; never re-serialized), so
// that the next delta applies to exactly what the server had.
class DeltaBases {
  constructor(resync) {
    this.resync = resync;
    this.texts = new Map();    // topic -> the last payload's JSON text (null until the first full message)
    this.resyncing = new Set();
  }

  // The server sends a delta only against the message it sent last on this connection, which came here
  // first: a topic subscribed again keeps its text.
  track(topic) {
    if (!this.texts.has(topic)) this.texts.set(topic, null);
  }

  forget(topic) {
    this.texts.delete(topic);
    this.resyncing.delete(topic);
  }

  // The application's data for `msg` (parsed from `envelopeText`), or SKIP for a delta that cannot be applied.
  payload(msg, envelopeText) {
    if (!this.texts.has(msg.topic)) return payloadOf(msg);
    if (msg.encoding !== 'delta') {
      this.texts.set(msg.topic, msg.encoding === 'base64' ? null : rawData(envelopeText));
      this.resyncing.delete(msg.topic);
      return payloadOf(msg);
    }
    const base = this.texts.get(msg.topic);
    let text;
    try {
      if (base === null) throw new Error('no base');
      text = applyDelta(base, msg.data);
      const data = JSON.parse(text);
      this.texts.set(msg.topic, text);
      return data;
    } catch (_) {
      // Never a wrong document: drop it and get the topic again in full from the last message delivered.
      this.texts.set(msg.topic, null);
      if (!this.resyncing.has(msg.topic)) {
        this.resyncing.add(msg.topic);
        this.resync(msg.topic);
      }
      return DeltaBases.SKIP;
    }
  }
}
DeltaBases.SKIP = Symbol('skip');

// The "data" member's text: it is the envelope's last member, and topic names hold no quote.
function rawData(envelopeText) {
  return envelopeText.slice(envelopeText.indexOf(',"data":') + 8, -1);
}

const DELTA_DIGITS = (() => {
  const table = new Int8Array(128).fill(-1);
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~';
  for (let i = 0; i < 64; i++) table[digits.charCodeAt(i)] = i;
  return table;
})();

// Fossil's delta format applied to UTF-8 text: `base` and `delta` are strings, the result a string; throws
// on a delta that is malformed or whose result has the wrong size or checksum.
function applyDelta(base, delta) {
  const source = new TextEncoder().encode(base);
  const d = new TextEncoder().encode(delta);
  let pos = 0;
  const fail = () => { throw new Error('invalid delta'); };
  const number = () => {
    const start = pos;
    let n = 0;
    while (pos < d.length && d[pos] < 128 && DELTA_DIGITS[d[pos]] >= 0) n = n * 64 + DELTA_DIGITS[d[pos++]];
    if (pos === start || n > Number.MAX_SAFE_INTEGER) fail();
    return n;
  };
  const size = number();
  if (d[pos++] !== 10) fail();
  const out = new Uint8Array(size);
  let length = 0;
  while (pos < d.length) {
    const n = number();
    const op = d[pos++];
    if (op === 64) {  // '@': copy n bytes of the source from an offset
      const offset = number();
      if (d[pos++] !== 44 || offset + n > source.length || length + n > size) fail();
      out.set(source.subarray(offset, offset + n), length);
      length += n;
    } else if (op === 58) {  // ':': n literal bytes
      if (pos + n > d.length || length + n > size) fail();
      out.set(d.subarray(pos, pos + n), length);
      length += n;
      pos += n;
    } else if (op === 59) {  // ';': the checksum, last
      if (pos !== d.length || length !== size || deltaChecksum(out) !== n) fail();
      return new TextDecoder('utf-8', { fatal: true }).decode(out);
    } else {
      fail();
    }
  }
  return fail();
}

// The 32-bit sum of the bytes as big-endian words, the last one padded with zeros.
function deltaChecksum(bytes) {
  let sum = 0;
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4)
    sum = (sum + ((bytes[i] << 24) >>> 0) + (bytes[i + 1] << 16) + (bytes[i + 2] << 8) + bytes[i + 3]) >>> 0;
  for (let shift = 24; i < bytes.length; i++, shift -= 8) sum = (sum + ((bytes[i] << shift) >>> 0)) >>> 0;
  return sum;
}

const MAKERS = { websocket: WebSocketTransport, sse: SseTransport, 'long-polling': PollTransport };

// ---------------------------------------------------------------------------------------------------------

export class Switchboard extends EventTarget {
  /**
   * @param {string} url the server's base URL ('' or '/' for the page's own origin)
   * @param {object} [options] see switchboard.d.ts
   */
  constructor(url, options = {}) {
    super();
    const paths = Object.assign({}, DEFAULTS.paths, options.paths || {});
    this.options = Object.assign({}, DEFAULTS, options, { paths });
    this.options.backoff = Object.assign({}, DEFAULTS.backoff, options.backoff || {});
    for (const t of this.options.transports)
      if (!TRANSPORTS.includes(t)) throw new TypeError(`unknown transport: ${t}`);
    if (this.options.transports.length === 0) throw new TypeError('at least one transport is needed');
    const base = typeof location !== 'undefined' ? location.href : undefined;
    this.base = new URL(url || '/', base);
    this.state = 'idle';
    this.transport = null;     // the name of the transport in use, once open
    this.subscriptions = new Map();  // topic -> {handlers: Set, position: {offset, epoch}|null, history: bool, delta: bool}
    this.serverTopics = new Set();  // topics the server subscribed this client to (WebSocket's "subscribed" frames)
    this.patternSubscriptions = new Map();  // pattern -> {handlers: Set, position: {offset: sequence, epoch}|null, replaying}
    this.replays = 0;  // pattern replays acknowledged (WebSocket): numbers their order
    this.queue = [];           // publishes waiting for an open transport
    this.attempt = 0;          // reconnect attempts since the last open
    this.index = 0;            // the transport tried now (index into options.transports)
    this.tried = 0;            // transports tried in this round
    this.everOpened = false;
    queueMicrotask(() => { if (this.state === 'idle') this._connect(); });
  }

  /** Adds a listener; returns a function that removes it. */
  on(type, listener) {
    const wrapped = (e) => listener(e.detail, e);
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  subscribe(topic, onMessage, options = {}) {
    if (isPattern(topic)) return this._subscribePattern(topic, onMessage);
    let sub = this.subscriptions.get(topic);
    const fresh = !sub;
    if (!sub) {
      sub = { handlers: new Set(), position: null, history: !!options.history, delta: !!options.delta,
        presence: !!options.presence, onJoin: options.onJoin, onLeave: options.onLeave, onCounts: options.onCounts };
      this.subscriptions.set(topic, sub);
    }
    if (onMessage) sub.handlers.add(onMessage);
    // The transport sends it now if it can, or with the others when its connection opens.
    if (fresh && this.current) this.current.subscribe(topic);
    return () => this.unsubscribe(topic, onMessage);
  }

  unsubscribe(topic, onMessage) {
    const pattern = isPattern(topic);
    const subscriptions = pattern ? this.patternSubscriptions : this.subscriptions;
    const sub = subscriptions.get(topic);
    if (!sub) return;
    if (onMessage) sub.handlers.delete(onMessage);
    if (onMessage && sub.handlers.size > 0) return;
    subscriptions.delete(topic);
    if (!this.current) return;
    if (pattern) this.current.unsubscribePattern(topic);
    else this.current.unsubscribe(topic);
  }

  /**
   * Every member of `topic`'s presence now: [{client, user, info}], read a page at a time: the presence command
   * over WebSocket, GET /presence over SSE and long polling. Asked while the client connects (or reconnects), it
   * waits for the connection to open, at most openTimeout; rejects once the client is closed.
   */
  presence(topic) {
    if (this.current && this.state === 'open') return this.current.presence(topic);
    if (this.state === 'closed')
      return Promise.reject(new SwitchboardError('presence_unavailable', 'the client is closed'));
    // A 'subscribed' handler over SSE runs before 'open': a snapshot asked there is a natural thing to do.
    return new Promise((resolve, reject) => {
      const settle = (then) => {
        clearTimeout(timer);
        offOpen();
        offClosed();
        then();
      };
      const offOpen = this.on('open', () => settle(() => this.presence(topic).then(resolve, reject)));
      const offClosed = this.on('closed', () => settle(() => reject(new SwitchboardError('presence_unavailable',
        'the client is closed'))));
      const timer = setTimeout(() => settle(() => reject(new SwitchboardError('presence_unavailable',
        `no open connection within ${this.options.openTimeout} ms`))), this.options.openTimeout);
    });
  }

  /**
   * Publishes `data` (any JSON value); resolves to its position {topic, offset, epoch}. With
   * `{idempotencyKey}` a publish whose connection is lost before its answer is sent again once the client is
   * open again, and the server publishes it once (docs/protocol.md, "Idempotent publish"); without one it
   * rejects with `connection_lost`, published or not.
   */
  publish(topic, data, { idempotencyKey } = {}) {
    if (idempotencyKey !== undefined && !/^[!-~]{1,128}$/.test(idempotencyKey))
      return Promise.reject(new TypeError('idempotencyKey is 1-128 visible ASCII characters'));
    if (this.state === 'closed') return Promise.reject(new SwitchboardError('closed', 'the client is closed'));
    if (this.queue.length >= this.options.maxQueuedPublishes)
      return Promise.reject(new SwitchboardError('queue_full', 'too many publishes wait for a connection'));
    return new Promise((resolve, reject) => this._publish({ topic, data, key: idempotencyKey, resolve, reject }));
  }

  // Sends `p` now if a transport is open, else queues it. A keyed publish whose answer was lost is sent again
  // after the reconnect delay (doubling per attempt, as reconnects do): by then the connection is back, or the
  // publish waits in the queue for it.
  _publish(p) {
    if (!this.current || this.state !== 'open') return this.queue.push(p);
    this.current.publish(p.topic, p.data, p.key).then(p.resolve, (e) => {
      if (p.key === undefined || !(e instanceof SwitchboardError) || e.code !== 'connection_lost' ||
          this.state === 'closed') return p.reject(e);
      const delay = backoffCeiling(this.options.backoff, p.attempt || 0);
      p.attempt = (p.attempt || 0) + 1;
      setTimeout(() => (this.state === 'closed' ? p.reject(e) : this._publish(p)), delay);
    });
  }

  close() {
    if (this.state === 'closed') return;
    clearTimeout(this.retryTimer);
    this._stopCurrent();
    this._setState('closed', { code: 1000, reason: 'closed by the client' });
    for (const p of this.queue.splice(0)) p.reject(new SwitchboardError('closed', 'the client is closed'));
  }

  // --- internals -----------------------------------------------------------------------------------------

  _url(path) {
    const url = new URL(this.base.href);
    url.pathname = url.pathname.replace(/\/$/, '') + path;
    url.search = '';
    if (this.options.token) url.searchParams.set('token', this.options.token);
    return url;
  }

  _topics() { return [...this.subscriptions.keys()]; }

  _patterns() { return [...this.patternSubscriptions.keys()]; }

  // A pattern: every message whose topic it matches, from now on; after a reconnect, what its topics got
  // meanwhile first (from the server's sequence it reached, its `position`).
  _subscribePattern(pattern, onMessage) {
    let sub = this.patternSubscriptions.get(pattern);
    const fresh = !sub;
    if (!sub) {
      sub = { handlers: new Set(), position: null, replaying: 0 };
      this.patternSubscriptions.set(pattern, sub);
    }
    if (onMessage) sub.handlers.add(onMessage);
    if (fresh && this.current) this.current.subscribePattern(pattern);
    return () => this.unsubscribe(pattern, onMessage);
  }

  _patternSince(pattern) {
    const sub = this.patternSubscriptions.get(pattern);
    return sub && sub.position ? { offset: sub.position.offset, epoch: sub.position.epoch } : null;
  }

  // `latest` is the server's sequence now. Over WebSocket (`tracks`) this client keeps the position itself,
  // from the messages' sequences (_deliver) and the end of a replay (_patternReplayed); over SSE and polls the
  // server's cursor carries it.
  _patternAcknowledged(pattern, latest, recovered, lost, tracks) {
    const sub = this.patternSubscriptions.get(pattern);
    if (!sub) return;
    const before = sub.position;
    if (tracks || !before) {
      const replays = before && latest.epoch !== undefined && before.offset < latest.offset &&
        (before.epoch === '' || before.epoch === latest.epoch);
      // The order replays were acknowledged in is the order the server sends them.
      sub.replaying = tracks && replays ? ++this.replays : 0;
      if (!replays && latest.offset !== undefined) sub.position = { offset: latest.offset, epoch: latest.epoch };
    }
    const detail = { pattern, sequence: latest.offset, epoch: latest.epoch, recovered: before ? recovered !== false : undefined };
    if (lost && lost.length) detail.lost = lost;
    this._emit('subscribed', detail);
  }

  _patternReplayed(pattern, last) {
    const sub = this.patternSubscriptions.get(pattern);
    if (!sub) return;
    sub.replaying = 0;
    this._movePattern(sub, last);
  }

  // The server's cursor (SSE event ids, poll answers): its pattern entries are the patterns' positions.
  _patternPositions(positions) {
    for (const [name, p] of positions) {
      const sub = isPattern(name) && this.patternSubscriptions.get(name);
      if (sub) sub.position = { offset: p.offset, epoch: p.epoch };
    }
  }

  _movePattern(sub, p) {
    if (!sub.position || sub.position.epoch !== p.epoch || p.offset > sub.position.offset)
      sub.position = { offset: p.offset, epoch: p.epoch };
  }

  _refusedPattern(pattern, error) {
    this.patternSubscriptions.delete(pattern);
    this._emit('error', { pattern, error });
  }

  _wantsPresence(topic) {
    const sub = this.subscriptions.get(topic);
    return !!(sub && sub.presence);
  }

  // The server's {client, resume}: the key lets this client be the same member after a reconnect within the grace.
  _presenceAcknowledged(presence) {
    if (presence.resume) this.presenceKey = presence.resume;
    if (presence.client) this.presenceClient = presence.client;
  }

  // The server cannot make this client a member over a stream or a poll: one error per topic that asked, and the
  // subscriptions stay (their messages come; their join and leave events do not).
  _presenceRefused(topics, error) {
    this.presenceRefused = true;
    for (const topic of topics)
      if (this._wantsPresence(topic)) this._emit('error', { topic, error });
  }

  // A join, a leave, a diff (the server's presence.batch_interval: its leaves, then its joins, each as its own
  // join or leave) or a large topic's counts.
  _presenceEvent(event) {
    const sub = this.subscriptions.get(event.topic);
    if (!sub) return;
    const call = (handler, value) => {
      if (!handler) return;
      try { handler(value, event.topic); } catch (e) { setTimeout(() => { throw e; }); }
    };
    if (event.type === 'presence_stats') {
      const counts = { clients: event.clients, users: event.users };
      call(sub.onCounts, counts);
      this._emit('presence_stats', Object.assign({ topic: event.topic }, counts));
      return;
    }
    const changes = event.type === 'presence_diff'
      ? [...(event.leaves || []).map((m) => ['leave', m]), ...(event.joins || []).map((m) => ['join', m])]
      : [[event.type, event]];
    for (const [type, m] of changes) {
      // A diff may name this client itself (a single event never does).
      if (event.type === 'presence_diff' && m.client === this.presenceClient) continue;
      const member = { client: m.client, user: m.user, info: m.info };
      call(type === 'join' ? sub.onJoin : sub.onLeave, member);
      this._emit(type, Object.assign({ topic: event.topic }, member));
    }
  }

  _wantsDelta(topic) {
    const sub = this.subscriptions.get(topic);
    return !!(sub && sub.delta);
  }

  _since(topic) {
    const sub = this.subscriptions.get(topic);
    if (!sub) return null;
    if (sub.position) return { offset: sub.position.offset, epoch: sub.position.epoch };
    // From the first retained message, whatever its epoch: history on join.
    if (sub.history) return { offset: 0, epoch: '' };
    return null;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _setState(state, detail) {
    this.state = state;
    this._emit(state, detail);
  }

  _connect() {
    const name = this.options.transports[this.index];
    this._setState('connecting', { transport: name, attempt: this.attempt });
    const t = new MAKERS[name](this);
    this.current = t;
    this.openTimer = setTimeout(() => this._failed(t, `nothing within ${this.options.openTimeout} ms`), this.options.openTimeout);
    t.start();
  }

  _stopCurrent() {
    clearTimeout(this.openTimer);
    if (this.current) this.current.stop();
    this.current = null;
  }

  _opened(t) {
    if (t !== this.current) return;
    clearTimeout(this.openTimer);
    this.attempt = 0;
    this.tried = 0;
    this.everOpened = true;
    this.transport = t.name;
    this._setState('open', { transport: t.name });
    for (const p of this.queue.splice(0)) this._publish(p);
  }

  _failed(t, reason, code) {
    if (t !== this.current || this.state === 'closed') return;
    this._stopCurrent();
    if (isTerminalCode(code)) return this._terminal(code, reason);
    if (isApplicationReconnect(code)) {
      this.tried = 0;
      return this._retry(reason, code);
    }
    const from = t.name;
    this.tried++;
    if (this.tried < this.options.transports.length) {
      this.index = (this.index + 1) % this.options.transports.length;
      this._emit('fallback', { from, to: this.options.transports[this.index], reason });
      this._connect();
      return;
    }
    // Every transport failed in this round: wait, then start again from the one that worked last.
    this.tried = 0;
    this.index = Math.max(0, this.options.transports.indexOf(this.transport));
    this._retry(reason, code);
  }

  _lost(t, reason, code) {
    if (t !== this.current || this.state === 'closed') return;
    this._stopCurrent();
    if (isTerminalCode(code)) return this._terminal(code, reason);
    this.tried = 0;
    this._retry(reason, code);
  }

  _terminal(code, reason) {
    this._setState('closed', { code, reason });
    for (const p of this.queue.splice(0)) p.reject(new SwitchboardError('closed', reason));
  }

  _retry(reason, code) {
    const ceiling = backoffCeiling(this.options.backoff, this.attempt);
    // Equal jitter: at least half the ceiling, so a crowd of clients spreads out without retrying at once.
    const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.attempt++;
    this.state = 'reconnecting';
    this._emit('reconnecting', { reason, code, attempt: this.attempt, delay, transport: this.options.transports[this.index] });
    this.retryTimer = setTimeout(() => { if (this.state !== 'closed') this._connect(); }, delay);
  }

  // The server refused a subscription (a hook, a bad name, too many topics): it is dropped, so that no later
  // request carries it again, and the application is told.
  _refused(topic, error) {
    this.subscriptions.delete(topic);
    this._emit('error', { topic, error });
  }

  // The server ended a subscription (its API's unsubscribe): dropped here too, so that no reconnect brings it
  // back, and the application is told. `info` is the server's {topic} or {pattern}.
  _unsubscribedByServer(info) {
    if (info.pattern !== undefined) this.patternSubscriptions.delete(info.pattern);
    else {
      this.subscriptions.delete(info.topic);
      this.serverTopics.delete(info.topic);
    }
    this._emit('unsubscribed', info.pattern !== undefined ? { pattern: info.pattern } : { topic: info.topic });
  }

  // A subscription's position from its acknowledgement. With a resume, missed messages follow and advance it.
  // `server`: a server-side subscription, which this client may not hold by name (its messages then come as
  // `message` events).
  _acknowledged(topic, latest, recovered, server) {
    const sub = this.subscriptions.get(topic);
    if (!sub) {
      if (server) this._emit('subscribed', { topic, offset: latest.offset, epoch: latest.epoch, server: true });
      return;
    }
    const before = sub.position || (sub.history ? { offset: 0, epoch: '' } : null);
    if (!before) {
      sub.position = { offset: latest.offset, epoch: latest.epoch };
    } else if (before.epoch !== latest.epoch) {
      // A new epoch: what history still has comes next, from its start.
      sub.position = { offset: 0, epoch: latest.epoch };
    } else {
      sub.position = { offset: before.offset, epoch: latest.epoch };
    }
    const detail = { topic, offset: latest.offset, epoch: latest.epoch, recovered: before ? recovered !== false : undefined };
    this._emit('subscribed', detail);
  }

  // The long-polling counterpart of _acknowledged, from a held poll (no position `p` yet) or an answer. The
  // answer's cursor is past its messages, so the position moves only when the epoch did (the messages that
  // follow are delivered from there).
  _polled(topic, before, p, unrecovered) {
    const sub = this.subscriptions.get(topic);
    if (!sub) return;
    if (p && before && before.epoch !== p.epoch) sub.position = { offset: 0, epoch: p.epoch };
    const detail = { topic, offset: p ? p.offset : undefined, epoch: p ? p.epoch : undefined, recovered: before ? !unrecovered : undefined };
    this._emit('subscribed', detail);
  }

  _advance(topic, p) {
    const sub = this.subscriptions.get(topic);
    if (sub && p && (!sub.position || sub.position.epoch !== p.epoch || p.offset > sub.position.offset))
      sub.position = { offset: p.offset, epoch: p.epoch };
  }

  // `sequence`: the server's sequence of the message (WebSocket, when this client holds patterns).
  _deliver(topic, offset, epoch, data, sequence) {
    const sub = this.subscriptions.get(topic);
    // Each handler once, whether it holds the topic, patterns matching it, or both.
    const handlers = new Set();
    if (sub) {
      const p = sub.position;
      if (epoch === undefined) epoch = p ? p.epoch : '';
      // A message at or before the position was delivered already (a resume that overlapped): once only.
      if (p && p.epoch === epoch && offset <= p.offset) return;
      sub.position = { offset, epoch };
      for (const h of sub.handlers) handlers.add(h);
    }
    // Over WebSocket a message moves the positions of the patterns it reaches (a topic held by name resumes on
    // its own): while patterns replay, only the first of them to replay (the server sends their messages one
    // replay after the other, each in sequence order); the others that are live, to their newest message.
    let replay = null;
    for (const [pattern, ps] of this.patternSubscriptions) {
      if (!patternMatches(pattern, topic)) continue;
      for (const h of ps.handlers) handlers.add(h);
      if (sequence === undefined || sub || !ps.position) continue;
      if (ps.replaying) {
        if (!replay || ps.replaying < replay.replaying) replay = ps;
      } else if (sequence > ps.position.offset) {
        ps.position = { offset: sequence, epoch: ps.position.epoch };
      }
    }
    if (replay && sequence > replay.position.offset) replay.position = { offset: sequence, epoch: replay.position.epoch };
    if (epoch === undefined) epoch = '';
    if (handlers.size === 0) {
      // A topic nobody here subscribed to: a server-side subscription (the token's topics).
      this._emit('message', { topic, offset, epoch, data, transport: this.transport });
      return;
    }
    const meta = { topic, offset, epoch, transport: this.transport };
    for (const h of handlers) {
      try {
        h(data, meta);
      } catch (e) {
        // One handler's bug must not stop the others or the stream.
        setTimeout(() => { throw e; });
      }
    }
  }
}

export { SwitchboardError };
export default Switchboard;
