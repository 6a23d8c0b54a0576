"""Run the command line and the real inotifywait side by side, in twin directories.

Each program runs in a twin of its own (``TMP/ours`` and ``TMP/theirs``) with the
same relative arguments, so that their output is the same bytes when they agree.
The real inotifywait is /usr/bin/inotifywait, or the one $INOTIFYWAIT names; the
tests that differ between its versions ask :func:`reference` which it is.
Readiness is read from ``/proc``: a program is ready when its inotify descriptor
holds the watches expected and it waits for events, and done with what was done to
its twin when it has
exited or is asleep again in the system call that waits for events, and not being
woken (the kernel queues events, and wakes the reader, before the call that caused
them returns).
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import WAIT
from conftest import python_env

INOTIFYWAIT = os.environ.get('INOTIFYWAIT', '/usr/bin/inotifywait')
OURS = [sys.executable, '-m', 'inotify_simple']
# The calls that wait for events: inotifywait's pselect6(), Python's poll() (ppoll()
# on aarch64), by number.
WAITING = {'x86_64': ('7', '270', '271'), 'aarch64': ('72', '73')}.get(os.uname()[4])
SIDES = ('ours', 'theirs')
NOBODY = 65534
# Runs the command as nobody: it imports what it needs while it may still read the
# interpreter's files (pyenv's, under /root), then drops.
AS_NOBODY = ('import os, sys, base64, json, syslog, ctypes.util, inotify_simple_cli\n'
             'os.setgroups([]); os.setgid(%d); os.setuid(%d)\n'
             'sys.exit(inotify_simple_cli.main(sys.argv[1:]))\n' % (NOBODY, NOBODY))


STARTED = []  # every process a test started, stopped after it whatever happened


@pytest.fixture(autouse=True)
def nothing_left_running():
    """A test that fails midway leaves no program behind (a stopped one neither)."""
    yield
    while STARTED:
        process = STARTED.pop()
        if not process.exited():
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(process.pid, sig)
                except OSError:  # it has exited meanwhile
                    pass
        if isinstance(process, Program):
            process.process.wait()
            for stream in (process.process.stdout, process.process.stderr):
                stream.close()


def need_inotifywait():
    """Skip (fail in CI) where inotifywait is not installed."""
    if not os.access(INOTIFYWAIT, os.X_OK):
        message = ('%s is missing: install inotify-tools (tests/run-all.sh does, as '
                   'root)' % INOTIFYWAIT)
        if os.environ.get('CI') == 'true':
            pytest.fail(message)
        pytest.skip(message)
    if WAITING is None:
        pytest.skip('which system calls wait for events is not known on this machine')


_REFERENCE = []


def reference():
    """The version of the inotifywait the tests run beside, from the first line of
    its ``--help`` ("inotifywait 3.22.6.0"), as a tuple of ints: (3, 22, 6, 0);
    () where it is missing or does not say."""
    if not _REFERENCE:
        version = ()
        if os.access(INOTIFYWAIT, os.X_OK):
            process = subprocess.Popen([INOTIFYWAIT, '--help'], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
            out = process.communicate()[0]
            found = re.match(br'inotifywait (\d+(?:\.\d+)*)', out)
            if found:
                version = tuple(int(part) for part in found.group(1).split(b'.'))
        _REFERENCE.append(version)
    return _REFERENCE[0]


def against_4x():
    """Whether the reference is inotify-tools 4.x (or later), not 3.22."""
    return reference() >= (4,)


def drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


class Process(object):
    """A process whose inotify watches and waits are read from /proc."""

    def __init__(self, pid):
        self.pid = pid
        STARTED.append(self)

    def watches(self):
        """How many inotify watches the process holds."""
        count = 0
        try:
            for fd in os.listdir('/proc/%d/fdinfo' % self.pid):
                with open('/proc/%d/fdinfo/%s' % (self.pid, fd)) as f:
                    count += f.read().count('inotify wd:')
        except (IOError, OSError):  # it has exited, or closed that descriptor
            pass
        return count

    def waiting(self):
        """Whether the process is asleep waiting for events, and not being woken.

        /proc/PID/syscall still shows the call of a task that is woken but has not
        run yet; its state (/proc/PID/stat) is R by then, and it has not switched
        in (/proc/PID/status) while it is asleep.
        """
        try:
            switches = self.switches()
            return (self.call() in WAITING and self.state() == 'S' and
                    self.call() in WAITING and self.switches() == switches)
        except (IOError, OSError, IndexError):  # it has exited
            return False

    def read(self, name):
        with open('/proc/%d/%s' % (self.pid, name)) as f:
            return f.read()

    def call(self):
        return self.read('syscall').split()[0]

    def state(self):
        return self.read('stat').rsplit(')', 1)[1].split()[0]

    def switches(self):
        return [line for line in self.read('status').splitlines()
                if 'ctxt_switches' in line]

    def exited(self):
        try:
            return self.state() in ('Z', 'X')
        except (IOError, OSError):
            return True


def writing_to(path, deadline):
    """The process whose standard output is the file ``path`` (a daemon's)."""
    while time.time() < deadline:
        for pid in os.listdir('/proc'):
            try:
                if pid.isdigit() and os.readlink('/proc/%s/fd/1' % pid) == path:
                    return Process(int(pid))
            except OSError:  # gone, or not ours to look at
                pass
        time.sleep(0.001)
    pytest.fail('no process writes to %s' % path)


class Program(Process):
    """One of the two programs, running in its twin, its output gathered."""

    def __init__(self, argv, cwd, stdin=None, nobody=False, env=None, preexec=None):
        if stdin is None:
            stdin_file = open(os.devnull, 'rb')

        def before_exec():
            # as a shell starts it (Python 2.7 leaves SIGPIPE ignored in children)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            if preexec is not None:
                preexec()
            if nobody:
                drop_to_nobody()
        self.process = subprocess.Popen(
            [os.path.basename(argv[0])] + argv[1:], executable=argv[0], cwd=cwd,
            env=env, stdin=subprocess.PIPE if stdin is not None else stdin_file,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=before_exec)
        if stdin is None:
            stdin_file.close()
        else:
            self.process.stdin.write(stdin)
            self.process.stdin.close()
        self.pid = self.process.pid
        STARTED.append(self)
        self.out, self.err = [], []
        self.out_fd = self.process.stdout.fileno()
        self.output = {self.process.stdout.fileno(): self.out,
                       self.process.stderr.fileno(): self.err}
        self.open = list(self.output)

    def pump(self, timeout=0.0):
        """Gather what the program has written, waiting up to ``timeout`` s."""
        if not self.open:
            return
        ready = select.select(self.open, [], [], timeout)[0]
        for fd in ready:
            data = os.read(fd, 65536)
            if data:
                self.output[fd].append(data)
            else:
                self.open.remove(fd)

    def exited(self):
        return self.process.poll() is not None

    def finish(self, deadline):
        """Stop the program if it still runs (SIGTERM); its status, out, err."""
        if not self.exited():
            self.process.send_signal(signal.SIGTERM)
        while self.open or not self.exited():
            if time.time() > deadline:
                self.process.kill()
                self.process.wait()
                pytest.fail('%r did not end: %r' % (self.process.args if hasattr(
                    self.process, 'args') else self.pid, self.result()))
            self.pump(0.05)
        self.process.stdout.close()
        self.process.stderr.close()
        return self.result()

    def result(self):
        return self.process.poll(), b''.join(self.out), b''.join(self.err)


def wait_until(programs, condition, deadline, what):
    """Pump the programs' output until ``condition(program)`` holds for each."""
    while not all(condition(program) for program in programs):
        if time.time() > deadline:
            for program in programs:
                if isinstance(program, Program) and not program.exited():
                    program.process.kill()
            pytest.fail('gave up waiting until %s: %r' % (what, [
                program.finish(time.time() + WAIT) for program in programs
                if isinstance(program, Program)]))
        for program in programs:
            if isinstance(program, Program):
                program.pump(0.001)
            else:
                time.sleep(0.001)


def subdir(tmp, name):
    """A new directory in ``tmp``, for one more pair of twins."""
    path = os.path.join(tmp, name)
    os.mkdir(path)
    return path


def mkdir(root, *names):
    for name in names:
        os.makedirs(os.path.join(root, name))


def start_twins(tmp, args, setup=None, watches=1, stdin=None, nobody=False,
                preexec=None):
    """Start ours and inotifywait with ``args`` in twins made by ``setup(root)``
    (default: an empty directory ``w``); return them once both hold ``watches``
    watches (or have exited), with the deadline of the test. ``{root}`` in an
    argument is the twin's absolute path.

    Returns:
        tuple: ({'ours': Program, 'theirs': Program}, deadline)
    """
    need_inotifywait()
    deadline = time.time() + WAIT
    programs = {}
    for side in SIDES:
        root = os.path.join(tmp, side)
        os.mkdir(root)
        if nobody:
            os.chmod(tmp, 0o755)
            os.chmod(root, 0o777)
        (setup or (lambda root: mkdir(root, 'w')))(root)
    for side in SIDES:
        root = os.path.join(tmp, side)
        if side == 'theirs':
            argv, env = [INOTIFYWAIT], None
        elif nobody:
            argv, env = [sys.executable, '-c', AS_NOBODY], python_env()
        else:
            argv, env = OURS, python_env()
        argv = argv + [arg.replace('{root}', root) for arg in args]
        programs[side] = Program(argv, root, stdin, env=env,
                                 nobody=nobody and side == 'theirs', preexec=preexec)
    wait_until(programs.values(), lambda p: ready(p, watches), deadline,
               '%d watches are set up' % watches)
    return programs, deadline


def ready(program, watches):
    """Whether ``program`` holds ``watches`` watches and waits for events (it has
    done with setting them up: ours lists a directory after watching it), or has
    exited."""
    return program.exited() or (program.watches() >= watches and program.waiting())


def finish_twins(programs, deadline, until='quiet'):
    """Wait until both have exited (``until='exit'``) or are done with the events
    (``'quiet'``; then SIGTERM stops them).

    Returns:
        dict: {'ours': (status, stdout, stderr), 'theirs': (...)}
    """
    if until == 'exit':
        wait_until(programs.values(), Program.exited, deadline, 'both exit')
    else:
        wait_until(programs.values(), lambda p: p.exited() or p.waiting(), deadline,
                   'both are done with the events')
    return dict((side, program.finish(deadline)) for side, program in programs.items())


def run_twins(tmp, args, act=None, setup=None, watches=1, until='quiet', steps=(),
              **kwargs):
    """Start the twins, do ``act(root)`` to each, and finish them.

    ``steps`` are more (act, watches) pairs: each act is done to both twins, then
    both must hold that many watches (None: no wait) before the next step.
    """
    programs, deadline = start_twins(tmp, args, setup, watches, **kwargs)
    for act, watches in ([(act, None)] if act else []) + list(steps):
        for side in SIDES:
            act(os.path.join(tmp, side))
        if watches is not None:
            wait_until(programs.values(), lambda p: ready(p, watches), deadline,
                       '%d watches' % watches)
    return finish_twins(programs, deadline, until)


def same(results, ours_name=b'inotify_simple: ', theirs_name=b'inotifywait: '):
    """Assert that both programs did the same; return what they did."""
    ours, theirs = results['ours'], results['theirs']
    assert ours[0] == theirs[0], results
    assert ours[1] == theirs[1], results
    assert ours[2].replace(ours_name, theirs_name) == theirs[2], results
    return theirs
