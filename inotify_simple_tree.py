"""Watch a directory tree with inotify: every directory below it, new ones included.

inotify watches one directory, not what is below it. :class:`Tree` adds a watch for
each directory of a tree, keeps them as directories come, move and go, and gives
each event the path of what it is about. It uses nothing of :mod:`inotify_simple`
but its public API.

Nothing made in a new directory is missed: a directory is opened, then watched
through that open descriptor, then listed through it, so a rename, or another
directory or a symbolic link put in its place, changes nothing; what the listing
finds is reported as ``CREATE`` events, each file once.
"""
import codecs
import errno
import os
import stat
import sys
import threading
import time
from collections import deque
from collections import namedtuple
from functools import reduce
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
_DELETE = int(flags.DELETE)
_CREATE, _MOVE_SELF = int(flags.CREATE), int(flags.MOVE_SELF)
_UNMOUNT, _Q_OVERFLOW = int(flags.UNMOUNT), int(flags.Q_OVERFLOW)
_IGNORED, _ISDIR = int(flags.IGNORED), int(flags.ISDIR)
_ONLYDIR, _EXCL_UNLINK = int(flags.ONLYDIR), int(flags.EXCL_UNLINK)
_MASK_ADD, _ONESHOT = int(flags.MASK_ADD), int(flags.ONESHOT)
_MASK_CREATE = int(flags.MASK_CREATE)
_ALL_EVENTS = int(masks.ALL_EVENTS)

# What the kernel sends whatever a watch asks for.
_ALWAYS = _IGNORED | _Q_OVERFLOW | _UNMOUNT
# What a tree's directories are watched for besides what is asked: to follow it.
_FOLLOW = _CREATE | _MOVED_TO | _MOVED_FROM | _MOVE_SELF
# What reading a directory does to it (and to its entry in its parent).
_READS = _OPEN | _ACCESS | _CLOSE_NOWRITE
# What an event is followed for: the events that may change the watches.
_FOLLOWED = _ISDIR | _MOVE_SELF | _Q_OVERFLOW | _IGNORED
_CREATED = _CREATE | _MOVED_TO

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
_tuple_new = tuple.__new__  # a TreeEvent made without its __new__, in Python
_BATCH = 4096  # events handled, at most, for one read()
# What the tree reads of the kernel's queue at once: about a thousand events. A
# burst goes through memory (and the processor's cache) a piece at a time, and the
# first events are handled while the others wait in the kernel.
_PIECE = 32768
_MISSING = 1024  # new directories not found where they were made, kept at most
_monotonic = getattr(time, 'monotonic', time.time)  # Python 3.3+
try:
    from threading import get_ident as _get_ident
except ImportError:  # Python 2.7
    from thread import get_ident as _get_ident
# Directories are drained of their own events this often during a walk: the
# kernel's queue (max_queued_events, 16384 by default) never fills with them.
_DRAIN_EVERY = 256

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


class TreeEvent(namedtuple('TreeEvent', ['wd', 'mask', 'cookie', 'name', 'path'])):
    """An :class:`~inotify_simple.Event` with the path of what it is about.

    ``wd``, ``mask``, ``cookie`` and ``name`` are the kernel's, as in
    :class:`~inotify_simple.Event`; ``path`` is the watched directory's path as it
    is now, with a trailing separator, joined with ``name``: ``'top/a/f'`` for a
    file ``f`` in ``top/a``, ``'top/a/'`` for an event about ``top/a`` itself, and
    a watched file's path for that file. ``name`` and ``path`` are ``bytes`` when
    the tree was given as ``bytes`` (and on Python 2), ``str`` otherwise.
    """
    __slots__ = ()


def _named(error, path):
    """``error``, of a directory at ``path``, saying so (an OSError); another
    exception as it is."""
    if not isinstance(error, OSError):
        return error
    return OSError(error.errno, error.strerror, path)


class _Using(object):
    """The tree's state, for one thread at a time: its lock, held.

    A signal handler that uses the tree while the thread it interrupted does gets
    RuntimeError; the child of a fork() has a lock of its own, whatever the
    parent's threads held."""

    __slots__ = ('tree',)

    def __init__(self, tree):
        self.tree = tree

    def __enter__(self):
        tree, me = self.tree, _get_ident()
        if tree._pid != os.getpid():
            tree._lock, tree._user, tree._pid = threading.Lock(), None, os.getpid()
        if tree._user == me:
            raise RuntimeError('a Tree used from a signal handler that interrupted '
                               'a use of it')
        tree._lock.acquire()
        tree._user = me

    def __exit__(self, *exc_info):
        self.tree._user = None
        self.tree._lock.release()


def _leaf(fd, devices):
    """Whether the directory open as ``fd`` holds no directory, as its links tell
    (its entry and its '.': two, on the filesystems that count them so; a
    directory in it adds one, its '..'), so that it need not be listed when only
    its directories are looked for. Asked once it is watched, it misses none made
    since it was opened."""
    status = os.fstat(fd)
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


class _Walk(object):
    """A walk of directories: what its reading makes the kernel report, and what
    it found, for the events drained while it goes on."""

    __slots__ = ('wds', 'found', 'devices')

    def __init__(self, wds, found):
        # The watches whose directory, or one in it, the walk reads (None: all):
        # their OPEN, ACCESS and CLOSE_NOWRITE with ISDIR are the walk's.
        self.wds = wds
        self.found = found  # wd -> names reported as found, whose CREATE may still come
        # st_dev -> whether its filesystem counts a directory's links as 2 plus
        # its directories; asked once a walk (a device number is used again by
        # the next filesystem mounted once its own is unmounted).
        self.devices = {}


class Tree(object):
    """Watch directory ``path`` and every directory below it, new ones included.

    Every directory of the tree is watched by the time the constructor returns.
    A directory that appears later, made or moved in, is watched, and what it holds
    already is reported as ``CREATE`` events (with ``ISDIR`` for a directory), each
    file once. A directory moved within the tree keeps its watches under its new
    path; one moved out of the tree, or excluded, is no longer watched. A symbolic
    link below the top is never followed (``path`` itself may be one). After
    ``Q_OVERFLOW``, which :meth:`read` returns, the trees are walked again so that
    every directory is watched; what the walk finds that was not watched is
    reported as new.

    A Tree is a file object: :meth:`fileno` is the descriptor of its
    :class:`~inotify_simple.INotify`, for ``select``, ``selectors`` or an asyncio
    loop; it is a context manager; :meth:`close` wakes a blocked :meth:`read`.

    The reading of directories that the tree itself does is not reported: a new
    directory is watched for ``OPEN``, ``ACCESS`` and ``CLOSE_NOWRITE`` only once
    it and the directories in it have been listed (the reading of files in it
    before that is not reported either), and while the tree lists directories
    those events of theirs and of their parents (with ``ISDIR``) are dropped,
    someone else's included. A directory renamed while it is listed may have
    the parent's side of that reading reported under its new name.

    A top keeps the path it was given, as inotifywait keeps it: events below a
    top that was moved have the paths it had.

    Threads: :meth:`read` and :meth:`watch` take one lock, which :meth:`read` holds
    while it waits for events; :meth:`watches` and :meth:`close` never wait for
    it. After ``fork()``, the child's tree has a lock of its own, and neither
    process blocks when the other empties the queue they share (the descriptor
    is non-blocking; :meth:`read` waits with ``poll()``). A signal handler
    that reads or watches while the thread it interrupted does gets
    ``RuntimeError``.

    Args:
        path (str, bytes or os.PathLike): the top of the tree; a file is watched as
            a file. More trees (or files) can be added with :meth:`watch`.
        mask (int): the events to report, ``flags`` OR-ed together
            (``masks.ALL_EVENTS`` by default); ``DONT_FOLLOW`` applies to a top
            that is a symbolic link to something other than a directory.
        exclude (callable): ``exclude(path)`` is true for a directory below a top
            that is not to be watched (``path`` as events spell it, without the
            trailing separator); it is asked before each one is watched.
        onerror (callable): ``onerror(error)`` is called with the ``OSError`` of a
            new directory that cannot be watched (its ``filename`` is the
            directory's path): the watch limit, too many open files, one that may
            not be read (``EACCES``). Without it, :meth:`read` raises the error,
            and the next call goes on. The directories below one that is being
            walked and may not be read are skipped, as inotifywait skips them.

    Raises:
        OSError: inotify could not be set up, or ``path`` (or a directory below it)
            could not be watched: the watch limit (``ENOSPC``, worded as
            :meth:`inotify_simple.INotify.add_watch` words it), too many open
            files; a directory that vanishes or may not be read (``EACCES``) while
            the tree is walked is skipped.
    """

    def __init__(self, path=None, mask=_ALL_EVENTS, exclude=None, onerror=None):
        mask = index(mask)  # a TypeError for what is not an integer
        if not 0 < mask < 2 ** 32:  # the kernel's EINVAL, said at once
            raise ValueError('mask is not a mask of flags: %r' % mask)
        self.mask = mask
        # What is returned; what a directory is watched for (its reading left out
        # while it is listed); the reading of directories, left out meanwhile.
        self._wanted = (mask & _ALL_EVENTS) | _ALWAYS
        self._full = (mask & (_ALL_EVENTS | _EXCL_UNLINK)) | _FOLLOW | _ONLYDIR
        self._quiet = self._full & ~_READS
        self._exclude = exclude
        self._onerror = onerror
        self._bytes = None  # whether paths are bytes, from the first path
        self._paths = {}    # wd -> the directory's path, with a separator (or a file's)
        self._dirs = {}     # path -> wd, of the directories of the trees
        self._roots = []    # (wd, path) of the trees
        self._todo = deque()  # the kernel's events (wd, mask, cookie, name), to handle
        self._ready = deque()  # TreeEvents handled, to return
        self._moves = {}    # cookie -> (wd, path) of a directory moved from a tree
        self._removed = set()   # wds whose watch the tree removed: their IGNORED is its
        self._missing = {}  # (wd, name) -> None: new directories not found yet
        self._unlisted = {}  # wd -> names reported of a new directory that moved before
        #                      it could be listed where it was
        self._walked = 0    # directories walked since the last drain
        self._lock = threading.Lock()  # held by the thread that handles events
        self._pid = os.getpid()
        self._user = None  # the thread that holds it
        # Non-blocking: after fork() two processes share the queue, and one of
        # them may empty it between the other's FIONREAD and its read.
        self._inotify = _INotify(nonblocking=True)
        try:
            if path is not None:
                self.watch(path)
        except BaseException:
            self._inotify.close()
            raise

    # The file object

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

    def __repr__(self):
        return '<%s %s, %d watches>' % (type(self).__name__, 'closed' if self.closed
                                        else 'fd=%d' % self.fileno(), len(self._paths))

    # Watching

    def watch(self, path, recursive=True):
        """Watch another tree (with ``recursive=False``: ``path`` alone, as
        :meth:`~inotify_simple.INotify.add_watch` would), with the tree's mask.
        Watching what the tree watches already changes nothing, but that a
        directory watched alone becomes a tree.

        Returns:
            int: the watch descriptor of ``path``.

        Raises:
            OSError: as the constructor raises it.
        """
        path = self._path(path)
        with _Using(self):
            try:
                fd = os.open(path, _O_DIR) if recursive else None
            except OSError as e:
                if e.errno != errno.ENOTDIR:
                    raise
                fd = None
            if fd is None:  # a file, or a directory alone
                return self._watch_alone(path)
            if not _PROC:
                os.close(fd)
                raise OSError(errno.ENOSYS, 'watching a tree needs /proc/self/fd')
            if not path.endswith(self._sep):
                path += self._sep
            walk = _Walk(None, None)
            try:
                try:
                    wd = self._watch_of(fd)
                except BaseException as e:
                    os.close(fd)
                    raise _named(e, path[:-1])
                if self._paths.get(wd) is not None and wd in self._dirs.values():
                    os.close(fd)  # a directory of the trees already
                    return wd
                self._paths[wd] = path
                self._dirs[path] = wd
                self._roots.append((wd, path))
                self._walk(fd, wd, path, walk, None, None)
            finally:
                self._drain(walk)
            return wd

    def _watch_alone(self, path):
        try:  # before the watch: its events may come (and remove it) at once
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:
            is_dir = False
        # MASK_ADD: a directory of a tree keeps what it is watched for
        wd = self._inotify.add_watch(path, self.mask & ~(_MASK_CREATE | _ONESHOT) |
                                     _MASK_ADD)
        if is_dir and not path.endswith(self._sep):
            path += self._sep
        self._paths.setdefault(wd, path)  # an inode's first name is kept
        return wd

    def watches(self):
        """Every watch of the tree, as a new dict: watch descriptor -> the path
        its events have (a directory's with a trailing separator). It may be
        called while another thread reads."""
        if self.closed:
            return {}
        return dict(self._paths)  # one operation, as in a build without the GIL

    def _path(self, path):
        """``path`` as the tree spells paths; the first one decides which type."""
        path = getattr(os, 'fspath', lambda p: p)(path)
        is_bytes = isinstance(path, bytes)
        if not is_bytes and not isinstance(path, type(u'')):  # as os.fspath says
            raise TypeError('expected str, bytes or os.PathLike object, not %s'
                            % type(path).__name__)
        if sys.version_info[0] < 3:
            if not is_bytes:
                path = path.encode(_FS_ENCODING)
            is_bytes = True
        if self._bytes is None:
            self._bytes = is_bytes
            self._sep = b'/' if is_bytes else '/'
            self._encode = sys.version_info[0] >= 3 and is_bytes
        elif is_bytes != self._bytes:
            raise TypeError('a Tree takes paths of one type: %r is not %s'
                            % (path, 'bytes' if self._bytes else 'str'))
        return path

    def _add(self, fd, path, known):
        """Watch the directory open as ``fd``, found at ``path``: ``(wd, True)`` if
        it is new to the tree; ``(wd, False)`` if it is one of ``known`` (its path
        is now ``path``); ``(None, False)`` if the tree watches it already."""
        wd = self._watch_of(fd)
        was = self._paths.get(wd)
        if was is None:
            self._paths[wd] = path
            self._dirs[path] = wd
            return wd, True
        if was != path:
            self._rename(was, path)
        if known is not None and wd in known:
            known.discard(wd)
            return wd, False
        return None, False

    def _watch_of(self, fd):
        """The watch of the directory open as ``fd``: its own if it has one already
        (its mask unchanged), else a new one that leaves out its reading."""
        return self._inotify.add_watch(b'/proc/self/fd/%d' % fd,
                                       self._quiet | _MASK_ADD)

    def _walk(self, fd, wd, path, walk, report, known, new=True):
        """Watch and list what is below the directory open as ``fd`` (watched as
        ``wd``, at ``path``, new to the tree), then close ``fd``.

        Each directory is opened through its parent's descriptor (never following
        a link), watched through its own, listed, and, once every directory in it
        has been listed, watched for its reading too, then closed. With ``report``
        (a list), what is found in a directory new to the tree is appended to it
        as ``(wd, mask, name)``, each entry followed by what it holds. The
        directories in ``known`` (a set, or None) are walked again, and taken out
        of it.
        """
        try:
            frames = [self._frame(fd, wd, path, walk, report, new)]
        except BaseException:
            os.close(fd)
            raise
        try:
            while frames:
                fd, wd, path, entries, new = frame = frames[-1]
                for name, is_dir in entries:
                    if report is not None and new:
                        report.append((wd, _CREATE | _ISDIR if is_dir else _CREATE,
                                       name))
                    if not is_dir:
                        continue
                    child = path + name + self._sep
                    if self._exclude is not None and self._exclude(child[:-1]):
                        continue
                    try:
                        opened = self._open(fd, name)
                    except OSError as e:
                        raise _named(e, child[:-1])
                    if opened is None:
                        continue
                    try:
                        child_wd, child_new = self._add(opened, child, known)
                        if child_wd is not None:
                            frames.append(self._frame(opened, child_wd, child, walk,
                                                      report, child_new))
                    except BaseException as e:  # ValueError too: closed meanwhile
                        os.close(opened)
                        raise _named(e, child[:-1])
                    if child_wd is None:  # watched already: moved here, or a loop
                        os.close(opened)
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

    def _frame(self, fd, wd, path, walk, report, new):
        """List a directory just watched: ``[fd, wd, path, entries, new]``."""
        reported = report is not None and new
        try:
            entries = [] if not reported and _leaf(fd, walk.devices) else \
                self._entries(fd, reported)
        except OSError as e:
            raise _named(e, path[:-1])
        if walk.wds is not None:
            walk.wds.add(wd)
        if reported:
            walk.found[wd] = set(name for name, _ in entries)
        self._walked += 1
        return [fd, wd, path, iter(entries), new]

    def _listed(self, frame, walk):
        """A directory and every directory in it are listed: a new one is watched
        for its reading too (the one event of closing it is the walk's); it is
        closed."""
        fd, wd, path = frame[0], frame[1], frame[2]
        try:
            if frame[4] and self._full != self._quiet:
                self._upgrade(fd, wd, path)
        finally:
            os.close(fd)
        if self._walked >= _DRAIN_EVERY:
            self._drain(walk)

    def _upgrade(self, fd, wd, path):
        """Watch directory ``wd``, open as ``fd``, for its reading too: through
        its path, which is quicker than through ``fd``, unless the path now leads
        elsewhere (it was renamed meanwhile), as the watch it gives tells."""
        try:
            upgraded = self._inotify.add_watch(path, self._full)
        except OSError:
            upgraded = None
        if upgraded == wd:
            return
        if upgraded is not None and upgraded not in self._paths:
            self._unwatch(upgraded)  # another directory's, not the tree's
        self._inotify.add_watch(b'/proc/self/fd/%d' % fd, self._full)

    def _open(self, parent, name):
        """The directory ``name`` in the one open as ``parent``, opened without
        following a link; None if it is gone, not a directory or not ours to read."""
        try:
            if _AT:
                return os.open(name, _O_DIR | _O_NOFOLLOW, dir_fd=parent)
            return os.open(b'/proc/self/fd/%d/%s' % (parent, name), _O_DIR | _O_NOFOLLOW)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EACCES):
                return None
            raise

    def _entries(self, fd, all_entries):
        """The directory open as ``fd``: ``(name, is_dir)`` of its directories (with
        ``all_entries``, of everything, sorted); a link is not a directory."""
        if _SCANDIR_FD:
            if all_entries:
                found = [(entry.name, entry.is_dir(follow_symlinks=False))
                         for entry in _scandir(fd)]
            else:
                found = [(entry.name, True) for entry in _scandir(fd)
                         if entry.is_dir(follow_symlinks=False)]
            if self._encode:
                found = [(name.encode(_FS_ENCODING, _FS_ERRORS), is_dir)
                         for name, is_dir in found]
        else:  # Python < 3.7: through /proc, Python 2.7: with an lstat() each
            here = (b'/proc/self/fd/%d/' if self._bytes else '/proc/self/fd/%d/') % fd
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

    def _drain(self, walk):
        """Queue what the kernel has queued, but what ``walk`` caused, and the
        creation of what it reported already."""
        self._walked = 0
        wds = walk.wds
        self._inotify.whole = True  # what is queued now, all of it
        try:
            events = self._inotify.read(timeout=0)
        finally:
            self._inotify.whole = False
        events = [event for event in events
                  if not (event.mask & _READS and event.mask & _ISDIR and
                          (wds is None or event.wd in wds))]  # its own reading
        self._todo.extend(self._unfound(events, walk.found) if walk.found else events)

    def _unfound(self, events, found):
        """``events`` but the CREATE (or MOVED_TO) of what was found and reported
        already: the first event of a name found, if it is one."""
        for event in events:
            names = found.get(event.wd)
            if names is not None:
                name = event.name
                if self._encode:
                    name = name.encode(_FS_ENCODING, _FS_ERRORS)
                if name in names:
                    names.discard(name)
                    if event.mask & _CREATED:
                        continue
            yield event

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
            OSError: without ``onerror``: a directory found could not be watched.
                The events handled before it are returned by the next call.
            ValueError: the tree is closed.
            RuntimeError: a signal handler reads while it interrupted a read of
                the same tree.

        Threads may read at once: one handles the events at a time, and each
        event goes to one of them.
        """
        with _Using(self):
            return self._read(timeout, read_delay)

    def _read(self, timeout, read_delay):
        todo, ready = self._todo, self._ready
        deadline = None
        while True:
            if not todo and not ready:
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
            self._handle()
            if ready:
                events = list(ready)
                ready.clear()
                return events

    def _handle(self):
        """Handle the kernel's events in order, into ``_ready``; a batch at most,
        so that a long queue is not held twice over."""
        todo, ready, paths = self._todo, self._ready, self._paths
        removed, unlisted = self._removed, self._unlisted
        wanted, encode = self._wanted, self._encode
        followed = _FOLLOWED
        while todo and len(ready) < _BATCH:
            if not removed and not unlisted and self._plain(_BATCH - len(ready)):
                continue
            wd, mask, cookie, name = todo.popleft()
            if wd in removed:  # the IGNORED of a watch the tree removed
                if mask & _IGNORED:
                    removed.discard(wd)
                continue
            path = paths.get(wd)
            if encode:
                name = name.encode(_FS_ENCODING, _FS_ERRORS)
            if path is None:
                if wd != -1:  # of a watch forgotten, that the kernel ended too
                    continue
                path = name[:0]  # Q_OVERFLOW
            if mask & wanted:
                ready.append(_tuple_new(TreeEvent, (wd, mask, cookie, name,
                                                    path + name)))
            if unlisted and wd in unlisted and mask & _CREATED:
                unlisted[wd].add(name)
            if mask & followed:
                try:
                    self._follow(wd, mask, cookie, name, path)
                except OSError as error:
                    if self._onerror is None:
                        raise
                    self._onerror(error)

    def _plain(self, room):
        """Handle at once the events at the head of the queue (``room`` at most)
        that change no watch, of watches the tree knows; how many there were.
        Each field is taken as a column and every step is a builtin's, so that
        no Python code runs per event."""
        todo, paths = self._todo, self._paths
        events = list(todo) if len(todo) <= room else list(islice(todo, room))
        wds, masks, cookies, names = zip(*events)
        kinds = set(masks)  # a few masks, looked at once each
        try:
            if reduce(or_, kinds) & _FOLLOWED:
                raise KeyError
            directories = list(map(paths.__getitem__, wds))
        except KeyError:  # up to the first that may change a watch, or is unknown
            first = next(at for at, event in enumerate(events)
                         if event[1] & _FOLLOWED or event[0] not in paths)
            if not first:
                return 0
            wds, masks, cookies, names = zip(*events[:first])
            kinds = set(masks)
            directories = list(map(paths.__getitem__, wds))
        if self._encode:
            names = _encoded(names)
        made = map(_tuple_new, repeat(TreeEvent, len(wds)), zip(
            wds, masks, cookies, names, map(add, directories, names)))
        wanted = self._wanted.__and__
        self._ready.extend(made if all(map(wanted, kinds)) else
                           compress(made, map(wanted, masks)))
        if len(wds) == len(todo):
            todo.clear()
        else:
            for _ in repeat(None, len(wds)):
                todo.popleft()
        return len(wds)

    def _follow(self, wd, mask, cookie, name, path):
        """Keep the watches of the trees as directories come, move and go."""
        if mask & _IGNORED:
            self._forget(wd)
        elif mask & _ISDIR and path in self._dirs:
            if mask & _CREATE:
                # Not there: gone, or its parent (or one above) moved since and
                # its events are queued still; it is looked for after them.
                if self._new_directory(wd, name) is False:
                    self._missing[wd, name] = None
                    if len(self._missing) > _MISSING:  # without DELETE, some stay
                        del self._missing[next(iter(self._missing))]
            elif mask & _MOVED_FROM:
                self._missing.pop((wd, name), None)
                moved = self._dirs.get(path + name + self._sep)
                if moved is not None:
                    self._moves[cookie] = (moved, path + name + self._sep)
            elif mask & _MOVED_TO:
                move = self._moves.pop(cookie, None)
                new = path + name + self._sep
                if move is not None and self._excluded(new):
                    self._drop(move[1])
                # The watch tells whether it is the one that left a name (which
                # may have been taken again since); gone again, it is taken to be.
                elif self._new_directory(wd, name) is False and move is not None:
                    self._rename(move[1], new)
                if self._missing:
                    self._find_missing()
            elif mask & _DELETE:
                self._missing.pop((wd, name), None)
        elif mask & _MOVE_SELF:
            # It comes after the MOVED_TO of a move within the trees: one still
            # pending went elsewhere.
            for cookie, (moved, old) in list(self._moves.items()):
                if moved == wd:
                    del self._moves[cookie]
                    self._drop(old)
        elif mask & _Q_OVERFLOW:
            self._rewalk()

    def _find_missing(self):
        """Look again for the new directories that were not where they were made,
        now that a directory has moved."""
        for parent, name in list(self._missing):
            if parent not in self._paths or self._new_directory(parent, name) \
                    is not False:
                del self._missing[parent, name]

    def _excluded(self, path):
        return self._exclude is not None and self._exclude(path[:-1])

    def _new_directory(self, parent, name):
        """Watch a directory that appeared in ``parent``, then report what it
        holds; False if it has gone already."""
        path = self._paths[parent] + name + self._sep
        if self._excluded(path):
            return None
        self._drain(_Walk(set(), None))  # what came before is not the walk's
        walk = _Walk(set([parent]), {})
        try:
            try:
                fd = self._open_new(path, parent)
                if fd is None:
                    return False
                try:
                    wd, new = self._add(fd, path, None)
                except OSError:
                    os.close(fd)
                    raise
            except OSError as e:
                raise _named(e, path[:-1])
            if not new:  # watched already: moved here
                wd = self._watch_of(fd)
                walk.wds.add(wd)  # opened: the events of that are the walk's
                already = self._unlisted.pop(wd, None)
                if already is None:
                    os.close(fd)
                    return None
                # It moved before it could be listed where it was: it is now.
                known = set()
            else:
                already, known = (), None
            report = []
            self._walk(fd, wd, path, walk, report, known)
            if new and self._moved_away(path, wd, walk):
                return None
            if not new:  # its events since are queued already: they are seen too
                kept = list(self._unfound(self._todo, walk.found))
                self._todo.clear()
                self._todo.extend(kept)
            self._report(report, already)
        finally:
            self._drain(walk)
        return None

    def _open_new(self, path, parent):
        """The directory at ``path`` in the one watched as ``parent``, opened
        without following a link; None if it is gone or is not there."""
        try:
            fd = os.open(path[:-1], _O_DIR | _O_NOFOLLOW)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise
        try:  # a link on the way to it would have led elsewhere
            here = self._inotify.add_watch(b'/proc/self/fd/%d/..' % fd,
                                           self._quiet | _MASK_ADD)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.ENOENT, errno.EACCES):
                return None
            raise
        if here == parent:
            return fd
        if here not in self._paths:  # made just now: not the tree's
            self._unwatch(here)
        os.close(fd)
        return None

    def _moved_away(self, path, wd, walk):
        """Whether the new directory watched as ``wd`` left ``path`` while it was
        listed: then what the walk found is not reported, and below it nothing is
        watched; it is listed again where it went, once its move is handled."""
        try:
            fd = os.open(path[:-1], _O_DIR | _O_NOFOLLOW)
        except OSError:
            fd = None
        if fd is not None:
            try:
                if self._watch_of(fd) == wd:
                    return False
            finally:
                os.close(fd)
        walk.found.clear()
        for below in walk.wds:
            if below != wd and below in self._paths and \
                    self._paths[below].startswith(path):
                self._unwatch(below)
        self._unlisted[wd] = set()
        return True

    def _report(self, report, already):
        """What a walk found, as CREATE events, but for the names in ``already``."""
        ready, paths, wanted = self._ready, self._paths, self._wanted
        for wd, mask, name in report:
            if mask & wanted and name not in already:
                ready.append(TreeEvent(wd, mask, 0, name, paths[wd] + name))

    def _rename(self, old, new):
        """Directory ``old`` (and everything below it) is now ``new``."""
        for path, wd in list(self._dirs.items()):
            if path.startswith(old):
                moved = new + path[len(old):]
                if self._dirs.get(path) == wd:
                    del self._dirs[path]
                self._dirs[moved] = wd
                self._paths[wd] = moved

    def _drop(self, old):
        """Stop watching directory ``old`` and everything below it."""
        for path, wd in list(self._dirs.items()):
            if path.startswith(old):
                self._unwatch(wd)

    def _unwatch(self, wd):
        """Remove watch ``wd``, if the kernel has not already, and forget it: what
        is still queued of it, up to its IGNORED, is the tree's."""
        try:
            self._inotify.rm_watch(wd)
        except OSError:  # EINVAL: the kernel has removed it already
            pass
        self._removed.add(wd)
        self._forget(wd)

    def _forget(self, wd):
        path = self._paths.pop(wd, None)
        if path is not None and self._dirs.get(path) == wd:
            del self._dirs[path]
        self._unlisted.pop(wd, None)

    def _rewalk(self):
        """After an overflow, walk the trees again: watch what was missed, and
        report it as new."""
        self._moves.clear()
        self._unlisted.clear()
        self._missing.clear()
        known = set(self._dirs.values())
        # Every directory is read again: all their reading is the walk's.
        self._drain(_Walk(set(), None))
        walk = _Walk(None, {})
        try:
            for wd, path in self._roots:
                if self._paths.get(wd) != path:
                    continue
                try:
                    fd = os.open(path, _O_DIR)
                except OSError:
                    continue
                if self._watch_of(fd) != wd:
                    os.close(fd)
                    continue
                known.discard(wd)
                report = []
                self._walk(fd, wd, path, walk, report, known, new=False)
                self._report(report, ())
        finally:
            self._drain(walk)
        for wd in known:  # gone while events were lost
            if wd in self._paths:
                self._unwatch(wd)
