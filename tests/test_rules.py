"""The rules of the threads, close(), fork() and signals machinery, as the module
states them once (``_Process``'s docstring), checked on its source: each test
fails when its rule is broken, whatever the timing."""
import ast
import inspect
import sys
import textwrap

import pytest

from conftest import run_script
import inotify_simple

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
