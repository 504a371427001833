"""The processes under test: switchboard, Nchan and the Node `ws` server, and the bench's own brokers for the
broker hop (redis-server, nats-server with JetStream). Each is started pinned to one core and stopped by its own
PID only."""

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


def terminate(proc):
    """SIGTERM the process the bench started (by its PID), SIGKILL it if it has not gone within 8 s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def on_free_port(start, undo, attempts=3):
    """start(port) on a free loopback port from the kernel (nginx cannot listen on port 0 and report the port, so
    every server is given one). The port was free a moment ago; another process may take it before the server
    binds it, so when the start fails: undo() and try another port, a few times."""
    for attempt in range(attempts):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        try:
            return start(port)
        except RuntimeError:
            undo()
            if attempt == attempts - 1:
                raise


def listening(pid, port):
    """Whether process pid (nginx: its master) holds a socket listening on 127.0.0.1:port. A connection that
    succeeds proves less: it may reach another process that took the port first, while ours fails to bind it."""
    inodes = set()
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == f'0100007F:{port:04X}' and fields[3] == '0A':
                inodes.add(f'socket:[{fields[9]}]')
    try:
        fds = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f'/proc/{pid}/fd/{fd}') in inodes:
                return True
        except OSError:
            pass  # closed since listdir
    return False


class server:
    """switchboard, Nchan or the Node `ws` server, on a loopback port of its own (self.port once started)."""

    def __init__(self, name, build, extra=(), label=None, cores=SERVER_CORE, env=None):
        self.name = name
        self.build = build
        self.port = None
        self.extra = list(extra)  # more switchboard-server arguments (--redis URL)
        self.label = label or name
        self.cores = cores  # taskset's list: the server's core alone, unless a variant needs more loops' worth
        self.env = env  # more environment (SWITCHBOARD_* configuration keys), or None for the bench's own
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
        on_free_port(self.start_on, self.stop)

    def start_on(self, port):
        self.port = port
        self.log = open(os.path.join(tempfile.gettempdir(), f'switchboard-bench-{self.label}.log'), 'w')
        self.proc = subprocess.Popen(['taskset', '-c', self.cores] + self.command(),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **self.env) if self.env else None)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.label} exited at start (see {self.log.name})')
            if listening(self.proc.pid, self.port):
                break
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


class broker:
    """A broker the bench starts for the broker hop: a free loopback port, its own temp dir, pinned to the load
    generator's core so the switchboard core stays the server's alone. Stopped by its PID. A subclass names its
    program, its command line and how to tell it answers."""

    program = None

    def __init__(self):
        self.proc = None
        self.tmp = None
        self.port = None

    @classmethod
    def available(cls):
        return shutil.which(cls.program) is not None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix=f'switchboard-bench-{self.name}.')
        on_free_port(self.start_on, self.stop_process)

    def start_on(self, port):
        self.port = port
        self.log = open(os.path.join(self.tmp, f'{self.name}.log'), 'w')
        self.proc = subprocess.Popen(['taskset', '-c', LOADGEN_CORE] + self.command(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.program} exited at start (see {self.log.name})')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5) as c:
                    if self.answers(c):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f'{self.program} did not answer on {self.port}')

    def cpu_seconds(self):
        """utime + stime of the broker so far (it shares the load generator's core: report its share)."""
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


class redis_server(broker):
    """redis-server with **no persistence** (`--save "" --appendonly no`: the hop is measured, not the disk; a
    deployment that persists pays more)."""

    name = 'redis'
    program = 'redis-server'

    def command(self):
        return ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.tmp, '--save', '',
                '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning']

    def answers(self, c):
        c.sendall(b'PING\r\n')
        return c.recv(64).startswith(b'+PONG')

    def url(self):
        return f'redis://127.0.0.1:{self.port}/0'

    def switchboard_args(self):
        return ['--redis', self.url()]


class nats_server(broker):
    """nats-server with JetStream, its store in the temp dir (file storage, as switchboard's stream defaults to:
    history survives a restart; nats-server 2.9 syncs it to disk every 2 minutes, so the disk is not on the
    publish path)."""

    name = 'nats'
    program = 'nats-server'

    def command(self):
        return ['nats-server', '-js', '-a', '127.0.0.1', '-p', str(self.port), '--store_dir', self.tmp]

    def answers(self, c):
        return c.recv(4).startswith(b'INFO')

    def url(self):
        return f'nats://127.0.0.1:{self.port}'

    def switchboard_args(self):
        return ['--nats', self.url()]
