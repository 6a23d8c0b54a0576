#!/usr/bin/env bash
# Run the test suite on every interpreter this project supports: pyenv's CPython
# 2.7 and 3.6 to 3.13, Debian's PyPy 3.9 (installed with apt-get when missing, as is
# inotify-tools, whose inotifywait the command line's tests run beside), and
# CPython 3.14 and 3.15 and PyPy 3.11 from Debian unstable, in a chroot that
# tests/sid.sh builds once under .venvs/sid. Each gets its own environment under
# .venvs/ with a pytest pinned for it; one line per interpreter gives its name,
# version and counts, and a last line the totals.
#
#   bash tests/run-all.sh [PYTEST ARGS...]     e.g. -k threads, or -x
#
# Every run treats the module's own DeprecationWarning and PendingDeprecationWarning
# as errors, and CPython 3.15's runs in development mode (-X dev), subprocesses too.
# With CI=true a missing interpreter is a failure; otherwise it is reported and
# skipped. Exits non-zero if any interpreter fails (or, in CI, is missing).
set -u
cd "$(dirname "$0")/.."
repo=$PWD
. tests/pythons.sh
logs=$repo/.venvs/logs
mkdir -p "$logs"
. tests/sid.sh

# label, interpreter, what the tests need there, pinned (old interpreters' pips pick
# releases they cannot run), and sid for the chroot's; the recipes' trio and the
# stub's mypy where they install: mypy pinned on 3.13, and on 3.14 unpinned, the
# newest when the environment is made, as a user installing it today would get.
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
        echo "python$minor|$(newest $minor)|$pin|"
    done
    echo "pypy3.9|$(command -v pypy3)|pytest==8.4.2 trio==0.27.0|"
    echo "python3.14|/usr/bin/python3.14|pytest==9.2.0 trio==0.35.0 mypy|sid"
    echo "python3.15|/usr/bin/python3.15|pytest==9.2.0 trio==0.35.0|sid"
    echo "pypy3.11|/usr/bin/pypy3|pytest==9.2.0 trio==0.35.0|sid"
}

apt_updated=
apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
    echo "installing $* with apt-get"
    { [ -n "$apt_updated" ] || apt-get update -qq && apt_updated=yes &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } \
        >>"$logs/apt.log" 2>&1 || { tail -n 20 "$logs/apt.log"; return 1; }
}

install_pypy() {
    command -v pypy3 >/dev/null && pypy3 -c 'import venv, ensurepip' 2>/dev/null && return
    apt_install pypy3 pypy3-venv
}

# The command line's tests run beside the real inotifywait (Debian inotify-tools);
# tests/sid.sh copies it into the chroot.
install_inotify_tools() {
    command -v inotifywait >/dev/null || apt_install inotify-tools
}

# The interpreter's version, and PyPy's own after it.
VERSION='import platform, sys
print(platform.python_version() + (", PyPy %d.%d.%d" % sys.pypy_version_info[:3]
                                   if hasattr(sys, "pypy_version_info") else ""))'

# Make .venvs/LABEL for PYTHON with PIN installed, running python with ${within[@]}
# (nothing, or the chroot); READY names what it was made for.
prepare() {
    local label=$1 python=$2 pin=$3 ready=$4 env=$repo/.venvs/$1
    if [ "$(cat "$env/.ready" 2>/dev/null)" != "$ready" ]; then
        rm -rf "$env"
        if [ "$label" = python2.7 ]; then  # no venv module: install into a folder
            "$python" -m pip install -q --disable-pip-version-check --target \
                "$env/lib" $pin || return 1
        else
            "${within[@]}" "$python" -m venv "$env" || return 1
            # 3.6's bundled pip 18 picks releases that no longer run on it
            [ "$label" = python3.6 ] && { "$env/bin/python" -m pip install -q \
                --disable-pip-version-check 'pip>=21,<22' || return 1; }
            "${within[@]}" "$env/bin/python" -m pip install -q \
                --disable-pip-version-check $pin || return 1
        fi
        echo "$ready" >"$env/.ready"
    fi
}

# The module's own deprecation warnings are errors, in pytest and in the Pythons
# that tests start; `python -m inotify_simple` runs it as __main__.
warnings=
for category in DeprecationWarning PendingDeprecationWarning; do
    for module in inotify_simple __main__; do
        warnings=$warnings${warnings:+,}error::$category:$module
    done
done

install_pypy
install_inotify_tools
sid=
trap 'sid_unmount >/dev/null' EXIT
trap 'exit 130' INT TERM HUP
failed=0 passed=0 skipped=0 broken=0
while IFS='|' read -r label python pin where; do
    within=()
    if [ "$where" = sid ] && [ -z "$sid" ]; then
        sid_enter && sid=ready || sid=missing
    fi
    if [ "$where" = sid ]; then
        within=("${sid_env[@]}")
        [ "$sid" = ready ] || python=
    fi
    if [ -z "$python" ]; then
        if [ "${CI:-}" = true ]; then
            echo "$label: MISSING (a failure in CI)"; broken=$((broken + 1))
        else
            echo "$label: missing, skipped"
        fi
        continue
    fi
    version=$("${within[@]}" "$python" -c "$VERSION" 2>&1) ||
        { echo "$label: does not run: $version"; broken=$((broken + 1)); continue; }
    if ! prepare "$label" "$python" "$pin" "$pin on $version" \
            >"$logs/$label.setup.log" 2>&1; then
        echo "$label: could not install $pin"; tail -n 20 "$logs/$label.setup.log"
        broken=$((broken + 1)); continue
    fi
    env=$repo/.venvs/$label
    settings=(PYTHONWARNINGS="$warnings" CI="${CI:-}")  # CI: into the chroot too
    case $label in
        python2.7) settings+=(PYTHONPATH="$env/lib"); run=("$python") ;;
        *) run=("$env/bin/python") ;;
    esac
    if [ "$label" = python3.15 ]; then  # the newest CPython, in development mode
        settings+=(PYTHONDEVMODE=1); version="$version, -X dev"
    fi
    [ "$where" = sid ] || within=(env)
    # A hung test must not hang the run: 15 minutes is many times a normal run.
    timeout 900 "${within[@]}" "${settings[@]}" "${run[@]}" -m pytest \
        -p no:cacheprovider -q -rfEs tests "$@" >"$logs/$label.log" 2>&1
    status=$?
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$logs/$label.log" |
              tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
    count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
    passed=$((passed + $(count passed)))
    skipped=$((skipped + $(count skipped)))
    failed=$((failed + $(count failed) + $(count error)))
    if [ $status -ne 0 ]; then
        broken=$((broken + 1))
        echo "$label ($version): FAILED (exit $status): ${summary:-no summary}"
        grep -E '^(FAILED|ERROR)|Error|error:' "$logs/$label.log" | head -n 30
        tail -n 40 "$logs/$label.log"
    else
        echo "$label ($version): $summary"
    fi
done < <(interpreters)
echo "total: $passed passed, $failed failed, $skipped skipped"
[ $broken -eq 0 ] && [ $failed -eq 0 ]
