"""parse_events on hand-packed bytes: no kernel needed."""
import os
import random
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


def reference(data):
    """parse_events as plainly as it can be written."""
    events = []
    offset = 0
    while offset < len(data):
        wd, mask, cookie, size = struct.unpack('iIII', data[offset:offset + 16])
        name = data[offset + 16:offset + 16 + size].rstrip(b'\0')
        events.append(Event(wd, mask, cookie, text(name)))
        offset += 16 + size
    return events


def headers(data):
    """The 16 header bytes of each event in ``data``."""
    offset = 0
    while offset < len(data):
        yield data[offset:offset + 16]
        offset += 16 + struct.unpack_from('iIII', data, offset)[3]


def random_event(rng, size=None, length=None, alphabet=range(1, 256)):
    """A packed event with random fields and a name of bytes from ``alphabet``, as
    the kernel pads it unless ``size``."""
    if length is None:
        length = rng.randint(0, 255)
    name = bytes(bytearray(rng.choice(alphabet) for _ in range(length)))
    if size is None:
        size = (length // 16 + 1) * 16 if length else 0
    return pack(rng.choice([-1, 1, rng.randint(-2 ** 31, 2 ** 31 - 1)]),
                rng.choice([0x100, 0x40000100, 0x80008000, rng.randint(0, 2 ** 32 - 1)]),
                rng.choice([0, rng.randint(0, 2 ** 32 - 1)]), name[:size], size)


@pytest.mark.parametrize('seed', range(40))
def test_fast_paths_parse_exactly_as_the_plain_loop(seed):
    import inotify_simple
    rng = random.Random(seed)
    buffers = [
        # varied name lengths: 0 to 255, kernel padding
        b''.join(random_event(rng) for _ in range(rng.randint(1, 60))),
        # one padded length for all: the uniform fast path, names of any length in it
        b''.join(random_event(rng, size=16 * (seed % 5), length=rng.randint(
            0, max(0, 16 * (seed % 5) - 1))) for _ in range(rng.randint(8, 80))),
        # no names at all
        b''.join(random_event(rng, length=0) for _ in range(rng.randint(8, 80))),
        # sizes that are not multiples of 4 or 16
        b''.join(random_event(rng, size=seed % 7 + 1, length=seed % 7)
                 for _ in range(rng.randint(8, 40))),
    ]
    for data in buffers:
        expected = reference(data)
        assert inotify_simple._parse(data) == expected
        assert parse_events(data) == expected
        sizes = set(struct.unpack('iIII', e)[3] for e in headers(data))
        if len(sizes) == 1 and hasattr(struct, 'iter_unpack'):  # Python 3.4+
            assert inotify_simple._parse_uniform(data, sizes.pop()) == expected


@pytest.mark.parametrize('size', [0, 16, 32])
def test_a_truncated_uniform_burst_raises_the_same_clear_error(size):
    data = b''.join(pack(i, 256, 0, b'x' * (size and size - 1), size)
                    for i in range(20))
    assert len(parse_events(data)) == 20
    for cut in (1, 8, 16 + size - 1):
        with pytest.raises(ValueError) as info:
            parse_events(data[:-cut])
        assert 'offset %d' % (19 * (16 + size)) in str(info.value)


@pytest.mark.skipif(not hasattr(struct, 'iter_unpack'), reason='Python 3.4+')
@pytest.mark.parametrize('seed', range(30))
def test_bursts_of_names_of_one_length_parse_exactly_as_the_plain_loop(seed):
    import inotify_simple
    rng = random.Random(seed)
    size = 16 * rng.randint(1, 16)
    length = rng.choice([0, 1, size - 1, size, rng.randint(0, size)])
    printable = list(range(0x20, 0x7f))
    printable.remove(ord('/'))
    alphabets = [printable,
                 list(range(1, 256)),  # not UTF-8, and some names hold '/'
                 list(bytearray(u'\u00e9t\u00e9-\u65e5\u672c'.encode('utf-8')))]
    count = rng.choice([8, 9, 100, inotify_simple._BATCH + rng.randint(-2, 2)])
    data = b''.join(random_event(rng, size, length, alphabets[seed % 3])
                    for _ in range(count))
    expected = reference(data)
    assert parse_events(data) == expected
    assert inotify_simple._parse_uniform(data, size) == expected
    if seed % 3 == 0 and inotify_simple._DECODE_AT_ONCE:  # the kernel's shape
        assert inotify_simple._names(data[:100 * (16 + size)], size,
                                     min(count, 100)) is not None


@pytest.mark.skipif(not hasattr(struct, 'iter_unpack'), reason='Python 3.4+')
@pytest.mark.parametrize('odd', [b'ab\0cd', b'abcd\0e', b'\0abcd', b'ab/cd', b'abcde',
                                 b'abc', b''])
def test_a_burst_with_one_odd_name_parses_exactly_as_the_plain_loop(odd):
    # a NUL inside, junk after the NUL, a '/', or another length: all as rstrip has it
    import inotify_simple
    data = b''.join(pack(i, 256, 0, b'wxyz' if i != 7 else odd, 16)
                    for i in range(20))
    expected = reference(data)
    assert parse_events(data) == expected
    assert inotify_simple._parse_uniform(data, 16) == expected
    assert inotify_simple._names(data, 16, 20) is None
