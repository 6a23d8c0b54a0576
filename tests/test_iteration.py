"""for event in inotify (or a Tree): the events as they come, until it is closed; the
reads inherited from io.FileIO that cannot work refuse, and take nothing."""
import io
import os
import threading
import time

import pytest

from conftest import WAIT
from conftest import touch
from inotify_simple import INotify
from inotify_simple import flags
from inotify_simple import parse_events
from inotify_simple_tree import Tree


def iterate_in_a_thread(source):
    """A thread that iterates over ``source``; what it got, as it gets it."""
    got = []

    def iterate():
        for event in source:
            got.append(event)
    thread = threading.Thread(target=iterate)
    thread.daemon = True
    thread.start()
    return thread, got


def wait_for(condition):
    deadline = time.time() + WAIT
    while not condition():
        assert time.time() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize('kind', ['INotify', 'Tree'])
def test_iterating_gives_events_as_they_come_and_ends_when_closed_elsewhere(tmp, kind):
    if kind == 'INotify':
        source = INotify()
        source.add_watch(tmp, flags.CREATE)
    else:
        source = Tree(tmp, flags.CREATE)
    thread, got = iterate_in_a_thread(source)
    try:
        touch(os.path.join(tmp, 'a'))
        wait_for(lambda: [event.name for event in got] == ['a'])  # it blocks
        os.mkdir(os.path.join(tmp, 'd'))
        if kind == 'Tree':
            touch(os.path.join(tmp, 'd', 'f'))
            wait_for(lambda: len(got) == 3)
            assert [event.path for event in got] == [
                os.path.join(tmp, p) for p in ('a', 'd', 'd/f')]
        else:
            wait_for(lambda: len(got) == 2)
    finally:
        source.close()
    thread.join(WAIT)
    assert not thread.is_alive()


@pytest.mark.parametrize('kind', ['INotify', 'Tree'])
def test_iterating_a_closed_one_ends_at_once(tmp, kind):
    source = INotify() if kind == 'INotify' else Tree(tmp)
    source.close()
    assert list(source) == []


@pytest.mark.parametrize('call', ['readline', 'readlines', 'readall', 'next'])
def test_the_reads_of_lines_are_refused_and_take_nothing(tmp, inotify, call):
    inotify.add_watch(tmp, flags.CREATE)
    touch(os.path.join(tmp, 'g'))  # queued when touch() returns
    with pytest.raises(io.UnsupportedOperation) as refused:
        next(inotify) if call == 'next' else getattr(inotify, call)()
    assert 'read()' in str(refused.value)
    assert [event.name for event in inotify.read(timeout=WAIT * 1000)] == ['g']


@pytest.mark.parametrize('call', ['readline', 'readlines', 'readall'])
def test_a_tree_refuses_the_reads_of_lines_too_and_takes_nothing(tmp, call):
    with Tree(tmp, flags.CREATE) as tree:
        touch(os.path.join(tmp, 'g'))
        with pytest.raises(io.UnsupportedOperation) as refused:
            getattr(tree, call)()
        assert 'read()' in str(refused.value)
        assert [event.name for event in tree.read(timeout=WAIT * 1000)] == ['g']


def test_readinto_is_the_raw_read_of_the_kernel_s_bytes(tmp, inotify):
    inotify.add_watch(tmp, flags.CREATE)
    touch(os.path.join(tmp, 'f'))
    buffer = bytearray(4096)
    size = inotify.readinto(buffer)
    assert [event.name for event in parse_events(bytes(buffer[:size]))] == ['f']


def test_a_subclass_that_reads_its_own_way_is_iterated_its_way(tmp):
    class Renamed(INotify):  # as 1.3's subclasses override read()
        def read(self, timeout=None, read_delay=None):
            return [event._replace(name=event.name.upper())
                    for event in INotify.read(self, timeout, read_delay)]
    with Renamed() as inotify:
        inotify.add_watch(tmp, flags.CREATE)
        touch(os.path.join(tmp, 'f'))
        assert next(iter(inotify)).name == 'F'


@pytest.mark.parametrize('argument', ['exclude', 'onerror'])
def test_a_tree_refuses_what_is_not_callable_where_it_is_given(tmp, argument):
    before = sorted(os.listdir('/proc/self/fd'))
    with pytest.raises(TypeError) as refused:
        Tree(tmp, **{argument: 'x'})
    assert argument in str(refused.value) and 'callable' in str(refused.value)
    assert sorted(os.listdir('/proc/self/fd')) == before


@pytest.mark.parametrize('mask, said', [(-1, 'does not fit in 32 unsigned bits'),
                                        (2 ** 32, 'does not fit in 32 unsigned bits'),
                                        (0, 'asks for no event')])
def test_a_tree_refuses_a_bad_mask_as_inotify_does(tmp, mask, said):
    with pytest.raises(ValueError) as refused:
        Tree(tmp, mask)
    assert said in str(refused.value)


def test_a_tree_refuses_a_path_with_a_nul_byte_naming_it(tmp):
    with pytest.raises(ValueError) as refused:
        Tree(tmp + '/a\0b')
    assert 'NUL byte' in str(refused.value) and 'a\\x00b' in str(refused.value)
