"""inotify(7) semantics: each flag raised by the real file operation behind it."""
import os
import subprocess

import pytest

from conftest import fence
from conftest import has
from conftest import kernel_at_least
from conftest import read_until
from conftest import touch
from inotify_simple import INotify
from inotify_simple import flags
from inotify_simple import masks


def names_and_flags(events):
    return [(e.name, flags.from_mask(e.mask)) for e in events]


@pytest.fixture
def file(tmp):
    path = os.path.join(tmp, 'f')
    touch(path, b'data')
    return path


def test_access(inotify, tmp, file):
    inotify.add_watch(tmp, flags.ACCESS)
    with open(file, 'rb') as f:
        f.read()
    assert names_and_flags(fence(inotify, tmp)) == [('f', [flags.ACCESS])]


def test_modify(inotify, tmp, file):
    wd = inotify.add_watch(file, flags.MODIFY)
    with open(file, 'ab') as f:
        f.write(b'more')
    assert fence(inotify, tmp) == [(wd, flags.MODIFY, 0, '')]


def test_attrib(inotify, tmp, file):
    wd = inotify.add_watch(file, flags.ATTRIB)
    os.chmod(file, 0o600)
    assert fence(inotify, tmp) == [(wd, flags.ATTRIB, 0, '')]


def test_close_write_and_close_nowrite(inotify, tmp, file):
    inotify.add_watch(tmp, masks.CLOSE)
    open(file, 'ab').close()
    open(file, 'rb').close()
    assert names_and_flags(fence(inotify, tmp)) == [('f', [flags.CLOSE_WRITE]),
                                                    ('f', [flags.CLOSE_NOWRITE])]


def test_open(inotify, tmp, file):
    inotify.add_watch(tmp, flags.OPEN)
    open(file, 'rb').close()
    assert names_and_flags(fence(inotify, tmp)) == [('f', [flags.OPEN])]


def test_a_move_inside_a_directory_pairs_moved_from_and_to_by_cookie(inotify, tmp,
                                                                      file):
    inotify.add_watch(tmp, masks.MOVE)
    os.rename(file, os.path.join(tmp, 'g'))
    moved_from, moved_to = fence(inotify, tmp)
    assert (moved_from.name, moved_from.mask) == ('f', flags.MOVED_FROM)
    assert (moved_to.name, moved_to.mask) == ('g', flags.MOVED_TO)
    assert moved_from.cookie == moved_to.cookie != 0


def test_a_move_between_directories_pairs_by_cookie_too(inotify, tmp, file):
    other = os.path.join(tmp, 'other')
    os.mkdir(other)
    source = inotify.add_watch(tmp, flags.MOVED_FROM)
    target = inotify.add_watch(other, flags.MOVED_TO)
    os.rename(file, os.path.join(other, 'g'))
    os.rename(os.path.join(other, 'g'), file)  # a second move: another cookie
    moved_from, moved_to = fence(inotify, tmp)
    assert moved_from[:2] == (source, flags.MOVED_FROM)
    assert moved_to[:2] == (target, flags.MOVED_TO)
    assert moved_from.cookie == moved_to.cookie != 0


def test_create_delete_and_isdir(inotify, tmp):
    inotify.add_watch(tmp, flags.CREATE | flags.DELETE)
    touch(os.path.join(tmp, 'f'))
    os.mkdir(os.path.join(tmp, 'd'))
    os.remove(os.path.join(tmp, 'f'))
    os.rmdir(os.path.join(tmp, 'd'))
    assert names_and_flags(fence(inotify, tmp)) == [
        ('f', [flags.CREATE]), ('d', [flags.CREATE, flags.ISDIR]),
        ('f', [flags.DELETE]), ('d', [flags.DELETE, flags.ISDIR])]


def test_delete_self_then_ignored(inotify, tmp, file):
    wd = inotify.add_watch(file, flags.DELETE_SELF)
    os.remove(file)
    assert fence(inotify, tmp) == [(wd, flags.DELETE_SELF, 0, ''),
                                   (wd, flags.IGNORED, 0, '')]


def test_move_self(inotify, tmp, file):
    wd = inotify.add_watch(file, flags.MOVE_SELF)
    os.rename(file, file + '.moved')
    assert fence(inotify, tmp) == [(wd, flags.MOVE_SELF, 0, '')]


def test_unmount_then_ignored(inotify, tmp):
    mount_point = os.path.join(tmp, 'mnt')
    os.mkdir(mount_point)
    with open(os.devnull, 'w') as devnull:
        if os.geteuid() != 0 or subprocess.call(
                ['mount', '-t', 'tmpfs', 'inotify-test', mount_point],
                stdout=devnull, stderr=devnull) != 0:
            pytest.skip('cannot mount a tmpfs here')
    try:
        wd = inotify.add_watch(mount_point, flags.CREATE)
    finally:
        subprocess.check_call(['umount', mount_point])
    assert fence(inotify, tmp) == [(wd, flags.UNMOUNT | flags.ISDIR, 0, ''),
                                   (wd, flags.IGNORED, 0, '')]


def test_the_queue_overflow_event_comes_after_the_events_that_fit(tmp):
    with open('/proc/sys/fs/inotify/max_queued_events') as f:
        size = int(f.read())
    if size > 10 ** 6:
        pytest.skip('max_queued_events is %d: too many events to make' % size)
    path = os.path.join(tmp, 'f')
    touch(path)
    with INotify() as inotify:
        wd = inotify.add_watch(path, flags.OPEN | flags.CLOSE_NOWRITE)
        # Each open and close queues two events, never merged since they alternate:
        # the queue fills without lowering its size for the whole machine.
        for _ in range(size // 2 + 1):
            os.close(os.open(path, os.O_RDONLY))
        pair = [(wd, flags.OPEN, 0, ''), (wd, flags.CLOSE_NOWRITE, 0, '')]
        assert inotify.read(timeout=0) == [pair[i % 2] for i in range(size)] + [
            (-1, flags.Q_OVERFLOW, 0, '')]
        # and the instance keeps working
        os.close(os.open(path, os.O_RDONLY))
        assert inotify.read(timeout=0) == pair


def test_oneshot_reports_one_event_then_removes_the_watch(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE | flags.ONESHOT)
    touch(os.path.join(tmp, 'a'))
    touch(os.path.join(tmp, 'b'))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'a'),
                                   (wd, flags.IGNORED, 0, '')]


def test_mask_add_extends_the_mask_and_without_it_replaces(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE)
    assert inotify.add_watch(tmp, flags.DELETE | flags.MASK_ADD) == wd
    touch(os.path.join(tmp, 'a'))
    os.remove(os.path.join(tmp, 'a'))
    assert names_and_flags(fence(inotify, tmp)) == [('a', [flags.CREATE]),
                                                    ('a', [flags.DELETE])]
    assert inotify.add_watch(tmp, flags.DELETE) == wd
    touch(os.path.join(tmp, 'b'))
    os.remove(os.path.join(tmp, 'b'))
    assert names_and_flags(fence(inotify, tmp)) == [('b', [flags.DELETE])]


@pytest.mark.skipif(not kernel_at_least(4, 18), reason='MASK_CREATE needs Linux 4.18')
def test_mask_create_watches_a_path_not_yet_watched(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE | flags.MASK_CREATE)
    touch(os.path.join(tmp, 'a'))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'a')]


def test_onlydir_watches_a_directory(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE | flags.ONLYDIR)
    touch(os.path.join(tmp, 'a'))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'a')]


def test_dont_follow_watches_the_symlink_itself(inotify, tmp, file):
    link = os.path.join(tmp, 'link')
    dangling = os.path.join(tmp, 'dangling')
    os.symlink(file, link)
    os.symlink(os.path.join(tmp, 'missing'), dangling)
    target = inotify.add_watch(file, flags.ATTRIB)
    assert inotify.add_watch(link, flags.ATTRIB) == target
    own = inotify.add_watch(link, flags.ATTRIB | flags.DONT_FOLLOW)
    assert own != target
    assert inotify.add_watch(dangling, flags.ATTRIB | flags.DONT_FOLLOW) > own
    with pytest.raises(OSError):
        inotify.add_watch(dangling, flags.ATTRIB)
    os.chmod(file, 0o600)
    assert fence(inotify, tmp) == [(target, flags.ATTRIB, 0, '')]


@pytest.mark.parametrize('exclude', [False, True])
def test_excl_unlink_drops_events_of_unlinked_entries(inotify, tmp, file, exclude):
    with open(file, 'ab') as f:
        wd = inotify.add_watch(tmp, flags.MODIFY | exclude * flags.EXCL_UNLINK)
        os.remove(file)
        f.write(b'more')
        f.flush()
        events = fence(inotify, tmp)
    assert events == ([] if exclude else [(wd, flags.MODIFY, 0, 'f')])


def test_an_unlinked_open_file_gives_attrib_then_delete_self_at_last_close(
        inotify, tmp, file):
    wd = inotify.add_watch(file, flags.ATTRIB | flags.DELETE_SELF)
    with open(file, 'rb'):
        os.remove(file)
        assert fence(inotify, tmp) == [(wd, flags.ATTRIB, 0, '')]
    assert read_until(inotify, has(flags.IGNORED)) == [
        (wd, flags.DELETE_SELF, 0, ''), (wd, flags.IGNORED, 0, '')]
