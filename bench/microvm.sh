#!/bin/bash
# Microvm workspace benchmark.  Needs root.
#   BENCH_N=5          rounds of each timed benchmark
#   BENCH_MEM_WS=3     idle workspaces of the memory benchmark
#   SUDOBOX=path       default: build/src/sudobox/sudobox
#   SUDOBOX_MICROVM_ACCEL=kvm|tcg   (default: sudobox's own probe)
# Measures, per round, `create` + `start` until the first `exec true` has
# answered, cold (a full guest boot) and from the template's snapshot
# (QEMU -incoming), plus `start` alone and the first exec alone; then the
# host memory of idle workspaces (QEMU's RSS and PSS from smaps_rollup).
# Prints medians.  Everything lives in a private state root under /tmp,
# removed on exit, failure and interrupt included.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${BENCH_N:-5}
MEM_WS=${BENCH_MEM_WS:-3}
SUDOBOX=${SUDOBOX:-$top/build/src/sudobox/sudobox}

[ "$(id -u)" = 0 ] || { echo "bench/microvm.sh needs root" >&2; exit 1; }
[ -x "$SUDOBOX" ] || { echo "bench/microvm.sh: $SUDOBOX is not built (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/sbvmbench.XXXXXX)
chmod 0700 "$work"
sb() { "$SUDOBOX" --root "$work/state" "$@"; }
cleanup() {
    for ws in $(sb ls -q 2>/dev/null); do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "building the image (sudobox image build) ..." >&2
sb image build img >"$work/build.log" 2>&1 || { tail -5 "$work/build.log" >&2; exit 1; }
# The first start builds the boot files, probes KVM and snapshots the
# template guest: not part of the timed rounds.
sb create warm --image img --isolation microvm
sb start warm 2>"$work/accel.txt"
sb exec warm -- true
sb rm --force --volumes warm
accel=tcg
grep -q "software emulation" "$work/accel.txt" || accel=kvm

# One round: create + start, then the first exec; prints total start exec.
round() {
    local name=$1 t0 t1 t2 t3
    t0=$(now)
    sb create "$name" --image img --isolation microvm
    t1=$(now)
    sb start "$name" 2>/dev/null
    t2=$(now)
    sb exec "$name" -- true
    t3=$(now)
    echo "$t0 $t1 $t2 $t3" | awk '{printf "%.3f %.3f %.3f\n", $4-$1, $3-$2, $4-$3}'
}

for mode in snapshot cold; do
    : >"$work/$mode"
    for i in $(seq "$N"); do
        if [ "$mode" = cold ]; then
            SUDOBOX_MICROVM_COLD=1 round "b$i" >>"$work/$mode"
        else
            round "b$i" >>"$work/$mode"
        fi
        sb rm --force --volumes "b$i"
    done
done

for i in $(seq "$MEM_WS"); do
    sb create "m$i" --image img --isolation microvm
    sb start "m$i" 2>/dev/null
    sb exec "m$i" -- true
done
sleep 5
: >"$work/mem"
for i in $(seq "$MEM_WS"); do
    pid=$(sb inspect "m$i" | python3 -c 'import json,sys; print(json.load(sys.stdin)["monitorPid"])')
    awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {printf "%d %d\n", r/1024, p/1024}' "/proc/$pid/smaps_rollup" >>"$work/mem"
done

printf '\nmicrovm workspaces (%s, %s rounds, QEMU %s, guest 1 vCPU / 1024 MiB)\n' "$accel" "$N" \
    "$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')"
printf '%-44s %10s\n' "median seconds" ""
for mode in snapshot cold; do
    printf '%-44s %10s\n' "$mode: create+start to first exec answered" "$(cut -d' ' -f1 "$work/$mode" | median)"
    printf '%-44s %10s\n' "$mode: start" "$(cut -d' ' -f2 "$work/$mode" | median)"
    printf '%-44s %10s\n' "$mode: first exec" "$(cut -d' ' -f3 "$work/$mode" | median)"
done
printf '%-44s %10s\n' "idle workspace, QEMU RSS MiB (median)" "$(cut -d' ' -f1 "$work/mem" | median)"
printf '%-44s %10s\n' "idle workspace, QEMU PSS MiB (median)" "$(cut -d' ' -f2 "$work/mem" | median)"
echo "Kata Containers (published): about 0.7 s to workload with QEMU or Cloud Hypervisor on bare metal (KVM)"
