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
else:  # Python 2.7: names stay bytes; unicode paths are encoded strictly
    _text = unicode  # noqa: F821
    _FS_ENCODING = sys.getfilesystemencoding() or 'ascii'
    _FS_ERRORS = 'strict'
_DECODE_NAMES = _text is str
_NUL = 0 if _DECODE_NAMES else b'\0'  # Python 3's bytes contain ints: 0 is quicker
try:
    from os import fspath as _fspath
except ImportError:  # Python 2.7
    def _fspath(path):
        if isinstance(path, (bytes, _text)) or hasattr(type(path), '__fspath__'):
            return getattr(type(path), '__fspath__', lambda path: path)(path)
        raise TypeError('expected str, bytes or os.PathLike object, not %s'
                        % type(path).__name__)
try:
    from threading import get_ident
except ImportError:  # Python 2.7
    from thread import get_ident
try:
    from fcntl import ioctl
    from termios import FIONREAD
except ImportError:  # not a Unix: creating an INotify raises ENOSYS before these
    ioctl = FIONREAD = None
# Python 2.7 has no monotonic clock: its timeouts follow the wall clock.
_monotonic = getattr(time, 'monotonic', time.time)
# Python < 3.5 cannot tell; its daemon threads keep running at exit anyway.
_finalizing = getattr(sys, 'is_finalizing', lambda: False)
# The instances' per-process states (_State), reset in a child of fork(); where
# os.register_at_fork() is missing (Python 2.7, 3.6), each call compares process ids.
_AT_FORK = hasattr(os, 'register_at_fork')
_STATES = weakref.WeakSet()
if _AT_FORK:
    os.register_at_fork(after_in_child=lambda: [state.forked() for state in
                                                 list(_STATES)])
# What garbage collection calls with an instance's descriptors once it is gone.
_finalize = getattr(weakref, 'finalize', None)
if _finalize is None:  # Python 2.7: a weakref's callback, the weakref kept alive
    _FINALIZERS = {}

    def _finalize(instance, function, *args):
        def collected(ref):
            if _FINALIZERS is not None:  # None: the interpreter's exit emptied us
                del _FINALIZERS[ref]
                function(*args)
        _FINALIZERS[weakref.ref(instance, collected)] = None
        return collected  # whose atexit, as weakref.finalize's, is set, and unused

__version__ = '1.4.0'

__all__ = ['Event', 'INotify', 'flags', 'masks', 'parse_events']

_libc = None


# inotify_init1(2): IN_CLOEXEC and IN_NONBLOCK are O_CLOEXEC and O_NONBLOCK; so are
# eventfd(2)'s EFD_CLOEXEC and EFD_NONBLOCK. Python 2.7's os has no O_CLOEXEC.
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0o2000000)
_NONBLOCK = os.O_NONBLOCK
_MAX_POLL = 2 ** 31 - 1  # poll()'s longest timeout, in ms; longer waits poll again
_CLOSE_WAIT = 1.0  # seconds close() waits for readers to leave, at most
_INFINITY = float('inf')
_CLOSED = 'I/O operation on closed file'  # FileIO's ValueError
_NO_LINES = 'an INotify gives events, not lines: read() them, or iterate'
# The limits that ENOSPC from inotify_add_watch() and EMFILE from inotify_init1()
# may mean: the system's, and the one of the user namespace the process is in.
_WATCHES = ('fs.inotify.max_user_watches', 'user.max_inotify_watches')
_INSTANCES = ('fs.inotify.max_user_instances', 'user.max_inotify_instances')


def _load_libc():
    """The C library, with errno kept; None where there is none to be had."""
    # dlopen(NULL) finds the interpreter's own C library, glibc or musl, without
    # running ldconfig or gcc as ctypes.util.find_library() does.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if hasattr(libc, 'inotify_init1'):
            return libc
        from ctypes.util import find_library  # a statically linked interpreter
        return ctypes.CDLL(find_library('c') or 'libc.so.6', use_errno=True)
    except Exception:  # RuntimeError from find_library() on some NAS builds, and
        return None    # OSError or TypeError off Linux: _libc_call raises ENOSYS

def _libc_call(name, args, path=None):
    """The C library's ``name(*args)``, loading the library on first use: again on
    EINTR; OSError with the errno on -1."""
    global _libc
    if _libc is None:
        _libc = _load_libc()
    function = getattr(_libc, name, None)
    if function is None:
        raise OSError(errno.ENOSYS, 'inotify is Linux-only: the C library has no '
                      '%s()' % name)
    while True:
        rc = function(*args)
        if rc != -1:
            return rc
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, _strerror(err, name), path)


def _strerror(err, name):
    """The message for ``err``, with the limit to raise when one was reached."""
    message = os.strerror(err)
    limits = _WATCHES if err == errno.ENOSPC and name == 'inotify_add_watch' else \
        _INSTANCES if err == errno.EMFILE and name == 'inotify_init1' else ()
    if not limits or limits is _INSTANCES and not _can_open_a_file():
        return message
    # The lower of the two is the one reached (in the initial user namespace they
    # are one value; in another, /proc/sys/user shows that namespace's own).
    value, limit = min((_sysctl(limit), limit) for limit in limits)
    return '%s: the inotify limit /proc/sys/%s (now %s) was reached; raise it ' \
           'with "sysctl %s=N"' % (message, limit.replace('.', '/'),
                                   '?' if value == _INFINITY else value, limit)


def _sysctl(name):
    """The value of the sysctl ``name``; infinity when it cannot be read."""
    try:
        with open('/proc/sys/' + name.replace('.', '/')) as f:
            return int(f.read())
    except (IOError, OSError, ValueError):  # no /proc, or an older kernel
        return _INFINITY


def _can_open_a_file():
    """Whether the process is below its own descriptor limit (RLIMIT_NOFILE)."""
    try:
        return os.close(os.open(os.devnull, os.O_RDONLY)) is None
    except OSError:
        return False


#: An inotify event: what :meth:`INotify.read` and :func:`parse_events` return.
Event = namedtuple('Event', ['wd', 'mask', 'cookie', 'name'])

for _field, _doc in zip(Event._fields * _DECODE_NAMES, [  # (Python 2: read-only)
        'Watch descriptor (int) of the watch the event is for; -1 on overflow.',
        'Bit mask (int) of the :class:`flags` that describe the event.',
        'Cookie (int) pairing MOVED_FROM with MOVED_TO; 0 otherwise.',
        "Name of the entry inside a watched directory; '' for the watched object "
        'itself. str (decoded as os.fsdecode() does); bytes on Python 2.']):
    getattr(Event, _field).__doc__ = _doc

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


# How the descriptors stay right through threads (with or without the GIL), close(),
# fork() and signal handlers. Each method that uses them counts its thread in
# _State.users as the first statement of a try, then looks at the closing flag
# (__open emptied); close() empties __open, then looks at the count: one of the two
# sees the other. Once closed, whoever leaves last releases: every descriptor is an
# entry of __fds, closed by the one thread that pops it. Readers take the readers'
# lock around FIONREAD and read(), and name themselves its owner meanwhile, so that
# every event goes whole to one of them. A signal handler's close() never waits: in
# a thread already counted, the method it interrupted releases as it returns. Its
# read() raises RuntimeError only where it would wedge: inside that window. A child
# of fork() gets fresh states. Where handlers run before nearly any bytecode
# (Python <= 3.9, PyPy), an exception from one may skip the count's removal: the
# descriptors then stay open until the instance is collected, which closes them.


class _State(object):
    """An :class:`INotify`'s machinery in one process: see the note above."""

    __slots__ = ('fds', 'lock', 'owner', 'users', 'wake', 'left', 'closer', 'pid',
                 '__weakref__')

    def __init__(self, fds):
        self.fds = fds  # the instance's descriptors to close, shared by processes
        self.lock = threading.RLock()  # the readers'
        self.owner = None  # the thread between FIONREAD and read() under the lock
        self.users = []  # get_ident() of each call in progress, once per call
        self.wake = None  # the eventfd that close() writes to; made on first wait
        self.left = threading.Condition()  # notified as a call leaves once closed
        self.closer = None  # the thread of the first close(), in this process
        self.pid = os.getpid()
        _STATES.add(self)

    def forked(self):
        """In a child of ``fork()``: forget the parent's threads and close the
        child's copy of the parent's eventfd."""
        if self in self.fds:
            os.close(self.fds.pop(self))
        self.__init__(self.fds)


class INotify(FileIO):

    #: The inotify file descriptor returned by ``inotify_init1()``. Use it with
    #: ``os.read`` and :func:`parse_events` if you prefer; also :meth:`fileno`.
    fd = property(FileIO.fileno)

    # Private state of our own, beyond 1.3's _poller and _readall, has names that
    # subclasses written for 1.3 cannot clash with (Python mangles them).
    # __init__ sets the rest: __state, this process's _State, and, where
    # os.register_at_fork() is missing, __forks.
    __fds = None  # the descriptors to close: None for the inotify one, a _State
    # for its eventfd
    __open = ()  # [True] until close() pops it
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
        fd = _libc_call('inotify_init1', (init_flags,))
        FileIO.__init__(self, fd, mode='rb', closefd=closefd)
        self.__fds = fds = {None: fd if closefd else None}
        self.__state = _State(fds)
        if not _AT_FORK:  # each process's state, by process id
            self.__forks = {self.__state.pid: self.__state}
        self.__open = [True]
        # Not at exit, where daemon threads may still use them.
        _finalize(self, _close_all, fds, None).atexit = False
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
        if path.__class__ is not _text and path.__class__ is not bytes:
            path = _fspath(path)
        encoded = path.encode(_FS_ENCODING, _FS_ERRORS) if isinstance(path, _text) \
            else path
        if _NUL in encoded:  # (no encoding makes one of anything but U+0000)
            raise ValueError('path contains a NUL byte: %r' % (path,))
        mask = index(mask)
        if mask >> 32:  # negative, or more than 32 bits
            raise ValueError('mask %r does not fit in 32 unsigned bits' % (mask,))
        state = self.__state if _AT_FORK else self.__here()
        me = get_ident()
        try:
            state.users.append(me)
            if not self.__open:  # (a file closed otherwise fails in fileno() alike)
                raise ValueError(_CLOSED)
            wd = _libc.inotify_add_watch(self.fileno(), encoded, mask)
            if wd == -1:  # again, for errno, the message, and EINTR
                wd = _libc_call('inotify_add_watch', (self.fileno(), encoded, mask),
                                path)
        finally:
            if me in state.users:  # (not if a handler's exception came first, <= 3.9)
                state.users.remove(me)
            if not self.__open:
                self.__leave(state, me)
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
        state = self.__state if _AT_FORK else self.__here()
        me = get_ident()
        try:
            state.users.append(me)
            if not self.__open:
                raise ValueError(_CLOSED)
            if not -2 ** 31 <= wd < 2 ** 31:  # the kernel's int; no other is a watch
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            if _libc.inotify_rm_watch(self.fileno(), wd) == -1:  # as add_watch
                _libc_call('inotify_rm_watch', (self.fileno(), wd))
        finally:
            if me in state.users:  # (not if a handler's exception came first, <= 3.9)
                state.users.remove(me)
            if not self.__open:
                self.__leave(state, me)

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
            RuntimeError: called from a signal handler that interrupted a
                ``read()`` of the same instance, in the same thread, between
                its ``FIONREAD`` and its ``read()``.
            OSError: ``EMFILE``, when the descriptor that :meth:`close` uses to
                wake waiting readers (an eventfd, made by the first ``read()`` of
                a process that waits) cannot be made.
        """
        deadline = None if timeout == 0 else _deadline(_seconds(timeout, 'timeout'))
        delay = None if read_delay is None else _seconds(read_delay, 'read_delay')
        state = self.__state if _AT_FORK else self.__here()
        me = get_ident()
        if state.owner == me:  # reading itself would wait for ever
            raise RuntimeError('read() was called from a signal handler that '
                               'interrupted a read() of this INotify')
        lock = state.lock  # so that every event goes whole to one reader
        held = False  # whether the lock may be held: from before acquire() to
        try:          # after release(), where an exception may come
            state.users.append(me)
            if not self.__open:
                raise ValueError(_CLOSED)
            while True:
                held = True
                lock.acquire()
                state.owner = me
                data = self._readall()
                state.owner = None
                lock.release()
                held = False
                if data or timeout == 0 or not self.__wait(state, deadline, delay):
                    break
        finally:
            if me in state.users:  # (not if a handler's exception came first, <= 3.9)
                state.users.remove(me)
            if held:  # an exception from _readall(), or a signal handler's (Ctrl-C)
                state.owner = None  # (harmless if another thread owns it)
                try:
                    lock.release()  # which raises unless this thread holds it
                except RuntimeError:  # it came before acquire() or after release()
                    pass
            if not self.__open:
                self.__leave(state, me)
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
        if _close_all is None or self.__fds is None:
            # The interpreter's exit has emptied this module (the exit closes
            # every descriptor anyway); or __init__ failed, or has not run.
            if self.__fds:
                self.__fds.clear()  # closed here: nothing for the finalizer
            return self.__close_file()
        state = self.__state if _AT_FORK else self.__here()
        if not self.__open:  # a later close() counts nothing and waits for nobody,
            if not state.users:  # so that a signal handler's costs little anywhere
                _close_all(self.__fds, self)
            return
        me = get_ident()
        interrupted = me in state.users  # by a signal handler: that call releases
        try:
            state.users.append(me)
            try:
                self.__open.pop()
            except IndexError:  # another close() came first, meanwhile
                return
            finally:  # wake the readers, even if a handler's exception came as pop()
                if state in self.__fds:  # returned (no call before the write's);
                    os.write(self.__fds[state], _EVENTFD_ONE)  # not there: collected
            state.closer = me
            # Wait for the others to leave, a second at most (the last one out
            # closes), unless called by a signal handler, or at exit, where
            # other threads stand still.
            end = _monotonic() + _CLOSE_WAIT
            while not interrupted and not _finalizing() and _monotonic() < end and \
                    [user for user in state.users if user != me]:
                with state.left:  # which each leaver takes to notify: none is missed
                    if [user for user in state.users if user != me]:
                        state.left.wait(max(0, end - _monotonic()))
        finally:
            if me in state.users:  # (not if a handler's exception came first, <= 3.9)
                state.users.remove(me)
            if not self.__open:
                self.__leave(state, me)

    def __iter__(self):
        """The events as they arrive: each :meth:`read` waits for some. The loop
        ends once the instance is closed, from any thread."""
        try:
            while True:
                for event in self.read():  # [] when closed while it waits
                    yield event
        except ValueError:  # closed: without arguments, read() raises no other
            return

    def readline(self, *args):
        """Refused, as :meth:`readlines` and :meth:`readall` are, reading nothing:
        inotify gives events, not lines (:meth:`read` them, or iterate).
        ``readinto()`` is ``io.FileIO``'s: the kernel's bytes, for
        :func:`parse_events`."""
        raise UnsupportedOperation(_NO_LINES)

    readlines = readall = readline

    def _readall(self):
        """All the bytes queued, sized with ``FIONREAD``; b'' when none. A subclass
        may read the queue its own way here, as 1.3's could: :meth:`read` calls it
        with the descriptor held open, and the readers' lock taken."""
        size = _INT_ZERO.__copy__()  # an int that ioctl() fills in
        ioctl(self.fileno(), FIONREAD, size)
        try:  # never read(fd, 0): inotify(7) blocks, then fails with EINVAL
            return os.read(self.fileno(), size[0]) if size[0] else b''
        except OSError as e:  # IN_NONBLOCK, and another process read them first
            if e.errno != errno.EAGAIN:
                raise
            return b''

    # The machinery of threads, close(), fork() and signals: see the note above.

    def __leave(self, state, me):
        """A call has left, once closed: the last one out releases; another
        thread than the first :meth:`close`'s tells it, for it may be waiting
        (its own calls are a signal handler's: the close() does not wait for
        them, and one inside its wait would find the Condition's lock held)."""
        if not state.users:
            _close_all(self.__fds, self)
        elif state.closer not in (None, me):
            with state.left:
                state.left.notify_all()

    def __here(self):
        """This process's :class:`_State` where ``os.register_at_fork()`` is
        missing: a child of ``fork()`` makes its own, once (``setdefault()`` is
        atomic)."""
        state = self.__state
        if state.pid != os.getpid():
            fresh = _State(state.fds)
            self.__state = self.__forks.setdefault(fresh.pid, fresh)
            if self.__state is fresh:
                state.forked()  # which closes the copy of the parent's eventfd
        return self.__state

    def __wait(self, state, deadline, delay):
        """Wait for events until ``deadline``, then ``delay`` more; whether to read
        again (False on timeout, and once :meth:`close` was called)."""
        if state.wake is None:  # eventfd(2): of two threads' at once, one is kept
            wake = _libc_call('eventfd', (0, _CLOEXEC | _NONBLOCK))
            state.wake = state.fds.setdefault(state, wake)
            if state.wake != wake:
                os.close(wake)
        if not self.__open:  # looked at after the eventfd is there for close()
            return False
        poller = select.poll()  # one per wait: two threads may not share a poll
        poller.register(self.fileno(), select.POLLIN)
        poller.register(state.wake, select.POLLIN)
        while True:
            ready = _poll(poller, deadline)
            if not ready or not self.__open:
                return False
            if [fd for fd, _ in ready if fd != state.wake]:
                break
            # Written, yet not by close(), which closes first: wait on without
            # it, rather than be woken again and again until the deadline.
            poller.unregister(state.wake)
        if delay and delay > 0:
            poller.unregister(self.fileno())
            _poll(poller, _deadline(delay))
        return bool(self.__open)


def _close_all(fds, inotify):
    """Close the descriptors in ``fds`` (an instance's) that no other thread has
    popped; ``inotify``: the instance, or None once it is gone, and its descriptor
    is closed by number."""
    while fds:
        try:
            key, fd = fds.popitem()
        except KeyError:  # emptied by another thread meanwhile
            return
        if key is None and inotify is not None:
            FileIO.close(inotify)
        elif fd is not None:
            os.close(fd)


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
        timeout = None if deadline is None else min(  # whole ms, rounded up
            max(0, int(-((_monotonic() - deadline) * 1000 // 1))), _MAX_POLL)
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


class flags(IntEnum):
    """The inotify flags of ``<sys/inotify.h>``, without their ``IN_`` prefix.

    OR them into the ``mask`` of :meth:`INotify.add_watch`, and test them against
    an :attr:`Event.mask`. They print as their name, ``flags.CREATE``, with
    ``print()``, ``str()``, ``'{}'.format()`` and f-strings; a format spec
    formats the number: ``'{:x}'.format(flags.CREATE)`` is ``'100'``.
    """

    __str__ = Enum.__str__  # Python 3.11 made IntEnum print as an int

    def __format__(self, format_spec):
        """format() of a flag: its name as str() gives it, or its number if a
        format spec is given (``'{:x}'``), on every Python (3.6-3.10 gave the
        number)."""
        return format(int(self), format_spec) if format_spec else str(self)

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
    __format__ = vars(flags)['__format__']  # the function itself, on Python 2 too

    CLOSE = flags.CLOSE_WRITE | flags.CLOSE_NOWRITE  #: either CLOSE_* event
    MOVE = flags.MOVED_FROM | flags.MOVED_TO  #: either MOVED_* event
    #: all twelve events, ACCESS to MOVE_SELF
    ALL_EVENTS = 0x00000fff


if __name__ == '__main__':  # the command line lives in a module of its own
    from inotify_simple_cli import main
    sys.exit(main())
