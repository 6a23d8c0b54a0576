"""parse_events on hand-packed bytes: no kernel needed."""
import os
import struct
import sys

import pytest

from inotify_simple import Event
from inotify_simple import parse_events


def pack(wd, mask, cookie, name=b'', size=None):
    """One struct inotify_event; ``name`` NUL-padded to ``size`` bytes."""
    if size is None:
        size = (len(name) // 16 + 1) * 16 if name else 0
    return struct.pack('iIII', wd, mask, cookie, size) + name.ljust(size, b'\0')


def text(name):
    return os.fsdecode(name) if sys.version_info[0] >= 3 else name


def test_empty_bytes_give_no_events():
    assert parse_events(b'') == []


def test_events_come_back_in_order_with_their_names():
    data = (pack(1, 0x40000100, 0, b'foo') + pack(1, 2, 0, b'test.txt') +
            pack(1, 0x400, 0) + pack(-1, 0x4000, 0))
    assert parse_events(data) == [Event(1, 0x40000100, 0, text(b'foo')),
                                  Event(1, 2, 0, text(b'test.txt')),
                                  Event(1, 0x400, 0, text(b'')),
                                  Event(-1, 0x4000, 0, text(b''))]


def test_fields_are_plain_ints_and_the_name_a_native_string():
    event, = parse_events(pack(7, 0x80000000, 12345, b'a'))
    assert type(event) is Event
    assert [type(value) for value in event[:3]] == [int, int, int]
    assert type(event.name) is (str if sys.version_info[0] >= 3 else bytes)


@pytest.mark.parametrize('size', range(0, 260, 37))
def test_every_padding_is_stripped(size):
    name = b'n' * max(0, size - 1)
    assert parse_events(pack(1, 256, 0, name, size)) == [Event(1, 256, 0, text(name))]


def test_extreme_field_values_survive():
    data = pack(-2 ** 31, 0xFFFFFFFF, 0xFFFFFFFF, b'x') + pack(2 ** 31 - 1, 0, 0)
    assert parse_events(data) == [Event(-2 ** 31, 0xFFFFFFFF, 0xFFFFFFFF, text(b'x')),
                                  Event(2 ** 31 - 1, 0, 0, text(b''))]


def test_names_that_are_not_utf8_round_trip():
    raw = b'caf\xe9-\xff\xfe'
    event, = parse_events(pack(1, 256, 0, raw))
    if sys.version_info[0] >= 3:
        assert os.fsencode(event.name) == raw
    else:
        assert event.name == raw


@pytest.mark.parametrize('cut', [1, 8, 15])
def test_a_truncated_header_raises_value_error_naming_the_offset(cut):
    data = pack(1, 256, 0, b'foo') + pack(1, 256, 0)[:cut]
    with pytest.raises(ValueError) as info:
        parse_events(data)
    assert 'offset 32' in str(info.value)


def test_a_name_running_past_the_end_raises_value_error_naming_the_offset():
    data = pack(1, 256, 0) + pack(1, 256, 0, b'foo')[:-1]
    with pytest.raises(ValueError) as info:
        parse_events(data)
    assert 'offset 16' in str(info.value)


def test_a_huge_name_length_raises_value_error():
    with pytest.raises(ValueError) as info:
        parse_events(struct.pack('iIII', 1, 256, 0, 0xFFFFFFFF) + b'x' * 16)
    assert 'offset 0' in str(info.value)


def test_bytearray_and_memoryview_parse_like_bytes():
    data = pack(1, 256, 0, b'foo') + pack(2, 512, 0)
    assert parse_events(bytearray(data)) == parse_events(data)
    assert parse_events(memoryview(data)) == parse_events(data)
