#!/usr/bin/env bats
# sudobox-procfs on its own: a real cgroup with a 512M memory limit, one CPU
# by cpuset and quota, the server mounted, its files bound over /proc and
# /sys in a private mount namespace whose shell lives in that cgroup.

load ../lib/helpers

SERVER=$BUILD/src/procfs/sudobox-procfs
CTRLS="memory cpu cpuacct cpuset pids"

setup() {
    [ -x "$SERVER" ] || skip "no $SERVER (build first)"
    TMP=$(mktemp -d /tmp/sb-procfs.XXXXXX)
    chmod 700 "$TMP"
    ROOT=$TMP/state
    MNT=$TMP/mnt
    mkdir "$MNT"
    CG=/sudobox-procfs-test-$$-$BATS_TEST_NUMBER
    SPID=
}

teardown() {
    [ ! -d "${ROOT:-/nonexistent}" ] || rt delete --force "${ID:-none}" >/dev/null 2>&1 || true
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill "$SPID"
        for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    fi
    if mountpoint -q "$MNT"; then umount -l "$MNT"; fi
    for c in $CTRLS; do
        d=/sys/fs/cgroup/$c$CG
        [ -d "$d" ] || continue
        xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null || true
        for _ in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
        [ ! -d "$d" ] || echo "leftover cgroup $d" >&2
    done
    rm -rf "$TMP"
    ! pgrep -f "sudobox-procfs --mountpoint $MNT" >/dev/null
}

v1_cgroup() {
    for c in $CTRLS; do mkdir "/sys/fs/cgroup/$c$CG"; done
    echo 512M >"/sys/fs/cgroup/memory$CG/memory.limit_in_bytes"
    echo 0 >"/sys/fs/cgroup/cpuset$CG/cpuset.cpus"
    echo 0 >"/sys/fs/cgroup/cpuset$CG/cpuset.mems"
    echo 100000 >"/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us"
    echo 100000 >"/sys/fs/cgroup/cpu$CG/cpu.cfs_period_us"
}

start_server() {
    "$SERVER" --mountpoint "$MNT" --cgroup "$CG" --owner 0:0 "$@" 2>"$TMP/log" &
    SPID=$!
    for _ in $(seq 50); do mountpoint -q "$MNT" && return 0; sleep 0.1; done
    cat "$TMP/log"
    return 1
}

# Runs a shell script in a private mount namespace, as a member of the
# test cgroup, with the server's files bound over /proc and /sys.
in_workspace() {
    unshare -m --propagation private sh -ec '
        for c in '"$CTRLS"'; do echo $$ >"/sys/fs/cgroup/$c'"$CG"'/cgroup.procs"; done
        "'"$SERVER"'" --bind "'"$MNT"'" /
        '"$1"
}

@test "free, nproc, getconf and uptime see the workspace's limits through the bound files" {
    v1_cgroup
    start_server
    run in_workspace 'free -m | awk "/^Mem:/ {print \$2}"; nproc; getconf _NPROCESSORS_ONLN
                      grep -c ^processor /proc/cpuinfo; cut -d" " -f1 /proc/uptime; grep -c "^cpu[0-9]" /proc/stat'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 512 ]
    [ "${lines[1]}" = 1 ]
    [ "${lines[2]}" = 1 ]
    [ "${lines[3]}" = 1 ]
    awk -v u="${lines[4]}" 'BEGIN { exit !(u < 30) }'
    [ "${lines[5]}" = 1 ]
}

@test "loadavg, swaps and diskstats are served; the files are read-only" {
    v1_cgroup
    start_server
    run in_workspace 'cat /proc/loadavg; head -1 /proc/swaps; cat /proc/diskstats >/dev/null
                      if (echo 1 >/proc/meminfo) 2>/dev/null; then echo writable; fi'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+\ [0-9]+/[0-9]+\ [0-9]+$ ]]
    [[ "${lines[1]}" == Filename* ]]
    [ "${#lines[@]}" -eq 2 ]
}

@test "a /proc/sys write is kept for the workspace and never reaches the host" {
    v1_cgroup
    start_server
    host=$(cat /proc/sys/kernel/panic)
    want=$((host + 7))
    run in_workspace "echo $want >/proc/sys/kernel/panic; cat /proc/sys/kernel/panic
                      if (echo bogus >/proc/sys/kernel/panic) 2>/dev/null; then echo accepted; fi"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$want" ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(cat /proc/sys/kernel/panic)" = "$host" ]
    [ "$(cat "$MNT/proc/sys/kernel/panic")" = "$want" ]
}

@test "a killed worker is replaced: the same mount serves again, values kept" {
    v1_cgroup
    start_server
    echo 1 >"$MNT/proc/sys/vm/overcommit_memory"
    worker=$(pgrep -P "$SPID")
    [ -n "$worker" ]
    # A read waiting on the stopped worker is served by its successor.
    kill -STOP "$worker"
    start=$(date +%s)
    timeout 10 cat "$MNT/proc/uptime" >"$TMP/uptime" &
    reader=$!
    sleep 0.3
    kill -9 "$worker"
    wait "$reader"
    [ $(($(date +%s) - start)) -lt 5 ]
    grep -Eq '^[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' "$TMP/uptime"
    for _ in $(seq 20); do head -1 "$MNT/proc/meminfo" 2>/dev/null | grep -q 524288 && break; sleep 0.1; done
    head -1 "$MNT/proc/meminfo" | grep -q 524288
    [ "$(cat "$MNT/proc/sys/vm/overcommit_memory")" = 1 ]
    [ "$(pgrep -P "$SPID")" != "$worker" ]
    grep -q "killed by signal 9, restarting" "$TMP/log"
}

@test "the server exits and unmounts when the workspace's cgroup empties" {
    v1_cgroup
    start_server
    # Emptiness is sampled every second: the workspace lives longer than that.
    run in_workspace 'cat /proc/uptime >/dev/null; sleep 1.5'
    [ "$status" -eq 0 ]
    for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$SPID" 2>/dev/null
    ! mountpoint -q "$MNT"
}

@test "the server exits with the workspace's init" {
    v1_cgroup
    sleep 1000 &
    init=$!
    start_server --init-pid "$init"
    kill "$init"
    for _ in $(seq 30); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$SPID" 2>/dev/null
    ! mountpoint -q "$MNT"
}

@test "pure cgroup v2: served from the v2 files (no memory controller on v2 here: host memory)" {
    run unshare -m --propagation private sh -ec '
        umount -R /sys/fs/cgroup
        mount -t cgroup2 none /sys/fs/cgroup
        mkdir /sys/fs/cgroup'"$CG"'
        trap "rmdir /sys/fs/cgroup'"$CG"'" EXIT
        "'"$SERVER"'" --mountpoint "'"$MNT"'" --cgroup "'"$CG"'" --owner 0:0 &
        spid=$!
        for i in $(seq 50); do mountpoint -q "'"$MNT"'" && break; sleep 0.1; done
        ctrl=$(cat /sys/fs/cgroup/cgroup.controllers)
        if echo "$ctrl" | grep -qw memory; then echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control
            echo 512M >/sys/fs/cgroup'"$CG"'/memory.max; fi
        head -1 "'"$MNT"'/proc/meminfo"; head -1 /proc/meminfo; echo "$ctrl"
        grep -c "^cpu[0-9]" "'"$MNT"'/proc/stat"
        kill $spid; wait $spid || true'
    echo "$output"
    [ "$status" -eq 0 ]
    if echo "${lines[2]}" | grep -qw memory; then
        [[ "${lines[0]}" == *" 524288 kB" ]]
    else
        [ "${lines[0]}" = "${lines[1]}" ]
    fi
    [ "${lines[3]}" = "$(nproc)" ]
}

@test "sysinfo(2) in a container is answered by the server through seccomp user notification" {
    [ -x "$RUNTIME" ] || skip "no $RUNTIME"
    v1_cgroup
    start_server --notify-socket "$TMP/notify.sock"
    # The runtime connects to listenerPath as host root and the init uses
    # that connection: the socket stays below a 0700 directory.
    chmod 700 "$TMP"
    chmod 600 "$TMP/notify.sock"
    ID=sbt-procfs-$$
    mkdir -m 700 "$TMP/priv"
    make_bundle "$TMP/priv/bundle" --rootfs tiny -- /bin/probe
    # A static probe printing sysinfo(2)'s figures (busybox free mixes in
    # /proc/meminfo, which only the system mode binds).
    printf '%s\n' '#include <stdio.h>' '#include <sys/sysinfo.h>' \
        'int main (void) { struct sysinfo si; if (sysinfo (&si)) return 1;' \
        'printf ("%lu %lu %ld\n", si.totalram * si.mem_unit >> 20, si.freeram * si.mem_unit >> 20, si.uptime);' \
        'return 0; }' >"$TMP/probe.c"
    cc -static -o "$TMP/priv/bundle/rootfs/bin/probe" "$TMP/probe.c"
    spec_edit "$TMP/priv/bundle" 'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "'"$TMP/notify.sock"'",
        "syscalls": [{"names": ["sysinfo"], "action": "SCMP_ACT_NOTIFY"}]}'
    run timeout 20 "$RUNTIME" --root "$ROOT" run -b "$TMP/priv/bundle" "$ID" </dev/null
    echo "$output"
    [ "$status" -eq 0 ]
    read -r total free up <<<"$output"
    [ "$total" = 512 ]
    [ "$free" -le 512 ]
    [ "$up" -lt 30 ]
}
