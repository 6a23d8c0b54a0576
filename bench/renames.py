"""Renames and new directories in big trees, side by side: inotifywait, our command
line, the tree engine alone and watchdog, in one run.

- Renames: in trees of about 2,000, 20,000 and 100,000 directories on a tmpfs
  (a top, then N x 20 leaves in N directories), 400 leaves are renamed at full
  speed while the program runs, then a file is made in each: the time from the
  first rename until the last of those files is printed, per rename, and how
  many of them were printed at the path they have (after the renames).
- New directories: 500, then 4,000, directories made at full speed in one
  directory of the tree, a file in each (the program stopped meanwhile, where
  it can be: the events are queued before it reads), then a file in the top:
  the time until that file is printed, per directory, and whether the program
  watches them all then.

Every program is started in turn, in an order that rotates from round to round;
the tables give medians, and the medians of each round's ratio to inotifywait's.

    python bench/renames.py [--quick] [--rounds R] [--json F] [--rst F]
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

from bench import interpreter
from bench import machine
from bench import median
from bench import results_main
from tree import INOTIFYWAIT
from tree import python_env

READY = b'Watches established.'
RENAMED = 400
# The engine alone: the tree, then the path of each CREATE, a line each.
ENGINE = r'''
import os, sys
from inotify_simple import flags
from inotify_simple_tree import Tree
tree = Tree(sys.argv[1].encode(), flags.CREATE)
os.write(2, b'Watches established.\n')
while True:
    os.write(1, b''.join(event.path + b' CREATE\n' for event in tree.read()))
'''
WATCHDOG = r'''
import os, sys
from watchdog.observers.inotify import InotifyObserver
from watchdog.events import FileSystemEventHandler
class Printer(FileSystemEventHandler):
    def on_created(self, event):
        os.write(1, os.fsencode(event.src_path) + b' CREATE\n')
observer = InotifyObserver()
observer.schedule(Printer(), sys.argv[1], recursive=True)
observer.start()
os.write(2, b'Watches established.\n')
observer.join()
'''


def programs():
    """label -> (argv before the top, env, whether it may be stopped)."""
    env = python_env()
    command_line = ['-m', '-r', '-q', '-e', 'create', '--format', '%w%f CREATE']
    found = {'inotifywait': ([INOTIFYWAIT] + command_line, None, True),
             'ours': ([sys.executable, '-m', 'inotify_simple'] + command_line, env,
                      True),
             'engine': ([sys.executable, '-c', ENGINE], env, True)}
    try:
        __import__('watchdog')
    except ImportError:
        pass
    else:  # its observer prints nothing more once stopped and continued
        found['watchdog'] = ([sys.executable, '-c', WATCHDOG], env, False)
    return found


class Program(object):
    """A program watching ``top``, and the paths it printed."""

    def __init__(self, program, top):
        argv, env, self.stoppable = program
        self.process = subprocess.Popen(argv + [top], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        if '-q' not in argv:
            while READY not in self.process.stderr.readline():
                if self.process.poll() is not None:
                    sys.exit('%s failed: %r' % (argv, self.process.stderr.read()))
        # Ready once every watch is set (watchdog says so before, in big trees).
        wait_for_watches(self.process.pid, count_directories(top))
        self.tail = b''

    def until(self, wanted, timeout=120.0):
        """Read printed paths until every one of ``wanted`` (a set) came: the time
        the last came, and those that came."""
        got, last = set(), None
        out = self.process.stdout.fileno()
        deadline = time.time() + timeout
        while wanted - got and time.time() < deadline:
            if not select.select([out], [], [], 1.0)[0]:
                continue
            lines = (self.tail + os.read(out, 1 << 20)).split(b'\n')
            self.tail = lines.pop()
            for line in lines:
                if line.endswith(b' CREATE') and line[:-7] in wanted:
                    got.add(line[:-7])
                    last = time.time()
        return last, got

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


def count_directories(top):
    return sum(1 for _ in os.walk(top))


def watches(pid):
    """How many inotify watches process ``pid`` holds."""
    count = 0
    for fd in os.listdir('/proc/%d/fdinfo' % pid):
        try:
            with open('/proc/%d/fdinfo/%s' % (pid, fd)) as f:
                count += sum(line.startswith('inotify wd:') for line in f)
        except (IOError, OSError):
            pass
    return count


def wait_for_watches(pid, count, timeout=120.0):
    deadline = time.time() + timeout
    while watches(pid) < count and time.time() < deadline:
        time.sleep(0.01)


def make_tree(top, parents):
    """A top, ``parents`` directories in it and 20 leaves in each: the leaves."""
    leaves = []
    for a in range(parents):
        for b in range(20):
            leaves.append(os.path.join(top, 'p%d' % a, 'l%d' % b))
            os.makedirs(leaves[-1])
    return leaves


def renames_round(program, top, leaves, renamed):
    """The program watching: ``renamed`` leaves renamed, a file made in each. Time
    per rename, and how many files came at their path."""
    run = Program(program, top)
    try:
        step = max(1, len(leaves) // renamed)
        chosen = leaves[::step][:renamed]
        probes = set()
        start = time.time()
        for leaf in chosen:
            os.rename(leaf, leaf + 'r')
        for leaf in chosen:
            probes.add((leaf + 'r/probe').encode())
            os.close(os.open(leaf + 'r/probe', os.O_CREAT | os.O_WRONLY, 0o644))
        last, got = run.until(probes)
        return {'per rename': (last - start) / len(chosen) if last else None,
                'right': len(got) / float(len(chosen))}
    finally:
        run.stop()
        for leaf in leaves[::step][:renamed]:
            os.remove(leaf + 'r/probe')
            os.rename(leaf + 'r', leaf)


def directories_round(program, top, count):
    """``count`` directories made at once in one directory of the tree, a file
    in each (the program stopped, if it can be), then a file in the top: time per
    directory until that file is printed, and whether every new directory is
    watched."""
    burst = os.path.join(top, 'burst')
    os.mkdir(burst)
    run = Program(program, top)
    try:
        before = watches(run.process.pid)
        if run.stoppable:
            run.process.send_signal(signal.SIGSTOP)
        start = time.time()
        for i in range(count):
            made = os.path.join(burst, 'd%05d' % i)
            os.mkdir(made)
            os.close(os.open(os.path.join(made, 'f'), os.O_CREAT | os.O_WRONLY,
                             0o644))
        fence = os.path.join(top, 'fence')
        os.close(os.open(fence, os.O_CREAT | os.O_WRONLY, 0o644))
        if run.stoppable:
            run.process.send_signal(signal.SIGCONT)
        last, got = run.until(set([fence.encode()]))
        wait_for_watches(run.process.pid, before + count, timeout=30.0)
        return {'per directory': (last - start) / count if last else None,
                'watched': (watches(run.process.pid) - before) / float(count)}
    finally:
        run.stop()
        shutil.rmtree(burst)
        os.remove(os.path.join(top, 'fence'))


def measure(args):
    sizes = [(5, 'about 100')] if args.quick else [
        (100, 'about 2,000'), (1000, 'about 20,000'), (5000, 'about 100,000')]
    bursts = [50, 200] if args.quick else [500, 4000]
    rounds = 1 if args.quick else args.rounds
    renamed = 20 if args.quick else RENAMED
    found = programs()
    labels = sorted(found)
    results = {'interpreter': interpreter(), 'machine': machine(),
               'date': time.strftime('%Y-%m-%d'), 'rounds': rounds,
               'renamed': renamed, 'renames': {}, 'directories': {}}
    base = tempfile.mkdtemp(prefix='inotify-bench-renames-', dir='/dev/shm'
                            if os.path.isdir('/dev/shm') else None)
    try:
        for parents, label in sizes:
            top = os.path.join(base, 'tree%d' % parents)
            leaves = make_tree(top, parents)
            size = '%s (%d)' % (label, count_directories(top))
            results['renames'][size] = summary(found, labels, rounds, 'per rename',
                                               lambda program: renames_round(
                                                   program, top, leaves, renamed))
            if parents == sizes[0][0]:
                for count in bursts:
                    results['directories'][str(count)] = summary(
                        found, labels, rounds, 'per directory',
                        lambda program: directories_round(program, top, count))
            shutil.rmtree(top)
    finally:
        shutil.rmtree(base)
    return results


def summary(found, labels, rounds, key, measure_one):
    """label -> medians over ``rounds`` of what ``measure_one(program)`` gives, and
    of the ratio of ``key`` to inotifywait's in each round."""
    samples = dict((label, []) for label in labels)
    for round_ in range(rounds):
        order = labels[round_ % len(labels):] + labels[:round_ % len(labels)]
        for label in order:
            samples[label].append(measure_one(found[label]))
    out = {}
    for label in labels:
        row = {}
        for name in samples[label][0]:
            values = [sample[name] for sample in samples[label]
                      if sample[name] is not None]
            row[name] = median(values) if values else None
        ratios = [ours[key] / theirs[key] for ours, theirs in
                  zip(samples[label], samples['inotifywait'])
                  if ours[key] and theirs[key]]
        row['ratio'] = median(ratios) if ratios else None
        out[label] = row
    return out


def table(results):
    lines = ['Renames and new directories, %s, %s, %s (%d round%s)' % (
        results['interpreter'], results['machine'], results['date'],
        results['rounds'], 's' if results['rounds'] != 1 else ''), '']
    for part, key, check in (('renames', 'per rename', 'right'),
                             ('directories', 'per directory', 'watched')):
        cases = results[part]
        labels = sorted(set(label for case in cases.values() for label in case))
        rows = [[part, ''] + labels]
        for case in sorted(cases, key=lambda case: int(case.split(' (')[-1].rstrip(
                ')').replace(',', '')) if '(' in case else int(case)):
            for name, unit in ((key, 'us'), ('ratio', 'x inotifywait'),
                               (check, 'share')):
                row = [case if name == key else '', '%s (%s)' % (name, unit)]
                for label in labels:
                    value = cases[case].get(label, {}).get(name)
                    row.append('n/a' if value is None else '%.1f' % (value * 1e6)
                               if name == key else '%.2f' % value)
                rows.append(row)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        rule = '  '.join('=' * width for width in widths)
        lines += [rule, '  '.join(cell.ljust(width) for cell, width in
                                  zip(rows[0], widths)), rule]
        lines += ['  '.join(cell.ljust(width) for cell, width in zip(row, widths))
                  for row in rows[1:]]
        lines += [rule, '']
    return '\n'.join(lines)


def main():
    results_main(__doc__, table, measure, [('--rounds', dict(type=int, default=3,
                                                             help='rounds (3)'))])


if __name__ == '__main__':
    main()
