"""The processes under test: switchboard, Nchan and the Node `ws` server, and the bench's own redis-server for the
Redis hop. Each is started pinned to one core and stopped by its own PID only."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from suite import BENCH

SERVER_CORE = '0'
LOADGEN_CORE = '1'

# Ports on 127.0.0.1; each server gets its own. The Redis hop adds three switchboard nodes (Redis' own port is
# whatever the kernel gives: see redis_server).
PORTS = {'switchboard': 18080, 'nchan': 18081, 'node-ws': 18082}
REDIS_HOP_PORTS = {'memory': 18083, 'redis': 18084, 'node-a': 18085, 'node-b': 18086}

def terminate(proc):
    """SIGTERM the process the bench started (by its PID), SIGKILL it if it has not gone within 8 s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class server:
    def __init__(self, name, build, port=None, extra=(), label=None):
        self.name = name
        self.build = build
        self.port = port or PORTS[name]
        self.extra = list(extra)  # more switchboard-server arguments (--redis URL)
        self.label = label or name
        self.proc = None
        self.tmp = None

    def command(self):
        if self.name == 'switchboard':
            return [os.path.join(self.build, 'examples/server/switchboard-server'),
                    '--listen', f'127.0.0.1:{self.port}', '--log-level', 'warn'] + self.extra
        if self.name == 'nchan':
            self.tmp = tempfile.mkdtemp(prefix='switchboard-bench-nchan.')
            with open(os.path.join(BENCH, 'peers/nchan.conf.in')) as f:
                conf = f.read().replace('@DIR@', self.tmp).replace('@PORT@', str(self.port))
            with open(os.path.join(self.tmp, 'nginx.conf'), 'w') as f:
                f.write(conf)
            return ['nginx', '-c', os.path.join(self.tmp, 'nginx.conf'), '-p', self.tmp]
        return ['node', os.path.join(BENCH, 'peers/ws_server.js'), '127.0.0.1', str(self.port)]

    def start(self):
        self.log = open(os.path.join(tempfile.gettempdir(), f'switchboard-bench-{self.label}.log'), 'w')
        self.proc = subprocess.Popen(['taskset', '-c', SERVER_CORE] + self.command(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.label} exited at start (see {self.log.name})')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f'{self.label} did not listen on {self.port}')
        time.sleep(0.2)

    def measured_pid(self):
        """The process that serves connections: nginx's single worker, else the server itself."""
        if self.name != 'nchan':
            return self.proc.pid
        for _ in range(50):
            try:
                with open(f'/proc/{self.proc.pid}/task/{self.proc.pid}/children') as f:
                    children = f.read().split()
                if children:
                    return int(children[0])
            except OSError:
                pass
            time.sleep(0.05)
        return self.proc.pid

    def stop(self):
        terminate(self.proc)
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


class redis_server:
    """The bench's own redis-server for the Redis hop: a free loopback port, its own temp dir, no persistence
    (`--save "" --appendonly no`: the hop is measured, not the disk; a deployment that persists pays more), pinned
    to the load generator's core so the switchboard core stays the server's alone. Stopped by its PID."""

    def __init__(self):
        self.proc = None
        self.tmp = None
        self.port = None

    @staticmethod
    def available():
        return shutil.which('redis-server') is not None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix='switchboard-bench-redis.')
        # The port was free a moment ago; another process may take it before Redis binds it, so try a few.
        for attempt in range(3):
            try:
                return self.try_start()
            except RuntimeError:
                self.stop_process()
                if attempt == 2:
                    raise

    def try_start(self):
        with socket.socket() as s:  # a free port from the kernel
            s.bind(('127.0.0.1', 0))
            self.port = s.getsockname()[1]
        self.log = open(os.path.join(self.tmp, 'redis.log'), 'w')
        self.proc = subprocess.Popen(
            ['taskset', '-c', LOADGEN_CORE, 'redis-server', '--port', str(self.port), '--bind', '127.0.0.1',
             '--dir', self.tmp, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'redis-server exited at start (see {self.log.name})')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5) as c:
                    c.sendall(b'PING\r\n')
                    if c.recv(64).startswith(b'+PONG'):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f'redis-server did not answer on {self.port}')

    def url(self):
        return f'redis://127.0.0.1:{self.port}/0'

    def cpu_seconds(self):
        """utime + stime of redis-server so far (it shares the load generator's core: report its share)."""
        try:
            with open(f'/proc/{self.proc.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, IndexError, ValueError):
            return None

    def stop_process(self):
        terminate(self.proc)
        self.proc = None

    def stop(self):
        self.stop_process()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
