"""What a results.json records about where it was measured: the machine and the versions of everything run."""

import json
import os
import platform
import subprocess

from suite import BENCH, ROOT


def machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=model, kernel=platform.release())


def command_output(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return 'unknown'


def versions(build):
    commit = command_output(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
    dirty = command_output(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])
    ws = 'unknown'
    try:
        with open(os.path.join(BENCH, 'peers/node_modules/ws/package.json')) as f:
            ws = json.load(f)['version']
    except OSError:
        pass
    return {
        'switchboard': f"{commit}{' + uncommitted changes' if dirty else ''} (Release, GCC)",
        'nginx': command_output(['nginx', '-v']).replace('nginx version: ', ''),
        'nchan': command_output(['dpkg-query', '-W', '-f=${Version}', 'libnginx-mod-nchan']),
        'node': command_output(['node', '--version']),
        'ws': ws,
        'boost': '1.81',
        'redis': command_output(['redis-server', '--version']).split(' sha=')[0].replace('Redis server v=', ''),
        'nats': command_output(['nats-server', '--version']).replace('nats-server: ', ''),
    }
