"""Creating, inheriting, closing and collecting instances; no descriptor leaks."""
import errno
import fcntl
import gc
import os
import resource
import subprocess
import sys
import warnings
import weakref

import pytest

from conftest import in_user_namespace
from conftest import WAIT
from conftest import open_fds
from conftest import run_script
from conftest import this_process
import inotify_simple
from inotify_simple import INotify
from inotify_simple import flags


def child_sees(fd):
    """Whether a child process, run with every descriptor left open, has ``fd``."""
    code = 'import os, sys; sys.stdout.write(str(os.path.exists("/proc/self/fd/%d")))'
    kwargs = {} if sys.version_info[0] == 2 else {'pass_fds': ()}
    return subprocess.check_output([sys.executable, '-c', code % fd],
                                   close_fds=False, **kwargs) == b'True'


def test_fd_and_fileno_are_the_descriptor(inotify):
    assert inotify.fd == inotify.fileno()
    assert os.readlink('/proc/self/fd/%d' % inotify.fd) == 'anon_inode:inotify'


def test_not_inheritable_by_default_sets_close_on_exec():
    with INotify() as inotify:
        assert fcntl.fcntl(inotify.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert not child_sees(inotify.fd)


def test_inheritable_reaches_a_child_across_exec():
    with INotify(inheritable=True) as inotify:
        assert not fcntl.fcntl(inotify.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert child_sees(inotify.fd)


def test_blocking_by_default(inotify):
    assert not fcntl.fcntl(inotify.fd, fcntl.F_GETFL) & os.O_NONBLOCK


def test_nonblocking_makes_a_bare_read_raise_eagain():
    with INotify(nonblocking=True) as inotify:
        assert fcntl.fcntl(inotify.fd, fcntl.F_GETFL) & os.O_NONBLOCK
        with pytest.raises(OSError) as info:
            os.read(inotify.fd, 4096)
        assert info.value.errno == errno.EAGAIN
        assert inotify.read(timeout=0) == []


def test_close_closes_the_descriptor_and_twice_is_harmless():
    inotify = INotify()
    fd = inotify.fd
    inotify.close()
    assert inotify.closed
    assert fd not in open_fds()
    inotify.close()
    with pytest.raises(ValueError):
        inotify.fileno()


def test_the_context_manager_returns_the_instance_and_closes_it():
    with INotify() as inotify:
        assert isinstance(inotify, INotify)
        fd = inotify.fd
    assert inotify.closed
    assert fd not in open_fds()


def test_closefd_false_leaves_the_descriptor_open():
    inotify = INotify(closefd=False)
    fd = inotify.fd
    inotify.close()
    assert inotify.closed
    try:
        assert os.readlink('/proc/self/fd/%d' % fd) == 'anon_inode:inotify'
    finally:
        os.close(fd)


def test_garbage_collection_closes_the_descriptor():
    inotify = INotify()
    fd = inotify.fd
    ref = weakref.ref(inotify)
    # Dropped unclosed on purpose. Where ResourceWarning is shown (-X dev), the
    # warning that pytest records holds the instance as its source, keeping it alive.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        del inotify
        gc.collect()
    assert ref() is None
    assert fd not in open_fds()


def test_read_after_close_raises_value_error():
    inotify = INotify()
    inotify.close()
    for timeout in (None, 0, 10):
        with pytest.raises(ValueError):
            inotify.read(timeout=timeout)


def test_operations_after_close_raise_value_error():
    inotify = INotify()
    inotify.close()
    with pytest.raises(ValueError):
        inotify.add_watch('.', flags.CREATE)
    for wd in (1, 2 ** 40):
        with pytest.raises(ValueError):
            inotify.rm_watch(wd)


def test_the_instance_limit_gives_emfile_that_names_it():
    def reach_the_limit():
        instances = []
        try:
            while len(instances) < 10:
                instances.append(INotify())
        except OSError as e:
            fds = len(open_fds())
            for inotify in instances:
                inotify.close()
            return e.errno, str(e), len(instances), fds - len(open_fds())
    # lowered in a user namespace of the test's own, not for the whole machine
    error, message, made, closed = in_user_namespace(reach_the_limit,
                                                     max_inotify_instances=4)
    assert error == errno.EMFILE
    assert made == 4
    assert closed == made  # one descriptor each, and the failure leaked none
    assert '/proc/sys/user/max_inotify_instances (now 4) was reached' in message
    assert '"sysctl user.max_inotify_instances=N"' in message


def test_the_limits_named_are_the_systems_where_they_are_the_lowest():
    # in the initial user namespace, /proc/sys/user shows the system's limits
    for err, call, name in [(errno.EMFILE, 'inotify_init1', 'max_user_instances'),
                            (errno.ENOSPC, 'inotify_add_watch', 'max_user_watches')]:
        with open('/proc/sys/fs/inotify/' + name) as f:
            value = f.read().strip()
        message = inotify_simple._strerror(err, call)
        assert '/proc/sys/fs/inotify/%s (now %s)' % (name, value) in message
        assert '"sysctl fs.inotify.%s=N"' % name in message


def test_the_process_descriptor_limit_is_not_mislabelled():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers = []
    # room for one more descriptor above the highest, and for any holes below
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(open_fds()) + 2, hard))
    try:
        try:
            while True:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
        except OSError as e:
            assert e.errno == errno.EMFILE
        assert fillers
        with pytest.raises(OSError) as info:
            INotify()
        os.close(fillers.pop())  # room for the inotify, none for the eventfd
        with INotify() as inotify:
            assert inotify.read(timeout=0) == []  # needs no eventfd: never waits
            with pytest.raises(OSError) as second:
                inotify.read(timeout=1)  # a wait needs one
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    for error in (info.value, second.value):
        assert error.errno == errno.EMFILE
        assert 'max_user_instances' not in str(error)
        assert 'max_inotify_instances' not in str(error)


def added_fds(before):
    return sorted(target for fd, target in open_fds().items() if fd not in before)


def test_the_descriptor_that_wakes_readers_comes_with_the_first_wait():
    before = open_fds()
    inotify = INotify()
    inotify.read(timeout=0)
    assert added_fds(before) == ['anon_inode:inotify']
    inotify.read(timeout=1)
    assert added_fds(before) == ['anon_inode:[eventfd]', 'anon_inode:inotify']
    for fd in set(open_fds()) - set(before):
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert not child_sees(fd)
    inotify.close()
    assert added_fds(before) == []


def test_exiting_with_instances_open_is_quick_and_quiet():
    # Left for the interpreter's exit to finalize: in __main__, in the module's own
    # globals (Python 2.7 empties them late), in a reference cycle, and one that a
    # daemon thread is blocked reading, which exit stops where it stands.
    code = '''
import os, sys, threading, time, warnings
import inotify_simple
from inotify_simple import INotify
if sys.version_info[0] > 2:  # dropped unclosed on purpose (-X dev would warn)
    warnings.filterwarnings('ignore', category=ResourceWarning)
kept = INotify()
inotify_simple.kept = INotify()
cycle = [INotify()]
cycle.append(cycle)
reader = INotify()
assert reader.read(timeout=1) == []
inotify_simple.reader = reader
tids = []
def read():
    tids.append(int(os.readlink('/proc/thread-self').split('/')[-1]))
    reader.read()
thread = threading.Thread(target=read)
thread.daemon = True
thread.start()
def polling():
    with open('/proc/self/task/%d/syscall' % tids[0]) as f:
        return f.read().split()[0] in ('7', '271', '73')
while not tids or not polling():
    time.sleep(0.001)
print('ok')
'''
    assert run_script(code, timeout=WAIT) == (0, 'ok\n', '')


def stale_count(inotify):
    """Count the calling thread as inside a method of ``inotify``, as an exception
    from a signal handler may leave it where it can skip a finally clause."""
    this_process(inotify).users.append(inotify_simple.get_ident())


@pytest.mark.parametrize('in_a_cycle', [False, True])
def test_an_instance_left_with_a_stale_count_is_closed_when_collected(in_a_cycle):
    before = open_fds()
    inotify = INotify()
    assert inotify.read(timeout=1) == []  # and its eventfd
    stale_count(inotify)
    inotify.close()  # as if a handler interrupted a method: that one would close
    assert not inotify.closed
    ref = weakref.ref(inotify)
    if in_a_cycle:  # collected before its close() runs, on CPython
        inotify.cycle = [inotify]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # dropped unclosed on purpose
        del inotify
        gc.collect()
    assert ref() is None
    canary = os.pipe()  # takes the numbers just freed: no second close may hit it
    gc.collect()
    try:
        assert sorted(set(open_fds()) - set(before)) == sorted(canary)
    finally:
        for fd in canary:
            os.close(fd)


def test_a_stale_count_neither_stops_reads_nor_wedges_close():
    # Left where a signal handler's exception skips a count's removal (Python <= 3.9,
    # PyPy): reads go on, close() returns, and the descriptors wait for collection.
    with INotify() as inotify:
        assert inotify.read(timeout=0) == []
        stale_count(inotify)
        assert inotify.read(timeout=1) == []
    assert not inotify.closed
    this_process(inotify).users.remove(inotify_simple.get_ident())
    inotify.close()  # a later close() releases once nobody is counted
    assert inotify.closed
