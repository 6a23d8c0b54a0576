# Sourced by the scripts that need a given interpreter: `newest MINOR` prints the
# python of the newest patch release pyenv has of MINOR (e.g. 3.13), or nothing.
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
newest() {
    local found
    found=$(ls -d "$pyenv_root"/versions/"$1".* 2>/dev/null | grep -E "/$1\.[0-9]+$" |
            sort -t. -k3 -n | tail -n 1)
    echo "${found:+$found/bin/python}"
}
