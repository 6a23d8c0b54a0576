#!/usr/bin/env bash
# Build the sdist and the universal wheel, check them with twine, and install each
# into clean virtual environments of Python 2.7, 3.6 and 3.13 (with the pip each
# gets), where pip must say no warning, and the module, its stub packages and the
# command line (python -m and the script) must work.
set -eu
cd "$(dirname "$0")/.."
. tests/pythons.sh
pythons="$(newest 2.7) $(newest 3.6) $(newest 3.13)"
tools=.venvs/packaging
pins='build==1.2.2.post1 twine==6.1.0 virtualenv==20.21.1'
if [ "$(cat $tools/.ready 2>/dev/null)" != "$pins" ]; then
    rm -rf $tools
    "$(newest 3.13)" -m venv $tools
    $tools/bin/python -m pip install -q --disable-pip-version-check $pins
    echo "$pins" >$tools/.ready
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work" 2>/dev/null || cp -r . "$work"
$tools/bin/python -m build --outdir "$work/dist" "$work" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; exit 1; }
$tools/bin/python -m twine check --strict "$work"/dist/*
wheel=$(ls "$work"/dist/*-py2.py3-none-any.whl)
sdist=$(ls "$work"/dist/*.tar.gz)
echo "built $(basename "$wheel") and $(basename "$sdist")"
for python in $pythons; do
  for built in "$wheel" "$sdist"; do
    env=$work/env
    rm -rf "$env"
    $tools/bin/python -m virtualenv -q -p "$python" "$env"
    # pip's own notices (a newer pip, an old Python) are not the package's, nor are
    # those about the machine's pip.conf (its local indexes)
    PIP_CONFIG_FILE=/dev/null "$env/bin/python" -m pip install -q \
        --disable-pip-version-check --no-python-version-warning "$built" \
        2>"$work/pip.log" ||
        { cat "$work/pip.log"; exit 1; }
    if [ -s "$work/pip.log" ]; then
        echo "pip said, installing $(basename "$built") on $python:"
        cat "$work/pip.log"
        exit 1
    fi
    (cd "$env" && "$env/bin/python" - "$env" "$(basename "$built")" <<'PYTHON'
import os, sys
import inotify_simple
from inotify_simple import INotify, flags
assert inotify_simple.__file__.startswith(sys.argv[1]), inotify_simple.__file__
site = os.path.dirname(inotify_simple.__file__)
for stubs in ('inotify_simple-stubs', 'inotify_simple_tree-stubs'):
    assert os.path.exists(os.path.join(site, stubs, '__init__.pyi')), stubs
import inotify_simple_cli, inotify_simple_tree
for module in (inotify_simple_cli, inotify_simple_tree):
    assert module.__file__.startswith(sys.argv[1]), module.__file__
with INotify() as inotify:
    assert inotify.add_watch('.', flags.CREATE) == 1
with inotify_simple_tree.Tree('.', flags.CREATE) as tree:
    assert './' in tree.watches().values() and './bin/' in tree.watches().values()
print('%s: installed %s from %s' % (sys.version.split()[0],
                                    inotify_simple.__version__, sys.argv[2]))
PYTHON
    )
    for command in "$env/bin/python -m inotify_simple" "$env/bin/inotify_simple"; do
        status=0
        (cd "$env" && $command -t 1 .) 2>/dev/null || status=$?
        [ $status -eq 2 ] || { echo "$command exited $status, not 2"; exit 1; }
    done
  done
done
