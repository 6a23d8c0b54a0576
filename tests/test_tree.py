"""inotify_simple_tree: a directory tree watched whole, against the real kernel."""
import errno
import os
import select
import signal
import sys
import threading
import time

import pytest

from burst import churn
from conftest import WAIT
from conftest import before
from conftest import in_user_namespace
from conftest import overflow
from conftest import queue_size
from conftest import run_script
from conftest import touch
from inotify_simple import flags
from inotify_simple import masks
from inotify_simple_tree import Tree
from inotify_simple_tree import TreeEvent

CREATE, ISDIR = int(flags.CREATE), int(flags.ISDIR)
FOLLOWED = flags.CREATE | flags.DELETE | masks.MOVE


@pytest.fixture
def tree_of(tmp):
    """``tree_of(mask)``: a Tree of ``tmp/w`` (made), closed after the test."""
    trees = []

    def make(mask=FOLLOWED, **options):
        top = os.path.join(tmp, 'w')
        if not os.path.isdir(top):
            os.mkdir(top)
        trees.append(Tree(top, mask, **options))
        return trees[-1]
    yield make
    for tree in trees:
        tree.close()


def read_until(tree, last, timeout=WAIT):
    """Read ``tree`` until an event about ``last`` (a path) has come: everything
    queued before it has been read then. Returns the events, as (path, flags)."""
    events = []
    deadline = time.time() + timeout
    while not any(path == last for path, _ in events):
        left = deadline - time.time()
        assert left > 0, 'no event about %s in %s s; the last: %r' % (
            last, timeout, events[-5:])
        events += [(e.path, names(e.mask)) for e in tree.read(timeout=left * 1000)]
    return events


def names(mask):
    return ','.join(flag.name for flag in flags.from_mask(mask))


def fence(tree, top, name='fence'):
    """A last file made in the tree, and everything read up to it."""
    path = os.path.join(top, name)
    touch(path)
    return [event for event in read_until(tree, path) if event[0] != path]


def relative(events, top):
    return [(path and os.path.relpath(path, top) + ('/' if path.endswith('/') else
                                                    ''), what)
            for path, what in events]


def directories(tree):
    return sorted(tree.watches().values())


# Watching

def test_every_directory_is_watched_when_it_returns(tmp, tree_of):
    for path in ('w/a/b/c', 'w/a/d', 'w/e'):
        os.makedirs(os.path.join(tmp, path))
    touch(os.path.join(tmp, 'w', 'a', 'f'))
    tree = tree_of()
    w = os.path.join(tmp, 'w')
    assert directories(tree) == sorted(os.path.join(w, p) for p in (
        '', 'a/', 'a/b/', 'a/b/c/', 'a/d/', 'e/'))
    # nothing of its own walk is reported
    assert fence(tree, w) == []


def counts_links(path):
    import inotify_simple_tree
    return inotify_simple_tree._counts_links(os.stat(path).st_dev)


@pytest.mark.parametrize('counted', [True, False], ids=['counted', 'not counted'])
def test_a_directory_holding_no_directory_is_listed_only_where_links_are_not_counted(
        tmp, tree_of, monkeypatch, counted):
    # Where the filesystem counts a directory's links as 2 plus its directories,
    # one with 2 need not be listed to find the directories in it.
    import inotify_simple_tree
    if not counts_links(tmp):
        pytest.skip('%s is on a filesystem that may not count links' % tmp)
    if not counted:
        monkeypatch.setattr(inotify_simple_tree, '_COUNTING', frozenset())
    for path in ('w/a/b/c', 'w/a/d', 'w/e'):
        os.makedirs(os.path.join(tmp, path))
    touch(os.path.join(tmp, 'w', 'a', 'd', 'f'))
    listed = []
    walker = inotify_simple_tree._Walker
    entries = walker.entries
    monkeypatch.setattr(walker, 'entries', lambda self, fd, all_entries: listed.append(
        os.readlink('/proc/self/fd/%d' % fd)) or entries(self, fd, all_entries))
    tree = tree_of()
    w = os.path.join(tmp, 'w')
    assert directories(tree) == sorted(os.path.join(w, p) for p in (
        '', 'a/', 'a/b/', 'a/b/c/', 'a/d/', 'e/'))
    leaves = ['a/b/c', 'a/d', 'e']
    expected = ['.', 'a', 'a/b'] + ([] if counted else leaves)
    assert sorted(listed) == sorted(os.path.realpath(os.path.join(w, p))
                                    for p in expected)
    # One made in it before it was watched is found, by its links.
    made = os.path.join(w, 'e', 'made')
    watch = walker.watch

    def make_first(self, fd):
        if os.readlink('/proc/self/fd/%d' % fd) == os.path.realpath(
                os.path.join(w, 'e')):
            os.mkdir(made)
        return watch(self, fd)
    monkeypatch.setattr(walker, 'watch', make_first)
    tree = tree_of()
    assert made + '/' in directories(tree)
    assert fence(tree, w) == []


def test_an_unknown_device_is_not_taken_to_count_links():
    import inotify_simple_tree
    assert inotify_simple_tree._counts_links(os.makedev(4000, 4000)) is False


def test_a_mount_point_of_any_bytes_does_not_hinder_finding_a_filesystem(
        tmp, monkeypatch):
    # /proc/self/mountinfo escapes only blanks and backslashes in the names of
    # mount points: any other byte comes as it is, in no encoding.
    import inotify_simple_tree
    device = os.stat(tmp).st_dev
    with open('/proc/self/mountinfo', 'rb') as f:
        real = f.read()
    fake = os.path.join(tmp, 'mountinfo')
    with open(fake, 'wb') as f:
        f.write(b'40 1 0:99 / /mnt/\xff\xe9t\xc3\xa9 rw - tmpfs none rw\n' * 500
                + real)
    expected = inotify_simple_tree._counts_links(device)
    monkeypatch.setattr(inotify_simple_tree, '_MOUNTINFO', fake)
    assert inotify_simple_tree._counts_links(device) is expected
    assert inotify_simple_tree._counts_links(os.makedev(0, 99)) is True


def kernel_watches(tree):
    """How many watches the kernel holds for the tree's descriptor."""
    with open('/proc/self/fdinfo/%d' % tree.fileno()) as f:
        return sum(line.startswith('inotify wd:') for line in f)


@pytest.mark.parametrize('newcomer', ['a directory', 'a link'])
def test_a_directory_renamed_while_the_walk_lists_it_is_watched_whole_where_it_went(
        tmp, newcomer, monkeypatch):
    # Once listed, a directory is watched for its reading too, by its path: here
    # that path leads to another directory (or through a link, out of the tree),
    # and the watch of the directory itself is the one changed.
    w = os.path.join(tmp, 'w')
    os.makedirs(os.path.join(w, 'd', 'sub'))
    os.mkdir(os.path.join(tmp, 'outside'))

    import inotify_simple_tree
    entries = inotify_simple_tree._Walker.entries

    def renaming(self, fd, all_entries):
        found = entries(self, fd, all_entries)
        if [name for name, _ in found] == ['sub'] and not os.path.exists(
                os.path.join(w, 'e')):
            os.rename(os.path.join(w, 'd'), os.path.join(w, 'e'))
            if newcomer == 'a directory':
                os.mkdir(os.path.join(w, 'd'))
            else:
                os.symlink(os.path.join(tmp, 'outside'), os.path.join(w, 'd'))
        return found
    monkeypatch.setattr(inotify_simple_tree._Walker, 'entries', renaming)
    with Tree(w, masks.ALL_EVENTS) as tree:
        fence(tree, w)
        assert directories(tree) == sorted(os.path.join(w, p) for p in (
            ['', 'e/', 'e/sub/'] + (['d/'] if newcomer == 'a directory' else [])))
        assert kernel_watches(tree) == len(tree.watches())  # none left over
        os.listdir(os.path.join(w, 'e', 'sub'))
        os.listdir(os.path.join(w, 'e'))
        os.listdir(os.path.join(tmp, 'outside'))
        events = relative(fence(tree, w, 'fence2'), w)
        for path in ('e/', 'e/sub/', 'e/sub'):
            assert (path, 'OPEN,ISDIR') in events
            assert (path, 'CLOSE_NOWRITE,ISDIR') in events
        assert not [path for path, _ in events if 'outside' in path]


def test_events_carry_the_kernel_s_fields_and_the_path(tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'a'))
    tree = tree_of(masks.ALL_EVENTS)
    w = os.path.join(tmp, 'w')
    touch(os.path.join(w, 'a', 'f'))
    event = tree.read(timeout=WAIT * 1000)[0]
    assert isinstance(event, TreeEvent) and event._fields == (
        'wd', 'mask', 'cookie', 'name', 'path')
    assert (event.mask, event.cookie, event.name, event.path) == (
        CREATE, 0, 'f', os.path.join(w, 'a', 'f'))
    assert event.wd == [wd for wd, path in tree.watches().items()
                        if path == os.path.join(w, 'a') + '/'][0]
    os.utime(os.path.join(w, 'a'), None)  # of the directory itself
    events = read_until(tree, os.path.join(w, 'a') + '/')
    assert (os.path.join(w, 'a') + '/', 'ATTRIB,ISDIR') in events


def test_bytes_give_bytes_and_types_are_not_mixed(tmp):
    top = os.path.join(tmp, 'w').encode()
    odd = b'caf\xe9'  # not UTF-8
    os.makedirs(os.path.join(top, odd))
    with Tree(top, flags.CREATE) as tree:
        touch(os.path.join(top, odd, b'f'))
        event, = tree.read(timeout=WAIT * 1000)
        assert (event.name, event.path) == (b'f', os.path.join(top, odd, b'f'))
        if sys.version_info[0] >= 3:
            with pytest.raises(TypeError, match='one type'):
                tree.watch(tmp)


@pytest.mark.skipif(sys.version_info < (3, 6), reason='os.PathLike is 3.6+')
def test_a_path_like_is_taken_as_its_str(tmp):
    import pathlib
    os.mkdir(os.path.join(tmp, 'w'))
    with Tree(pathlib.Path(tmp) / 'w', flags.CREATE) as tree:
        assert directories(tree) == [os.path.join(tmp, 'w') + '/']


@pytest.mark.parametrize('path', [5, 1.5, ['w'], object()],
                         ids=['int', 'float', 'list', 'object'])
def test_what_is_not_a_path_is_refused_with_a_type_error_naming_it(tmp, path):
    before = len(os.listdir('/proc/self/fd'))
    with pytest.raises(TypeError) as error:
        Tree(path)
    assert type(path).__name__ in str(error.value)
    assert len(os.listdir('/proc/self/fd')) == before  # its descriptor closed


def test_a_file_is_watched_as_a_file_and_a_link_at_the_top_is_followed(tmp):
    os.makedirs(os.path.join(tmp, 'real', 'sub'))
    touch(os.path.join(tmp, 'file'))
    os.symlink('real', os.path.join(tmp, 'link'))
    with Tree(os.path.join(tmp, 'link'), flags.CREATE | flags.ATTRIB) as tree:
        wd = tree.watch(os.path.join(tmp, 'file'))
        assert tree.watches()[wd] == os.path.join(tmp, 'file')
        assert directories(tree) == sorted([os.path.join(tmp, 'file')] + [
            os.path.join(tmp, 'link', p) for p in ('', 'sub/')])
        os.utime(os.path.join(tmp, 'file'), None)
        touch(os.path.join(tmp, 'real', 'sub', 'f'))
        events = read_until(tree, os.path.join(tmp, 'link', 'sub', 'f'))
        assert events == [(os.path.join(tmp, 'file'), 'ATTRIB'),
                          (os.path.join(tmp, 'link', 'sub', 'f'), 'CREATE')]


def test_a_link_below_the_top_is_never_followed(tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'outside', 'deep'))
    os.makedirs(os.path.join(tmp, 'w'))
    os.symlink('../outside', os.path.join(tmp, 'w', 'old'))
    tree = tree_of()
    w = os.path.join(tmp, 'w')
    os.symlink('../outside', os.path.join(w, 'new'))
    assert fence(tree, w) == [(os.path.join(w, 'new'), 'CREATE')]
    assert directories(tree) == [w + '/']


def test_what_may_not_be_watched_is_refused_with_the_kernel_s_errno(tmp):
    with pytest.raises(OSError) as error:
        Tree(os.path.join(tmp, 'nosuch'))
    assert error.value.errno == errno.ENOENT
    for mask in (0, -1, 2 ** 32):
        with pytest.raises(ValueError, match='mask'):
            Tree(tmp, mask)
    with pytest.raises(TypeError):
        Tree(tmp, 1.5)


def test_the_watch_limit_is_refused_in_the_library_s_words(tmp):
    for i in range(4):
        os.makedirs(os.path.join(tmp, 'w', str(i)))

    def watch():
        before = sorted(os.listdir('/proc/self/fd'))
        try:
            Tree(os.path.join(tmp, 'w'))
        except OSError as e:
            return e.errno, str(e), sorted(os.listdir('/proc/self/fd')) == before
    code, message, nothing_left = in_user_namespace(watch, max_inotify_watches=3)
    assert code == errno.ENOSPC and 'max_inotify_watches' in message, message
    assert nothing_left


# New directories

def test_a_new_directory_is_reported_with_what_it_holds_each_file_once(tmp, tree_of):
    outside = os.path.join(tmp, 'outside')
    os.makedirs(os.path.join(outside, 'a', 'b'))
    touch(os.path.join(outside, 'a', 'f'))
    touch(os.path.join(outside, 'a', 'b', 'g'))
    tree = tree_of()
    w = os.path.join(tmp, 'w')
    os.rename(os.path.join(outside, 'a'), os.path.join(w, 'a'))
    touch(os.path.join(w, 'a', 'b', 'late'))  # in the listing, or after it
    events = relative(fence(tree, w), w)
    assert [e for e in events if e[0] != 'a/b/late'] == [
        ('a', 'MOVED_TO,ISDIR'), ('a/b', 'CREATE,ISDIR'), ('a/b/g', 'CREATE'),
        ('a/f', 'CREATE')]
    assert events.count(('a/b/late', 'CREATE')) == 1
    assert directories(tree) == [w + '/', w + '/a/', w + '/a/b/']


def test_every_file_made_in_new_trees_is_reported_once(tmp, tree_of):
    tree = tree_of(flags.CREATE)
    w = os.path.join(tmp, 'w')
    made = []
    for top in range(5):
        deepest = os.path.join(w, 't%d' % top, 'l1', 'l2')
        os.makedirs(deepest)
        for level in (deepest, os.path.dirname(deepest)):
            for i in range(40):
                made.append(os.path.join(level, 'f%02d' % i))
                touch(made[-1])
    reported = [path for path, what in fence(tree, w) if what == 'CREATE']
    assert sorted(reported) == sorted(made)


def test_its_own_reading_is_not_reported_but_others_reading_is(tmp, tree_of):
    tree = tree_of(masks.ALL_EVENTS)
    w = os.path.join(tmp, 'w')
    os.mkdir(os.path.join(w, 'new'))
    touch(os.path.join(w, 'new', 'f'))
    events = relative(fence(tree, w), w)
    assert [e for e in events if e[1] in ('CREATE,ISDIR', 'CREATE')][:2] == [
        ('new', 'CREATE,ISDIR'), ('new/f', 'CREATE')]
    assert not [e for e in events if 'ISDIR' in e[1] and e[1] != 'CREATE,ISDIR']
    os.listdir(os.path.join(w, 'new'))
    events = relative(fence(tree, w, 'fence2'), w)
    assert ('new', 'OPEN,ISDIR') in events and ('new/', 'OPEN,ISDIR') in events


def test_a_burst_is_read_a_piece_at_a_time_and_a_walk_drains_all_of_its_own(
        tmp, tree_of):
    # The tree reads the kernel's queue a piece at a time; but while it walks, it
    # takes all of it, so that none of the walk's own reading is left behind it.
    import inotify_simple_tree
    tree = tree_of(masks.ALL_EVENTS)
    w = os.path.join(tmp, 'w')
    for i in range(2000):  # each a CREATE, an OPEN and a CLOSE_WRITE
        touch(os.path.join(w, 'f%04d' % i))
    assert queued(tree) > 2 * inotify_simple_tree._PIECE
    first = tree.read(timeout=0)
    assert 0 < len(first) < 2000 and queued(tree) > 0
    other = os.path.join(tmp, 'other')
    for i in range(300):  # past the walk's first drain
        os.makedirs(os.path.join(other, '%03d' % i, 'below'))
    for i in range(300):
        touch(os.path.join(w, 'g%04d' % i))
    tree.watch(other)
    events = [(e.path, names(e.mask)) for e in first] + fence(tree, w)
    created = [path for path, what in events if what == 'CREATE']
    assert created == [os.path.join(w, 'f%04d' % i) for i in range(2000)] + [
        os.path.join(w, 'g%04d' % i) for i in range(300)]
    assert not [path for path, _ in events if path.startswith(other)]


def queued(tree):
    """How many bytes of events the kernel holds for the tree."""
    import fcntl
    import struct
    import termios
    return struct.unpack('i', fcntl.ioctl(tree.fileno(), termios.FIONREAD,
                                          b'\0' * 4))[0]


def test_a_directory_moved_within_keeps_its_watches_and_one_moved_out_is_dropped(
        tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'a', 'deep'))
    os.makedirs(os.path.join(tmp, 'w', 'c'))
    tree = tree_of(FOLLOWED | flags.MOVE_SELF)
    w = os.path.join(tmp, 'w')
    before = dict((path, wd) for wd, path in tree.watches().items())
    os.rename(os.path.join(w, 'a'), os.path.join(w, 'c', 'moved'))
    touch(os.path.join(w, 'c', 'moved', 'deep', 'f'))
    assert relative(fence(tree, w), w) == [
        ('a', 'MOVED_FROM,ISDIR'), ('c/moved', 'MOVED_TO,ISDIR'),
        ('c/moved/', 'MOVE_SELF'), ('c/moved/deep/f', 'CREATE')]
    after = dict((path, wd) for wd, path in tree.watches().items())
    assert after[w + '/c/moved/deep/'] == before[w + '/a/deep/']
    os.rename(os.path.join(w, 'c', 'moved'), os.path.join(tmp, 'out'))
    touch(os.path.join(tmp, 'out', 'deep', 'g'))
    # the IGNORED of the watches it removed are not returned
    assert relative(fence(tree, w, 'fence2'), w) == [
        ('c/moved', 'MOVED_FROM,ISDIR'), ('c/moved/', 'MOVE_SELF')]
    assert directories(tree) == [w + '/', w + '/c/']


def test_an_excluded_directory_is_not_watched_even_when_made_again(tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'skip', 'below'))
    os.makedirs(os.path.join(tmp, 'w', 'keep'))
    w = os.path.join(tmp, 'w')
    asked = []

    def exclude(path):
        asked.append(path)
        return path == os.path.join(w, 'skip')
    tree = tree_of(exclude=exclude)
    assert directories(tree) == [w + '/', w + '/keep/']
    assert sorted(asked) == [w + '/keep', w + '/skip']
    os.rmdir(os.path.join(w, 'skip', 'below'))
    os.rmdir(os.path.join(w, 'skip'))
    os.makedirs(os.path.join(w, 'skip', 'again'))
    assert relative(fence(tree, w), w) == [('skip', 'DELETE,ISDIR'),
                                           ('skip', 'CREATE,ISDIR')]
    assert directories(tree) == [w + '/', w + '/keep/']


def test_after_an_overflow_the_trees_are_walked_again(tmp, tree_of):
    size = queue_size()
    tree = tree_of(flags.CREATE)
    w = os.path.join(tmp, 'w')
    overflow(w, size)
    os.makedirs(os.path.join(w, 'new', 'sub'))  # lost in the overflow
    touch(os.path.join(w, 'new', 'sub', 'f'))
    events = relative(read_until(tree, os.path.join(w, 'new', 'sub', 'f')), w)
    assert events[-4:] == [('', 'Q_OVERFLOW'), ('new', 'CREATE,ISDIR'),
                           ('new/sub', 'CREATE,ISDIR'), ('new/sub/f', 'CREATE')]
    assert directories(tree) == [w + '/', w + '/new/', w + '/new/sub/']


def test_the_watch_limit_met_later_goes_to_onerror_or_is_raised(tmp):
    def follow(onerror):
        os.makedirs(os.path.join(tmp, 'w'))
        tree = Tree(os.path.join(tmp, 'w'), flags.CREATE, onerror=onerror)
        os.mkdir(os.path.join(tmp, 'w', 'a'))
        os.mkdir(os.path.join(tmp, 'w', 'b'))
        got = []
        try:
            for _ in range(3):
                try:
                    got += [e.name for e in tree.read(timeout=1000)]
                except OSError as e:
                    got.append((e.errno, e.filename))
        finally:
            tree.close()
            os.rmdir(os.path.join(tmp, 'w', 'a'))
            os.rmdir(os.path.join(tmp, 'w', 'b'))
            os.rmdir(os.path.join(tmp, 'w'))
        return got
    b = os.path.join(tmp, 'w', 'b')
    # The one watch left takes a; b cannot be watched: the error comes first,
    # then the events handled before it.
    assert in_user_namespace(lambda: follow(None), max_inotify_watches=2) == [
        (errno.ENOSPC, b), 'a', 'b']
    errors = []

    def collected():
        follow(errors.append)
        return [(e.errno, e.filename) for e in errors]
    assert in_user_namespace(collected, max_inotify_watches=2) == [
        (errno.ENOSPC, b)]


# The file object

def test_it_is_a_file_object_for_select_and_with(tmp):
    os.mkdir(os.path.join(tmp, 'w'))
    with Tree(os.path.join(tmp, 'w'), flags.CREATE) as tree:
        assert select.select([tree], [], [], 0)[0] == []
        touch(os.path.join(tmp, 'w', 'f'))
        assert select.select([tree], [], [], WAIT)[0] == [tree]
        assert [e.name for e in tree.read(timeout=0)] == ['f']
        assert 'fd=%d' % tree.fileno() in repr(tree)
    assert tree.closed
    with pytest.raises(ValueError):
        tree.read(timeout=0)
    tree.close()  # again: nothing


def test_close_from_another_thread_wakes_a_blocked_read(tmp):
    os.mkdir(os.path.join(tmp, 'w'))
    tree = Tree(os.path.join(tmp, 'w'))
    got = []
    reader = threading.Thread(target=lambda: got.append(tree.read()))
    reader.start()
    time.sleep(0.2)  # let it block, if it can; it must return either way
    tree.close()
    reader.join(WAIT)
    assert not reader.is_alive() and got == [[]]


def test_what_it_only_follows_by_neither_ends_nor_restarts_a_wait(tmp, tree_of):
    tree = tree_of(flags.MODIFY)
    w = os.path.join(tmp, 'w')
    stop = []

    def make():
        i = 0
        while not stop:
            os.mkdir(os.path.join(w, str(i)))
            i += 1
            time.sleep(0.05)
    maker = threading.Thread(target=make)
    maker.start()
    try:
        start = time.time()
        assert tree.read(timeout=500) == []
        assert time.time() - start < WAIT  # a wide bound: the wait was not restarted
    finally:
        stop.append(True)
        maker.join()


def test_threads_read_at_once_and_each_event_goes_to_one(tmp, tree_of):
    tree = tree_of(flags.CREATE)
    w = os.path.join(tmp, 'w')
    got = []

    def read():
        while True:
            events = tree.read(timeout=2000)
            if not events:
                return
            got.extend(e.path for e in events)
    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    made = []
    for d in range(20):
        os.mkdir(os.path.join(w, str(d)))
        made.append(os.path.join(w, str(d)))
        for i in range(10):
            made.append(os.path.join(w, str(d), str(i)))
            touch(made[-1])
    for reader in readers:
        reader.join(WAIT * 2)
    assert sorted(got) == sorted(made)


def test_a_child_reads_its_copy_even_if_forked_while_a_thread_reads(tmp):
    code = '''
import os, sys, threading, time, warnings
from inotify_simple_tree import Tree
warnings.filterwarnings('ignore', '.*multi-threaded.*fork', DeprecationWarning)
os.mkdir(%(w)r)
tree = Tree(%(w)r)
reader = threading.Thread(target=tree.read)
reader.daemon = True
reader.start()
time.sleep(0.2)
pid = os.fork()
if pid == 0:
    tree.read(timeout=0)  # the parent's reader holds no lock of the child's
    tree.watch(%(w)r)
    os._exit(0)
_, status = os.waitpid(pid, 0)
tree.close()
reader.join()
print(status)
''' % {'w': os.path.join(tmp, 'w')}
    assert run_script(code) == (0, '0\n', '')


@pytest.mark.skipif(not hasattr(signal, 'setitimer'), reason='no setitimer')
def test_a_read_from_a_handler_that_interrupted_a_read_raises(tmp):
    code = '''
import os, signal, sys
from inotify_simple_tree import Tree
os.mkdir(%(w)r)
tree = Tree(%(w)r)
def handler(signum, frame):
    try:
        tree.read(timeout=0)
    except RuntimeError as e:
        print('RuntimeError')
        tree.close()
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.2)
print(tree.read())
''' % {'w': os.path.join(tmp, 'w')}
    assert run_script(code) == (0, 'RuntimeError\n[]\n', '')


# Races, made to strike every time by a step of the tree's own

NEWCOMERS = {'a directory': lambda w: (os.mkdir(os.path.join(w, 'd')),
                                       touch(os.path.join(w, 'd', 'g'))),
             'a link': lambda w: os.symlink('../target', os.path.join(w, 'd'))}


def race(tmp, tree, hook, newcomer):
    """stage/d, holding f, is moved into w; ``hook`` of the tree renames it to e
    and puts ``newcomer`` in its place. Returns what is reported, sorted."""
    w = os.path.join(tmp, 'w')
    for path in ('target', 'stage/d'):
        os.makedirs(os.path.join(tmp, path))
    touch(os.path.join(tmp, 'target', 'secret'))
    touch(os.path.join(tmp, 'stage', 'd', 'f'))
    def swapping(*args):
        if os.path.isdir(os.path.join(w, 'd')) and not os.path.exists(
                os.path.join(w, 'e')):
            os.rename(os.path.join(w, 'd'), os.path.join(w, 'e'))
            NEWCOMERS[newcomer](w)
    before(tree, hook, swapping)
    os.rename(os.path.join(tmp, 'stage', 'd'), os.path.join(w, 'd'))
    events = read_until(tree, os.path.join(w, 'e'))
    touch(os.path.join(w, 'e', 'late'))
    touch(os.path.join(tmp, 'target', 'late'))
    events = relative(events + read_until(tree, os.path.join(w, 'e', 'late')) +
                      fence(tree, w), w)
    assert not [path for path, _ in events if 'secret' in path or 'target' in path]
    assert os.path.join(w, 'd') + '/' not in directories(tree) or \
        newcomer == 'a directory'
    return sorted(set(events)), events


def expected_after_race(newcomer):
    return sorted([('d', 'MOVED_TO,ISDIR'), ('e', 'MOVED_TO,ISDIR'),
                   ('d', 'MOVED_FROM,ISDIR'), ('e/f', 'CREATE'),
                   ('e/late', 'CREATE')] + (
        [('d', 'CREATE,ISDIR'), ('d/g', 'CREATE')] if newcomer == 'a directory'
        else [('d', 'CREATE')]))


# The step the race strikes before: the listing of the new directory (it is
# renamed once watched), or its opening (its name is taken before it is opened).
STEPS = {'listed': 'entries', 'opened': 'open_in'}


@pytest.mark.parametrize('newcomer', sorted(NEWCOMERS))
@pytest.mark.parametrize('before', sorted(STEPS))
def test_a_new_directory_renamed_and_its_name_taken_is_reported_where_it_went(
        tmp, tree_of, newcomer, before):
    # Another directory, or a link to one outside the tree, takes its name: that
    # one is reported as new, a link unfollowed; the first, once, where it went.
    tree = tree_of(flags.CREATE | masks.MOVE)
    got, events = race(tmp, tree, STEPS[before], newcomer)
    assert got == expected_after_race(newcomer)
    assert len(events) == len(got)  # each once


def test_a_directory_moved_on_out_before_it_is_looked_for_is_dropped(tmp, tree_of):
    # It came from outside; as the tree looks for it, it has moved on, out.
    os.makedirs(os.path.join(tmp, 'stage', 'b'))
    os.makedirs(os.path.join(tmp, 'out'))
    tree = tree_of(flags.CREATE | masks.MOVE)
    w = os.path.join(tmp, 'w')
    def moving_on(parent, name):
        if name == 'b' and os.path.exists(os.path.join(w, 'b')):
            os.rename(os.path.join(w, 'b'), os.path.join(tmp, 'out', 'b'))
    before(tree, 'open_in', moving_on)
    os.rename(os.path.join(tmp, 'stage', 'b'), os.path.join(w, 'b'))
    events = read_until(tree, os.path.join(w, 'b'))
    touch(os.path.join(tmp, 'out', 'b', 'late'))
    assert relative(events + fence(tree, w), w) == [
        ('b', 'MOVED_TO,ISDIR'), ('b', 'MOVED_FROM,ISDIR')]
    assert directories(tree) == [w + '/']


def test_a_directory_renamed_then_moved_out_before_the_tree_reads_is_dropped(
        tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'a', 'x'))
    os.makedirs(os.path.join(tmp, 'out'))
    tree = tree_of(flags.CREATE | masks.MOVE)
    w = os.path.join(tmp, 'w')
    os.rename(os.path.join(w, 'a'), os.path.join(w, 'b'))
    os.rename(os.path.join(w, 'b'), os.path.join(tmp, 'out', 'b'))
    touch(os.path.join(tmp, 'out', 'b', 'x', 'late'))
    assert relative(fence(tree, w), w) == [
        ('a', 'MOVED_FROM,ISDIR'), ('b', 'MOVED_TO,ISDIR'), ('b', 'MOVED_FROM,ISDIR')]
    assert directories(tree) == [w + '/']
    assert kernel_watches(tree) == 1


# Nothing missed

def assert_nothing_missed(reported, expected, held):
    counts = {}
    for path in reported:
        counts[path] = counts.get(path, 0) + 1
    assert [path for path in counts if path not in held] == []  # never held it
    assert [(paths[0], [counts.get(path, 0) for path in paths])
            for paths in expected.values()
            if sum(counts.get(path, 0) for path in paths) != 1] == []  # once


def test_events_are_handled_in_order_around_those_that_are_not_plain(tmp, tree_of):
    # Runs of plain events are made into TreeEvents at once; an event of a watch
    # it does not know, or one that may change the watches, is handled alone.
    from inotify_simple import Event
    w = os.path.join(tmp, 'w')
    os.makedirs(os.path.join(w, 'd'))
    tree = tree_of()
    top = [wd for wd, path in tree.watches().items() if path == w + '/'][0]
    mkdir, create = int(flags.CREATE | flags.ISDIR), int(flags.CREATE)
    tree._todo.extend([Event(top, create, 0, 'a'), Event(top + 1000, create, 0, 'x'),
                       Event(top, create, 0, 'b'), Event(top, mkdir, 0, 'd'),
                       Event(top, create, 0, 'c')] +
                      [Event(top, create, 0, 'f%d' % i) for i in range(5000)])
    got = []
    while len(got) < 5004:
        got += [(e.name, e.mask) for e in tree.read(timeout=WAIT * 1000)]
    assert got[:4] == [('a', create), ('b', create), ('d', mkdir), ('c', create)]
    assert got[4:] == [('f%d' % i, create) for i in range(5000)]
    assert fence(tree, w) == []


@pytest.mark.parametrize('as_bytes', [True, False], ids=['bytes', 'str'])
def test_a_run_of_events_keeps_every_name_and_path_and_only_what_was_asked(
        tmp, as_bytes):
    # A run of plain events is made into TreeEvents at once: names of every kind
    # (not UTF-8 included), empty ones (a file watched alone), and between them
    # events that the tree only follows by (a file's MOVED_FROM and MOVED_TO).
    if not as_bytes and sys.version_info[0] < 3:
        pytest.skip('Python 2.7: a tree\'s paths are bytes')
    top, lone = os.path.join(tmp, 'w').encode(), os.path.join(tmp, 'lone').encode()
    os.mkdir(top)
    touch(lone)
    names = [b'plain', b'caf\xc3\xa9', b'caf\xe9', b'x' * 40, b'end']
    if not as_bytes:
        decode = lambda path: path.decode(sys.getfilesystemencoding(),
                                          'surrogateescape')
        top, lone, names = decode(top), decode(lone), [decode(n) for n in names]
    with Tree(top, flags.CREATE | flags.ATTRIB) as tree:
        tree.watch(lone)
        for name in names:
            touch(os.path.join(top, name))
            os.rename(os.path.join(top, name), os.path.join(top, name * 2))
            os.utime(lone, None)
        got = []  # all queued already: the kernel queues as each call returns
        deadline = time.time() + WAIT
        while len(got) < 2 * len(names) and time.time() < deadline:
            got += [(e.name, os.path.basename(e.path), e.mask)
                    for e in tree.read(timeout=WAIT * 1000)]
    expected = []
    for name in names:
        expected += [(name, name, int(flags.CREATE)),
                     (name[:0], os.path.basename(lone), int(flags.ATTRIB))]
    assert got == expected
    assert all(type(e[0]) is type(top) for e in got)


def test_nothing_is_missed_in_a_burst(tmp, tree_of):
    os.mkdir(os.path.join(tmp, 'outside'))
    tree = tree_of(flags.CREATE)
    w = os.path.join(tmp, 'w')
    expected, held = churn(w, os.path.join(tmp, 'outside'))
    events = [(path, what) for path, what in fence(tree, w) if what == 'CREATE']
    assert_nothing_missed([path for path, _ in events], expected, held)


def test_nothing_is_missed_in_a_burst_by_the_command_line(tmp):
    from conftest import python_env
    import subprocess
    w = os.path.join(tmp, 'w')
    os.mkdir(w)
    os.mkdir(os.path.join(tmp, 'outside'))
    command = subprocess.Popen(
        [sys.executable, '-m', 'inotify_simple', '-m', '-r', '-e', 'create', w],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_env())
    try:
        while b'Watches established.' not in command.stderr.readline():
            assert command.poll() is None, command.stderr.read()
        expected, held = churn(w, os.path.join(tmp, 'outside'))
        touch(os.path.join(w, 'fence'))
        lines = []
        deadline = time.time() + WAIT
        while not lines or lines[-1] != w + '/ CREATE fence':
            assert time.time() < deadline, lines[-5:]
            lines.append(command.stdout.readline().decode().rstrip('\n'))
    finally:
        command.kill()
        command.wait()
        command.stdout.close()
        command.stderr.close()
    reported = [directory + name for directory, what, name in
                (line.split(' ', 2) for line in lines[:-1]) if what == 'CREATE']
    assert_nothing_missed(reported, expected, held)


# Found by attacking it

def test_a_new_directory_whose_parents_moved_before_it_is_handled_is_found(
        tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'x', 'a'))
    tree = tree_of(flags.CREATE | masks.MOVE)
    w = os.path.join(tmp, 'w')
    os.mkdir(os.path.join(w, 'x', 'a', 'new'))
    touch(os.path.join(w, 'x', 'a', 'new', 'f'))
    os.rename(os.path.join(w, 'x', 'a'), os.path.join(w, 'x', 'b'))
    os.rename(os.path.join(w, 'x'), os.path.join(w, 'y'))
    events = relative(fence(tree, w), w)
    assert events[-1] == ('y/b/new/f', 'CREATE')
    assert w + '/y/b/new/' in directories(tree)


def test_what_is_queued_of_a_directory_moved_out_and_removed_is_dropped(
        tmp, tree_of):
    os.makedirs(os.path.join(tmp, 'w', 'a'))
    os.mkdir(os.path.join(tmp, 'out'))
    tree = tree_of(masks.ALL_EVENTS)
    w = os.path.join(tmp, 'w')
    os.rename(os.path.join(w, 'a'), os.path.join(tmp, 'out', 'a'))
    os.mkdir(os.path.join(tmp, 'out', 'a', 'y'))
    touch(os.path.join(tmp, 'out', 'a', 'f'))
    os.remove(os.path.join(tmp, 'out', 'a', 'f'))
    os.rmdir(os.path.join(tmp, 'out', 'a', 'y'))
    os.rmdir(os.path.join(tmp, 'out', 'a'))
    events = fence(tree, w)
    assert [path for path, _ in events if not path.startswith(w)] == []


def test_close_during_a_walk_leaves_nothing_open(tmp):
    for i in range(50):
        os.makedirs(os.path.join(tmp, 'big', str(i), 'sub'))
    os.mkdir(os.path.join(tmp, 'w'))
    for _ in range(5):
        tree = Tree(os.path.join(tmp, 'w'))
        closer = threading.Timer(0.001, tree.close)
        closer.start()
        try:
            tree.watch(os.path.join(tmp, 'big'))
        except ValueError:  # closed: the descriptors it had open are closed too
            pass
        closer.join()
        tree.close()
    with pytest.raises(ValueError):
        tree.watch(os.path.join(tmp, 'big'))


def test_watching_what_is_watched_gives_its_wd_and_keeps_it_followed(tmp):
    os.makedirs(os.path.join(tmp, 'w', 'sub', 'deep'))
    w = os.path.join(tmp, 'w')
    with Tree(w, flags.MODIFY) as tree:
        wds = dict((path, wd) for wd, path in tree.watches().items())
        assert tree.watch(os.path.join(w, 'sub')) == wds[w + '/sub/']
        assert tree.watch(w, recursive=False) == wds[w + '/']
        os.mkdir(os.path.join(w, 'new'))  # still followed: its mask is whole
        deadline = time.time() + WAIT
        while w + '/new/' not in directories(tree):
            assert time.time() < deadline
            assert tree.read(timeout=100) == []
        touch(os.path.join(w, 'new', 'f'), b'x')
        assert [e.path for e in tree.read(timeout=WAIT * 1000)] == [
            os.path.join(w, 'new', 'f')]
    with Tree(os.path.join(tmp, 'w', 'sub'), flags.CREATE) as tree:
        tree.watch(w, recursive=False)
        tree.watch(w)  # now as a tree: what is below it is watched
        assert directories(tree) == sorted(
            [w + '/', w + '/new/', w + '/sub/', w + '/sub/deep/'])
