"""Several threads reading one instance; close() from another thread."""
import os
import threading
import time

import pytest

from conftest import WAIT
from conftest import open_fds
from conftest import polling
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
    """How many threads are inside this instance's read()."""
    return len(inotify._users)


@pytest.fixture
def big_queue(limit):
    """Room for 20,000 events where it can be made (as root), else 16384 (the default);
    returns how many files to create."""
    with open('/proc/sys/fs/inotify/max_queued_events') as f:
        queued = int(f.read())
    if queued >= 40000 or os.geteuid() != 0:
        return min(20000, queued - 1)
    limit('max_queued_events', 40000)
    return 20000


@pytest.mark.parametrize('nonblocking', [False, True])
def test_concurrent_readers_get_every_event_once_whole_and_in_order(
        tmp, big_queue, nonblocking):
    with INotify(nonblocking=nonblocking) as inotify:
        wd = inotify.add_watch(tmp, flags.CREATE)
        got = [[] for _ in range(4)]
        errors = []

        def reader(batches, timeout):
            try:
                while not inotify.closed:
                    events = inotify.read(timeout=timeout)
                    if events:
                        batches.append(events)
            except ValueError:  # closed between the check and the read
                pass
            except Exception as e:  # reported by the main thread
                errors.append(e)
        timeouts = [None, 50, 0, 60000]
        threads = [start(reader, got[i], timeouts[i]) for i in range(4)]
        names = ['%05d' % i for i in range(big_queue)]
        for name in names:
            touch(os.path.join(tmp, name))
        wait_for(lambda: sum(len(b) for batches in got for b in batches[:]) >= len(
            names) or errors)
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
    wait_for(lambda: tids and polling(tids[0], 2))
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
