#!/usr/bin/env bats
# sudobox-runc in microvm isolation: the OCI lifecycle (run, create, start,
# state, exec, kill, delete) acting on a process in a guest kernel under
# QEMU, booted from a Debian bundle's rootfs as an unprivileged host uid.

bats_require_minimum_version 1.5.0

load ../lib/helpers

# A sanitizer build makes no static agent: take SUDOBOX_AGENT, else the
# normal build's (it runs in the guest, whichever build runs the runtime).
: "${SUDOBOX_AGENT:=$BUILD/src/agent/sudobox-agent}"
[ -x "$SUDOBOX_AGENT" ] || SUDOBOX_AGENT=$SB_TOP/build/src/agent/sudobox-agent
export SUDOBOX_AGENT
AGENT=$SUDOBOX_AGENT

setup() {
    [ -x "$AGENT" ] && command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null &&
        ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 ||
        skip "needs the build's sudobox-agent, qemu-system-x86, qemu-utils and a kernel in /boot"
    sb_setup
}

# QEMU's cwd is the VM's run directory below $TMP: no such process may
# outlive the test.
vm_procs() {
    local p
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/cwd" 2>/dev/null)" in "$TMP"/*) echo "${p#/proc/} $(cat "$p/comm")" ;; esac
    done
    return 0
}

teardown() {
    local left
    [ -n "${TMP:-}" ] || return 0
    for id in "${SB_IDS[@]}"; do rt delete --force "$id" >/dev/null 2>&1 || true; done
    left=$(vm_procs)
    [ -z "$left" ] || kill -9 $(echo "$left" | cut -d' ' -f1) 2>/dev/null || true
    sb_teardown
    [ -z "$left" ] || { echo "leftover VM processes: $left" >&2; return 1; }
}

# The bundle with process.args, the annotation instead of --isolation.
vm_bundle() {
    make_bundle "$BUNDLE" --nnp-false --rw -- "$@"
    spec_edit "$BUNDLE" 'c.setdefault("annotations", {})["run.sudobox.isolation"] = "microvm"'
}

uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status"; }

@test "microvm run: guest kernel, sudo as dev, limits, the exit code, nothing left" {
    new_ids 1
    make_bundle "$BUNDLE" --nnp-false --rw -- sh -c 'uname -r; su dev -c "sudo -n id -u";
        cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/pids.max; nproc; grep MemTotal /proc/meminfo; exit 3'
    spec_edit "$BUNDLE" 'c["linux"].setdefault("resources", {})["pids"] = {"limit": 64}' \
        'c["linux"]["resources"]["memory"] = {"limit": 512 << 20}' \
        'c["linux"]["resources"]["cpu"] = {"quota": 150000, "period": 100000}'
    run -3 --separate-stderr "$RUNTIME" --root "$ROOT" --isolation microvm run -b "$BUNDLE" "$ID"
    echo "$output"
    kernel=$(echo "$output" | sed -n 1p)
    [ "$kernel" != "$(uname -r)" ]
    [ -d "/lib/modules/$kernel" ]
    [ "$(echo "$output" | sed -n 2p)" = 0 ]
    # linux.resources.pids.limit holds in the guest's cgroup; the memory
    # limit and the cpu quota (1.5, rounded up) size the VM.
    [ "$(echo "$output" | sed -n 3p)" = 64 ]
    [ "$(echo "$output" | sed -n 4p)" = 2 ]
    mem_kb=$(echo "$output" | sed -n 5p | awk '{print $2}')
    [ "$mem_kb" -gt $((400 << 10)) ] && [ "$mem_kb" -le $((512 << 10)) ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
    [ -z "$(vm_procs)" ]
    [ -z "$(ls "$ROOT/idranges")" ]
}

@test "microvm create/start/state/exec/kill/delete act on the process in the guest" {
    new_ids 1
    vm_bundle sleep 1000
    rt_detached create -b "$BUNDLE" "$ID"
    [ "$(state_field "$ID" status)" = created ]
    qemu=$(state_field "$ID" pid)
    [ "$(cat "/proc/$qemu/comm")" = qemu-system-x86 ]
    # QEMU and every helper of the VM run as an unprivileged uid.
    for p in $(vm_procs | cut -d' ' -f1) $(cat "$ROOT/$ID/shim.pid"); do
        [ "$(uid_of "$p")" -ge 1000000 ]
    done
    run rt exec "$ID" sh -c 'pgrep -x sleep || echo none'
    [ "$output" = none ]
    rt start "$ID"
    [ "$(state_field "$ID" status)" = running ]
    run rt exec "$ID" sh -c 'pgrep -x sleep >/dev/null && echo running; exit 5'
    [ "$status" -eq 5 ]
    [ "$output" = running ]
    run rt exec --user 1000:1000 --cwd /tmp "$ID" sh -c 'echo $(id -u) $(pwd)'
    [ "$output" = "1000 /tmp" ]
    # A signal the shim cannot pass into the guest is refused, not lost.
    run rt kill "$ID" USR1
    [ "$status" -ne 0 ]
    [[ "$output" == *"cannot be passed into a microvm"* ]]
    [ "$(state_field "$ID" status)" = running ]
    rt kill "$ID" TERM
    wait_for status_is "$ID" stopped || { sleep 10; status_is "$ID" stopped; }
    ! pid_alive "$qemu"
    rt delete "$ID"
    run rt state "$ID"
    [ "$status" -ne 0 ]
    [ ! -e "$ROOT/$ID" ]
}

@test "microvm kill KILL ends the VM; delete refuses a running one without --force" {
    new_ids 2
    vm_bundle sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt_detached run -d -b "$BUNDLE" "$ID2"
    [ "$(state_field "$ID" status)" = running ]
    qemu=$(state_field "$ID" pid)
    qemu2=$(state_field "$ID2" pid)
    # Two containers, two ranges: different uids.
    [ "$(uid_of "$qemu")" != "$(uid_of "$qemu2")" ]
    rt kill "$ID" KILL
    [ "$(state_field "$ID" status)" = stopped ]
    rt delete "$ID"
    run rt delete "$ID2"
    [ "$status" -ne 0 ]
    [[ "$output" == *--force* ]]
    rt delete --force "$ID2"
    ! pid_alive "$qemu2"
    [ -z "$(vm_procs)" ]
    [ -z "$(ls "$ROOT/idranges")" ]
}

@test "microvm create --console-socket: the process has a tty of the receiver's size" {
    new_ids 1
    vm_bundle sh -c 'tty; stty size; read line; echo "got:$line"'
    spec_edit "$BUNDLE" 'c["process"]["terminal"] = True'
    "$CONSOLE_RECV" "$TMP/c.sock" --out "$TMP/c.tty" --size 33x101 --input 'hello\n' --timeout 120 3>&- &
    recv=$!
    wait_for test -S "$TMP/c.sock"
    rt_detached create --console-socket "$TMP/c.sock" -b "$BUNDLE" "$ID"
    rt start "$ID"
    wait "$recv"
    cat "$TMP/c.tty"
    grep -q '^/dev/pts/' "$TMP/c.tty"
    grep -q '^33 101' "$TMP/c.tty"
    grep -q 'got:hello' "$TMP/c.tty"
    wait_for status_is "$ID" stopped || { sleep 10; status_is "$ID" stopped; }
    rt delete "$ID"
}

@test "microvm create: limits a VM cannot have are refused by name before anything is made" {
    new_ids 1
    vm_bundle true
    spec_edit "$BUNDLE" 'c["linux"].setdefault("resources", {})["memory"] = {"limit": 64 << 20}'
    run rt create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$output" == *"linux.resources.memory.limit"*"256 MiB"* ]]
    [ -z "$(vm_procs)" ]
    [ -z "$(ls "$ROOT/idranges" 2>/dev/null)" ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "microvm run: root.readonly holds in the guest, /etc/hostname was written first" {
    new_ids 1
    make_bundle "$BUNDLE" --nnp-false -- sh -c 'touch /probe 2>&1; echo touch=$?; cat /etc/hostname'
    run --separate-stderr "$RUNTIME" --root "$ROOT" --isolation microvm run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Read-only file system"* ]]
    [[ "$output" == *touch=1* ]]
    [ "$(echo "$output" | tail -1)" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hostname"])' "$BUNDLE/config.json")" ]
    [ -z "$(vm_procs)" ]
}

@test "microvm: the spec's bind mounts are copied into the guest (files, directories, links, owners, modes, ro)" {
    new_ids 1
    mkdir -p "$TMP/vol/sub"
    echo secret-a >"$TMP/vol/a.txt"
    chown 1000:1000 "$TMP/vol/a.txt"
    chmod 640 "$TMP/vol/a.txt"
    head -c 200000 /dev/urandom >"$TMP/vol/sub/b"
    ln -s a.txt "$TMP/vol/link"
    echo "10.1.2.3 svc" >"$TMP/hosts-file"
    make_bundle "$BUNDLE" --nnp-false --rw -- sh -c 'cat /mnt/vol/a.txt; stat -c "%a %u:%g" /mnt/vol/a.txt
        readlink /mnt/vol/link; md5sum < /mnt/vol/sub/b; cat /etc/hosts-extra
        touch /mnt/vol/new 2>&1; echo extra >> /etc/hosts-extra && echo rw-ok'
    spec_edit "$BUNDLE" "c['mounts'] += [{'destination': '/mnt/vol', 'type': 'bind', 'source': '$TMP/vol', 'options': ['rbind', 'ro']},
        {'destination': '/etc/hosts-extra', 'type': 'bind', 'source': '$TMP/hosts-file', 'options': ['bind']}]"
    run --separate-stderr "$RUNTIME" --root "$ROOT" --isolation microvm run -b "$BUNDLE" "$ID"
    echo "$output"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = secret-a ]
    [ "${lines[1]}" = "640 1000:1000" ]
    [ "${lines[2]}" = a.txt ]
    [ "${lines[3]}" = "$(md5sum <"$TMP/vol/sub/b")" ]
    [ "${lines[4]}" = "10.1.2.3 svc" ]
    # "ro" holds in the guest; the other mount stays writable.
    [[ "${lines[5]}" == *"Read-only file system"* ]]
    [ "${lines[6]}" = rw-ok ]
    # What cannot be copied is refused by name, and nothing is left.
    mkfifo "$TMP/vol/fifo"
    run --separate-stderr "$RUNTIME" --root "$ROOT" --isolation microvm run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"/mnt/vol"*"fifo"*"cannot be copied into a microvm"* ]]
    [ -z "$(vm_procs)" ]
    [ -z "$(ls "$ROOT/idranges" 2>/dev/null)" ]
}
