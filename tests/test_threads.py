"""Several threads reading one instance; close() from another thread."""
import os
import threading
import time

import pytest

from conftest import WAIT
from conftest import open_fds
from conftest import polling
from conftest import run_script
from conftest import this_process
from conftest import thread_id
from conftest import wait_for
from conftest import touch
from inotify_simple import INotify
from inotify_simple import flags

now = getattr(time, 'monotonic', time.time)


def start(target, *args):
    thread = threading.Thread(target=target, args=args)
    thread.daemon = True  # a hung reader must not hang the suite: the test fails
    thread.start()
    return thread


def waiting_readers(inotify):
    """How many threads are inside this instance's read() in this process."""
    process = this_process(inotify)
    return len(process.users) if process else 0


@pytest.fixture
def big_queue():
    """How many files to create: as many as the queue holds (16383 by default), but
    no more than 20,000."""
    with open('/proc/sys/fs/inotify/max_queued_events') as f:
        return min(20000, int(f.read()) - 1)


@pytest.mark.parametrize('nonblocking', [False, True])
def test_concurrent_readers_get_every_event_once_whole_and_in_order(
        tmp, big_queue, nonblocking):
    with INotify(nonblocking=nonblocking) as inotify:
        wd = inotify.add_watch(tmp, flags.CREATE)
        got = [[] for _ in range(4)]
        errors = []
        closing = []

        def reader(batches, timeout):
            try:
                while not inotify.closed:
                    events = inotify.read(timeout=timeout)
                    if events:
                        batches.append(events)
            except Exception as e:  # reported by the main thread
                # but for a read begun after close(), which must raise this
                if not (closing and isinstance(e, ValueError) and
                        str(e) == 'I/O operation on closed file'):
                    errors.append(e)
        timeouts = [None, 50, 0, 60000]
        threads = [start(reader, got[i], timeouts[i]) for i in range(4)]
        names = ['%05d' % i for i in range(big_queue)]
        for name in names:
            touch(os.path.join(tmp, name))
        wait_for(lambda: sum(len(b) for batches in got for b in batches[:]) >= len(
            names) or errors)
        closing.append(True)
        inotify.close()
        for thread in threads:
            thread.join(WAIT)
            assert not thread.is_alive()
    assert errors == []
    everything = [e for batches in got for batch in batches for e in batch]
    assert sorted(e.name for e in everything) == names
    assert all(e.wd == wd and e.mask == flags.CREATE for e in everything)
    for batches in got:
        for batch in batches:
            assert [e.name for e in batch] == sorted(e.name for e in batch)


@pytest.mark.parametrize('closefd', [True, False])
def test_close_wakes_every_blocked_reader_with_an_empty_list(tmp, closefd):
    inotify = INotify(closefd=closefd)
    fd = inotify.fd
    inotify.add_watch(tmp, flags.CREATE)
    results = []
    readers = [start(lambda t=timeout: results.append(inotify.read(timeout=t)))
               for timeout in (None, -1, 3600 * 1000, None)]
    wait_for(lambda: waiting_readers(inotify) == 4)
    start_close = now()
    inotify.close()
    for thread in readers:
        thread.join(WAIT)
        assert not thread.is_alive()
    assert now() - start_close < WAIT
    assert results == [[]] * 4
    assert inotify.closed
    with pytest.raises(ValueError):
        inotify.read(timeout=0)
    if closefd:
        assert fd not in open_fds()
    else:
        assert os.readlink('/proc/self/fd/%d' % fd) == 'anon_inode:inotify'
        os.close(fd)


def test_close_wakes_a_reader_waiting_out_its_read_delay(tmp):
    inotify = INotify()
    inotify.add_watch(tmp, flags.CREATE)
    tids, results = [], []

    def reader():
        tids.append(thread_id())
        results.append(inotify.read(read_delay=3600 * 1000))
    thread = start(reader)
    wait_for(lambda: bool(tids) and polling(tids[0], 2))
    touch(os.path.join(tmp, 'a'))
    wait_for(lambda: polling(tids[0], 1))
    inotify.close()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert results == [[]]


def test_close_from_several_threads_at_once(tmp):
    inotify = INotify()
    readers = [start(inotify.read) for _ in range(3)]
    wait_for(lambda: waiting_readers(inotify) == 3)
    closers = [start(inotify.close) for _ in range(3)]
    for thread in readers + closers:
        thread.join(WAIT)
        assert not thread.is_alive()
    assert inotify.closed


def test_add_and_rm_watch_from_other_threads_while_reading(tmp):
    with INotify() as inotify:
        results = []
        reader = start(lambda: results.append(inotify.read(timeout=WAIT * 1000)))
        wait_for(lambda: waiting_readers(inotify) == 1)
        wd = inotify.add_watch(tmp, flags.CREATE)
        inotify.rm_watch(wd)
        reader.join(WAIT)
        assert results == [[(wd, flags.IGNORED, 0, '')]]


def test_a_timeout_longer_than_poll_takes_still_waits(inotify):
    # poll() takes at most 2**31 - 1 ms; a longer timeout must not raise
    tid = thread_id()

    def close_once_waiting():
        wait_for(lambda: polling(tid, 2))
        inotify.close()
    closer = start(close_once_waiting)
    assert inotify.read(timeout=10 ** 12) == []
    closer.join(WAIT)


def test_first_use_from_many_threads_at_once(tmp):
    # The C library is loaded on first use; every round starts from no library.
    code = '''
import sys, threading
import inotify_simple
from inotify_simple import INotify, flags
if hasattr(sys, 'setswitchinterval'):
    sys.setswitchinterval(1e-6)
else:  # Python 2.7
    sys.setcheckinterval(1)
errors = []
def use(start):
    start.wait()
    try:
        with INotify() as inotify:
            inotify.add_watch(%r, flags.CREATE)
    except Exception as e:
        errors.append(repr(e))
for _ in range(100):
    inotify_simple._libc = None
    start = threading.Event()
    threads = [threading.Thread(target=use, args=(start,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
print(errors)
''' % tmp
    assert run_script(code) == (0, '[]\n', '')


def test_close_from_another_thread_while_watches_are_added_and_removed(tmp):
    paths = [os.path.join(tmp, str(i)) for i in range(3)]
    for path in paths:
        os.mkdir(path)
    for _ in range(50):
        inotify = INotify()
        errors = []

        def watch(path):
            try:
                while True:
                    inotify.rm_watch(inotify.add_watch(path, flags.CREATE))
            except ValueError as e:  # closed: the one error expected
                if str(e) != 'I/O operation on closed file':
                    errors.append(e)
            except Exception as e:
                errors.append(e)
        threads = [start(watch, path) for path in paths]
        inotify.close()
        for thread in threads:
            thread.join(WAIT)
            assert not thread.is_alive()
        assert errors == []
