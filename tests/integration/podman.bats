#!/usr/bin/env bats
# Debian's podman (4.3, rootful) drives sudobox-runc: `podman --runtime
# sudobox-runc run` of an image without a user namespace gives root inside
# (setuid sudo works) while every process runs as an unprivileged host uid.
#
# podman runs on private dirs below $PM (storage root, runroot, tmpdir, the
# runtime's own --root, network configs, file locks, events log) with a
# containers.conf of its own: default_ulimits = [] because this machine
# cannot raise rlimits (no CAP_SYS_RESOURCE), the cgroupfs manager, and every
# container below the cgroup parent $PM_CG.

load ../lib/helpers
load ../lib/clients

# The range given to podman's `containers` user for --userns=auto when it
# has none: clear of sudobox-runc's default pool (from 1000000) and of the
# manager's (from 2000000000).
PM_AUTO_FIRST=1500000000
PM_AUTO_COUNT=1048576
# containers/image keeps root's blob-info cache there whatever --root says.
PM_HOST_PATHS=(/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache /var/lib/containers)

setup_file() {
    # bats 1.8 cannot skip from setup_file: setup() does it.
    command -v podman >/dev/null || return 0
    [ -x "$RUNTIME" ] || return 0
    PM=$(sbc_dir sbpodman) || return 1
    export PM PM_CG="/sbtest-podman-${PM##*.}"
    sbc_host_paths_note "$PM" "${PM_HOST_PATHS[@]}"
    ip -o link | awk -F': ' '{print $2}' | sort >"$PM/links.before"
    mkdir -p "$PM/net" "$PM/tmp"
    cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
lock_type = "file"
image_copy_tmp_dir = "$PM/tmp"
[network]
network_config_dir = "$PM/net"
EOF
    pm import --change 'CMD ["/bin/bash"]' "$(sb_rootfs_tar)" localhost/sudobox-test:latest >/dev/null || return 1
    sbc_subid_add containers "$PM_AUTO_FIRST" "$PM_AUTO_COUNT" || return 1
    echo "$SBC_SUBID_ADDED" >"$PM/subid.added"
}

teardown_file() {
    [ -n "${PM:-}" ] && [ -d "$PM" ] || return 0
    local bad added
    added=$(cat "$PM/subid.added" 2>/dev/null)
    pm rm --all --force --time 0 >/dev/null 2>&1
    pm rmi --all --force >/dev/null 2>&1
    sbc_subid_remove "$added"
    bad=$(sbc_leftovers "$PM" "$PM_CG")
    ip -o link | awk -F': ' '{print $2}' | sort >"$PM/links.after"
    if ! cmp -s "$PM/links.before" "$PM/links.after"; then
        bad+=$'\n'"network interfaces changed: $(diff "$PM/links.before" "$PM/links.after" | grep '^[<>]')"
    fi
    sbc_host_paths_clean "$PM" "${PM_HOST_PATHS[@]}"
    # (podman keeps its storage's overlay dir bind-mounted on itself.)
    sbc_remove_dir "$PM"
    if [ -n "$added" ] && grep -qsxF "$added" /etc/subuid /etc/subgid; then
        bad+=$'\n'"the containers entry is still in /etc/subuid or /etc/subgid"
    fi
    if [ -n "$bad" ]; then
        echo "$bad" >&3
        return 1
    fi
}

setup() {
    command -v podman >/dev/null || skip "podman is not installed"
    [ -x "$RUNTIME" ] || skip "runtime $RUNTIME is not built"
    [ -n "${PM:-}" ] || skip "setup_file failed"
    NAME=sbt-$BATS_TEST_NUMBER
}

teardown() {
    pm rm --force --time 0 "$NAME" >/dev/null 2>&1 || true
}

IMG=localhost/sudobox-test:latest

# Sets PM_ARGV to the podman command line on this file's private dirs.
pm_argv() {
    PM_ARGV=(env "CONTAINERS_CONF=$PM/containers.conf" podman --root "$PM/root" --runroot "$PM/runroot"
        --tmpdir "$PM/tmp" --cgroup-manager=cgroupfs --runtime "$RUNTIME" --runtime-flag "root=$PM/rt")
}

pm() {
    pm_argv
    "${PM_ARGV[@]}" "$@"
}

# podman run with this file's cgroup parent and no network (podman's bridge
# would leave an interface and firewall rules behind).
pm_run() {
    local opts=(--cgroup-parent "$PM_CG")
    case " $* " in *" --network "*) ;; *) opts+=(--network none) ;; esac
    pm run "${opts[@]}" "$@"
}

# Starts the test's container detached and waits until podman says running.
pm_start() {
    pm_run -d --name "$NAME" "$@" >/dev/null 3>&- &&
        wait_for pm_running
}
pm_running() { [ "$(pm inspect -f '{{.State.Running}}' "$NAME")" = true ]; }
pm_pid() { pm inspect -f '{{.State.Pid}}' "$NAME"; }
pm_id() { pm inspect -f '{{.Id}}' "$NAME"; }
pm_exited() { ! pm_running; }
pm_logs_have() { pm logs "$NAME" 2>&1 | grep -q "$1"; }

@test "podman run --rm: dev's sudo -n id -u prints 0" {
    run pm_run --rm "$IMG" sh -c 'su dev -c "sudo -n id -u"'
    echo "$output"
    [ "$status" -eq 0 ]
    grep -qx 0 <<<"$output"
}

@test "podman: the container's processes run as an unprivileged host uid" {
    pm_start "$IMG" sleep 1000
    pid=$(pm_pid)
    read -r inside host size <"/proc/$pid/uid_map"
    [ "$inside" = 0 ] && [ "$size" = 65536 ] && [ "$host" -ge 65536 ]
    [ "$(sbc_host_uid "$pid")" = "$host" ]
    # A process of dev's is host uid host+1000, what dev runs with sudo host's.
    pm exec -d --user 1000 "$NAME" sleep 998 >/dev/null
    pm exec -d --user 1000 "$NAME" sudo -n sleep 997 >/dev/null
    wait_for pgrep -u $((host + 1000)) -f "^sleep 998"
    wait_for pgrep -u "$host" -f "^sleep 997"
    # The runtime holds the container under podman's runtime root.
    [ "$("$RUNTIME" --root "$PM/rt" state "$(pm_id)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = running ]
}

@test "podman run -it: a terminal of the size podman's terminal has" {
    pm_argv
    run python3 "$SBC_PTY_RUN" --size 30x100 --wait-for 'ready' --input $'hello\r' -- "${PM_ARGV[@]}" \
        run -it --rm --network none --cgroup-parent "$PM_CG" "$IMG" \
        sh -c "tty; $SBC_WAIT_SIZE; echo ready; read l; echo got:\$l; su dev -c 'sudo -n id -u'"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *"30 100"* ]]
    [[ "$output" == *"got:hello"* ]]
    tr -d '\r' <<<"$output" | grep -qx 0
}

@test "podman run --userns=auto: podman's mapping from the containers range is used as given" {
    first=$(awk -F: '$1 == "containers" {print $2; exit}' /etc/subuid)
    count=$(awk -F: '$1 == "containers" {print $3; exit}' /etc/subuid)
    run pm_run --rm --userns=auto "$IMG" sh -c 'cat /proc/self/uid_map; su dev -c "sudo -n id -u"'
    echo "$output"
    [ "$status" -eq 0 ]
    read -r inside host size <<<"${lines[0]}"
    [ "$inside" = 0 ]
    [ "$host" -ge "$first" ] && [ $((host + size)) -le $((first + count)) ]
    grep -qx 0 <<<"$output"
}

@test "podman exec: sudo in a running container, and exec -it with a terminal" {
    pm_start "$IMG" sleep 1000
    run pm exec "$NAME" su dev -c 'sudo -n id -u'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = 0 ]
    run pm exec --user 1000 "$NAME" id -u
    [ "$output" = 1000 ]
    pm_argv
    run python3 "$SBC_PTY_RUN" --size 40x120 -- "${PM_ARGV[@]}" exec -it "$NAME" sh -c "tty; $SBC_WAIT_SIZE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"40 120"* ]]
    # An exec's exit code comes back.
    run pm exec "$NAME" sh -c 'exit 7'
    [ "$status" -eq 7 ]
}

@test "podman stop: SIGTERM reaches the container's init and its exit code is kept" {
    pm_start "$IMG" sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
    SECONDS=0
    run pm stop --time 30 "$NAME"
    [ "$status" -eq 0 ]
    # Stopped by the signal, not by the SIGKILL after 30 s.
    [ "$SECONDS" -lt 10 ]
    [ "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$NAME")" = "exited 3" ]
    # And it starts again.
    pm start "$NAME" >/dev/null
    wait_for pm_running
}

@test "podman kill: a signal by name, then SIGKILL" {
    pm_start "$IMG" sh -c 'trap "echo got-usr1" USR1; while :; do sleep 0.1; done'
    pm kill --signal USR1 "$NAME" >/dev/null
    wait_for pm_logs_have got-usr1
    pm_running
    pm kill "$NAME" >/dev/null
    wait_for pm_exited
    [ "$(pm inspect -f '{{.State.ExitCode}}' "$NAME")" = 137 ]
}

@test "podman rm: the runtime's state, id range, cgroup and rootfs mount are gone" {
    pm_start "$IMG" sleep 1000
    id=$(pm_id)
    read -r _ host _ <"/proc/$(pm_pid)/uid_map"
    [ -e "$PM/rt/idranges/$host" ]
    run pm rm --force --time 0 "$NAME"
    [ "$status" -eq 0 ]
    run "$RUNTIME" --root "$PM/rt" list -q
    echo "$output"
    [[ "$output" != *"$id"* ]]
    [ ! -e "$PM/rt/idranges/$host" ]
    [ -z "$(find /sys/fs/cgroup/ -maxdepth 3 -name "libpod-$id" 2>/dev/null)" ]
    [ -z "$(grep "$id" /proc/self/mountinfo)" ]
}

# The cgroup refused a fork (pids.events counts them).
pids_at_limit() { [ "$(sbc_cg_value pids "$1" pids.events | awk '$1 == "max" {print $2}')" -gt 0 ]; }

@test "podman --memory and --pids-limit: the container's cgroup has them" {
    pm_start --memory 64m --pids-limit 77 "$IMG" sleep 1000
    cg=$PM_CG/libpod-$(pm_id)
    pid=$(pm_pid)
    if [ -d /sys/fs/cgroup/memory ]; then
        [ "$(sbc_cg_value memory "$cg" memory.limit_in_bytes)" = 67108864 ]
        grep -qx "[0-9]*:memory:$cg" "/proc/$pid/cgroup"
    else
        [ "$(sbc_cg_value memory "$cg" memory.max)" = 67108864 ]
    fi
    [ "$(sbc_cg_value pids "$cg" pids.max)" = 77 ]
    # The limit holds: of 100 forks some fail, 77 tasks at most.
    pm exec -d "$NAME" sh -c 'for i in $(seq 100); do sleep 30 & done 2>/dev/null; wait' >/dev/null
    wait_for pids_at_limit "$cg"
    [ "$(sbc_cg_value pids "$cg" pids.current)" -le 77 ]
}

@test "podman --network ns:PATH: a network namespace given by path is joined" {
    # Kept alive by a bind mount below $PM (teardown_file detaches it).
    ns=$PM/netns-$BATS_TEST_NUMBER
    touch "$ns"
    unshare --net="$ns" true
    run pm_run --rm --network "ns:$ns" "$IMG" sh -c 'readlink /proc/self/ns/net; su dev -c "sudo -n id -u"'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "net:[$(stat -L -c %i "$ns")]" ]
    umount "$ns"
    # (sudo may also warn that podman's /etc/hosts has no entry for the name.)
    grep -qx 0 <<<"$output"
}
