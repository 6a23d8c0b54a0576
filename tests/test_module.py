"""The module's surface: names, flags, masks, Event, importing, loading libc."""
import errno
import os
import sys

import pytest

import inotify_simple
from conftest import MODULE_DIR
from conftest import python
from inotify_simple import Event
from inotify_simple import INotify
from inotify_simple import flags
from inotify_simple import masks

# The IN_* constants of <sys/inotify.h>, in the order of their values.
FLAGS = [
    ('ACCESS', 0x00000001), ('MODIFY', 0x00000002), ('ATTRIB', 0x00000004),
    ('CLOSE_WRITE', 0x00000008), ('CLOSE_NOWRITE', 0x00000010), ('OPEN', 0x00000020),
    ('MOVED_FROM', 0x00000040), ('MOVED_TO', 0x00000080), ('CREATE', 0x00000100),
    ('DELETE', 0x00000200), ('DELETE_SELF', 0x00000400), ('MOVE_SELF', 0x00000800),
    ('UNMOUNT', 0x00002000), ('Q_OVERFLOW', 0x00004000), ('IGNORED', 0x00008000),
    ('ONLYDIR', 0x01000000), ('DONT_FOLLOW', 0x02000000), ('EXCL_UNLINK', 0x04000000),
    ('MASK_CREATE', 0x10000000), ('MASK_ADD', 0x20000000), ('ISDIR', 0x40000000),
    ('ONESHOT', 0x80000000),
]


def test_all_names_the_public_api():
    assert inotify_simple.__all__ == ['Event', 'INotify', 'flags', 'masks',
                                      'parse_events']
    for name in inotify_simple.__all__:
        assert hasattr(inotify_simple, name)


def test_version_is_a_string():
    assert isinstance(inotify_simple.__version__, str)
    assert [int(part) for part in inotify_simple.__version__.split('.')] >= [1, 3]


def test_flags_have_the_kernel_values_in_table_order():
    assert [(flag.name, int(flag.value)) for flag in flags] == FLAGS


def test_flags_are_ints():
    assert flags.CREATE == 256
    assert flags.CREATE | flags.ISDIR == 0x40000100
    assert isinstance(flags.CREATE | flags.DELETE, int)
    assert 0x40000100 & flags.ISDIR


@pytest.mark.parametrize('member, text', [(flags.CREATE, 'flags.CREATE'),
                                          (flags.ONESHOT, 'flags.ONESHOT'),
                                          (masks.CLOSE, 'masks.CLOSE')])
def test_flags_and_masks_print_as_their_name(member, text):
    assert str(member) == text
    assert '%s' % member == text
    assert '{}'.format(member) == format(member) == text  # 3.6-3.10 gave the number


def test_a_format_spec_formats_the_number():
    assert '{:x}'.format(flags.CREATE) == '100'
    assert '{:d}'.format(masks.CLOSE) == '24'
    assert '{:>5}'.format(flags.ACCESS) == '    1'
    assert '%d %x' % (flags.CREATE, flags.CREATE) == '256 100'


def test_masks_combine_flags():
    assert masks.CLOSE == 24 == flags.CLOSE_WRITE | flags.CLOSE_NOWRITE
    assert masks.MOVE == 192 == flags.MOVED_FROM | flags.MOVED_TO
    assert masks.ALL_EVENTS == 4095
    assert [m.name for m in masks] == ['CLOSE', 'MOVE', 'ALL_EVENTS']


def test_from_mask_lists_the_flags_set_in_table_order():
    assert flags.from_mask(0x40000100) == [flags.CREATE, flags.ISDIR]
    assert flags.from_mask(0) == []
    assert flags.from_mask(0xFFFFFFFF) == list(flags)
    assert flags.from_mask(masks.ALL_EVENTS) == list(flags)[:12]
    assert all(isinstance(flag, flags) for flag in flags.from_mask(0xFFFFFFFF))


def test_event_is_a_namedtuple():
    event = Event(1, 256, 0, 'foo')
    assert event == (1, 256, 0, 'foo')
    assert Event._fields == ('wd', 'mask', 'cookie', 'name')
    assert (event.wd, event.mask, event.cookie, event.name) == (1, 256, 0, 'foo')
    assert repr(event) == "Event(wd=1, mask=256, cookie=0, name='foo')"
    assert isinstance(event, tuple)


@pytest.mark.skipif(sys.version_info < (3, 5), reason='property docs are read-only')
def test_event_fields_are_documented():
    for field in Event._fields:
        assert getattr(Event, field).__doc__.startswith(
            {'wd': 'Watch', 'mask': 'Bit', 'cookie': 'Cookie', 'name': 'Name'}[field])


def run_python(code, **env):
    return python(code, env=env).strip()


def test_import_loads_no_libc_and_runs_nothing():
    assert run_python('import inotify_simple as m; print(m._libc)') == 'None'


def test_imports_where_there_is_no_fcntl_termios_or_poll():
    code = ('import sys, select\n'
            'sys.modules["fcntl"] = sys.modules["termios"] = None\n'
            'del select.poll\n'
            'import inotify_simple as m\n'
            'print("%s %s %s" % (m.parse_events(b"\\1\\0\\0\\0\\0\\1" + b"\\0" * 10),\n'
            '                   m.flags.CREATE | m.masks.MOVE, m.Event(1, 2, 3, "x").name))')
    assert run_python(code) == "[Event(wd=1, mask=256, cookie=0, name='')] 448 x"


def test_without_inotify_in_libc_init_raises_enosys(monkeypatch):
    # What a C library without inotify looks like (macOS, the BSDs): no such symbol.
    monkeypatch.setattr(inotify_simple, '_libc', object())
    with pytest.raises(OSError) as info:
        INotify()
    assert info.value.errno == errno.ENOSYS
    assert 'Linux-only' in str(info.value)


def test_libc_is_found_without_ldconfig_or_compilers():
    # A minimal container: no ldconfig, no gcc, nothing on PATH.
    code = ('import inotify_simple as m\n'
            'with m.INotify() as i: print(i.add_watch(".", m.flags.CREATE))')
    assert run_python(code, PATH='') == '1'


@pytest.mark.parametrize('failure', [RuntimeError('no ldconfig'), None])
def test_a_failing_find_library_does_not_escape(monkeypatch, failure):
    # Some NAS builds raise RuntimeError from find_library(); elsewhere it may return
    # None. Either way a libc is loaded that has inotify.
    import ctypes.util

    def find_library(name):
        if failure:
            raise failure
        return None
    monkeypatch.setattr(ctypes.util, 'find_library', find_library)
    assert hasattr(inotify_simple._load_libc(), 'inotify_init1')


def test_a_1_3_style_subclass_keeps_working(tmp):
    class Filtered(INotify):
        def __init__(self):
            INotify.__init__(self, inheritable=False, nonblocking=False)
            self.seen = 0

        def read(self, timeout=None, read_delay=None):
            events = super(Filtered, self).read(timeout, read_delay)
            self.seen += len(events)
            return [e for e in events if e.name != 'skip']

    with Filtered() as inotify:
        inotify.add_watch(tmp, flags.CREATE)
        for name in ('skip', 'keep'):
            open(os.path.join(tmp, name), 'w').close()
        events = []
        while inotify.seen < 2:
            events += inotify.read(timeout=30000)
        assert [e.name for e in events] == ['keep']
        assert inotify._poller.poll(0) == []


def test_a_subclass_may_read_with_readall_and_parse_events(tmp):
    class Raw(INotify):
        def read(self, timeout=None, read_delay=None):
            return inotify_simple.parse_events(self._readall())

    with Raw() as inotify:
        inotify.add_watch(tmp, flags.CREATE)
        open(os.path.join(tmp, 'x'), 'w').close()
        assert inotify._poller.poll(30000)
        assert inotify.read() == [Event(1, flags.CREATE, 0, 'x')]
        assert inotify.read() == []


def test_a_1_3_subclass_may_use_any_private_name_of_its_own(tmp):
    # names that a subclass might well give its own helpers and state
    class Mine(INotify):
        _closing = _processes = _lock = _wake = _users = 'mine'

        def _process(self, events):
            return events

        def _call(self, x):
            return x

        def _wait(self, *args):
            raise AssertionError('not ours')

        def _enter(self):
            raise AssertionError('not ours')

        def _leave(self, *args):
            raise AssertionError('not ours')

        def _release(self, *args):
            raise AssertionError('not ours')

        def _use(self, *args):
            raise AssertionError('not ours')

        def _close_now(self):
            raise AssertionError('not ours')
    inotify = Mine()
    wd = inotify.add_watch(tmp, flags.CREATE)
    open(os.path.join(tmp, 'a'), 'w').close()
    assert inotify._process(inotify.read(timeout=1000)) == [(wd, flags.CREATE, 0, 'a')]
    inotify.rm_watch(wd)
    assert inotify.read(timeout=1000) == [(wd, flags.IGNORED, 0, '')]
    inotify.close()
    assert inotify.closed


@pytest.mark.skipif(sys.version_info < (3, 8), reason='end_lineno is 3.8+')
def test_the_library_stays_readable_in_one_sitting():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import code_lines
    finally:
        sys.path.pop(0)
    lines, _ = code_lines.count(os.path.join(MODULE_DIR, 'inotify_simple.py'))
    assert lines <= 500, lines
