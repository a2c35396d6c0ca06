#!/usr/bin/env bats
# The escape battery one level down (issue 6, acceptance 4): in a system
# workspace, root inside (the workspace user `dev` after `sudo -n`) runs a
# nested rootful `podman run` and the battery runs in that container, once
# as an ordinary container and once `--privileged`.  A nested container,
# privileged or not, holds at most what root in the workspace holds: every
# attempt must be blocked and the host unchanged (battery-lib.bash).
#
# Attempts whose outcome legitimately differs one level down say so in their
# TAP line (escape's nested=1 setting).

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
ISOLATION=system
SUDOBOX=$BUILD/src/sudobox/sudobox
: "${ESCAPE_DIR:=$BUILD/tests/security}"
[ -x "$ESCAPE_DIR/escape" ] || ESCAPE_DIR=$SB_TOP/build/tests/security
. "$SB_TOP/tests/lib/rootfs.sh"

sb() { "$SUDOBOX" --root "$WSROOT/state" "$@"; }

. "$BATS_TEST_DIRNAME/battery-lib.bash"

# As in tests/integration/system.bats: Debian's podman cannot raise rlimits
# in a user namespace, there is no journald for events, runc works here.
engines_conf() {
    printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n'
    printf 'events_logger = "file"\nruntime = "runc"\n'
}

# A system workspace with podman, the engines' configuration and the
# busybox image `tiny`; escape in /battery (read-only).
new_ws() {
    local ws=$1
    shift
    sb create "$ws" --image img --isolation system --user dev --volume "$ESCAPE_DIR:/battery:ro" "$@"
    sb start "$ws" </dev/null 3>&-
    engines_conf | sb exec -i "$ws" -- sudo -n sh -c 'mkdir -p /etc/containers && cat > /etc/containers/containers.conf'
    sb exec -i "$ws" -- sudo -n sh -c 'cat > /root/tiny.tar' <"$WSROOT/tiny.tar"
    sb exec "$ws" -- sudo -n podman import -q /root/tiny.tar tiny >/dev/null
}

# nested_battery WS PODMAN-OPTIONS... -- ESCAPE-ARGS...: root inside WS runs
# escape in a nested container; TAP on stdout.
nested_battery() {
    local ws=$1 opts=()
    shift
    while [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    sb exec "$ws" -- sudo -n podman run --rm "${opts[@]}" -v /battery:/battery:ro tiny \
        /battery/escape $(battery_args) nested=1 "$@"
}

# The host directories of WS's own cgroup, one per hierarchy: the root of
# its cgroup namespace, which the workspace's cgroup mounts show from the
# host's cgroup namespace as their root (whatever cgroup systemd moved the
# init to below it).
ws_cgroups() {
    local pid
    pid=$(init_pid "$1")
    [ "$pid" != 0 ] || return 0
    awk '$5 ~ "^/sys/fs/cgroup/" && $4 != "/" { for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^cgroup2?$/)
        print $5 $4 }' "/proc/$pid/mountinfo" 2>/dev/null | sort -u
    return 0
}

# The limits sudobox set on WS's own cgroup (what bounds everything below).
ws_limits() {
    local d f
    for d in $(ws_cgroups "$1"); do
        for f in pids.max memory.limit_in_bytes memory.max cpu.cfs_quota_us cpu.max cpuset.cpus; do
            [ -r "$d/$f" ] && echo "$d/$f=$(cat "$d/$f")"
        done
    done
    return 0
}

setup_file() {
    [ -x "$SUDOBOX" ] && [ -x "$ESCAPE_DIR/escape" ] && [ -x /bin/busybox ] || return 0
    export WSROOT HOSTPORT SENTINEL_ROOT SENTINEL_HOSTKEY SENTINEL_KEYDESC SENTINELS
    WSROOT=$(mktemp -d /tmp/sbsec.XXXXXX)
    chmod 700 "$WSROOT"
    mkdir -p "$WSROOT/canary/dir"
    echo battery-canary >"$WSROOT/canary/secret"
    echo battery-canary >"$WSROOT/canary/dir/file"
    sb image import img "$(sb_rootfs_tar system)" >"$WSROOT/import.log" 2>&1
    # The nested engine's image: busybox as sh, echo, cat, true.
    mkdir -p "$WSROOT/tiny/bin"
    cp /bin/busybox "$WSROOT/tiny/bin/"
    for a in sh echo cat true; do ln -s busybox "$WSROOT/tiny/bin/$a"; done
    tar -C "$WSROOT/tiny" -cf "$WSROOT/tiny.tar" .
    rm -rf "$WSROOT/tiny"
    # A service on the host's loopback only, never published.
    HOSTPORT=$((20000 + RANDOM % 10000))
    python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"battery-host-secret\n"); c.close()' "$HOSTPORT" >/dev/null 2>&1 3>&- &
    echo $! >"$WSROOT/service.pid"
    # A key in root's user keyring no workspace may find.
    add_host_key >"$WSROOT/hostkey"
    SENTINEL_HOSTKEY=$(cat "$WSROOT/hostkey")
    # Another workspace, the victim of the cross-workspace attempts.
    sb create other --image img --isolation system --user dev >>"$WSROOT/import.log" 2>&1
    sb start other </dev/null >>"$WSROOT/import.log" 2>&1 3>&-
    sb exec other -- sh -c 'echo other-secret > /projects/secret'
    sleep 1000 >/dev/null 2>&1 3>&- &
    SENTINEL_ROOT=$!
    SENTINELS=$SENTINEL_ROOT
    host_state >"$WSROOT/host.before"
}

teardown_file() {
    [ -n "${WSROOT:-}" ] || return 0
    for ws in $(sb ls -q 2>/dev/null); do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
    sb image rm img >/dev/null 2>&1 || true
    for p in ${SENTINELS:-} $(cat "$WSROOT/service.pid" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    [ -n "${SENTINEL_HOSTKEY:-}" ] && python3 -c 'import ctypes,sys
ctypes.CDLL(None).syscall(250, 3, int(sys.argv[1]))' "$SENTINEL_HOSTKEY"
    rm -rf "$WSROOT"
}

setup() {
    [ -x "$SUDOBOX" ] || skip "sudobox is not built"
    [ -x "$ESCAPE_DIR/escape" ] || skip "tests/security/escape is not built (neither in $BUILD nor in build/)"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (the nested container's image)"
}

teardown() {
    for ws in ${WS_NAMES:-}; do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
}

# Fails unless the TAP output names no succeeded attempt.
all_blocked() {
    echo "$output"
    [[ "$output" == *"1.."* ]]
    ! grep -q '^not ok' <<<"$output"
    [[ "$output" == *", 0 succeeded"* ]]
}

# remove_and_check WS: removes WS, then nothing of it may be left on the
# host: its init, mounts, cgroups, state.
remove_and_check() {
    local ws=$1 pid cgs
    pid=$(init_pid "$ws")
    cgs=$(ws_cgroups "$ws")
    sb rm --force --volumes "$ws"
    [ "$pid" = 0 ] || ! kill -0 "$pid" 2>/dev/null
    [ -n "$cgs" ]
    for d in $cgs; do [ ! -d "$d" ] || { echo "leftover cgroup $d"; false; }; done
    ! grep -F "$WSROOT/state" /proc/self/mountinfo | grep -F "/$ws"
    [ ! -e "$WSROOT/state/run/$ws" ]
}

@test "battery (nested): every attempt from a nested podman container is blocked and the host is unchanged" {
    WS_NAMES=attacker
    new_ws attacker --pids 500 --memory 1G
    before=$(ws_limits attacker)
    echo "$before"
    [ -n "$before" ]
    run nested_battery attacker -- all
    all_blocked
    [ "$status" -eq 0 ]
    [ "$(ws_limits attacker)" = "$before" ]
    [ "$(sb exec other -- cat /projects/secret)" = other-secret ]
    [ ! -e "$WSROOT/state/volumes/other-projects/battery-other" ]
    remove_and_check attacker
    check_host
}

@test "battery (nested): every attempt from a nested --privileged podman container is blocked and the host is unchanged" {
    WS_NAMES=privileged
    new_ws privileged --pids 500 --memory 1G
    before=$(ws_limits privileged)
    echo "$before"
    [ -n "$before" ]
    # A privileged container mounts a read-write sysfs: the kernel allows
    # it because the workspace's sysfs superblock is writable (its /sys is
    # read-only by mount flag, locked; docs/system-isolation.md).
    run nested_battery privileged --privileged -- all
    all_blocked
    [ "$status" -eq 0 ]
    [ "$(ws_limits privileged)" = "$before" ]
    [ "$(sb exec other -- cat /projects/secret)" = other-secret ]
    [ ! -e "$WSROOT/state/volumes/other-projects/battery-other" ]
    remove_and_check privileged
    check_host
}
