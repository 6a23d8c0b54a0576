"""The examples: docs/example.py prints exactly the published output; the README's,
typed into as it runs, prints what the README shows."""
import io
import os
import re
import subprocess
import sys
import time

from conftest import WAIT
from conftest import python
from conftest import python_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PUBLISHED = """\
Event(wd=1, mask=1073742080, cookie=0, name='foo')
    flags.CREATE
    flags.ISDIR
Event(wd=1, mask=256, cookie=0, name='test.txt')
    flags.CREATE
Event(wd=1, mask=2, cookie=0, name='test.txt')
    flags.MODIFY
Event(wd=1, mask=512, cookie=0, name='test.txt')
    flags.DELETE
Event(wd=1, mask=1073742336, cookie=0, name='foo')
    flags.DELETE
    flags.ISDIR
Event(wd=1, mask=1024, cookie=0, name='')
    flags.DELETE_SELF
Event(wd=1, mask=32768, cookie=0, name='')
    flags.IGNORED
"""


def test_the_example_prints_the_published_output():
    with io.open(os.path.join(ROOT, 'docs', 'example.py')) as f:
        code = f.read()
    assert python(code) == PUBLISHED


# Typed one at a time, each echo gives its MODIFY: the first is read before the
# second comes, and only an event identical to the last one unread is merged.
TYPED = PUBLISHED.replace("""\
Event(wd=1, mask=2, cookie=0, name='test.txt')
    flags.MODIFY
""", """\
Event(wd=1, mask=2, cookie=0, name='test.txt')
    flags.MODIFY
""" * 2)
# How many events each command of the README's comment gives.
EVENTS = [('mkdir foo', 1), ('echo hello > test.txt', 2), ('echo world >> test.txt', 1),
          ('rm test.txt', 1), ('rmdir foo', 1), ('rmdir /tmp/inotify_test', 2)]


def readme_blocks():
    with io.open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    return re.findall(r'^```(\w*)\n(.*?)^```$', readme, re.M | re.S)


def test_the_readme_shows_what_its_example_prints_as_its_commands_are_typed():
    assert ('', TYPED) in readme_blocks()


def test_the_readme_example_typed_into_prints_what_the_readme_shows(tmp):
    code = [block for kind, block in readme_blocks() if kind == 'python' and
            'for event in inotify:' in block][0]
    comment = ' '.join(line.lstrip('# ') for line in code.splitlines()
                       if line.startswith('# '))
    commands = [command.strip() for command in comment.split(':', 1)[1].split(';')]
    commands = [command[5:] if command.startswith('then ') else command
                for command in commands]
    assert commands == [command for command, _ in EVENTS]  # in the order typed
    watched = os.path.join(tmp, 'inotify_test')
    program = subprocess.Popen(
        [sys.executable, '-u', '-c', code.replace('/tmp/inotify_test', watched)],
        stdout=subprocess.PIPE, env=python_env())
    try:
        printed = []
        deadline = time.time() + WAIT
        while not os.path.isdir(watched) or not kernel_watches(program.pid):
            assert time.time() < deadline and program.poll() is None
            time.sleep(0.01)
        for command in commands:  # each once the events before it are printed
            subprocess.check_call(command.replace('/tmp/inotify_test', watched),
                                  shell=True, cwd=watched if command != commands[-1]
                                  else tmp)
            expected = sum(count for _, count in EVENTS[:commands.index(command) + 1])
            while sum(line.startswith('Event(') for line in printed) < expected:
                assert time.time() < deadline, printed
                printed.append(program.stdout.readline().decode())
        assert program.wait() == 0
        printed.append(program.stdout.read().decode())
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
        program.stdout.close()
    assert ''.join(printed) == TYPED


def kernel_watches(pid):
    """How many inotify watches process ``pid`` holds."""
    count = 0
    for fd in os.listdir('/proc/%d/fdinfo' % pid):
        try:
            with open('/proc/%d/fdinfo/%s' % (pid, fd)) as f:
                count += sum(line.startswith('inotify wd:') for line in f)
        except (IOError, OSError):  # closed meanwhile
            pass
    return count


def test_the_docs_show_the_published_output():
    with io.open(os.path.join(ROOT, 'docs', 'example.rst'), encoding='utf-8') as f:
        page = f.read()
    indented = ''.join('   ' + line + '\n' for line in PUBLISHED.splitlines())
    assert indented in page
