"""python -m inotify_simple, driven as a subprocess."""
import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import AS_NOBODY
from conftest import WAIT
from conftest import in_user_namespace
from conftest import python_env
from conftest import touch


def command(*args):
    return subprocess.Popen([sys.executable, '-m', 'inotify_simple'] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=python_env())


def start(*args):
    """The command running with ``args``, once its watches are established."""
    process = command(*args)
    line = process.stderr.readline()
    assert line == b'Watches established.\n', line + process.communicate()[1]
    return process


def finish(process):
    """Wait for the command to exit: its status, stdout and stderr as text."""
    out, err = process.communicate()  # bounded by each test's own --timeout
    return process.returncode, out.decode(), err.decode()


def run(*args):
    """Run the command to its end: status, stdout, stderr."""
    return finish(command(*args))


def test_prints_the_first_event_and_exits_zero(tmp):
    process = start('-t', str(WAIT), tmp)
    touch(os.path.join(tmp, 'a'))
    status, out, err = finish(process)
    assert (status, out) == (0, '%s/ CREATE a\n' % tmp)


def test_exits_two_on_timeout_without_an_event(tmp):
    assert run('-t', '0.1', tmp) == (2, '', 'Watches established.\n')


def test_events_are_chosen_by_name_repeated_or_comma_separated(tmp):
    process = start('-m', '-t', '2', '-e', 'delete', '-e', 'moved_to,ATTRIB',
                          tmp)
    path = os.path.join(tmp, 'a')
    touch(path)                                 # CREATE, not watched
    os.rename(path, os.path.join(tmp, 'b'))     # MOVED_TO b
    os.chmod(os.path.join(tmp, 'b'), 0o600)     # ATTRIB b
    os.remove(os.path.join(tmp, 'b'))           # DELETE b
    mkdir = os.path.join(tmp, 'd')
    os.mkdir(mkdir)
    os.rmdir(mkdir)                             # DELETE,ISDIR d
    status, out, _ = finish(process)
    assert status == 2
    assert out.splitlines() == ['%s/ MOVED_TO b' % tmp, '%s/ ATTRIB b' % tmp,
                                '%s/ DELETE b' % tmp, '%s/ DELETE,ISDIR d' % tmp]


def test_json_lines_carry_every_field(tmp):
    process = start('--json', '-t', str(WAIT), tmp)
    os.mkdir(os.path.join(tmp, 'd'))
    status, out, _ = finish(process)
    assert status == 0
    assert json.loads(out) == {'path': tmp + '/', 'wd': 1, 'mask': 0x40000100,
                               'flags': ['CREATE', 'ISDIR'], 'cookie': 0, 'name': 'd'}


def test_monitor_flushes_each_event_through_the_pipe_and_ctrl_c_exits_130(tmp):
    process = start('-m', '-e', 'create', tmp)
    for name in ('a', 'b'):
        touch(os.path.join(tmp, name))
        # each line arrives while the command still runs: it was flushed
        assert process.stdout.readline().decode() == '%s/ CREATE %s\n' % (tmp, name)
    process.send_signal(signal.SIGINT)
    status, _, err = finish(process)
    assert status == 130
    assert 'Traceback' not in err


def test_recursive_watches_the_directories_below(tmp):
    os.makedirs(os.path.join(tmp, 'old', 'deeper'))
    process = start('-r', '-t', str(WAIT), '-e', 'create', tmp)
    touch(os.path.join(tmp, 'old', 'deeper', 'a'))
    assert finish(process)[:2] == (0, '%s/old/deeper/ CREATE a\n' % tmp)


def test_recursive_sees_files_made_in_a_new_directory(tmp):
    process = start('-m', '-r', '-e', 'create', tmp)
    os.mkdir(os.path.join(tmp, 'new'))
    assert process.stdout.readline().decode() == '%s/ CREATE,ISDIR new\n' % tmp
    # the new directory is watched before its CREATE line is printed
    touch(os.path.join(tmp, 'new', 'a'))
    assert process.stdout.readline().decode() == '%s/new/ CREATE a\n' % tmp
    process.send_signal(signal.SIGINT)
    assert finish(process)[0] == 130


@pytest.mark.parametrize('args, message', [
    (['-e', 'nosuch'], "unknown event 'NOSUCH'"),
    (['--no-such-option'], 'unrecognized arguments'),
    ([], 'usage:'),
])
def test_bad_arguments_exit_one_with_one_clear_line(tmp, args, message):
    status, out, err = run(*(args + ([tmp] if args else [])))
    assert status == 1 and out == ''
    assert message in err and 'Traceback' not in err


def test_a_missing_path_exits_one_naming_it(tmp):
    missing = os.path.join(tmp, 'missing')
    status, out, err = run(missing)
    assert (status, out) == (1, '')
    assert err == ('python -m inotify_simple: [Errno 2] No such file or directory: '
                   "'%s'\n" % missing)


def test_permission_denied_exits_one(secret):
    # the interpreter may live where nobody cannot read: drop after starting
    code = ('import os, sys\n'
            'import inotify_simple\n'
            'stdout, sys.stdout = sys.stdout, open(os.devnull, "w")\n'
            'inotify_simple._main(["--help"])  # imports what it needs, while it may\n'
            'sys.stdout = stdout\n' + AS_NOBODY +
            'sys.exit(inotify_simple._main(sys.argv[1:]))\n')
    process = subprocess.Popen([sys.executable, '-c', code, os.path.join(secret, 'x')],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=python_env())
    status, out, err = finish(process)
    assert status == 1 and out == ''
    assert 'Permission denied' in err and 'Traceback' not in err


def test_the_watch_limit_exits_one_with_the_hint(tmp):
    for i in range(10):
        os.mkdir(os.path.join(tmp, str(i)))
    # lowered in a user namespace of the test's own, not for the whole machine
    status, out, err = in_user_namespace(lambda: run('-r', '-t', '0', tmp),
                                         max_inotify_watches=3)
    assert status == 1 and out == ''
    assert 'max_inotify_watches' in err and 'sysctl' in err and 'Traceback' not in err


def test_help_documents_every_option():
    status, out, _ = run('-h')
    assert status == 0
    for option in ('--event', '--monitor', '--timeout', '--recursive', '--json'):
        assert option in out


def test_recursive_sees_new_directories_whatever_events_are_asked_for(tmp):
    process = start('-m', '-r', '-t', str(WAIT), '-e', 'modify', tmp)
    os.makedirs(os.path.join(tmp, 'new', 'inner'))
    path = os.path.join(tmp, 'new', 'inner', 'a')
    touch(path)  # CREATE is not asked for: neither its line nor the directories'
    # Modify it until inner is watched and a line comes (it must, within WAIT).
    deadline = time.time() + WAIT
    while not select.select([process.stdout], [], [], 0.05)[0]:
        assert time.time() < deadline
        with open(path, 'ab') as f:
            f.write(b'x')
    assert process.stdout.readline().decode() == '%s/new/inner/ MODIFY a\n' % tmp
    process.send_signal(signal.SIGINT)
    assert finish(process)[0] == 130


def test_a_reader_that_goes_away_ends_it_quietly(tmp):
    process = start('-m', '-t', str(WAIT), '-e', 'create', tmp)
    touch(os.path.join(tmp, 'a'))
    assert process.stdout.readline()
    process.stdout.close()
    for name in ('b', 'c'):  # the next line's write meets the closed pipe
        touch(os.path.join(tmp, name))
    err = process.stderr.read()
    process.stderr.close()
    assert (process.wait(), err) == (141, b'')
