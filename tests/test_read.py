"""read(): timeouts, read_delay, batching, signals, bad arguments."""
import os
import resource
import signal
import struct
import threading
import time

import pytest

from conftest import WAIT
from conftest import fence
from conftest import polling
from conftest import this_process
from conftest import thread_id
from conftest import touch
from conftest import wait_for
from inotify_simple import Event
from inotify_simple import flags

now = getattr(time, 'monotonic', time.time)


def timed(call, *args, **kwargs):
    start = now()
    result = call(*args, **kwargs)
    return result, now() - start


def later(action):
    """Run ``action`` in a thread, now; join it on leaving the with block."""
    class Later(object):
        def __enter__(self):
            self.thread = threading.Thread(target=action)
            self.thread.daemon = True  # a hung one must fail the test, not the run
            self.thread.start()

        def __exit__(self, *exc):
            self.thread.join(WAIT)
            assert not self.thread.is_alive()
    return Later()


def test_timeout_zero_returns_at_once_with_nothing_queued(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    events, elapsed = timed(inotify.read, timeout=0)
    assert events == []
    assert elapsed < WAIT


def test_timeout_zero_returns_what_is_queued(inotify, tmp):
    # inotify queues an event within the system call that causes it
    inotify.add_watch(tmp, flags.CREATE)
    touch(os.path.join(tmp, 'a'))
    assert inotify.read(timeout=0) == [Event(1, flags.CREATE, 0, 'a')]


def test_a_timed_read_with_nothing_queued_waits_the_timeout(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    events, elapsed = timed(inotify.read, timeout=250)
    assert events == []
    assert 0.25 <= elapsed < WAIT


def test_a_fractional_timeout_is_not_cut_short(inotify):
    events, elapsed = timed(inotify.read, timeout=30.5)
    assert events == [] and 0.0305 <= elapsed < WAIT


@pytest.mark.parametrize('timeout', [None, -1, 60000])
def test_a_waiting_read_returns_when_an_event_comes(inotify, tmp, timeout):
    inotify.add_watch(tmp, flags.CREATE)
    with later(lambda: touch(os.path.join(tmp, 'a'))):
        events, elapsed = timed(inotify.read, timeout=timeout)
    assert events == [Event(1, flags.CREATE, 0, 'a')]
    assert elapsed < WAIT


def test_read_returns_every_queued_event_in_one_batch(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    names = ['%04d' % i for i in range(1000)]
    for name in names:
        touch(os.path.join(tmp, name))
    assert [e.name for e in inotify.read()] == names
    assert fence(inotify, tmp) == []


def test_queued_events_come_without_waiting_for_read_delay(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    touch(os.path.join(tmp, 'a'))
    events, elapsed = timed(inotify.read, timeout=60000, read_delay=60000)
    assert events == [Event(1, flags.CREATE, 0, 'a')]
    assert elapsed < WAIT


def test_read_delay_waits_after_the_first_event_and_gathers_more(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    tids, results = [], []

    def reader():
        tids.append(thread_id())
        results.append(timed(inotify.read, read_delay=1000))
    with later(reader):
        # nothing queued at the call
        wait_for(lambda: bool(tids) and polling(tids[0], 2))
        for name in 'abc':
            touch(os.path.join(tmp, name))
    (events, elapsed), = results
    assert [e.name for e in events] == ['a', 'b', 'c']
    assert 1.0 <= elapsed < WAIT + 1


@pytest.mark.parametrize('argument', ['timeout', 'read_delay'])
@pytest.mark.parametrize('value', ['10', b'10', [10], object()])
def test_a_non_numeric_timeout_raises_type_error(inotify, argument, value):
    with pytest.raises(TypeError) as info:
        inotify.read(**{argument: value})
    assert argument in str(info.value)


def test_a_signal_whose_handler_returns_does_not_cut_the_wait_short(inotify):
    caught = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: caught.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    try:
        events, elapsed = timed(inotify.read, timeout=500)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert events == []
    assert caught
    assert 0.5 <= elapsed < WAIT


def test_an_exception_from_a_signal_handler_leaves_read_at_once(inotify, tmp):
    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop()
    inotify.add_watch(tmp, flags.CREATE)
    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        with pytest.raises(Stop):
            timed(inotify.read)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    # and the instance goes on working
    touch(os.path.join(tmp, 'a'))
    assert fence(inotify, tmp) == [(1, flags.CREATE, 0, 'a')]


def test_close_from_a_signal_handler_ends_the_read_it_interrupts(tmp):
    from inotify_simple import INotify
    from conftest import open_fds
    inotify = INotify()
    fd = inotify.fd
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: inotify.close())
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        events, elapsed = timed(inotify.read)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert events == [] and elapsed < WAIT
    assert inotify.closed
    assert fd not in open_fds()


def test_an_infinite_timeout_waits_for_events(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    tids, results = [], []

    def reader():
        tids.append(thread_id())
        results.append(inotify.read(timeout=float('inf')))
    with later(reader):
        wait_for(lambda: bool(tids) and polling(tids[0], 2))
        touch(os.path.join(tmp, 'a'))
    assert results == [[Event(1, flags.CREATE, 0, 'a')]]


def test_minus_infinity_waits_like_none(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE)
    with later(lambda: touch(os.path.join(tmp, 'a'))):
        assert inotify.read(timeout=float('-inf')) == [Event(1, flags.CREATE, 0, 'a')]


def test_an_infinite_read_delay_waits_until_close(tmp):
    from inotify_simple import INotify
    inotify = INotify()
    inotify.add_watch(tmp, flags.CREATE)
    tids, results = [], []

    def reader():
        tids.append(thread_id())
        results.append(inotify.read(read_delay=float('inf')))
    with later(reader):
        wait_for(lambda: bool(tids) and polling(tids[0], 2))
        touch(os.path.join(tmp, 'a'))
        wait_for(lambda: polling(tids[0], 1))  # past the event, in its delay
        inotify.close()
    assert results == [[]]


@pytest.mark.parametrize('argument', ['timeout', 'read_delay'])
def test_nan_is_refused_up_front_naming_the_argument(inotify, tmp, argument):
    inotify.add_watch(tmp, flags.CREATE)
    touch(os.path.join(tmp, 'a'))  # queued: a read would return it at once
    with pytest.raises(ValueError) as info:
        inotify.read(**{argument: float('nan')})
    assert argument in str(info.value) and 'NaN' in str(info.value)
    assert inotify.read(timeout=0) == [Event(1, flags.CREATE, 0, 'a')]


def cpu_time():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_a_wake_descriptor_written_by_another_neither_ends_the_wait_nor_spins(
        inotify):
    assert inotify.read(timeout=1) == []  # the first wait makes the eventfd
    os.write(this_process(inotify).wake, struct.pack('=Q', 1))
    results = []
    used = cpu_time()
    with later(lambda: results.append(timed(inotify.read, timeout=500))):
        pass  # in a thread, so that a read that never ends fails the test
    (events, elapsed), = results
    assert events == []
    assert 0.5 <= elapsed < WAIT
    assert cpu_time() - used < 0.4


def test_the_deadline_does_not_follow_the_wall_clock(inotify, monkeypatch):
    real = time.time
    jumps = []

    def an_hour_later_at_each_call():
        jumps.append(1)
        return real() + 3600 * len(jumps)
    monkeypatch.setattr(time, 'time', an_hour_later_at_each_call)
    start = os.times()[4]  # times(2): real time, in clock ticks since boot
    assert inotify.read(timeout=300) == []
    assert 0.3 <= os.times()[4] - start + 0.01 < WAIT  # give a tick's rounding


@pytest.mark.parametrize('huge', [10 ** 400, -10 ** 400])
def test_a_timeout_too_large_for_a_float_is_no_deadline(inotify, tmp, huge):
    inotify.add_watch(tmp, flags.CREATE)
    with later(lambda: touch(os.path.join(tmp, 'a'))):
        assert inotify.read(timeout=huge) == [Event(1, flags.CREATE, 0, 'a')]
    touch(os.path.join(tmp, 'b'))
    assert inotify.read(timeout=0, read_delay=huge) == [Event(1, flags.CREATE, 0, 'b')]
