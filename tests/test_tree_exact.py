"""A tree's watches after renames it reads late: exactly its directories, each on its
own inode; and what is made in them afterwards reported where it is, nothing of
what is outside."""
import errno
import itertools
import os
import shutil
import signal
import threading
import time

import pytest

from conftest import WAIT
from conftest import before
from conftest import in_user_namespace
from conftest import overflow
from conftest import queue_size
from conftest import touch
from exact import CannotExchange
from exact import differences
from exact import directories
from exact import exchange
from exact import inodes
from exact import kernel_watches
from inotify_simple import flags
from inotify_simple import masks
from inotify_simple_tree import Tree


FENCES = itertools.count()


def settle(tree, top):
    """Everything the tree has queued, read: up to a last file made in ``top`` (made
    again when an overflow may have lost it). The events, but the fences'."""
    events, fences = [], []
    deadline = time.time() + WAIT

    def fenced(events):
        return [event for event in events if event.path == fences[-1] and
                event.mask & flags.CREATE]
    while True:
        fences.append(os.path.join(top, '.fence%d' % next(FENCES)))
        touch(fences[-1])
        got = []
        while not fenced(got):
            assert time.time() < deadline, 'no event of %s; the last: %r' % (
                fences[-1], events[-5:])
            got += tree.read(timeout=WAIT * 1000)
            if [event for event in got if event.mask & flags.Q_OVERFLOW]:
                break
        events += got
        if fenced(got):
            break
    for fence in fences:
        os.remove(fence)
    return [event for event in events if not os.path.basename(
        event.path).startswith('.fence')]


def assert_exact(tree, top, real=None, batch=None):
    """The tree's watches are the directories below ``top`` (``real``, where the
    test knows them, as exact.directories gives them); a file made in each of
    them is reported once, at its path, and one made outside is not. Files are
    made ``batch`` at a time (for a small queue), each batch read before the
    next."""
    if real is None:
        real = directories(top)
        settle(tree, top)  # the reading of them (which may overflow a small queue)
    assert differences(tree.watches(), kernel_watches(tree.fileno()), top, real) \
        == []
    made, events = [], []
    outside = os.path.join(os.path.dirname(top), 'out')
    for directory in directories(outside) if os.path.isdir(outside) else ():
        touch(os.path.join(directory, 'secret'))
    for directory in real:
        made.append(os.path.join(directory, 'probe'))
        touch(made[-1])
        if batch and len(made) % batch == 0:
            events += settle(tree, top)
    events += settle(tree, top)
    assert sorted(event.path for event in events if event.name == 'probe' and
                  event.mask & flags.CREATE) == sorted(made)
    assert [event.path for event in events if not event.path.startswith(top)] == []


def makedirs(top, *paths):
    for path in paths:
        os.makedirs(os.path.join(top, path))


def renames(top, *pairs):
    for old, new in pairs:
        os.rename(os.path.join(top, old), os.path.join(top, new))


def swap(top, tree=None):
    """a0 and b0 swap names through tmp; ``tree`` reads between two steps."""
    renames(top, ('w/a0', 'w/tmp'))
    if tree is not None:
        tree.read(timeout=0)
    renames(top, ('w/b0', 'w/a0'), ('w/tmp', 'w/b0'))


def swap_twice(top, tree):
    swap(top)
    swap(top, tree)


def exchanged(top, *pairs):
    for a, b in pairs:
        try:
            exchange(os.path.join(top, a), os.path.join(top, b))
        except CannotExchange as e:
            pytest.skip('RENAME_EXCHANGE: %s' % e)


# What is made first, then what is done before the tree reads (given the tree).
SEQUENCES = {
    'a tree moved in, then its parent renamed': (
        ('w/a', 'out/o/x/y'),
        lambda top, tree: renames(top, ('out/o', 'w/a/b'), ('w/a', 'w/c'))),
    'one name taken in turn by two directories': (
        ('w/a/x', 'w/b/y'),
        lambda top, tree: renames(top, ('w/a', 'w/t'), ('w/t', 'w/a'), ('w/a', 'w/u'),
                                  ('w/b', 'w/t'))),
    'two swaps, read between two steps of the second': (
        ('w/a0/x', 'w/b0/y'), swap_twice),
    'renamed, moved out, its name made again': (
        ('w/a/x', 'out'),
        lambda top, tree: (renames(top, ('w/a', 'w/c'), ('w/c', 'out/o')),
                           os.mkdir(os.path.join(top, 'w/c')))),
    'exchanged': (
        ('w/a/x', 'w/b/y'), lambda top, tree: exchanged(top, ('w/a', 'w/b'))),
    'exchanged across directories, twice': (
        ('w/p/a/x', 'w/q/b'),
        lambda top, tree: exchanged(top, ('w/p/a', 'w/q/b'), ('w/p', 'w/q/b'))),
    'exchanged with a new directory': (
        ('w/a/x',),
        lambda top, tree: (makedirs(top, 'w/b/in'), exchanged(top, ('w/a', 'w/b')))),
    'moved out and back': (
        ('w/a/x', 'out'), lambda top, tree: renames(top, ('w/a', 'out/a'),
                                                    ('out/a', 'w/a'))),
    'renamed over an empty directory, then renamed again': (
        ('w/a/x', 'w/b'), lambda top, tree: renames(top, ('w/a', 'w/b'),
                                                     ('w/b', 'w/z'))),
    'made, renamed, its name made again': (
        ('w',),
        lambda top, tree: (makedirs(top, 'w/n/deep'), renames(top, ('w/n', 'w/m')),
                           os.mkdir(os.path.join(top, 'w/n')))),
    'made, then moved into another made': (
        ('w',), lambda top, tree: (makedirs(top, 'w/a', 'w/b'),
                                   renames(top, ('w/b', 'w/a/b')))),
    'a directory replaced by a link to one outside': (
        ('w/a/x', 'out/target'),
        lambda top, tree: (shutil.rmtree(os.path.join(top, 'w/a')),
                           os.symlink(os.path.join(top, 'out/target'),
                                      os.path.join(top, 'w/a')))),
}


@pytest.mark.parametrize('sequence', sorted(SEQUENCES))
def test_after_renames_read_late_the_watches_are_the_directories(tmp, sequence):
    made, act = SEQUENCES[sequence]
    makedirs(tmp, *made)
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        act(tmp, tree)
        settle(tree, w)
        assert_exact(tree, w)


def test_exchanges_while_a_reader_waits_leave_the_watches_on_their_directories(tmp):
    # The reader takes the events as they come: two renames of an exchange (and
    # the MOVE_SELF that tells which directory moved) may come in two reads.
    makedirs(tmp, 'w/a/s/x', 'w/b/s/y', 'w/c/s')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE) as tree:
        stop = []

        def read():
            while not stop:
                tree.read(timeout=100)
        reader = threading.Thread(target=read)
        reader.start()
        try:
            for i in range(200):
                pairs = [('w/a', 'w/b'), ('w/b', 'w/c'), ('w/a/s', 'w/c/s')]
                exchanged(tmp, pairs[i % 3])
        finally:
            stop.append(True)
            reader.join()
        settle(tree, w)
        assert_exact(tree, w)


def test_a_renamed_and_exchanged_burst_in_a_small_read_piece(tmp, monkeypatch):
    # Pieces of a few events: a rename's events fall into several reads.
    import inotify_simple_tree
    monkeypatch.setattr(inotify_simple_tree, '_PIECE', 64)
    makedirs(tmp, *('w/d%d/s' % i for i in range(10)))
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        for i in range(10):
            renames(tmp, ('w/d%d' % i, 'w/e%d' % i))
            if i % 2:
                exchanged(tmp, ('w/e%d' % i, 'w/e%d/s' % (i - 1)))
            os.mkdir(os.path.join(w, 'n%d' % i))
        settle(tree, w)
        assert_exact(tree, w)


@pytest.fixture
def small_queue():
    """``small_queue(size)``: instances made meanwhile queue ``size`` events at
    most (max_queued_events is the machine's; it is put back at once)."""
    path = '/proc/sys/fs/inotify/max_queued_events'
    if os.geteuid() != 0:
        pytest.skip('max_queued_events may be changed by root only')

    def make(size, *args):
        with open(path) as f:
            old = f.read()
        try:
            with open(path, 'w') as f:
                f.write('%d\n' % size)
            return Tree(*args)
        finally:
            with open(path, 'w') as f:
                f.write(old)
    return make


@pytest.mark.parametrize('size,count', [(64, 111), (512, 300), (64, -60),
                                        (512, -400)])
def test_an_overflow_of_a_small_queue_is_said_once_and_the_tree_settles(
        tmp, small_queue, size, count):
    # count directories side by side, each with one in it; or (negative) one in
    # another, a chain as deep as that (the walk reads it down, then up)
    w = os.path.join(tmp, 'w')
    if count > 0:
        made = [os.path.join(w, 'd%03d' % i) + sub for i in range(count)
                for sub in ('', '/sub')]
    else:
        made = [os.path.join(w, *['d'] * depth) for depth in range(1, 1 - count)]
    for path in made if count > 0 else made[-1:]:
        os.makedirs(path)
    tree = small_queue(size, w, masks.ALL_EVENTS)
    with tree:
        for i in range(size + 10):
            touch(os.path.join(w, 'f%d' % i))
        makedirs(tmp, 'w/lost/in')  # in what the overflow lost
        events = []
        deadline = time.time() + WAIT
        while not [event for event in events if event.mask & flags.Q_OVERFLOW]:
            assert time.time() < deadline
            events += tree.read(timeout=WAIT * 1000)
        events += settle(tree, w)
        assert [event.path for event in events if event.mask & flags.Q_OVERFLOW] \
            == ['']
        assert os.path.join(w, 'lost', 'in') in [event.path for event in events]
        made = [w] + made + [w + '/lost', w + '/lost/in']
        assert_exact(tree, w, inodes(made), batch=size // 8)


def test_a_top_moved_away_is_followed_where_it_went_after_an_overflow(tmp):
    makedirs(tmp, 'w/a')
    w, moved = os.path.join(tmp, 'w'), os.path.join(tmp, 'moved')
    with Tree(w, flags.CREATE) as tree:
        os.rename(w, moved)
        overflow(moved, queue_size())
        os.mkdir(os.path.join(moved, 'lost'))
        events = []
        deadline = time.time() + WAIT
        while not [event for event in events if event.mask & flags.Q_OVERFLOW]:
            assert time.time() < deadline
            events += tree.read(timeout=WAIT * 1000)
        touch(os.path.join(moved, 'fence'))
        while os.path.join(w, 'fence') not in [event.path for event in events]:
            assert time.time() < deadline
            events += tree.read(timeout=WAIT * 1000)
        # Its events keep the path it was given, as inotifywait keeps it.
        assert [event.path for event in events[-3:]] == [
            '', os.path.join(w, 'lost'), os.path.join(w, 'fence')]
        os.mkdir(os.path.join(moved, 'new'))
        touch(os.path.join(moved, 'new', 'f'))
        deadline = time.time() + WAIT
        while os.path.join(w, 'new', 'f') not in [event.path for event in events]:
            assert time.time() < deadline
            events += tree.read(timeout=WAIT * 1000)
        assert sorted(tree.watches().values()) == [
            w + '/', w + '/a/', w + '/lost/', w + '/new/']


def test_a_top_gone_in_an_overflow_is_said(tmp):
    makedirs(tmp, 'w/a')
    w = os.path.join(tmp, 'w')
    errors = []
    with Tree(w, flags.CREATE, onerror=errors.append) as tree:
        overflow(w, queue_size())
        shutil.rmtree(w)
        deadline = time.time() + WAIT
        while not errors:
            assert time.time() < deadline
            tree.read(timeout=100)
        assert [(e.errno, e.filename) for e in errors] == [(errno.ENOENT, w)]
        assert tree.watches() == {}


def test_a_top_moved_to_another_directory_says_that_new_directories_cannot_be_watched(
        tmp):
    makedirs(tmp, 'w', 'elsewhere')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE) as tree:
        os.rename(w, os.path.join(tmp, 'elsewhere', 'w'))
        os.mkdir(os.path.join(tmp, 'elsewhere', 'w', 'new'))
        with pytest.raises(OSError) as error:
            tree.read(timeout=WAIT * 1000)
        assert error.value.errno == errno.ENOENT
        assert error.value.filename == os.path.join(w, 'new')
        assert 'moved away' in str(error.value)
        assert [event.path for event in tree.read(timeout=0)] == [
            os.path.join(w, 'new')]


def test_watch_that_meets_the_watch_limit_leaves_nothing_watched(tmp):
    for i in range(6):
        makedirs(tmp, 'big/%d/sub' % i)
    makedirs(tmp, 'w')

    def watch():
        tree = Tree(os.path.join(tmp, 'w'))
        try:
            tree.watch(os.path.join(tmp, 'big'))
        except OSError as e:
            return e.errno, tree.watches(), len(kernel_watches(tree.fileno()))
        finally:
            tree.close()
    code, watches, held = in_user_namespace(watch, max_inotify_watches=6)
    assert code == errno.ENOSPC
    assert list(watches.values()) == [os.path.join(tmp, 'w') + '/'] and held == 1


def test_a_new_directory_below_a_path_longer_than_path_max_is_watched(tmp):
    w = os.path.join(tmp, 'w')
    os.mkdir(w)
    with Tree(w, flags.CREATE) as tree:
        fd = os.open(w, os.O_RDONLY)
        try:
            for _ in range(25):  # 25 x 201 bytes: past PATH_MAX (4,096)
                os.mkdir('/proc/self/fd/%d/%s' % (fd, 'x' * 200))
                deeper = os.open('/proc/self/fd/%d/%s' % (fd, 'x' * 200),
                                 os.O_RDONLY)
                os.close(fd)
                fd = deeper
            os.mkdir('/proc/self/fd/%d/new' % fd)
            touch('/proc/self/fd/%d/new/f' % fd)
        finally:
            os.close(fd)
        deep = w + ('/' + 'x' * 200) * 25
        events = []
        deadline = time.time() + WAIT
        while deep + '/new/f' not in [event.path for event in events]:
            assert time.time() < deadline, events[-3:]
            events += tree.read(timeout=WAIT * 1000)
        assert len(tree.watches()) == 27 and deep + '/new/' in tree.watches().values()


# The same sequences, beside the command line's -m -r.

COMMAND_LINE = [
    'a tree moved in, then its parent renamed',
    'one name taken in turn by two directories',
    'two swaps, read between two steps of the second',
    'renamed, moved out, its name made again']


@pytest.mark.parametrize('sequence', COMMAND_LINE)
def test_after_renames_read_late_the_command_line_reports_where_things_are(
        tmp, sequence):
    from test_cli_ours import Ours
    made, act = SEQUENCES[sequence]
    makedirs(tmp, *made)
    w = os.path.join(tmp, 'w')
    command = Ours(tmp, ['-m', '-r', '-e', 'create', 'w'],
                   watches=len(directories(w)))
    command.program.process.send_signal(signal.SIGSTOP)
    act(tmp, None)
    command.program.process.send_signal(signal.SIGCONT)
    command.wait_for_watches(len(directories(w)))
    probes = []
    for directory in directories(w):
        probes.append(os.path.relpath(directory, tmp) + '/ CREATE probe')
        touch(os.path.join(directory, 'probe'))
    for directory in directories(os.path.join(tmp, 'out')) if os.path.isdir(
            os.path.join(tmp, 'out')) else ():
        touch(os.path.join(directory, 'secret'))
    lines = command.lines()
    assert sorted(line for line in lines if line.endswith(' probe')) == \
        sorted(probes)
    assert [line for line in lines if not line.startswith('w/')] == []


# Found by attacking it

def test_a_move_in_then_an_exchange_with_that_name_leaves_the_newcomer_watched(tmp):
    # The kernel merges the exchange's MOVED_TO of X into the first one (they
    # differ only in their cookie): the tree sees X come, then leave.
    makedirs(tmp, 'w', 'out/A', 'out/B/sub')
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        renames(tmp, ('out/A', 'w/X'))
        exchanged(tmp, ('out/B', 'w/X'))
        settle(tree, w)
        assert_exact(tree, w)


def test_exchanges_of_new_directories_with_what_they_hold_leave_them_watched(tmp):
    makedirs(tmp, 'w')
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        makedirs(tmp, 'w/X/c', 'w/Y')
        exchanged(tmp, ('w/X', 'w/Y'), ('w/Y/c', 'w/X'))
        touch(os.path.join(w, 'X', 'f'))
        renames(tmp, ('w/Y', 'w/Z'))
        settle(tree, w)
        assert_exact(tree, w)


def test_what_befalls_a_directory_outside_is_not_reported_when_it_comes_back(tmp):
    # It leaves while another directory that came is still to be looked for.
    makedirs(tmp, 'w/a', 'out')
    touch(os.path.join(tmp, 'w/a/keep'))
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        os.mkdir(os.path.join(w, 'n'))
        renames(tmp, ('w/a', 'out/a'))
        touch(os.path.join(tmp, 'out/a/secret'))
        os.remove(os.path.join(tmp, 'out/a/secret'))
        touch(os.path.join(tmp, 'out/a/keep'), b'x')
        renames(tmp, ('out/a', 'w/b'))
        events = settle(tree, w)
        assert [event.path for event in events if event.name == 'secret'] == []
        # come back, it is new: what it holds is reported, its change outside not
        assert [(event.path, event.mask) for event in events
                if event.name == 'keep'] == [(os.path.join(w, 'b', 'keep'),
                                              int(flags.CREATE))]
        assert_exact(tree, w)


def test_nothing_is_reported_at_a_path_that_never_held_it_after_a_detour(tmp):
    # a goes into a directory not watched yet, a file comes and goes there, and
    # a comes out under another name.
    makedirs(tmp, 'w/a')
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        os.mkdir(os.path.join(w, 'n'))
        renames(tmp, ('w/a', 'w/n/a'))
        touch(os.path.join(w, 'n/a/f1'))
        os.remove(os.path.join(w, 'n/a/f1'))
        renames(tmp, ('w/n/a', 'w/a2'))
        events = settle(tree, w)
        assert os.path.join(w, 'a2', 'f1') not in [event.path for event in events]
        assert_exact(tree, w)


def test_a_directory_renamed_between_its_opening_and_its_watch_is_not_kept(tmp):
    # No MOVE_SELF comes of it: the watch came after its move.
    import inotify_simple_tree
    makedirs(tmp, 'w', 'out', 'stage/new/victim')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE) as tree:
        def moving(fd):
            victim = os.path.join(w, 'new', 'victim')
            if os.readlink('/proc/self/fd/%d' % fd) == victim:
                renames(tmp, ('w/new/victim', 'out/victim'))
        before(tree, 'watch', moving)
        renames(tmp, ('stage/new', 'w/new'))
        settle(tree, w)
        touch(os.path.join(tmp, 'out', 'victim', 'secret'))
        assert inotify_simple_tree is not None
        assert_exact(tree, w)


def test_a_top_moved_into_another_top_is_followed_there(tmp):
    makedirs(tmp, 't1', 't2')
    t1, t2 = os.path.join(tmp, 't1'), os.path.join(tmp, 't2')
    with Tree(t1, flags.CREATE) as tree:
        tree.watch(t2)
        renames(tmp, ('t2', 't1/t2'))
        makedirs(tmp, 't1/t2/n')
        touch(os.path.join(t1, 't2', 'n', 'f'))
        events = settle(tree, t1)
        assert os.path.join(t1, 't2', 'n', 'f') in [event.path for event in events]
        assert_exact(tree, t1)


def test_an_overflow_after_a_directory_left_while_others_came_settles(
        tmp, small_queue):
    makedirs(tmp, 'w/a', 'out')
    w = os.path.join(tmp, 'w')
    with small_queue(16, w, flags.CREATE) as tree:
        os.mkdir(os.path.join(w, 'n'))
        renames(tmp, ('w/a', 'out/a'))
        shutil.rmtree(os.path.join(tmp, 'out', 'a'))
        for i in range(40):
            touch(os.path.join(w, 'f%d' % i))
        events = settle(tree, w)
        assert [event.path for event in events if event.mask & flags.Q_OVERFLOW] \
            == ['']
        assert tree.read(timeout=0) == []  # and again, whole
        assert_exact(tree, w, batch=3)


def test_close_while_a_new_directory_is_looked_for_leaves_no_descriptor_open(tmp):
    makedirs(tmp, 'w', 'stage/big')
    w = os.path.join(tmp, 'w')
    tree = Tree(w, flags.CREATE)
    add_watch = tree._inotify.add_watch

    def closing(path, mask):
        if path.endswith(b'/..'):  # the new directory is open: close the tree
            tree.close()
        return add_watch(path, mask)
    tree._inotify.add_watch = closing
    renames(tmp, ('stage/big', 'w/big'))
    with pytest.raises(ValueError):
        while True:
            tree.read(timeout=WAIT * 1000)  # ends when closed


def test_a_directory_deleted_while_held_open_keeps_its_path_for_its_last_events(tmp):
    # Its DELETE_SELF and IGNORED come when the last descriptor of it is closed,
    # here after its parent was renamed: they have the path it had.
    makedirs(tmp, 'w/p/d')
    w = os.path.join(tmp, 'w')
    with Tree(w, masks.ALL_EVENTS) as tree:
        held = os.open(os.path.join(w, 'p', 'd'), os.O_RDONLY)
        try:
            os.rmdir(os.path.join(w, 'p', 'd'))
            settle(tree, w)
            renames(tmp, ('w/p', 'w/q'))
            settle(tree, w)
        finally:
            os.close(held)
        events = settle(tree, w)
        assert [(event.path, names(event.mask)) for event in events
                if event.mask & (flags.DELETE_SELF | flags.IGNORED)] == [
            (os.path.join(w, 'p', 'd') + '/', 'DELETE_SELF'),
            (os.path.join(w, 'p', 'd') + '/', 'IGNORED')]
        assert_exact(tree, w)


def names(mask):
    return ','.join(flag.name for flag in flags.from_mask(mask))


def before_listing(tree, act):
    """``act(path)`` done each time before the tree lists a directory (``path``:
    the directory's, as its descriptor tells)."""
    before(tree, 'entries',
           lambda fd, all_entries: act(os.readlink('/proc/self/fd/%d' % fd)))


def reported(tree, top):
    """(path below ``top``, flags) of every event up to a fence."""
    return [(os.path.relpath(event.path, top), names(event.mask))
            for event in settle(tree, top)]


def test_what_a_walk_found_in_a_directory_renamed_meanwhile_comes_before_what_followed(
        tmp):
    # The listing may show what came after the rename: it is reported once the
    # rename is applied, at the path it gave, and before what was done after it.
    makedirs(tmp, 'w', 'stage/d')
    touch(os.path.join(tmp, 'stage', 'd', 'f'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def renaming(path):
            if os.path.isdir(os.path.join(w, 'd')):
                renames(tmp, ('w/d', 'w/e'))
                touch(os.path.join(w, 'e', 'g'))
        before_listing(tree, renaming)
        before(tree, '_listed',
               lambda frame, walk: touch(os.path.join(w, 'after')))
        renames(tmp, ('stage/d', 'w/d'))
        assert reported(tree, w) == [('d', 'MOVED_TO,ISDIR'), ('d', 'MOVED_FROM,ISDIR'),
                          ('e', 'MOVED_TO,ISDIR'), ('e/f', 'CREATE'),
                          ('e/g', 'CREATE'), ('after', 'CREATE')]
        assert_exact(tree, w)


def test_an_exchange_within_a_new_directory_while_it_is_walked_leaves_both_watched(
        tmp):
    # The walk found p/a, then the exchange put it at q/b, where the walk found
    # it again: the exchange's events, applied after, say which is where.
    makedirs(tmp, 'w', 'stage/n/p/a', 'stage/n/q/b/deep')
    touch(os.path.join(tmp, 'stage', 'n', 'q', 'b', 'f'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def exchanging(path):
            if path == os.path.join(w, 'n', 'q'):
                try:
                    exchange(os.path.join(w, 'n', 'q', 'b'),
                             os.path.join(w, 'n', 'p', 'a'))
                except CannotExchange as e:
                    pytest.skip(str(e))
        before_listing(tree, exchanging)
        renames(tmp, ('stage/n', 'w/n'))
        events = [event.path for event in settle(tree, w)]
        assert os.path.join(w, 'n', 'p', 'a', 'f') in events
        assert_exact(tree, w)


def test_what_a_walk_found_has_the_path_it_had_after_renames_of_what_came_to_hold_it(
        tmp):
    makedirs(tmp, 'w/x', 'stage/d')
    touch(os.path.join(tmp, 'stage', 'd', 'f'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def renaming(path):
            if os.path.isdir(os.path.join(w, 'd')):
                renames(tmp, ('w/d', 'w/x/d'), ('w/x', 'w/y'))
        before_listing(tree, renaming)
        renames(tmp, ('stage/d', 'w/d'))
        events = [os.path.relpath(event.path, w) for event in settle(tree, w)]
        assert events == ['d', 'd', 'x/d', 'x', 'y', 'y/d/f']
        assert_exact(tree, w)


def test_a_new_directory_whose_parent_is_renamed_as_it_is_looked_for_is_found(tmp):
    makedirs(tmp, 'w/a')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def renaming(parent, name):
            if os.path.isdir(os.path.join(w, 'a', 'n')):
                renames(tmp, ('w/a', 'w/b'))
        before(tree, 'open_in', renaming)
        makedirs(tmp, 'w/a/n')
        touch(os.path.join(w, 'a', 'n', 'f'))
        events = [os.path.relpath(event.path, w) for event in settle(tree, w)]
        assert events[-1] == 'b/n/f'
        assert_exact(tree, w)


def test_what_a_directory_held_when_it_came_is_reported_before_what_came_after(tmp):
    # Listed late, after a file made beside it: no rename came between, so what
    # it held is reported at once, before that file (as a reader that stops at
    # it expects).
    makedirs(tmp, 'w', 'stage/d')
    touch(os.path.join(tmp, 'stage', 'd', 'f'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def late(path):
            if not os.path.exists(os.path.join(w, 'after')):
                touch(os.path.join(w, 'after'))
        before_listing(tree, late)
        renames(tmp, ('stage/d', 'w/d'))
        assert reported(tree, w) == [('d', 'MOVED_TO,ISDIR'), ('d/f', 'CREATE'),
                          ('after', 'CREATE')]


def test_what_a_directory_held_is_reported_before_what_came_after_its_rename(tmp):
    # Read late: the directory came, was filled, renamed, filled again, and a file
    # was made beside it. It is looked for once its rename is applied; what it
    # held goes just after that rename, before the file beside it.
    makedirs(tmp, 'w')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        makedirs(tmp, 'w/n')
        touch(os.path.join(w, 'n', 'h'))
        renames(tmp, ('w/n', 'w/r'))
        touch(os.path.join(w, 'r', 'k'))
        touch(os.path.join(w, 'after'))
        assert reported(tree, w) == [
            ('n', 'CREATE,ISDIR'), ('n', 'MOVED_FROM,ISDIR'), ('r', 'MOVED_TO,ISDIR'),
            ('r/h', 'CREATE'), ('r/k', 'CREATE'), ('after', 'CREATE')]
        assert_exact(tree, w)


def test_a_new_directory_whose_parent_is_renamed_twice_as_it_is_looked_for_is_found(
        tmp):
    # Each time the tree looks for p/n, p has just been renamed (to q, then back):
    # it looks again as long as renames applied meanwhile may have moved it.
    makedirs(tmp, 'w/p')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        moves = [('w/p', 'w/q'), ('w/q', 'w/p')]

        def renaming(parent, name):
            if name == 'n' and moves:
                renames(tmp, moves.pop(0))
        before(tree, 'open_in', renaming)
        makedirs(tmp, 'w/p/n')
        touch(os.path.join(w, 'p', 'n', 'f'))
        events = [os.path.relpath(event.path, w) for event in settle(tree, w)]
        assert moves == []
        assert events[-1] == 'p/n/f'
        assert_exact(tree, w)


def test_a_file_renamed_over_one_a_walk_listed_is_reported(tmp):
    # Once the new directory is listed, a file is renamed over one it listed: the
    # walk reports the first, the kernel's MOVED_TO the second.
    makedirs(tmp, 'w', 'stage/d', 'out')
    touch(os.path.join(tmp, 'stage', 'd', 'x'))
    touch(os.path.join(tmp, 'out', 'y'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def renaming(frame, walk):
            if frame[2] == os.path.join(w, 'd') + os.sep:
                renames(tmp, ('out/y', 'w/d/x'))
        before(tree, '_listed', renaming)
        renames(tmp, ('stage/d', 'w/d'))
        assert reported(tree, w) == [('d', 'MOVED_TO,ISDIR'), ('d/x', 'CREATE'),
                                     ('d/x', 'MOVED_TO')]


def test_what_walks_find_in_turn_comes_after_what_holds_it(tmp):
    # Read late: n1's walk finds n6 and, in it, r16, a directory known elsewhere,
    # looked for again once the events are applied; what that second walk
    # reports goes after the first walk's CREATE of n6, not before.
    makedirs(tmp, 'w/a/b', 'w/c', 'out')
    w = os.path.join(tmp, 'w')
    with Tree(w) as tree:
        touch(os.path.join(w, 'a', 'b', 'f0'))
        makedirs(tmp, 'w/n1/s1/t')
        shutil.rmtree(os.path.join(w, 'n1', 's1'))
        renames(tmp, ('w/a/b', 'w/a/r4'), ('w/c', 'w/a/r5'))
        makedirs(tmp, 'w/n1/n6')
        renames(tmp, ('w/a/r5', 'w/a/r7'), ('w/a', 'out/o8'), ('out/o8', 'w/a'))
        try:
            exchange(os.path.join(w, 'n1', 'n6'), os.path.join(w, 'a'))
        except CannotExchange as e:
            pytest.skip(str(e))
        renames(tmp, ('w/a', 'w/n1/r14'), ('w/n1/r14', 'out/o15'),
                ('w/n1/n6/r4', 'w/n1/n6/r16'), ('w/n1/n6/r7', 'w/n1/r17'))
        makedirs(tmp, 'w/n1/n6/r16/n18')
        paths = [path for path, _ in reported(tree, w)]
        assert paths.index('n1/n6') < paths.index('n1/n6/r16')
        assert_exact(tree, w)


def test_a_new_directory_renamed_as_it_is_watched_reports_what_it_holds_where_it_is(
        tmp):
    # n is opened, then renamed r and given a file, then watched: no MOVE_SELF
    # says so. The file is reported once, in r, never in n.
    makedirs(tmp, 'w')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def renaming(fd):
            if os.readlink('/proc/self/fd/%d' % fd) == os.path.join(w, 'n'):
                renames(tmp, ('w/n', 'w/r'))
                touch(os.path.join(w, 'r', 'k'))
        before(tree, 'watch', renaming)
        makedirs(tmp, 'w/n')
        paths = [path for path, _ in reported(tree, w)]
        assert [path for path in paths if path.endswith('k')] == ['r/k']
        assert_exact(tree, w)


def test_a_directory_that_left_unmatched_before_an_overflow_is_not_kept(tmp):
    # A, in a new directory N, moves out and back before it is watched, then out
    # for good once watched; then the queue overflows. A left by a MOVED_FROM
    # that nothing matched and no MOVE_SELF follows: the overflow's walk cannot
    # reach it, so it is dropped then, not kept at its old path.
    makedirs(tmp, 'w', 'out')
    w = os.path.join(tmp, 'w')
    size = queue_size()
    done = []

    def acting(path):
        if path == os.path.join(w, 'N', 'A') and not done:
            done.append(renames(tmp, ('w/N/A', 'out/o1'), ('out/o1', 'w/N/A')))
        elif path == os.path.join(w, 'N', 'A', 'D') and len(done) == 1:
            done.append(renames(tmp, ('w/N/A', 'out/A2')))
            overflow(w, size)
        return False
    with Tree(w, exclude=acting) as tree:
        makedirs(tmp, 'w/N/A/D')
        settle(tree, w)
        assert len(done) == 2
        assert_exact(tree, w)


def test_a_directory_watched_after_it_moved_out_and_back_says_nothing_at_its_old_path(
        tmp):
    # As the tree walks a new directory, d4 in it moves out and back (before
    # it is watched), then is renamed d8 (watched by then), then a file is
    # written in it: the file is reported where it is, at w/d8/d5, and never
    # at w/d1/d4/d5. The first move's MOVED_FROM, with no MOVE_SELF, is older
    # than the watch: d4 stays where the walk found it until its own rename.
    makedirs(tmp, 'w', 'out')
    w = os.path.join(tmp, 'w')

    def write(path):
        with open(os.path.join(tmp, path), 'w') as f:
            f.write('x')
    acts = {
        2: lambda: (makedirs(tmp, 'w/d1/d4/d5'),
                    renames(tmp, ('w/d1/d2', 'w/d1/d4/d5/d6'))),
        3: lambda: renames(tmp, ('w/d1/d4', 'out/o7'), ('out/o7', 'w/d1/d4')),
        5: lambda: renames(tmp, ('w/d1/d4', 'w/d8')),
        7: lambda: write('w/d8/d5/f10'),
    }
    asked = []

    def exclude(path):  # stands in for another process, acting as the tree reads
        asked.append(path)
        if len(asked) in acts:
            acts[len(asked)]()
        return False
    with Tree(w, exclude=exclude) as tree:
        makedirs(tmp, 'w/d1/d2/d3')
        renames(tmp, ('w/d1/d2/d3', 'w/d1/d4'))
        paths = [event.path for event in settle(tree, w)]
        assert len(asked) >= 7
        assert set(os.path.relpath(path, w) for path in paths
                   if path.endswith('f10')) == set(['d8/d5/f10'])
        assert_exact(tree, w)


def test_a_directory_moved_out_between_opening_and_watch_then_renamed_is_dropped(
        tmp):
    # X is opened by the first walk, moved out before it is watched (no
    # MOVE_SELF), then renamed outside once watched (a MOVE_SELF): that later
    # rename is not one from its name in the tree, so the older MOVED_FROM is
    # its, and it is no longer watched.
    makedirs(tmp, 'w/D/X', 'out')
    w = os.path.join(tmp, 'w')
    done = []

    def racing(fd):
        if not done and os.readlink('/proc/self/fd/%d' % fd) == os.path.join(
                w, 'D', 'X'):
            done.append(renames(tmp, ('w/D/X', 'out/o')))
    with Tree(None) as tree:
        before(tree, 'watch', racing)
        tree.watch(w)
        touch(os.path.join(w, 'D', 'f1'))  # a change of a name in D after it
        renames(tmp, ('out/o', 'out/p'))
        settle(tree, w)
        assert done
        assert_exact(tree, w)


def test_what_a_walk_finds_below_a_new_directory_comes_after_what_it_holds(tmp):
    # n comes, holding f and s/t. Before s is listed, x is renamed: what s holds
    # is reported once that rename is, and still after the CREATE of s.
    makedirs(tmp, 'w/x', 'stage/n/s/t')
    touch(os.path.join(tmp, 'stage', 'n', 'f'))
    w = os.path.join(tmp, 'w')
    with Tree(w) as tree:
        def renaming(path):
            if path == os.path.join(w, 'n', 's') and os.path.isdir(
                    os.path.join(w, 'x')):
                renames(tmp, ('w/x', 'w/y'))
                touch(os.path.join(w, 'z'))
        before_listing(tree, renaming)
        renames(tmp, ('stage/n', 'w/n'))
        events = tree.read(timeout=WAIT * 1000)  # n last: found at once
        paths = [os.path.relpath(event.path, w) for event in events] + [
            path for path, kinds in reported(tree, w)
            if 'CREATE' in kinds or 'MOVED_TO' in kinds]
        assert paths.index('n') < paths.index('n/s') < paths.index('n/s/t')
        assert paths.index('n/f') < paths.index('n/s/t')
        assert_exact(tree, w)


def test_a_directory_renamed_as_an_overflow_is_walked_then_overflowed_again_is_kept(
        tmp):
    # Between an overflow's drain and its walk, a/x moves to b/x and the queue
    # overflows again. The walk has x at b/x before the rename is applied, whose
    # MOVED_TO then looks like another directory come over it; the second
    # overflow forgets that one, and x must have its name again, watched with
    # what it holds, following renames above it and dropped when it leaves.
    makedirs(tmp, 'w/a/x/s', 'w/b', 'out')
    w = os.path.join(tmp, 'w')
    size = queue_size()
    with Tree(w) as tree:
        def renaming(wd):
            if not os.path.isdir(os.path.join(w, 'b', 'x')):
                renames(tmp, ('w/a/x', 'w/b/x'))
                overflow(w, size)
        before(tree, 'open_top', renaming)
        overflow(w, size)
        settle(tree, w)
        os.mkdir(os.path.join(w, 'new'))
        settle(tree, w)
        assert differences(tree.watches(), kernel_watches(tree.fileno()), w) == []
        os.mkdir(os.path.join(w, 'b', 'x', 's', 'deep'))
        settle(tree, w)
        renames(tmp, ('w/b', 'w/c'))
        touch(os.path.join(w, 'c', 'x', 's', 'deep', 'f'))
        renames(tmp, ('w/c/x', 'out/x'))
        touch(os.path.join(tmp, 'out', 'x', 'secret'))
        paths = [path for path, kinds in reported(tree, w) if 'CREATE' in kinds]
        assert paths == ['c/x/s/deep/f']
        assert_exact(tree, w)


def test_what_a_directory_that_came_back_holds_comes_after_its_coming_back(tmp):
    # c comes and leaves before the tree reads; it is looked for where it was
    # (another may have come unseen), and comes back as it is opened: what it
    # holds is reported after its MOVED_TO, not between its leaving and that.
    makedirs(tmp, 'w', 'stage/c/n/s', 'out')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        def back(parent, name):
            if name == 'c' and not os.path.isdir(os.path.join(w, 'c')):
                renames(tmp, ('out/o', 'w/c'))
        before(tree, 'open_in', back)
        renames(tmp, ('stage/c', 'w/c'), ('w/c', 'out/o'))
        events = reported(tree, w)
        assert events[:2] == [('c', 'MOVED_TO,ISDIR'), ('c', 'MOVED_FROM,ISDIR')]
        assert [path for path, _ in events[2:]] == ['c', 'c/n', 'c/n/s']
        assert_exact(tree, w)


def test_what_a_directory_moved_into_one_being_walked_holds_comes_after_it(tmp):
    # n1 comes, holding n3. As n3 is opened, b (watched, holding f0) moves into
    # n1, then on into n3 as r9. The walk finds r9 in n3 and looks for it again
    # once the renames are applied: its f0 is reported after the CREATE of r9,
    # which waits for those renames.
    makedirs(tmp, 'w/b', 'stage/n1/n3')
    touch(os.path.join(tmp, 'w', 'b', 'f0'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | masks.MOVE) as tree:
        settle(tree, w)

        def moving(parent, name):
            if name == 'n3' and os.path.isdir(os.path.join(w, 'b')):
                renames(tmp, ('w/b', 'w/n1/r7'), ('w/n1/r7', 'w/n1/n3/r9'))
        before(tree, '_open', moving)
        renames(tmp, ('stage/n1', 'w/n1'))
        paths = [path for path, kinds in reported(tree, w) if 'CREATE' in kinds]
        assert paths.index('n1/n3/r9') < paths.index('n1/n3/r9/f0')
        assert_exact(tree, w)


def test_what_a_walk_finds_is_not_held_back_by_a_rename_elsewhere(tmp):
    # d comes; before it is listed, f is made in it and x, elsewhere, renamed: f
    # is reported once, its CREATE before its CLOSE_WRITE (the rename of x has
    # nothing to do with the path of d).
    makedirs(tmp, 'w/x')
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | flags.CLOSE_WRITE | masks.MOVE) as tree:
        def making(path):
            if path == os.path.join(w, 'd') and os.path.isdir(os.path.join(w, 'x')):
                touch(os.path.join(w, 'd', 'f'))
                renames(tmp, ('w/x', 'w/y'))
        before_listing(tree, making)
        os.mkdir(os.path.join(w, 'd'))
        events = reported(tree, w)
        assert [event for event in events if event[0] == 'd/f'] == [
            ('d/f', 'CREATE'), ('d/f', 'CLOSE_WRITE')]
        assert events.index(('d/f', 'CREATE')) < events.index(('x', 'MOVED_FROM,ISDIR'))
        assert_exact(tree, w)


def test_what_a_walk_finds_goes_before_what_happens_to_it_after_the_listing(tmp):
    # d comes holding s; just after d is listed, s is renamed t: the CREATE of
    # d/s goes before its MOVED_FROM, and what s holds is reported at t.
    makedirs(tmp, 'w', 'stage/d/s')
    touch(os.path.join(tmp, 'stage', 'd', 's', 'sf'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.CREATE | flags.DELETE | masks.MOVE) as tree:
        listed = tree._walker.entries

        def entries(fd, all_entries):
            found = listed(fd, all_entries)
            if os.readlink('/proc/self/fd/%d' % fd) == os.path.join(w, 'd') and \
                    os.path.isdir(os.path.join(w, 'd', 's')):
                renames(tmp, ('w/d/s', 'w/t'))
            return found
        tree._walker.entries = entries
        renames(tmp, ('stage/d', 'w/d'))
        events = reported(tree, w)
        assert events.index(('d/s', 'CREATE,ISDIR')) < events.index(
            ('d/s', 'MOVED_FROM,ISDIR'))
        assert [path for path, _ in events if path.endswith('sf')] == ['t/sf']
        assert_exact(tree, w)
