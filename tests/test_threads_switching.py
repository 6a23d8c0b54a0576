"""The thread, close and fork tests again, with threads switching as often as the
interpreter allows (the closest a build with a GIL comes to one without), and on
a free-threaded build (python3.14t, python3.15t) where one is on PATH."""
import os
import shutil
import sys
import tempfile

import pytest

from conftest import MODULE_DIR
from conftest import python_env
from conftest import run_command

TESTS = [os.path.join(os.path.dirname(os.path.abspath(__file__)), name) for name in
         ('test_threads.py', 'test_fork.py', 'test_lifecycle.py', 'test_signals.py')]

# Imported by every interpreter started with this folder on PYTHONPATH: pytest's,
# and each of the scripts its tests run.
SITECUSTOMIZE = '''
import sys
if hasattr(sys, 'setswitchinterval'):
    sys.setswitchinterval(1e-6)
else:  # Python 2.7
    sys.setcheckinterval(1)
'''


def on_path(name):
    for directory in os.environ.get('PATH', '').split(os.pathsep):
        path = os.path.join(directory, name)
        if directory and os.access(path, os.X_OK):
            return path
    return None


def run_the_tests(python, **env):
    """Run TESTS under ``python`` with threads switching every microsecond; fail
    with pytest's report unless they pass."""
    folder = tempfile.mkdtemp(prefix='inotify-simple-test-')
    try:
        with open(os.path.join(folder, 'sitecustomize.py'), 'w') as f:
            f.write(SITECUSTOMIZE)
        env = python_env(**env)
        env['PYTHONPATH'] = os.pathsep.join([folder, env['PYTHONPATH']])
        status, out, err = run_command(
            [python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider'] + TESTS,
            timeout=1200, env=env, cwd=MODULE_DIR)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert status == 0, (out + err).decode(errors='replace') \
        if sys.version_info[0] > 2 else out + err


def test_the_thread_close_and_fork_tests_pass_switching_every_microsecond():
    run_the_tests(sys.executable)


@pytest.mark.parametrize('name', ['python3.14t', 'python3.15t'])
def test_the_thread_close_and_fork_tests_pass_without_the_gil(name):
    python = on_path(name)
    if python is None:
        pytest.skip('no %s on PATH' % name)
    if run_command([python, '-c', 'import pytest'])[0] != 0:
        pytest.skip('%s has no pytest' % name)
    run_the_tests(python, PYTHON_GIL='0')
