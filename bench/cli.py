"""The command line's -m beside inotifywait's, on a burst of CREATEs, in one run.

In each round both programs run, in an order that rotates from round to round,
each on its own burst of N files made at full speed in a directory of a tmpfs,
printing to a pipe that this script reads:

- drain: the program is stopped (SIGSTOP) while the burst is made into a queue
  raised to hold it (max_queued_events, which needs root; restored after), then
  continued; its rate is N lines over the time until the last one is read.
- live: the program runs while the burst is made, with the kernel's default
  queue (set as root, else the system's); counted are the lines that came and
  the rounds with a Q_OVERFLOW.

The table gives the medians, and the median of the ratios of ours to inotifywait's
rate in the same round (above 1.0: ours prints faster).

    python bench/cli.py [--quick] [--events N] [--rounds R] [--json F] [--rst F]
    python bench/cli.py --tables RESULTS.json... --rst F
"""
from __future__ import print_function

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench import QUEUE
from bench import ROOT
from bench import interpreter
from bench import machine
from bench import max_queued_events
from bench import median
from bench import queue_room
from bench import results_main

INOTIFYWAIT = '/usr/bin/inotifywait'
# The calls in which each program waits for events (x86_64, aarch64)
WAITING = {'x86_64': ('7', '270', '271'), 'aarch64': ('72', '73')}.get(os.uname()[4])
OVERFLOW = b' Q_OVERFLOW \n'
DEFAULT_QUEUE = 16384  # the kernel's max_queued_events


@contextlib.contextmanager
def default_queue():
    """Instances made inside have the kernel's default queue, if max_queued_events
    can be set (as root; restored after); yields the queue they have."""
    with max_queued_events(DEFAULT_QUEUE) as (old, done):
        yield DEFAULT_QUEUE if done else old


def programs():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    return {'ours': ([sys.executable, '-m', 'inotify_simple'], env),
            'inotifywait': ([INOTIFYWAIT], None)}


class Run(object):
    """One program printing the CREATEs of ``directory`` to a pipe we read."""

    def __init__(self, command, directory):
        argv, env = command
        # Q_OVERFLOW asked for: inotifywait prints it only then
        self.process = subprocess.Popen(argv + ['-m', '-e', 'create,q_overflow',
                                                directory],
                                        stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        while b'Watches established.' not in self.process.stderr.readline():
            if self.process.poll() is not None:
                sys.exit('%s failed: %s' % (argv, self.process.stderr.read()))
        self.lines = 0
        self.overflow = False
        self.tail = b''

    def read(self):
        """Read what is in the pipe (blocking until something is); False at EOF."""
        data = os.read(self.process.stdout.fileno(), 1 << 20)
        self.lines += data.count(b'\n')
        self.overflow = self.overflow or OVERFLOW in self.tail + data
        self.tail = data[-len(OVERFLOW):]
        return bool(data)

    def waiting(self):
        """Whether it is asleep waiting for events, and not being woken (a woken
        task that has not run yet still shows its call, but its state is R)."""
        try:
            with open('/proc/%d/syscall' % self.process.pid) as f:
                call = f.read().split()[0]
            with open('/proc/%d/stat' % self.process.pid) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
            with open('/proc/%d/syscall' % self.process.pid) as f:
                return call in WAITING and state == 'S' and f.read().split()[0] == call
        except (IOError, OSError, IndexError):
            return False

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


def burst(directory, events):
    for i in range(events):
        os.close(os.open(os.path.join(directory, '%07d' % i),
                         os.O_CREAT | os.O_WRONLY, 0o644))


def collect(run, events):
    """Read the program's lines until it has printed the burst: all of it, or
    what it got once it waits for more with nothing left in the pipe."""
    out = [run.process.stdout]
    while run.lines < events + run.overflow:
        if select.select(out, [], [], 0.01)[0]:
            run.read()
        elif run.waiting():  # it has read the queue: what it printed is in
            while select.select(out, [], [], 0)[0] and run.read():
                pass
            return


def drain(command, top, events, attempts=3):
    """Lines per second of a program continued with ``events`` CREATEs queued.

    The queue is raised for it, but this machine is shared: if another program
    lowered the limit meanwhile and events were lost, the burst is made again.
    """
    for attempt in range(attempts):
        directory = tempfile.mkdtemp(dir=top)
        run = Run(command, directory)
        try:
            run.process.send_signal(signal.SIGSTOP)
            burst(directory, events)
            start = time.time()
            run.process.send_signal(signal.SIGCONT)
            collect(run, events)
            elapsed = time.time() - start
        finally:
            run.stop()
            shutil.rmtree(directory)
        if run.lines == events and not run.overflow:
            return events / elapsed
    sys.exit('%s lost events in %d attempts: %s is lowered by something else'
             % (command[0], attempts, QUEUE))


def live(command, top, events):
    """Lines printed, whether Q_OVERFLOW was, and the queue, when the burst is
    made live."""
    directory = tempfile.mkdtemp(dir=top)
    with default_queue() as queue:
        run = Run(command, directory)
    try:
        burst(directory, events)  # all queued (or lost) when this returns
        collect(run, events)
        return run.lines - run.overflow, run.overflow, queue
    finally:
        run.stop()
        shutil.rmtree(directory)


def measure(events, rounds):
    commands = programs()
    labels = sorted(commands)
    rates = dict((label, []) for label in labels)
    ratios = []
    lines = dict((label, []) for label in labels)
    overflows = dict((label, 0) for label in labels)
    only_ours = 0  # rounds where ours overflowed and inotifywait did not
    queues = set()
    top = tempfile.mkdtemp(prefix='inotify-bench-cli-', dir='/dev/shm'
                           if os.path.isdir('/dev/shm') else None)
    try:
        for round_ in range(rounds):
            order = labels[round_ % 2:] + labels[:round_ % 2]
            with queue_room(events + 1) as room:
                if room >= events:
                    this = dict((label, drain(commands[label], top, events))
                                for label in order)
                    for label in labels:
                        rates[label].append(this[label])
                    ratios.append(this['ours'] / this['inotifywait'])
            if WAITING is not None:
                overflowed = {}
                for label in order:
                    count, overflowed[label], queue = live(commands[label], top,
                                                           events)
                    queues.add(queue)
                    lines[label].append(count)
                    overflows[label] += overflowed[label]
                only_ours += overflowed['ours'] and not overflowed['inotifywait']
    finally:
        shutil.rmtree(top)
    results = {'interpreter': interpreter(), 'machine': machine(),
               'date': time.strftime('%Y-%m-%d'), 'events': events,
               'rounds': rounds, 'queue': sorted(queues), 'cases': {}}
    if ratios:
        results['cases']['drain'] = dict(
            (label, {'lines_per_s': median(rates[label])}) for label in labels)
        results['cases']['drain']['ratio'] = median(ratios)
    if WAITING is not None:
        results['cases']['live'] = dict(
            (label, {'lines': median(lines[label]), 'overflows': overflows[label]})
            for label in labels)
        results['cases']['live']['only_ours_overflowed'] = only_ours
    return results


def table(results):
    """The results as reStructuredText: a title and one table."""
    cases = results['cases']
    rows = [('program', 'drain: lines/s', 'live: lines printed',
             'live: rounds with Q_OVERFLOW')]
    for label in ('ours', 'inotifywait'):
        drained = cases.get('drain', {}).get(label)
        lived = cases.get('live', {}).get(label)
        rows.append((label if label == 'inotifywait' else 'ours (%s)'
                     % results['interpreter'],
                     '%.0f' % drained['lines_per_s'] if drained else '-',
                     '%d of %d' % (lived['lines'], results['events']) if lived
                     else '-',
                     '%d of %d' % (lived['overflows'], results['rounds']) if lived
                     else '-'))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = '  '.join('=' * width for width in widths)
    lines = [rule, '  '.join(cell.ljust(width) for cell, width in
                             zip(rows[0], widths)).rstrip(), rule]
    lines += ['  '.join(cell.ljust(width) for cell, width in zip(row, widths))
              .rstrip() for row in rows[1:]]
    lines.append(rule)
    title = '%s, %s' % (results['interpreter'], results['date'])
    ratio = cases.get('drain', {}).get('ratio')
    queue = '/'.join('%d' % size for size in results['queue']) or '-'
    text = [title, '-' * len(title), '',
            'On %s; %d CREATEs a round, %d rounds; the live queue holds %s events.'
            % (results['machine'], results['events'], results['rounds'], queue), '']
    if ratio is not None:
        text += ['Draining, ours prints x%.2f the lines per second of inotifywait '
                 '(median of the rounds\' ratios).' % ratio, '']
    if 'live' in cases:
        text += ['Live, rounds where ours overflowed and inotifywait did not: %d.'
                 % cases['live']['only_ours_overflowed'], '']
    return '\n'.join(text + lines) + '\n'


def main():
    def run(args):
        if not os.access(INOTIFYWAIT, os.X_OK):
            sys.exit('bench/cli.py compares with %s: install inotify-tools'
                     % INOTIFYWAIT)
        events = args.events or (2000 if args.quick else 100000)
        return measure(events, args.rounds or (2 if args.quick else 5))
    results_main(__doc__, table, run, [
        ('--events', dict(type=int, help='CREATEs a burst (100000)')),
        ('--rounds', dict(type=int, help='rounds (5)'))])


if __name__ == '__main__':
    main()
