#!/bin/bash
# Runtime benchmarks (see bench/README.md).  Needs root.
#   BENCH_N=50                 rounds
#   SUDOBOX_RUNC=path          default: build/src/runc/sudobox-runc
#   BENCH_CREATE_RUNTIME=path  runtime of the create benchmark (default sudobox)
# Everything runs in a private mount namespace whose /sys/fs/cgroup is a
# pure cgroup2 mount, so every runtime works on the same cgroup setup (crun
# 1.8 refuses hybrid hosts); the host's mounts are left alone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${BENCH_N:-50}
SUDOBOX_RUNC=${SUDOBOX_RUNC:-$top/build/src/runc/sudobox-runc}
BENCH_CREATE_RUNTIME=${BENCH_CREATE_RUNTIME:-$SUDOBOX_RUNC}

[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root" >&2; exit 1; }

if [ -z "${SB_BENCH_INNER:-}" ]; then
    export SB_BENCH_INNER=1
    exec unshare -m sh -ec '
        mount --make-rprivate /
        umount -R /sys/fs/cgroup
        mount -t cgroup2 none /sys/fs/cgroup
        exec "$0" "$@"' "$0" "$@"
fi

. "$top/tests/lib/rootfs.sh"
work=$(mktemp -d /tmp/sbbench.XXXXXX)
trap 'umount "$work/roots" 2>/dev/null; rm -rf "$work"' EXIT

# Bundle of the run benchmark: Debian rootfs, read-only, a user namespace
# (0 -> 2000000, 65536 ids) in the spec so that every runtime does the same
# work, and no resources (crun would load a BPF device filter, the others
# not).  The runtimes reach the rootfs from inside the user namespace
# (uid 2000000) and bwrap as root without capabilities over it, so the path
# needs search permission for both: $work is 0711 (not listable).
chmod 0711 "$work"
make_bundle "$work/userns/b" --userns -- /bin/true
spec_edit "$work/userns/b" 'c["linux"].pop("resources", None)'

specs=()
add() {
    local name=$1 bin=$2
    shift 2
    if command -v "$bin" >/dev/null 2>&1; then
        specs+=("$name=$bin $*")
    else
        echo "note: $name ($bin) not found, skipped" >&2
    fi
}
add sudobox-runc "$SUDOBOX_RUNC" "--root {root} run -b {bundle} {id}"
add crun crun "--root {root} run -b {bundle} {id}"
add runc runc "--root {root} run -b {bundle} {id}"
add bwrap bwrap "--unshare-all --uid 0 --gid 0 --bind {rootfs} / --proc /proc --dev /dev /bin/true"

# The runtimes' state roots on a tmpfs, as their defaults are (/run/crun,
# /run/runc, /run/sudobox): state files are not disk I/O in production.
mkdir -p "$work/roots"
mount -t tmpfs -o mode=0700 tmpfs "$work/roots"
echo "# $(uname -r), $(nproc) cpus, cgroup2 only (private mount namespace), state roots on tmpfs"
rc=0
python3 "$here/bench.py" run "$N" "${specs[@]}" -- "$work/userns/b" "$work/roots" || rc=1

echo
if command -v "$BENCH_CREATE_RUNTIME" >/dev/null 2>&1; then
    # Bundles of the create benchmark: no user namespace in the spec (sudobox
    # adds its own), read-only roots, in a root-only 0700 directory.
    mkdir -m 0700 "$work/create"
    make_bundle "$work/create/big" --rootfs bench -- /bin/true
    make_bundle "$work/create/small" --rootfs tiny -- /bin/true
    for b in big small; do
        spec_edit "$work/create/$b" 'c["linux"].pop("resources", None)'
        echo "# $b rootfs: $(du -sh "$work/create/$b/rootfs" | cut -f1)"
    done
    python3 "$here/bench.py" create "$N" "$BENCH_CREATE_RUNTIME" \
        "$work/create/big" "$work/create/small" "$work/create/root" || rc=1
else
    echo "note: $BENCH_CREATE_RUNTIME not found, create benchmark skipped" >&2
fi
exit $rc
