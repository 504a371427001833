"""A member that watches a topic's counts as the members on one node see them: an SSE stream subscribed with
presence (`presence=1`), its `presence_stats` events noted with the time they came. SSE needs no frame codec, so
the suite stays standard library only."""

import http.client
import json
import socket
import threading
import time
import urllib.parse


class counts_watcher:
    def __init__(self, port, topic):
        self.port = port
        self.topic = topic
        self.conn = None
        self.sock = None
        self.counts = []  # (time.monotonic(), clients) per presence_stats event, in arrival order
        self.changed = threading.Condition()

    def start(self):
        self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        self.conn.request('GET', f'/sse?topic={urllib.parse.quote(self.topic)}&presence=1')
        self.sock = self.conn.sock  # a stream that closes at its end is the response's, no longer the connection's
        response = self.conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f'the watcher was refused: {response.status} {response.read(300)!r}')
        # Events may be seconds apart: the reader blocks, and stop() ends it by shutting the socket.
        self.sock.settimeout(None)
        threading.Thread(target=self.read, args=(response,), daemon=True).start()

    def read(self, response):
        event = None
        try:
            for raw in iter(response.readline, b''):
                line = raw.decode().rstrip('\r\n')
                if line.startswith('event:'):
                    event = line[6:].strip()
                elif line.startswith('data:') and event == 'presence_stats':
                    clients = json.loads(line[5:])['clients']
                    with self.changed:
                        self.counts.append((time.monotonic(), clients))
                        self.changed.notify_all()
                elif not line:
                    event = None
        except (OSError, ValueError, http.client.HTTPException):
            pass  # the stream ended: stop(), or the node went away

    def first_after(self, t0, wanted, seconds):
        """The first counts (time, clients) that came after monotonic time t0 with wanted(clients) true, waiting at
        most `seconds` for it; None if none came."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                hit = next(((t, c) for t, c in self.counts if t >= t0 and wanted(c)), None)
                left = deadline - time.monotonic()
                if hit or left <= 0:
                    return hit
                self.changed.wait(left)

    def stop(self):
        if self.sock:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.conn:
            self.conn.close()
