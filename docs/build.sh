#!/usr/bin/env bash
# Build the HTML docs into docs/_build/html, warnings as errors, with the pinned
# Sphinx of docs/requirements.txt in its own environment (.venvs/docs).
set -eu
cd "$(dirname "$0")/.."
. tests/pythons.sh
python=$(newest 3.13)
env=.venvs/docs
if [ "$(cat $env/.ready 2>/dev/null)" != "$(cat docs/requirements.txt)" ]; then
    rm -rf $env
    "${python:-python3}" -m venv $env
    $env/bin/python -m pip install -q --disable-pip-version-check \
        -r docs/requirements.txt >$env/install.log 2>&1 || { cat $env/install.log; exit 1; }
    cat docs/requirements.txt >$env/.ready
fi
$env/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
echo "docs built: docs/_build/html/index.html"
