#!/usr/bin/env bash
# Run the test suite on every interpreter this project supports: pyenv's CPython
# 2.7 and 3.6 to 3.13 and Debian's PyPy 3 (installed with apt-get when missing, as
# is inotify-tools, whose inotifywait the command line's tests run beside).
# Each gets its own environment under .venvs/ with a pytest pinned for it; one line
# per interpreter gives its counts, and a last line the totals.
#
#   bash tests/run-all.sh [PYTEST ARGS...]     e.g. -k threads, or -x
#
# With CI=true a missing interpreter is a failure; otherwise it is reported and
# skipped. Exits non-zero if any interpreter fails (or, in CI, is missing).
set -u
cd "$(dirname "$0")/.."
repo=$PWD
. tests/pythons.sh
logs=$repo/.venvs/logs
mkdir -p "$logs"

# label, interpreter, what the tests need there, pinned (old interpreters' pips pick
# releases they cannot run); the recipes' trio and the stub's mypy where they install
interpreters() {
    local minor pin
    for minor in 2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
        case $minor in
            2.7) pin='pytest==4.6.11 enum34==1.1.10' ;;
            3.6) pin='pytest==7.0.1' ;;
            3.7) pin='pytest==7.4.4' ;;
            3.8) pin='pytest==8.3.5 trio==0.27.0' ;;
            3.9) pin='pytest==8.4.2 trio==0.27.0' ;;
            3.13) pin='pytest==9.0.3 trio==0.27.0 mypy==1.15.0' ;;
            *) pin='pytest==9.0.3 trio==0.27.0' ;;
        esac
        echo "python$minor|$(newest $minor)|$pin"
    done
    echo "pypy3|$(command -v pypy3)|pytest==8.4.2 trio==0.27.0"
}

install_pypy() {
    command -v pypy3 >/dev/null && pypy3 -c 'import venv, ensurepip' 2>/dev/null && return
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return
    echo "installing pypy3 and pypy3-venv with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        pypy3 pypy3-venv; } >"$logs/apt.log" 2>&1 || tail -n 20 "$logs/apt.log"
}

# The command line's tests run beside the real inotifywait (Debian inotify-tools).
install_inotify_tools() {
    command -v inotifywait >/dev/null && return
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return
    echo "installing inotify-tools with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        inotify-tools; } >"$logs/apt-inotify-tools.log" 2>&1 ||
        tail -n 20 "$logs/apt-inotify-tools.log"
}

# Make .venvs/LABEL for PYTHON with PIN installed; echo the command that runs python.
prepare() {
    local label=$1 python=$2 pin=$3 env=$repo/.venvs/$1
    if [ "$(cat "$env/.ready" 2>/dev/null)" != "$pin" ]; then
        rm -rf "$env"
        if [ "$label" = python2.7 ]; then  # no venv module: install into a folder
            "$python" -m pip install -q --disable-pip-version-check --target \
                "$env/lib" $pin || return 1
        else
            "$python" -m venv "$env" || return 1
            # 3.6's bundled pip 18 picks releases that no longer run on it
            [ "$label" = python3.6 ] && { "$env/bin/python" -m pip install -q \
                --disable-pip-version-check 'pip>=21,<22' || return 1; }
            "$env/bin/python" -m pip install -q --disable-pip-version-check $pin ||
                return 1
        fi
        echo "$pin" >"$env/.ready"
    fi
}

install_pypy
install_inotify_tools
failed=0 passed=0 skipped=0 broken=0
while IFS='|' read -r label python pin; do
    if [ -z "$python" ]; then
        if [ "${CI:-}" = true ]; then
            echo "$label: MISSING (a failure in CI)"; broken=$((broken + 1))
        else
            echo "$label: missing, skipped"
        fi
        continue
    fi
    if ! prepare "$label" "$python" "$pin" >"$logs/$label.setup.log" 2>&1; then
        echo "$label: could not install $pin"; tail -n 20 "$logs/$label.setup.log"
        broken=$((broken + 1)); continue
    fi
    env=$repo/.venvs/$label
    if [ "$label" = python2.7 ]; then
        run=(env PYTHONPATH="$env/lib" "$python")
    else
        run=("$env/bin/python")
    fi
    # A hung test must not hang the run: 15 minutes is many times a normal run.
    timeout 900 "${run[@]}" -m pytest -p no:cacheprovider -q -rfEs tests "$@" \
        >"$logs/$label.log" 2>&1
    status=$?
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$logs/$label.log" |
              tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
    count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
    passed=$((passed + $(count passed)))
    skipped=$((skipped + $(count skipped)))
    failed=$((failed + $(count failed) + $(count error)))
    if [ $status -ne 0 ]; then
        broken=$((broken + 1))
        echo "$label: FAILED (exit $status): ${summary:-no summary}"
        grep -E '^(FAILED|ERROR)|Error|error:' "$logs/$label.log" | head -n 30
        tail -n 40 "$logs/$label.log"
    else
        echo "$label: $summary"
    fi
done < <(interpreters)
echo "total: $passed passed, $failed failed, $skipped skipped"
[ $broken -eq 0 ] && [ $failed -eq 0 ]
