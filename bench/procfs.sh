#!/bin/bash
# Reading /proc/meminfo through sudobox-procfs vs through Debian's lxcfs, on
# this machine in one run: both mounted on private directories, the reader
# a member of one cgroup with a 512M limit (lxcfs finds the limit from the
# reader's cgroup; sudobox-procfs serves that cgroup).  BENCH_N samples.
#   sudo bench/procfs.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD:=$top/build}" "${BENCH_N:=5000}"
server=$BUILD/src/procfs/sudobox-procfs
[ "$(id -u)" = 0 ] || { echo "bench/procfs.sh needs root" >&2; exit 1; }
[ -x "$server" ] || { echo "no $server: build first" >&2; exit 1; }
command -v lxcfs >/dev/null || { echo "lxcfs is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/sb-bench-procfs.XXXXXX)
cg=/sudobox-bench-procfs-$$
ctrls="memory cpu cpuacct cpuset pids"
spid= lpid=
cleanup() {
    [ -z "$spid" ] || kill "$spid" 2>/dev/null || true
    [ -z "$lpid" ] || kill "$lpid" 2>/dev/null || true
    [ -z "$spid" ] || wait "$spid" 2>/dev/null || true
    [ -z "$lpid" ] || wait "$lpid" 2>/dev/null || true
    for m in "$work/sb" "$work/lx"; do mountpoint -q "$m" && umount -l "$m"; done
    for c in $ctrls; do
        d=/sys/fs/cgroup/$c$cg
        [ -d "$d" ] || continue
        while read -r p; do echo "$p" >"/sys/fs/cgroup/$c/cgroup.procs"; done <"$d/cgroup.procs"
        rmdir "$d"
    done
    rm -rf "$work"
}
trap cleanup EXIT

for c in $ctrls; do mkdir "/sys/fs/cgroup/$c$cg"; done
echo 512M >"/sys/fs/cgroup/memory$cg/memory.limit_in_bytes"
cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$cg/cpuset.cpus"
cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$cg/cpuset.mems"
mkdir "$work/sb" "$work/lx"
"$server" --mountpoint "$work/sb" --cgroup "$cg" 2>"$work/sb.log" &
spid=$!
lxcfs -f -p "$work/lxcfs.pid" "$work/lx" >"$work/lx.log" 2>&1 &
lpid=$!
for _ in $(seq 50); do mountpoint -q "$work/sb" && mountpoint -q "$work/lx" && break; sleep 0.1; done
mountpoint -q "$work/sb" || { cat "$work/sb.log"; exit 1; }
mountpoint -q "$work/lx" || { cat "$work/lx.log"; exit 1; }

echo "# /proc/meminfo, open+read+close, median of $BENCH_N reads each, $(nproc) cpus, $(uname -r)"
echo "# sudobox-procfs $(head -1 "$work/sb/proc/meminfo" | tr -s ' ') | lxcfs $(lxcfs --version 2>&1 | head -1):" \
     "$(sh -c "for c in $ctrls; do echo \$\$ >/sys/fs/cgroup/\$c$cg/cgroup.procs; done; head -1 $work/lx/proc/meminfo" | tr -s ' ')"
sh -c 'for c in '"$ctrls"'; do echo $$ >/sys/fs/cgroup/$c'"$cg"'/cgroup.procs; done
       exec python3 "$1" "$2" lxcfs="$3/lx/proc/meminfo" sudobox-procfs="$3/sb/proc/meminfo" \
            host="/proc/meminfo"' sh "$top/bench/procfs.py" "$BENCH_N" "$work"
