"""The command line beside the real inotifywait: the same actions in twin
directories, byte-identical output and the same exit status, option by option.

They run beside inotifywait 3.22 (Debian 12) and 4.x (Debian unstable). Where the
two differ, ours follows 4.x where 4.x changed on purpose and keeps 3.22's behaviour
where 4.x crashes or prints something wrong; those tests say which and why, and
docs/cli.rst has the table.

Actions never repeat an event on the same name back to back: the kernel merges such
repeats or not depending on when the reader reads.
"""
import os
import signal
import stat
import sys
import time

import pytest

from conftest import overflow
from conftest import python_env
from conftest import queue_size
from conftest import run_command
from conftest import touch
from sidebyside import OURS
from sidebyside import SIDES
from sidebyside import Program
from sidebyside import against_4x
from sidebyside import finish_twins
from sidebyside import mkdir
from sidebyside import nothing_left_running  # noqa: F401 (autouse)
from sidebyside import ready
from sidebyside import run_twins
from sidebyside import same
from sidebyside import start_twins
from sidebyside import subdir
from sidebyside import wait_until
from sidebyside import writing_to

SETUP = b'Setting up watches.\nWatches established.\n'
SETUP_R = (b'Setting up watches.  Beware: since -r was given, this may take a '
           b'while!\nWatches established.\n')
TERMINATED = -signal.SIGTERM


def write(path, data=b'x'):
    with open(path, 'ab') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def in_w(*names):
    """An action: make each name (bytes) in w, then remove it."""
    def act(root):
        w = os.path.join(root.encode(), b'w')
        for name in names:
            touch(os.path.join(w, name))
        for name in names:
            os.remove(os.path.join(w, name))
    return act


def files(root):
    """w, with the files that everything() writes, reads, changes and moves."""
    mkdir(root, 'w')
    for name in 'armx':
        touch(os.path.join(root, 'w', name), b'data')


def everything(root):
    """One of each event in w, each name having each event once at most."""
    w = os.path.join(root, 'w')
    touch(os.path.join(w, 'n'))                 # CREATE OPEN CLOSE_WRITE
    write(os.path.join(w, 'a'))                 # OPEN MODIFY CLOSE_WRITE
    read(os.path.join(w, 'r'))                  # OPEN ACCESS CLOSE_NOWRITE
    os.chmod(os.path.join(w, 'm'), 0o600)       # ATTRIB
    os.rename(os.path.join(w, 'x'), os.path.join(w, 'y'))  # MOVED_FROM MOVED_TO
    os.remove(os.path.join(w, 'y'))             # DELETE
    os.mkdir(os.path.join(w, 'd'))              # CREATE,ISDIR
    os.rmdir(os.path.join(w, 'd'))              # DELETE,ISDIR


EVERYTHING = b"""\
w/ CREATE n
w/ OPEN n
w/ CLOSE_WRITE,CLOSE n
w/ OPEN a
w/ MODIFY a
w/ CLOSE_WRITE,CLOSE a
w/ OPEN r
w/ ACCESS r
w/ CLOSE_NOWRITE,CLOSE r
w/ ATTRIB m
w/ MOVED_FROM x
w/ MOVED_TO y
w/ DELETE y
w/ CREATE,ISDIR d
w/ DELETE,ISDIR d
"""


def rmdir_w(root):
    os.rmdir(os.path.join(root, 'w'))


# Output and exit status

def test_monitor_prints_every_event_as_inotifywait(tmp):
    assert same(run_twins(tmp, ['-m', 'w'], everything, files)) == (
        TERMINATED, EVERYTHING, SETUP)


def test_the_first_event_ends_it_with_status_0(tmp):
    assert same(run_twins(tmp, ['w'], everything, files, until='exit')) == (
        0, b'w/ CREATE n\n', SETUP)


def test_an_event_not_asked_for_ends_it_with_status_1_and_no_output(tmp):
    # deleting the watched directory sends IGNORED, which nobody asked for
    assert same(run_twins(tmp, ['-e', 'create', 'w'], rmdir_w, until='exit')) == (
        1, b'', SETUP)


def test_monitor_goes_on_after_the_watched_directory_is_deleted(tmp):
    assert same(run_twins(tmp, ['-m', '-e', 'create', 'w'], rmdir_w))[:2] == (
        TERMINATED, b'')


@pytest.mark.parametrize('events, out', [
    ('delete_self', b'w/ DELETE_SELF \n'),
    ('ignored', b'w/ IGNORED \n'),
    ('delete_self,ignored', b'w/ DELETE_SELF \nw/ IGNORED \n'),
])
def test_ignored_and_delete_self_are_printed_only_when_asked(tmp, events, out):
    assert same(run_twins(tmp, ['-m', '-e', events, 'w'], rmdir_w))[:2] == (
        TERMINATED, out)


def test_a_watched_file_has_no_slash_and_no_name(tmp):
    def setup(root):
        touch(os.path.join(root, 'f'))

    def act(root):
        write(os.path.join(root, 'f'))
        os.rename(os.path.join(root, 'f'), os.path.join(root, 'g'))
        os.remove(os.path.join(root, 'g'))
    assert same(run_twins(tmp, ['-m', 'f'], act, setup))[:2] == (TERMINATED, (
        b'f OPEN \nf MODIFY \nf CLOSE_WRITE,CLOSE \nf MOVE_SELF \nf ATTRIB \n'
        b'f DELETE_SELF \n'))


def test_several_paths_absolute_ones_and_one_inode_twice(tmp):
    def setup(root):
        mkdir(root, 'w', 'x')

    def act(root):
        touch(os.path.join(root, 'x', 'b'))
        touch(os.path.join(root, 'w', 'a'))
    results = run_twins(tmp, ['-m', '-e', 'create', 'w', '{root}/x', 'w/'], act,
                        setup, watches=2)
    ours, theirs = results['ours'], results['theirs']
    assert ours[1].replace(b'/ours/', b'/theirs/') == theirs[1] == (
        b'%s/theirs/x/ CREATE b\nw/ CREATE a\n' % tmp.encode())


# -t

def test_timeout_without_an_event_exits_2(tmp):
    assert same(run_twins(tmp, ['-t', '1', 'w'], until='exit')) == (2, b'', SETUP)


def test_timeout_0_means_never(tmp):
    # both are set up and waiting: -t 0 did not end them
    assert same(run_twins(tmp, ['-t', '0', 'w'])) == (TERMINATED, b'', SETUP)


@pytest.mark.parametrize('value', [' 1', '+1'])
def test_timeout_values_are_read_as_inotifywait_reads_them(tmp, value):
    # strtol() skips leading blanks and takes a sign: each is 1 s
    assert same(run_twins(tmp, ['-t', value, 'w'], until='exit'))[0] == 2


@pytest.mark.parametrize('value', ['4294967297', '2147483648'])
def test_a_timeout_beyond_32_bits_is_kept_whole_as_4x_keeps_it(tmp, value):
    # 3.22 kept 32 bits of the value (4294967297 was 1 s); 4.x keeps the whole
    # long, a deliberate change of its range that ours follows: ours still waits
    differ = value == '4294967297' and not against_4x()
    programs, deadline = start_twins(tmp, ['-t', value, 'w'])
    if differ:
        wait_until([programs['theirs']], Program.exited, deadline, '3.22 times out')
    else:
        time.sleep(1.5)  # more than a second, and neither has timed out
    results = finish_twins(programs, deadline)
    if differ:
        assert results['ours'] == (TERMINATED, b'', SETUP)
        assert results['theirs'] == (2, b'', SETUP)
    else:
        assert same(results) == (TERMINATED, b'', SETUP)


@pytest.mark.parametrize('value', ['-1', '-4294967295'])
def test_a_negative_timeout_is_refused_once_watching_as_4x_refuses_it(tmp, value):
    # 4.x refuses it (on purpose: "used to test filesystem support") once the
    # watches are set up, and ours follows; 3.22 waited for its 32 bits of it
    refused = (1, b'', SETUP + b'Negative timeout specified - abort!\n')
    if against_4x():
        assert same(run_twins(tmp, ['-t', value, 'w'], until='exit')) == refused
    else:
        programs, deadline = start_twins(tmp, ['-t', value, 'w'])
        wait_until([programs['ours']], Program.exited, deadline, 'ours refuses')
        results = finish_twins(programs, deadline)
        assert results['ours'] == refused
        assert results['theirs'][0] != 1


@pytest.mark.parametrize('value', ['1.5', 'inf', '', 'abc', '2x', '1 ',
                                   '99999999999999999999'])
def test_timeout_values_that_are_refused(tmp, value):
    status, out, err = same(run_twins(tmp, ['-t', value, 'w'], watches=0,
                                      until='exit'))
    assert (status, out) == (1, b'')
    assert err.endswith(b'Please specify a long int value.\n') or (
        err.endswith(b'Numerical result out of range\n'))


# -e

@pytest.mark.parametrize('events', [
    ['-e', 'create'],
    ['-e', 'CREATE,Delete'],
    ['-e', 'modify', '-e', 'moved_to,attrib'],
    ['-e', 'close'],
    ['-e', 'move'],
    ['-e', 'open,access,close_nowrite'],
    ['-e', 'all_events'],
    ['-e', 'isdir'],            # any event on a directory
    ['-e', 'create,'],          # a trailing comma makes it 0: all events
    ['-e', ''],
    ['-e', 'create', '-e', ',delete'],
    ['--event=delete', '--ev', 'create'],
])
def test_events_are_chosen_as_inotifywait_chooses_them(tmp, events):
    assert same(run_twins(tmp, ['-m'] + events + ['w'], everything,
                          files))[0] == TERMINATED


@pytest.mark.parametrize('event', ['nosuch', 'create,nosuch', 'close_writes', '-t'])
def test_unknown_events_are_refused(tmp, event):
    assert same(run_twins(tmp, ['-e', event, 'w'], watches=0, until='exit')) == (
        1, b'', b"'" + event.encode() + b"' is not a valid event!  Run with the "
        b"'--help' option to see a list of events.\n")


# -q, -qq

def test_quiet_says_nothing_of_the_watches(tmp):
    assert same(run_twins(tmp, ['-m', '-q', 'w'], everything, files)) == (
        TERMINATED, EVERYTHING, b'')


def test_quiet_twice_prints_no_events_but_still_errors(tmp):
    assert same(run_twins(tmp, ['-qq', 'w'], everything, files, until='exit')) == (
        0, b'', b'')
    assert same(run_twins(subdir(tmp, 'x'), ['--quiet', '-q', 'nosuch'], watches=0,
                          until='exit')) == (
        1, b'', b"Couldn't watch nosuch: No such file or directory\n")


# -c

NAMES = [b'plain', b'a b', b'c,d', b'"q"', b' lead', b'trail ', b'new\nline']


def test_csv_quotes_as_inotifywait_quotes(tmp):
    out = same(run_twins(tmp, ['-m', '-c', 'w'], in_w(*NAMES)))[1]
    assert out.startswith(b'w/,CREATE,plain\nw/,OPEN,plain\nw/,"CLOSE_WRITE,CLOSE",'
                          b'plain\nw/,CREATE,a b\n')
    for line in (b'w/,CREATE,"c,d"\n', b'w/,CREATE,"""q"""\n', b'w/,CREATE," lead"\n',
                 b'w/,CREATE,"trail "\n', b'w/,CREATE,"new\nline"\n'):
        assert line in out


def test_csv_of_a_watched_file_and_of_an_odd_directory_name(tmp):
    def setup(root):
        mkdir(root, 'a, "b"')
        touch(os.path.join(root, 'f'))

    def act(root):
        touch(os.path.join(root, 'a, "b"', 'x'))
        write(os.path.join(root, 'f'))
    assert same(run_twins(tmp, ['-m', '--csv', 'f', 'a, "b"'], act, setup,
                          watches=2))[1] == (
        b'"a, ""b""/",CREATE,x\n"a, ""b""/",OPEN,x\n"a, ""b""/","CLOSE_WRITE,CLOSE",'
        b'x\nf,OPEN,\nf,MODIFY,\nf,"CLOSE_WRITE,CLOSE",\n')


# --format, --timefmt, --no-newline

@pytest.mark.parametrize('fmt', [
    '%w|%f|%e|%:e|%;e|%%|%x|%0|%n|end',
    '%we %fe %ee %%e %0e %ne',   # what comes before %Xe is taken first
    '%e%', '%%%', '%X', '%', 'no directive', '', '%w%f',
])
def test_format_directives_are_those_of_inotifywait(tmp, fmt):
    assert same(run_twins(tmp, ['-m', '--format', fmt, 'w'], everything,
                          files))[0] == \
        TERMINATED


@pytest.mark.parametrize('fmt', ['%w%f%0', 'ab%', '%e %%'])
def test_format_without_a_newline(tmp, fmt):
    same(run_twins(tmp, ['-m', '--format', fmt, '--no-newline', 'w'], everything,
                   files))


def test_format_of_the_cookie_pairs_the_moves(tmp):
    def act(root):
        touch(os.path.join(root, 'w', 'a'))
        os.rename(os.path.join(root, 'w', 'a'), os.path.join(root, 'w', 'b'))
    results = run_twins(tmp, ['-m', '-e', 'create,move', '--format', '%e %c', 'w'],
                        act)
    for status, out, err in results.values():  # cookies are counted system-wide
        create, moved_from, moved_to, end = out.split(b'\n')
        assert create == b'CREATE 0' and end == b''
        assert moved_from.split()[0] == b'MOVED_FROM'
        assert moved_to.split()[0] == b'MOVED_TO'
        assert moved_from.split()[1] == moved_to.split()[1] == b'%x' % int(
            moved_to.split()[1], 16) != b'0'


@pytest.mark.parametrize('timefmt', ['%Y', 'at %%Y!', '%Y-%m'])
def test_timefmt_gives_the_time_with_strftime(tmp, timefmt):
    out = same(run_twins(tmp, ['-m', '-e', 'create', '--format', '%T %f',
                               '--timefmt', timefmt, 'w'], in_w(b'a')))[1]
    assert out == time.strftime(timefmt + ' a\n').encode()


def test_a_time_that_strftime_cannot_give_prints_nothing(tmp):
    assert same(run_twins(tmp, ['-m', '--format', 'x%T', '--timefmt', '', 'w'],
                          everything, files))[1] == b''


# Refusals and errors

@pytest.mark.parametrize('args', [
    ['--format', 'x', '-c', 'w'],
    ['--no-newline', 'w'],
    ['--timefmt', '%Y', 'w'],
    ['--format', '%T', 'w'],
    ['--format', '%%T', 'w'],
    ['--format', '', '--no-newline', 'w'],
    ['--format', 'x' * 4096, 'w'],
    ['-d', 'w'],
    ['--exclude', 'a', '--include', 'b', 'w'],
    ['--excludei', 'a', '--includei', 'b', 'w'],
    ['--exclude', 'a', '--excludei', 'b', 'w'],
    ['--include', 'a', '--includei', 'b', 'w'],
    ['--exclude', '(', 'w'],
    ['--includei', 'a{1', 'w'],
    ['--fromfile', 'x', '--fromfile', 'y', 'w'],
    ['-o', 'x', '--outfile', 'y', 'w'],
    ['-f', 'w'],
    ['--filename', 'w'],
    ['--bogus', 'w'],
    ['--bogus=1', 'w'],
    ['-x', 'w'],
    ['-mrx', 'w'],
    ['--f', 'w'],
    ['--in', 'w'],
    ['--no=1', 'w'],
    ['--monitor=1', 'w'],
    ['w', '--format'],
    ['w', '--exclude'],
    ['w', '-t'],
    ['w', '-e'],
    ['-e', 'nosuch', '--bogus', 'w'],  # the first error is the one reported
    ['--bogus', '-e', 'nosuch', 'w'],
    [],
    ['@w'],
    ['', '@'],
    ['nosuch'],
    ['w', 'nosuch'],
    ['-r', 'nosuch'],
    ['-o', 'nosuch/x', 'w'],
    ['-d', '-o', 'nosuch', 'w'],
    ['--', '-m'],
    ['--fromfile', 'w'],  # fopen() opens a directory; it has no lines
])
def test_refusals_and_errors_in_inotifywait_s_words(tmp, args):
    assert same(run_twins(tmp, args, watches=0, until='exit'))[:2] == (1, b'')


def test_a_fromfile_that_cannot_be_opened_is_refused_as_3_22_refuses_it(tmp):
    # 4.x says so, then dies of SIGSEGV (a defect): ours keeps 3.22's refusal
    results = run_twins(tmp, ['--fromfile', 'nosuch'], watches=0, until='exit')
    refused = (1, b'', b"Couldn't open nosuch: No such file or directory\n"
                       b'No files specified to watch!\n')
    if against_4x():
        assert results['ours'] == refused
        assert results['theirs'] == (-signal.SIGSEGV, b'', refused[2].split(
            b'\n')[0] + b'\n')
    else:
        assert same(results) == refused


@pytest.mark.parametrize('option', ['-I', '--inotify'])
def test_the_inotify_option_is_accepted(tmp, option):
    # 4.x lists it in its help (watch with inotify, its default); 3.22 takes it
    # and says nothing of it
    assert same(run_twins(tmp, [option, '-t', '1', 'w'], until='exit')) == (
        2, b'', SETUP)


@pytest.mark.parametrize('option', ['-F', '--fanotify', '-S', '--filesystem'])
def test_the_fanotify_options_are_refused(tmp, option):
    # 4.x watches with fanotify, which this project does not wrap, and 3.22 takes
    # them and watches with inotify: ours follows neither, and says so
    # 4.x is not run beside it: its filesystem mark (-S) reports the first event
    # anywhere on the filesystem, and opens that event's directory to name it
    # (open_by_handle_at): another test's watched directory, whose OPEN that test
    # then sees.
    name = {'-F': 'fanotify', '-S': 'filesystem'}.get(option, option[2:])
    if against_4x():
        mkdir(tmp, 'w')
        ours = run_command(OURS + [option, '-t', '1', 'w'], cwd=tmp, env=python_env())
    else:
        results = run_twins(tmp, [option, '-t', '1', 'w'], watches=0, until='exit')
        assert results['theirs'] == (2, b'', SETUP)
        ours = results['ours']
    assert ours == (1, b'', b'inotify_simple: --' + name.encode() +
                    b': fanotify is not supported; this program '
                    b'watches with inotify.\n')


@pytest.mark.parametrize('template', ['--%s', '-%s', '-m%s', '--bogus=%s', '--ex=%s'])
def test_an_option_that_is_not_ascii_is_quoted_byte_for_byte(tmp, template):
    byte = b'\xe9'  # as an argument: str on Python 3, its bytes on the way out
    arg = template % (byte if bytes is str else os.fsdecode(byte))
    assert same(run_twins(tmp, [arg, 'w'], watches=0, until='exit'))[:2] == (1, b'')


def test_a_path_that_may_not_be_read(tmp):
    def setup(root):
        mkdir(root, 'w/secret')
        os.chmod(os.path.join(root, 'w', 'secret'), 0o700)
    if os.geteuid() != 0:
        pytest.skip('dropping to another user needs root')
    for i, args in enumerate([['w/secret'], ['-r', 'w/secret'], ['-r', 'w/secret/x']]):
        assert same(run_twins(subdir(tmp, str(i)), args, setup=setup, watches=0,
                              until='exit', nobody=True))[:2] == (1, b'')


def test_help_lists_every_option_and_exits_1(tmp):
    results = run_twins(tmp, ['--help', '--bogus'], watches=0, until='exit')
    status, out, err = results['ours']
    assert (status, err) == (1, b'') == (results['theirs'][0], results['theirs'][2])
    for option in (b'@', b'--exclude', b'--excludei', b'--include', b'--includei',
                   b'-m, --monitor', b'-d, --daemon', b'-P, --no-dereference',
                   b'-r, --recursive', b'--fromfile', b'-o, --outfile', b'-s, --syslog',
                   b'-q, --quiet', b'-qq', b'--format', b'--no-newline', b'--timefmt',
                   b'-c, --csv', b'-t, --timeout', b'-e, --event', b'--json',
                   b'-I, --inotify', b'-F, --fanotify', b'-S, --filesystem'):
        assert option in out
    assert b'inotifywait' not in out.split(b'\n')[0]


def test_several_excludes_keep_the_last_with_a_warning(tmp):
    status, out, err = same(run_twins(tmp, ['-m', '-e', 'create', '--exclude', 'a',
                                            '--exclude', 'b', 'w'], in_w(b'a', b'b')))
    assert (out, err) == (b'w/ CREATE a\n', b'--exclude: only the last option will '
                          b'be taken into consideration.\n' + SETUP)


# --exclude, --excludei, --include, --includei

FILES = [b'keep.txt', b'skip.log', b'SKIP.LOG', b'x1', b'x22', b'x', b'caf\xc3\xa9',
         b'CAF\xc3\x89']


@pytest.mark.parametrize('option, pattern', [
    ('--exclude', r'\.log$'),
    ('--excludei', r'\.log$'),
    ('--include', r'x[[:digit:]]+$'),
    ('--includei', 'KEEP|^w/x'),
    ('--exclude', '^w/'),            # the path is matched with the name
    ('--include', r'w/\<x'),         # glibc's word boundaries
    ('--excludei', 'caf..$'),        # a byte is a character: the C locale
    ('--include', '(keep|x)[^.]*$'),
])
def test_regular_expressions_match_as_inotifywait_matches(tmp, option, pattern):
    same(run_twins(tmp, ['-m', '-e', 'create,delete', option, pattern, 'w'],
                   in_w(*FILES)))


def test_regular_expressions_match_a_watched_file_s_path(tmp):
    def setup(root):
        touch(os.path.join(root, 'f.log'))
        touch(os.path.join(root, 'g.txt'))

    def act(root):
        for name in ('f.log', 'g.txt'):
            write(os.path.join(root, name))
    assert same(run_twins(tmp, ['-m', '-e', 'modify', '--exclude', 'log$', 'f.log',
                                'g.txt'], act, setup, watches=2))[1] == (
        b'g.txt MODIFY \n')


def test_an_excluded_event_does_not_end_it(tmp):
    assert same(run_twins(tmp, ['--exclude', 'a', '-e', 'create', 'w'],
                          in_w(b'a', b'b'), until='exit'))[:2] == (0, b'w/ CREATE b\n')


# @, --fromfile

def tree(root):
    mkdir(root, 'w/a/deep', 'w/b/deep', 'w/c')


def test_at_excludes_a_directory_of_a_tree(tmp):
    def act(root):
        for name in ('a', 'b', 'b/deep', 'c'):
            touch(os.path.join(root, 'w', name, 'f'))
    assert same(run_twins(tmp, ['-m', '-r', '-e', 'create', 'w', '@w/b/', '@'], act,
                          tree, watches=4))[1] == (
        b'w/a/ CREATE f\nw/c/ CREATE f\n')


@pytest.mark.parametrize('source', ['file', 'stdin'])
def test_fromfile_names_the_files_to_watch_and_to_exclude(tmp, source):
    lines = b'w\n\n@w/b\n@\nx\n'

    def setup(root):
        tree(root)
        mkdir(root, 'x')
        with open(os.path.join(root, 'list'), 'wb') as f:
            f.write(lines)

    def act(root):
        for name in ('w/a', 'w/b', 'w/c', 'x'):
            touch(os.path.join(root, name, 'f'))
    args = ['-m', '-r', '-e', 'create', '--fromfile', 'list' if source == 'file'
            else '-', 'w/a']
    results = run_twins(tmp, args, act, setup, watches=5,
                        stdin=lines if source == 'stdin' else None)
    printed = b'w/a/ CREATE f\nw/c/ CREATE f\nx/ CREATE f\n'
    if against_4x():
        # 4.x tries to watch the empty line's empty name and gives up (a defect):
        # ours skips it, as 3.22 does
        assert results['ours'] == (TERMINATED, printed, SETUP_R)
        assert results['theirs'] == (1, b'', SETUP_R.split(b'\n')[0] + b'\n' +
                                     b"Couldn't watch : No such file or directory\n")
    else:
        assert same(results)[1] == printed


def test_fromfile_ends_a_name_at_a_nul_byte(tmp):
    def setup(root):
        mkdir(root, 'w')
        with open(os.path.join(root, 'list'), 'wb') as f:
            f.write(b'w\0ignored\n')
    assert same(run_twins(tmp, ['--fromfile', 'list'], lambda root: touch(
        os.path.join(root, 'w', 'f')), setup, until='exit'))[:2] == (0, b'w/ CREATE f\n')


# -o, -s, -P, -d

def test_outfile_is_appended_to_and_made_private(tmp):
    def setup(root):
        files(root)
        with open(os.path.join(root, 'old.log'), 'wb') as f:
            f.write(b'before\n')
    twins = subdir(tmp, 'old')
    assert same(run_twins(twins, ['-m', '-o', 'old.log', 'w'], everything,
                          setup)) == (TERMINATED, b'', SETUP)
    for side in SIDES:
        assert read(os.path.join(twins, side, 'old.log')) == b'before\n' + EVERYTHING
    twins = subdir(tmp, 'new')
    assert same(run_twins(twins, ['--outfile=new.log', 'w'], everything, files,
                          until='exit')) == (0, b'', SETUP)
    for side in SIDES:
        path = os.path.join(twins, side, 'new.log')
        assert read(path) == b'w/ CREATE n\n'
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_syslog_takes_the_diagnostics_not_the_events(tmp):
    assert same(run_twins(tmp, ['-m', '-s', 'w'], everything, files)) == (
        TERMINATED, EVERYTHING, b'')
    assert same(run_twins(subdir(tmp, 'x'), ['-s', 'nosuch'], watches=0,
                          until='exit')) == (1, b'', b'')


def links(root):
    mkdir(root, 'd')
    touch(os.path.join(root, 'f'))
    os.symlink('d', os.path.join(root, 'dlink'))
    os.symlink('f', os.path.join(root, 'flink'))


def touch_links(root):
    touch(os.path.join(root, 'd', 'x'))
    write(os.path.join(root, 'f'))
    os.utime(os.path.join(root, 'dlink'), None)  # follows the link: ATTRIB of d
    os.utime(os.path.join(root, 'f'), None)


@pytest.mark.parametrize('args', [[], ['-P'], ['--no-dereference'], ['-r'],
                                  ['-r', '-P']])
def test_symbolic_links_are_followed_unless_no_dereference(tmp, args):
    same(run_twins(tmp, ['-m'] + args + ['dlink', 'flink'], touch_links, links,
                   watches=2))


def test_daemon_runs_in_the_background_printing_to_the_outfile(tmp):
    # it works from /: paths are absolute; the outfile must exist already
    def setup(root):
        mkdir(root, 'w')
        touch(os.path.join(root, 'events.log'))
    programs, deadline = start_twins(tmp, ['-d', '-e', 'create,delete', '-o',
                                           'events.log', '{root}/w'], setup, watches=0)
    assert same(finish_twins(programs, deadline, 'exit')) == (0, b'', b'')
    daemons = dict((side, writing_to(os.path.join(tmp, side, 'events.log'), deadline))
                   for side in SIDES)
    try:
        wait_until(daemons.values(), lambda d: ready(d, 1), deadline, 'set up')
        for side in SIDES:
            in_w(b'a')(os.path.join(tmp, side))
        wait_until(daemons.values(), lambda d: d.waiting(), deadline, 'done')
    finally:
        for daemon in daemons.values():
            os.kill(daemon.pid, signal.SIGTERM)
    wait_until(daemons.values(), lambda d: d.exited(), deadline, 'stopped')
    logs = [read(os.path.join(tmp, side, 'events.log')) for side in SIDES]
    assert logs[0].replace(b'/ours/', b'/theirs/') == logs[1] == (
        b'%s/theirs/w/ CREATE a\n%s/theirs/w/ DELETE a\n' % (tmp.encode(),
                                                             tmp.encode()))


# -r

def files_in_tree(root):
    for name in ('w/a', 'w/a/deep', 'w/b', 'w/c'):
        touch(os.path.join(root, name, 'f'))
        os.remove(os.path.join(root, name, 'f'))


def test_recursive_watches_the_whole_tree(tmp):
    out = same(run_twins(tmp, ['-m', '-r', 'w'], files_in_tree, tree, watches=6))[1]
    assert out.startswith(b'w/a/ CREATE f\nw/a/ OPEN f\n')
    assert b'w/b/deep/' not in out and b'w/a/deep/ DELETE f\n' in out


def test_recursive_reports_nothing_of_its_own_walk(tmp):
    # the old command line printed w/ OPEN,ISDIR and exited at once
    assert same(run_twins(tmp, ['-r', '-t', '1', 'w'], setup=tree, watches=6,
                          until='exit')) == (2, b'', SETUP_R)
    assert same(run_twins(subdir(tmp, 'm'), ['-m', '-r', 'w'], setup=tree,
                          watches=6)) == (TERMINATED, b'', SETUP_R)


def test_recursive_a_deleted_directory_prints_no_ignored(tmp):
    def act(root):
        os.rmdir(os.path.join(root, 'w', 'a', 'deep'))
        os.rmdir(os.path.join(root, 'w', 'a'))
    assert same(run_twins(tmp, ['-m', '-r', '-e', 'create,delete', 'w'], act, tree,
                          watches=6))[1] == (
        b'w/a/ DELETE,ISDIR deep\nw/ DELETE,ISDIR a\n')


def moved_out(root):
    os.rename(os.path.join(root, 'w', 'a'), os.path.join(root, 'out'))


def made_and_removed(root):
    os.mkdir(os.path.join(root, 'w', 'tmp'))
    os.rmdir(os.path.join(root, 'w', 'tmp'))


@pytest.mark.parametrize('act', [moved_out, made_and_removed])
def test_recursive_without_monitor_what_only_follows_the_tree_ends_nothing(tmp, act):
    # inotifywait watches no new directory without -m, and keeps the watch of one
    # moved out: neither gives it an IGNORED that would end it with 1
    assert same(run_twins(tmp, ['-r', '-t', '2', '-e', 'modify', 'w'], act, tree,
                          watches=6, until='exit'))[:2] == (2, b'')


def test_recursive_timeout_is_not_restarted_by_what_only_follows_the_tree(tmp):
    # files made faster than the timeout, until both have timed out
    programs, deadline = start_twins(tmp, ['-r', '-t', '1', '-e', 'modify', 'w'])
    count = 0
    while not all(program.exited() for program in programs.values()):
        assert time.time() < deadline, 'the timeout never came'
        for side in SIDES:
            touch(os.path.join(tmp, side, 'w', str(count)))
        count += 1
        time.sleep(0.05)
    assert same(finish_twins(programs, deadline, until='exit'))[:2] == (2, b'')


@pytest.mark.skipif(hasattr(sys, 'pypy_version_info'), reason='PyPy handles SIGINT '
                    'whatever it was: an ignored one cannot be told (see docs/cli.rst)')
def test_an_ignored_sigint_stays_ignored(tmp):
    # as a script's background job has it
    programs, deadline = start_twins(tmp, ['-m', 'w'], preexec=lambda: signal.signal(
        signal.SIGINT, signal.SIG_IGN))
    for program in programs.values():
        os.kill(program.pid, signal.SIGINT)
    for side in SIDES:
        touch(os.path.join(tmp, side, 'w', 'f'))
    assert same(finish_twins(programs, deadline))[:2] == (
        TERMINATED, b'w/ CREATE f\nw/ OPEN f\nw/ CLOSE_WRITE,CLOSE f\n')


def as_4x_follows(results, *directories):
    """``results`` with what inotifywait 4.x says on purpose as it follows a new
    directory, and ours with it, taken out of ours where the reference is 3.22,
    which says nothing; each must be there."""
    ours = results['ours']
    said = b''.join(b'Watching new directory %s\n' % d for d in directories)
    if against_4x():
        return results
    for line in said.splitlines(True):
        assert line in ours[2], (line, ours[2])
    kept = b''.join(line for line in ours[2].splitlines(True)
                    if not line.startswith(b'Watching new directory '))
    return dict(results, ours=(ours[0], ours[1], kept))


def test_recursive_follows_a_new_directory_once_it_is_watched(tmp):
    def mkdir_new(root):
        os.mkdir(os.path.join(root, 'w', 'new'))

    def fill_new(root):
        touch(os.path.join(root, 'w', 'new', 'f'))
        write(os.path.join(root, 'w', 'new', 'f'))
    # inotifywait misses what is made in a directory before it watches it: the
    # files come once both watch the new directory. It also reports its reading of
    # the directory (OPEN, ACCESS, CLOSE_NOWRITE), which ours does not. 4.x says
    # "Watching new directory w/new/" as it follows it: ours follows 4.x.
    for i, args in enumerate([['-m', '-r', '-e', 'create,modify,close_write', 'w'],
                              ['-m', '-r', '-e', 'modify', 'w']]):
        results = run_twins(subdir(tmp, str(i)), args,
                            steps=[(mkdir_new, 2), (fill_new, None)])
        assert same(as_4x_follows(results, b'w/new/'))[0] == TERMINATED


def test_recursive_a_directory_moved_within_the_tree_keeps_its_new_path(tmp):
    def move(root):
        os.rename(os.path.join(root, 'w', 'a'), os.path.join(root, 'w', 'c', 'moved'))
        touch(os.path.join(root, 'w', 'c', 'moved', 'deep', 'f'))
    assert same(run_twins(tmp, ['-m', '-r', 'w'], move, tree, watches=6))[1] == (
        b'w/ MOVED_FROM,ISDIR a\nw/c/ MOVED_TO,ISDIR moved\nw/c/moved/ MOVE_SELF \n'
        b'w/c/moved/deep/ CREATE f\nw/c/moved/deep/ OPEN f\n'
        b'w/c/moved/deep/ CLOSE_WRITE,CLOSE f\n')


def test_recursive_skips_what_it_may_not_read_and_goes_on(tmp):
    if os.geteuid() != 0:
        pytest.skip('dropping to another user needs root')

    def setup(root):
        mkdir(root, 'w/a', 'w/b', 'w/c')
        os.chmod(os.path.join(root, 'w', 'b'), 0)
        for name in ('w', 'w/a', 'w/c'):
            os.chmod(os.path.join(root, name), 0o777)

    def act(root):
        touch(os.path.join(root, 'w', 'c', 'f'))
        os.mkdir(os.path.join(root, 'w', 'new'), 0)
    results = run_twins(tmp, ['-m', '-r', '-e', 'create', 'w'], act, setup,
                        watches=3, nobody=True)
    expected = (TERMINATED, b'w/c/ CREATE f\nw/ CREATE,ISDIR new\n',
                SETUP_R + b'Watching new directory w/new/\n'
                b"Couldn't watch new directory w/new/: Permission denied\n")
    if against_4x():  # it says that it follows the directory, as ours does
        assert same(results) == expected
    else:
        assert same(as_4x_follows(results, b'w/new/')) == (
            expected[0], expected[1], expected[2].replace(
                b'Watching new directory w/new/\n', b''))


def test_recursive_with_a_file_and_a_link_to_a_directory(tmp):
    def setup(root):
        links(root)
        mkdir(root, 'd/sub')
    same(run_twins(tmp, ['-m', '-r', 'f', 'dlink'], touch_links, setup, watches=3))


# Signals, closed output, overflow

def test_ctrl_c_ends_both_as_the_signal_does(tmp):
    programs, deadline = start_twins(tmp, ['-m', 'w'])
    for program in programs.values():
        program.process.send_signal(signal.SIGINT)
    assert same(finish_twins(programs, deadline, 'exit')) == (
        -signal.SIGINT, b'', SETUP)


def test_a_reader_that_goes_away_ends_both_with_sigpipe(tmp):
    programs, deadline = start_twins(tmp, ['-m', 'w'])
    for program in programs.values():
        program.process.stdout.close()
        program.open.remove(program.out_fd)
    for side in SIDES:
        in_w(b'a')(os.path.join(tmp, side))
    assert same(finish_twins(programs, deadline, 'exit')) == (
        -signal.SIGPIPE, b'', SETUP)


def test_a_closed_standard_output_is_no_error(tmp):
    assert same(run_twins(tmp, ['w'], everything, files, until='exit',
                          preexec=lambda: os.close(1))) == (0, b'', SETUP)


def test_overflow_is_printed_as_inotifywait_prints_it(tmp):
    size = queue_size()
    programs, deadline = start_twins(tmp, ['-m', '-e', 'create,q_overflow', 'w'])
    for program in programs.values():
        program.process.send_signal(signal.SIGSTOP)
    for side in SIDES:
        overflow(os.path.join(tmp, side, 'w'), size)
    for program in programs.values():
        program.process.send_signal(signal.SIGCONT)
    assert same(finish_twins(programs, deadline))[1] == (
        b'w/ CREATE x\nw/ CREATE y\n' * (size // 2) + b' Q_OVERFLOW \n')


def test_bursts_of_one_event_in_one_directory_print_as_inotifywait(tmp):
    # Runs of one watch and one event are printed at once: check them beside
    # runs broken by another watch and another event, and a watched file's.
    def setup(root):
        mkdir(root, 'w')
        touch(os.path.join(root, 'g'))

    def append(path):
        with open(path, 'ab') as f:
            f.write(b'x')

    programs, deadline = start_twins(tmp, ['-m', '-e', 'create,modify', 'w', 'g'],
                                     setup, watches=2)
    for program in programs.values():
        program.process.send_signal(signal.SIGSTOP)
    for side in SIDES:
        w = os.path.join(tmp, side, 'w')
        for i in range(3000):  # pieces of the kernel's queue, each a run
            touch(os.path.join(w, 'f%d' % i))
        for i in range(300):
            append(os.path.join(w, 'f%d' % i))
        for i in range(300):  # another watch in turn with each
            touch(os.path.join(w, 'n%d' % i))
            append(os.path.join(tmp, side, 'g'))
    for program in programs.values():
        program.process.send_signal(signal.SIGCONT)
    out = same(finish_twins(programs, deadline))[1]
    assert out.count(b'\n') == 3000 + 300 + 2 * 300
