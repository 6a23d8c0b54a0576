"""What the command line does beyond inotifywait: --json; under -r, the contents of
new directories, nothing of its own reading, and nothing missed."""
import ast
import base64
import json
import os
import signal
import sys
import time

import pytest

from conftest import WAIT
from conftest import python_env
from conftest import in_user_namespace
from conftest import overflow
from conftest import queue_size
from conftest import run_command
from conftest import run_script
from conftest import touch
from sidebyside import INOTIFYWAIT
from sidebyside import OURS
from sidebyside import WAITING
from sidebyside import Program
from sidebyside import nothing_left_running  # noqa: F401 (autouse)
from sidebyside import ready
from sidebyside import wait_until

FS_ENCODING = sys.getfilesystemencoding() or 'ascii'


class Ours(object):
    """The command running in ``cwd`` with ``args``, once it holds ``watches``."""

    def __init__(self, cwd, args, watches=1, argv=OURS):
        if WAITING is None:
            pytest.skip('which system calls wait for events is not known here')
        self.deadline = time.time() + WAIT
        self.program = Program(list(argv) + list(args), cwd, env=None if argv[0] ==
                               INOTIFYWAIT else python_env())
        self.wait_for_watches(watches)

    def wait_for_watches(self, watches):
        """Until it holds ``watches`` watches and waits for events, or has exited."""
        wait_until([self.program], lambda p: ready(p, watches), self.deadline,
                   '%d watches' % watches)

    def finish(self, until='quiet'):
        """Once it has exited (``until='exit'``) or is done with what was done (then
        SIGTERM stops it): status, stdout, stderr."""
        wait_until([self.program], lambda p: p.exited() or (
            until == 'quiet' and p.waiting()), self.deadline, 'done with the events')
        return self.program.finish(self.deadline)

    def lines(self):
        return self.finish()[1].decode('utf-8', 'surrogateescape' if sys.version_info[
            0] >= 3 else 'strict').splitlines()


# --json

def test_json_prints_one_object_per_event(tmp):
    command = Ours(tmp, ['-m', '--json', '.'])
    os.mkdir(os.path.join(tmp, 'd'))
    touch(os.path.join(tmp, 'f'))
    status, out, err = command.finish()
    events = [json.loads(line) for line in out.decode('ascii').splitlines()]
    assert events[0] == {'path': './', 'wd': 1, 'mask': 0x40000100, 'cookie': 0,
                         'flags': ['CREATE', 'ISDIR'], 'name': 'd'}
    assert [(e['flags'], e['name']) for e in events[1:]] == [
        (['CREATE'], 'f'), (['OPEN'], 'f'), (['CLOSE_WRITE'], 'f')]


def test_json_gives_the_exact_bytes_of_names_the_encoding_cannot_decode(tmp):
    top = tmp.encode()
    odd = b'caf\xe9-\xff'  # Latin-1, not UTF-8
    os.mkdir(os.path.join(top, odd))
    command = Ours(tmp, ['-m', '-r', '--json', '-e', 'create', '.'], watches=2)
    touch(os.path.join(top, odd, odd))
    touch(os.path.join(top, odd, b'plain \xc3\xa9'))
    events = [json.loads(line) for line in command.finish()[1].splitlines()]

    def exact(event, key):
        if key + '_base64' in event:
            return base64.b64decode(event[key + '_base64'])
        return event[key].encode(FS_ENCODING)
    assert [(exact(e, 'path'), exact(e, 'name')) for e in events] == [
        (b'./' + odd + b'/', odd), (b'./' + odd + b'/', b'plain \xc3\xa9')]
    if FS_ENCODING.lower().replace('-', '') == 'utf8':
        assert events[1]['name'] == u'plain \xe9' and 'name_base64' not in events[1]


def test_json_gives_the_bytes_of_an_encoded_surrogate(tmp):
    # No UTF-8 text holds one, yet Python 2.7's UTF-8 codec decodes it.
    surrogate = b'\xed\xa0\x80'
    command = Ours(tmp, ['-m', '--json', '-e', 'create', '.'])
    touch(os.path.join(tmp.encode(), surrogate))
    event, = [json.loads(line) for line in command.finish()[1].splitlines()]
    assert base64.b64decode(event['name_base64']) == surrogate


def test_json_is_refused_with_csv_or_format(tmp):
    for args in (['--json', '-c', '.'], ['--format', '%w', '--json', '.']):
        assert Ours(tmp, args, watches=0).finish() == (
            1, b'', b'--json cannot be used with -c or --format.\n')


def test_fanotify_options_are_refused_and_inotify_is_accepted(tmp):
    status, out, err = Ours(tmp, ['-F', '.'], watches=0).finish()
    assert (status, out) == (1, b'') and b'fanotify is not supported' in err
    assert Ours(tmp, ['-I', '-t', '1', '.']).finish('exit')[0] == 2


# -r: new directories

def test_a_new_directory_is_reported_with_what_it_holds(tmp):
    w = os.path.join(tmp, 'w')
    os.mkdir(w)
    outside = os.path.join(tmp, 'outside')
    os.makedirs(os.path.join(outside, 'a', 'b'))
    touch(os.path.join(outside, 'a', 'f'))
    touch(os.path.join(outside, 'a', 'b', 'g'))
    command = Ours(tmp, ['-m', '-r', '-e', 'create,moved_to', 'w'])
    os.rename(os.path.join(outside, 'a'), os.path.join(w, 'a'))
    command.wait_for_watches(3)
    touch(os.path.join(w, 'a', 'b', 'late'))
    assert command.lines() == [
        'w/ MOVED_TO,ISDIR a', 'w/a/ CREATE,ISDIR b', 'w/a/b/ CREATE g',
        'w/a/ CREATE f', 'w/a/b/ CREATE late']


def test_every_file_made_in_new_trees_is_printed_once(tmp):
    """5 trees 3 levels deep, 40 files in each deepest directory, at full speed."""
    paths = set()
    for twin in ('ours', 'theirs'):
        os.makedirs(os.path.join(tmp, twin, 'w'))
    command = Ours(os.path.join(tmp, 'ours'), ['-m', '-r', '-e', 'create', 'w'])
    reference = None
    if os.access(INOTIFYWAIT, os.X_OK):
        reference = Ours(os.path.join(tmp, 'theirs'), ['-m', '-r', '-e', 'create',
                                                       'w'], argv=[INOTIFYWAIT])
    for twin in ('ours', 'theirs'):
        for tree in range(5):
            deepest = os.path.join('w', 't%d' % tree, 'l1', 'l2')
            os.makedirs(os.path.join(tmp, twin, deepest))
            for i in range(40):
                touch(os.path.join(tmp, twin, deepest, 'f%02d' % i))
                paths.add('%s/ CREATE f%02d' % (deepest, i))
    lines = command.lines()
    printed = [line for line in lines if 'CREATE f' in line]
    assert sorted(printed) == sorted(paths)  # each once
    assert sorted(line for line in lines if 'ISDIR' in line) == sorted(
        ['w/ CREATE,ISDIR t%d' % t for t in range(5)] +
        ['w/t%d/ CREATE,ISDIR l1' % t for t in range(5)] +
        ['w/t%d/l1/ CREATE,ISDIR l2' % t for t in range(5)])
    if reference is not None:  # inotifywait's defect, for the record
        theirs = [line for line in reference.lines() if 'CREATE f' in line]
        sys.stdout.write('inotifywait printed %d of the %d files\n'
                         % (len(theirs), len(paths)))


def test_nothing_of_its_own_reading_is_printed_but_others_reading_is(tmp):
    command = Ours(tmp, ['-m', '-r', '.'])
    os.mkdir(os.path.join(tmp, 'new'))
    command.wait_for_watches(2)
    touch(os.path.join(tmp, 'new', 'f'))
    os.listdir(os.path.join(tmp, 'new'))
    lines = command.lines()
    assert lines[:4] == ['./ CREATE,ISDIR new', './new/ CREATE f', './new/ OPEN f',
                         './new/ CLOSE_WRITE,CLOSE f']
    assert './ OPEN,ISDIR new' in lines[4:] and './new/ OPEN,ISDIR ' in lines[4:]


def test_a_directory_moved_out_of_the_tree_is_no_longer_watched(tmp):
    os.makedirs(os.path.join(tmp, 'w', 'a', 'deep'))
    command = Ours(tmp, ['-m', '-r', '-e', 'create,move,move_self,ignored', 'w'],
                   watches=3)
    os.rename(os.path.join(tmp, 'w', 'a'), os.path.join(tmp, 'out'))
    wait_until([command.program], lambda p: p.watches() == 1, command.deadline,
               'the moved tree unwatched')
    touch(os.path.join(tmp, 'out', 'deep', 'f'))
    touch(os.path.join(tmp, 'w', 'g'))
    # the IGNORED of watches it removed itself are not printed: inotifywait,
    # which keeps them, has none
    assert command.lines() == ['w/ MOVED_FROM,ISDIR a', 'w/a/ MOVE_SELF ',
                               'w/ CREATE g']


def test_an_excluded_directory_stays_excluded_when_made_again(tmp):
    os.makedirs(os.path.join(tmp, 'w', 'skip'))
    command = Ours(tmp, ['-m', '-r', '-e', 'create,delete', 'w', '@w/skip'])
    os.rmdir(os.path.join(tmp, 'w', 'skip'))
    os.mkdir(os.path.join(tmp, 'w', 'skip'))
    touch(os.path.join(tmp, 'w', 'skip', 'f'))
    touch(os.path.join(tmp, 'w', 'g'))
    assert command.lines() == ['w/ DELETE,ISDIR skip', 'w/ CREATE,ISDIR skip',
                               'w/ CREATE g']


def test_without_monitor_new_directories_are_followed_too(tmp):
    # inotifywait follows new directories only with -m
    command = Ours(tmp, ['-r', '-e', 'modify', '.'])
    os.makedirs(os.path.join(tmp, 'new', 'deeper'))
    command.wait_for_watches(3)
    touch(os.path.join(tmp, 'new', 'deeper', 'f'), b'x')
    wait_until([command.program], lambda p: p.exited(), command.deadline, 'exit')
    assert command.program.finish(command.deadline)[:2] == (
        0, b'./new/deeper/ MODIFY f\n')


def test_a_new_directory_moved_before_it_is_listed_is_listed_where_it_went(tmp):
    command = Ours(tmp, ['-m', '-r', '-e', 'create,moved_to', '.'])
    count = 300
    for i in range(count):
        made = os.path.join(tmp, 'n%d' % i)
        os.mkdir(made)
        touch(os.path.join(made, 'f'))
        os.rename(made, os.path.join(tmp, 'm%d' % i))
    files = [line.split('/')[1][1:] for line in command.lines()
             if line.endswith(' CREATE f')]  # ./n7/ CREATE f or ./m7/ CREATE f
    assert sorted(files) == sorted(str(i) for i in range(count))


def test_overflow_is_printed_and_what_it_hid_is_watched(tmp):
    size = queue_size()
    os.mkdir(os.path.join(tmp, 'w'))
    command = Ours(tmp, ['-m', '-r', '-e', 'create', 'w'])
    command.program.process.send_signal(signal.SIGSTOP)
    overflow(os.path.join(tmp, 'w'), size)
    os.makedirs(os.path.join(tmp, 'w', 'new', 'sub'))  # lost in the overflow
    touch(os.path.join(tmp, 'w', 'new', 'sub', 'f'))
    command.program.process.send_signal(signal.SIGCONT)
    command.wait_for_watches(3)
    touch(os.path.join(tmp, 'w', 'new', 'sub', 'late'))
    lines = command.lines()
    # Told apart, so that a failure shows what differs, not two lists of thousands
    burst = ['w/ CREATE x', 'w/ CREATE y']
    assert lines[-5:] == [' Q_OVERFLOW ', 'w/ CREATE,ISDIR new',
                          'w/new/ CREATE,ISDIR sub', 'w/new/sub/ CREATE f',
                          'w/new/sub/ CREATE late'], lines[-8:]
    assert lines[:-5] == burst * (size // 2), (len(lines), size, [
        (i, line) for i, line in enumerate(lines[:-5]) if line != burst[i % 2]][:10])


def test_the_watch_limit_is_reported_as_inotifywait_reports_it(tmp):
    # Lowered in user namespaces of the test's own, not for the whole machine: one
    # for each program, since they would share one limit.
    for i in range(6):
        os.makedirs(os.path.join(tmp, 'w', str(i)))

    def run(argv):
        return run_command(argv + ['-r', '-t', '1', 'w'], cwd=tmp, env=python_env())
    ours = in_user_namespace(lambda: run(OURS), max_inotify_watches=3)
    theirs = in_user_namespace(lambda: run([INOTIFYWAIT]), max_inotify_watches=3)
    assert ours[:2] == theirs[:2] == (1, b'')
    assert ours[2].replace(b'inotify_simple: ', b'inotifywait: ') == theirs[2]
    assert b'upper limit on inotify watches reached' in theirs[2]


def test_the_watch_limit_met_after_an_overflow_is_reported(tmp):
    size = queue_size()
    w = os.path.join(tmp, 'w')
    os.mkdir(w)

    def run():
        command = Ours(tmp, ['-m', '-r', '-e', 'create', 'w'])
        command.program.process.send_signal(signal.SIGSTOP)
        overflow(w, size)
        for name in ('a', 'b'):  # lost in the overflow: one watch is left for them
            os.mkdir(os.path.join(w, name))
        command.program.process.send_signal(signal.SIGCONT)
        return command.finish()
    status, out, err = in_user_namespace(run, max_inotify_watches=2)
    assert status == -signal.SIGTERM and b' Q_OVERFLOW \n' in out
    assert err.count(b"Couldn't watch new directory w/") == 1, err
    assert err.endswith(b'/: No space left on device\n'), err


# The command itself

def test_help_opens_with_its_name_and_version_and_version_says_them(tmp):
    import inotify_simple
    name = b'inotify_simple ' + inotify_simple.__version__.encode()
    status, out, err = run_command(OURS + ['--help'], env=python_env())
    assert (status, out.split(b'\n')[0], err) == (1, name, b'')
    assert run_command(OURS + ['--version'], env=python_env()) == (
        0, name + b'\n', b'')


def test_it_runs_as_python_m_inotify_simple_and_as_its_module(tmp):
    for argv in (OURS, [sys.executable, '-m', 'inotify_simple_cli']):
        assert Ours(tmp, ['-t', '1', '.'], argv=argv).finish('exit') == (
            2, b'', b'Setting up watches.\nWatches established.\n')


def cli_classes():
    """The classes of the command line's module, as ast reads them."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
            __file__))), 'inotify_simple_cli.py'), 'rb') as f:
        return [node for node in ast.walk(ast.parse(f.read()))
                if isinstance(node, ast.ClassDef)]


@pytest.mark.skipif(sys.version_info < (3, 8), reason='ast gives no end_lineno')
def test_no_class_of_the_command_line_is_over_250_lines():
    lines = dict((cls.name, cls.end_lineno - cls.lineno + 1) for cls in cli_classes())
    assert max(lines.values()) <= 250, lines


def test_the_command_lines_classes_set_every_attribute_in_init():
    for cls in cli_classes():
        attributes = {}  # method -> the attributes of self it sets
        for method in cls.body:
            if isinstance(method, ast.FunctionDef):
                attributes[method.name] = set(
                    node.attr for node in ast.walk(method)
                    if isinstance(node, ast.Attribute) and isinstance(
                        node.ctx, ast.Store) and isinstance(node.value, ast.Name) and
                    node.value.id == 'self')
        in_init = attributes.pop('__init__', set())
        for method, names in attributes.items():
            assert names <= in_init, (cls.name, method, names - in_init)


# The command runs in the script's own process, with a step changed to let a race
# strike there every time; act(), of each script, runs once its watches are set.
IN_PROCESS = '''
import os, signal, sys, threading, time
import inotify_simple_cli as cli
import inotify_simple_tree as tree
os.chdir(%(tmp)r)
WAIT = %(wait)r
commands = []
watch = cli._Command.watch
def watch_then_act(self):
    status = watch(self)
    commands.append(self)
    threading.Thread(target=act).start()
    return status
cli._Command.watch = watch_then_act
def wait_until(condition):
    deadline = time.time() + WAIT / 2
    while not condition() and time.time() < deadline:
        time.sleep(0.01)
'''
# A directory holding a file is moved into the tree.
RACE = IN_PROCESS + '''
def act():
    os.rename('stage/d', 'w/d')
    wait_until(lambda: b'w/e/' in commands[0].tree.watches().values())
    open('w/e/late', 'w').close()
    open('target/late', 'w').close()
%(race)s
sys.exit(cli.main(['-m', '-q', '-r', '-t', '2', '-e', 'create,moved_to', 'w']))
'''
LINK_OR_DIRECTORY = {'a directory': "os.mkdir('w/d'); open('w/d/g', 'w').close()",
                     'a link': "os.symlink('../target', 'w/d')"}


def race(tmp, code):
    for path in ('w', 'target', 'stage/d'):
        os.makedirs(os.path.join(tmp, path))
    touch(os.path.join(tmp, 'target', 'secret'))
    touch(os.path.join(tmp, 'stage', 'd', 'f'))
    status, out, err = run_script(RACE % {'tmp': tmp, 'wait': WAIT, 'race': code})
    assert (status, err) == (2, ''), err
    assert 'secret' not in out and 'target' not in out, out
    return sorted(out.splitlines())


@pytest.mark.parametrize('newcomer', sorted(LINK_OR_DIRECTORY))
def test_a_new_directory_is_read_only_as_the_directory_watched(tmp, newcomer):
    # Between the watch of a new directory and its reading, it is renamed, and
    # another directory, or a link to one outside the tree, takes its name: its
    # file is reported once, where it went; the newcomer as new, a link unfollowed.
    lines = race(tmp, '''
entries = tree._Walker.entries
def swapping_entries(self, fd, all_entries):
    if all_entries and os.path.isdir('w/d') and not os.path.exists('w/e'):
        os.rename('w/d', 'w/e')
        %s
    return entries(self, fd, all_entries)
tree._Walker.entries = swapping_entries
''' % LINK_OR_DIRECTORY[newcomer])
    assert lines == sorted(['w/ MOVED_TO,ISDIR d', 'w/ MOVED_TO,ISDIR e',
                            'w/e/ CREATE f', 'w/e/ CREATE late'] + (
        ['w/ CREATE,ISDIR d', 'w/d/ CREATE g'] if newcomer == 'a directory'
        else ['w/ CREATE d']))


@pytest.mark.parametrize('newcomer', sorted(LINK_OR_DIRECTORY))
def test_a_new_directory_whose_name_is_taken_before_it_is_opened(tmp, newcomer):
    # The newcomer is watched in its place, a link is not followed, and the
    # directory that moved away is watched and listed where it went.
    lines = race(tmp, '''
open_in = tree._Walker.open_in
def swapping_open_in(self, parent, name):
    if name == b'd' and not os.path.exists('w/e'):
        os.rename('w/d', 'w/e')
        %s
    return open_in(self, parent, name)
tree._Walker.open_in = swapping_open_in
''' % LINK_OR_DIRECTORY[newcomer])
    assert lines == sorted(['w/ MOVED_TO,ISDIR d', 'w/ MOVED_TO,ISDIR e',
                            'w/e/ CREATE f', 'w/e/ CREATE late'] + (
        ['w/ CREATE,ISDIR d', 'w/d/ CREATE g'] if newcomer == 'a directory'
        else ['w/ CREATE d']))


def test_a_directory_moved_on_out_of_the_tree_before_it_is_followed_is_dropped(tmp):
    # stage/b moves in as w/b, then out of the tree before the command looks
    # for it: what is made in it afterwards is not reported.
    for path in ('w', 'stage/b', 'out'):
        os.makedirs(os.path.join(tmp, path))
    code = IN_PROCESS % {'tmp': tmp, 'wait': WAIT} + '''
written = []
write = cli._write
def recorded(data):
    write(data)
    written.append(data)
cli._write = recorded
def act():
    os.rename('stage/b', 'w/b')
    wait_until(lambda: os.path.isdir('out/b'))  # moved on as it was looked for
    open('out/b/late', 'w').close()
    open('w/end', 'w').close()
    wait_until(lambda: b'w/ CREATE end\\n' in written)
    os.kill(os.getpid(), signal.SIGTERM)
open_in = tree._Walker.open_in
def moving_on(self, parent, name):
    if name == b'b' and os.path.exists('w/b'):
        os.rename('w/b', 'out/b')
    return open_in(self, parent, name)
tree._Walker.open_in = moving_on
cli.main(['-m', '-q', '-r', '-e', 'create,moved_from,moved_to', 'w'])
'''
    assert run_script(code) == (-signal.SIGTERM, 'w/ MOVED_TO,ISDIR b\n'
                                'w/ MOVED_FROM,ISDIR b\nw/ CREATE end\n', '')


def test_events_handled_one_by_one_keep_each_its_own_directory(capfd):
    # A directory renamed within a read changes its watch's path from one event to
    # the next: the events handled are not a run of one watch to print at once.
    import inotify_simple_cli as cli
    from inotify_simple import flags
    options = cli._Options()
    assert options.parse([b'-m', b'-r', b'-e', b'create', b'w']) is None
    output = cli._Output(cli._Format(options, None).lines)
    output.events.extend([(1, flags.CREATE, 0, b'a', b'w/n/a'),
                          (1, flags.CREATE, 0, b'b', b'w/m/b')])
    output.flush()
    assert capfd.readouterr()[0] == 'w/n/ CREATE a\nw/m/ CREATE b\n'
