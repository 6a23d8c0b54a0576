"""An INotify (or its fileno()) in select, poll, selectors and an asyncio loop."""
import os
import select

import pytest

from conftest import WAIT
from conftest import touch
from inotify_simple import flags

try:
    import selectors
except ImportError:  # Python 2.7
    selectors = None
try:
    import asyncio
except ImportError:  # Python 2.7
    asyncio = None


@pytest.fixture(params=['object', 'fileno'])
def ready(request, inotify, tmp):
    """(what to wait on, a function that queues an event)"""
    inotify.add_watch(tmp, flags.CREATE)
    target = inotify if request.param == 'object' else inotify.fileno()
    return target, lambda: touch(os.path.join(tmp, 'a'))


def test_select(inotify, ready):
    target, make_event = ready
    assert select.select([target], [], [], 0) == ([], [], [])
    make_event()
    assert select.select([target], [], [], WAIT)[0] == [target]
    assert [e.name for e in inotify.read()] == ['a']
    assert select.select([target], [], [], 0) == ([], [], [])


def test_poll(inotify, ready):
    target, make_event = ready
    poller = select.poll()
    poller.register(target, select.POLLIN)
    assert poller.poll(0) == []
    make_event()
    assert poller.poll(WAIT * 1000) == [(inotify.fileno(), select.POLLIN)]
    assert [e.name for e in inotify.read()] == ['a']


@pytest.mark.skipif(selectors is None, reason='no selectors module')
def test_selectors(inotify, ready):
    target, make_event = ready
    selector = selectors.DefaultSelector()
    try:
        selector.register(target, selectors.EVENT_READ, 'inotify')
        assert selector.select(0) == []
        make_event()
        (key, mask), = selector.select(WAIT)
        assert (key.fileobj, key.data, mask) == (target, 'inotify',
                                                 selectors.EVENT_READ)
        assert [e.name for e in inotify.read()] == ['a']
    finally:
        selector.close()


@pytest.mark.skipif(asyncio is None, reason='no asyncio')
def test_asyncio_add_reader(inotify, ready):
    target, make_event = ready
    loop = asyncio.new_event_loop()
    try:
        got = loop.create_future()
        loop.add_reader(target, lambda: got.done() or got.set_result(
            inotify.read(timeout=0)))
        loop.call_soon(make_event)
        events = loop.run_until_complete(asyncio.wait_for(got, WAIT))
        loop.remove_reader(target)
    finally:
        loop.close()
    assert [e.name for e in events] == ['a']
