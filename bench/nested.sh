#!/bin/bash
# The cost of a nested container: `podman run --rm IMG true` inside a
# system workspace (sudobox create --isolation system) versus the host's
# podman on the same image, median of BENCH_N runs each (default 30, two
# warm-up runs dropped).  Needs root.
#   SUDOBOX=path   default: build/src/sudobox/sudobox
# Both sides use podman 4.3 from Debian with runc, the cgroupfs manager,
# overlay storage, `--network none` (so the host gets no bridge or firewall
# rules) and a cgroup parent of our own.  The host side runs in a private
# mount namespace with a tmpfs over /run and private storage: the host's
# podman state is never touched.  Everything made here is removed on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${BENCH_N:-30}
SUDOBOX=${SUDOBOX:-$top/build/src/sudobox/sudobox}

[ "$(id -u)" = 0 ] || { echo "bench/nested.sh needs root" >&2; exit 1; }
[ -x "$SUDOBOX" ] || { echo "bench/nested.sh: $SUDOBOX is not built (make build)" >&2; exit 1; }
command -v podman >/dev/null || { echo "bench/nested.sh: podman is not installed" >&2; exit 1; }

if [ -z "${SB_NESTBENCH_INNER:-}" ]; then
    export SB_NESTBENCH_INNER=1
    exec unshare -m --propagation private "$0" "$@"
fi

. "$top/tests/lib/rootfs.sh"
work=$(mktemp -d /tmp/sbnestbench.XXXXXX)
chmod 700 "$work"
cgparent=sbnestbench-$$
sb() { "$SUDOBOX" --root "$work/state" "$@"; }

cleanup() {
    sb rm --force --volumes nb >/dev/null 2>&1 || true
    sb image rm sys >/dev/null 2>&1 || true
    podman --root "$work/storage" --runroot /run/sbnest rm -af >/dev/null 2>&1 || true
    # The cgroups podman made below our parent (conmon's, empty once it exits).
    for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent"; do
        if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
    # podman's overlay mounts of this (private) mount namespace, deepest first.
    awk -v w="$work" 'index($5, w "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

conf='[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
'
mkdir -p "$work/tiny/bin"
cp /bin/busybox "$work/tiny/bin/"
for a in sh true; do ln -s busybox "$work/tiny/bin/$a"; done
tar -C "$work/tiny" -cf "$work/tiny.tar" .

# One timing loop for both sides: N+2 runs, ms per run, one per line.
loop='for i in $(seq $((N + 2))); do
  s=$(date +%s%N); $PODMAN run --rm --network none --cgroup-parent=/CGP tiny true || exit 1; e=$(date +%s%N)
  [ "$i" -gt 2 ] && echo $(( (e - s) / 1000 ))
done'
loop=${loop//CGP/$cgparent}

echo "preparing the system workspace..." >&2
sb image import sys "$(sb_rootfs_tar system)" >/dev/null
sb create nb --image sys --isolation system >/dev/null
sb start nb </dev/null >/dev/null
# systemd's boot-time tmpfiles clean-up must not race with the set-up.
for i in $(seq 100); do
    case $(sb exec nb -- systemctl is-system-running 2>/dev/null) in running | degraded) break ;; esac
    sleep 0.2
done
printf '%s' "$conf" | sb exec -i nb -- sh -c 'mkdir -p /etc/containers && cat > /etc/containers/containers.conf'
sb exec -i nb -- sh -c 'cat > /root/tiny.tar' <"$work/tiny.tar"
sb exec nb -- podman import -q /root/tiny.tar tiny >/dev/null
# The image's docker and containerd services would run beside the timing.
sb exec nb -- systemctl stop docker.socket docker containerd >/dev/null 2>&1 || true
echo "nested: $N runs..." >&2
sb exec --env N="$N" --env PODMAN=podman nb -- sh -c "$loop" >"$work/nested.us"

echo "host: $N runs..." >&2
mount -t tmpfs tmpfs /run
printf '%s' "$conf" >"$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf N
export PODMAN="podman --root $work/storage --runroot /run/sbnest"
$PODMAN import -q "$work/tiny.tar" tiny >/dev/null
sh -c "$loop" >"$work/host.us"

python3 - "$work/nested.us" "$work/host.us" <<'PY'
import statistics, sys
def load(p):
    return [int(l) / 1000.0 for l in open(p) if l.strip()]
nested, host = load(sys.argv[1]), load(sys.argv[2])
print("%-34s %4s %9s %9s %9s" % ("podman run --rm tiny true", "N", "median", "p90", "min"))
for name, xs in (("host podman", host), ("nested (system workspace)", nested)):
    xs = sorted(xs)
    p90 = xs[max(0, int(round(0.9 * len(xs))) - 1)]
    print("%-34s %4d %7.1fms %7.1fms %7.1fms" % (name, len(xs), statistics.median(xs), p90, xs[0]))
print("nested/host ratio of medians: %.2fx" % (statistics.median(nested) / statistics.median(host)))
PY
