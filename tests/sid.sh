# Sourced by tests/run-all.sh: the interpreters that only Debian unstable (sid) has,
# CPython 3.14 and 3.15 and PyPy 3.11, and sid's inotify-tools 4.x, the second
# inotifywait that the command line's tests run beside. They need sid's own C
# library, so they live in a chroot at .venvs/sid, made with debootstrap from the
# Debian archive the machine's apt uses, and reused while complete: the stamp
# .venvs/sid/.complete is written last, once every package is in and the programs
# run. A missing or broken one is made again. Needs root (chroot, mount); the caller
# sets $repo and $logs and defines apt_install.
#
# While in use, the chroot has proc, sysfs and the host's /dev mounted in, and the
# checkout bound at its own path, so that paths are the same inside and out. Deleting
# a chroot with those still mounted would delete the host's /dev and the checkout:
# sid_remove refuses to while anything is mounted under it.

sid_root=$repo/.venvs/sid
sid_packages='python3.14 python3.14-venv python3.15 python3.15-venv pypy3 pypy3-venv'
sid_packages="$sid_packages inotify-tools"
sid_interpreters='/usr/bin/python3.14 /usr/bin/python3.15 /usr/bin/pypy3'
# The host's CA bundle, so that pip in the chroot trusts what the host's pip trusts.
sid_ca=/etc/host-ca-certificates.crt

# The command that runs the rest of its arguments in the chroot, in the checkout, with
# a clean environment (the host's pip settings stay out); add VAR=VALUE words, then
# the command. Rather than chroot, it makes the chroot the root of a mount namespace
# of its own (pivot_root): the kernel refuses a chrooted process a user namespace,
# which tests make.
sid_env=(unshare --mount --propagation private -- sh -c '
             root=$1; shift
             mount --rbind "$root" "$root" && cd "$root" && mkdir -p .oldroot &&
             pivot_root . .oldroot && cd / && umount -l /.oldroot && exec "$@"' sh
         "$sid_root" /usr/bin/env -i -C "$repo"
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
         HOME=/root LANG=C.UTF-8 PIP_CERT=$sid_ca PIP_DISABLE_PIP_VERSION_CHECK=1)

# What is mounted at or under the chroot, deepest first. /proc/self/mounts escapes
# blanks and backslashes, which sid_usable rules out of the checkout's path.
sid_mounts() {
    awk -v root="$sid_root" '$2 == root || index($2, root "/") == 1 { print $2 }' \
        /proc/self/mounts | sort -r
}

sid_usable() {
    case $sid_root in
        *[[:space:]\\]*)
            echo "the checkout's path has a blank or a backslash"; return 1 ;;
    esac
    [ "$(id -u)" = 0 ] || { echo "chroot and mount need root"; return 1; }
}

sid_unmount() {
    local point
    for point in $(sid_mounts); do
        umount "$point" 2>/dev/null || umount -l "$point"  # busy: detach it anyway
    done
    [ -z "$(sid_mounts)" ] ||
        { echo "still mounted in $sid_root:" $(sid_mounts); return 1; }
}

sid_mount() {
    [ -z "$(sid_mounts)" ] || sid_unmount || return 1
    mount -t proc proc "$sid_root/proc" &&
    mount -t sysfs sysfs "$sid_root/sys" &&
    # /dev with /dev/pts, /dev/shm and the rest; slave, so that nothing mounted or
    # unmounted under the chroot's /dev reaches the host's
    mount --rbind /dev "$sid_root/dev" && mount --make-rslave "$sid_root/dev" &&
    mkdir -p "$sid_root$repo" && mount --bind "$repo" "$sid_root$repo" &&
    mount --make-private "$sid_root$repo" &&
    cp /etc/ssl/certs/ca-certificates.crt "$sid_root$sid_ca"
}

sid_remove() {
    if [ -n "$(sid_mounts)" ]; then
        echo "not deleting $sid_root: still mounted there:" $(sid_mounts)
        return 1
    fi
    rm -rf --one-file-system "$sid_root"
}

sid_complete() {
    local python
    [ "$(cat "$sid_root/.complete" 2>/dev/null)" = "$sid_packages" ] || return 1
    for python in $sid_interpreters; do
        chroot "$sid_root" "$python" -c 'import venv, ensurepip' 2>/dev/null || return 1
    done
    chroot "$sid_root" /usr/bin/inotifywait --help >/dev/null 2>&1
    [ $? = 1 ]  # its --help exits 1
}

# The archive the machine's apt uses for its own release, or Debian's own.
sid_mirror() {
    local codename mirror
    codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
    mirror=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
             awk -v release="$codename" '$1 == release { print $2; exit }')
    echo "${mirror:-http://deb.debian.org/debian/}"
}

sid_build() {
    local mirror
    sid_remove || return 1
    command -v debootstrap >/dev/null || apt_install debootstrap || return 1
    mirror=$(sid_mirror)
    echo "debootstrap --variant=minbase sid from $mirror"
    debootstrap --variant=minbase sid "$sid_root" "$mirror" || return 1
    sid_mount || return 1
    # sid's Release file outlives its Valid-Until on a clock behind the archive's
    "${sid_env[@]}" DEBIAN_FRONTEND=noninteractive sh -c '
        apt-get -o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false \
            update -qq &&
        apt-get install -y -qq --no-install-recommends "$@" &&
        apt-get clean' sh $sid_packages || return 1
    echo "$sid_packages" >"$sid_root/.complete"
    sid_complete
}

# Build the chroot unless it is complete, then mount it; say why not on failure.
# The caller unmounts with sid_unmount (on exit, whatever happens).
sid_enter() {
    local start=$SECONDS
    sid_usable || return 1
    if ! sid_complete; then
        echo "building the Debian unstable chroot in .venvs/sid"
        sid_unmount && sid_build >"$logs/sid.log" 2>&1 ||
            { tail -n 20 "$logs/sid.log"; sid_unmount; return 1; }
        echo "built .venvs/sid in $((SECONDS - start)) s"
    fi
    sid_mount
}
