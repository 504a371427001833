#!/usr/bin/env python3
"""Idle TLS connections and the TLS handshake rate (bench/loadgen has no TLS client).

    python3 bench/tls_idle.py --server build-bench/examples/server/switchboard-server --connections 2000
    python3 bench/tls_idle.py --port 8443 --server-pid 1234 --transport sse --connections 2000 --handshakes 3000

With --server, starts a fresh server per transport (ws, sse, poll) with a self-signed P-256 certificate made by
the openssl command (server on core 0, this client on core 1, as the suite does), one JSON line per transport;
otherwise measures the running server given by --port and --server-pid.

Idle: opens N TLS connections (TLS 1.3 unless --tls12) with at most --concurrency handshakes in flight, each
sending its transport's first request and waiting until it is in place (SSE: the `subscribed` event; WebSocket:
the 101 and the subscribe's ack; long polling: the request sent, then --settle seconds), and reports the server's
VmRSS growth divided by N. Then closes them, and measures handshakes per second: connect, TLS handshake, close,
--handshakes times, --concurrency at once, from this one process. Prints one JSON object.
"""

import argparse
import asyncio
import json
import os
import resource
import ssl
import time


def vm_rss(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('no VmRSS')


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def client_context(tls12):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the bench's certificate is self-signed
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def ws_frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_idle(args, ctx, held, sem):
    async with sem:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port, ssl=ctx, server_hostname='localhost'), args.timeout)
        host = f'Host: {args.host}\r\n'
        if args.transport == 'sse':
            writer.write(f'GET /sse?topic={args.topic} HTTP/1.1\r\n{host}Accept: text/event-stream\r\n\r\n'.encode())
            await asyncio.wait_for(reader.readuntil(b'subscribed'), args.timeout)
        elif args.transport == 'ws':
            writer.write((f'GET /ws HTTP/1.1\r\n{host}Upgrade: websocket\r\nConnection: Upgrade\r\n'
                          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), args.timeout)
            if b' 101 ' not in head.split(b'\r\n')[0]:
                raise RuntimeError(head[:80])
            writer.write(ws_frame(json.dumps({'type': 'subscribe', 'topic': args.topic})))
            await asyncio.wait_for(reader.readexactly(2), args.timeout)  # the ack's frame
        else:
            writer.write(f'GET /poll?topic={args.topic} HTTP/1.1\r\n{host}\r\n'.encode())
            await writer.drain()
        held.append((reader, writer))


async def handshake_once(args, ctx, sem):
    async with sem:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port, ssl=ctx, server_hostname='localhost'), args.timeout)
        writer.close()


def run_servers(args):
    """A fresh server per transport, so that each RSS delta is that run's alone."""
    import re
    import subprocess
    import sys
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                        '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
                       check=True, capture_output=True)
        for transport in args.transports.split(','):
            log_path = os.path.join(d, f'server-{transport}.log')
            log = open(log_path, 'w')
            server = subprocess.Popen(['taskset', '-c', '0', args.server, '--listen', '127.0.0.1:0', '--tls-cert', cert,
                                       '--tls-key', key, '--max-connections-per-address', '1000000',
                                       '--poll-hold', '10m', '--ping-interval', '10m'], stdout=log, stderr=log)
            try:
                port = None
                deadline = time.monotonic() + 10
                while port is None and time.monotonic() < deadline:
                    with open(log_path) as f:
                        m = re.search(r'listening on 127\.0\.0\.1:(\d+)', f.read())
                    port = m and int(m.group(1))
                    time.sleep(0.05)
                if port is None:
                    raise RuntimeError('the server did not start')
                cmd = [sys.executable, __file__, '--port', str(port), '--server-pid', str(server.pid),
                       '--transport', transport, '--connections', str(args.connections),
                       '--handshakes', str(args.handshakes), '--concurrency', str(args.concurrency)]
                if args.tls12:
                    cmd.append('--tls12')
                subprocess.run(['taskset', '-c', '1'] + cmd, check=True)
            finally:
                server.terminate()
                server.wait(10)


async def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--server', help='server binary: start a fresh one per transport')
    p.add_argument('--transports', default='ws,sse,poll', help='with --server')
    p.add_argument('--port', type=int)
    p.add_argument('--server-pid', type=int)
    p.add_argument('--transport', choices=['ws', 'sse', 'poll'], default='sse')
    p.add_argument('--topic', default='idle')
    p.add_argument('--connections', type=int, default=2000)
    p.add_argument('--handshakes', type=int, default=2000)
    p.add_argument('--concurrency', type=int, default=64)
    p.add_argument('--settle', type=float, default=1.0)
    p.add_argument('--hold', type=float, default=0, help='seconds to keep the idle connections (for heaptrack)')
    p.add_argument('--timeout', type=float, default=30.0)
    p.add_argument('--tls12', action='store_true')
    args = p.parse_args()
    if args.server:
        return run_servers(args)
    if not args.port or not args.server_pid:
        p.error('--port and --server-pid, or --server')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = client_context(args.tls12)
    sem = asyncio.Semaphore(args.concurrency)

    out = dict(transport=args.transport, tls='1.2' if args.tls12 else '1.3', connections=args.connections)
    if args.connections:
        before = vm_rss(args.server_pid)
        held = []
        start = time.monotonic()
        await asyncio.gather(*(open_idle(args, ctx, held, sem) for _ in range(args.connections)))
        out['connects_per_s'] = round(args.connections / (time.monotonic() - start))
        await asyncio.sleep(args.settle)
        after = vm_rss(args.server_pid)
        out['held'] = len(held)
        out['rss_before'] = before
        out['rss_after'] = after
        out['bytes_per_connection'] = round((after - before) / args.connections)
        if args.hold:
            print(json.dumps(out), flush=True)  # the figures now, while the connections are still held
            await asyncio.sleep(args.hold)
        for _, w in held:
            w.close()
        await asyncio.sleep(args.settle)
    if args.handshakes:
        start = time.monotonic()
        cpu = time.process_time()
        server_cpu = cpu_seconds(args.server_pid)
        await asyncio.gather(*(handshake_once(args, ctx, sem) for _ in range(args.handshakes)))
        elapsed = time.monotonic() - start
        out['handshakes'] = args.handshakes
        out['handshakes_per_s'] = round(args.handshakes / elapsed)
        out['client_cpu_share'] = round((time.process_time() - cpu) / elapsed, 2)
        out['server_cpu_us_per_handshake'] = round((cpu_seconds(args.server_pid) - server_cpu) * 1e6 / args.handshakes)
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    asyncio.run(main())
