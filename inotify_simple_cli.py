"""inotifywait, for pip: ``python -m inotify_simple`` and the ``inotify_simple`` script.

It takes the options of inotifywait 3.22 (inotify-tools), prints the same bytes and
exits with the same statuses, using nothing of :mod:`inotify_simple` but its public
API. Where it differs on purpose (``--json``; under ``-r``, what new directories hold
is reported, and nothing of its own reading is), ``docs/cli.rst`` says so.
"""
import base64
import codecs
import ctypes
import errno
import json
import os
import re
import signal
import sys
from operator import itemgetter

from inotify_simple import __version__
from inotify_simple import flags
from inotify_simple import masks
from inotify_simple_tree import Tree

# Everything that differs between Python 2 and 3.
if sys.version_info[0] >= 3:
    _FS_ENCODING = sys.getfilesystemencoding()
    # Python < 3.6 has no getfilesystemencodeerrors(); os.fsencode() used this there.
    _FS_ERRORS = getattr(sys, 'getfilesystemencodeerrors', lambda: 'surrogateescape')()

    def _bytes(text):
        """``text`` (str or bytes) as the bytes the file system has."""
        if isinstance(text, bytes):
            return text
        return text.encode(_FS_ENCODING, _FS_ERRORS)
else:  # Python 2.7: arguments and names are bytes already
    _FS_ENCODING = sys.getfilesystemencoding() or 'ascii'
    _FS_ERRORS = 'strict'

    def _bytes(text):
        if isinstance(text, bytes):
            return text
        return text.encode(_FS_ENCODING)
# Python 2.7's UTF-8 codec takes encoded surrogates, which no UTF-8 text holds
_ENCODED_SURROGATE = re.compile(b'\xed[\xa0-\xbf]') if sys.version_info[0] < 3 \
    and codecs.lookup(_FS_ENCODING).name == 'utf-8' else None

_PROGRAM = 'inotify_simple'

_ACCESS, _MODIFY, _ATTRIB = int(flags.ACCESS), int(flags.MODIFY), int(flags.ATTRIB)
_CLOSE_WRITE, _CLOSE_NOWRITE = int(flags.CLOSE_WRITE), int(flags.CLOSE_NOWRITE)
_OPEN, _MOVED_FROM = int(flags.OPEN), int(flags.MOVED_FROM)
_MOVED_TO, _CREATE = int(flags.MOVED_TO), int(flags.CREATE)
_DELETE, _DELETE_SELF = int(flags.DELETE), int(flags.DELETE_SELF)
_MOVE_SELF, _UNMOUNT = int(flags.MOVE_SELF), int(flags.UNMOUNT)
_Q_OVERFLOW, _IGNORED = int(flags.Q_OVERFLOW), int(flags.IGNORED)
_ISDIR, _ONESHOT = int(flags.ISDIR), int(flags.ONESHOT)
_DONT_FOLLOW = int(flags.DONT_FOLLOW)
_WD, _MASK, _NAME = itemgetter(0), itemgetter(1), itemgetter(3)
_CLOSE, _MOVE, _ALL_EVENTS = int(masks.CLOSE), int(masks.MOVE), int(masks.ALL_EVENTS)

# inotifywait's names of the bits of a mask, in the order it prints them. CLOSE
# stands for either close bit and comes after IGNORED; MOVE is never printed.
_EVENT_NAMES = [
    (_ACCESS, b'ACCESS'), (_MODIFY, b'MODIFY'), (_ATTRIB, b'ATTRIB'),
    (_CLOSE_WRITE, b'CLOSE_WRITE'), (_CLOSE_NOWRITE, b'CLOSE_NOWRITE'),
    (_OPEN, b'OPEN'), (_MOVED_FROM, b'MOVED_FROM'), (_MOVED_TO, b'MOVED_TO'),
    (_CREATE, b'CREATE'), (_DELETE, b'DELETE'), (_DELETE_SELF, b'DELETE_SELF'),
    (_UNMOUNT, b'UNMOUNT'), (_Q_OVERFLOW, b'Q_OVERFLOW'), (_IGNORED, b'IGNORED'),
    (_CLOSE, b'CLOSE'), (_MOVE_SELF, b'MOVE_SELF'), (_ISDIR, b'ISDIR'),
    (_ONESHOT, b'ONESHOT'),
]
# The names -e takes, in any case.
_EVENTS = dict((name.lower(), bit) for bit, name in _EVENT_NAMES)
_EVENTS.update({b'move': _MOVE, b'all_events': _ALL_EVENTS})

# getopt_long's tables, as inotifywait 3.22 has them: the short options, and the
# long ones in its order (which ambiguity messages follow), plus our --json and
# --version.
_SHORT = {b'm': 'monitor', b'r': 'recursive', b'h': 'help', b'c': 'csv',
          b'd': 'daemon', b's': 'syslog', b'P': 'no-dereference', b'q': 'quiet',
          b't': 'timeout', b'f': 'filename', b'o': 'outfile', b'e': 'event',
          b'I': 'inotify', b'F': 'fanotify', b'S': 'filesystem'}
_LONG = ['help', 'event', 'monitor', 'quiet', 'timeout', 'filename', 'recursive',
         'inotify', 'fanotify', 'filesystem', 'csv', 'daemon', 'syslog',
         'no-dereference', 'format', 'no-newline', 'timefmt', 'fromfile', 'outfile',
         'exclude', 'excludei', 'include', 'includei', 'json', 'version']
_WITH_VALUE = set(['event', 'timeout', 'format', 'timefmt', 'fromfile', 'outfile',
                   'exclude', 'excludei', 'include', 'includei'])

_DEFAULT = b'%w %,e %f\n'  # the default format
_MAX_STRLEN = 4096  # inotifywait's longest format and CSV field
# strtol()'s syntax, in the C locale
_LONG_INT = re.compile(br'[ \t\n\v\f\r]*([+-]?[0-9]+)\Z')

_HELP = """\
%(prog)s %(version)s
Usage: %(prog)s [ options ] file1 [ file2 ] [ ... ]

Watch files and directories with inotify and print one line per event: the watched
path, the events, the name. The options, output and exit statuses are those of
inotifywait (inotify-tools 3.22, and 4.x's where 4.x changed them on purpose), so a
script written for one runs with the other.

Options:
  -h, --help             print this help and exit (with status 1, as inotifywait)
  @FILE                  do not watch FILE: with -r, a directory below a watched one
  --fromfile FILE        read the files to watch (and @exclusions) from FILE, one
                         a line; - reads standard input
  -m, --monitor          keep printing events; without it, exit after the first
  -d, --daemon           like -m, in the background, printing to the -o file
                         (which must exist); implies -s
  -o, --outfile FILE     append the events to FILE, created with mode 0600
  -s, --syslog           send errors to syslog instead of standard error
  -r, --recursive        watch directories and every directory below them,
                         including the ones that appear later
  -P, --no-dereference   do not follow symbolic links
  -q, --quiet            do not say when the watches are set up; -qq: print no
                         events either
  -I, --inotify          watch with inotify (accepted: it is what this does)
  -F, --fanotify         refused: this program does not watch with fanotify
  -S, --filesystem       refused (a whole file system with fanotify)
  -t, --timeout N        exit with status 2 when N seconds pass without an event
                         (0, the default: never; a negative N is refused once
                         the watches are set up)
  -e, --event NAME       an event to watch for; repeat it, or separate names with
                         commas; the default is all of them
  -c, --csv              print CSV lines: path,events,name
  --format FMT           print FMT for each event: %%w the watched path, %%f the
                         name, %%e the events, %%Xe the events separated by X, %%c
                         the cookie (hexadecimal), %%T the time (see --timefmt),
                         %%0 a NUL, %%n a newline, %%%% a %%
  --no-newline           do not end --format's output with a newline
  --timefmt FMT          the strftime(3) format of %%T
  --exclude RE           skip the events whose path (with the name) matches the
                         POSIX extended regular expression RE
  --excludei RE          the same, ignoring case
  --include RE           skip the events whose path does not match RE
  --includei RE          the same, ignoring case
  --json                 print one JSON object per event (ours, not inotifywait's)
  --version              print the name and version, and exit (ours too)

Events: access, modify, attrib, close_write, close_nowrite, close (both), open,
moved_from, moved_to, move (both), move_self, create, delete, delete_self,
unmount, all_events. The kernel ends the watch of a file that is deleted, or
whose filesystem is unmounted, even when that was not asked for.

Exit status:
  0  an event that was asked for came
  1  an error, or a watch the kernel ended (its file deleted, or unmounted)
  2  --timeout passed without an event
"""


class _UsageError(Exception):
    """A command line that getopt_long refuses; the message is glibc's."""


def _getopt(args, operands):
    """Yield ``(option, value)`` from ``args`` in order, as GNU ``getopt_long``.

    Long options may be abbreviated; operands may come anywhere (unless
    POSIXLY_CORRECT is set) and are appended to ``operands``; ``--`` ends the
    options.

    Raises:
        _UsageError: an unknown or ambiguous option, or a missing or extra value.
    """
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == b'--':
            operands.extend(args[i:])
            return
        if arg.startswith(b'--'):
            name, equals, value = arg[2:].partition(b'=')
            name = name.decode('latin-1')
            found = [option for option in _LONG if option.startswith(name)]
            if name in found:
                found = [name]
            if not found:
                raise _UsageError("unrecognized option '%s'" % arg.decode('latin-1'))
            if len(found) > 1:
                raise _UsageError("option '%s' is ambiguous; possibilities: %s" % (
                    arg.decode('latin-1'), ' '.join("'--%s'" % o for o in found)))
            option = found[0]
            if option not in _WITH_VALUE:
                if equals:
                    raise _UsageError("option '--%s' doesn't allow an argument"
                                      % option)
                value = None
            elif not equals:
                if i == len(args):
                    raise _UsageError("option '--%s' requires an argument" % option)
                value = args[i]
                i += 1
            yield option, value
        elif arg.startswith(b'-') and arg != b'-':
            for j in range(1, len(arg)):
                letter = arg[j:j + 1]
                option = _SHORT.get(letter)
                if option is None:
                    raise _UsageError("invalid option -- '%s'"
                                      % letter.decode('latin-1'))
                if option not in _WITH_VALUE:
                    yield option, None
                    continue
                value = arg[j + 1:]
                if not value:
                    if i == len(args):
                        raise _UsageError("option requires an argument -- '%s'"
                                          % letter.decode('latin-1'))
                    value = args[i]
                    i += 1
                yield option, value
                break
        elif 'POSIXLY_CORRECT' in os.environ:
            operands.extend(args[i - 1:])
            return
        else:
            operands.append(arg)


def _event_mask(text):
    """``-e``'s argument as a mask, as inotifywait reads it.

    Names are separated by commas, in any case. An empty name anywhere (``''``,
    ``'create,'``) makes the whole argument 0, which adds nothing; an unknown one
    makes it None.
    """
    mask = 0
    for name in text.split(b','):
        if not name:
            return 0
        bit = _EVENTS.get(name.lower())
        if bit is None:
            return None
        mask |= bit
    return mask


def _event_names(mask, separator=b','):
    """The names of the events in ``mask``, as ``%e`` prints them."""
    names = [name for bit, name in _EVENT_NAMES if mask & bit]
    if not names:
        return b'0x%08x' % mask
    return separator.join(names)


def _csv(field):
    """``field`` quoted for a CSV line as inotifywait quotes it; '' if too long."""
    if not field or len(field) > _MAX_STRLEN:
        return b''
    if (b'"' in field or b',' in field or b'\n' in field or field[:1] == b' ' or
            field[-1:] == b' '):
        return b'"' + field.replace(b'"', b'""') + b'"'
    return field


def _compile(fmt):
    """``--format``'s ``fmt`` as the texts around its fields, and the fields.

    The texts are one more than the fields, as printed; the fields are ``b'w'``,
    ``b'f'``, ``b'c'``, ``b'T'`` or ``b'e'`` followed by the separator of the
    events. Returns None for a format that ends with a lone ``%``, for which
    inotifywait prints nothing.
    """
    texts = [[]]  # of each text, its pieces
    fields = []
    i = 0
    while i < len(fmt):
        char = fmt[i:i + 1]
        if char != b'%':
            texts[-1].append(char)
            i += 1
            continue
        if i == len(fmt) - 1:
            return None
        code = fmt[i + 1:i + 2]
        i += 2
        if code == b'%':
            texts[-1].append(b'%')
        elif code == b'0':
            texts[-1].append(b'\0')
        elif code == b'n':
            texts[-1].append(b'\n')
        elif code in (b'w', b'f', b'c', b'T', b'e'):
            fields.append(code + b',' if code == b'e' else code)
            texts.append([])
        elif fmt[i:i + 1] == b'e':  # %Xe: the events separated by X
            fields.append(b'e' + code)
            texts.append([])
            i += 1
        else:
            texts[-1].append(b'%' + code)
    return [b''.join(text) for text in texts], fields


def _template(texts):
    """The %-template of bytes that prints ``texts`` with a field between each two."""
    return b'%s'.join([text.replace(b'%', b'%%') for text in texts])


# A regex_t: 8 pointer-sized words in glibc's and musl's <regex.h> (sizeof: 64, x86_64)
_RegexT = ctypes.c_void_p * 8


class _Tm(ctypes.Structure):
    """A struct tm, as glibc's and musl's <time.h> have it (sizeof: 56, x86_64)."""

    _fields_ = [('tm_sec', ctypes.c_int), ('tm_min', ctypes.c_int),
                ('tm_hour', ctypes.c_int), ('tm_mday', ctypes.c_int),
                ('tm_mon', ctypes.c_int), ('tm_year', ctypes.c_int),
                ('tm_wday', ctypes.c_int), ('tm_yday', ctypes.c_int),
                ('tm_isdst', ctypes.c_int), ('tm_gmtoff', ctypes.c_long),
                ('tm_zone', ctypes.c_char_p)]


class _LibC(object):
    """The C library's regex(3) and strftime(3), as inotifywait calls them: one
    regex, compiled once, and the local time. :meth:`close` frees what the C
    library made for them."""

    REG_EXTENDED, REG_ICASE, REG_NOSUB = 1, 2, 8  # glibc's and musl's values

    def __init__(self):
        self.libc = libc = ctypes.CDLL(None)
        libc.regcomp.argtypes = [ctypes.POINTER(_RegexT), ctypes.c_char_p,
                                 ctypes.c_int]
        libc.regexec.argtypes = [ctypes.POINTER(_RegexT), ctypes.c_char_p,
                                 ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int]
        libc.regfree.argtypes = [ctypes.POINTER(_RegexT)]
        libc.regfree.restype = None
        libc.strftime.restype = ctypes.c_size_t
        libc.strftime.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                  ctypes.POINTER(_Tm)]
        libc.localtime_r.argtypes = [ctypes.POINTER(ctypes.c_long),
                                     ctypes.POINTER(_Tm)]
        libc.time.restype = ctypes.c_long
        libc.time.argtypes = [ctypes.c_void_p]
        libc.tzset()
        # inotifywait never calls setlocale(): its regexes match bytes in the C
        # locale, where Python 3 has set LC_CTYPE to the user's.
        libc.newlocale.restype = libc.uselocale.restype = ctypes.c_void_p
        libc.newlocale.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
        libc.uselocale.argtypes = libc.freelocale.argtypes = [ctypes.c_void_p]
        libc.freelocale.restype = None
        self.c_locale = libc.newlocale(1 | 8, b'C', None)  # LC_CTYPE, LC_COLLATE
        self.regex = None  # the regex_t compiled, until close()
        self.now = ctypes.c_long()
        self.tm = _Tm()
        self.out = ctypes.create_string_buffer(_MAX_STRLEN)

    def compile(self, pattern, ignore_case):
        """Compile ``pattern`` with ``regcomp()`` as the regex :meth:`matches`
        looks for; False if it refuses it."""
        regex = _RegexT()
        cflags = self.REG_EXTENDED | self.REG_NOSUB | (ignore_case and self.REG_ICASE)
        if self.locale(lambda: self.libc.regcomp(regex, pattern, cflags)):
            return False  # regcomp() freed what it made
        self.regex = regex
        return True

    def matches(self, text):
        """Whether ``regexec()`` finds the regex in ``text``."""
        regex = self.regex
        return self.locale(lambda: self.libc.regexec(regex, text, 0, None, 0)) == 0

    def locale(self, call):
        """``call()``'s result, called in the C locale."""
        if not self.c_locale:
            return call()
        previous = self.libc.uselocale(self.c_locale)
        try:
            return call()
        finally:
            self.libc.uselocale(previous)

    def strftime(self, fmt):
        """The local time now as ``strftime(fmt)`` gives it; b'' if it fails."""
        self.now.value = self.libc.time(None)
        self.libc.localtime_r(self.now, self.tm)
        length = self.libc.strftime(self.out, _MAX_STRLEN - 1, fmt, self.tm)
        return self.out.raw[:length]

    def close(self):
        """Free the regex compiled and the C locale."""
        if self.regex is not None:
            self.libc.regfree(self.regex)
            self.regex = None
        if self.c_locale:
            self.libc.freelocale(self.c_locale)
            self.c_locale = None


def _strerror(error):
    return _bytes(os.strerror(error.errno))


class _Options(object):
    """The command line's options, read and checked as inotifywait reads them."""

    def __init__(self):
        self.events = 0
        self.monitor = self.csv = self.daemon = self.syslog = False
        self.no_dereference = self.no_newline = self.json = False
        self.quiet = self.recursive = 0
        self.timeout = 0
        self.format = self.timefmt = self.fromfile = self.outfile = None
        self.exclude = self.excludei = self.include = self.includei = None
        self.excludes_given = {}
        self.operands = []

    def parse(self, args):
        """Read the options in ``args`` in inotifywait's order and with its checks.

        Returns:
            int or None: the exit status, if the options end the command already.
        """
        try:
            for option, value in _getopt(args, self.operands):
                status = self.option(option, value)
                if status is not None:
                    return status
        except _UsageError as e:  # its text holds the argument's bytes as latin-1
            _stderr((u'%s: %s\n' % (_PROGRAM, e.args[0])).encode('latin-1'))
            return 1
        if self.format is not None and not self.no_newline:
            self.format += b'\n'
        problem = None
        if self.exclude is not None and self.excludei is not None:
            problem = '--exclude and --excludei cannot both be specified.'
        elif self.include is not None and self.includei is not None:
            problem = '--include and --includei cannot both be specified.'
        elif ((self.include is not None or self.includei is not None) and
              (self.exclude is not None or self.excludei is not None)):
            problem = 'include and exclude regexp cannot both be specified.'
        elif self.format is not None and self.csv:
            problem = '-c and --format cannot both be specified.'
        elif self.format is None and self.no_newline:
            problem = '--no-newline cannot be specified without --format.'
        elif self.format is None and self.timefmt is not None:
            problem = '--timefmt cannot be specified without --format.'
        elif self.format is not None and b'%T' in self.format and self.timefmt is None:
            problem = '%T is in --format string, but --timefmt was not specified.'
        elif self.daemon and self.outfile is None:
            problem = '-o must be specified with -d.'
        elif self.json and (self.csv or self.format is not None):
            problem = '--json cannot be used with -c or --format.'
        if problem:
            _stderr(problem + '\n')
            return 1
        for option in ('exclude', 'excludei'):
            if self.excludes_given.get(option, 0) > 1:
                _stderr('--%s: only the last option will be taken into '
                        'consideration.\n' % option)
        return None

    def option(self, option, value):
        """Take one option; an exit status if it ends the command."""
        if option == 'help':
            _stdout(_HELP % {'prog': _PROGRAM, 'version': __version__})
            return 1
        if option == 'version':  # ours, as --json is
            _stdout('%s %s\n' % (_PROGRAM, __version__))
            return 0
        if option in ('monitor', 'csv', 'syslog', 'no-dereference', 'no-newline',
                      'json'):
            setattr(self, option.replace('-', '_'), True)
        elif option in ('quiet', 'recursive'):
            setattr(self, option, getattr(self, option) + 1)
        elif option == 'daemon':
            self.daemon = self.monitor = self.syslog = True
        elif option == 'filename':
            _stderr("The '--filename' option no longer exists.  The option it "
                    "enabled in earlier\nversions of inotifywait is now turned on by "
                    "default.\n")
            return 1
        elif option in ('fanotify', 'filesystem'):
            _stderr('%s: --%s: fanotify is not supported; this program watches with '
                    'inotify.\n' % (_PROGRAM, option))
            return 1
        elif option in ('format', 'timefmt'):
            setattr(self, option, value)
        elif option in ('exclude', 'excludei', 'include', 'includei'):
            setattr(self, option, value)
            self.excludes_given[option] = self.excludes_given.get(option, 0) + 1
        elif option in ('fromfile', 'outfile'):
            if getattr(self, option) is not None:
                _stderr('Multiple --%s options given.\n' % option)
                return 1
            setattr(self, option, value)
        elif option == 'timeout':
            return self.take_timeout(value)
        elif option == 'event':
            mask = _event_mask(value)
            if mask is None:
                _stderr(b"'" + value + b"' is not a valid event!  Run with the "
                        b"'--help' option to see a list of events.\n")
                return 1
            self.events |= mask
        return None  # inotify: accepted, as it is what this program uses

    def take_timeout(self, value):
        """``-t``: seconds as strtol() reads them, the whole long as inotifywait 4.x
        keeps it (3.22 kept 32 bits of it); a negative one ends the command once the
        watches are set up (see :meth:`_Command.start`)."""
        match = _LONG_INT.match(value)
        if not value:
            _stderr('The provided value is not a valid timeout value.\n'
                    'Please specify a long int value.\n')
            return 1
        if not match:
            _stderr(b"'" + value + b"' is not a valid timeout value.\n"
                    b"Please specify a long int value.\n")
            return 1
        seconds = int(match.group(1))
        if not -2 ** 63 <= seconds < 2 ** 63:
            _stderr('Something went wrong with the timeout value you provided.\n'
                    '%s\n' % os.strerror(errno.ERANGE))
            return 1
        self.timeout = seconds
        return None


class _Format(object):
    """How the lines of events are made: in the default format or another of
    --format's, with -c or with --json."""

    def __init__(self, options, libc):
        self.libc = libc  # for %T
        self.timefmt = options.timefmt
        # the events whose lines are printed: those asked for and Q_OVERFLOW (none
        # with -qq)
        shown = (options.events or _ALL_EVENTS) | _Q_OVERFLOW
        self.shown = 0 if options.quiet > 1 else shown
        self.known = {}  # separator -> {mask: the names of its events}
        self.line = None  # makes an event's line: f(wd, path, mask, cookie, name)
        # A format of %w, %e and %f, as the default, has no line of its own: its
        # %-template, the one of what comes before %f, what comes after it, and the
        # separator of %e serve lines().
        self.template = self.before = self.after = self.separator = None
        compiled = None if options.json or options.csv else _compile(
            _DEFAULT if options.format is None else options.format)
        if options.json:
            self.line = _json_line
        elif options.csv:
            self.line = self.csv_line
        elif compiled is None:  # a lone % at the end: inotifywait prints nothing
            self.line = lambda wd, path, mask, cookie, name: b''
        elif [field[:1] for field in compiled[1]] == [b'w', b'e', b'f']:
            texts, fields = compiled
            self.template = _template(texts)
            self.before, self.after = _template(texts[:3]), texts[3]
            self.separator = fields[1][1:]
        else:
            self.line = self.fields_line(*compiled)

    def lines(self, events, runs=True):
        """The lines of those of ``events`` that are shown: of a read, or (not
        ``runs``) of the events handled of one, where a watch's path may change
        from one event to the next (a directory renamed meanwhile)."""
        shown = self.shown
        if self.line is not None:
            line = self.line
            return [line(wd, path[:-len(name)] if name else path, mask, cookie, name)
                    for wd, mask, cookie, name, path in events if mask & shown]
        if runs and events and events[0][:2] == events[-1][:2]:  # one wd and mask
            kinds = list(map(_MASK, events))
            if kinds.count(kinds[0]) == len(kinds):
                wds = list(map(_WD, events))
                if wds.count(wds[0]) == len(wds):  # one watch, one kind of event
                    return self.run_lines(events)
        template, names, separator = self.template, self.names, self.separator
        known = self.known.setdefault(separator, {})
        return [template % (path[:-len(name)] if name else path,
                            known.get(mask) or names(mask, separator), name)
                for wd, mask, cookie, name, path in events if mask & shown]

    def run_lines(self, events):
        """The lines of events of one watch and one mask, made at once: each is
        the same text (``%w %e `` in the default format) before a name."""
        wd, mask, cookie, name, path = events[0]
        if not mask & self.shown:
            return []
        before = self.before % (path[:-len(name)] if name else path,
                                self.names(mask, self.separator))
        after = self.after
        return [before, (after + before).join(map(_NAME, events)), after]

    def csv_line(self, wd, path, mask, cookie, name):
        """An event's line with -c."""
        path = _csv(path)
        return ((path + b',' if path else b'') + _csv(self.names(mask, b',')) + b',' +
                _csv(name) + b'\n')

    def fields_line(self, texts, fields):
        """The function that makes an event's line in a format of ``fields`` between
        ``texts``."""
        template = _template(texts)
        getters = [self.getter(field) for field in fields]

        def line(wd, path, mask, cookie, name):
            values = tuple([get(wd, path, mask, cookie, name) for get in getters])
            if None in values:  # %T failed: inotifywait prints nothing
                return b''
            return template % values
        return line

    def getter(self, field):
        """The function that gives a --format field's value for an event."""
        if field == b'w':
            return lambda wd, path, mask, cookie, name: path
        if field == b'f':
            return lambda wd, path, mask, cookie, name: name
        if field == b'c':
            return lambda wd, path, mask, cookie, name: b'%x' % cookie
        if field == b'T':
            return lambda wd, path, mask, cookie, name: self.libc.strftime(
                self.timefmt) or None
        separator = field[1:]
        return lambda wd, path, mask, cookie, name: self.names(mask, separator)

    def names(self, mask, separator):
        """The names of the events in ``mask`` as ``%e`` prints them, remembered."""
        known = self.known.setdefault(separator, {})
        names = known.get(mask)
        if names is None:
            names = known[mask] = _event_names(mask, separator)
        return names


class _Output(object):
    """Where the lines of the events and the diagnostics go: standard output and
    error, or -o's file (with -d, in the background) and syslog (-s). The events
    handled of a read wait in ``events`` to be printed before a diagnostic, or at
    the end of the read."""

    def __init__(self, lines):
        self.lines = lines  # makes the lines of a list of events
        self.events = []    # handled, whose lines are to be printed
        self.syslog = None  # the syslog module, once -s opened it

    def open(self, options):
        """Do what -d, -o and -s ask, as inotifywait does; an exit status if one
        fails."""
        outfile = options.outfile
        if options.daemon:
            try:
                os.stat(outfile)  # realpath(3) wants it to exist
            except OSError as e:
                _stderr(_strerror(e) + b': ' + outfile + b'\n')
                return 1
            outfile = os.path.realpath(outfile)
            if os.fork():
                os._exit(0)
            os.setsid()
            os.chdir('/')
            _redirect(0, os.open(os.devnull, os.O_RDONLY))
            _redirect(2, os.open(os.devnull, os.O_WRONLY))
        if outfile is not None:
            try:
                fd = os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError:
                _stderr(b'Failed to open output file ' + outfile + b'\n')
                return 1
            _redirect(1, fd)
        if options.syslog:
            import syslog
            syslog.openlog(_PROGRAM, syslog.LOG_CONS | syslog.LOG_PID |
                           syslog.LOG_NDELAY, syslog.LOG_DAEMON)
            self.syslog = syslog
        return None

    def show(self, events, runs=True):
        """Print the lines of ``events``, in one write() (``runs``: see
        :meth:`_Format.lines`)."""
        _write(b''.join(self.lines(events, runs)))

    def flush(self):
        """Print the lines of the events handled."""
        self.show(self.events, False)
        del self.events[:]

    def say(self, message):
        """A diagnostic, to standard error or (-s) to syslog, after the lines of
        the events before it."""
        if self.events:
            self.flush()
        if self.syslog:
            self.syslog.syslog(self.syslog.LOG_INFO, _bytes(message).rstrip(b'\n')
                               .decode(_FS_ENCODING, 'replace'))
        else:
            _stderr(message)


class _Command(object):
    """One run of the command: the watches its options ask for, and their events
    printed. The watching of trees is :class:`inotify_simple_tree.Tree`'s."""

    def __init__(self, options):
        self.options = options  # an _Options that parsed the command line
        self.excludes = None    # with a regex: whether what matches is left out
        regex = (options.exclude, options.excludei, options.include,
                 options.includei) != (None, None, None, None)
        self.libc = _LibC() if regex or options.timefmt is not None else None
        self.format = _Format(options, self.libc)
        self.output = _Output(self.format.lines)
        # The mask inotifywait watches with decides what it reads, and so when it
        # exits; what the tree follows it by besides is not read.
        self.asked = options.events or _ALL_EVENTS
        if options.monitor and options.recursive:
            self.asked |= _CREATE | _MOVED_TO | _MOVED_FROM
        self.tree = None
        self.excluded = set()  # @-paths, without their trailing /
        self.watched = []      # the paths to watch
        self.initial = None    # without -m, the wds watched at the start
        self.unwatched = []    # errors of directories found, to be said
        self.status = None     # the exit status of an event that ends the command
        self.moved_from = None  # the cookie of the last directory moved

    def run(self):
        """Watch, then print events until done; returns the exit status."""
        try:
            status = self.start()
            if status is None:
                status = self.loop()
            return status
        finally:
            if self.tree is not None:
                self.tree.close()
            if self.libc is not None:
                self.libc.close()

    # Setting up

    def start(self):
        """Everything before the events, in inotifywait's order; an exit status if
        something ends the command."""
        try:
            self.tree = Tree(mask=self.asked | (_DONT_FOLLOW if
                                                self.options.no_dereference else 0),
                             exclude=self.excluded.__contains__,
                             onerror=self.cannot_watch)
        except OSError as e:
            _stderr(b"Couldn't initialize inotify: " + _strerror(e) + b'\n')
            if e.errno == errno.EMFILE:
                _stderr('Try increasing the value of '
                        '/proc/sys/fs/inotify/max_user_instances\n')
            return 1
        status = self.prepare()
        if status is None:
            status = self.output.open(self.options)
        if status is None:
            status = self.watch()
        if status is None and self.options.timeout < 0:  # as inotifywait 4.x
            _stderr('Negative timeout specified - abort!\n')
            status = 1
        return status

    def prepare(self):
        """The regex, the format's check and the paths; an exit status if one
        fails."""
        options = self.options
        for option, excludes, ignore_case in (  # one at most: parse() checked
                ('exclude', True, False), ('excludei', True, True),
                ('include', False, False), ('includei', False, True)):
            pattern = getattr(options, option)
            if pattern is not None:
                if not self.libc.compile(pattern, ignore_case):
                    _stderr("Error in `%s' regular expression.\n"
                            % option.rstrip('i'))
                    return 1
                self.excludes = excludes
        if options.format is not None:
            if not options.format or len(options.format) > _MAX_STRLEN:
                _stderr('Something is wrong with your format string.\n')
                return 1
        paths = []
        if options.fromfile is not None:
            paths.extend(self.read_fromfile())
        paths.extend(options.operands)
        for path in paths:
            if path.startswith(b'@'):
                if path != b'@':
                    self.excluded.add(_exclusion(path[1:]))
            elif path:
                self.watched.append(path)
        if not self.watched:
            _stderr('No files specified to watch!\n')
            return 1
        return None

    def read_fromfile(self):
        """The lines of ``--fromfile``'s file (``-``: standard input)."""
        fromfile = self.options.fromfile
        try:
            if fromfile == b'-':
                data = _read_all(0)
            else:
                with open(fromfile, 'rb') as f:
                    data = f.read()
        except (IOError, OSError) as e:  # Python 2.7: open() raises IOError
            if e.errno != errno.EISDIR:  # fopen() opens one; reading it ends at once
                _stderr(b"Couldn't open " + fromfile + b': ' + _strerror(e) + b'\n')
            return []
        lines = data.split(b'\n')
        if lines[-1] == b'':
            lines.pop()
        return [line.split(b'\0', 1)[0] for line in lines]  # C strings end at NUL

    def watch(self):
        """Watch every path, as inotifywait does; an exit status if one fails."""
        say, recursive = self.output.say, self.options.recursive
        if not self.options.quiet:
            say('Setting up watches.  Beware: since -r was given, this may take '
                'a while!\n' if recursive else 'Setting up watches.\n')
        for path in self.watched:
            try:
                self.tree.watch(path, recursive=bool(recursive))
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    say(b'Failed to watch ' + path + b'; upper limit on inotify '
                        b'watches reached!\n')
                    say("Please increase the amount of inotify watches allowed per "
                        "user via `/proc/sys/fs/inotify/max_user_watches'.\n")
                else:
                    say(b"Couldn't watch " + path + b': ' + _strerror(e) + b'\n')
                return 1
        if not self.options.monitor:
            self.initial = set(self.tree.watches())
        if not self.options.quiet:
            say('Watches established.\n')
        return None

    # Events

    def loop(self):
        """Print events until one ends the command; returns the exit status.

        The lines of the events of one read() go out in one write(), before
        anything said on standard error, and before the command ends."""
        read, show, handled = self.tree.read, self.output.show, self.output.events
        excludes, shown = self.excludes, self.format.shown
        matches = self.libc.matches if excludes is not None else None
        monitor, recursive = self.options.monitor, self.options.recursive
        timeout = self.options.timeout * 1000 or None
        # With -m, no regular expression and no directory among the events, their
        # lines are all there is to do.
        quick = monitor and matches is None
        while True:
            try:
                events = read(timeout=timeout)
            except OSError as e:  # EMFILE: no eventfd for the wait
                self.output.say(b"Couldn't read events: " + _strerror(e) + b'\n')
                return 1
            if not events:
                return 2
            if quick and not self.unwatched and not (
                    recursive and _any_directory(events)):
                show(events)
                continue
            try:
                for event in events:
                    wd, mask, cookie, name, path = event
                    if matches is None or mask & _Q_OVERFLOW or matches(
                            path) != excludes:
                        if mask & shown:
                            handled.append(event)
                        if not monitor and self.ends(wd, mask):
                            return self.status
                    if mask & _ISDIR and recursive:
                        self.follow(mask, cookie, path)
                while self.unwatched:  # of directories no event was printed for
                    self.say_unwatched(self.unwatched.pop(0))
            finally:
                if handled:
                    self.output.flush()

    def ends(self, wd, mask):
        """Without -m, whether the event ends the command (with ``self.status``)."""
        if mask & self.asked:
            self.status = 0
            return True
        # inotifywait watches no new directory without -m: what it would not see
        # of one does not end the command
        if wd in self.initial:
            self.status = 1
            return True
        return False

    def follow(self, mask, cookie, path):
        """As inotifywait 4.x, with -m: say that a new directory (made, or moved in
        from outside the trees) is followed, after its event; then, as both
        versions, if it could not be watched."""
        if mask & _MOVED_FROM:
            self.moved_from = cookie
            return
        if not mask & _CREATE and not (mask & _MOVED_TO and cookie != self.moved_from):
            return
        if self.options.monitor and not self.options.quiet and os.path.isdir(path):
            self.output.say(b'Watching new directory ' + path + b'/\n')
        for error in list(self.unwatched):
            if _bytes(error.filename) == path:
                self.unwatched.remove(error)
                self.say_unwatched(error)

    def cannot_watch(self, error):
        """A directory found under a tree is not watched, or not whole: said after
        its event."""
        self.unwatched.append(error)

    def say_unwatched(self, error):
        self.output.say(b"Couldn't watch new directory " + _bytes(error.filename) +
                        b'/: ' + _strerror(error) + b'\n')


def _any_directory(events):
    for event in events:
        if event[1] & _ISDIR:
            return True
    return False


def _exclusion(path):
    """An @-argument's path as the tree spells a directory's path, with no /."""
    return path[:-1] if path.endswith(b'/') else path


def _json_line(wd, path, mask, cookie, name):
    """The event as a line of JSON; what is not valid in the file system's
    encoding comes as ``*_base64`` too."""
    event = {'wd': wd, 'mask': mask, 'cookie': cookie,
             'flags': [flag.name for flag in flags.from_mask(mask)]}
    for key, value in (('path', path), ('name', name)):
        try:
            event[key] = value.decode(_FS_ENCODING)
            if _ENCODED_SURROGATE and _ENCODED_SURROGATE.search(value):
                raise UnicodeError(value)
        except UnicodeError:
            event[key] = value.decode(_FS_ENCODING, 'replace')
            event[key + '_base64'] = base64.b64encode(value).decode('ascii')
    return _bytes(json.dumps(event, sort_keys=True)) + b'\n'


def _stdout(text):
    _write(_bytes(text), 1)


def _stderr(text):
    _write(_bytes(text), 2)


def _write(data, fd=1):
    """Write all of ``data``; errors are ignored, as inotifywait's stdio does (a
    closed pipe ends the command with SIGPIPE before that)."""
    while data:
        try:
            written = os.write(fd, data)
        except OSError as e:
            if e.errno == errno.EINTR:  # Python 2.7 does not retry
                continue
            return
        data = data[written:]


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


def _redirect(target, fd):
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


def main(argv=None):
    """Run the command line; the ``inotify_simple`` script and ``python -m
    inotify_simple`` call it.

    As a C program, it ends at once on SIGINT (Ctrl-C) and on SIGPIPE (a reader
    that went away), killed by the signal: their default handling is restored
    (but for a SIGINT ignored at the start, as a background job's is, where the
    interpreter can tell: not PyPy).

    Args:
        argv (list): the arguments, str or bytes; ``sys.argv[1:]`` by default.

    Returns:
        int: the exit status: 0 an event asked for came, 1 an error or an event
        not asked for, 2 a timeout.
    """
    if argv is None:
        argv = sys.argv[1:]
    for fd in (0, 1, 2):  # a closed one would be taken by the next open()
        try:
            os.fstat(fd)
        except OSError:
            _redirect(fd, os.open(os.devnull, os.O_RDWR))
    try:
        if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:  # ignored stays so
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    except ValueError:  # not the main thread: Python's handling stays
        pass
    options = _Options()
    status = options.parse([_bytes(arg) for arg in argv])
    if status is not None:
        return status
    return _Command(options).run()


if __name__ == '__main__':
    sys.exit(main())
