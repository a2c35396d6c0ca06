# The escape battery's host side, shared by battery.bats (and its
# battery-MODE.bats links) and battery-nested.bats: the host's state
# before and after, the settings tests/security/escape takes from its
# command line.  Expects SUDOBOX, BUILD, WSROOT, ISOLATION, HOSTPORT and the
# sentinels of setup_file, and sb() for the manager.

# The host's view of itself; compared before and after every test.
host_state() {
    local f
    for f in kernel/core_pattern kernel/modprobe vm/swappiness kernel/threads-max kernel/ctrl-alt-del \
        kernel/hostname kernel/sysrq kernel/keys/maxkeys; do
        [ -r "/proc/sys/$f" ] && echo "$f=$(cat "/proc/sys/$f")"
    done
    hostname
    [ -r /sys/kernel/mm/transparent_hugepage/defrag ] && cat /sys/kernel/mm/transparent_hugepage/defrag
    # Wall clock minus boot clock: moves only if someone sets the clock.
    python3 -c 'import time; print("clock", round(time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)))'
    (cd "$WSROOT/canary" && find . -printf '%p %m %u %g %s %T@ %y %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
    sha256sum "$SUDOBOX" "$BUILD/src/runc/sudobox-runc" "$BUILD/src/init/sudobox-init"
    # Mounts of the host's namespace, cgroup roots' release agents and
    # limits, root's keys.
    # (Other people's containers under /tmp, /run and /var come and go on a
    # shared machine: those are left out, ours are not.  So is the /proc
    # server's FUSE mount of a system workspace while that workspace exists:
    # sudobox's own, in its state; one left after `rm` still shows.)
    local live="" d
    for d in "$WSROOT"/state/run/*/; do [ -e "$d/state.json" ] && live+="${d%/}/procfs "; done
    awk -v own="$WSROOT" -v live=" $live" '($5 !~ "^/(tmp|run|var)/" || index($5, own) == 1) &&
        !index(live, " " $5 " ") {print $4, $5, $6, $9, $10}' /proc/1/mountinfo | sort
    for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
        [ -r "$f" ] && echo "$f=$(cat "$f")"
    done
    python3 -c 'import ctypes,sys
libc = ctypes.CDLL(None, use_errno=True); buf = ctypes.create_string_buffer(256)
n = libc.syscall(250, 6, int(sys.argv[1]), buf, 256)  # KEYCTL_DESCRIBE
print("host key", n, buf.value.decode())' "${SENTINEL_HOSTKEY:-0}"
    for p in ${SENTINELS:-}; do echo "sentinel $p $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo gone)"; done
    ls /tmp | grep -E '^battery-' || true
}

# Adds the sentinel key to root's user keyring; prints its id.  The
# description is the run's own: add_key of an existing description updates
# that key, and two battery files running at once would share (and revoke)
# one key.
add_host_key() {
    SENTINEL_KEYDESC=battery-host-secret-${WSROOT##*.}
    python3 -c 'import ctypes,sys
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(248, b"user", sys.argv[1].encode(), b"x", 1, -4))' "$SENTINEL_KEYDESC"
}

check_host() {
    host_state >"$WSROOT/host.after"
    diff -u "$WSROOT/host.before" "$WSROOT/host.after"
}

# Host namespace inodes, the settings escape takes from its command line.
battery_args() {
    local ns="" k
    for k in mnt pid net user uts ipc cgroup time; do ns+="$(stat -L -c %i "/proc/self/ns/$k"),"; done
    echo "canary=$WSROOT/canary/secret" "state=$WSROOT/state" "hostns=${ns%,}" "hostpid=$SENTINEL_ROOT" \
        "port=$HOSTPORT" "hostifs=$(ls /sys/class/net | tr '\n' ',' | sed 's/,$//')" "key=${SENTINEL_KEYDESC:-battery-host-secret}" \
        "other=$WSROOT/state/volumes/other-projects" "otherpid=$(init_pid other)" \
        "delegated=$([ "$ISOLATION" = system ] && echo 1 || echo 0)" \
        "guest=$([ "$ISOLATION" = microvm ] && echo 1 || echo 0)"
}

# The host pid of WS's init (0 in a mode without one on the host: microvm).
init_pid() {
    python3 -c 'import json,os,sys
p = sys.argv[1]
print(json.load(open(p))["pid"] if os.path.exists(p) else 0)' "$WSROOT/state/run/$1/state.json"
}
