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
TREE_STUB = os.path.join(MODULE_DIR, 'inotify_simple_tree-stubs', '__init__.pyi')

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
    for each in inotify:
        assert_type(each, Event)
'''

# A tree's paths are of the type of its top: str, bytes, or an os.PathLike's.
TREE_CLIENT = '''\
from pathlib import Path
from typing import Dict, List, assert_type
from inotify_simple import flags, masks
from inotify_simple_tree import Tree, TreeEvent

with Tree('/tmp', flags.CREATE, exclude=lambda path: path.endswith('.git')) as tree:
    assert_type(tree, Tree[str])
    events = tree.read(timeout=0, read_delay=10)
    assert_type(events, List[TreeEvent[str]])
    for event in events:
        assert_type(event.path, str)
        assert_type(event.mask, int)
    assert_type(tree.watch('/var/tmp', recursive=False), int)
    assert_type(tree.watches(), Dict[int, str])
    assert_type(tree.fileno(), int)
    for each in tree:
        assert_type(each, TreeEvent[str])
with Tree(b'/tmp', masks.ALL_EVENTS, onerror=print) as in_bytes:
    assert_type(in_bytes.read()[0].name, bytes)
    assert_type(in_bytes.watches(), Dict[int, bytes])
assert_type(Tree(Path('/tmp')), Tree[str])
later = Tree()
later.watch('/tmp')
later.close()
'''


@pytest.fixture
def stubs(tmp):
    """A folder where mypy finds the stub (and not the module's source)."""
    shutil.copy(STUB, os.path.join(tmp, 'inotify_simple.pyi'))
    shutil.copy(TREE_STUB, os.path.join(tmp, 'inotify_simple_tree.pyi'))
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


def test_mypy_strict_sees_the_tree_s_types(tmp, stubs):
    status, out = mypy_strict(tmp, stubs, TREE_CLIENT)
    assert status == 0 and 'Success' in out, out
    status, out = mypy_strict(tmp, stubs, TREE_CLIENT.replace(
        "Tree('/tmp', flags.CREATE", "Tree(b'/tmp', flags.CREATE"))
    assert status == 1 and 'client.py:6: error:' in out, out  # exclude's str


def test_a_wrong_type_is_caught(tmp, stubs):
    # the check above is worth something only if a wrong type fails it
    status, out = mypy_strict(tmp, stubs, CLIENT.replace(
        'assert_type(wd, int)', 'assert_type(wd, str)'))
    errors = [line for line in out.splitlines() if ': error:' in line]
    assert status == 1 and len(errors) == 1, out
    assert errors[0].split(': error:')[0].endswith('client.py:9'), out
    assert errors[0].endswith('[assert-type]'), out


@pytest.mark.parametrize('module', ['inotify_simple', 'inotify_simple_tree'])
def test_stubtest_agrees_with_the_module(tmp, stubs, module):
    status, out = mypy_module(['mypy.stubtest', '--mypy-config-file', os.devnull,
                               module], tmp, stubs)
    assert status == 0, out
