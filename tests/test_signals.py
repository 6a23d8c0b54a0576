"""close() from a signal handler, wherever the handler interrupts the same instance.

The scenarios run in an interpreter of their own, bounded in time: a deadlock is a
failure, not a hung suite.
"""
import re
import sys

import pytest

from conftest import run_script

# A timer fires at a random moment while the main thread calls one method of an
# instance over and over; its handler closes the instance, then opens a pipe that
# takes the numbers just freed. Only ValueError (closed) may come out of the calls,
# nothing may leak, and the pipe must stay open: a second close of a descriptor
# already closed would close it.
FUZZ = '''
import os, random, signal, sys, tempfile, threading, time
from inotify_simple import INotify, flags
tmp = tempfile.mkdtemp()
random.seed(%(seed)d)
WITH_A_READER = %(reader)r
METHODS = {
    'read(timeout=0)': lambda inotify: inotify.read(timeout=0),
    'read(timeout=1)': lambda inotify: inotify.read(timeout=1),
    'read(timeout=20, read_delay=1)': lambda inotify: [
        inotify.add_watch(tmp, flags.CREATE), open(tmp + '/f', 'w').close(),
        inotify.read(timeout=20, read_delay=1)],
    'add_watch': lambda inotify: inotify.add_watch(tmp, flags.CREATE),
    'rm_watch': lambda inotify: inotify.rm_watch(inotify.add_watch(tmp, flags.CREATE)),
    'close': lambda inotify: inotify.close(),
    '__exit__': lambda inotify: inotify.__exit__(None, None, None),
}

def fds():
    """The descriptors of the kinds an instance or a canary has (glibc opens its
    own files meanwhile, such as libgcc_s when a thread ends for the first time)."""
    found = set()
    for fd in os.listdir('/proc/self/fd'):
        try:
            if os.readlink('/proc/self/fd/' + fd).startswith(('anon_inode:', 'pipe:')):
                found.add(fd)
        except OSError:  # the listing's own descriptor
            pass
    return found

state = {}

def handler(signum, frame):
    state['inotify'].close()
    state['closed'] = True
    state['canaries'].extend(os.pipe())

signal.signal(signal.SIGALRM, handler)
for name in sorted(METHODS):
    method = METHODS[name]
    for round in range(%(rounds)d):
        before = fds()
        inotify = INotify()
        state.update(inotify=inotify, closed=False, canaries=[])
        if WITH_A_READER:
            results = []
            def read():
                try:
                    results.append(inotify.read())
                except ValueError:  # begun after the handler closed the instance
                    results.append('closed')
            reader = threading.Thread(target=read)
            reader.start()
        # close() returns in microseconds: a timer that may fire inside the first
        longest = 3e-5 if name in ('close', '__exit__') else 4e-4
        signal.setitimer(signal.ITIMER_REAL, random.uniform(1e-6, longest))
        try:
            while not state['closed']:
                method(inotify)
                # Before 3.12 CPython may lose track of a signal that comes as it
                # takes the GIL, until it takes it again: a loop that never
                # lets it go (close() of a closed instance) would wait for ever.
                time.sleep(0)
            method(inotify)
        except ValueError as e:
            assert str(e) == 'I/O operation on closed file', (name, e)
        signal.setitimer(signal.ITIMER_REAL, 0)
        if WITH_A_READER:
            reader.join(30)
            assert not reader.is_alive(), name
            assert len(results) == 1, (name, results)
        assert inotify.closed, name
        inotify.close()
        for fd in state['canaries']:
            os.fstat(fd)
            os.close(fd)
        assert fds() == before, (name, before, fds())
    sys.stdout.write('%%s ' %% name)
print('ok')
'''

# For the scripts below: fds(), the descriptors of the kind an instance has.
ANON_FDS = '''def fds():
    found = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            if os.readlink('/proc/self/fd/' + fd).startswith('anon_inode:'):
                found.append(fd)
        except OSError:  # the listing's own descriptor
            pass
    return sorted(found)'''



@pytest.mark.parametrize('seed', [1, 2, 3])
def test_close_from_a_handler_interrupting_any_method(seed):
    status, out, err = run_script(FUZZ % {'seed': seed, 'rounds': 100,
                                          'reader': False})
    assert (status, err) == (0, '') and out.endswith('ok\n'), (out, err)


def test_close_from_a_handler_while_another_thread_reads():
    status, out, err = run_script(FUZZ % {'seed': 4, 'rounds': 60, 'reader': True})
    assert (status, err) == (0, '') and out.endswith('ok\n'), (out, err)


def test_a_read_from_a_handler_that_interrupted_a_wait_reads():
    code = '''
import os, signal, tempfile
from inotify_simple import INotify, flags
tmp = tempfile.mkdtemp()
inotify = INotify()
wd = inotify.add_watch(tmp, flags.CREATE)
got = []
def handler(signum, frame):
    open(os.path.join(tmp, 'a'), 'w').close()
    got.append(inotify.read())
    open(os.path.join(tmp, 'b'), 'w').close()  # for the read() interrupted
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.05)
assert inotify.read() == [(wd, flags.CREATE, 0, 'b')]
assert got == [[(wd, flags.CREATE, 0, 'a')]], got
inotify.close()
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


def test_a_read_from_a_handler_between_fionread_and_read_raises_runtime_error():
    # There the interrupted read() holds the readers' lock, and would block on a
    # queue that the handler's read() had emptied.
    code = '''
import os, signal, tempfile
from inotify_simple import INotify, flags
tmp = tempfile.mkdtemp()
class Interrupted(INotify):
    def _readall(self):
        os.kill(os.getpid(), signal.SIGUSR1)  # its handler runs as kill() returns
        return INotify._readall(self)
inotify = Interrupted()
wd = inotify.add_watch(tmp, flags.CREATE)
errors = []
def handler(signum, frame):
    try:
        inotify.read(timeout=0)
    except RuntimeError as e:
        errors.append(str(e))
signal.signal(signal.SIGUSR1, handler)
open(os.path.join(tmp, 'a'), 'w').close()
assert inotify.read() == [(wd, flags.CREATE, 0, 'a')]
print(errors[0])
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
open(os.path.join(tmp, 'b'), 'w').close()
assert inotify.read() == [(wd, flags.CREATE, 0, 'b')]  # the instance works
inotify.close()
'''
    assert run_script(code) == (0, 'read() was called from a signal handler that '
                                'interrupted a read() of this INotify\n', '')


def test_a_handler_that_reopens_never_reaches_the_new_instance_through_the_old():
    # close() frees the descriptor's number, which the new instance may take: an
    # add_watch() or rm_watch() of the old instance that the handler interrupted
    # must not act on the new one through it.
    code = '''
import os, random, signal, tempfile
from inotify_simple import INotify, flags
tmp = tempfile.mkdtemp()
random.seed(5)
state = {}
def handler(signum, frame):
    state['old'].close()
    state['new'] = INotify()
signal.signal(signal.SIGALRM, handler)
def watches(inotify):
    with open('/proc/self/fdinfo/%d' % inotify.fd) as f:
        return [line for line in f if line.startswith('inotify wd:')]
for calls in [lambda old: old.add_watch(tmp, flags.CREATE),
              lambda old: old.rm_watch(old.add_watch(tmp, flags.CREATE))]:
    for _ in range(300):
        state.clear()
        state['old'] = INotify()
        signal.setitimer(signal.ITIMER_REAL, random.uniform(1e-6, 3e-4))
        try:
            while 'new' not in state:
                calls(state['old'])
        except ValueError:
            pass
        signal.setitimer(signal.ITIMER_REAL, 0)
        assert watches(state['new']) == [], watches(state['new'])
        state['new'].close()
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


def test_an_exception_from_a_handler_anywhere_leaves_the_instance_working():
    # As KeyboardInterrupt does on Ctrl-C. On Python 2.7 the lock is written in
    # Python, and on PyPy so are ctypes and more: there no code of ours can keep
    # read() whole. On CPython 3 what remains is that a descriptor just made may be
    # lost: the eventfd that read() makes on its first wait is made beforehand.
    reads = sys.version_info >= (3,) and not hasattr(sys, 'pypy_version_info')
    code = '''
import gc, os, random, signal, sys, tempfile
from inotify_simple import INotify, flags
tmp = tempfile.mkdtemp()
random.seed(6)
class Stop(Exception):
    pass
fired = []
def handler(signum, frame):
    fired.append(signum)  # it may run in a finalizer, which drops the exception
    raise Stop()
signal.signal(signal.SIGALRM, handler)
def until_fired(call):  # a function: CPython 3.13 and 3.14 may raise a handler's
    # exception at a loop's jump back outside the try around it (gh-130279)
    while not fired:
        call()
ANON_FDS
before = fds()
inotify = INotify()
wd = inotify.add_watch(tmp, flags.CREATE)
assert inotify.read(timeout=1) == []
calls = [lambda: inotify.rm_watch(inotify.add_watch(tmp, flags.CREATE))]
if READS:
    calls += [lambda: inotify.read(timeout=1), lambda: inotify.read(timeout=0)]
for call in calls:
    for _ in range(300):
        del fired[:]
        try:
            signal.setitimer(signal.ITIMER_REAL, random.uniform(1e-6, 3e-4))
            until_fired(call)
        except Stop:
            pass
        signal.setitimer(signal.ITIMER_REAL, 0)
        assert inotify.read(timeout=0) is not None  # no RuntimeError: nobody left in
inotify.close()
if not inotify.closed:  # where a handler's exception may skip a count's removal
    assert sys.version_info < (3, 10) or hasattr(sys, 'pypy_version_info')
    del inotify
    getattr(sys, 'exc_clear', lambda: None)()  # Python 2.7's last traceback holds it
    for _ in range(3):  # PyPy finalizes an object in a later collection
        gc.collect()  # which closes what the count kept open
assert fds() == before, (before, fds())
print('ok')
'''.replace('READS', repr(reads)).replace('ANON_FDS', ANON_FDS)
    status, out, err = run_script(code)
    assert (status, out) == (0, 'ok\n'), err
    # A handler may run inside a finalizer (PyPy's ctypes has many, written in
    # Python): there its exception is reported, and dropped. Such reports are all
    # that may be written, and none of them may be about a finalizer of ours.
    reports = re.findall(r'(?ms)^Exception ignored.*?(?=^Exception ignored|\Z)', err)
    assert ''.join(reports) == err, err
    assert not [report for report in reports
                if 'INotify' in report.split('\n')[0]], err


def test_close_from_a_handler_keeps_up_with_a_storm_of_signals():
    # SIGALRM every 50 us, and each handler closes the instance the main thread
    # is closing: a close() from a handler must cost little and the same however
    # deep the handlers nest, or they nest without end (RecursionError, as PyPy
    # once gave). Long on PyPy, whose frames were the slow part; short elsewhere.
    seconds = 20 if hasattr(sys, 'pypy_version_info') else 2
    code = '''
import os, signal, sys, time
from inotify_simple import INotify
ANON_FDS
before = fds()
state = {}
def handler(signum, frame):
    state['inotify'].close()
    state['handled'] = state.get('handled', 0) + 1
signal.signal(signal.SIGALRM, handler)
state['inotify'] = INotify()
state['inotify'].close()  # what the first handlers close, before the loop's
end = time.time() + SECONDS
signal.setitimer(signal.ITIMER_REAL, 5e-5, 5e-5)
try:
    while time.time() < end:
        inotify = INotify()
        state['inotify'] = inotify
        for _ in range(100):  # closed by the first, and by handlers inside each
            inotify.close()
finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
state['inotify'].close()
assert state['handled'] > 0
assert fds() == before, (before, fds())
print('ok')
'''.replace('SECONDS', repr(seconds)).replace('ANON_FDS', ANON_FDS)
    assert run_script(code, timeout=seconds + 60) == (0, 'ok\n', '')
