#!/usr/bin/env python3
"""A backend for the proxy hook tests (tests/server/proxy_test.cpp), on Python's standard library only.

It answers POST /connect, /refresh, /subscribe and /publish as docs/integration.md describes, deciding from
what it is sent, and logs every request: GET /log answers them all, in order, with the client port of the
connection each came on (so a test can count connections).

  connect/refresh, by token: "user:NAME" -> user NAME, presence info {"nick": NAME}; "push:NAME" -> user NAME,
    subscribed by the server to "user:NAME" (server-side subscriptions); "deny" -> unauthorized
    with a message; "slow" -> answers after 10 s; "garbage" -> a body that is not JSON; "fail" -> HTTP 500;
    "expire:N" -> user "expiring", expire_at N seconds from now; no token -> user "anonymous-ok".
  subscribe and publish decide by the topic without its namespace ("chat:deny.x" as "deny.x").
  subscribe, by topic: "deny.*" -> forbidden with a message naming the topic; "slow.*" -> after 10 s; else allowed.
  publish, by topic: "deny.*" -> rejected with a message; "rewrite.*" -> data replaced by REWRITTEN (text the
    server must pass on byte for byte); "garbage.*" -> not JSON; else allowed as it is.
Prints "listening on 127.0.0.1:PORT" once bound (port 0: the kernel's choice).
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REWRITTEN = '{"n": 123456789012345678901234567890, "s":"caf\\u00e9",  "k":[1.50,2e3]}'

log = []
log_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the server reuses its connections

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/log":
            with log_lock:
                return self.answer(200, json.dumps(log))
        self.answer(404, "{}")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with log_lock:
            log.append({"path": self.path, "body": raw, "port": self.client_address[1]})
        req = json.loads(raw)
        kind = self.path.strip("/")
        if kind in ("connect", "refresh"):
            token = req.get("token", "")
            if token.startswith("user:"):
                name = token[5:]
                return self.answer(200, json.dumps({"result": {"user": name, "info": {"nick": name}}}))
            if token.startswith("push:"):
                name = token[5:]
                return self.answer(200, json.dumps({"result": {"user": name, "topics": ["user:" + name]}}))
            if token == "deny":
                return self.answer(200, json.dumps({"error": {"code": "unauthorized", "message": "go away"}}))
            if token.startswith("expire:"):
                at = int(time.time()) + int(token[7:])
                return self.answer(200, json.dumps({"result": {"user": "expiring", "expire_at": at}}))
            if token == "slow":
                time.sleep(10)
            if token == "garbage":
                return self.answer(200, "this is not JSON")
            if token == "fail":
                return self.answer(500, "{}")
            return self.answer(200, json.dumps({"result": {"user": "anonymous-ok"}}))
        topic = req.get("topic", "").split(":", 1)[-1]
        if kind == "subscribe":
            if topic.startswith("deny."):
                return self.answer(200, json.dumps({"error": {"code": "forbidden", "message": "no entry to " + topic}}))
            if topic.startswith("slow."):
                time.sleep(10)
            return self.answer(200, "{}")
        if kind == "publish":
            if topic.startswith("deny."):
                return self.answer(200, json.dumps({"error": {"code": "rejected", "message": "not on " + topic}}))
            if topic.startswith("rewrite."):
                return self.answer(200, '{"result":{"data":' + REWRITTEN + '}}')
            if topic.startswith("garbage."):
                return self.answer(200, "{not json")
            return self.answer(200, '{"result":{}}')
        self.answer(404, "{}")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
