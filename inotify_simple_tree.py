"""Watch a directory tree with inotify: every directory below it, new ones included.

inotify watches one directory, not what is below it. :class:`Tree` adds a watch for
each directory of a tree, keeps them as directories come, move and go, and gives
each event the path of what it is about. It uses nothing of :mod:`inotify_simple`
but its public API.

The tree knows a directory by its watch, not by its path: as a name in its parent
(:class:`_Names`, a tree of names). The kernel's events are applied to the names
in the kernel's order (:class:`_Follower`), so that a rename is one change to
them, whatever the disk has done since, and an event's path is the one its
directory had when it happened. A directory that comes is looked for where the
names say it is as its coming is applied, and, if it is not there (a rename
queued since moved it), once the events queued are applied (:class:`_Finder`):
it is opened, watched through that open descriptor, then listed through it
(:class:`_Walker`), and what the listing finds is reported as ``CREATE`` events,
each file once, just after the event that gave it the path it has (its coming,
or the last rename above it): before what came after, which is kept back
meanwhile. A directory of the tree that moves into one that came and is not
watched yet is, to the tree, new there, as one moved in from outside is: what it
holds is reported with what holds it (its events meanwhile are not, and they
could not be given the paths they had). The tree's own reading of directories is
not reported: a new
directory is watched for ``OPEN``, ``ACCESS`` and ``CLOSE_NOWRITE`` only once it
and the directories in it have been listed (the reading of files in it before
that is not reported either), and while the tree lists directories those events
of theirs and of their parents (with ``ISDIR``) are dropped, someone else's
included.
"""
import codecs
import errno
import os
import stat
import sys
import threading
from bisect import bisect
from collections import deque
from collections import namedtuple
from functools import reduce
from io import UnsupportedOperation
from itertools import compress
from itertools import islice
from itertools import repeat
from operator import add
from operator import index
from operator import or_

from inotify_simple import INotify
from inotify_simple import flags
from inotify_simple import masks

__all__ = ['Tree', 'TreeEvent']

_ACCESS, _OPEN = int(flags.ACCESS), int(flags.OPEN)
_CLOSE_NOWRITE = int(flags.CLOSE_NOWRITE)
_MOVED_FROM, _MOVED_TO = int(flags.MOVED_FROM), int(flags.MOVED_TO)
_CREATE, _DELETE = int(flags.CREATE), int(flags.DELETE)
_MOVE_SELF = int(flags.MOVE_SELF)
_UNMOUNT, _Q_OVERFLOW = int(flags.UNMOUNT), int(flags.Q_OVERFLOW)
_IGNORED, _ISDIR = int(flags.IGNORED), int(flags.ISDIR)
_ONLYDIR, _EXCL_UNLINK = int(flags.ONLYDIR), int(flags.EXCL_UNLINK)
_DONT_FOLLOW = int(flags.DONT_FOLLOW)
_MASK_ADD, _ONESHOT = int(flags.MASK_ADD), int(flags.ONESHOT)
_MASK_CREATE = int(flags.MASK_CREATE)
_ALL_EVENTS = int(masks.ALL_EVENTS)

# What the kernel sends whatever a watch asks for.
_ALWAYS = _IGNORED | _Q_OVERFLOW | _UNMOUNT
# What a tree's directories are watched for besides what is asked: to follow it.
_FOLLOW = _CREATE | _MOVED_TO | _MOVED_FROM | _MOVE_SELF
# What reading a directory does to it (and to its entry in its parent).
_READS = _OPEN | _ACCESS | _CLOSE_NOWRITE
# What an event is followed for: the events that may change the names.
_FOLLOWED = _ISDIR | _MOVE_SELF | _Q_OVERFLOW | _IGNORED
# What changes the names in a directory.
_NAMING = _CREATE | _DELETE | _MOVED_FROM | _MOVED_TO
# A directory renamed into one of the trees.
_MOVED_IN = _MOVED_TO | _ISDIR

_O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0o2000000)  # Python 3.3+
_O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0o200000)
_O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0o400000)
_O_DIR = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC
_PROC = os.path.isdir('/proc/self/fd')
# openat() and fdopendir() from Python: 3.3+ and 3.7+
_AT = getattr(os, 'supports_dir_fd', ()) and os.open in os.supports_dir_fd
_SCANDIR_FD = getattr(os, 'supports_fd', ()) and getattr(os, 'scandir', None) in \
    os.supports_fd
_scandir = getattr(os, 'scandir', None)  # Python 3.5+
_INFINITY = float('inf')
_NO_LINES = '%s(): a Tree gives events, not lines: read() them, or iterate'
_tuple_new = tuple.__new__  # a TreeEvent made without its __new__, in Python
_BATCH = 4096  # events handled, at most, for one read()
# What the tree reads of the kernel's queue at once: about a thousand events. A
# burst goes through memory (and the processor's cache) a piece at a time, and the
# first events are handled while the others wait in the kernel.
_PIECE = 32768
# A path longer than PATH_MAX (4096 bytes) is opened a piece of this many characters
# at a time (a character is 4 bytes in UTF-8 at most).
_PATH_PIECE = 1000
# How far after a directory's MOVED_FROM its MOVE_SELF is looked for, at most: the
# kernel queues it within the same rename.
_LOOKAHEAD = 1000
# How often a directory that came is looked for again, at most, when renames
# applied meanwhile may have put it elsewhere.
_RETRIES = 16
try:
    from time import monotonic as _monotonic
except ImportError:  # Python 2.7
    from time import time as _monotonic
try:
    from threading import get_ident as _get_ident
except ImportError:  # Python 2.7
    from thread import get_ident as _get_ident

if sys.version_info[0] >= 3:
    _FS_ENCODING = sys.getfilesystemencoding()
    _FS_ERRORS = getattr(sys, 'getfilesystemencodeerrors', lambda: 'surrogateescape')()
else:  # Python 2.7: paths and names are bytes
    _FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding() or 'ascii', 'strict'


def _encoded(names):
    """``names`` (str) encoded as paths are: at once where the encoding reads an
    ASCII byte as itself wherever it stands (no name holds a '/')."""
    if _ASCII_ONCE:
        return u'/'.join(names).encode(_FS_ENCODING, _FS_ERRORS).split(b'/')
    return [name.encode(_FS_ENCODING, _FS_ERRORS) for name in names]


_ASCII_ONCE = codecs.lookup(_FS_ENCODING).name in ('utf-8', 'ascii')


def _drop(queue, count):
    """Take the first ``count`` items out of deque ``queue``."""
    if count == len(queue):
        queue.clear()
    else:
        for _ in repeat(None, count):
            queue.popleft()


class TreeEvent(namedtuple('TreeEvent', ['wd', 'mask', 'cookie', 'name', 'path'])):
    """An :class:`~inotify_simple.Event` with the path of what it is about.

    ``wd``, ``mask``, ``cookie`` and ``name`` are the kernel's, as in
    :class:`~inotify_simple.Event`; ``path`` is the watched directory's path as it
    was when the event happened, with a trailing separator, joined with ``name``:
    ``'top/a/f'`` for a file ``f`` in ``top/a``, ``'top/a/'`` for an event about
    ``top/a`` itself, and a watched file's path for that file. ``name`` and
    ``path`` are ``bytes`` when the tree was given as ``bytes`` (and on Python 2),
    ``str`` otherwise.
    """
    __slots__ = ()


def _spelled(path):
    """``path`` (str, bytes or os.PathLike; encoded on Python 2), and whether it is
    bytes."""
    path = getattr(os, 'fspath', lambda p: p)(path)
    is_bytes = isinstance(path, bytes)
    if not is_bytes and not isinstance(path, type(u'')):  # as os.fspath says
        raise TypeError('expected str, bytes or os.PathLike object, not %s'
                        % type(path).__name__)
    if (b'\0' if is_bytes else u'\0') in path:  # as INotify.add_watch() says it
        raise ValueError('path contains a NUL byte: %r' % (path,))
    if sys.version_info[0] < 3:
        return (path if is_bytes else path.encode(_FS_ENCODING)), True
    return path, is_bytes


def _named(error, path):
    """``error``, of a directory at ``path``, saying so (an OSError); another
    exception as it is."""
    if not isinstance(error, OSError):
        return error
    return OSError(error.errno, error.strerror, path)


def _leaf(status, devices):
    """Whether the directory whose fstat() is ``status`` holds no directory, as its
    links tell (its entry and its '.': two, on the filesystems that count them so;
    a directory in it adds one, its '..'), so that it need not be listed when only
    its directories are looked for. Asked once it is watched, it misses none made
    since it was opened."""
    if status.st_nlink != 2:
        return False
    counted = devices.get(status.st_dev)
    if counted is None:
        counted = devices[status.st_dev] = _counts_links(status.st_dev)
    return counted


# Filesystems whose directories have 2 links plus one per directory in them, or 1
# where the count would overflow (ext4); others may say 2 whatever they hold (FUSE).
_COUNTING = frozenset([b'tmpfs', b'ramfs', b'ext2', b'ext3', b'ext4', b'xfs'])
_MOUNTINFO = '/proc/self/mountinfo'


def _counts_links(device):
    """Whether the filesystem of ``device`` (an st_dev) is one of ``_COUNTING``,
    as /proc/self/mountinfo tells (in bytes: a mount point's name is any bytes)."""
    wanted = b'%d:%d' % (os.major(device), os.minor(device))
    try:
        with open(_MOUNTINFO, 'rb') as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 3 and fields[2] == wanted and b' - ' in line:
                    return line.split(b' - ', 1)[1].split()[0] in _COUNTING
    except (IOError, OSError):  # no /proc: every directory is listed
        pass
    return False


def _kernel_watches(fd):
    """The watches the kernel holds for inotify descriptor ``fd``, as wd -> inode
    (/proc/self/fdinfo, in hexadecimal); None where that cannot be read."""
    try:
        with open('/proc/self/fdinfo/%d' % fd, 'rb') as info:
            lines = info.read().split(b'\n')
    except (IOError, OSError):
        return None
    found = {}
    for line in lines:
        if line.startswith(b'inotify wd:'):
            fields = line.split()
            found[int(fields[1][3:], 16)] = int(fields[2][4:], 16)
    return found


def _queue_size():
    """How many events an inotify instance made now may queue."""
    try:
        with open('/proc/sys/fs/inotify/max_queued_events') as size:
            return int(size.read())
    except (IOError, OSError, ValueError):
        return 16384  # the kernel's default


class _INotify(INotify):
    """The tree's :class:`~inotify_simple.INotify`: its ``read()`` takes the
    queue a piece at a time (``_PIECE`` bytes at most), or all of it while
    ``whole`` is set, through ``_readall()``, the hook of subclasses that
    ``read()`` calls with the descriptor held open, as 1.3 did."""

    whole = False

    def _readall(self):
        if self.whole:
            return INotify._readall(self)
        try:
            return os.read(self.fileno(), _PIECE)
        except OSError as e:  # non-blocking, and nothing is queued
            if e.errno != errno.EAGAIN:
                raise
            return b''


class _Paths(dict):
    """wd -> the path of a directory of the trees (with a separator) or of a watch
    alone: made when first asked for, and all forgotten when a directory moves."""

    __slots__ = ('names', 'alone')

    def __missing__(self, wd):
        path = self.alone.get(wd)
        if path is None:
            path = self.names.path(wd)  # KeyError: not a watch of the tree's
        self[wd] = path
        return path


class _Names(object):
    """The tree of names: every directory of the trees, by its watch descriptor,
    as its name in its parent directory; a top's name is its path.

    A directory found but not watched yet has a placeholder for a watch
    descriptor, a number below -1. A directory that another took the name of (by
    a rename over it, or one side of an exchange) keeps its parent and name, for
    its last events, but is ``displaced``: no longer what that name is, until its
    watch ends or it moves on.

    Where each directory was last given a name, or what it held last reported,
    is kept as the mark of the event that came just before (see Tree._made), so
    that what is found in a directory is reported once its path is the one it
    has now and after what is known of it, and no later.
    """

    def __init__(self, sep, alone):
        self.sep = sep
        self.parent = {}     # wd -> its parent's wd; None for a top
        self.name = {}       # wd -> its name (a top's: its path)
        self.kids = {}       # wd -> {name: wd}, of those that hold directories only
        self.displaced = {}  # (parent, name) -> [wd, ...], the latest last
        self.paths = _Paths()
        self.paths.names, self.paths.alone = self, alone
        self.version = 0     # changed with every change, for watches() elsewhere
        self.now = 0         # the mark of the latest event to return
        self.named = {}      # wd -> that mark
        self._placeholders = -1

    def __contains__(self, wd):
        return wd in self.parent

    def add(self, wd, parent, name):
        """``wd`` is ``name`` in ``parent`` (None, for a top named by its path)."""
        self.parent[wd] = parent
        self.name[wd] = name
        if parent is not None:
            self._attach(wd, parent, name)
        self.version += 1

    def placeholder(self, parent, name):
        """A directory found as ``name`` in ``parent``, not watched yet: its
        placeholder."""
        self._placeholders -= 1
        self.add(self._placeholders, parent, name)
        self.named[self._placeholders] = self.now
        return self._placeholders

    def watched(self, placeholder, wd):
        """The directory of ``placeholder`` is watched as ``wd`` now."""
        self.detach(placeholder)
        parent, name = self.parent.pop(placeholder), self.name.pop(placeholder)
        self.add(wd, parent, name)
        if placeholder in self.named:
            self.named[wd] = self.named.pop(placeholder)

    def move(self, wd, parent, name):
        """``wd``, and everything below it, is ``name`` in ``parent`` now."""
        self.detach(wd)
        self.parent[wd] = parent
        self.name[wd] = name
        self._attach(wd, parent, name)
        self.named[wd] = self.now
        self.changed()

    def displace(self, wd):
        """``wd`` is no longer what its name in its parent is."""
        self.detach(wd)
        self.displaced.setdefault((self.parent[wd], self.name[wd]), []).append(wd)

    def forget(self, wd):
        """Take ``wd`` out of the names (but not what is below it)."""
        self.detach(wd)
        del self.parent[wd], self.name[wd]
        self.kids.pop(wd, None)
        self.named.pop(wd, None)
        self.changed()

    def changed(self):
        self.version += 1
        if self.paths:
            self.paths.clear()

    def holder(self, parent, name):
        """What ``name`` in ``parent`` is (None: nothing the names know)."""
        kids = self.kids.get(parent)
        return kids and kids.get(name)

    def at(self, parent, name):
        """What ``name`` in ``parent`` is: those displaced from it (the latest
        first), then the one it is."""
        found = list(reversed(self.displaced.get((parent, name), ())))
        held = self.kids.get(parent, {}).get(name)
        if held is not None:
            found.append(held)
        return found

    def below(self, wd):
        """``wd`` and every directory below it (displaced ones included), parents
        before what they hold."""
        found = [wd]
        kids, displaced = self.kids, self.displaced
        for each in found:  # the list grows as it is gone through
            held = kids.get(each)
            if held:
                found.extend(held.values())
            if displaced:
                for (parent, _), others in list(displaced.items()):
                    if parent == each:
                        found.extend(others)
        return found

    def holds(self, top, wd):
        """Whether ``wd`` is ``top`` or below it."""
        parent = self.parent
        while wd is not None:
            if wd == top:
                return True
            wd = parent.get(wd)
        return False

    def since(self, wd):
        """The mark of the event after which the path of ``wd`` is the one it
        has now: the latest at which it, or a directory above it, was given a
        name."""
        named, parent = self.named, self.parent
        at = 0
        while wd is not None:  # up to a top, or to a watch alone
            at = max(at, named.get(wd, 0))
            wd = parent.get(wd)
        return at

    def returned(self, first):
        """The events marked before ``first`` are returned: a name given before
        them places nothing any more."""
        named = self.named
        for wd in [wd for wd, mark in named.items() if mark < first]:
            del named[wd]

    def top_of(self, wd):
        """The top ``wd`` is below, and the names on the way down to it."""
        parent, name = self.parent, self.name
        names = []
        while parent[wd] is not None:
            names.append(name[wd])
            wd = parent[wd]
        names.reverse()
        return wd, names

    def path(self, wd):
        """The path of ``wd``, with a separator; those above it are remembered on
        the way (KeyError: not a directory of the trees)."""
        paths, parent, name, sep = self.paths, self.parent, self.name, self.sep
        down = []
        path = paths.get(wd)
        while path is None:
            up = parent[wd]
            if up is None:
                path = paths[wd] = name[wd]
            else:
                down.append(wd)
                wd = up
                path = paths.get(wd)
        while down:
            wd = down.pop()
            path = paths[wd] = path + name[wd] + sep
        return path

    def snapshot(self, alone):
        """wd -> path of every watch, from copies of the names made while nothing
        changed them: it may be asked while another thread changes them."""
        while True:
            version = self.version
            parent, name, found = self.parent.copy(), self.name.copy(), alone.copy()
            if version == self.version:
                break
        paths = {}
        for wd in parent:
            down = []
            while wd not in paths:
                if parent[wd] is None:
                    paths[wd] = name[wd]
                    break
                down.append(wd)
                wd = parent[wd]
            path = paths[wd]
            while down:
                wd = down.pop()
                path = paths[wd] = path + name[wd] + self.sep
        found.update((wd, path) for wd, path in paths.items() if wd > 0)
        return found

    def _attach(self, wd, parent, name):
        kids = self.kids.get(parent)
        if kids is None:
            kids = self.kids[parent] = {}
        other = kids.get(name)
        if other is not None and other != wd:
            self.displaced.setdefault((parent, name), []).append(other)
        kids[name] = wd

    def detach(self, wd):
        """``wd`` is no longer the name it was in its parent (it keeps them)."""
        parent, name = self.parent[wd], self.name[wd]
        kids = self.kids.get(parent)
        if kids is not None and kids.get(name) == wd:
            del kids[name]
            if not kids:
                del self.kids[parent]
            return
        others = self.displaced.get((parent, name))
        if others and wd in others:
            others.remove(wd)
            if not others:
                del self.displaced[parent, name]


class _Top(object):
    """Where a top is: ``path`` as given (what its events say), ``opened`` as it
    is opened (its real path, None once it moved where it was not found), the
    directory it was in and its inode, to find it there when it moves."""

    __slots__ = ('path', 'opened', 'parent', 'device', 'inode')

    def __init__(self, path, fd):
        self.path = path
        self.opened = os.path.join(os.path.realpath(path), path[:0])
        self.parent = os.path.dirname(self.opened[:-1]) or self.opened[:1]
        status = os.fstat(fd)
        self.device, self.inode = status.st_dev, status.st_ino


class _Walk(object):
    """A walk of directories: what its reading makes the kernel report, what it
    found, what it watched."""

    __slots__ = ('wds', 'found', 'kept', 'until', 'report', 'places', 'added',
                 'seen', 'devices', 'count')

    def __init__(self, wds=(), report=None, seen=None):
        # The watches whose directory, or one in it, the walk reads (None: all):
        # their OPEN, ACCESS and CLOSE_NOWRITE with ISDIR are the walk's.
        self.wds = set(wds) if wds is not None else None
        self.found = {}        # wd -> names listed, whose CREATE is the listing's
        self.kept = {}         # wd -> files listed whose CREATE is the kernel's
        self.until = {}        # wd -> where the first event after its listing is
        self.report = report   # (wd, mask, name) of what is found, to report
        self.places = {}       # wd -> how many events were queued by its listing
        self.added = []        # the watches it made, in order
        self.seen = seen       # the directories of the trees it went through
        # st_dev -> whether its filesystem counts a directory's links as 2 plus
        # its directories; asked once a walk (a device number is used again by
        # the next filesystem mounted once its own is unmounted).
        self.devices = {}
        self.count = 0         # directories opened or closed since the last drain


class _Walker(object):
    """Opens, watches and lists directories for a tree, into its names.

    Each directory is opened through its parent's descriptor (never following a
    link), watched through its own descriptor, listed through it, and, once every
    directory in it has been listed, watched for its reading too, then closed.
    """

    def __init__(self, tree):
        self.inotify = tree._inotify
        self.names = tree._names
        self.tree = tree
        self.tops = {}  # wd -> _Top
        # A walk is drained of its own events every so many directories opened
        # or closed: the kernel's queue never fills with them (a directory opened
        # or closed makes 8 events at most).
        self.every = max(1, min(256, _queue_size() // 16))

    def watch(self, fd):
        """The watch of the directory open as ``fd``: its own if it has one
        already (its mask unchanged), else a new one that leaves out its reading."""
        return self.inotify.add_watch(b'/proc/self/fd/%d' % fd,
                                      self.tree._quiet | _MASK_ADD)

    def walk(self, fd, wd, path, opened, walk, new):
        """Watch and list what is below the directory open as ``fd``, watched as
        ``wd`` (``new`` to the trees), at ``path`` (opened as ``opened``), then
        close ``fd``. What is found in a new directory is added to
        ``walk.report``, each entry followed by what it holds."""
        try:
            frames = [self._frame(fd, wd, path, opened, walk, new, os.fstat(fd))]
        except BaseException:
            os.close(fd)
            raise
        sep, exclude, report = self.names.sep, self.tree._exclude, walk.report
        try:
            while frames:
                fd, wd, path, opened, entries, new = frame = frames[-1]
                for name, is_dir in entries:
                    if new and report is not None:
                        report.append((wd, _CREATE | _ISDIR if is_dir else _CREATE,
                                       name))
                    if not is_dir:
                        continue
                    child = path + name + sep
                    if exclude is not None and exclude(child[:-1]):
                        continue
                    try:
                        fd = self._open(frame[0], name)
                    except OSError as e:
                        raise _named(e, child[:-1])
                    if fd is None:
                        continue
                    try:
                        child_wd = self.watch(fd)
                        child_new = self._place(child_wd, wd, name, walk)
                        if child_new is not None:
                            frames.append(self._frame(fd, child_wd, child,
                                                      opened + name + sep, walk,
                                                      child_new, os.fstat(fd)))
                    except BaseException as e:  # ValueError too: closed meanwhile
                        os.close(fd)
                        raise _named(e, child[:-1])
                    if child_new is None:
                        os.close(fd)
                        continue
                    if child_new and not new and report is not None:
                        report.append((wd, _CREATE | _ISDIR, name))
                    break
                else:
                    frames.pop()
                    self._listed(frame, walk)
        finally:
            for frame in frames:  # an error: what is open is closed
                os.close(frame[0])

    def _place(self, wd, parent, name, walk):
        """Directory ``wd``, found as ``name`` in ``parent``, into the names: True
        if it is new to them, False if it is to be walked again (an overflow's
        walk), None if not (the names have it already, or below another
        directory: there the disk says where it is, but for a new directory's
        walk, which looks for it there again once the events queued are applied)."""
        names = self.names
        if wd not in names:
            self.tree._alone.pop(wd, None)  # a directory watched alone: of a tree now
            names.add(wd, parent, name)
            walk.added.append(wd)
            if walk.seen is not None:
                walk.seen.add(wd)
            return True
        if names.parent[wd] != parent or names.name[wd] != name:
            if names.holds(wd, parent):  # a loop: a bind mount of a directory above
                return None
            if walk.seen is None and walk.report is not None:
                # A new directory's walk: it came here since the events applied,
                # and those queued since say how. What is here is looked for once
                # they are applied.
                self.tree._follower.new.append(names.placeholder(parent, name))
                return None
            if names.parent[wd] is None:  # a top, found in another tree
                del self.tops[wd]
            names.move(wd, parent, name)
        elif names.holder(parent, name) != wd:
            names.move(wd, parent, name)  # displaced: its name again
        if walk.seen is None:
            return None
        walk.seen.add(wd)
        return False

    def _frame(self, fd, wd, path, opened, walk, new, status):
        """List a directory just watched (``status``: its fstat()):
        ``[fd, wd, path, opened, entries, new]``."""
        reported = new and walk.report is not None
        try:
            entries = [] if not reported and _leaf(status, walk.devices) else \
                self.entries(fd, reported)
        except OSError as e:
            raise _named(e, path[:-1])
        if walk.wds is not None:
            walk.wds.add(wd)
        if reported and entries:
            # What was queued by its listing goes before what it found, but the
            # creation of what it found (a file's, queued, is reported instead);
            # what names what it found comes after it.
            walk.found[wd] = set(name for name, _ in entries)
            self.tree._finder.drain(walk)
            del walk.found[wd]
            kept = walk.kept.pop(wd, None)
            if kept:
                entries = [entry for entry in entries
                           if entry[1] or entry[0] not in kept]
            walk.places[wd] = walk.until.pop(wd, len(self.tree._todo))
        self._counted(walk)
        return [fd, wd, path, opened, iter(entries), new]

    def _listed(self, frame, walk):
        """A directory and every directory in it are listed: a new one is watched
        for its reading too (the one event of closing it is the walk's); it is
        closed."""
        fd, wd, opened = frame[0], frame[1], frame[3]
        try:
            if frame[5] and self.tree._full != self.tree._quiet:
                self._upgrade(fd, wd, opened)
        finally:
            os.close(fd)
        self._counted(walk)

    def _counted(self, walk):
        """A directory was opened and listed, or closed: the walk's own events
        are drained every so often, on the way down a deep tree as on the way
        up, so that they never fill the kernel's queue."""
        walk.count += 1
        if walk.count >= self.every:
            self.tree._finder.drain(walk)

    def _upgrade(self, fd, wd, opened):
        """Watch directory ``wd``, open as ``fd``, for its reading too: through
        its path, which is quicker than through ``fd``, unless the path now leads
        elsewhere (it was renamed meanwhile), as the watch it gives tells."""
        try:
            upgraded = self.inotify.add_watch(opened, self.tree._full)
        except OSError:
            upgraded = None
        if upgraded == wd:
            return
        if upgraded is not None:
            self.tree._follower.unwatch_stray(upgraded)
        self.inotify.add_watch(b'/proc/self/fd/%d' % fd, self.tree._full)

    def _open(self, parent, name):
        """The directory ``name`` in the one open as ``parent``, opened without
        following a link; None if it is gone, not a directory or not ours to read."""
        try:
            if _AT:
                return os.open(name, _O_DIR | _O_NOFOLLOW, dir_fd=parent)
            return os.open((b'/proc/self/fd/%d/' if isinstance(name, bytes) else
                            '/proc/self/fd/%d/') % parent + name,
                           _O_DIR | _O_NOFOLLOW)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EACCES):
                return None
            raise

    def entries(self, fd, all_entries):
        """The directory open as ``fd``: ``(name, is_dir)`` of its directories (with
        ``all_entries``, of everything, sorted); a link is not a directory."""
        if _SCANDIR_FD:
            if all_entries:
                found = [(entry.name, entry.is_dir(follow_symlinks=False))
                         for entry in _scandir(fd)]
            else:
                found = [(entry.name, True) for entry in _scandir(fd)
                         if entry.is_dir(follow_symlinks=False)]
            if self.tree._encode:
                found = [(name.encode(_FS_ENCODING, _FS_ERRORS), is_dir)
                         for name, is_dir in found]
        else:  # Python < 3.7: through /proc, Python 2.7: with an lstat() each
            here = (b'/proc/self/fd/%d/' if self.tree._bytes else
                    '/proc/self/fd/%d/') % fd
            found = []
            for name in os.listdir(here):
                try:
                    is_dir = stat.S_ISDIR(os.lstat(here + name).st_mode)
                except OSError:  # gone since the directory was read
                    continue
                if is_dir or all_entries:
                    found.append((name, is_dir))
        if all_entries:
            found.sort()
        return found

    def named(self, wd, parent, name):
        """Whether ``name`` in ``parent`` (where the names say it is) is still
        directory ``wd``, as the watch its path gives tells (True where that
        cannot be told)."""
        top, below = self.names.top_of(parent)
        if self.tops[top].opened is None:
            return True
        below.append(name)
        path = self.tops[top].opened + self.names.sep.join(below)
        try:
            here = self.inotify.add_watch(path, self.tree._quiet | _MASK_ADD |
                                          _DONT_FOLLOW)
        except OSError as e:
            return e.errno == errno.ENAMETOOLONG
        if here != wd:
            self.tree._follower.unwatch_stray(here)
        return here == wd

    def open_in(self, parent, name):
        """Directory ``name`` in directory ``parent`` of the names, opened where
        the names say it is, without following a link: its descriptor and the
        path it was opened by; None if it is not there (gone, moved on, a link,
        or the path leads elsewhere now).

        Raises:
            OSError: it may not be read; or the top above it moved where it was
                not found (ENOENT).
        """
        top, below = self.names.top_of(parent)
        place = self.tops[top]
        if place.opened is None:
            raise OSError(errno.ENOENT, 'the top of its tree, %s, moved away'
                          % place.path[:-1])
        below.append(name)
        opened = place.opened + self.names.sep.join(below) + self.names.sep
        try:
            fd = self._open_path(place.opened, below)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise
        try:  # a rename above it may have led elsewhere: its parent must be parent
            here = self.inotify.add_watch(b'/proc/self/fd/%d/..' % fd,
                                          self.tree._quiet | _MASK_ADD)
        except BaseException as e:  # ValueError too: closed meanwhile
            os.close(fd)
            if isinstance(e, OSError) and e.errno in (errno.ENOENT, errno.EACCES):
                return None
            raise
        if here == parent:
            return fd, opened
        self.tree._follower.unwatch_stray(here)
        os.close(fd)
        return None

    def _open_path(self, top, names):
        """The directory ``names`` below directory ``top``, opened without
        following a link there: in pieces where the path is longer than
        PATH_MAX."""
        sep = self.names.sep
        try:
            return os.open(top + sep.join(names), _O_DIR | _O_NOFOLLOW)
        except OSError as e:
            if e.errno != errno.ENAMETOOLONG or not _PROC:
                raise
        fd = os.open(top, _O_DIR)
        try:
            while names:
                piece, size = [], 0
                while names and (not piece or size + len(names[0]) < _PATH_PIECE):
                    size += len(names[0]) + 1
                    piece.append(names.pop(0))
                opened = self._open(fd, sep.join(piece))
                if opened is None:
                    raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))
                os.close(fd)
                fd = opened
        except BaseException:
            os.close(fd)
            raise
        return fd

    def open_top(self, wd):
        """Top ``wd`` opened where it is now, to be walked again (looked for where
        it was, if it moved); None if it cannot be found."""
        place = self.tops[wd]
        for _ in range(2):
            try:
                fd = os.open(place.opened, _O_DIR) if place.opened else None
            except OSError:
                fd = None
            if fd is not None:
                try:
                    here = self.watch(fd)
                except BaseException:
                    os.close(fd)
                    raise
                if here == wd:
                    return fd
                self.tree._follower.unwatch_stray(here)
                os.close(fd)
            if self.locate(wd) is None:
                return None

    def locate(self, wd):
        """Where top ``wd``, which moved, is now: looked for by its inode in the
        directory it was in (None: not there)."""
        place = self.tops[wd]
        place.opened = None
        sep = self.names.sep
        try:
            if _scandir is not None:
                found = [entry.name for entry in _scandir(place.parent)
                         if entry.inode() == place.inode]
            else:  # Python 2.7
                found = [name for name in os.listdir(place.parent) if os.lstat(
                    os.path.join(place.parent, name)).st_ino == place.inode]
        except OSError:
            found = []
        for name in found:
            path = os.path.join(place.parent, name)
            try:
                status = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISDIR(status.st_mode) and (status.st_dev, status.st_ino) == (
                    place.device, place.inode):
                place.opened = path + sep
        return place.opened


class _Follower(object):
    """The kernel's events applied to the names of a tree, in order.

    A directory's MOVED_FROM and MOVED_TO are matched by their cookie. Where the
    names have several directories under the name it left (one was renamed over
    it, or it is one side of an exchange), the MOVE_SELF that follows tells which
    of the watched ones it was. A watched directory that left by a MOVED_FROM that
    no MOVED_TO matched is no longer watched: it has left the trees, or gone into
    a directory that came and is not watched yet, whose walk finds it as new.
    """

    def __init__(self, tree):
        self.tree = tree
        self.names = tree._names
        self.walker = tree._walker
        self.new = deque()    # placeholders of the directories to look for
        self.moving = {}      # cookie -> the directory of a MOVED_FROM (None: unknown)
        self.leaving = {}     # wd -> the cookie of its MOVED_FROM, until it lands
        # (parent, name) left by a MOVED_FROM that no MOVED_TO matched: the kernel
        # merges a MOVED_TO into the one before it if they differ only in cookie
        # (inotify's event_compare), so another may have come unseen.
        self.vacated = set()
        self.dead = set()     # wds whose watch the tree removed: their IGNORED is its
        self.moves = 0        # renames of directories applied, ever

    def follow(self, wd, mask, cookie, name):
        """Apply an event of directory ``wd`` of the trees (``name`` spelt as the
        tree spells names)."""
        if mask & _IGNORED:
            self.ended(wd)
        elif mask & _MOVE_SELF:
            self.moves += 1
            self.self_moved(wd)
        elif mask & _ISDIR and name:
            if mask & _CREATE:
                self.came(wd, name)
            elif mask & _MOVED_FROM:
                self.moves += 1
                self.left(wd, name, cookie)
            elif mask & _MOVED_TO:
                self.moves += 1
                self.arrived(wd, name, cookie)
            elif mask & _DELETE:
                self.deleted(wd, name)

    def came(self, parent, name):
        """A directory came as ``name`` in ``parent``: it is looked for at once
        (see _Finder.early), or once the events queued are applied."""
        names = self.names
        if self.excluded(parent, name):
            held = names.holder(parent, name)
            if held is not None:
                names.displace(held)
            return
        placeholder = names.placeholder(parent, name)
        if self.new or not self.tree._finder.early(placeholder):
            self.new.append(placeholder)

    def left(self, parent, name, cookie):
        """A directory left ``name`` in ``parent`` by rename ``cookie``: of those the
        names have there, the one watched whose MOVE_SELF follows; or else the one
        not watched yet, or one watched whose name no longer leads to it (a walk
        watched it just after it moved: no MOVE_SELF comes); or one the names do
        not know."""
        there = self.names.at(parent, name)
        watched = [wd for wd in there if wd > 0]
        moved = self.self_move(watched, parent, cookie) if watched else None
        if moved is not None:
            self.leaving[moved] = cookie
        else:  # none of those watched, or one watched once it had moved already
            # (but not one that a later rename, queued, moves from this very
            # name: this older one came before its watch)
            later = self.leaves_later(parent, name) if watched else ()
            moved = next((wd for wd in there if wd < 0 or wd not in later and
                          not self.walker.named(wd, parent, name)), None)
        if moved is not None:  # until its MOVED_TO, it is no name at all
            self.names.detach(moved)
        self.moving[cookie] = moved
        self.vacated.add((parent, name))

    def leaves_later(self, parent, name):
        """The watched directories that a rename queued later moves from
        ``name`` in ``parent``: the MOVE_SELF that follows its MOVED_FROM (the
        kernel queues it within the same rename)."""
        found, leaving = set(), False
        for wd, mask, _, other in islice(self.tree._todo, _LOOKAHEAD):
            if mask & _MOVED_FROM and wd == parent:
                if self.tree._encode:
                    other = other.encode(_FS_ENCODING, _FS_ERRORS)
                leaving = other == name
            elif mask & _MOVE_SELF and leaving:
                found.add(wd)
                leaving = False
        return found

    def self_move(self, watched, parent, cookie):
        """The one of ``watched`` that rename ``cookie`` from ``parent`` moved: its
        MOVE_SELF comes before the next change of a name in the directories of
        that rename (the kernel queues it before it lets go of them); None if
        none of them moved."""
        around = [parent]
        for drained in (False, True):
            for wd, mask, other, _ in islice(self.tree._todo, _LOOKAHEAD):
                if mask & _MOVE_SELF:
                    if wd in watched:
                        return wd
                elif mask & _NAMING and wd in around:
                    if other != cookie:
                        return None
                    around.append(wd)  # its MOVED_TO
            if drained or len(self.tree._todo) >= _LOOKAHEAD or \
                    not self.tree._finder.drain(None):
                return None

    def arrived(self, parent, name, cookie):
        """A directory came as ``name`` in ``parent`` by rename ``cookie``: the one
        that left by its MOVED_FROM, or one new to the trees."""
        names = self.names
        moved = self.moving.pop(cookie, None)
        if moved is not None and moved in names:
            self.leaving.pop(moved, None)
            if not self.excluded(parent, name) and not names.holds(moved, parent):
                names.move(moved, parent, name)
                return
            self.drop(moved)
            if parent not in names:  # the names had it below: dropped with it
                return
        self.came(parent, name)

    def self_moved(self, wd):
        """Directory ``wd`` was renamed: if no MOVED_TO matched its MOVED_FROM, out
        of the trees (or into a directory not watched yet: it is new there); a
        top is looked for where it went."""
        cookie = self.leaving.pop(wd, None)
        if cookie is not None:
            self.moving.pop(cookie, None)
            self.drop(wd)
        elif self.names.parent[wd] is None:
            self.walker.locate(wd)

    def deleted(self, parent, name):
        """``name`` in ``parent`` was deleted (where ``DELETE`` is asked for)."""
        held = self.names.holder(parent, name)
        if held is not None and held < 0:
            self.names.forget(held)
        elif held is not None:
            self.gone(held)

    def gone(self, wd):
        """Directory ``wd`` was deleted: its watch ends once nothing holds it open,
        and what comes of it till then has the path it had (its parent may move
        meanwhile), as a watch alone has. What the names still have below it (a
        directory looked for there) is dropped."""
        for each in reversed(self.names.below(wd)[1:]):
            self.forget(each)
        self.tree._alone[wd] = self.names.paths[wd]
        self.names.forget(wd)

    def ended(self, wd):
        """The kernel ended watch ``wd`` (its directory was deleted, or its
        filesystem unmounted): it is forgotten, and what is below it unwatched."""
        for each in reversed(self.names.below(wd)[1:]):
            self.forget(each)
        self.names.forget(wd)
        self.walker.tops.pop(wd, None)

    def excluded(self, parent, name):
        exclude = self.tree._exclude
        return exclude is not None and exclude(self.names.paths[parent] + name)

    def drop(self, wd):
        """Stop watching ``wd`` and everything below it."""
        for each in reversed(self.names.below(wd)):
            self.forget(each)

    def forget(self, wd):
        if wd > 0:
            self.unwatch(wd)
        self.names.forget(wd)
        self.walker.tops.pop(wd, None)

    def unwatch(self, wd):
        """Remove watch ``wd``, if the kernel has not already: what is still
        queued of it, up to its IGNORED, is the tree's."""
        try:
            self.tree._inotify.rm_watch(wd)
        except OSError:  # EINVAL: the kernel has removed it already
            pass
        self.dead.add(wd)

    def unwatch_stray(self, wd):
        """Remove watch ``wd``, made in passing, unless it is one of the tree's."""
        if wd not in self.names and wd not in self.tree._alone:
            self.unwatch(wd)


class _Finder(object):
    """Directories looked for: those that came, once the events before them are
    applied, where the names say they are; every directory of the trees, after an
    overflow. What is found is reported; what the walks themselves cause is
    drained from the queue and left out."""

    def __init__(self, tree):
        self.tree = tree
        self.names = tree._names
        self.walker = tree._walker
        self.follower = tree._follower
        # placeholder -> (follower.moves when it was last not found, how often)
        self.retried = {}
        self.caught_up = False  # the queue was read whole since the last search

    def top(self, path, recursive):
        """Watch ``path``: as a tree, walked (all or nothing); or alone."""
        try:
            fd = os.open(path, _O_DIR) if recursive else None
        except OSError as e:
            if e.errno != errno.ENOTDIR:
                raise
            fd = None
        if fd is None:  # a file, or a directory alone
            return self.alone(path)
        if not _PROC:
            os.close(fd)
            raise OSError(errno.ENOSYS, 'watching a tree needs /proc/self/fd')
        sep, names, walker, tree = self.names.sep, self.names, self.walker, self.tree
        if not path.endswith(sep):
            path += sep
        walk = _Walk(None)
        try:
            try:
                wd = walker.watch(fd)
                if wd in names:  # a directory of the trees already
                    os.close(fd)
                    return wd
                names.add(wd, None, path)
                walk.added.append(wd)
                walker.tops[wd] = _Top(path, fd)
            except BaseException as e:
                os.close(fd)
                raise _named(e, path[:-1])
            tree._alone.pop(wd, None)
            walker.walk(fd, wd, path, walker.tops[wd].opened, walk, True)
        except BaseException:
            for wd in reversed(walk.added):  # all or nothing
                self.follower.forget(wd)
            raise
        finally:
            self.drain(walk)
        return wd

    def alone(self, path):
        """Watch ``path`` alone, as INotify.add_watch() would, but for a directory
        of the trees."""
        try:  # before the watch: its events may come (and remove it) at once
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:
            is_dir = False
        # MASK_ADD: a directory of a tree keeps what it is watched for
        wd = self.tree._inotify.add_watch(
            path, self.tree.mask & ~(_MASK_CREATE | _ONESHOT) | _MASK_ADD)
        if is_dir and not path.endswith(self.names.sep):
            path += self.names.sep
        if wd not in self.names:
            self.tree._alone.setdefault(wd, path)  # an inode's first name is kept
        return wd

    def settle(self):
        """Once every queued event is applied: what left by a MOVED_FROM that no
        MOVED_TO matched has left the trees, and the directories that came are
        looked for where the names say they are. Whether there was anything to
        do."""
        names = self.names
        if not self.follower.new and not self.follower.moving:
            return False
        if not self.caught_up:  # what the kernel has queued since, first
            self.caught_up = True
            if self.drain(None):
                return True
        self.caught_up = False
        for moved in list(self.follower.moving.values()):
            if moved is not None and moved in names:
                self.follower.drop(moved)
        self.follower.moving.clear()
        self.follower.leaving.clear()
        for parent, name in self.follower.vacated:  # what may have come unseen
            if parent in names and names.holder(parent, name) is None and \
                    not self.follower.excluded(parent, name):
                self.follower.new.append(names.placeholder(parent, name))
        self.follower.vacated.clear()
        for others in list(names.displaced.values()):
            for wd in [wd for wd in others if wd < 0]:  # renamed over: gone
                names.forget(wd)
        walk = _Walk(report=[])
        try:
            for _ in range(len(self.follower.new)):
                placeholder = self.follower.new[0]
                if placeholder in names:
                    try:
                        self.find(placeholder, walk)
                    except OSError as error:
                        self.tree._fail(error)
                self.follower.new.popleft()
        finally:
            self.drain(walk)
        if not self.follower.new:
            self.retried.clear()
            for others in list(names.displaced.values()):  # not found again: gone
                for wd in list(others):
                    self.follower.gone(wd)
        self.report(walk)
        return True

    def early(self, placeholder):
        """Look for a directory as soon as it came, as inotifywait does, if no
        other is looked for and the kernel has queued nothing since (the disk
        may be far ahead of a long queue): where the names say it is, it is
        watched and walked at once, and what it holds reported just after its
        coming. Whether it was; if not (not there, or it cannot be opened or
        watched), it is looked for once the events queued are applied."""
        if self.tree._todo or self.drain(None):
            return False
        walk = _Walk(report=[])
        try:
            self.find(placeholder, walk, early=True)
        except OSError as error:  # of the walk below it
            self.tree._fail(error)
        finally:
            self.drain(walk)
        self.report(walk)
        return placeholder not in self.names

    def find(self, placeholder, walk, early=False):
        """Look for the directory of ``placeholder`` where the names say it is,
        watch it, then walk it (``early``: only if it is not elsewhere in the
        trees, and without looking again if it is not there)."""
        names = self.names
        parent, name = names.parent[placeholder], names.name[placeholder]
        if names.holder(parent, name) != placeholder:  # another took its name
            names.forget(placeholder)
            return
        path = names.paths[parent] + name + names.sep
        walk.wds.add(parent)  # it is opened by its path: read in its parent too
        try:
            found = self.walker.open_in(parent, name)
            if found is None:  # gone, or moved on, or a directory above it
                if not early and not self.again(placeholder):  # renamed meanwhile
                    names.forget(placeholder)
                return
            fd, opened = found
            try:
                wd = self.walker.watch(fd)
            except BaseException:
                os.close(fd)
                raise
        except OSError as e:
            if early:  # said, if it is still so, once the events are applied
                return
            names.forget(placeholder)
            raise _named(e, path[:-1])
        walk.wds.add(wd)
        if wd in names:
            os.close(fd)
            return None if early else self.found_again(placeholder, wd)
        if not self.walker.named(wd, parent, name):
            # Renamed between its opening and its watch: no MOVE_SELF says so,
            # and what it holds would have the name it left. Looked for again
            # once its rename, queued by now, is applied.
            os.close(fd)
            self.follower.unwatch_stray(wd)
            if not early and not self.again(placeholder):
                names.forget(placeholder)
            return
        self.tree._alone.pop(wd, None)
        names.watched(placeholder, wd)
        self.walker.walk(fd, wd, path, opened, walk, True)

    def again(self, placeholder):
        """Look for ``placeholder`` again once the events queued by now are
        applied, unless no rename was applied since it was last looked for and
        the kernel has queued nothing since (the names are where the disk was),
        or it was looked for ``_RETRIES`` times already (renames that never
        stop): whether it will be."""
        moves = self.follower.moves
        last, tries = self.retried.get(placeholder, (None, 0))
        if tries >= _RETRIES or last == moves and not self.drain(None):
            return False
        self.retried[placeholder] = moves, tries + 1
        self.follower.new.append(placeholder)
        return True

    def found_again(self, placeholder, wd):
        """The directory where ``placeholder`` is, is ``wd``, a directory of the
        trees that the names have elsewhere: once the events queued since are
        applied, if they do not say so, the disk does, and what is where the
        names had ``wd`` is looked for."""
        names = self.names
        parent, name = names.parent[placeholder], names.name[placeholder]
        if (names.parent[wd], names.name[wd]) != (parent, name):
            # Its rename may be queued still; a top's never is (it moved).
            if names.parent[wd] is not None and self.again(placeholder):
                return
            if names.holds(wd, parent):  # a loop: a bind mount of one above
                names.forget(placeholder)
                return
        names.forget(placeholder)
        was = names.parent[wd], names.name[wd]
        if was[0] is None:  # a top, moved into a tree
            del self.walker.tops[wd]
        names.move(wd, parent, name)
        if was != (parent, name) and was[0] in names and \
                not self.follower.excluded(*was):
            self.follower.new.append(names.placeholder(*was))

    def overflow(self):
        """Events were lost: the trees are walked again, and the names made what
        the disk holds (what was missed is reported as new)."""
        names, walker, tree = self.names, self.walker, self.tree
        for wd in self.follower.new:
            if wd in names:
                names.forget(wd)  # the walk finds them
        self.follower.new.clear()
        for moved in self.follower.moving.values():  # detached: no walk reaches
            if moved is not None and moved in names:  # them; found again as new
                self.follower.drop(moved)
        self.follower.moving.clear()
        self.follower.leaving.clear()
        self.retried.clear()
        for others in list(names.displaced.values()):
            for wd in [wd for wd in others if wd < 0]:
                names.forget(wd)
        self.drain(_Walk())  # what came before it is not the walk's
        live = _kernel_watches(tree.fileno())
        if live is not None:  # the IGNORED of some may have been lost
            for wd in [wd for wd in names.parent if wd > 0 and wd not in live]:
                if wd in names:
                    place = walker.tops.get(wd)
                    self.follower.drop(wd)
                    if place is not None:
                        tree._fail(OSError(errno.ENOENT, os.strerror(errno.ENOENT),
                                           place.path[:-1]))
            for wd in [wd for wd in tree._alone if wd not in live]:
                del tree._alone[wd]
            self.follower.dead.intersection_update(live)
        walk = _Walk(None, report=[], seen=set())
        walked = []
        for wd in walker.tops:  # what the walk finds goes after the overflow
            names.named[wd] = names.now
        try:
            for wd, place in list(walker.tops.items()):
                fd = walker.open_top(wd)
                if fd is None:
                    tree._fail(OSError(errno.ENOENT, 'moved away, and not found '
                                       'where it was', place.path[:-1]))
                    continue
                walk.seen.add(wd)
                try:
                    walker.walk(fd, wd, place.path, place.opened, walk, False)
                except OSError as error:  # the watch limit, say: the rest is kept
                    tree._fail(error)
                else:
                    walked.append(wd)
        finally:
            self.drain(walk)
        for top in walked:  # what was not found below a top that was walked is gone
            if top in names:
                for wd in reversed(names.below(top)):
                    if wd not in walk.seen:
                        self.follower.forget(wd)
        self.report(walk)

    def report(self, walk):
        """What ``walk`` found, as CREATE events: at once, at the paths the names
        give now; or, what a directory listed after a rename of it or of one
        above it (queued, not applied) held, just after the last such rename,
        at the paths the names give there (the listing may show what came
        after it)."""
        if not walk.report:
            return
        todo = self.tree._todo
        # The renames queued: a watched directory's MOVE_SELF, or a directory's
        # coming from elsewhere.
        renames = [(at, event) for at, event in enumerate(todo)
                   if event[1] & _MOVE_SELF or event[1] & _MOVED_IN == _MOVED_IN]
        if not renames:
            return self.made(walk.report)
        if self.tree._encode:  # spelt as the names spell them, once
            renames = [(at, (wd, mask, cookie, name.encode(_FS_ENCODING, _FS_ERRORS)))
                       for at, (wd, mask, cookie, name) in renames]
        places, found = {}, {}
        for each in walk.report:  # after the last rename before its listing
            wd = each[0]
            if wd not in places:
                places[wd] = self.renamed(renames, wd, walk.places.get(wd, len(todo)))
            found.setdefault(places[wd], []).append(each)
        self.made(found.pop(0, ()))
        events = list(todo)
        todo.clear()
        done = 0
        for place in sorted(found):
            todo.extend(islice(events, done, place))
            todo.append((0, _ISDIR, 0, found[place]))  # for _one()
            done = place
        todo.extend(islice(events, done, None))

    def renamed(self, renames, wd, end):
        """Just after the last of ``renames`` (``(at, event)`` queued, names spelt
        as the names spell them) before place ``end`` that moves directory
        ``wd`` or one above it (those above it once the renames before are
        applied included): its place, or 0."""
        moved, named = set(), set()  # those on the way up, and their names
        self._up(wd, moved, named)
        place, arrived = 0, None
        for at, (wd, mask, _, name) in renames:
            if at >= end:
                break
            if mask & _MOVE_SELF:
                if wd in moved:
                    place = at + 1
                    if arrived is not None:  # where it went (its MOVED_TO)
                        self._up(arrived, moved, named)
                continue
            arrived = wd
            if (wd, name) in named:
                place = at + 1
        return place

    def _up(self, wd, moved, named):
        """``wd`` and those above it into ``moved``, their names into ``named``."""
        names = self.names
        while wd is not None and wd in names and wd not in moved:
            moved.add(wd)
            named.add((names.parent[wd], names.name[wd]))
            wd = names.parent[wd]

    def made(self, found, due=False):
        """``found``, ``(wd, mask, name)`` of what a walk found, as CREATE events
        at the paths the names give now, among the events not returned yet just
        after the one that gave each its path (the directory's coming, or the
        last rename above it), the earliest place where that path holds; or
        after all of them, if ``due`` now (just after a rename: see report())."""
        places, by_place, names = {}, {}, self.names
        for each in found:
            wd = each[0]
            if wd not in places:  # nothing of a directory deleted since
                places[wd] = None if wd not in names else \
                    names.now if due else names.since(wd)
            if places[wd] is not None:
                by_place.setdefault(places[wd], []).append(each)
        paths, named = names.paths, names.named
        for at in sorted(by_place, reverse=True):
            wds, bits, found = zip(*by_place[at])
            self.tree._made(wds, bits, repeat(0), found, [paths[wd] for wd in wds],
                            encoded=True, at=at)
            for wd in set(wds):  # what is found in them later goes after these
                if named.get(wd, 0) < at:
                    named[wd] = at

    def drain(self, walk):
        """Queue what the kernel has queued, all of it, but what ``walk`` (if any)
        caused and the creation of what it found; whether there was any."""
        self.tree._inotify.whole = True
        try:
            events = self.tree._inotify.read(timeout=0)
        finally:
            self.tree._inotify.whole = False
        if walk is not None:
            walk.count = 0
            wds, found = walk.wds, walk.found
            events = [event for event in events
                      if not (event.mask & _READS and event.mask & _ISDIR and
                              (wds is None or event.wd in wds))]  # its own reading
            if found:
                events = self.unfound(events, walk)
        self.tree._todo.extend(events)
        return bool(events)

    def unfound(self, events, walk):
        """``events`` as the walk's listings take them: of the first event of each
        name found, a directory's CREATE (or MOVED_TO) is dropped, as the walk
        reports it; a file's is kept (``walk.kept``: it is not reported again);
        any other came after the listing (``walk.until``: its place, which what
        was found goes before)."""
        found, kept, at = walk.found, [], len(self.tree._todo)
        for event in events:
            names = found.get(event.wd)
            if names:
                name = event.name
                if self.tree._encode:
                    name = name.encode(_FS_ENCODING, _FS_ERRORS)
                if name in names:
                    names.discard(name)
                    if not event.mask & (_CREATE | _MOVED_TO):
                        walk.until.setdefault(event.wd, at + len(kept))
                    elif event.mask & _ISDIR:
                        continue
                    else:
                        walk.kept.setdefault(event.wd, set()).add(name)
            kept.append(event)
        return kept


class Tree(object):
    """Watch directory ``path`` and every directory below it, new ones included.

    Every directory of the tree is watched by the time the constructor returns. A
    directory that appears later, made or moved in, is watched, and what it holds
    already is reported as ``CREATE`` events (with ``ISDIR`` for a directory),
    each file once, before what happens to it later (what is removed or renamed
    in it between its watch and its listing is not reported as created, but its
    ``DELETE`` or ``MOVED_FROM`` is). A directory moved within the tree keeps its
    watches under its new path; one moved out of the tree, or excluded, is no
    longer watched, and nothing of it is reported after its move. A symbolic
    link below the top is never followed (``path`` itself may be one). After
    ``Q_OVERFLOW``, which :meth:`read` returns once for consecutive overflows,
    the trees are walked again and made what the disk holds: what was not
    watched is watched and reported as new, what has gone is no longer watched.

    Each event has the path its directory had when it happened, even when the
    directories have moved on since (renamed, swapped, moved out and back); a
    rename costs the same in a tree of any size. The tree's own reading of
    directories is not reported (see the module's notes). A top keeps the path it
    was given, as inotifywait keeps it: events below a top that was moved have the
    paths it had. One moved within the directory it was in is still followed
    there; one moved elsewhere cannot be, and a directory made below it then gives
    an ``OSError`` (``ENOENT``).

    A Tree is a file object: :meth:`fileno` is the descriptor of its
    :class:`~inotify_simple.INotify`, for ``select``, ``selectors`` or an asyncio
    loop; it is a context manager; :meth:`close` wakes a blocked :meth:`read`.

    Threads: :meth:`read` and :meth:`watch` take one lock, which :meth:`read` holds
    while it waits for events; :meth:`watches` and :meth:`close` never wait for it.
    After ``fork()``, the child's tree has a lock of its own, and neither process
    blocks when the other empties the queue they share. A signal handler that
    reads or watches while the thread it interrupted does gets ``RuntimeError``.

    Args:
        path (str, bytes or os.PathLike): the top of the tree; a file is watched as
            a file. More trees (or files) can be added with :meth:`watch` (with
            ``None``, there is none until then).
        mask (int): the events to report, ``flags`` OR-ed together
            (``masks.ALL_EVENTS`` by default); ``DONT_FOLLOW`` applies to a top
            that is a symbolic link to something other than a directory.
        exclude (callable): ``exclude(path)`` is true for a directory below a top
            that is not to be watched (``path`` as events spell it, without the
            trailing separator); it is asked before each one is watched, and of
            one moved within the trees, at its new path (not of what is below it).
        onerror (callable): ``onerror(error)`` is called with the ``OSError`` of a
            new directory that cannot be watched (its ``filename`` is the
            directory's path): the watch limit, too many open files, one that may
            not be read (``EACCES``); and of a top that an overflow's walk finds
            gone. Without it, :meth:`read` raises the error, and the next call goes
            on. The directories below one that is being walked and may not be read
            are skipped, as inotifywait skips them.

    Raises:
        OSError: inotify could not be set up, or ``path`` (or a directory below it)
            could not be watched: the watch limit (``ENOSPC``, worded as
            :meth:`inotify_simple.INotify.add_watch` words it), too many open
            files. Nothing the call had watched is watched then. A directory that
            vanishes or may not be read (``EACCES``) while the tree is walked is
            skipped.
        TypeError: ``exclude`` or ``onerror`` is not callable.
        ValueError: ``mask`` is 0 or does not fit in 32 unsigned bits, or
            ``path`` contains a NUL byte.
    """

    def __init__(self, path=None, mask=_ALL_EVENTS, exclude=None, onerror=None):
        mask = index(mask)  # a TypeError for what is not an integer
        if not 0 <= mask < 2 ** 32:  # as INotify.add_watch() says it
            raise ValueError('mask %r does not fit in 32 unsigned bits' % (mask,))
        if not mask:  # the kernel's EINVAL, said at once
            raise ValueError('mask 0 asks for no event')
        for name, value in (('exclude', exclude), ('onerror', onerror)):
            if value is not None and not callable(value):
                raise TypeError('%s must be callable or None, not %s'
                                % (name, type(value).__name__))
        self.mask = mask
        # What is returned; what a directory is watched for (its reading left out
        # while it is listed); the reading of directories, left out meanwhile.
        self._wanted = (mask & _ALL_EVENTS) | _ALWAYS
        self._full = (mask & (_ALL_EVENTS | _EXCL_UNLINK)) | _FOLLOW | _ONLYDIR
        self._quiet = self._full & ~_READS
        self._exclude = exclude
        self._onerror = onerror
        self._bytes = self._sep = self._encode = None  # from the first path's type
        self._alone = {}    # wd -> path, of what is watched alone
        self._todo = deque()   # the kernel's events (wd, mask, cookie, name), to handle
        self._ready = deque()  # TreeEvents handled, to return
        # The mark of each of them: the events' are 1, 2, 3... as they come;
        # what a walk found has the mark of the event it goes after.
        self._marks = deque()
        self._errors = []   # to raise from read(), without onerror
        self._returned = 0  # events returned by read(), ever
        self._window = 16   # how many events _run() looks at first
        self._overflow_at = None  # _returned + len(_ready) at the last Q_OVERFLOW
        self._lock = threading.Lock()  # held by the thread that handles events
        self._inside = set()  # the threads in read() or watch()
        self._pid = os.getpid()
        # Non-blocking: after fork() two processes share the queue, and one of
        # them may empty it between the other's FIONREAD and its read.
        self._inotify = _INotify(nonblocking=True)
        self._names = _Names(None, self._alone)
        self._walker = _Walker(self)
        self._follower = _Follower(self)
        self._finder = _Finder(self)
        try:
            if path is not None:
                self.watch(path)
        except BaseException:
            self._inotify.close()
            raise

    def fileno(self):
        """The descriptor of the tree's :class:`~inotify_simple.INotify`."""
        return self._inotify.fileno()

    @property
    def closed(self):
        return self._inotify.closed

    def close(self):
        """Stop watching: close the descriptor and every watch with it. A
        :meth:`read` blocked in another thread returns ``[]``; calling it again
        does nothing."""
        self._inotify.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # The events as they arrive, until the tree is closed: as INotify's are.
    __iter__ = vars(INotify)['__iter__']

    def readline(self, size=-1):
        """Refused, as :meth:`readlines` and :meth:`readall` are, as
        :class:`~inotify_simple.INotify` refuses them: reading nothing."""
        raise UnsupportedOperation(_NO_LINES % 'readline')

    def readlines(self, hint=-1):
        raise UnsupportedOperation(_NO_LINES % 'readlines')

    def readall(self):
        raise UnsupportedOperation(_NO_LINES % 'readall')

    def __repr__(self):
        return '<%s %s, %d watches>' % (type(self).__name__, 'closed' if self.closed
                                        else 'fd=%d' % self.fileno(),
                                        len(self.watches()))

    def _used(self, function, *args):
        """``function(*args)`` with the tree's lock held by the calling thread
        (a child of fork() has a lock of its own): RuntimeError if the thread
        uses the tree already (a signal handler interrupted it)."""
        if self._pid != os.getpid():
            self._lock, self._inside, self._pid = threading.Lock(), set(), os.getpid()
        me = _get_ident()
        if me in self._inside:
            raise RuntimeError('a Tree used from a signal handler that interrupted '
                               'a use of it')
        try:
            self._inside.add(me)  # first in the try: a handler's exception after it
            with self._lock:
                return function(*args)
        finally:
            self._inside.discard(me)

    # Watching

    def watch(self, path, recursive=True):
        """Watch another tree (with ``recursive=False``: ``path`` alone, as
        :meth:`~inotify_simple.INotify.add_watch` would), with the tree's mask.
        Watching what the tree watches already changes nothing, but that a
        directory watched alone becomes a tree.

        Returns:
            int: the watch descriptor of ``path``.

        Raises:
            OSError: as the constructor raises it; nothing the call had watched is
                watched then.
        """
        return self._used(self._finder.top, self._path(path), recursive)

    def watches(self):
        """Every watch of the tree, as a new dict: watch descriptor -> the path
        its events have (a directory's with a trailing separator). It may be
        called while another thread reads."""
        return {} if self.closed else self._names.snapshot(self._alone)

    def _path(self, path):
        """``path`` as the tree spells paths; the first one decides which type."""
        path, is_bytes = _spelled(path)
        if self._bytes is None:
            self._bytes, self._encode = is_bytes, is_bytes and sys.version_info[0] >= 3
            self._sep = self._names.sep = b'/' if is_bytes else '/'
        elif is_bytes != self._bytes:
            raise TypeError('a Tree takes paths of one type: %r is not %s'
                            % (path, 'bytes' if self._bytes else 'str'))
        return path

    # Reading

    def read(self, timeout=None, read_delay=None):
        """Read events, as :meth:`inotify_simple.INotify.read` does, and follow the
        trees with them.

        ``timeout`` and ``read_delay`` are those of
        :meth:`~inotify_simple.INotify.read`; the events the tree only follows
        itself by (the creation of a directory, say, when only ``MODIFY`` was
        asked for) neither end nor restart the wait.

        Returns:
            list: the :class:`TreeEvent` of the events asked for (and of
            ``IGNORED``, ``Q_OVERFLOW`` and ``UNMOUNT``, which the kernel always
            sends), oldest first, 4,096 at most (the next call returns the rest
            at once); ``[]`` when the timeout passed, or when :meth:`close` was
            called from another thread meanwhile.

        Raises:
            OSError: without ``onerror``: a directory found could not be watched,
                or a top was found gone. The events handled before it are
                returned by the next call.
            ValueError: the tree is closed.
            RuntimeError: a signal handler reads while it interrupted a read of
                the same tree.

        Threads may read at once: one handles the events at a time, and each
        event goes to one of them.
        """
        return self._used(self._read, timeout, read_delay)

    def _read(self, timeout, read_delay):
        todo, ready, marks = self._todo, self._ready, self._marks
        deadline = None
        while True:
            self._handle()
            if self._errors:
                raise self._errors.pop(0)
            if ready:
                if len(marks) != len(ready):  # an exception between the two
                    marks.clear()
                    marks.extend(repeat(self._names.now, len(ready)))
                events = list(islice(ready, _BATCH))
                _drop(ready, len(events))
                _drop(marks, len(events))
                self._names.returned(marks[0] if marks else self._names.now + 1)
                self._returned += len(events)
                return events
            if deadline is None:  # the first wait: the arguments are checked
                events = self._inotify.read(timeout, read_delay)
                if timeout is not None and 0 <= timeout < _INFINITY:
                    deadline = _monotonic() + timeout / 1000.0
                else:
                    deadline = _INFINITY
            else:
                events = self._inotify.read(
                    None if deadline == _INFINITY else
                    max(0.0, deadline - _monotonic()) * 1000, read_delay)
            if not events:
                return []
            todo.extend(events)

    def _handle(self):
        """Handle the kernel's events in order, into ``_ready`` (a batch at most,
        so that a long queue is not held twice over); then look for the
        directories that came. None is returned while one is looked for: what
        it holds may go before them."""
        todo, ready, new = self._todo, self._ready, self._follower.new
        while len(ready) < _BATCH or new:
            if todo:
                if not self._run(max(_BATCH - len(ready), _BATCH // 4)):
                    self._one(*todo.popleft())
            elif not self._finder.settle():
                return

    def _run(self, room):
        """Handle at once the events at the head of the queue (``room`` at most)
        that change no name, of watches the tree knows; how many there were.
        Each field is taken as a column and every step is a builtin's, so that
        no Python code runs per event. The run is looked for in a window that
        grows fourfold, so that finding it costs what it holds."""
        todo, paths = self._todo, self._names.paths
        if todo[0][1] & _FOLLOWED:
            return 0
        size = self._window  # as far as the last run went
        while True:
            events = list(islice(todo, min(size, room)))
            wds, bits, cookies, names = zip(*events)
            kinds = set(bits)
            try:
                if reduce(or_, kinds) & _FOLLOWED:
                    raise KeyError
                directories = list(map(paths.__getitem__, wds))
            except KeyError:  # up to the first that may change a name, or is unknown
                first = next(at for at, event in enumerate(events)
                             if event[1] & _FOLLOWED or self._known(event[0]) is None)
                self._window = 16
                if not first:
                    return 0
                wds, bits, cookies, names = zip(*events[:first])
                kinds = set(bits)
                directories = list(map(paths.__getitem__, wds))
                break
            self._window = size
            if len(events) == len(todo) or size >= room:
                break
            size *= 4
        self._made(wds, bits, cookies, names, directories, kinds=kinds)
        _drop(todo, len(wds))
        return len(wds)

    def _one(self, wd, mask, cookie, name):
        """Report an event that may change the names, then follow it; or drop one
        of a watch the tree does not know (any more)."""
        follower = self._follower
        if not wd:  # no watch's: what a walk found, due here (see _Finder.report)
            return self._finder.made(name, due=True)
        if wd in follower.dead:  # what is queued of a watch removed, up to its IGNORED
            if mask & _IGNORED:
                follower.dead.discard(wd)
            return
        if mask & _Q_OVERFLOW:
            if self._overflow_at != self._returned + len(self._ready):  # once
                empty = self._sep[:0]
                self._made((-1,), (mask,), (0,), (empty,), (empty,), encoded=True)
                self._overflow_at = self._returned + len(self._ready)
            return self._finder.overflow()
        directory = self._known(wd)
        if directory is None:  # one the tree made in passing, and removed
            return
        self._made((wd,), (mask,), (cookie,), (name,), (directory,))
        if wd in self._names:
            if self._encode:
                name = name.encode(_FS_ENCODING, _FS_ERRORS)
            follower.follow(wd, mask, cookie, name)
        elif mask & _IGNORED:  # of a watch alone
            del self._alone[wd], self._names.paths[wd]

    def _made(self, wds, bits, cookies, names, directories, encoded=False,
              kinds=None, at=None):
        """The TreeEvents of events given as columns (masks as ``bits``; ``kinds``,
        the set of them, if known), those asked for, into ``_ready``: at its end,
        or just after the event marked ``at`` and what went there before them.
        The one way events are made."""
        if self._encode and not encoded:
            names = _encoded(names)
        made = map(_tuple_new, repeat(TreeEvent, len(wds)), zip(
            wds, bits, cookies, names, map(add, directories, names)))
        wanted = self._wanted.__and__
        if not all(map(wanted, kinds or set(bits))):
            made = compress(made, map(wanted, bits))
        ready, marks = self._ready, self._marks
        if at is None:
            count, now = len(ready), self._names.now
            ready.extend(made)
            count = len(ready) - count
            marks.extend(range(now + 1, now + 1 + count))
            self._names.now = now + count
            return
        made = list(made)
        place = bisect(marks, at)
        if place < len(ready):
            for queue, items in ((ready, reversed(made)),
                                 (marks, repeat(at, len(made)))):
                queue.rotate(-place)
                queue.extendleft(items)
                queue.rotate(place)
        else:
            ready.extend(made)
            marks.extend(repeat(at, len(made)))

    def _known(self, wd):
        """The path of watch ``wd``; None if it is not the tree's."""
        try:
            return self._names.paths[wd]
        except KeyError:
            return None

    def _fail(self, error):
        """``error`` (an OSError) to ``onerror``, or to be raised by read()."""
        if self._onerror is None:
            self._errors.append(error)
        else:
            self._onerror(error)
