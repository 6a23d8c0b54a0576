"""fork(): a child's copy of an instance is its own; the kernel's queue is shared.

Each scenario runs in an interpreter of its own, bounded in time, so that a hang is
a failure and the forks leave pytest's process alone.
"""
import os

import pytest

from conftest import WAIT
from conftest import run_script

# What every scenario starts from: an instance watching a directory, and helpers.
PRELUDE = '''
import os, resource, signal, sys, tempfile, threading, time, warnings
from inotify_simple import INotify, flags, _monotonic as now
# Python 3.12+ warns of fork() beside threads: here that is what is tested.
warnings.filterwarnings('ignore', '.*multi-threaded.*fork', DeprecationWarning)
WAIT = %r
tmp = tempfile.mkdtemp()
inotify = INotify()
wd = inotify.add_watch(tmp, flags.CREATE)

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def polling(pid, tid, nfds):
    """Whether thread tid of process pid (or 'self') is blocked in poll() on nfds
    descriptors."""
    try:
        with open('/proc/%%s/task/%%d/syscall' %% (pid, tid)) as f:
            fields = f.read().split()
    except (IOError, OSError):
        return False
    return fields[0] in ('7', '271', '73') and int(fields[2], 16) == nfds

def wait_for(condition):
    deadline = now() + WAIT
    while not condition():
        assert now() < deadline, 'gave up waiting'
        time.sleep(0.001)

def tid():
    return int(os.readlink('/proc/thread-self').split('/')[-1])

def reader(**kwargs):
    """A thread that calls inotify.read(**kwargs) once and keeps what it returns in
    .results; returned once it waits in poll() on both descriptors."""
    thread = threading.Thread(target=lambda: (
        thread.tids.append(tid()), thread.results.append(inotify.read(**kwargs))))
    thread.tids, thread.results, thread.daemon = [], [], True
    thread.start()
    wait_for(lambda: bool(thread.tids) and polling('self', thread.tids[0], 2))
    return thread

def dropping_unclosed():
    """What follows drops an instance unclosed on purpose: no ResourceWarning (as
    -X dev would give)."""
    if sys.version_info[0] > 2:
        warnings.filterwarnings('ignore', category=ResourceWarning)
''' % (WAIT,)

# The parent reads with a timeout while its child does something to its copy, and
# goes on reading until the child is gone: no read may end early, or spin.
PARENT_READS_WHILE_THE_CHILD_ACTS = PRELUDE + '''
parent, me = os.getpid(), tid()
pid = os.fork()
if pid == 0:
    wait_for(lambda: polling(parent, me, 2))
    ACTION
    os._exit(0)
child_done = False
while True:
    start, used = now(), cpu()
    events = inotify.read(timeout=1000)
    elapsed, used = now() - start, cpu() - used
    assert events == [], events
    assert 1.0 <= elapsed < WAIT, elapsed
    assert used < 0.5, 'read() used %.2f s of CPU in %.2f s' % (used, elapsed)
    if child_done:
        break
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        assert status == 0, status
        child_done = True  # and one read more, begun after the child was gone
# and it still works: the child has left the parent's watch alone
open(os.path.join(tmp, 'after'), 'w').close()
assert inotify.read(timeout=WAIT * 1000) == [(wd, flags.CREATE, 0, 'after')]
inotify.close()
print('ok')
'''

CHILD_ACTIONS = {
    'closes its copy': 'inotify.close()',
    'reads then closes': 'assert inotify.read(timeout=50) == []; inotify.close()',
    'collects it': 'import gc; dropping_unclosed(); del inotify; gc.collect()',
    # an interpreter's exit finalizes what is left: the instance is closed there
    'just exits': 'dropping_unclosed(); sys.exit(0)',
}


@pytest.mark.parametrize('action', sorted(CHILD_ACTIONS))
def test_what_a_child_does_to_its_copy_never_wakes_the_parent(action):
    code = PARENT_READS_WHILE_THE_CHILD_ACTS.replace('ACTION', CHILD_ACTIONS[action])
    assert run_script(code) == (0, 'ok\n', '')


def test_a_child_forked_while_a_thread_reads_closes_at_once():
    code = PRELUDE + '''
thread = reader()
pid = os.fork()
if pid == 0:
    start = now()
    inotify.close()
    assert inotify.closed
    os._exit(0 if now() - start < WAIT / 2 else 3)
assert os.waitpid(pid, 0)[1] == 0
assert thread.is_alive()  # the child's close did not wake the parent's reader
inotify.close()
thread.join(WAIT)
assert not thread.is_alive() and thread.results == [[]]
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


def test_read_and_close_work_in_the_child_with_threads_of_its_own():
    # The kernel's queue is one, and whoever reads an event first gets it: the
    # parent's reader is in its read_delay, waiting on its eventfd alone.
    code = PRELUDE + '''
thread = reader(read_delay=WAIT * 1000)
open(os.path.join(tmp, 'x'), 'w').close()
wait_for(lambda: polling('self', thread.tids[0], 1))
pid = os.fork()
if pid == 0:
    assert inotify.read(timeout=0) == [(wd, flags.CREATE, 0, 'x')]
    # a child of its own: new watches, new threads, read() and close() as usual
    sub = tempfile.mkdtemp()  # not in tmp, whose watch would see it made
    wd = inotify.add_watch(sub, flags.CREATE)
    worker = reader()
    open(os.path.join(sub, 'f'), 'w').close()
    worker.join(WAIT)
    assert worker.results == [[(wd, flags.CREATE, 0, 'f')]], worker.results
    worker = reader()
    inotify.close()  # wakes the child's own reader
    worker.join(WAIT)
    os._exit(0 if worker.results == [[]] and not worker.is_alive() else 3)
assert os.waitpid(pid, 0)[1] == 0
assert thread.is_alive()
inotify.close()
thread.join(WAIT)
assert not thread.is_alive()
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


@pytest.mark.parametrize('closes', [True, False])
def test_a_multiprocessing_worker_forked_while_a_thread_reads(closes):
    code = PRELUDE + '''
import multiprocessing
context = multiprocessing if sys.version_info < (3, 4) else \\
    multiprocessing.get_context('fork')  # 3.14 starts workers with forkserver
def work():
    if CLOSES:
        inotify.close()
thread = reader()
worker = context.Process(target=work)
worker.start()
worker.join(WAIT)
assert worker.exitcode == 0, worker.exitcode
assert thread.is_alive()
inotify.close()
thread.join(WAIT)
assert not thread.is_alive() and thread.results == [[]]
print('ok')
'''.replace('CLOSES', repr(closes))
    assert run_script(code) == (0, 'ok\n', '')


def test_a_child_of_a_child_is_independent_too():
    code = PRELUDE + '''
assert inotify.read(timeout=1) == []  # the parent has its eventfd now
pid = os.fork()
if pid == 0:
    assert inotify.read(timeout=1) == []  # and the child one of its own
    grandchild = os.fork()
    if grandchild == 0:
        assert inotify.read(timeout=1) == []
        inotify.close()
        os._exit(0)
    assert os.waitpid(grandchild, 0)[1] == 0
    start = now()
    assert inotify.read(timeout=300) == []
    os._exit(0 if now() - start >= 0.3 else 3)
assert os.waitpid(pid, 0)[1] == 0
start = now()
assert inotify.read(timeout=300) == []
assert now() - start >= 0.3
inotify.close()
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


def test_the_child_closes_its_copies_of_every_descriptor():
    code = PRELUDE + '''
def fds():
    return sorted(os.listdir('/proc/self/fd'), key=int)
assert inotify.read(timeout=1) == []
before = fds()
pid = os.fork()
if pid == 0:
    assert inotify.read(timeout=1) == []
    inotify.close()
    left = set(fds()) - set(before)  # the listing's own descriptor, if any
    gone = set(before) - set(fds())
    os._exit(0 if len(gone) == 2 and len(left) <= 1 else 3)
assert os.waitpid(pid, 0)[1] == 0
assert fds() == before
inotify.close()
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


@pytest.mark.skipif(not hasattr(os, 'register_at_fork'), reason='Python 2.7 and 3.6 '
                    'tell a child by its process id (see the Linux notes)')
def test_a_child_with_its_parents_process_id_is_told_apart():
    # A child made in a PID namespace of its own is process 1 there, as is its
    # parent in the namespace the test makes for it first.
    code = PRELUDE + '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
if libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
    print('skip: no namespaces here: %s' % os.strerror(ctypes.get_errno()))
    sys.exit(0)
parent = os.fork()
if parent == 0:
    status = 3
    try:
        thread = reader()
        assert libc.unshare(CLONE_NEWPID) == 0
        child = os.fork()
        if child == 0:
            start = now()
            inotify.close()
            os._exit(0 if os.getpid() == 1 and now() - start < 0.5 else 4)
        assert os.waitpid(child, 0)[1] == 0 and os.getpid() == 1
        assert thread.is_alive()  # not woken by the child's close
        start = now()
        inotify.close()
        thread.join(WAIT)
        assert now() - start < 0.5 and thread.results == [[]], \
            (now() - start, thread.results)
        status = 0
    finally:
        os._exit(status)
assert os.waitpid(parent, 0)[1] == 0
inotify.close()
print('ok')
'''
    status, out, err = run_script(code)
    if out.startswith('skip: '):
        pytest.skip(out[6:].strip())
    assert (status, out, err) == (0, 'ok\n', '')
