"""Side-by-side benchmarks of inotify_simple and its peers, in one process.

Each measurement runs in rounds; in every round each library is timed once, in
an order that rotates from round to round, and its time is divided by ours.
The table gives the median time per event (or per call) and the median of those
ratios: above 1.0, the library took longer than ours.

    python bench/bench.py [--quick] [--json FILE]

Peers are imported when they are installed (``bench/run.sh`` installs them):
upstream inotify_simple (from a folder named by --upstream, so that it does not
shadow ours), inotifyx and asyncinotify.
"""
from __future__ import print_function

import argparse
import contextlib
import gc
import json
import os
import platform
import shutil
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import inotify_simple  # noqa: E402
from inotify_simple import INotify  # noqa: E402
from inotify_simple import flags  # noqa: E402

clock = getattr(time, 'perf_counter', time.time)
QUEUE = '/proc/sys/fs/inotify/max_queued_events'
try:
    from fcntl import ioctl
    from termios import FIONREAD
except ImportError:
    sys.exit('these benchmarks need Linux')


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] +
                                                   values[middle]) / 2.0


def load_module(name, path):
    """The module in file ``path``, imported under ``name``."""
    if sys.version_info[0] >= 3:
        import importlib.util
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    import imp
    return imp.load_source(name, path)


def load_peers(upstream_dir, before_dir=None):
    peers = {}
    path = upstream_dir and os.path.join(upstream_dir, 'inotify_simple.py')
    if path and os.path.exists(path):
        peers['upstream'] = load_module('upstream_inotify_simple', path)
    path = before_dir and os.path.join(before_dir, 'inotify_simple.py')
    if path and os.path.exists(path):  # an earlier version of ours, to compare
        peers['before'] = load_module('before_inotify_simple', path)
    for name in ('inotifyx', 'asyncinotify'):
        try:
            peers[name] = __import__(name)
        except ImportError:
            pass
    return peers


def upstream_label(peers):
    return 'inotify_simple %s' % getattr(peers['upstream'], '__version__', '?')


def compare(timers, rounds, counts, setup=None):
    """Time each of ``timers`` ({label: function returning seconds}) ``rounds``
    times, rotating the order, after ``setup()`` in each round; the median seconds
    per unit and ratio to 'ours'."""
    labels = list(timers)
    seconds = dict((label, []) for label in labels)
    ratios = dict((label, []) for label in labels)
    for round_ in range(rounds):
        if setup:
            setup()
        order = labels[round_ % len(labels):] + labels[:round_ % len(labels)]
        this = {}
        for label in order:
            this[label] = timers[label]() / counts
            seconds[label].append(this[label])
        for label in labels:
            ratios[label].append(this[label] / this['ours'])
    return dict((label, {'ns': median(seconds[label]) * 1e9,
                         'ratio': median(ratios[label])}) for label in labels)


def timed(function, *args):
    """Seconds ``function(*args)`` takes from a collected heap, freeing its result
    outside the clock; and the number of events in the result."""
    gc.collect()  # each timing counts its own garbage only
    start = clock()
    result = function(*args)
    elapsed = clock() - start
    count = len(inotify_simple.parse_events(result) if isinstance(result, bytes)
                else result)
    del result
    return elapsed, count


def best_of(repeats, function, *args):
    return min(timed(function, *args)[0] for _ in range(repeats))


def plain_parse(data):
    """The floor of a pure-Python parse: struct.unpack_from in a loop, no names."""
    unpack_from = struct.Struct('iIII').unpack_from
    events = []
    offset = 0
    while offset < len(data):
        event = unpack_from(data, offset)
        events.append(event)
        offset += 16 + event[3]
    return events


def capture(directory, count, make):
    """The raw bytes of the events ``make(directory, i)`` causes, for i < count."""
    with INotify() as inotify:
        inotify.add_watch(directory, flags.CREATE | flags.OPEN | flags.MODIFY |
                          flags.CLOSE_WRITE | flags.ATTRIB)
        for i in range(count):
            make(directory, i)
        data = inotify._readall()
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    return data


def mixed_name(i):
    """Names from 3 to 42 bytes, so padded to 16, 32 or 48."""
    return 'f%d-%s' % (i, 'x' * (i * 7 % 38))


def write_file(directory, i):
    # CREATE, OPEN, MODIFY, CLOSE_WRITE each
    with open(os.path.join(directory, mixed_name(i)), 'w') as f:
        f.write('x')


def bench_parse(peers, directory, events, rounds):
    results = {}
    buffers = [('mixed names', capture(directory, events // 4, write_file))]
    # ATTRIB of two watched files in turn: events without a name, none identical
    files = [os.path.join(directory, name) for name in 'ab']
    with INotify() as inotify:
        for path in files:
            open(path, 'w').close()
            inotify.add_watch(path, flags.ATTRIB)
        for i in range(events // 2):
            for path in files:
                os.utime(path, None)
        buffers.append(('no names', inotify._readall()))
    for path in files:
        os.remove(path)
    for label, data in buffers:
        count = len(inotify_simple.parse_events(data))
        timers = {'ours': lambda d=data: best_of(3, inotify_simple.parse_events, d),
                  'struct loop (no names)': lambda d=data: best_of(3, plain_parse, d)}
        if 'upstream' in peers:
            timers[upstream_label(peers)] = lambda d=data: best_of(
                3, peers['upstream'].parse_events, d)
        results['parse_events, %s (%d events)' % (label, count)] = compare(
            timers, rounds, count)
    return results


@contextlib.contextmanager
def max_queued_events(value):
    """Instances made inside hold ``value`` events, if max_queued_events can be set
    so (as root; restored after); yields its value before, and whether it was set."""
    with open(QUEUE) as f:
        old = int(f.read())
    try:
        with open(QUEUE, 'w') as f:
            f.write('%d\n' % value)
    except (IOError, OSError):
        yield old, False
        return
    try:
        yield old, True
    finally:
        with open(QUEUE, 'w') as f:
            f.write('%d\n' % old)


@contextlib.contextmanager
def queue_room(wanted):
    """Instances made inside hold ``wanted`` events, if max_queued_events can be
    raised that far (as root); yields how many they hold. Restored after."""
    with open(QUEUE) as f:
        old = int(f.read())
    if old >= wanted:
        yield wanted
        return
    with max_queued_events(wanted) as (old, done):
        yield wanted if done else old - 1


def bench_drain(peers, directory, events, rounds, mixed=False):
    """Fill every library's queue with the same ``events`` CREATEs, of names of one
    length, or of ``mixed`` lengths; time draining."""
    drains = {'ours': lambda i: i.read(timeout=0),
              'os.read (floor)': lambda i: os.read(i.fileno(), available(i))}
    instances = {}
    with queue_room(events + 1) as room:
        if room < events:
            print('skipping the drain of %d events: %s is %d (raise it as root)'
                  % (events, QUEUE, room + 1))
            return {}
        for label in drains:
            instances[label] = INotify()
            instances[label].add_watch(directory, flags.CREATE)
        if 'upstream' in peers:
            label = upstream_label(peers)
            instances[label] = peers['upstream'].INotify()
            instances[label].add_watch(directory, flags.CREATE)
            drains[label] = lambda i: i.read(timeout=0)
        if 'before' in peers and events <= 1000:  # the burst of the per-call cases
            instances['ours, before'] = peers['before'].INotify()
            instances['ours, before'].add_watch(directory, flags.CREATE)
            drains['ours, before'] = lambda i: i.read(timeout=0)
        if 'inotifyx' in peers:
            x = peers['inotifyx']
            fd = x.init()
            x.add_watch(fd, directory, x.IN_CREATE)
            instances['inotifyx (C)'] = fd
            drains['inotifyx (C)'] = lambda fd: drain_inotifyx(x, fd)
        if 'asyncinotify' in peers:
            a = peers['asyncinotify']
            instances['asyncinotify'] = a.Inotify(sync_timeout=0)
            instances['asyncinotify'].add_watch(directory, a.Mask.CREATE)
            drains['asyncinotify'] = drain_asyncinotify

    def fill():
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        for i in range(events):
            open(os.path.join(directory, mixed_name(i) if mixed else '%07d' % i),
                 'w').close()

    def drain(label):
        seconds, count = timed(drains[label], instances[label])
        assert count == events, (label, count, events)
        return seconds
    try:
        result = compare(dict((label, lambda label=label: drain(label))
                              for label in instances), rounds, events, setup=fill)
    finally:
        for instance in instances.values():
            if isinstance(instance, int):
                os.close(instance)
            else:
                instance.close()
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
    return {'drain %d CREATE events, names of %s' % (
        events, 'mixed lengths' if mixed else 'one length'): result}


def available(instance):
    return struct.unpack('i', ioctl(instance.fileno(), FIONREAD, b'\0' * 4))[0]


def drain_inotifyx(x, fd):
    events = []
    while True:
        got = x.get_events(fd, 0)
        if not got:
            return events
        events.extend(got)


def drain_asyncinotify(instance):
    events = []
    while True:
        event = instance.sync_get()
        if event is None:
            return events
        events.append(event)


def bench_add_watch(peers, directory, files, rounds):
    paths = [os.path.join(directory, '%06d' % i) for i in range(files)]
    for path in paths:
        open(path, 'w').close()

    def watch_all(make):
        with make() as inotify:
            start = clock()
            for path in paths:
                inotify.add_watch(path, flags.MODIFY)
            return clock() - start
    timers = {'ours': lambda: watch_all(INotify)}
    if 'upstream' in peers:
        timers[upstream_label(peers)] = lambda: watch_all(peers['upstream'].INotify)
    result = compare(timers, rounds, files)
    for path in paths:
        os.remove(path)
    return {'add_watch, %d files (per call)' % files: result}


def makers(peers):
    """{label: INotify class} of ours and of each inotify_simple peer."""
    found = {'ours': INotify}
    if 'upstream' in peers:
        found[upstream_label(peers)] = peers['upstream'].INotify
    if 'before' in peers:
        found['ours, before'] = peers['before'].INotify
    return found


def bench_per_call(peers, directory, calls, rounds):
    """What one call costs: read(timeout=0) with nothing queued, and add_watch()
    followed by rm_watch() of one directory (their IGNORED events are read
    outside the clock)."""
    instances = dict((label, make()) for label, make in makers(peers).items())

    def empty_reads(inotify):
        read = inotify.read
        start = clock()
        for _ in range(calls):
            read(timeout=0)
        return clock() - start

    def add_and_rm(inotify):
        add_watch, rm_watch = inotify.add_watch, inotify.rm_watch
        start = clock()
        for _ in range(calls):
            rm_watch(add_watch(directory, flags.CREATE))
        elapsed = clock() - start
        while inotify.read(timeout=0):
            pass
        return elapsed
    results = {}
    try:
        for case, timer in [('read(timeout=0), nothing queued', empty_reads),
                            ('add_watch + rm_watch', add_and_rm)]:
            results['%s (per call)' % case] = compare(dict(
                (label, lambda i=instance, t=timer: t(i))
                for label, instance in instances.items()), rounds, calls)
    finally:
        for instance in instances.values():
            instance.close()
    return results


def bench_memory(peers, directory, events):
    """Peak bytes that read() allocates, per event, for ``events`` CREATEs."""
    try:
        import tracemalloc
    except ImportError:  # Python 2.7
        return {}
    makers = {'ours': INotify}
    if 'upstream' in peers:
        makers[upstream_label(peers)] = peers['upstream'].INotify
    result = {}
    with queue_room(events + 1) as room:
        events = min(events, room)
        instances = dict((label, make()) for label, make in makers.items())
    try:
        for instance in instances.values():
            instance.add_watch(directory, flags.CREATE)
        for i in range(events):
            open(os.path.join(directory, '%07d' % i), 'w').close()
        for label, instance in instances.items():
            gc.collect()
            tracemalloc.start()
            got = instance.read(timeout=0)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert len(got) == events, (label, len(got))
            del got
            result[label] = {'bytes': float(peak) / events}
    finally:
        for instance in instances.values():
            instance.close()
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
    ours = result['ours']['bytes']
    for value in result.values():
        value['ratio'] = value['bytes'] / ours
    return {'peak memory of read(), %d events (bytes per event)' % events: result}


def results_main(doc, table, measure, options=()):
    """The command line of a benchmark whose results become tables: ``measure(args)``
    gives the results (None: it cannot run here), ``table(results)`` their text.
    ``options``: (flag, keywords) of its own arguments besides --quick, --json,
    --rst and --tables."""
    import argparse
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='small sizes and few rounds: checks that it runs')
    for flag, keywords in options:
        parser.add_argument(flag, **keywords)
    parser.add_argument('--json', help='also write the results to this file')
    parser.add_argument('--rst', help='also write the table to this file')
    parser.add_argument('--tables', nargs='+', metavar='JSON', help='measure '
                        'nothing: write the tables of these results to --rst')
    args = parser.parse_args()
    if args.tables:
        tables = []
        for name in args.tables:
            with open(name) as f:
                tables.append(table(json.load(f)))
        with open(args.rst, 'w') as f:
            f.write('\n'.join(tables))
        return
    results = measure(args)
    print(table(results))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if args.rst:
        with open(args.rst, 'w') as f:
            f.write(table(results))


def machine():
    model = platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except IOError:
        pass
    return '%s, %d CPUs, Linux %s' % (model, os.sysconf('SC_NPROCESSORS_ONLN'),
                                      platform.release())


def interpreter():
    name = platform.python_implementation()
    return '%s %s' % (name, platform.python_version())


def print_table(results):
    print('%s on %s' % (interpreter(), machine()))
    for case in results['cases']:
        print()
        print(case)
        rows = results['cases'][case]
        unit = 'bytes' if 'bytes' in rows['ours'] else 'ns'
        for label in sorted(rows, key=lambda label: rows[label][unit]):
            print('  %-28s %10.0f %-5s  x%.2f' % (label, rows[label][unit], unit,
                                                  rows[label]['ratio']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes and few rounds: checks that it runs')
    parser.add_argument('--json', help='also write the results to this file')
    parser.add_argument('--upstream', help='the folder holding upstream '
                        'inotify_simple.py')
    parser.add_argument('--before', help='a folder holding an earlier '
                        'inotify_simple.py of ours, measured beside (per call)')
    parser.add_argument('--only', choices=['per-call'],
                        help='only the per-call costs and the 1000-event burst')
    args = parser.parse_args()
    peers = load_peers(args.upstream, args.before)
    rounds = 3 if args.quick else 15
    sizes = [100] if args.quick else [10000, 100000]
    top = tempfile.mkdtemp(prefix='inotify-bench-', dir='/dev/shm'
                           if os.path.isdir('/dev/shm') else None)
    directory = os.path.join(top, 'watched')
    os.mkdir(directory)
    cases = {}
    try:
        # Short blocks of calls, many times in turn: the kernel's own time for a
        # call drifts (add_watch and rm_watch leave work to its threads), and
        # short turns let every library share each drift alike.
        cases.update(bench_per_call(peers, directory, 100 if args.quick else 200,
                                    rounds if args.quick else 10 * rounds))
        cases.update(bench_drain(peers, directory, 1000, rounds))
        if not args.only:
            cases.update(bench_parse(peers, directory, sizes[0], rounds))
            for events in sizes:
                cases.update(bench_drain(peers, directory, events, rounds if
                                         events <= 10000 else max(3, rounds // 3)))
            cases.update(bench_drain(peers, directory, sizes[0], rounds, mixed=True))
            cases.update(bench_add_watch(peers, directory, sizes[0], rounds))
            cases.update(bench_memory(peers, directory, sizes[-1]))
    finally:
        shutil.rmtree(top)
    results = {'interpreter': interpreter(), 'machine': machine(),
               'date': time.strftime('%Y-%m-%d'), 'cases': cases}
    print_table(results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
