"""What a tree's watches must be once it has read everything: the directories below
its top, each watched on the inode at its path, and no other watch; for the
tests of the tree and of the command line, and the benchmarks (it needs nothing
but the standard library)."""
import ctypes
import errno
import os

AT_FDCWD = -100  # <fcntl.h>
RENAME_EXCHANGE = 2  # <linux/fs.h>


class CannotExchange(Exception):
    """renameat2(RENAME_EXCHANGE) is not there, or not for this filesystem."""


def exchange(a, b):
    """Swap directories (or files) ``a`` and ``b`` at once: renameat2(2) with
    RENAME_EXCHANGE, which gives two renames' events."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, 'renameat2', None)  # glibc 2.28+
    if renameat2 is None:
        raise CannotExchange('the C library has no renameat2()')
    encode = (lambda path: path) if isinstance(a, bytes) else \
        (lambda path: path.encode('utf-8', 'surrogateescape'))
    if renameat2(AT_FDCWD, encode(a), AT_FDCWD, encode(b), RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL):
            raise CannotExchange(os.strerror(code))
        raise OSError(code, os.strerror(code), a)


def directories(top):
    """Every directory below ``top`` (links not followed), as path -> inode, each
    path with a trailing separator."""
    found = {}
    for directory, _, _ in os.walk(top):
        found[directory.rstrip(os.sep) + os.sep] = os.lstat(directory).st_ino
    return found


def kernel_watches(fd):
    """The watches the kernel holds for inotify descriptor ``fd``: wd -> inode."""
    with open('/proc/self/fdinfo/%d' % fd) as info:
        return dict((int(fields[1][3:], 16), int(fields[2][4:], 16))
                    for fields in (line.split() for line in info)
                    if fields[:1] == ['inotify'])


def inodes(paths):
    """``paths`` (of directories) as :func:`directories` gives them, without
    reading any directory (which a watch with ``ACCESS`` or ``OPEN`` reports)."""
    return dict((path.rstrip(os.sep) + os.sep, os.lstat(path).st_ino)
                for path in paths)


def differences(watches, kernel, top, real=None):
    """What is wrong with a tree's ``watches`` (wd -> path), beside what the
    ``kernel`` holds (wd -> inode) and the directories below ``top`` (or
    ``real``, as :func:`directories` gives them): a list of sentences, empty
    when nothing is."""
    wrong = []
    if real is None:
        real = directories(top)
    if set(kernel) != set(watches):
        wrong.append('the kernel holds %s, the tree %s' % (
            sorted(set(kernel) - set(watches)), sorted(set(watches) - set(kernel))))
    paths = dict((path, wd) for wd, path in watches.items())
    if len(paths) != len(watches):
        wrong.append('two watches have one path')
    if set(paths) != set(real):
        wrong.append('watched, not there: %s; there, not watched: %s' % (
            sorted(set(paths) - set(real)), sorted(set(real) - set(paths))))
    for path, wd in sorted(paths.items()):
        if path in real and wd in kernel and kernel[wd] != real[path]:
            wrong.append('%s is watched on another directory' % path)
    return wrong
