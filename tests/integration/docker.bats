#!/usr/bin/env bats
# Debian's docker.io (dockerd 20.10) drives sudobox-runc: the test starts
# dockerd with `--add-runtime sudobox=sudobox-runc` on private dirs below
# $DK (data root, exec root, pidfile, socket) over a containerd of its own,
# without iptables or a bridge (containers get --network none), with every
# container below the cgroup parent $DK_CG; then `docker run --runtime
# sudobox` of an image made by `docker import` of the Debian rootfs.

load ../lib/helpers
load ../lib/clients

IMG=sudobox-test:latest
# Debian's client (another one may come first in PATH).
DOCKER=/usr/bin/docker
# dockerd writes its identity key to /etc/docker whatever its data root.
DK_HOST_PATHS=(/etc/docker/key.json /etc/docker /run/docker/plugins /run/docker "${SBC_CONTAINERD_PATHS[@]}")

setup_file() {
    # bats 1.8 cannot skip from setup_file: setup() does it.
    command -v dockerd >/dev/null && [ -x "$DOCKER" ] && command -v containerd >/dev/null || return 0
    [ -x "$RUNTIME" ] || return 0
    DK=$(sbc_dir sbdocker) || return 1
    export DK DK_CG="/sbtest-docker-${DK##*.}"
    sbc_host_paths_note "$DK" "${DK_HOST_PATHS[@]}"
    ip -o link | awk -F': ' '{print $2}' | sort >"$DK/links.before"
    mkdir -p "$DK/ctd"
    sbc_containerd_config "$DK/ctd"
    sbc_containerd_start "$DK/ctd" || return 1
    echo '{}' >"$DK/daemon.json"
    dockerd --config-file "$DK/daemon.json" --add-runtime "sudobox=$RUNTIME" \
        --data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/docker.pid" \
        -H "unix://$DK/docker.sock" --containerd "$DK/ctd/containerd.sock" \
        --iptables=false --ip6tables=false --bridge=none --cgroup-parent "$DK_CG" \
        </dev/null >"$DK/dockerd.log" 2>&1 3>&- &
    echo $! >"$DK/dockerd.pid"
    # setup() skips every test with dockerd's own words when it cannot run.
    if ! dockerd_wait; then
        cp "$DK/dockerd.log" "$DK/dockerd.failed"
        return 0
    fi
    d import --change 'CMD ["/bin/bash"]' "$(sb_rootfs_tar)" "$IMG" >/dev/null || return 1
}

# Up to 60 s for dockerd's API; fails at once when dockerd exits.
dockerd_wait() {
    local i
    for ((i = 0; i < 600; i++)); do
        d version >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$DK/dockerd.pid")" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

teardown_file() {
    [ -n "${DK:-}" ] && [ -d "$DK" ] || return 0
    local bad
    d ps -aq 2>/dev/null | xargs -r "$DOCKER" -H "unix://$DK/docker.sock" rm --force >/dev/null 2>&1
    d rmi --force "$IMG" >/dev/null 2>&1
    sbc_stop "$(cat "$DK/dockerd.pid")"
    sbc_stop "$(cat "$DK/ctd/containerd.pid")"
    bad=$(sbc_leftovers "$DK" "$DK_CG")
    ip -o link | awk -F': ' '{print $2}' | sort >"$DK/links.after"
    if ! cmp -s "$DK/links.before" "$DK/links.after"; then
        bad+=$'\n'"network interfaces changed: $(diff "$DK/links.before" "$DK/links.after" | grep '^[<>]')"
    fi
    sbc_host_paths_clean "$DK" "${DK_HOST_PATHS[@]}"
    sbc_remove_dir "$DK"
    if [ -n "$bad" ]; then
        echo "$bad" >&3
        return 1
    fi
}

setup() {
    command -v dockerd >/dev/null || skip "dockerd (docker.io) is not installed"
    [ -x "$DOCKER" ] || skip "$DOCKER (docker.io) is not installed"
    command -v containerd >/dev/null || skip "containerd is not installed"
    [ -x "$RUNTIME" ] || skip "runtime $RUNTIME is not built"
    [ -n "${DK:-}" ] || skip "setup_file failed"
    [ ! -e "$DK/dockerd.failed" ] ||
        skip "dockerd does not start on this machine: $(grep -m1 -E 'level=(fatal|error)' "$DK/dockerd.failed")"
    NAME=sbt-$BATS_TEST_NUMBER
}

teardown() {
    d rm --force "$NAME" >/dev/null 2>&1 || true
}

d() { "$DOCKER" -H "unix://$DK/docker.sock" "$@"; }

d_run() { d run --runtime sudobox --network none "$@"; }
d_start() { d_run -d --name "$NAME" "$@" </dev/null >/dev/null 3>&- && wait_for d_running; }
d_running() { [ "$(d inspect -f '{{.State.Running}}' "$NAME")" = true ]; }
d_exited() { ! d_running; }
d_pid() { d inspect -f '{{.State.Pid}}' "$NAME"; }
d_id() { d inspect -f '{{.Id}}' "$NAME"; }
d_logs_have() { d logs "$NAME" 2>&1 | grep -q "$1"; }

@test "dockerd knows the sudobox runtime" {
    run d info --format '{{json .Runtimes}}'
    echo "$output"
    [[ "$output" == *"\"sudobox\":{\"path\":\"$RUNTIME\""* ]]
}

@test "docker run --runtime sudobox: dev's sudo -n id -u prints 0" {
    run d_run --rm "$IMG" sh -c 'su dev -c "sudo -n id -u"'
    echo "$output"
    [ "$status" -eq 0 ]
    # (sudo may warn that docker's /etc/hosts has no entry for the name.)
    grep -qx 0 <<<"$output"
}

@test "docker: the container's processes run as an unprivileged host uid" {
    d_start "$IMG" sleep 1000
    pid=$(d_pid)
    read -r inside host size <"/proc/$pid/uid_map"
    [ "$inside" = 0 ] && [ "$size" = 65536 ] && [ "$host" -ge 65536 ]
    [ "$(sbc_host_uid "$pid")" = "$host" ]
    d exec -d --user 1000 "$NAME" sleep 998
    wait_for pgrep -u $((host + 1000)) -f "^sleep 998"
}

@test "docker's network sysctls are set, in the container's user namespace" {
    # docker asks for net.ipv4.ip_unprivileged_port_start=0 and
    # ping_group_range "0 2147483647"; the latter ends at the last mapped gid.
    run d_run --rm "$IMG" sh -c 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start \
        /proc/sys/net/ipv4/ping_group_range; (echo 1 >/proc/sys/net/ipv4/ip_unprivileged_port_start) 2>&1'
    echo "$output"
    [ "${lines[0]}" = 0 ]
    [ "$(tr -s '\t ' ' ' <<<"${lines[1]}")" = "0 65535" ]
    # /proc/sys is read-only after they are written.
    [ "$status" -ne 0 ]
    [[ "${lines[2]}" == *"Read-only file system"* ]]
}

@test "docker run -it: a terminal of the size docker's terminal has" {
    run python3 "$SBC_PTY_RUN" --size 30x100 --wait-for ready --input $'hello\r' -- \
        "$DOCKER" -H "unix://$DK/docker.sock" run -it --rm --runtime sudobox --network none "$IMG" \
        sh -c "tty; $SBC_WAIT_SIZE; echo ready; read l; echo got:\$l; su dev -c 'sudo -n id -u'"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *"30 100"* ]]
    [[ "$output" == *"got:hello"* ]]
    tr -d '\r' <<<"$output" | grep -qx 0
}

@test "docker exec: sudo in a running container, an exit code, and -it" {
    d_start "$IMG" sleep 1000
    run d exec "$NAME" su dev -c 'sudo -n id -u'
    echo "$output"
    [ "$status" -eq 0 ]
    grep -qx 0 <<<"$output"
    run d exec "$NAME" sh -c 'exit 6'
    [ "$status" -eq 6 ]
    run python3 "$SBC_PTY_RUN" --size 40x120 -- "$DOCKER" -H "unix://$DK/docker.sock" exec -it "$NAME" \
        sh -c "tty; $SBC_WAIT_SIZE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"40 120"* ]]
}

@test "docker stop, kill and rm" {
    d_start "$IMG" sh -c 'trap "exit 3" TERM; trap "echo got-usr1" USR1; while :; do sleep 0.1; done'
    d kill --signal USR1 "$NAME" >/dev/null
    wait_for d_logs_have got-usr1
    SECONDS=0
    d stop --time 30 "$NAME" >/dev/null
    [ "$SECONDS" -lt 10 ]
    [ "$(d inspect -f '{{.State.ExitCode}}' "$NAME")" = 3 ]
    d start "$NAME" >/dev/null
    wait_for d_running
    d kill "$NAME" >/dev/null
    wait_for d_exited
    [ "$(d inspect -f '{{.State.ExitCode}}' "$NAME")" = 137 ]
    id=$(d_id)
    d rm "$NAME" >/dev/null
    [ -z "$(grep "$id" /proc/self/mountinfo)" ]
    [ -z "$(find /sys/fs/cgroup/ -maxdepth 3 -name "$id" 2>/dev/null)" ]
}

@test "docker --memory and --pids-limit: the container's cgroup has them" {
    d_start --memory 64m --pids-limit 77 "$IMG" sleep 1000
    cg=$DK_CG/$(d_id)
    if [ -d /sys/fs/cgroup/memory ]; then
        [ "$(sbc_cg_value memory "$cg" memory.limit_in_bytes)" = 67108864 ]
    else
        [ "$(sbc_cg_value memory "$cg" memory.max)" = 67108864 ]
    fi
    [ "$(sbc_cg_value pids "$cg" pids.max)" = 77 ]
    grep -q ":$cg\$" "/proc/$(d_pid)/cgroup"
}
