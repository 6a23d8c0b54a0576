"""The type stub: mypy --strict sees the right types, and stubtest agrees with us.

Runs where mypy is installed (tests/run-all.sh installs a pinned one for Python 3.13
and the newest for the newest Python).
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import MODULE_DIR

mypy = pytest.importorskip('mypy', reason='mypy is installed for two interpreters only')

STUB = os.path.join(MODULE_DIR, 'inotify_simple-stubs', '__init__.pyi')

# assert_type() makes mypy check each type itself, whatever its version's spelling
# of it (builtins.int or int, the namedtuple's fallback or not).
CLIENT = '''\
import os
from pathlib import Path
from typing import List, assert_type
from inotify_simple import Event, INotify, flags, masks, parse_events

with INotify() as inotify:
    assert_type(inotify, INotify)
    wd = inotify.add_watch('/tmp', flags.CREATE | flags.DELETE)
    assert_type(wd, int)
    inotify.add_watch(b'/tmp', masks.ALL_EVENTS)
    inotify.add_watch(Path('/tmp'), flags.CREATE)
    events = inotify.read(timeout=0, read_delay=float('inf'))
    assert_type(events, List[Event])
    for event in events:
        assert_type(event.name, str)
        assert_type(event.wd, int)
        assert_type(flags.from_mask(event.mask), List[flags])
    assert_type(parse_events(os.read(inotify.fd, 4096)), List[Event])
    inotify.rm_watch(wd)
'''


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


def mypy_strict(tmp, stubs, client):
    path = os.path.join(tmp, 'client.py')
    with open(path, 'w') as f:
        f.write(client)
    return mypy_module(['mypy', '--strict', '--cache-dir', os.path.join(
        tmp, 'cache'), path], tmp, stubs)


def test_mypy_strict_sees_the_stubs_types(tmp, stubs):
    status, out = mypy_strict(tmp, stubs, CLIENT)
    assert status == 0 and 'Success' in out, out


def test_a_wrong_type_is_caught(tmp, stubs):
    # the check above is worth something only if a wrong type fails it
    status, out = mypy_strict(tmp, stubs, CLIENT.replace(
        'assert_type(wd, int)', 'assert_type(wd, str)'))
    errors = [line for line in out.splitlines() if ': error:' in line]
    assert status == 1 and len(errors) == 1, out
    assert errors[0].split(': error:')[0].endswith('client.py:9'), out
    assert errors[0].endswith('[assert-type]'), out


def test_stubtest_agrees_with_the_module(tmp, stubs):
    status, out = mypy_module(['mypy.stubtest', '--mypy-config-file', os.devnull,
                               'inotify_simple'], tmp, stubs)
    assert status == 0, out
