"""The type stub: mypy --strict sees the right types, and stubtest agrees with us.

Runs where mypy is installed (tests/run-all.sh installs it for Python 3.13).
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import MODULE_DIR

mypy = pytest.importorskip('mypy', reason='mypy is installed for Python 3.13 only')

STUB = os.path.join(MODULE_DIR, 'inotify_simple-stubs', '__init__.pyi')

CLIENT = '''\
import os
from pathlib import Path
from inotify_simple import INotify, flags, masks, parse_events

with INotify() as inotify:
    reveal_type(inotify)
    wd = inotify.add_watch('/tmp', flags.CREATE | flags.DELETE)
    reveal_type(wd)
    inotify.add_watch(b'/tmp', masks.ALL_EVENTS)
    inotify.add_watch(Path('/tmp'), flags.CREATE)
    events = inotify.read(timeout=0, read_delay=10)
    reveal_type(events)
    for event in events:
        reveal_type(event.name)
        reveal_type(event.wd)
        reveal_type(flags.from_mask(event.mask))
    reveal_type(parse_events(os.read(inotify.fd, 4096)))
    inotify.rm_watch(wd)
'''

EVENT = 'tuple[builtins.int, builtins.int, builtins.int, builtins.str, ' \
        'fallback=inotify_simple.Event]'


@pytest.fixture
def stubs(tmp):
    """A folder where mypy finds the stub (and not the module's source)."""
    shutil.copy(STUB, os.path.join(tmp, 'inotify_simple.pyi'))
    return tmp


def mypy_module(args, cwd, stubs):
    env = dict(os.environ, MYPYPATH=stubs, PYTHONPATH=MODULE_DIR)
    process = subprocess.Popen([sys.executable, '-m'] + args, cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = process.communicate()[0].decode()
    return process.returncode, out


def test_mypy_strict_sees_the_stubs_types(tmp, stubs):
    client = os.path.join(tmp, 'client.py')
    with open(client, 'w') as f:
        f.write(CLIENT)
    status, out = mypy_module(['mypy', '--strict', '--cache-dir', os.path.join(
        tmp, 'cache'), client], tmp, stubs)
    revealed = re.findall(r'Revealed type is "(.*)"', out)
    assert revealed == [
        'inotify_simple.INotify', 'builtins.int', 'builtins.list[%s]' % EVENT,
        'builtins.str', 'builtins.int', 'builtins.list[inotify_simple.flags]',
        'builtins.list[%s]' % EVENT], out
    assert 'error' not in out, out


def test_stubtest_agrees_with_the_module(tmp, stubs):
    status, out = mypy_module(['mypy.stubtest', '--mypy-config-file', os.devnull,
                               'inotify_simple'], tmp, stubs)
    assert status == 0, out
