#!/bin/bash
# Workspace-manager benchmarks (see bench/README.md).  Needs root.
#   BENCH_N=30         rounds of the timed benchmarks
#   BENCH_MEM_WS=5     idle workspaces of the memory benchmark
#   SUDOBOX=path       default: build/src/sudobox/sudobox
#   BENCH_PODMAN_NET=slirp4netns (default) or bridge: podman's network.
#                      bridge is podman's own default (netavark); the whole
#                      benchmark then runs in a private network namespace
#                      too, so the bridge and firewall rules vanish with it.
# Runs in a private mount namespace.  Podman gets a private configuration,
# storage and run directories (bind-mounted over the host paths it insists
# on, inside that namespace only), and a private /etc/subuid and /etc/subgid
# with a "containers" entry when the host has none: the host's files and
# podman state are never written.  Everything made here is removed on exit,
# failure and interrupt included.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${BENCH_N:-30}
MEM_WS=${BENCH_MEM_WS:-5}
SUDOBOX=${SUDOBOX:-$top/build/src/sudobox/sudobox}
PODMAN_NET=${BENCH_PODMAN_NET:-slirp4netns}
case "$PODMAN_NET" in
slirp4netns) unshare_net= ;;
bridge) unshare_net=-n ;;
*) echo "bench/workspace.sh: BENCH_PODMAN_NET=$PODMAN_NET: slirp4netns or bridge" >&2; exit 1 ;;
esac

[ "$(id -u)" = 0 ] || { echo "bench/workspace.sh needs root" >&2; exit 1; }
[ -x "$SUDOBOX" ] || { echo "bench/workspace.sh: $SUDOBOX is not built (make build)" >&2; exit 1; }

if [ -z "${SB_WSBENCH_INNER:-}" ]; then
    export SB_WSBENCH_INNER=1
    exec unshare -m $unshare_net --propagation private "$0" "$@"
fi
[ -z "$unshare_net" ] || ip link set lo up

. "$top/tests/lib/rootfs.sh"
# ws_bench.py imports bench.py: no __pycache__ left in the source tree.
export PYTHONDONTWRITEBYTECODE=1

# Host paths podman (4.3, rootful) writes whatever its configuration says:
# netns files, netavark's run directory, the image blob-info cache, runc's
# state.  Each gets a private directory mounted over it; one that did not
# exist is created for the mount and removed at the end.
PODMAN_HOST_DIRS="/run/netns /run/containers /run/libpod /run/runc /var/lib/containers"
# A subordinate id range of our own for --userns=auto: clear of sudobox's
# pools (1000000.. for sudobox-runc, 2000000000.. for workspaces).
PODMAN_SUBID="containers:300000000:200000000"
RUNC_ID=sbwsbench-$$

work=$(mktemp -d /tmp/sbwsbench.XXXXXX)
# 0711: the runc container's user namespace (uid 2000000) must reach its
# bundle, without being able to list anything here.
chmod 0711 "$work"
made_dirs=""
made_files=""
made_cgroups=""
podman_ok=""
podman_ifs=""

sb() { "$SUDOBOX" --root "$work/sb" "$@"; }
# Podman reads only these (the host's /etc/containers files are skipped).
export CONTAINERS_CONF=$work/podman/containers.conf
export CONTAINERS_STORAGE_CONF=$work/podman/storage.conf

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local ws d m
    set +e
    for ws in $(sb ls -q 2>/dev/null); do sb rm --force --volumes "$ws" >/dev/null 2>&1; done
    for ws in $(sb image ls -q 2>/dev/null); do sb image rm "$ws" >/dev/null 2>&1; done
    runc --root "$work/runc" delete --force "$RUNC_ID" >/dev/null 2>&1
    if [ -n "$podman_ok" ]; then
        podman rm --all --force --time 0 >/dev/null 2>&1
        podman rmi --all --force >/dev/null 2>&1
    fi
    # Podman's storage and netns mounts, and ours over the host paths,
    # deepest first.
    awk '{print $5}' /proc/self/mountinfo | grep -E "^($work|/run/netns|/run/containers|/run/libpod|/run/runc|/var/lib/containers|/etc/sub[ug]id)(/|\$)" |
        sort -r | while read -r m; do umount -l "$m"; done
    for d in $made_dirs; do rmdir "$d"; done
    for d in $made_files; do rm -f "$d"; done
    # The cgroups podman's cgroupfs manager created (libpod_parent and its
    # children), if there was none before: empty now, removed deepest first.
    for d in $made_cgroups; do
        [ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} \;
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

private_dir() { # private_dir HOSTPATH: $work/podman/host/... mounted over it
    local src=$work/podman/host$1
    mkdir -p "$src"
    if [ ! -d "$1" ]; then
        mkdir -p "$1"
        made_dirs="$1 $made_dirs"
    fi
    mount --bind "$src" "$1"
}

private_subid() { # private_subid FILE: FILE + our "containers" entry, mounted over FILE
    if [ ! -e "$1" ]; then
        : >"$1"
        made_files="$made_files $1"
    fi
    grep -q '^containers:' "$1" && return 0
    cat "$1" >"$work/podman/$(basename "$1")"
    echo "$PODMAN_SUBID" >>"$work/podman/$(basename "$1")"
    mount --bind "$work/podman/$(basename "$1")" "$1"
}

# Sets up podman; prints why not (and returns 1) when it cannot run here.
setup_podman() {
    local c err
    command -v podman >/dev/null || { echo "podman is not installed (apt-get install podman)"; return 1; }
    command -v runc >/dev/null || { echo "runc is not installed (podman runs with runc here)"; return 1; }
    mkdir -p "$work/podman"
    # crun 1.8 refuses hybrid cgroups: runc.  No systemd here: cgroupfs, and
    # events to a file.  This machine cannot raise rlimits: default_ulimits
    # empty.  netns: slirp4netns by default, user-mode networking (libslirp)
    # as a sudobox workspace gets, and no bridge or firewall rules on the host.
    cat >"$work/podman/containers.conf" <<EOF
[containers]
default_ulimits = []
netns = "$([ "$PODMAN_NET" = bridge ] && echo private || echo slirp4netns)"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$work/podman/tmp"

[network]
network_config_dir = "$work/podman/networks"
EOF
    cat >"$work/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/podman/storage"
runroot = "$work/podman/run"
EOF
    for d in $PODMAN_HOST_DIRS; do private_dir "$d"; done
    private_subid /etc/subuid
    private_subid /etc/subgid
    for c in /sys/fs/cgroup/*/; do
        [ -e "${c}libpod_parent" ] || made_cgroups="$made_cgroups ${c}libpod_parent"
    done
    podman_ok=1
    err=$(podman import "$(sb_rootfs_tar base)" sbbench-debian 2>&1 >/dev/null) ||
        { echo "podman import failed: $(echo "$err" | tail -n1)"; return 1; }
    err=$(podman run --rm --userns=auto sbbench-debian true 2>&1 >/dev/null) ||
        { echo "podman run failed: $(echo "$err" | tail -n1)"; return 1; }
    # The network it really got: tap0 is slirp4netns, eth0 a bridge's veth.
    podman_ifs=$(podman run --rm --userns=auto sbbench-debian cat /proc/net/dev |
        awk -F: 'NR > 2 {gsub(/ /, "", $1); printf " %s", $1}')
}

echo "# $(uname -r), $(nproc) cpus, $("$SUDOBOX" --version 2>&1 | head -n1)"
base=$(sb_rootfs_tar base)
big=$(sb_rootfs_tar bench)
sb_tiny_rootfs "$work/tiny"
tar -C "$work/tiny" -cf "$work/tiny.tar" .
sb image import debian "$base" >/dev/null
sb image import debian-big "$big" >/dev/null
sb image import tiny "$work/tiny.tar" >/dev/null
echo "# images: debian $(du -h "$base" | cut -f1), debian-big $(du -h "$big" | cut -f1), tiny $(du -h "$work/tiny.tar" | cut -f1) (tarballs)"
rc=0

echo
# Not in $(...): setup_podman records what to clean up in this shell.
if setup_podman >"$work/podman-why"; then
    echo "# $(podman --version), runtime $(runc --version | head -n1), network $PODMAN_NET (interfaces:$podman_ifs)"
    python3 "$here/ws_bench.py" startup "$N" "$SUDOBOX" "$work/sb" debian \
        "podman run --rm --userns=auto sbbench-debian true" || rc=1
else
    why=$(cat "$work/podman-why")
    echo "# podman skipped: $why"
    python3 "$here/ws_bench.py" startup "$N" "$SUDOBOX" "$work/sb" debian --skip "$why" || rc=1
fi

echo
python3 "$here/ws_bench.py" create "$N" "$SUDOBOX" "$work/sb" debian-big tiny || rc=1

echo
# The runc side of exec: the same Debian rootfs, a user namespace like a
# workspace's, PID 1 sleeping; stdio to /dev/null so `run -d` returns.
mkdir -m 0700 "$work/runc"
make_bundle "$work/bundle" --userns -- sleep infinity
runc --root "$work/runc" run -d -b "$work/bundle" "$RUNC_ID" </dev/null >/dev/null 2>&1
python3 "$here/ws_bench.py" exec "$N" "$SUDOBOX" "$work/sb" debian \
    "runc --root $work/runc exec $RUNC_ID true" || rc=1
runc --root "$work/runc" delete --force "$RUNC_ID"

echo
python3 "$here/ws_bench.py" memory "$MEM_WS" "$SUDOBOX" "$work/sb" debian || rc=1
exit $rc
