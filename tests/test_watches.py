"""add_watch and rm_watch: paths, masks, the kernel's errors, bad input."""
import errno
import os
import sys

import pytest

from conftest import AS_NOBODY
from conftest import PY2
from conftest import fence
from conftest import has
from conftest import in_user_namespace
from conftest import kernel_at_least
from conftest import python
from conftest import read_until
from conftest import touch
from inotify_simple import INotify
from inotify_simple import flags
from inotify_simple import masks

try:
    from pathlib import Path
except ImportError:  # Python 2.7
    Path = None


class FsPath(object):
    """A minimal os.PathLike, for interpreters with or without pathlib."""

    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


def path_kinds():
    kinds = [str, lambda p: p.encode(), FsPath, lambda p: FsPath(p.encode())]
    if Path is not None:
        kinds.append(Path)
    if PY2:
        kinds.append(unicode)  # noqa: F821
    return kinds


@pytest.mark.parametrize('kind', path_kinds())
def test_add_watch_takes_str_bytes_and_pathlike(inotify, tmp, kind):
    wd = inotify.add_watch(kind(tmp), flags.CREATE)
    assert isinstance(wd, int) and wd >= 1
    touch(os.path.join(tmp, 'f'))
    assert read_until(inotify, has(flags.CREATE, 'f', wd))


def test_adding_the_same_path_again_returns_the_same_wd(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE)
    assert inotify.add_watch(tmp, flags.DELETE) == wd
    assert inotify.add_watch(os.path.join(tmp, '.'), flags.DELETE) == wd
    other = os.path.join(tmp, 'other')
    os.mkdir(other)
    assert inotify.add_watch(other, flags.CREATE) == wd + 1


def test_add_watch_accepts_flags_members_and_plain_ints(inotify, tmp):
    assert inotify.add_watch(tmp, flags.CREATE) == 1
    assert inotify.add_watch(tmp, masks.ALL_EVENTS) == 1
    assert inotify.add_watch(tmp, 0x80000100) == 1
    assert inotify.add_watch(tmp, True) == 1  # ACCESS, as 1.3 took it


class Number(object):
    """An integer-like object that is not an int, as numpy's integers are."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


def test_integer_like_masks_and_wds_are_taken_as_their_int(inotify, tmp):
    wd = inotify.add_watch(tmp, Number(flags.CREATE | flags.DELETE))
    assert type(wd) is int and wd == 1
    touch(os.path.join(tmp, 'a'))
    inotify.rm_watch(Number(wd))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'a'),
                                   (wd, flags.IGNORED, 0, '')]
    with pytest.raises(ValueError):
        inotify.add_watch(tmp, Number(2 ** 32))


def expect_oserror(code, call, *args):
    with pytest.raises(OSError) as info:
        call(*args)
    assert info.value.errno == code, info.value
    return info.value


def test_a_missing_path_raises_enoent_naming_it(inotify, tmp):
    missing = os.path.join(tmp, 'missing')
    error = expect_oserror(errno.ENOENT, inotify.add_watch, missing, flags.CREATE)
    assert error.filename == missing
    assert missing in str(error)


def test_onlydir_on_a_file_raises_enotdir(inotify, tmp):
    path = os.path.join(tmp, 'file')
    touch(path)
    expect_oserror(errno.ENOTDIR, inotify.add_watch, path, flags.ONLYDIR | flags.MODIFY)
    assert inotify.add_watch(tmp, flags.ONLYDIR | flags.CREATE) == 1


def test_a_mask_without_events_raises_einval(inotify, tmp):
    expect_oserror(errno.EINVAL, inotify.add_watch, tmp, 0)
    expect_oserror(errno.EINVAL, inotify.add_watch, tmp, 0x00001000)  # no such flag


def test_a_path_we_may_not_search_raises_eacces(secret):
    code = ('import os, sys, errno\n'
            'import inotify_simple as m\n' + AS_NOBODY +
            'try:\n'
            '    m.INotify().add_watch(sys.argv[1], m.flags.CREATE)\n'
            'except OSError as e:\n'
            '    sys.stdout.write("%d %s" % (e.errno, e.filename))\n')
    out = python(code, secret + '/x')
    assert out == '%d %s/x' % (errno.EACCES, secret)


@pytest.mark.skipif(not kernel_at_least(4, 18), reason='MASK_CREATE needs Linux 4.18')
def test_mask_create_on_a_watched_path_raises_eexist(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE | flags.MASK_CREATE)
    expect_oserror(errno.EEXIST, inotify.add_watch, tmp,
                   flags.DELETE | flags.MASK_CREATE)
    # the watch kept its mask: CREATE still reported, DELETE not
    touch(os.path.join(tmp, 'f'))
    os.remove(os.path.join(tmp, 'f'))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'f')]


def test_the_watch_limit_raises_enospc_that_names_it(tmp):
    for i in range(20):
        touch(os.path.join(tmp, str(i)))

    def reach_the_limit():
        with INotify() as inotify:
            error = expect_oserror(errno.ENOSPC, lambda: [inotify.add_watch(
                os.path.join(tmp, str(i)), flags.MODIFY) for i in range(20)])
            return str(error)
    # lowered in a user namespace of the test's own, not for the whole machine
    message = in_user_namespace(reach_the_limit, max_inotify_watches=3)
    assert '/proc/sys/user/max_inotify_watches (now 3) was reached' in message
    assert '"sysctl user.max_inotify_watches=N"' in message
    assert os.path.join(tmp, '3') in message


def test_rm_watch_of_an_unknown_wd_raises_einval(inotify, tmp):
    for wd in (1, 0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 64):
        expect_oserror(errno.EINVAL, inotify.rm_watch, wd)
    wd = inotify.add_watch(tmp, flags.CREATE)
    inotify.rm_watch(wd)
    expect_oserror(errno.EINVAL, inotify.rm_watch, wd)


def test_rm_watch_queues_an_ignored_event(inotify, tmp):
    wd = inotify.add_watch(tmp, flags.CREATE)
    inotify.rm_watch(flags(1) if wd == 1 else wd)  # IntEnum-valued ints work too
    assert fence(inotify, tmp) == [(wd, flags.IGNORED, 0, '')]


@pytest.mark.parametrize('path', [b'/tmp\0/etc', u'/tmp\0', b'\0'])
def test_a_path_with_a_nul_byte_raises_value_error(inotify, path):
    with pytest.raises(ValueError) as info:
        inotify.add_watch(path, flags.CREATE)
    assert 'NUL' in str(info.value)


@pytest.mark.parametrize('path', [None, 3, 1.5, ['/tmp'], bytearray(b'/tmp')])
def test_a_path_of_the_wrong_type_raises_type_error(inotify, path):
    with pytest.raises(TypeError):
        inotify.add_watch(path, flags.CREATE)


@pytest.mark.parametrize('mask', [None, 1.0, '256', b'\1', [256]])
def test_a_mask_that_is_not_an_int_raises_type_error(inotify, tmp, mask):
    with pytest.raises(TypeError):
        inotify.add_watch(tmp, mask)


@pytest.mark.parametrize('mask', [-1, -256, 2 ** 32, 2 ** 32 + 256, 2 ** 64])
def test_a_mask_out_of_32_bits_raises_value_error_naming_it(inotify, tmp, mask):
    with pytest.raises(ValueError) as info:
        inotify.add_watch(tmp, mask)
    assert str(mask) in str(info.value)


@pytest.mark.parametrize('wd', [None, 1.0, '1', b'1'])
def test_rm_watch_of_a_non_int_raises_type_error(inotify, wd):
    with pytest.raises(TypeError):
        inotify.rm_watch(wd)


@pytest.mark.skipif(sys.getfilesystemencoding().lower() not in ('utf-8', 'utf8'),
                    reason='needs a UTF-8 file system encoding')
def test_names_that_are_not_utf8_round_trip_from_the_kernel(inotify, tmp):
    raw = b'caf\xe9-\xff'
    wd = inotify.add_watch(tmp.encode(), flags.CREATE)
    touch(os.path.join(tmp.encode(), raw))
    event, = fence(inotify, tmp)
    assert event.wd == wd
    if PY2:
        assert event.name == raw
    else:
        assert os.fsencode(event.name) == raw
        # and the decoded name can be watched again
        assert inotify.add_watch(os.path.join(tmp, event.name), flags.MODIFY) > wd


def test_a_bytes_path_that_is_not_utf8_is_watched_as_it_is(inotify, tmp):
    directory = os.path.join(tmp.encode(), b'caf\xe9')
    os.mkdir(directory)
    wd = inotify.add_watch(directory, flags.CREATE)
    touch(os.path.join(directory, b'x'))
    assert fence(inotify, tmp) == [(wd, flags.CREATE, 0, 'x')]
