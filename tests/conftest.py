import errno
import gc
import os
import select
import shutil
import signal
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
# tests/run-all.sh gives more when it runs several interpreters at once.
WAIT = float(os.environ.get('INOTIFY_SIMPLE_TEST_WAIT', '30'))

def open_fds():
    """The descriptors this process has open, with what each points at."""
    fds = {}
    for fd in os.listdir('/proc/self/fd'):
        try:
            fds[int(fd)] = os.readlink('/proc/self/fd/' + fd)
        except OSError:  # the descriptor of the listing itself, gone by now
            pass
    return fds


def unblock(signum):
    """Let ``signum`` through, should this process have inherited it blocked (as a
    process started by another that blocks it does): a handler must be able to run.
    """
    if hasattr(signal, 'pthread_sigmask'):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    else:  # Python 2.7: sigprocmask(2) with a sigset_t of its own making
        import ctypes
        sigset = (ctypes.c_ulong * (128 // ctypes.sizeof(ctypes.c_ulong)))()
        bits = 8 * ctypes.sizeof(ctypes.c_ulong)
        sigset[(signum - 1) // bits] = 1 << (signum - 1) % bits
        ctypes.CDLL(None).sigprocmask(1, ctypes.byref(sigset), None)  # SIG_UNBLOCK


# The tests' signal handlers, and those of the scripts they start, need SIGALRM.
unblock(signal.SIGALRM)


@pytest.fixture(autouse=True)
def no_fd_leaks():
    """Every test leaves the same descriptors open as it found."""
    gc.collect()  # PyPy collects late: finalize what earlier code dropped
    before = open_fds()
    yield
    gc.collect()
    # A thread that has just ended may still be in pthread_exit(), where the C
    # library loads libgcc_s, holding a descriptor for a moment: a leak stays.
    deadline = time.time() + 5
    after = open_fds()
    while after != before and time.time() < deadline:
        time.sleep(0.01)
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


CLONE_NEWUSER = 0x10000000  # <sched.h>


def in_user_namespace(function, **limits):
    """``function()``'s result, run in a child process alone in a user namespace of
    its own, where the inotify limits of /proc/sys/user are set to ``limits`` (say
    max_inotify_instances=4): lowered there, they bind that process and nobody
    else, and go with it. Skips where user namespaces cannot be made.
    """
    import ctypes
    import pickle
    import traceback
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return to pytest
        try:
            os.close(readable)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWUSER) != 0:
                result = ('skip', 'no user namespace here: %s'
                          % os.strerror(ctypes.get_errno()))
            else:
                for name, value in limits.items():
                    with open('/proc/sys/user/' + name, 'w') as f:
                        f.write('%d\n' % value)
                result = ('ok', function())
        except BaseException:
            result = ('error', traceback.format_exc())
        try:
            os.write(writable, pickle.dumps(result, 2))
        finally:
            os._exit(0)
    os.close(writable)
    try:
        report, = read_all([readable], WAIT)
    finally:
        os.close(readable)
        wait_or_kill(pid)
    kind, value = pickle.loads(report)
    if kind == 'skip':
        pytest.skip(value)
    assert kind == 'ok', value
    return value


def read_all(fds, timeout):
    """Everything readable from each of ``fds`` until its end, as a list of bytes;
    fail after ``timeout`` s."""
    deadline = time.time() + timeout
    chunks = dict((fd, []) for fd in fds)
    open_fds = list(fds)
    while open_fds:
        left = deadline - time.time()
        assert left > 0, 'no end of output in %s s; got %r' % (timeout, chunks)
        for fd in select.select(open_fds, [], [], left)[0]:
            chunk = os.read(fd, 65536)
            chunks[fd].append(chunk)
            if not chunk:
                open_fds.remove(fd)
    return [b''.join(chunks[fd]) for fd in fds]


def wait_or_kill(pid, timeout=WAIT):
    """The exit status of child ``pid``, as subprocess gives it (-N for signal N);
    the child is killed, and the test fails, after ``timeout`` s."""
    deadline = time.time() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else \
                -os.WTERMSIG(status)
        if time.time() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail('process %d did not end in %s s' % (pid, timeout))
        time.sleep(0.01)


def run_script(code, timeout=WAIT, **env):
    """Run ``code`` in a new interpreter that imports this inotify_simple, bounded
    in time (a hang fails the test): its exit status, stdout and stderr as text.
    Whatever it leaves running (children of its fork()s) is killed with it, and
    what it makes with ``tempfile`` is removed."""
    env['TMPDIR'] = tempfile.mkdtemp(prefix='inotify-simple-test-')
    try:
        status, out, err = run_command([sys.executable, '-c', code], timeout,
                                       env=python_env(**env))
    finally:
        shutil.rmtree(env['TMPDIR'], ignore_errors=True)
    return status, out.decode(), err.decode()


def run_command(argv, timeout=WAIT, **kwargs):
    """:func:`run_script`'s way with any command: status, stdout, stderr as bytes.
    Keyword arguments go to subprocess."""
    session = {'preexec_fn': os.setsid} if PY2 else {'start_new_session': True}
    kwargs.update(session)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, **kwargs)
    try:
        out, err = read_all([process.stdout.fileno(), process.stderr.fileno()],
                            timeout)
        process.returncode = wait_or_kill(process.pid, timeout)
    finally:
        process.stdout.close()
        process.stderr.close()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:  # nothing was left
            pass
        if process.returncode is None:
            os.waitpid(process.pid, 0)
            process.returncode = -signal.SIGKILL
    return process.returncode, out, err


def queue_size():
    """How many events an instance's queue holds (/proc/sys/fs/inotify/
    max_queued_events); skips where that is too many to make in a test."""
    with open('/proc/sys/fs/inotify/max_queued_events') as f:
        size = int(f.read())
    if size > 10 ** 6:
        pytest.skip('max_queued_events is %d: too many events to make' % size)
    return size


def before(tree, step, act):
    """``act(*args)`` done each time before the tree's walker takes ``step`` (one
    of its methods, by name) with those arguments: another process acting in
    the tree's window."""
    taken = getattr(tree._walker, step)

    def acting(*args):
        act(*args)
        return taken(*args)
    setattr(tree._walker, step, acting)


def overflow(directory, size):
    """Queue ``size`` + 2 CREATE events in ``directory``, without lowering the size
    of the queue for the whole machine: x and y made and removed in turn, so that
    no two in a row are the same (the kernel would merge those)."""
    for _ in range(size // 2 + 1):
        for name in ('x', 'y'):
            path = os.path.join(directory, name)
            touch(path)
            os.remove(path)


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


def this_process(inotify):
    """What ``inotify`` keeps for the calling process (its lock, the threads using
    it, its eventfd)."""
    return inotify._INotify__state


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
