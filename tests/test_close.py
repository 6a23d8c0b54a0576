"""close() wherever it lands: inside another call of the same thread (as a signal
handler's does), at every line the module runs, and while another close() waits."""
import os
import threading

import pytest

from conftest import WAIT
from conftest import run_script
from conftest import this_process
from conftest import wait_for
from test_signals import ANON_FDS
import inotify_simple
from inotify_simple import INotify


def test_no_code_reads_frames_or_private_apis_of_threading():
    for module in ('inotify_simple', 'inotify_simple_tree', 'inotify_simple_cli'):
        with open(os.path.join(os.path.dirname(inotify_simple.__file__),
                               module + '.py')) as f:
            source = f.read()
        for name in ('_getframe', 'f_locals', '_is_owned', '_current_frames',
                     'time.sleep'):
            assert name not in source, (module, name)


def test_a_nested_close_leaves_the_closing_to_the_method():
    # A subclass's _readall() runs inside read(), with the count taken and the
    # readers' lock held, as a signal handler's close() would find them.
    class Closing(INotify):
        def _readall(self):
            self.close()
            assert not self.closed  # read() is still using the descriptor
            return INotify._readall(self)
    inotify = Closing()
    assert inotify.read(timeout=0) == []
    assert inotify.closed


def test_a_later_close_waits_for_nobody():
    # Once close() has been called, another close() returns at once, here while
    # the first waits for a thread held inside read().
    inside, leave = threading.Event(), threading.Event()

    class Held(INotify):
        def _readall(self):
            inside.set()
            leave.wait(WAIT)
            return INotify._readall(self)
    inotify = Held()
    reader = threading.Thread(target=inotify.read, args=(0,))
    reader.start()
    assert inside.wait(WAIT)
    wait = inotify_simple._CLOSE_WAIT
    inotify_simple._CLOSE_WAIT = 2 * WAIT  # the first close() waits for the reader
    try:
        first = threading.Thread(target=inotify.close)
        first.start()
        wait_for(lambda: not inotify._INotify__open and
                 len(this_process(inotify).users) == 2)  # the reader's, the close's
        inotify.close()
        assert not leave.is_set() and not inotify.closed
    finally:
        leave.set()
        inotify_simple._CLOSE_WAIT = wait
    for thread in (reader, first):
        thread.join(WAIT)
        assert not thread.is_alive()
    assert inotify.closed


# At every line that the module runs inside one call (a line event of a trace
# function, where a signal handler could run), a close() of the same instance,
# and again at every line after it: nothing may raise but the call's ValueError
# (closed), each descriptor is closed once (the pipe opened after the first
# close() would be closed by a second), and nothing is left open.
EVERY_LINE = '''
import os, sys
import inotify_simple
from inotify_simple import INotify, flags
ANON_FDS
CALL = %(call)r
tmp = os.environ['TMPDIR']
calls = {
    'close': lambda inotify: inotify.close(),
    'read(timeout=0)': lambda inotify: inotify.read(timeout=0),
    'read(timeout=1)': lambda inotify: inotify.read(timeout=1),
    'add_watch': lambda inotify: inotify.add_watch(tmp, flags.CREATE),
    'rm_watch': lambda inotify: inotify.rm_watch(inotify.add_watch(tmp, flags.CREATE)),
}
module = inotify_simple.__file__.replace('.pyc', '.py')
state = {}

def close_at_line(frame, event, arg):
    if frame.f_code.co_filename.replace('.pyc', '.py') != module:
        return None
    if event == 'line':
        state['line'] += 1
        if state['line'] >= state['first']:
            try:
                state['inotify'].close()
                if state['inotify'].closed and not state['canary']:
                    state['canary'] = os.pipe()
            except BaseException as e:
                state['errors'].append(repr(e))
    return close_at_line

before = fds()
first = 1
while True:
    inotify = INotify()
    inotify.read(timeout=1)  # with its eventfd
    state.update(inotify=inotify, line=0, first=first, canary=(), errors=[])
    sys.settrace(close_at_line)
    try:
        calls[CALL](inotify)
    except ValueError as e:
        assert str(e) == 'I/O operation on closed file', e
    finally:
        sys.settrace(None)
    assert state['errors'] == [], (first, state['errors'])
    last = first > state['line']  # no line left to close at
    if last:
        inotify.close()
    assert inotify.closed, first
    for fd in state['canary']:
        os.fstat(fd)
        os.close(fd)
    assert fds() == before, (first, before, fds())
    if last:
        break
    first += 1
assert first > 5, first
print('ok')
'''


@pytest.mark.parametrize('call', ['close', 'read(timeout=0)', 'read(timeout=1)',
                                  'add_watch', 'rm_watch'])
def test_a_close_at_any_line_of_a_call_closes_each_descriptor_once(call):
    code = EVERY_LINE.replace('ANON_FDS', ANON_FDS) % {'call': call}
    assert run_script(code) == (0, 'ok\n', '')


def test_a_close_interrupted_as_it_sets_its_flag_still_wakes_the_readers():
    # As a signal handler's exception that comes as the flag's pop() returns.
    class Interrupted(list):
        def pop(self):
            list.pop(self)
            raise KeyboardInterrupt('from a signal handler')
    inotify = INotify()
    results = []
    reader = threading.Thread(target=lambda: results.append(inotify.read()))
    reader.start()
    wait_for(lambda: this_process(inotify).wake is not None and
             len(this_process(inotify).users) == 1)
    inotify._INotify__open = Interrupted([True])
    with pytest.raises(KeyboardInterrupt):
        inotify.close()
    inotify.close()  # the retry: once the reader has left, it closes
    reader.join(WAIT)
    assert not reader.is_alive() and results == [[]]
    inotify.close()
    assert inotify.closed
