#!/usr/bin/env bash
# Run the test suite on every interpreter this project supports: CPython 2.7 and 3.6
# to 3.13 from pyenv, PyPy 3.9 (Debian's, installed with apt-get when missing, as is
# inotify-tools, whose inotifywait 3.22 the command line's tests run beside), and
# CPython 3.14 and 3.15 and PyPy 3.11 from Debian unstable, in a chroot that
# tests/sid.sh builds once under .venvs/sid, where the command line's tests run
# beside sid's inotify-tools 4.x. Where pyenv or the chroot lacks one, the same
# version on PATH (python3.11, python3, pypy3, ...) runs in its place. Each gets its
# own environment under .venvs/ with a pytest pinned for it; one line per
# interpreter gives its name, version, where it came from, the inotifywait its tests
# ran beside, and its counts; a last line the totals.
#
#   bash tests/run-all.sh [--python LIST] [--jobs N] [PYTEST ARGS...]
#
#   --python 3.13,pypy3.11   only these (2.7, 3.6 ... 3.15, pypy3.9, pypy3.11)
#   --jobs N                 interpreters run N at a time (default 3)
#   PYTEST ARGS              passed on, e.g. -k cli, or -x
#
# Every run treats the module's own DeprecationWarning and PendingDeprecationWarning
# as errors, and CPython 3.15's runs in development mode (-X dev), subprocesses too.
# With CI=true a missing interpreter is a failure; otherwise it is reported and
# skipped. Exits non-zero if any interpreter fails (or, in CI, is missing), and if
# no interpreter ran a test.
set -u
cd "$(dirname "$0")/.."
repo=$PWD
. tests/pythons.sh
logs=$repo/.venvs/logs
mkdir -p "$logs"
. tests/sid.sh

usage() {
    sed -n '/^#   bash/,/^#   PYTEST/p' "$0" | sed 's/^#//'
    exit 2
}

# Three at a time: the tests mostly wait for the kernel and for other programs,
# so that three keep two cores busy (a run took 13 minutes, where two took 16).
chosen= jobs=3
while [ $# -gt 0 ]; do
    case $1 in
        --python=*) chosen=${1#*=}; shift ;;
        --python) [ $# -ge 2 ] || usage; chosen=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        --help) usage ;;
        --) shift; break ;;
        *) break ;;
    esac
done
case $jobs in ''|*[!0-9]*|0) usage ;; esac

# label, where it comes from first (pyenv, the host, or the chroot: sid), and what the
# tests need there, pinned (old interpreters' pips pick releases they cannot run):
# the recipes' trio, the stub's mypy and the churn's Hypothesis where they install,
# mypy pinned on 3.13 and on 3.14 unpinned, the newest when the environment is
# made, as a user would get.
table() {
    cat <<'EOF'
python2.7  pyenv pytest==4.6.11 enum34==1.1.10
python3.6  pyenv pytest==7.0.1 hypothesis==6.31.6
python3.7  pyenv pytest==7.4.4 hypothesis==6.79.4
python3.8  pyenv pytest==8.3.5 trio==0.27.0 hypothesis==6.113.0
python3.9  pyenv pytest==8.4.2 trio==0.27.0 hypothesis==6.141.1
python3.10 pyenv pytest==9.0.3 trio==0.27.0 hypothesis==6.155.2
python3.11 pyenv pytest==9.0.3 trio==0.27.0 hypothesis==6.155.2
python3.12 pyenv pytest==9.0.3 trio==0.27.0 hypothesis==6.155.2
python3.13 pyenv pytest==9.0.3 trio==0.27.0 mypy==1.15.0 hypothesis==6.155.2
pypy3.9    host  pytest==8.4.2 trio==0.27.0 hypothesis==6.141.1
python3.14 sid   pytest==9.2.0 trio==0.35.0 mypy hypothesis==6.155.2
python3.15 sid   pytest==9.2.0 trio==0.35.0 hypothesis==6.155.2
pypy3.11   sid   pytest==9.2.0 trio==0.35.0 hypothesis==6.155.2
EOF
}

# The labels to run: all, or those --python names (3.13 is python3.13).
labels=$(table | awk '{ print $1 }')
if [ -n "$chosen" ]; then
    wanted=
    for name in ${chosen//,/ }; do
        case $name in [0-9]*) name=python$name ;; esac
        if ! echo "$labels" | grep -qxF "$name"; then
            echo "--python: no interpreter $name; there are:" $labels
            exit 2
        fi
        wanted="$wanted $name"
    done
    labels=$(echo "$labels" | grep -xF -f <(echo "$wanted" | tr ' ' '\n' | grep .))
fi

# One run at a time in a checkout: they share .venvs, and the chroot's mounts.
exec 9>"$logs/run.lock"
if ! flock -n 9; then
    echo "another tests/run-all.sh is running in this checkout"
    exit 1
fi

root=
[ "$(id -u)" = 0 ] && root=yes

apt_updated=
apt_install() {
    [ -n "$root" ] && command -v apt-get >/dev/null || return 1
    echo "installing $* with apt-get"
    { [ -n "$apt_updated" ] || apt-get update -qq && apt_updated=yes &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } \
        >>"$logs/apt.log" 2>&1 || { tail -n 20 "$logs/apt.log"; return 1; }
}

# What cannot be done without root, said once, with what a full run needs.
if [ -z "$root" ]; then
    cat <<'EOF'
Not root, so this is a partial run: nothing is installed with apt-get (pypy3,
inotify-tools), the Debian unstable chroot is not built (CPython 3.14 and 3.15,
PyPy 3.11 and inotify-tools 4.x run only as found on PATH), and the tests that need
root (mounting, dropping to another user) are skipped. A full run needs root, pyenv
with CPython 2.7 and 3.6 to 3.13, and network access to Debian's archive and PyPI:
see README.md, Development.
EOF
fi

# PyPy 3.9 and inotifywait 3.22 from the host's distribution, if it may install them.
needs() { echo "$labels" | grep -qxE "$1"; }
if needs pypy3.9 && ! { command -v pypy3 >/dev/null &&
                        pypy3 -c 'import venv, ensurepip' 2>/dev/null; }; then
    apt_install pypy3 pypy3-venv
fi
command -v inotifywait >/dev/null || apt_install inotify-tools

# The chroot, if any of its interpreters is to run and it can be had.
sid=
if needs 'python3.14|python3.15|pypy3.11' && [ -n "$root" ]; then
    trap 'sid_unmount >/dev/null' EXIT
    sid_enter && sid=ready
fi

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

# Run the suite on one interpreter: LABEL PYTHON WHERE (sid or host) PIN [PYTEST
# ARGS]. Writes its line (and, if it failed, what failed) to .venvs/logs/LABEL.report,
# its counts, "passed failed skipped broken ran" (ran: 1 if pytest ran), to
# .venvs/logs/LABEL.counts, and last .venvs/logs/LABEL.done.
run_one() {
    suite "$@" >"$logs/$1.report"
    touch "$logs/$1.done"
}

suite() {
    local label=$1 python=$2 where=$3 pin=$4 version reference status summary env
    local within=() settings run pytest lacks module hint tmp=
    shift 4
    echo "0 0 0 1 0" >"$logs/$label.counts"
    [ "$where" = sid ] && within=("${sid_env[@]}")
    if ! version=$("${within[@]}" "$python" -c "$VERSION" 2>&1); then
        echo "$label: $python does not run: $version"
        return
    fi
    if [ "$where" = sid ]; then
        version="$version, sid's $python"
    else
        version="$version, $python"
    fi
    # what a python found on PATH may lack (Debian splits it off)
    if [ "$label" = python2.7 ]; then
        lacks=pip module=pip hint="install pip for it (python-pip)"
    else
        lacks='the venv module' module='venv, ensurepip'
        case $label in
            pypy*) hint='install pypy3-venv (Debian, Ubuntu)' ;;
            *) hint="install python3-venv or $label-venv (Debian, Ubuntu)" ;;
        esac
    fi
    if ! "${within[@]}" "$python" -c "import $module" 2>/dev/null; then
        echo "$label ($version): it lacks $lacks, skipped: $hint"
        [ "${CI:-}" = true ] || echo "0 0 0 0 0" >"$logs/$label.counts"
        return
    fi
    if ! prepare "$label" "$python" "$pin" "$pin on $version" \
            >"$logs/$label.setup.log" 2>&1; then
        echo "$label ($version): could not install $pin"
        tail -n 20 "$logs/$label.setup.log"
        return
    fi
    env=$repo/.venvs/$label
    settings=(PYTHONWARNINGS="$warnings" CI="${CI:-}")  # CI: into the chroot too
    # the tests' deadline for what must come, longer on a machine this run shares
    settings+=(INOTIFY_SIMPLE_TEST_WAIT=$((30 * jobs)))
    # Their files on a tmpfs where there is one: inotify is the same there, and
    # making and removing thousands of files takes a fraction of a disk's time.
    if tmp=$(mktemp -d /dev/shm/inotify-simple-tests.XXXXXX 2>/dev/null); then
        chmod 755 "$tmp"  # some tests drop to another user
        settings+=(TMPDIR="$tmp")
    fi
    case $label in
        python2.7) settings+=(PYTHONPATH="$env/lib"); run=("$python") ;;
        *) run=("$env/bin/python") ;;
    esac
    if [ "$label" = python3.15 ]; then  # the newest CPython, in development mode
        settings+=(PYTHONDEVMODE=1); version="$version, -X dev"
    fi
    [ "$where" = sid ] || within=(env)
    reference=$("${within[@]}" sh -c 'inotifywait --help 2>&1 | head -n 1' |
                grep -oE '[0-9]+(\.[0-9]+)+')
    version="$version; inotifywait ${reference:-missing}"
    # A hung test must not hang the run: 20 minutes is many times a normal run.
    timeout 1200 "${within[@]}" "${settings[@]}" "${run[@]}" -m pytest \
        -p no:cacheprovider -q -rfEs tests "$@" >"$logs/$label.log" 2>&1 &
    pytest=$!
    trap 'kill $pytest 2>/dev/null; rm -rf "$tmp"; exit 143' TERM  # stop it too
    wait $pytest
    status=$?
    [ -z "$tmp" ] || rm -rf "$tmp"
    summary=$(grep -E '^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+ ?s' "$logs/$label.log" |
              tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
    count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
    echo "$(count passed) $(($(count failed) + $(count error))) $(count skipped)" \
         "$([ $status -eq 0 ] && echo 0 || echo 1) 1" >"$logs/$label.counts"
    if [ $status -ne 0 ]; then
        echo "$label ($version): FAILED (exit $status): ${summary:-no summary}"
        grep -E '^(FAILED|ERROR)|Error|error:' "$logs/$label.log" | head -n 30
        tail -n 40 "$logs/$label.log"
    else
        echo "$label ($version): $summary"
    fi
}

# Where each label's interpreter is: pyenv's or the chroot's when there is one, else
# the same version on PATH. Prints "LABEL PYTHON WHERE PIN", PYTHON - if there is none.
find_all() {
    local label from pin python where
    table | while read -r label from pin; do
        needs "$label" || continue
        python= where=host
        if [ "$from" = pyenv ]; then
            python=$(newest "${label#python}")
        elif [ "$from" = sid ] && [ -n "$sid" ]; then
            python=/usr/bin/$label where=sid
        fi
        [ -n "$python" ] || python=$(on_path "$label")
        echo "$label ${python:--} $where $pin"
    done
}

# Run them, --jobs at a time, the slowest first (as measured: PyPy 3.9, 3.13 with
# mypy, PyPy 3.11, 3.7, 3.6) so that the last ones do not run alone, and print the
# lines in the table's order as they come.
slowest='pypy3.9 python3.13 pypy3.11 python3.7 python3.6'
running=() order=() queue=()
declare -A job_of
stop() {
    local pid
    for pid in "${running[@]}"; do kill "$pid" 2>/dev/null; done
    wait
    exit 130
}
trap stop INT TERM HUP
while read -r label python where pin; do
    rm -f "$logs/$label".{report,counts,done}
    order+=("$label")
    if [ "$python" = - ]; then
        if [ "${CI:-}" = true ]; then
            echo "$label: MISSING (a failure in CI)" >"$logs/$label.report"
            echo "0 0 0 1 0" >"$logs/$label.counts"
        else
            echo "$label: missing, skipped" >"$logs/$label.report"
            echo "0 0 0 0 0" >"$logs/$label.counts"
        fi
        touch "$logs/$label.done"
        continue
    fi
    job_of[$label]="$label $python $where $pin"
done < <(find_all)
for label in $slowest "${order[@]}"; do
    [ -n "${job_of[$label]:-}" ] || continue
    queue+=("${job_of[$label]}")
    unset "job_of[$label]"
done

printed=0
print_done() {
    while [ $printed -lt ${#order[@]} ] &&
          [ -e "$logs/${order[$printed]}.done" ]; do
        cat "$logs/${order[$printed]}.report"
        printed=$((printed + 1))
    done
}
# Wait for one of the running jobs to end; forget it, and print what is done.
reap() {
    local done pid left=()
    wait -n -p done "${running[@]}"
    for pid in "${running[@]}"; do
        [ "$pid" = "$done" ] || left+=("$pid")
    done
    running=("${left[@]}")
    print_done
}
for job in "${queue[@]}"; do
    [ ${#running[@]} -lt "$jobs" ] || reap
    read -r label python where pin <<<"$job"
    run_one "$label" "$python" "$where" "$pin" "$@" 9>&- &  # the lock stays here
    running+=($!)
done
while [ ${#running[@]} -gt 0 ]; do
    reap
done
print_done  # when nothing ran, the lines of those missing

passed=0 failed=0 skipped=0 broken=0 ran=0
for label in "${order[@]}"; do
    read -r p f s b r <"$logs/$label.counts"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    broken=$((broken + b)) ran=$((ran + r))
done
echo "total: $passed passed, $failed failed, $skipped skipped"
if [ $ran -eq 0 ]; then
    echo "No interpreter ran any test. It looked for ${order[*]}." | fold -s -w 84
    cat <<EOF
CPython in pyenv ($pyenv_root/versions), then on PATH as pythonX.Y,
python3, python2 or python; PyPy on PATH as pypyX.Y or pypy3; 3.14, 3.15 and PyPy
3.11 in the Debian unstable chroot first, which needs root. To get one: your
distribution's Python with its venv module (Debian, Ubuntu: apt-get install python3
python3-venv, or pypy3 pypy3-venv), or pyenv (https://github.com/pyenv/pyenv, then
pyenv install 3.13).
EOF
    exit 1
fi
[ $broken -eq 0 ] && [ $failed -eq 0 ]
