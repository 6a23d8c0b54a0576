"""Random churn of a watched tree, read at random points: once it has read
everything, its watches are the tree's directories, what is made then is reported
where it is, and every file was reported once (more only if it left the tree and
came back, or went into a directory the tree had not seen yet), at a path that held
it, and nothing outside the tree was.

Hypothesis's stateful testing shrinks a failure to its shortest sequence; where
it is not installed (Python 2.7), a seeded run of the same operations stands in.
INOTIFY_SIMPLE_CHURN (a number, 10 by default) says how many sequences of each
kind to run.
"""
import os
import random
import shutil
import tempfile

import pytest

from churn import Churn
from exact import differences
from exact import directories
from exact import kernel_watches
from inotify_simple import flags
from inotify_simple import masks
from inotify_simple_tree import Tree
from test_tree_exact import assert_exact
from test_tree_exact import settle

SEQUENCES = int(os.environ.get('INOTIFY_SIMPLE_CHURN', '10'))
STEPS = 30
QUEUE = '/proc/sys/fs/inotify/max_queued_events'


class Run(object):
    """One sequence: a tree, its churn, and what it read."""

    def __init__(self, queue=None):
        self.base = tempfile.mkdtemp(prefix='inotify-simple-churn-')
        self.top = os.path.join(self.base, 'w')
        outside = os.path.join(self.base, 'out')
        os.makedirs(os.path.join(self.top, 'a', 'b'))
        os.mkdir(outside)
        self.churn = Churn(self.top, outside)
        self.events = []
        self.tree = make_tree(self.top, queue)

    def do(self, operation, a, b, c):
        self.churn.do(operation, a, b, c)

    def read(self):
        """Read all that is queued (a read() returns what one read of the kernel's
        queue gives): the directories that came are watched then."""
        while True:
            events = self.tree.read(timeout=0)
            if not events:
                break
            self.events += events
        self.churn.read()

    def check(self):
        """What the module's docstring says, once the tree has read everything."""
        churn, top = self.churn, self.top
        try:
            self.events += settle(self.tree, top)
            real = directories(top)
            self.events += settle(self.tree, top)  # the reading of them
            steps = '\n'.join(repr(step) for step in churn.done)
            assert differences(self.tree.watches(), kernel_watches(
                self.tree.fileno()), top, real) == [], steps
            created = {}
            for event in self.events:
                assert event.path.startswith(top) or event.mask & flags.Q_OVERFLOW, (
                    event, steps)
                if event.mask & flags.CREATE and event.name in churn.held:
                    assert event.path in churn.held.get(event.name, ()), (
                        event, steps)
                    created[event.name] = created.get(event.name, 0) + 1
            if not [event for event in self.events if event.mask & flags.Q_OVERFLOW]:
                for name in churn.held:
                    times = created.get(name, 0)
                    if name in churn.left:
                        assert times >= 1 or name not in churn.inside, (name, steps)
                    elif name in churn.inside:
                        assert times == 1, (name, times, steps)
                    else:
                        assert times <= 1, (name, times, steps)
            assert_exact(self.tree, top, real, batch=8)
        finally:
            self.tree.close()
            shutil.rmtree(self.base)


def make_tree(top, queue):
    """A tree of ``top`` whose queue holds ``queue`` events (the machine's, when
    None; max_queued_events is put back at once)."""
    if queue is None:
        return Tree(top, masks.ALL_EVENTS)
    with open(QUEUE) as f:
        old = f.read()
    try:
        with open(QUEUE, 'w') as f:
            f.write('%d\n' % queue)
        return Tree(top, masks.ALL_EVENTS)
    finally:
        with open(QUEUE, 'w') as f:
            f.write(old)


QUEUES = [None, 64]


def queue_or_skip(queue):
    if queue is not None and os.geteuid() != 0:
        pytest.skip('max_queued_events may be changed by root only')


@pytest.mark.parametrize('queue', QUEUES, ids=['default queue', 'queue of 64'])
def test_seeded_churn(queue):
    queue_or_skip(queue)
    for seed in range(SEQUENCES):
        rng = random.Random(seed)
        run = Run(queue)
        try:
            for _ in range(STEPS):
                if rng.random() < 0.2:
                    run.read()
                else:
                    run.do(rng.choice(Churn.OPERATIONS), rng.randrange(1000),
                           rng.randrange(1000), rng.randrange(1000))
        except BaseException:
            run.tree.close()
            shutil.rmtree(run.base)
            raise
        run.check()


try:
    from hypothesis import HealthCheck
    from hypothesis import settings
    from hypothesis import strategies
    from hypothesis.stateful import RuleBasedStateMachine
    from hypothesis.stateful import rule
except ImportError:  # Python 2.7, or not installed: the seeded run stands in
    RuleBasedStateMachine = None

if RuleBasedStateMachine is not None:
    number = strategies.integers(min_value=0, max_value=999)

    class ChurnMachine(RuleBasedStateMachine):
        queue = None

        def __init__(self):
            RuleBasedStateMachine.__init__(self)
            self.run = Run(self.queue)

        @rule(operation=strategies.sampled_from(Churn.OPERATIONS), a=number,
              b=number, c=number)
        def change(self, operation, a, b, c):
            self.run.do(operation, a, b, c)

        @rule()
        def read(self):
            self.run.read()

        def teardown(self):
            self.run.check()

    class SmallQueueChurnMachine(ChurnMachine):
        queue = 64

    SETTINGS = settings(max_examples=SEQUENCES, stateful_step_count=STEPS,
                        deadline=None, suppress_health_check=list(HealthCheck))

    @pytest.mark.parametrize('queue', QUEUES, ids=['default queue', 'queue of 64'])
    def test_churn_by_hypothesis(queue):
        queue_or_skip(queue)
        machine = ChurnMachine if queue is None else SmallQueueChurnMachine
        from hypothesis.stateful import run_state_machine_as_test
        run_state_machine_as_test(machine, settings=SETTINGS)
