"""A simple wrapper around Linux's inotify: the kernel's calls through ``ctypes``,
watch descriptors as plain ints, events as namedtuples and flags as IntEnums.
"""
import codecs
import ctypes
import errno
import numbers
import os
import select
import struct
import sys
import threading
import time
import weakref
from array import array
from collections import namedtuple
from enum import Enum
from enum import IntEnum
from io import FileIO
from io import UnsupportedOperation
from itertools import repeat
from operator import index

# Everything that differs between Python 2 and 3, and between platforms.
if sys.version_info[0] >= 3:
    _text = str
    _FS_ENCODING = sys.getfilesystemencoding()
    # Python < 3.6 has no getfilesystemencodeerrors(); os.fsencode() used this there.
    _FS_ERRORS = getattr(sys, 'getfilesystemencodeerrors', lambda: 'surrogateescape')()
    _DECODE_NAMES = True
    _NUL = 0  # bytes contain ints: b'\0' in path would take ten times as long
else:  # Python 2.7: names stay bytes; unicode paths are encoded strictly
    _text = unicode  # noqa: F821
    _FS_ENCODING = sys.getfilesystemencoding() or 'ascii'
    _FS_ERRORS = 'strict'
    _DECODE_NAMES = False
    _NUL = b'\0'
try:
    from os import fspath as _fspath
except ImportError:  # Python < 3.6
    def _fspath(path):
        if isinstance(path, (bytes, _text)):
            return path
        fspath = getattr(type(path), '__fspath__', None)
        if fspath is None:
            raise TypeError('expected str, bytes or os.PathLike object, not %s'
                            % type(path).__name__)
        return fspath(path)
try:
    from threading import get_ident
except ImportError:  # Python 2.7
    from thread import get_ident
try:
    from fcntl import ioctl
    from termios import FIONREAD
except ImportError:  # not a Unix: creating an INotify raises ENOSYS before these
    ioctl = FIONREAD = None
try:
    from time import monotonic as _monotonic
except ImportError:  # Python 2.7: the C library's clock_gettime(CLOCK_MONOTONIC)
    def _monotonic():
        timespec = (ctypes.c_long * 2)()  # struct timespec: tv_sec, tv_nsec
        try:
            function = _libc_function('clock_gettime')
        except OSError:  # glibc before 2.17 has it in librt only: the wall clock
            return time.time()
        _libc_call(function, (_CLOCK_MONOTONIC, timespec))
        return timespec[0] + timespec[1] * 1e-9
# Python < 3.5 cannot tell; its daemon threads keep running at exit anyway.
_finalizing = getattr(sys, 'is_finalizing', lambda: False)
# What tells a child of fork() from its parent: how many forks down from the first
# process it is, counted by os.register_at_fork() (Python 3.7+) as the length of a
# list that each child extends (a builtin's call, cheaper than a function's); else
# its process id, which a child in a new PID namespace may share with its parent.
if hasattr(os, 'register_at_fork'):
    _forks = [None]
    _this_process = _forks.__len__
    os.register_at_fork(after_in_child=lambda: _forks.append(None))
else:  # Python 2.7, 3.6
    _this_process = os.getpid

__version__ = '1.4.0'

__all__ = ['Event', 'INotify', 'flags', 'masks', 'parse_events']

_libc = _libc_quick = None

# inotify_init1(2): IN_CLOEXEC and IN_NONBLOCK are O_CLOEXEC and O_NONBLOCK; so are
# eventfd(2)'s EFD_CLOEXEC and EFD_NONBLOCK. Python 2.7's os has no O_CLOEXEC.
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0o2000000)
_NONBLOCK = os.O_NONBLOCK
_CLOCK_MONOTONIC = 1  # <time.h> on Linux
_MAX_POLL = 2 ** 31 - 1  # poll()'s longest timeout, in ms; longer waits poll again
_CLOSE_WAIT = 1.0  # seconds close() waits for readers to leave, at most
_INFINITY = float('inf')
_CLOSED = 'I/O operation on closed file'  # FileIO's ValueError
_NO_LINES = '%s(): an INotify gives events, not lines: read() them, or iterate'
# The limits that ENOSPC from inotify_add_watch() and EMFILE from inotify_init1()
# may mean: the system's, and the one of the user namespace the process is in.
_WATCHES = ('fs.inotify.max_user_watches', 'user.max_inotify_watches')
_INSTANCES = ('fs.inotify.max_user_instances', 'user.max_inotify_instances')


def _load_libc(use_errno):
    """The C library; None where there is none to be had."""
    # dlopen(NULL) finds the interpreter's own C library, glibc or musl, without
    # running ldconfig or gcc as ctypes.util.find_library() does.
    try:
        libc = ctypes.CDLL(None, use_errno=use_errno)
        if hasattr(libc, 'inotify_init1'):
            return libc
        from ctypes.util import find_library  # a statically linked interpreter
        return ctypes.CDLL(find_library('c') or 'libc.so.6', use_errno=use_errno)
    except Exception:  # RuntimeError from find_library() on some NAS builds, and
        return None    # OSError or TypeError off Linux: _libc_call raises ENOSYS


def _libc_function(name):
    """The C library's function ``name``, loading the library on first use."""
    global _libc, _libc_quick
    if _libc is None:
        # The same functions without errno kept: a call that succeeds costs less
        # (add_watch's); one that fails is made again through _libc, for errno.
        # Published before _libc, which other threads test to skip the loading:
        # two stores into one dict (the module's), seen in order by every thread.
        _libc_quick = _load_libc(use_errno=False)
        _libc = _load_libc(use_errno=True)
    function = getattr(_libc, name, None)
    if function is None:
        raise OSError(errno.ENOSYS, 'inotify is Linux-only: the C library has no '
                      '%s()' % name)
    return function


def _libc_call(function, args, path=None):
    """Call ``function(*args)``; retry on EINTR, raise OSError with errno on -1."""
    while True:
        rc = function(*args)
        if rc != -1:
            return rc
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, _strerror(err, function.__name__), path)


def _strerror(err, name):
    """The message for ``err``, with the limit to raise when one was reached."""
    message = os.strerror(err)
    if err == errno.ENOSPC and name == 'inotify_add_watch':
        limits = _WATCHES
    elif err == errno.EMFILE and name == 'inotify_init1' and _can_open_a_file():
        limits = _INSTANCES
    else:
        return message
    # The lower of the two is the one reached (in the initial user namespace they
    # are one value; in another, /proc/sys/user shows that namespace's own).
    value, limit = min((_sysctl(limit), limit) for limit in limits)
    return '%s: the inotify limit %s (now %s) was reached; raise it with ' \
           '"sysctl %s=N"' % (message, _sysctl_path(limit),
                               '?' if value == _INFINITY else value, limit)


def _sysctl(name):
    """The value of the sysctl ``name``; infinity when it cannot be read."""
    try:
        with open(_sysctl_path(name)) as f:
            return int(f.read())
    except (IOError, OSError, ValueError):  # no /proc, or an older kernel
        return _INFINITY


def _sysctl_path(name):
    return '/proc/sys/' + name.replace('.', '/')


def _can_open_a_file():
    """Whether the process is below its own descriptor limit (RLIMIT_NOFILE)."""
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        return False
    return True


def _encode(path):
    """``path`` as the bytes the kernel will see, checked for NUL bytes."""
    if isinstance(path, _text):
        if u'\0' not in path:  # encoding adds no NUL; a str is searched faster
            return path.encode(_FS_ENCODING, _FS_ERRORS)
    elif _NUL not in path:
        return path
    raise ValueError('path contains a NUL byte: %r' % (path,))


#: An inotify event: what :meth:`INotify.read` and :func:`parse_events` return.
Event = namedtuple('Event', ['wd', 'mask', 'cookie', 'name'])

_EVENT_FIELD_DOCS = [
    ('wd', 'Watch descriptor (int) of the watch the event is for; -1 on overflow.'),
    ('mask', 'Bit mask (int) of the :class:`flags` that describe the event.'),
    ('cookie', 'Cookie (int) pairing MOVED_FROM with MOVED_TO; 0 otherwise.'),
    ('name', "Name of the entry inside a watched directory; '' for the watched "
             'object itself. str (decoded as os.fsdecode() does); bytes on Python 2.'),
]
for _field, _doc in _EVENT_FIELD_DOCS:
    try:
        getattr(Event, _field).__doc__ = _doc
    except (AttributeError, TypeError):  # Python 2.7: property docs are read-only
        pass

# struct inotify_event, inotify(7): int wd; uint32_t mask, cookie, len; char name[len]
_EVENT_FMT = 'iIII'
_EVENT_SIZE = struct.calcsize(_EVENT_FMT)
_EVENT_HEADER = struct.Struct(_EVENT_FMT)
_EVENTFD_ONE = struct.pack('=Q', 1)  # eventfd(2) adds what is written
_INT_ZERO = array('i', [0])  # FIONREAD's int, copied for each call
_iter_unpack = getattr(struct, 'iter_unpack', None)  # Python 3.4+
# Buffers this long or longer may be parsed with _parse_uniform; shorter ones parse
# faster one event at a time, and on PyPy, whose JIT runs _parse three times
# faster, all do.
_UNIFORM_MIN = float('inf') if hasattr(sys, 'pypy_version_info') or not \
    _iter_unpack else 8 * _EVENT_SIZE
_BATCH = 4096  # events _parse_uniform takes at once: bounds the copies it makes
# Names may be decoded all at once where the codec reads an ASCII byte as itself
# wherever it stands, as UTF-8 and ASCII do: the same as decoding each on its own.
_DECODE_AT_ONCE = _DECODE_NAMES and codecs.lookup(_FS_ENCODING).name in ('utf-8',
                                                                         'ascii')
_SHAPE = bytes(bytearray([0] + [1] * 255))  # translate(): NUL to 0, any other byte to 1


# Where a signal handler may run before nearly any bytecode (Python 2.7 and 3.6-3.9
# check for one at each; PyPy where its JIT likes), its exception may skip the
# start of a finally clause and leave a call counted after it has returned.
# CPython 3.10 and later run handlers only around calls and at backward jumps.
_STALE_COUNTS = sys.version_info < (3, 10) or hasattr(sys, 'pypy_version_info')


class _Process(object):
    """What an :class:`INotify` keeps for each process that uses it, so that a child
    made by ``fork()`` never touches its parent's: the lock that readers hold around
    ``FIONREAD`` and ``read()``, the threads inside a method that uses the
    descriptor, and the eventfd that ``close()`` writes to wake those waiting in
    ``read()`` (made on the first wait).

    The rules that keep the descriptors right through threads (with or without the
    GIL), ``close()``, ``fork()`` and signal handlers; every method that uses the
    descriptor keeps them, and tests/test_rules.py checks that it does:

    1. The first statement in its ``try`` is ``process.users.append(me)``, the
       first in its ``finally`` is ``process.users.remove(me)``, and no loop or
       ``with`` block stands in that ``try`` (loops live in helpers): CPython
       3.10+ runs a handler, and raises its exception, only around calls and at
       jumps back, so never between the count and the ``try`` nor between the
       ``finally`` and the removal. (3.13 and 3.14 may raise it at a loop's jump
       back outside the ``try`` around the loop, gh-130279.)
    2. A signal handler's ``close()`` costs the same wherever it lands and
       however deep handlers nest (they may come faster than it runs): a
       ``close()`` once ``__closing`` is set counts nothing and waits for
       nobody, and releases only if no thread is counted (then none uses the
       descriptors: rule 4). A thread found counted already as a method starts
       is inside a method of this instance that a handler interrupted: the
       first ``close()`` leaves the closing to that method and returns at once;
       ``read()`` raises RuntimeError. Where ``_STALE_COUNTS``, a count may
       outlive its call: ``read()`` asks the thread's own frames, and forgets a
       count that they do not bear out; no code reads another thread's frames.
       A count left stale may keep the descriptor open until the instance is
       collected, which closes it (:func:`_collected`).
    3. Shared state is only touched by single operations that free-threaded
       CPython makes atomic (a list's append, remove, ``in`` and truth; a
       dict's get, setdefault and popitem; an attribute's store and load), or under
       ``lock``, which no signal handler can need: a handler's ``read()`` raises
       before it, and ``close()`` never takes it.
    4. ``close()`` sets ``__closing`` after counting itself and then looks for
       others; a method looks at ``__closing`` after counting itself: one of
       the two sees the other. After ``close()``, whoever leaves last releases:
       each descriptor is an entry of ``INotify.__processes`` (the inotify one
       under ``None``), closed by the one thread that pops it, so threads that
       leave together close each descriptor once.
    """

    __slots__ = ('lock', 'users', 'wake')

    def __init__(self):
        self.lock = threading.RLock()  # for its _is_owned(); never taken twice
        self.users = []  # get_ident() of each call in progress, once per call
        self.wake = None


class INotify(FileIO):

    #: The inotify file descriptor returned by ``inotify_init1()``. Use it with
    #: ``os.read`` and :func:`parse_events` if you prefer; also :meth:`fileno`.
    fd = property(FileIO.fileno)

    # Private state of our own, beyond 1.3's _poller and _readall, has names that
    # subclasses written for 1.3 cannot clash with (Python mangles them).
    __processes = None  # the descriptors to close: see _Process; set by __init__
    __closing = False  # close() was called
    __close_file = FileIO.close  # for close(), once the module's globals are gone

    def __init__(self, inheritable=False, nonblocking=False, closefd=True):
        """Create an inotify instance; wraps ``inotify_init1()``.

        Also usable as a context manager that closes it, and wherever a file with
        ``fileno()`` is expected (``select``, ``selectors``, asyncio's
        ``add_reader``).

        Args:
            inheritable (bool): whether child processes inherit the descriptor. The
                default, ``False``, passes ``IN_CLOEXEC``.
            nonblocking (bool): pass ``IN_NONBLOCK``. :meth:`read` is unaffected;
                other reads of :attr:`fd` with nothing queued raise
                ``BlockingIOError`` (Python 2: ``OSError`` with ``EAGAIN``).
            closefd (bool): whether :meth:`close` (and garbage collection) closes
                the descriptor, as for ``io.FileIO``.

        Raises:
            OSError: the kernel's error, unchanged: ``EMFILE`` when the instance
                limit ``/proc/sys/fs/inotify/max_user_instances`` (the message says
                so) or the process's descriptor limit is reached; ``ENOSYS`` off
                Linux.
        """
        init_flags = (not inheritable) * _CLOEXEC | bool(nonblocking) * _NONBLOCK
        fd = _libc_call(_libc_function('inotify_init1'), (init_flags,))
        FileIO.__init__(self, fd, mode='rb', closefd=closefd)
        # None: the inotify descriptor, with the number _collected closes if any;
        # the other keys: _this_process() of each process that used it (this
        # one's made now: a close() from a handler that interrupted the making of
        # it would make its own, and so would the handlers inside that one).
        self.__processes = {None: fd if closefd else None, _this_process(): _Process()}
        _UNCOLLECTED[weakref.ref(self, _collected)] = self.__processes
        self._poller = select.poll()  # kept for subclasses written for 1.3
        self._poller.register(self.fileno())

    def add_watch(self, path, mask):
        """Watch ``path`` for the events in ``mask``; wraps ``inotify_add_watch()``.

        Args:
            path (str, bytes or os.PathLike): the file or directory to watch,
                encoded with ``os.fsencode()``.
            mask (int): the :class:`flags` to watch for, OR-ed together.

        Returns:
            int: the watch descriptor; the same one again for a path already
            watched (whose mask is replaced, or extended with ``MASK_ADD``).

        Raises:
            TypeError: ``path`` or ``mask`` is of the wrong type.
            ValueError: ``path`` contains a NUL byte, ``mask`` does not fit in
                32 unsigned bits, or the instance is closed.
            OSError: the kernel's error, unchanged, naming ``path``: ``ENOENT``,
                ``EACCES``, ``ENOTDIR`` (``ONLYDIR`` on a file), ``EEXIST``
                (``MASK_CREATE`` on a watched path), ``EINVAL`` (no event in
                ``mask``), ``ENOSPC`` (the watch limit
                ``/proc/sys/fs/inotify/max_user_watches``; the message says so).
        """
        if path.__class__ is _text and u'\0' not in path:  # the common cases, quickly
            encoded = path.encode(_FS_ENCODING, _FS_ERRORS)
        elif path.__class__ is bytes and _NUL not in path:
            encoded = path
        else:
            path = _fspath(path)
            encoded = _encode(path)
        mask = index(mask)
        if mask >> 32:  # negative, or more than 32 bits
            raise ValueError('mask %r does not fit in 32 unsigned bits' % (mask,))
        process = self.__processes.get(_this_process()) or self.__process()
        me = get_ident()
        try:
            process.users.append(me)  # rule 1 of _Process: first in the try
            if self.__closing:  # (a file closed otherwise fails in fileno() alike)
                raise ValueError(_CLOSED)
            wd = _libc_quick.inotify_add_watch(self.fileno(), encoded, mask)
            if wd == -1:  # again through _libc_call, for errno, message, EINTR retry
                wd = _libc_call(_libc.inotify_add_watch, (self.fileno(), encoded, mask),
                                path)
        finally:
            try:
                process.users.remove(me)  # and first in the finally
            except ValueError:  # where _STALE_COUNTS: a handler's exception came first
                pass
            if self.__closing and not process.users:
                self.__release()
        return wd

    def rm_watch(self, wd):
        """Stop watching ``wd``; wraps ``inotify_rm_watch()``, which queues ``IGNORED``.

        Args:
            wd (int): a watch descriptor returned by :meth:`add_watch`.

        Raises:
            TypeError: ``wd`` is not an int.
            ValueError: the instance is closed.
            OSError: ``EINVAL`` if ``wd`` is not a watch of this instance.
        """
        if wd.__class__ is not int:  # a wd from add_watch() is, and passes quickly
            wd = int(index(wd))
        process = self.__processes.get(_this_process()) or self.__process()
        me = get_ident()
        try:
            process.users.append(me)
            if self.__closing:
                raise ValueError(_CLOSED)
            if not -2 ** 31 <= wd < 2 ** 31:  # the kernel's int; no other is a watch
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            if _libc_quick.inotify_rm_watch(self.fileno(), wd) == -1:  # as add_watch
                _libc_call(_libc.inotify_rm_watch, (self.fileno(), wd))
        finally:
            try:
                process.users.remove(me)
            except ValueError:
                pass
            if self.__closing and not process.users:
                self.__release()

    def read(self, timeout=None, read_delay=None):
        """Read the queued events, waiting for some with ``poll()`` if there are none.

        Any number of threads may read at once: each event goes to one of them,
        whole. :meth:`close` from another thread wakes them all, with ``[]``.

        Args:
            timeout (int or float): milliseconds to wait when nothing is queued.
                ``None`` (the default), negative or ``float('inf')``: until events
                arrive. ``0``: return at once.
            read_delay (int or float): when nothing was queued at the call,
                milliseconds to wait after the first event arrives, so that more
                gather (and the kernel merges repeats) before they are read;
                ``float('inf')``: until :meth:`close`.

        Returns:
            list[Event]: every event queued at that moment, in the kernel's order;
            ``[]`` on timeout or when :meth:`close` was called meanwhile.

        Raises:
            TypeError: ``timeout`` or ``read_delay`` is not a number.
            ValueError: ``timeout`` or ``read_delay`` is NaN, or the instance is
                closed.
            RuntimeError: called from a signal handler that interrupted another
                method of the same instance in the same thread.
            OSError: ``EMFILE``, when the descriptor that :meth:`close` uses to
                wake waiting readers (an eventfd, made by the first ``read()`` of
                a process that waits) cannot be made.
        """
        deadline = None if timeout == 0 else _deadline(_seconds(timeout, 'timeout'))
        delay = None if read_delay is None else _seconds(read_delay, 'read_delay')
        process = self.__processes.get(_this_process()) or self.__process()
        me = get_ident()
        if me in process.users and self.__reentered(process, me):
            raise RuntimeError('read() was called from a signal handler that '
                               'interrupted a method of this INotify')
        lock = process.lock  # so that every event goes whole to one reader
        try:
            process.users.append(me)
            if self.__closing:
                raise ValueError(_CLOSED)
            lock.acquire()
            data = self._readall()
            lock.release()
            if not data and timeout != 0:
                data = self.__wait_and_read(process, deadline, delay)
        except BaseException:
            # From _readall(), or from a signal handler (Ctrl-C) as acquire()
            # returns: the lock must not stay held.
            if lock._is_owned():
                lock.release()
            raise
        finally:
            try:
                process.users.remove(me)
            except ValueError:
                pass
            if self.__closing and not process.users:
                self.__release()
        return parse_events(data) if data else []

    def close(self):
        """Close the descriptor, and with it every watch; calling it again does nothing.

        Threads waiting in :meth:`read` wake at once and return ``[]``; the first
        ``close()`` waits for them and for any other thread inside a method of
        this instance to return (for a second at most), and the descriptor is
        closed once no thread is using it. A later ``close()``, from any thread,
        returns at once. A signal handler may call it, even while the thread it
        interrupts is inside a method of this instance, ``close()`` included: the
        descriptor is then closed as that method returns. After ``fork()``,
        closing the child's copy leaves the parent's instance as it was.
        """
        if _Process is None or self.__processes is None:
            # The interpreter's exit has emptied this module (the exit closes
            # every descriptor anyway); or __init__ failed, or has not run.
            if self.__processes:
                self.__processes.clear()  # closed here: nothing for _collected
            return self.__close_file()
        process = self.__processes.get(_this_process())
        if self.__closing:  # rule 2: a later close() waits for nobody
            if process is None or not process.users:
                self.__release()
            return
        process = process or self.__process()
        me = get_ident()
        interrupted = me in process.users  # rule 2: the interrupted method closes
        try:
            process.users.append(me)
            if not self.__closing:
                self.__closing = True
                if process.wake is not None:
                    os.write(process.wake, _EVENTFD_ONE)
            if not interrupted:
                self.__wait_for_users(process, me)
        finally:
            try:
                process.users.remove(me)
            except ValueError:  # rule 1, where _STALE_COUNTS
                pass
            if self.__closing and not process.users:
                self.__release()

    def __iter__(self):
        """The events as they arrive: each :meth:`read` waits for some. The loop
        ends once the instance is closed, from any thread."""
        while True:
            try:
                events = self.read()  # [] when closed while it waits
            except ValueError:  # closed: without arguments, read() raises no other
                return
            for event in events:
                yield event

    def readline(self, size=-1):
        """Refused, as :meth:`readlines` and :meth:`readall` are, reading nothing:
        inotify gives events, not lines (:meth:`read` them, or iterate).
        ``readinto()`` is ``io.FileIO``'s: the kernel's bytes, for
        :func:`parse_events`."""
        raise UnsupportedOperation(_NO_LINES % 'readline')

    def readlines(self, hint=-1):
        raise UnsupportedOperation(_NO_LINES % 'readlines')

    def readall(self):
        raise UnsupportedOperation(_NO_LINES % 'readall')

    def _readall(self):
        """All the bytes queued, sized with ``FIONREAD``; b'' when none. A subclass
        may read the queue its own way here, as 1.3's could: :meth:`read` calls it
        with the descriptor held open, and the readers' lock taken."""
        size = _INT_ZERO.__copy__()  # an int that ioctl() fills in
        ioctl(self.fileno(), FIONREAD, size)
        if not size[0]:  # never read(fd, 0): inotify(7) blocks then fails with EINVAL
            return b''
        try:
            return os.read(self.fileno(), size[0])
        except OSError as e:  # IN_NONBLOCK, and another process read them first
            if e.errno != errno.EAGAIN:
                raise
            return b''

    # The machinery of threads, close(), fork() and signals: see _Process's rules.

    def __process(self):
        """The calling process's :class:`_Process`; a child of ``fork()`` makes its
        own (setdefault() is atomic: two threads of a child get the same one)."""
        key = _this_process()
        return self.__processes.get(key) or self.__processes.setdefault(key, _Process())

    def __reentered(self, process, me):
        """Whether thread ``me``, counted in ``process.users`` as :meth:`read`
        starts, is inside a method of this instance that a signal handler
        interrupted (rule 2). Where ``_STALE_COUNTS``, its own frames tell, and
        a count they do not bear out is forgotten."""
        if not _STALE_COUNTS:
            return True
        frame = sys._getframe(2)  # the caller's caller: past the read() asking
        while frame is not None:
            if frame.f_code in _COUNTING and frame.f_locals.get('self') is self:
                return True
            frame = frame.f_back
        while me in process.users:
            process.users.remove(me)
        return False

    def __wait_and_read(self, process, deadline, delay):
        """:meth:`read`'s wait, with its loop outside read()'s ``try`` (rule 1):
        the events that came, or b'' on timeout and once :meth:`close` was
        called."""
        while self.__wait(process, deadline, delay):
            process.lock.acquire()
            data = self._readall()
            process.lock.release()
            if data:
                return data
        return b''

    def __wait(self, process, deadline, delay):
        """Wait for events until ``deadline``, then ``delay`` more; whether to read
        again (False on timeout, and once :meth:`close` was called)."""
        if process.wake is None:
            process.lock.acquire()
            if process.wake is None:  # eventfd(2)
                process.wake = _libc_call(_libc_function('eventfd'),
                                          (0, _CLOEXEC | _NONBLOCK))
            process.lock.release()
        if self.__closing:  # checked after the eventfd is there for close() to write
            return False
        poller = select.poll()  # one per wait: two threads may not share a poll
        poller.register(self.fileno(), select.POLLIN)
        poller.register(process.wake, select.POLLIN)
        while True:
            ready = _poll(poller, deadline)
            if not ready or self.__closing:
                return False
            if [fd for fd, _ in ready if fd != process.wake]:
                break
            # Written, yet not by close(), which sets __closing first: wait on
            # without it, rather than be woken again and again until the deadline.
            poller.unregister(process.wake)
        if delay and delay > 0:
            poller.unregister(self.fileno())
            _poll(poller, _deadline(delay))
        return not self.__closing

    def __wait_for_users(self, process, me):
        """:meth:`close`'s wait for the other threads inside a method to leave, a
        second at most (the last one out closes). It wakes a reader whose eventfd
        came too late for ``close()`` to see, and the reader ``__closing``."""
        woken = process.wake
        end = _monotonic() + _CLOSE_WAIT
        pause = 0.0001
        while [user for user in process.users if user != me]:
            if _finalizing() or _monotonic() > end:  # at exit, others stand still
                return
            if process.wake != woken:
                woken = process.wake
                os.write(woken, _EVENTFD_ONE)
            time.sleep(pause)
            pause = min(2 * pause, 0.01)

    def __release(self):
        """Close the descriptors, each once (rule 4): this process's eventfd, the
        copies of its parents' (after ``fork()``), and the inotify descriptor."""
        _close_all(self.__processes, self)


# The methods that count the calling thread as a user of the descriptors.
_COUNTING = frozenset(method.__code__ for method in (
    INotify.add_watch, INotify.rm_watch, INotify.read, INotify.close))

# weakref.ref(instance) -> its dict of descriptors, until the instance is collected.
_UNCOLLECTED = {}


def _close_all(processes, inotify):
    """Close the descriptors in ``processes`` (an instance's: see :class:`_Process`)
    that no other thread has popped; ``inotify``: the instance, or None once it
    is gone, and its descriptor is closed by number."""
    while processes:
        try:
            key, item = processes.popitem()
        except KeyError:  # emptied by another thread meanwhile
            return
        if key is not None:
            if item.wake is not None:
                os.close(item.wake)
        elif inotify is not None:
            FileIO.close(inotify)
        elif item is not None:
            os.close(item)


def _collected(ref):
    """An instance was collected: close what it left open, which is nothing
    unless a count left stale (rule 2) kept its ``close()`` from closing, or its
    reference cycle was collected before its ``close()`` ran."""
    if _UNCOLLECTED is not None:  # None: the interpreter's exit emptied the module
        _close_all(_UNCOLLECTED.pop(ref), None)


def _seconds(milliseconds, name):
    """``milliseconds`` (a number, or None) in seconds."""
    if milliseconds is None:
        return None
    if not isinstance(milliseconds, (int, float, numbers.Real)):  # quickest first
        raise TypeError('%s must be a number of milliseconds or None, not %r'
                        % (name, milliseconds))
    if milliseconds != milliseconds:
        raise ValueError('%s must be a number of milliseconds or None, not NaN'
                         % name)
    try:
        return milliseconds / 1000.0
    except OverflowError:  # an int too large for a float: longer than any wait
        return _INFINITY if milliseconds > 0 else -_INFINITY


def _deadline(seconds):
    """The ``_monotonic()`` time ``seconds`` from now; None (never) for None, a
    negative number or infinity."""
    if seconds is None or seconds < 0 or seconds == _INFINITY:
        return None
    return _monotonic() + seconds


def _poll(poller, deadline):
    """``poller.poll()`` until ``deadline``, through signals: the ready descriptors
    with their events, or [] once the deadline has passed."""
    while True:
        timeout = None
        if deadline is not None:  # in whole ms, rounded up, as poll() takes them
            timeout = min(max(0, int(-((_monotonic() - deadline) * 1000 // 1))),
                          _MAX_POLL)
        try:
            ready = poller.poll(timeout)
        except select.error as e:  # Python 2.7 does not retry EINTR (PEP 475 does)
            if e.args[0] != errno.EINTR:
                raise
            continue
        if ready or deadline is not None and _monotonic() >= deadline:
            return ready


def parse_events(data):
    """Unpack the events in ``data``, bytes read from an inotify descriptor.

    Args:
        data (bytes): a sequence of ``struct inotify_event``, as ``read()`` of an
            inotify descriptor returns them.

    Returns:
        list[Event]: the events, in order.

    Raises:
        ValueError: ``data`` is truncated or malformed (the message names the
            offset of the event at fault).
    """
    if type(data) is not bytes:  # bytearray, memoryview, mmap: slices must be bytes
        data = memoryview(data).tobytes()
    end = len(data)
    if end >= _UNIFORM_MIN:
        # A burst of events whose names have one padded length (short names pad to
        # 16 bytes; no name is 0): unpack them all at once, when that is so.
        size = _EVENT_HEADER.unpack_from(data, 0)[3]
        step = _EVENT_SIZE + size
        if not end % step and not step % 4:
            lengths = memoryview(data).cast('I')[3::step // 4]
            if lengths == memoryview(struct.pack('I', size) * len(lengths)).cast('I'):
                return _parse_uniform(data, size)
    return _parse(data)


def _parse(data):
    """:func:`parse_events`, one event at a time."""
    events = []
    append = events.append
    unpack_from = _EVENT_HEADER.unpack_from
    new = tuple.__new__
    end = len(data)
    offset = start = 0
    raw, name = b'', ''  # consecutive events often name one file: decode it once
    try:
        while offset < end:
            wd, mask, cookie, size = unpack_from(data, offset)
            start = offset + _EVENT_SIZE
            offset = start + size
            piece = data[start:offset]
            if piece != raw:
                raw = piece
                name = raw.rstrip(b'\0')
                if _DECODE_NAMES:
                    name = name.decode(_FS_ENCODING, _FS_ERRORS)
            append(new(Event, (wd, mask, cookie, name)))
    except struct.error:
        raise ValueError('truncated inotify event at offset %d of %d bytes: only %d '
                         'of its %d header bytes' % (offset, end, end - offset,
                                                     _EVENT_SIZE))
    if offset > end:
        raise ValueError('truncated inotify event at offset %d of %d bytes: its name '
                         'of %d bytes runs past the end' % (start - _EVENT_SIZE, end,
                                                            offset - start))
    return events


def _parse_uniform(data, size):
    """:func:`parse_events` of events whose names all take ``size`` bytes (Python 3):
    a batch at a time, each a column of bytes at a time when its names allow."""
    step = _EVENT_SIZE + size
    view = memoryview(data)
    events = []
    for first in range(0, len(data), _BATCH * step):
        batch = view[first:first + _BATCH * step]
        count = len(batch) // step
        names = None
        if not step % 4:  # the fields can be read as columns of 4-byte words
            names = _names(batch, size, count) if size else repeat('', count)
        if names is None:
            events += [tuple.__new__(Event, (wd, mask, cookie, raw.rstrip(b'\0').decode(
                _FS_ENCODING, _FS_ERRORS))) for wd, mask, cookie, _, raw in
                _iter_unpack(_EVENT_FMT + '%ds' % size, batch)]
        else:
            events += map(tuple.__new__, repeat(Event, count), zip(
                batch.cast('i')[::step // 4], batch.cast('I')[1::step // 4],
                batch.cast('I')[2::step // 4], names))
    return events


def _names(batch, size, count):
    """The names in ``batch``, decoded as one string, when every name has the length
    of the first and only NULs after it, as the kernel writes them; else None."""
    if not _DECODE_AT_ONCE:
        return None
    step = _EVENT_SIZE + size
    text = bytearray(batch)
    length = text.find(b'\0', _EVENT_SIZE, step) - _EVENT_SIZE
    if length < 0:  # no NUL: the name fills its bytes
        length = size
    # Blank each header but its last byte, which becomes a '/' before the name.
    blank = bytes(count)
    for column in range(_EVENT_SIZE - 1):
        text[column::step] = blank
    text[_EVENT_SIZE - 1::step] = b'/' * count
    # Then every event must read: NULs, '/', the name's bytes (not NUL), NULs.
    shape = bytes(_EVENT_SIZE - 1) + b'\1' * (1 + length) + bytes(size - length)
    if text.translate(_SHAPE) != shape * count:
        return None
    text = bytes(text).translate(None, b'\0').decode(_FS_ENCODING, _FS_ERRORS)
    names = text.split('/')
    if len(names) != count + 1:  # a name held a '/': the kernel never writes one
        return None
    del names[0]
    return names


def _format_member(member, format_spec):
    """format() of a flag: its name as str() gives it, or its number if a format
    spec is given (``'{:x}'``), on every Python (3.6-3.10 gave the number)."""
    return format(int(member), format_spec) if format_spec else str(member)


class flags(IntEnum):
    """The inotify flags of ``<sys/inotify.h>``, without their ``IN_`` prefix.

    OR them into the ``mask`` of :meth:`INotify.add_watch`, and test them against
    an :attr:`Event.mask`. They print as their name, ``flags.CREATE``, with
    ``print()``, ``str()``, ``'{}'.format()`` and f-strings; a format spec
    formats the number: ``'{:x}'.format(flags.CREATE)`` is ``'100'``.
    """

    __str__ = Enum.__str__  # Python 3.11 made IntEnum print as an int
    __format__ = _format_member

    ACCESS = 0x00000001  #: file was accessed (entries of a watched directory too)
    MODIFY = 0x00000002  #: file was modified (written, truncated)
    ATTRIB = 0x00000004  #: metadata changed: permissions, timestamps, links, owner
    CLOSE_WRITE = 0x00000008  #: a file opened for writing was closed
    CLOSE_NOWRITE = 0x00000010  #: a file or directory not opened for writing closed
    OPEN = 0x00000020  #: file or directory was opened
    MOVED_FROM = 0x00000040  #: an entry was moved out of a watched directory
    MOVED_TO = 0x00000080  #: an entry was moved into a watched directory
    CREATE = 0x00000100  #: an entry was created in a watched directory
    DELETE = 0x00000200  #: an entry was deleted from a watched directory
    DELETE_SELF = 0x00000400  #: the watched file or directory itself was deleted
    MOVE_SELF = 0x00000800  #: the watched file or directory itself was moved

    UNMOUNT = 0x00002000  #: the filesystem holding the watched object was unmounted
    Q_OVERFLOW = 0x00004000  #: the event queue overflowed (the event's wd is -1)
    IGNORED = 0x00008000  #: the watch was removed: rm_watch, deletion or unmount

    ONLYDIR = 0x01000000  #: add_watch: watch the path only if it is a directory
    DONT_FOLLOW = 0x02000000  #: add_watch: do not follow the path if a symlink
    EXCL_UNLINK = 0x04000000  #: add_watch: no events for entries once unlinked
    MASK_CREATE = 0x10000000  #: add_watch: fail with EEXIST if already watched
    MASK_ADD = 0x20000000  #: add_watch: add to an existing watch's mask
    ISDIR = 0x40000000  #: the event's subject is a directory
    ONESHOT = 0x80000000  #: add_watch: remove the watch after its first event

    @classmethod
    def from_mask(cls, mask):
        """The flags set in ``mask``, in the order of their values.

        Args:
            mask (int): an :attr:`Event.mask`, or flags OR-ed together.

        Returns:
            list[flags]: every flag whose bit is set in ``mask``.
        """
        return [flag for flag in cls.__members__.values() if flag & mask]


class masks(IntEnum):
    """Convenience masks: :class:`flags` OR-ed together."""

    __str__ = Enum.__str__  # Python 3.11 made IntEnum print as an int
    __format__ = _format_member

    CLOSE = flags.CLOSE_WRITE | flags.CLOSE_NOWRITE  #: either CLOSE_* event
    MOVE = flags.MOVED_FROM | flags.MOVED_TO  #: either MOVED_* event
    #: all twelve events, ACCESS to MOVE_SELF
    ALL_EVENTS = (flags.ACCESS | flags.MODIFY | flags.ATTRIB | flags.CLOSE_WRITE |
                  flags.CLOSE_NOWRITE | flags.OPEN | flags.MOVED_FROM |
                  flags.MOVED_TO | flags.CREATE | flags.DELETE | flags.DELETE_SELF |
                  flags.MOVE_SELF)


if __name__ == '__main__':  # the command line lives in a module of its own
    from inotify_simple_cli import main
    sys.exit(main())
