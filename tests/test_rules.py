"""The rules of the threads, close(), fork() and signals machinery, as the module
states them once (``_Process``'s docstring), checked on its source: each test
fails when its rule is broken, whatever the timing."""
import ast
import inspect
import sys
import textwrap
import threading

import pytest

from conftest import WAIT
from conftest import run_script
from conftest import this_process
from conftest import wait_for
from test_signals import ANON_FDS
import inotify_simple
from inotify_simple import INotify

COUNTING = ['add_watch', 'rm_watch', 'read', 'close']


def method_tree(name):
    """The parsed source of INotify's method ``name``."""
    source = textwrap.dedent(inspect.getsource(getattr(inotify_simple.INotify,
                                                       name)))
    return ast.parse(source).body[0]


def counting_try(name):
    """The method's try statement that has a finally clause: there is one."""
    tries = [node for node in method_tree(name).body if isinstance(node, getattr(
        ast, 'Try', None) or getattr(ast, 'TryFinally', None)) and node.finalbody]
    assert len(tries) == 1, name
    return tries[0]


def source_of(node):
    return ast.dump(node, annotate_fields=False) if node is not None else None


def call_on_users(statement):
    """'append' for ``process.users.append(me)``, 'remove' for ``...remove(me)``,
    else None."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value,
                                                             ast.Call):
        return None
    call = statement.value
    function = call.func
    if (isinstance(function, ast.Attribute) and
            isinstance(function.value, ast.Attribute) and
            function.value.attr == 'users' and
            isinstance(function.value.value, ast.Name) and
            function.value.value.id == 'process' and
            [arg.id for arg in call.args if isinstance(arg, ast.Name)] == ['me']):
        return function.attr
    return None


def body_of_try(node):
    """What a try runs: Python 2.7 nests try/except inside try/finally."""
    body = node.body
    if len(body) == 1 and type(body[0]).__name__ == 'TryExcept':
        body = body[0].body
    return body


@pytest.mark.parametrize('name', COUNTING)
def test_the_count_is_the_first_statement_of_the_try(name):
    assert call_on_users(body_of_try(counting_try(name))[0]) == 'append'


@pytest.mark.parametrize('name', COUNTING)
def test_the_removal_is_the_first_statement_of_the_finally(name):
    first = counting_try(name).finalbody[0]
    if type(first).__name__ in ('Try', 'TryExcept'):  # try: remove / except ValueError
        assert [type(handler.type).__name__ for handler in first.handlers] == ['Name']
        assert first.handlers[0].type.id == 'ValueError'
        first = first.body[0]
    assert call_on_users(first) == 'remove'


@pytest.mark.parametrize('name', COUNTING)
def test_no_loop_or_with_block_in_the_try(name):
    # Python 3.13 and 3.14 may raise a handler's exception at a loop's jump back
    # outside the try (gh-130279); a with block may hold a lock it cannot release.
    for statement in body_of_try(counting_try(name)):
        for node in ast.walk(statement):
            assert not isinstance(node, (ast.For, ast.While, ast.With)), (
                name, node.lineno)


def test_no_with_block_takes_a_lock_anywhere_in_the_class():
    # Python 3.14 checks for a handler's exception between a lock's acquire()
    # and its with block: the lock would stay held.
    tree = ast.parse(inspect.getsource(inotify_simple.INotify))
    assert [node.lineno for node in ast.walk(tree) if isinstance(node, ast.With)] \
        == []


def test_no_code_reads_another_threads_frames():
    source = inspect.getsource(inotify_simple)
    assert '_current_frames' not in source
    # and the calling thread's own frames only where a count may be stale
    users = [node.name for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.FunctionDef) and '_getframe' in ast.dump(node)]
    assert users == ['__reentered']
    assert inotify_simple._STALE_COUNTS == (sys.version_info < (3, 10) or
                                            hasattr(sys, 'pypy_version_info'))


def test_a_nested_close_reads_no_frames_and_leaves_the_closing_to_the_method():
    # A subclass's _readall() runs inside read(), with the count taken and the
    # readers' lock held, as a signal handler's close() would find them.
    code = '''
import sys
from inotify_simple import INotify
def no_frames(*args):
    raise AssertionError('a frame was read')
class Closing(INotify):
    def _readall(self):
        sys._getframe = no_frames
        try:
            self.close()
            assert not self.closed  # read() is still using the descriptor
        finally:
            sys._getframe = real
        return INotify._readall(self)
real = sys._getframe
inotify = Closing()
assert inotify.read(timeout=0) == []
assert inotify.closed
print('ok')
'''
    assert run_script(code) == (0, 'ok\n', '')


def test_a_later_close_returns_before_it_counts_or_makes_anything():
    # Rule 2: a handler's close() may land where the thread it interrupted is
    # not counted (before a count, after its removal, in the release); there it
    # must cost little, or handlers that come faster nest without end.
    body = method_tree('close').body
    counting = [node.lineno for node in body].index(counting_try('close').lineno)
    later = [node for node in body[:counting] if isinstance(node, ast.If) and
             isinstance(node.test, ast.Attribute) and node.test.attr == '__closing']
    assert len(later) == 1
    assert isinstance(later[0].body[-1], ast.Return)
    calls = [node.func.attr for node in ast.walk(later[0])
             if isinstance(node, ast.Call)]
    assert calls == ['__release']
    before = body[:body.index(later[0])]
    assert [node.func.attr for statement in before for node in ast.walk(statement)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith('__')] == ['__close_file']


def test_a_later_close_waits_for_nobody():
    # Rule 2: once close() has been called, another close() returns at once,
    # here while the first waits for a thread held inside read().
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
        wait_for(lambda: inotify._INotify__closing and
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
