# Sourced by the scripts that need a given interpreter: `newest MINOR` prints the
# python of the newest patch release pyenv has of MINOR (e.g. 3.13), or nothing;
# `on_path LABEL` (python3.11, pypy3.9, ...) the first python on PATH that is that
# implementation and version, or nothing.
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
newest() {
    local found
    found=$(ls -d "$pyenv_root"/versions/"$1".* 2>/dev/null | grep -E "/$1\.[0-9]+$" |
            sort -t. -k3 -n | tail -n 1)
    echo "${found:+$found/bin/python}"
}

# What a python is, in the words of on_path's labels.
LABEL='import sys
kind = "pypy" if hasattr(sys, "pypy_version_info") else "python"
print("%s%d.%d" % (kind, sys.version_info[0], sys.version_info[1]))'

# The names to try for LABEL: its own, then the generic ones (python3.11: python3.11,
# python3, python; pypy3.9: pypy3.9, pypy3, pypy).
path_names() {
    local kind=${1%%[0-9]*} version=${1#"${1%%[0-9]*}"}
    echo "$1 $kind${version%%.*} $kind"
}

on_path() {
    local name python
    for name in $(path_names "$1"); do
        python=$(command -v "$name") || continue
        if [ "$("$python" -c "$LABEL" 2>/dev/null)" = "$1" ]; then
            echo "$python"
            return
        fi
    done
}
