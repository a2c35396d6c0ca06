#!/usr/bin/env bats
# Debian's containerd (1.6) drives sudobox-runc through its runc v2 shim:
# `ctr run --runc-binary sudobox-runc` of an image imported with `ctr image
# import`, then `ctr task exec`, `kill` and `delete`; and the CRI plugin
# loads a runtime handler "sudobox" (runtime_type io.containerd.runc.v2,
# options BinaryName), the entry a Kubernetes RuntimeClass names.
#
# The containerd is the test's own: root, state, sockets and config below
# $CT, its containers in the containerd namespace (and cgroup) $CT_NS, the
# runtime's state in $CT/runc (--runc-root).

load ../lib/helpers
load ../lib/clients

IMG=localhost/sudobox-test:latest

setup_file() {
    # bats 1.8 cannot skip from setup_file: setup() does it.
    command -v containerd >/dev/null && command -v ctr >/dev/null || return 0
    [ -x "$RUNTIME" ] || return 0
    CT=$(sbc_dir sbcontainerd) || return 1
    export CT CT_NS="sbtest-ctd-${CT##*.}"
    sbc_host_paths_note "$CT" "${SBC_CONTAINERD_PATHS[@]}"
    sbc_containerd_config "$CT"
    sbc_containerd_start "$CT" || return 1
    python3 "$SB_TOP/tests/lib/oci-archive.py" "$(sb_rootfs_tar)" "$IMG" "$CT/image.tar" || return 1
}

teardown_file() {
    [ -n "${CT:-}" ] && [ -d "$CT" ] || return 0
    local bad id
    for id in $(c task ls -q 2>/dev/null); do c task kill -s SIGKILL "$id" >/dev/null 2>&1; done
    for id in $(c task ls -q 2>/dev/null); do c task delete -f "$id" >/dev/null 2>&1; done
    for id in $(c container ls -q 2>/dev/null); do c container delete "$id" >/dev/null 2>&1; done
    c image rm "$IMG" >/dev/null 2>&1
    c namespace rm "$CT_NS" >/dev/null 2>&1
    sbc_stop "$(cat "$CT/containerd.pid")"
    bad=$(sbc_leftovers "$CT" "$CT_NS")
    sbc_host_paths_clean "$CT" "${SBC_CONTAINERD_PATHS[@]}"
    sbc_remove_dir "$CT"
    if [ -n "$bad" ]; then
        echo "$bad" >&3
        return 1
    fi
}

setup() {
    command -v containerd >/dev/null || skip "containerd is not installed"
    command -v ctr >/dev/null || skip "ctr is not installed"
    [ -x "$RUNTIME" ] || skip "runtime $RUNTIME is not built"
    [ -n "${CT:-}" ] || skip "setup_file failed"
    NAME=sbt-$BATS_TEST_NUMBER
    # Every test but the import one needs the image.
    c image ls -q | grep -qxF "$IMG" || c image import "$CT/image.tar" >/dev/null
}

teardown() {
    c task kill -s SIGKILL "$NAME" >/dev/null 2>&1 || true
    c task delete -f "$NAME" >/dev/null 2>&1 || true
    c container delete "$NAME" >/dev/null 2>&1 || true
}

# (Bounded: a hung client call must not hang the suite.)
c() { timeout 60 ctr -a "$CT/containerd.sock" -n "$CT_NS" "$@"; }

# ctr run with sudobox-runc as the shim's runc, the runtime's state and the
# task's fifos below $CT.
c_run() {
    c run --runc-binary "$RUNTIME" --runc-root "$CT/runc" --fifo-dir "$CT/fifo" "$@"
}

c_pid() { c task ls | awk -v n="$1" '$1 == n {print $2}'; }
c_status() { c task ls | awk -v n="$1" '$1 == n {print $3}'; }
c_status_is() { [ "$(c_status "$1")" = "$2" ]; }

@test "ctr image import: an OCI archive of the Debian rootfs becomes an image with its layer unpacked" {
    c image rm "$IMG" >/dev/null 2>&1 || true
    run c image import "$CT/image.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    c image ls -q | grep -qxF "$IMG"
    run c image check
    [[ "$output" == *"$IMG"*complete* ]]
}

@test "ctr run --allow-new-privs: dev's sudo -n id -u prints 0" {
    run timeout 60 ctr -a "$CT/containerd.sock" -n "$CT_NS" run --rm --runc-binary "$RUNTIME" \
        --runc-root "$CT/runc" --fifo-dir "$CT/fifo" --allow-new-privs "$IMG" "$NAME" \
        sh -c 'echo "uid=$(id -u)"; echo "sudo=$(su dev -c "sudo -n id -u")"'
    echo "$output"
    [ "$status" -eq 0 ]
    # (sudo also warns that the hostname does not resolve: ctr writes no /etc/hosts.)
    grep -qx uid=0 <<<"$output"
    grep -qx sudo=0 <<<"$output"
}

@test "ctr run without --allow-new-privs: no_new_privs is set and sudo refuses" {
    run timeout 60 ctr -a "$CT/containerd.sock" -n "$CT_NS" run --rm --runc-binary "$RUNTIME" \
        --runc-root "$CT/runc" --fifo-dir "$CT/fifo" "$IMG" "$NAME" \
        sh -c 'grep NoNewPrivs /proc/self/status; su dev -c "sudo -n id -u"'
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"NoNewPrivs:"*1* ]]
    [[ "$output" == *'"no new privileges" flag is set'* ]]
}

@test "ctr run -d: the task runs as an unprivileged host uid in a 65536-id range" {
    c_run -d --allow-new-privs "$IMG" "$NAME" sleep 1000 </dev/null >/dev/null 3>&-
    wait_for c_status_is "$NAME" RUNNING
    pid=$(c_pid "$NAME")
    read -r inside host size <"/proc/$pid/uid_map"
    [ "$inside" = 0 ] && [ "$size" = 65536 ] && [ "$host" -ge 65536 ]
    [ "$(sbc_host_uid "$pid")" = "$host" ]
    # The runtime holds it under the shim's --runc-root, in our cgroup.
    "$RUNTIME" --root "$CT/runc/$CT_NS" state "$NAME" | grep -q '"status": *"running"'
    grep -q ":/$CT_NS/$NAME\$" "/proc/$pid/cgroup"
}

@test "ctr task exec: sudo in the running task, an exit code, and a terminal with -t" {
    c_run -d --allow-new-privs "$IMG" "$NAME" sleep 1000 </dev/null >/dev/null 3>&-
    wait_for c_status_is "$NAME" RUNNING
    run timeout 60 ctr -a "$CT/containerd.sock" -n "$CT_NS" task exec --fifo-dir "$CT/fifo" --exec-id e1 \
        "$NAME" su dev -c 'sudo -n id -u'
    echo "$output"
    [ "$status" -eq 0 ]
    grep -qx 0 <<<"$output"
    run timeout 60 ctr -a "$CT/containerd.sock" -n "$CT_NS" task exec --fifo-dir "$CT/fifo" --exec-id e2 \
        "$NAME" sh -c 'exit 5'
    [ "$status" -eq 5 ]
    run python3 "$SBC_PTY_RUN" --size 25x90 -- ctr -a "$CT/containerd.sock" -n "$CT_NS" task exec \
        --fifo-dir "$CT/fifo" --exec-id e3 -t "$NAME" sh -c "tty; $SBC_WAIT_SIZE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"25 90"* ]]
}

@test "ctr run -t: the task gets a terminal of ctr's size" {
    run python3 "$SBC_PTY_RUN" --size 33x111 -- ctr -a "$CT/containerd.sock" -n "$CT_NS" run --rm -t \
        --runc-binary "$RUNTIME" --runc-root "$CT/runc" --fifo-dir "$CT/fifo" --allow-new-privs "$IMG" "$NAME" \
        sh -c "tty; $SBC_WAIT_SIZE; su dev -c 'sudo -n id -u'"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *"33 111"* ]]
    tr -d '\r' <<<"$output" | grep -qx 0
}

@test "ctr task kill and delete: a signal by name reaches the init, delete reports its exit and cleans up" {
    c_run -d --allow-new-privs "$IMG" "$NAME" sh -c 'trap "exit 4" TERM; while :; do sleep 0.1; done' \
        </dev/null >/dev/null 3>&-
    wait_for c_status_is "$NAME" RUNNING
    pid=$(c_pid "$NAME")
    read -r _ host _ <"/proc/$pid/uid_map"
    c task kill -s SIGTERM "$NAME"
    wait_for c_status_is "$NAME" STOPPED
    run c task delete "$NAME"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"4"* ]]
    # The runtime's container, id range and cgroup are gone.
    run "$RUNTIME" --root "$CT/runc/$CT_NS" list -q
    [[ "$output" != *"$NAME"* ]]
    [ ! -e "$CT/runc/$CT_NS/idranges/$host" ]
    [ -z "$(sbc_cgroups "$CT_NS/$NAME")" ]
    c container delete "$NAME"
    # SIGKILL (by number) on a second task.
    c_run -d --allow-new-privs "$IMG" "$NAME" sleep 1000 </dev/null >/dev/null 3>&-
    wait_for c_status_is "$NAME" RUNNING
    c task kill -s 9 "$NAME"
    wait_for c_status_is "$NAME" STOPPED
    run c task delete "$NAME"
    [[ "$output" == *"137"* ]]
}

@test "ctr task pause and resume: the task is frozen and thawed" {
    c_run -d --allow-new-privs "$IMG" "$NAME" sh -c 'while :; do date +%s%N >/tmp/tick; sleep 0.05; done' \
        </dev/null >/dev/null 3>&-
    wait_for c_status_is "$NAME" RUNNING
    pid=$(c_pid "$NAME")
    wait_for test -s "/proc/$pid/root/tmp/tick"
    c task pause "$NAME"
    wait_for c_status_is "$NAME" PAUSED
    # The loop writes a tick every 50 ms: none while frozen.
    t1=$(cat "/proc/$pid/root/tmp/tick")
    sleep 0.5
    [ "$(cat "/proc/$pid/root/tmp/tick")" = "$t1" ]
    c task resume "$NAME"
    wait_for c_status_is "$NAME" RUNNING
    sleep 0.3
    [ "$(cat "/proc/$pid/root/tmp/tick")" != "$t1" ]
}

@test "containerd's CRI plugin loads the sudobox runtime handler" {
    run c plugins ls
    echo "$output" | grep -E 'cri|runtime'
    grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$' <<<"$output"
    # The config containerd logged has the handler with its binary.
    grep -q "sudobox:{Type:io.containerd.runc.v2 .*Options:map\[BinaryName:$RUNTIME\]" "$CT/containerd.log"
    # No error but the CNI one: the test gives pods no network.
    [ -z "$(grep -E 'level=(error|fatal)' "$CT/containerd.log" | grep -v 'failed to load cni during init')" ]
}
