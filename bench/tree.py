"""Recursive watching of a big tree, side by side: inotifywait, our command line,
the tree engine alone, the docs' former recipe and watchdog, in one run.

On a tree of directories on a tmpfs (40 x 25 x 20 below the top: 21,041), every
program is started in turn, in an order that rotates from round to round:

- setup: the time from its start until it says it watches the whole tree
  ("Watches established." on standard error), and its VmRSS then;
- burst: stopped (SIGSTOP), 20,000 files are made in the deepest directory into
  a queue raised to hold them (max_queued_events, as root; restored after), then
  it is continued: the time until it has printed all their CREATEs, and its
  VmRSS after, beside the one at setup (it must not grow with the events). The
  recipe does nothing with an event but print it: its burst is what
  ``INotify.read()`` of the whole queue and a line per event cost.

The tables give medians, and the medians of each round's ratio to inotifywait's
figure with the same events asked for (below 1.0: less than inotifywait).

A second part, "nothing missed", runs one burst at full speed against each
program watching an empty tree: trees made with os.makedirs and files made in
every level at once; trees built outside and moved in; a directory made, filled,
renamed at once and filled again; 60 directories made, filled and removed at once
(half renamed first), then 20 new files. It counts the files reported (each
expected once, at its path when made or its final path) and the paths reported
that never held them.

    python bench/tree.py [--quick] [--rounds R] [--json F] [--rst F]
    python bench/tree.py --tables RESULTS.json... --rst F
"""
from __future__ import print_function

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench import ROOT
from bench import interpreter
from bench import machine
from bench import median
from bench import queue_room
from bench import results_main

sys.path.insert(0, os.path.join(ROOT, 'tests'))
from burst import churn  # noqa: E402 (the tests' burst, in tests/burst.py)

INOTIFYWAIT = '/usr/bin/inotifywait'
READY = b'Watches established.'

# The engine alone: the tree, then one line per event (CREATE ones only).
ENGINE = r'''
import os, sys
from inotify_simple import flags, masks
from inotify_simple_tree import Tree
tree = Tree(sys.argv[1].encode(), int(sys.argv[2]))
os.write(2, b'Watches established.\n')
CREATE, ISDIR = int(flags.CREATE), int(flags.ISDIR)
while True:
    os.write(1, b''.join(event.path + b' CREATE\n' for event in tree.read()
                         if event.mask & CREATE and not event.mask & ISDIR))
'''
# The docs' recursive recipe as it was before the engine: watch each directory,
# then list it; it closes none of the races but that one. Then, as the engine, a
# line per CREATE read, and nothing more: its burst is the library's read alone.
RECIPE = r'''
import os, sys
from inotify_simple import INotify, flags, masks
inotify = INotify()
mask = int(sys.argv[2]) | flags.ONLYDIR
directories = {}
encoding = sys.getfilesystemencoding()
def watch(directory):
    try:
        directories[inotify.add_watch(directory, mask)] = directory.encode(
            encoding) + b'/'
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            watch(path)
watch(sys.argv[1])
os.write(2, b'Watches established.\n')
CREATE, ISDIR = int(flags.CREATE), int(flags.ISDIR)
while True:
    os.write(1, b''.join(directories[wd] + name.encode() + b' CREATE\n'
                         for wd, mask, _, name in inotify.read()
                         if mask & CREATE and not mask & ISDIR and wd != -1))
'''
# watchdog's observer, scheduled recursively: its watches are all set once
# start() returns.
WATCHDOG = r'''
import os, sys
from watchdog.observers.inotify import InotifyObserver
from watchdog.events import FileSystemEventHandler
class Printer(FileSystemEventHandler):
    def on_created(self, event):
        if not event.is_directory:
            os.write(1, os.fsencode(event.src_path) + b' CREATE\n')
observer = InotifyObserver()
observer.schedule(Printer(), sys.argv[1], recursive=True)
observer.start()
os.write(2, b'Watches established.\n')
observer.join()
'''
# asyncinotify's recursive watcher, for the burst of "nothing missed".
ASYNCINOTIFY = r'''
import asyncio, os, sys
from pathlib import Path
from asyncinotify import Inotify, Mask
async def main(top):
    mask = Mask.CREATE | Mask.MOVED_TO | Mask.ONLYDIR
    with Inotify() as inotify:
        def watch(path):
            try:
                inotify.add_watch(path, mask)
            except OSError:
                return
            for child in path.iterdir() if path.is_dir() else ():
                if child.is_dir() and not child.is_symlink():
                    watch(child)
        watch(Path(top))
        os.write(2, b'Watches established.\n')
        async for event in inotify:
            if event.path is None:
                continue
            if event.mask & Mask.ISDIR:
                watch(event.path)
            else:
                os.write(1, os.fsencode(str(event.path)) + b' CREATE\n')
asyncio.run(main(sys.argv[1]))
'''


def python_env():
    """Our modules on the path; byte code cached, as an installed module has it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    return env


def programs(create_only, peers=False):
    """label -> (argv before the top, env, argv after it)."""
    events = ['-e', 'create'] if create_only else []
    mask = ['256' if create_only else '4095']
    env = python_env()
    found = {
        'inotifywait': ([INOTIFYWAIT, '-m', '-r'] + events, None, []),
        'ours': ([sys.executable, '-m', 'inotify_simple', '-m', '-r'] + events, env,
                 []),
        'engine': ([sys.executable, '-c', ENGINE], env, mask),
        'recipe': ([sys.executable, '-c', RECIPE], env, mask),
    }
    for label, script in (('watchdog', WATCHDOG), ('asyncinotify', ASYNCINOTIFY)):
        if label == 'asyncinotify' and not peers:
            continue
        try:
            __import__(label)
        except ImportError:
            continue
        found[label] = ([sys.executable, '-c', script], env, [])
    return found


def rss(pid):
    """VmRSS of ``pid``, in MB."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Run(object):
    """One program watching ``top``; ``setup`` is the seconds until it said it was
    watching the whole tree, ``rss`` its VmRSS then."""

    def __init__(self, program, top):
        before, env, after = program
        argv = before + [top] + after
        start = time.time()
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        while READY not in self.process.stderr.readline():
            if self.process.poll() is not None:
                sys.exit('%s failed: %r' % (argv, self.process.stderr.read()))
        self.setup = time.time() - start
        self.rss = rss(self.process.pid)
        self.lines = 0
        self.tail = b''

    def read(self, timeout):
        """Count the CREATE lines that come within ``timeout``; False if none."""
        out = self.process.stdout.fileno()
        if not select.select([out], [], [], timeout)[0]:
            return False
        data = self.tail + os.read(out, 1 << 20)
        lines = data.split(b'\n')
        self.tail = lines.pop()
        self.lines += sum(1 for line in lines if line.endswith(b' CREATE') or
                          b' CREATE ' in line or b' CREATE,' in line)
        return True

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


def make_tree(top, shape):
    for a in range(shape[0]):
        for b in range(shape[1]):
            for c in range(shape[2]):
                os.makedirs(os.path.join(top, str(a), str(b), str(c)))
    return os.path.join(top, str(shape[0] - 1), str(shape[1] - 1), str(shape[2] - 1))


def burst(directory, files):
    for i in range(files):
        os.close(os.open(os.path.join(directory, 'f%06d' % i),
                         os.O_CREAT | os.O_WRONLY, 0o644))


def measure_round(program, top, deepest, files, burst_too):
    """Setup time and RSS; with ``burst_too``, the burst's time and RSS after, if
    the queue can be raised to hold it (as root)."""
    with queue_room(3 * files + 100) as room:  # for the instances made inside
        run = Run(program, top)
    try:
        result = {'setup': run.setup, 'rss': run.rss}
        if not burst_too or room < 3 * files:
            return result
        run.process.send_signal(signal.SIGSTOP)
        burst(deepest, files)  # in a directory watched from the start
        start = time.time()
        run.process.send_signal(signal.SIGCONT)
        last = start
        while run.lines < files:
            if not run.read(30.0):
                break  # lost some: what came is counted
            last = time.time()
        result.update(burst=last - start, lines=run.lines,
                      rss_after=rss(run.process.pid))
        return result
    finally:
        run.stop()
        for name in os.listdir(deepest):
            os.remove(os.path.join(deepest, name))


def measure(shape, files, rounds):
    top = tempfile.mkdtemp(prefix='inotify-bench-tree-', dir='/dev/shm'
                           if os.path.isdir('/dev/shm') else None)
    results = {'interpreter': interpreter(), 'machine': machine(),
               'date': time.strftime('%Y-%m-%d'), 'rounds': rounds, 'files': files,
               'directories': 1 + shape[0] * (1 + shape[1] * (1 + shape[2])),
               'cases': {}}
    try:
        tree = os.path.join(top, 'tree')
        deepest = make_tree(tree, shape)
        for create_only in (False, True):
            case = '-e create' if create_only else 'every event'
            found = programs(create_only)
            labels = sorted(found)
            samples = dict((label, []) for label in labels)
            for round_ in range(rounds):
                order = labels[round_ % len(labels):] + labels[:round_ % len(labels)]
                for label in order:
                    # watchdog, stopped and continued, prints nothing more; the
                    # recipe's queue, with every event, is full of its own reading
                    burst_too = label != 'watchdog' and (
                        label != 'recipe' or create_only)
                    samples[label].append(measure_round(
                        found[label], tree, deepest, files, burst_too))
            results['cases'][case] = summary(samples)
        results['missed'] = nothing_missed(top, programs(True, peers=True))
    finally:
        shutil.rmtree(top)
    return results


def summary(samples):
    """Medians per program, and of the ratios to inotifywait's in each round."""
    out = {}
    reference = samples['inotifywait']
    for label, runs in samples.items():
        row = {}
        for key in ('setup', 'rss', 'burst', 'rss_after', 'lines'):
            values = [run[key] for run in runs if key in run]
            if values:
                row[key] = median(values)
            ratios = [run[key] / theirs[key] for run, theirs in zip(runs, reference)
                      if key in run and key in theirs and theirs[key]]
            if ratios and key != 'lines':
                row[key + '_ratio'] = median(ratios)
        out[label] = row
    return out


# Nothing missed

def nothing_missed(top, found, rounds=2):
    """Per program: files reported / expected, reported twice, and paths reported
    that never held a file."""
    out = {}
    for label in sorted(found):
        if label == 'recipe':  # it follows no new directory
            continue
        result = {'reported': 0, 'expected': 0, 'twice': 0, 'wrong': 0}
        for _ in range(rounds):
            tree = tempfile.mkdtemp(dir=top)
            outside = tempfile.mkdtemp(dir=top)
            run = Run(found[label], tree)
            try:
                expected, held = churn(tree, outside)
                counts = {}
                for path in reported_paths(run):
                    counts[path] = counts.get(path, 0) + 1
                for paths in expected.values():
                    seen = sum(counts.get(path, 0) for path in paths)
                    result['reported'] += seen >= 1
                    result['twice'] += seen > 1
                result['expected'] += len(expected)
                result['wrong'] += sum(1 for path in counts if path not in held)
            finally:
                run.stop()
                shutil.rmtree(tree)
                shutil.rmtree(outside)
        out[label] = result
    return out


def reported_paths(run, quiet=1.0, limit=10.0):
    """The files whose CREATE a program printed, until it prints nothing for
    ``quiet`` seconds."""
    out = run.process.stdout.fileno()
    deadline = time.time() + limit
    tail = b''
    while time.time() < deadline and select.select([out], [], [], quiet)[0]:
        data = tail + os.read(out, 1 << 20)
        lines = data.split(b'\n')
        tail = lines.pop()
        for line in lines:
            line = line.decode('utf-8', 'replace')
            if line.endswith(' CREATE'):  # the engine's and the peers': PATH CREATE
                yield line[:-len(' CREATE')]
            elif ' CREATE' in line and 'ISDIR' not in line:  # DIR/ EVENTS NAME
                directory, events, name = line.split(' ', 2)
                yield directory + name


# Tables

def table(results):
    """The results as reStructuredText."""
    title = '%s, %s' % (results['interpreter'], results['date'])
    text = [title, '-' * len(title), '',
            'On %s; a tree of %d directories on a tmpfs, %d rounds; bursts of %d '
            'files.' % (results['machine'], results['directories'],
                        results['rounds'], results['files']), '']
    for case in ('every event', '-e create'):
        rows = [('%s' % case, 'setup (s)', 'x inotifywait', 'RSS (MB)',
                 'x inotifywait', 'burst (s)', 'x inotifywait', 'RSS after (MB)')]
        for label in ('inotifywait', 'ours', 'engine', 'recipe', 'watchdog'):
            row = results['cases'][case].get(label)
            if row is None:
                continue

            def cell(key, form='%.3f'):
                return form % row[key] if key in row else '-'
            rows.append((label, cell('setup'), cell('setup_ratio', '%.2f'),
                         cell('rss', '%.1f'), cell('rss_ratio', '%.2f'),
                         cell('burst'), cell('burst_ratio', '%.2f'),
                         cell('rss_after', '%.1f')))
        text += [rst(rows), '']
    missed = results.get('missed')
    if missed:
        rows = [('nothing missed', 'files reported', 'reported twice',
                 'wrong paths')]
        for label in sorted(missed):
            m = missed[label]
            rows.append((label, '%d of %d' % (m['reported'], m['expected']),
                         '%d' % m['twice'], '%d' % m['wrong']))
        text += [rst(rows), '']
    return '\n'.join(text)


def rst(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = '  '.join('=' * width for width in widths)
    lines = ['  '.join(cell.ljust(width) for cell, width in zip(row, widths))
             .rstrip() for row in rows]
    return '\n'.join([rule, lines[0], rule] + lines[1:] + [rule])


def main():
    def run(args):
        if not os.access(INOTIFYWAIT, os.X_OK):
            sys.exit('bench/tree.py compares with %s: install inotify-tools'
                     % INOTIFYWAIT)
        shape, files = ((4, 5, 5), 500) if args.quick else ((40, 25, 20), 20000)
        return measure(shape, files, args.rounds or (1 if args.quick else 3))
    results_main(__doc__, table, run, [('--rounds', dict(type=int,
                                                         help='rounds (3)'))])


if __name__ == '__main__':
    main()
