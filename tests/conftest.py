import errno
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import inotify_simple
from inotify_simple import INotify
from inotify_simple import flags

# How long to wait for an event that must come. Generous, for a loaded 2-core machine;
# it costs nothing when the event comes, which is always unless something is broken.
WAIT = 30.0

# Where the limits are that tests may lower, as root, and must restore.
LIMITS = '/proc/sys/fs/inotify/'


def open_fds():
    """The descriptors this process has open, with what each points at."""
    fds = {}
    for fd in os.listdir('/proc/self/fd'):
        try:
            fds[int(fd)] = os.readlink('/proc/self/fd/' + fd)
        except OSError:  # the descriptor of the listing itself, gone by now
            pass
    return fds


@pytest.fixture(autouse=True)
def no_fd_leaks():
    """Every test leaves the same descriptors open as it found."""
    gc.collect()  # PyPy collects late: finalize what earlier code dropped
    before = open_fds()
    yield
    gc.collect()
    after = open_fds()
    assert after == before


@pytest.fixture
def tmp():
    """A fresh temporary directory, as a str, removed after the test."""
    path = tempfile.mkdtemp(prefix='inotify-simple-test-')
    yield path
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(path + '.fence', ignore_errors=True)


@pytest.fixture
def inotify():
    """An INotify instance, closed after the test."""
    with INotify() as instance:
        yield instance


def read_until(inotify, done, timeout=WAIT):
    """Read events until ``done(events)`` holds; fail if it does not within timeout."""
    events = []
    deadline = time.time() + timeout
    while not done(events):
        left = deadline - time.time()
        assert left > 0, 'events did not come in %s s; got %r' % (timeout, events)
        events.extend(inotify.read(timeout=left * 1000))
    return events


def has(mask, name=None, wd=None):
    """A ``done`` for :func:`read_until`: an event with all of ``mask``'s bits."""
    def done(events):
        return any(e.mask & mask == mask and (name is None or e.name == name) and
                   (wd is None or e.wd == wd) for e in events)
    return done


def fence(inotify, tmp):
    """Everything queued before a last change of our own; nothing else is pending.

    The queue is ordered, so once the fence's event is read, every earlier event
    has been read too. Returns the events read, the fence's own left out.
    """
    directory = tmp + '.fence'  # beside tmp, whose watches must not see it
    if not os.path.isdir(directory):
        os.mkdir(directory)
    wd = inotify.add_watch(directory, flags.CREATE)
    name = 'fence-%d' % len(os.listdir(directory))
    open(os.path.join(directory, name), 'w').close()
    events = read_until(inotify, has(flags.CREATE, name, wd))
    assert inotify.read(timeout=0) == []
    return [e for e in events if e.wd != wd]


def touch(path, data=b''):
    with open(path, 'wb') as f:
        f.write(data)


@pytest.fixture
def limit():
    """Set an inotify limit in /proc/sys/fs/inotify for the test; restored after."""
    saved = {}

    def set_limit(name, value):
        path = LIMITS + name
        if os.geteuid() != 0:
            pytest.skip('lowering %s needs root' % path)
        with open(path) as f:
            saved.setdefault(path, f.read())
        try:
            with open(path, 'w') as f:
                f.write('%d\n' % value)
        except (IOError, OSError) as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                pytest.skip('%s cannot be written here: %s' % (path, e))
            raise
    def restore():
        for path, value in saved.items():
            with open(path, 'w') as f:
                f.write(value)
        saved.clear()
    set_limit.restore = restore  # for a test that needs the limit only a moment
    yield set_limit
    restore()


def kernel_at_least(*version):
    release = os.uname()[2].split('-')[0]
    return tuple(int(part) for part in release.split('.')[:2]) >= version


PY2 = sys.version_info[0] == 2

MODULE_DIR = os.path.dirname(os.path.abspath(inotify_simple.__file__))


def python_env(**extra):
    """os.environ, with this inotify_simple first on PYTHONPATH, and ``extra``."""
    env = dict(os.environ, **extra)
    env['PYTHONPATH'] = os.pathsep.join(
        [MODULE_DIR] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    return env


def python(code, *args, **kwargs):
    """Run ``code`` in a new interpreter that imports this inotify_simple; its output.

    Keyword arguments go to subprocess, ``env`` being added to os.environ.
    """
    return subprocess.check_output([sys.executable, '-c', code] + list(args),
                                   env=python_env(**kwargs.pop('env', {})),
                                   **kwargs).decode()


@pytest.fixture
def secret(tmp):
    """A directory in ``tmp`` that only root may search (tests drop to nobody)."""
    if os.geteuid() != 0:
        pytest.skip('dropping to another user needs root')
    path = os.path.join(tmp, 'secret')
    os.mkdir(path, 0o700)
    os.chmod(tmp, 0o755)
    return path


# Code that a test runs as the user nobody, after importing what it needs.
AS_NOBODY = 'os.setgid(65534); os.setuid(65534)\n'


def thread_id():
    """The kernel's id of the calling thread (threading.get_native_id() is 3.8+)."""
    return int(os.readlink('/proc/thread-self').split('/')[-1])


# poll() and ppoll() on x86_64, ppoll() on aarch64: the calls select.poll makes
POLL_CALLS = {'x86_64': ('7', '271'), 'aarch64': ('73',)}.get(os.uname()[4])


def polling(tid, nfds):
    """Whether thread ``tid`` is blocked in poll() on ``nfds`` descriptors.

    read() polls the inotify descriptor and its wake-up one (2), then, during its
    read_delay, the wake-up one alone (1).
    """
    if POLL_CALLS is None:
        pytest.skip('which system call is poll() is not known on this machine')
    try:
        with open('/proc/self/task/%d/syscall' % tid) as f:
            fields = f.read().split()
    except (IOError, OSError):  # the thread has ended
        return False
    return fields[0] in POLL_CALLS and int(fields[2], 16) == nfds


def wait_for(condition):
    """Wait for ``condition()`` to come true; fail if it does not within WAIT."""
    deadline = time.time() + WAIT
    while not condition():
        assert time.time() < deadline, 'gave up waiting for %r' % condition
        time.sleep(0.001)
