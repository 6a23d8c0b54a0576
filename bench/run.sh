#!/usr/bin/env bash
# Run bench/bench.py side by side with the peers, on CPython 3.11 and 3.13 (where
# the targets are) and on 2.7 and PyPy 3 (reported), each in an environment of its
# own under bench/.venv-*; then plot the results into the docs.
#
#   bash bench/run.sh            the full run: writes docs/performance-table.rst,
#                                docs/_static/performance.png, bench/results/*.json
#                                and, for the command line beside inotifywait
#                                (bench/cli.py), docs/cli-performance-table.rst;
#                                for big trees (bench/tree.py),
#                                docs/tree-performance-table.rst and
#                                docs/_static/trees.png, and for renames and
#                                new directories in them (bench/renames.py, on
#                                3.11), docs/tree-renames-table.rst
#   bash bench/run.sh --quick    tiny sizes, one interpreter, writes nothing in the
#                                docs: a smoke test (CI runs it)
#   bash bench/run.sh trees      bench/tree.py alone, on every interpreter, and
#                                bench/renames.py on 3.11: their tables and plot
#
# Draining 100,000 events needs /proc/sys/fs/inotify/max_queued_events raised,
# which needs root; without it that size is skipped.
set -eu
cd "$(dirname "$0")/.."
. tests/pythons.sh
quick= only=
[ "${1:-}" = --quick ] && quick=--quick
[ "${1:-}" = trees ] && only=tree
pip_quiet=(-q --disable-pip-version-check)

# prepare LABEL PYTHON: an environment with the peers; echoes its python
prepare() {
    local label=$1 python=$2 env=bench/.venv-$1
    local stamp="$(cat bench/requirements*.txt) $label"
    if [ "$(cat "$env/.ready" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$env"
        if [ "$label" = 2.7 ]; then  # no venv module: everything in folders
            mkdir -p "$env"
            "$python" -m pip install "${pip_quiet[@]}" --target "$env/lib" \
                enum34==1.1.10 >&2
            "$python" -m pip install "${pip_quiet[@]}" --no-deps --target \
                "$env/upstream" inotify_simple==1.3.5 >&2
        else
            "$python" -m venv "$env" >&2
            "$env/bin/python" -m pip install "${pip_quiet[@]}" --no-deps --target \
                "$env/upstream" inotify_simple==2.0.1 >&2
            # each peer where it installs (inotifyx is C: not on every interpreter)
            grep -vE '^(#|$)' bench/requirements.txt | while read -r requirement; do
                "$env/bin/python" -m pip install "${pip_quiet[@]}" "$requirement" >&2 ||
                    echo "bench: $requirement does not install on $label" >&2
            done
            if [ "$label" = 3.11 ]; then
                "$env/bin/python" -m pip install "${pip_quiet[@]}" \
                    -r bench/requirements-plot.txt >&2
            fi
        fi
        echo "$stamp" >"$env/.ready"
    fi
}

run() {  # run LABEL PYTHON
    local label=$1 python=$2 env=bench/.venv-$1 out
    prepare "$label" "$python"
    if [ -n "$only" ]; then
        run_bench tree "$label" "$python"
        if [ "$label" = 3.11 ]; then run_bench renames "$label" "$python"; fi
        return 0
    fi
    out=$results/$label.json
    if [ "$label" = 2.7 ]; then
        PYTHONPATH="$env/lib" "$python" bench/bench.py $quick --upstream \
            "$env/upstream" --json "$out"
    else
        "$env/bin/python" bench/bench.py $quick --upstream "$env/upstream" --json "$out"
    fi
    echo
    # the command line beside inotifywait, on a burst and on a big tree
    run_bench cli "$label" "$python"
    run_bench tree "$label" "$python"
    # renames and new directories in trees of up to 100,000 directories: long,
    # on one interpreter
    if [ -n "$quick" ] || [ "$label" = 3.11 ]; then
        run_bench renames "$label" "$python"
    fi
}

run_bench() {  # run_bench NAME LABEL PYTHON: bench/NAME.py, into results/NAME-LABEL
    local env=bench/.venv-$2 out=$results/$1-$2.json
    if [ "$2" = 2.7 ]; then
        PYTHONPATH="$env/lib" "$3" bench/$1.py $quick --json "$out"
    else
        "$env/bin/python" bench/$1.py $quick --json "$out"
    fi
}

results=bench/results
if [ -n "$quick" ]; then  # results and plot in a scratch folder, then gone
    results=$(mktemp -d)
    trap 'rm -rf "$results"' EXIT
    run 3.11 "$(newest 3.11)"
    bench/.venv-3.11/bin/python bench/plot.py --out "$results" "$results/3.11.json"
    exit
fi
mkdir -p "$results"
for minor in 3.11 3.13 2.7; do
    if [ -n "$(newest $minor)" ]; then
        run $minor "$(newest $minor)"
    else
        echo "bench: no Python $minor under $pyenv_root/versions" >&2
    fi
done
if command -v pypy3 >/dev/null; then
    run pypy3 "$(command -v pypy3)"
fi
if [ -z "$only" ]; then
    bench/.venv-3.11/bin/python bench/plot.py $(ls "$results"/*.json |
                                                grep -vE '/(cli|tree)-')
    bench/.venv-3.11/bin/python bench/cli.py --rst docs/cli-performance-table.rst \
        --tables $(ls "$results"/cli-*.json)
fi
bench/.venv-3.11/bin/python bench/tree.py --rst docs/tree-performance-table.rst \
    --tables $(ls "$results"/tree-*.json)
bench/.venv-3.11/bin/python bench/renames.py --rst docs/tree-renames-table.rst \
    --tables "$results"/renames-3.11.json
bench/.venv-3.11/bin/python bench/plot.py --trees $(ls "$results"/tree-*.json)
