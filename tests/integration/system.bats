#!/usr/bin/env bats
# The "system" isolation mode: nested podman and buildah, systemd as PID 1,
# a delegated cgroup, mounts that root inside cannot undo, and the
# workspace's own /proc server (its limits in /proc and sysinfo).  Driven
# through the manager (`sudobox create --isolation system`) and through
# sudobox-runc (the run.sudobox.isolation annotation).  The image (Debian
# with systemd, podman, buildah, runc) and a busybox image tarball for the
# nested engines are built once per file; the extracted rootfs for the
# sudobox-runc tests too.

load ../lib/helpers

SUDOBOX=$BUILD/src/sudobox/sudobox

setup_file() {
    [ -x "$SUDOBOX" ] && [ -x /bin/busybox ] || return 0
    export SYSDIR
    SYSDIR=$(mktemp -d /tmp/sbsys.XXXXXX)
    chmod 700 "$SYSDIR"
    local tar
    tar=$(sb_rootfs_tar system) || return 1
    "$SUDOBOX" --root "$SYSDIR/state" image import sys "$tar" >"$SYSDIR/import.log" 2>&1
    # The nested engines' image: busybox as sh, echo, cat, true.
    mkdir -p "$SYSDIR/tiny/bin"
    cp /bin/busybox "$SYSDIR/tiny/bin/"
    for a in sh echo cat true; do ln -s busybox "$SYSDIR/tiny/bin/$a"; done
    tar -C "$SYSDIR/tiny" -cf "$SYSDIR/tiny.tar" .
    # One rootfs for the sudobox-runc tests (bundles point at it).
    mkdir -p "$SYSDIR/rootfs"
    tar -C "$SYSDIR/rootfs" --numeric-owner -xpf "$tar"
    engines_conf >"$SYSDIR/rootfs/etc/containers/containers.conf"
    cp "$SYSDIR/tiny.tar" "$SYSDIR/rootfs/root/tiny.tar"
    # busybox's free and uptime read sysinfo(2), not /proc.
    cp /bin/busybox "$SYSDIR/rootfs/usr/local/bin/busybox"
    # The shared workspace most tests exec into.
    "$SUDOBOX" --root "$SYSDIR/state" create sys1 --image sys --isolation system --memory 1G --pids 2000 \
        >>"$SYSDIR/import.log" 2>&1 &&
        "$SUDOBOX" --root "$SYSDIR/state" start sys1 >>"$SYSDIR/import.log" 2>&1 </dev/null 3>&-
    # Acceptance 3's workspace: 512M and one CPU.
    "$SUDOBOX" --root "$SYSDIR/state" create sysacc --image sys --isolation system --memory 512M --cpus 1 \
        >>"$SYSDIR/import.log" 2>&1 &&
        "$SUDOBOX" --root "$SYSDIR/state" start sysacc >>"$SYSDIR/import.log" 2>&1 </dev/null 3>&- &&
        date +%s >"$SYSDIR/sysacc.started"
}

teardown_file() {
    [ -n "${SYSDIR:-}" ] || return 0
    local ws
    for ws in $("$SUDOBOX" --root "$SYSDIR/state" ls -q 2>/dev/null); do
        "$SUDOBOX" --root "$SYSDIR/state" rm --force --volumes "$ws" >/dev/null 2>&1 || true
    done
    "$SUDOBOX" --root "$SYSDIR/state" image rm sys >/dev/null 2>&1 || true
    rm -rf "$SYSDIR"
}

# podman from Debian cannot raise rlimits in a user namespace (no
# CAP_SYS_RESOURCE on the host), there is no systemd-journald for events,
# and runc is the runtime that works here.
engines_conf() {
    printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n'
    printf 'events_logger = "file"\nruntime = "runc"\n'
}

sb() { "$SUDOBOX" --root "$SYSDIR/state" "$@"; }

setup() {
    [ -x "$SUDOBOX" ] || skip "sudobox is not built"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (the nested engines' image)"
    sb_setup
}

teardown() {
    local ws
    for ws in ${WS_NAMES:-}; do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
    sb_teardown
}

# Waits until systemd in workspace $1 has finished starting up.
wait_booted() {
    local i state
    for ((i = 0; i < 100; i++)); do
        state=$(sb exec "$1" -- systemctl is-system-running 2>/dev/null) || true
        case "$state" in running | degraded) return 0 ;; esac
        sleep 0.2
    done
    echo "systemd did not finish booting: '$state'"
    sb exec "$1" -- systemctl --failed --no-pager || true
    return 1
}

# Writes the engines' configuration and imports the busybox image in $1.
nested_setup() {
    engines_conf | sb exec -i "$1" -- sh -c 'mkdir -p /etc/containers && cat > /etc/containers/containers.conf'
    sb exec -i "$1" -- sh -c 'cat > /root/tiny.tar' <"$SYSDIR/tiny.tar"
    sb exec "$1" -- sh -c 'podman image exists tiny || podman import -q /root/tiny.tar tiny >/dev/null'
}

# sys_bundle ARGS...: $BUNDLE on the shared system rootfs, created with
# `runc spec` and made a system container: the annotation, no user
# namespace in the spec (sudobox-runc adds its own), every capability, the
# tmpfs mounts systemd expects, the test cgroup path.
sys_bundle() {
    mkdir -p "$BUNDLE"
    runc spec --bundle "$BUNDLE"
    SB_ARGS=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@") \
        SB_ROOTFS=$SYSDIR/rootfs SB_CG=$(cg_path "$ID") spec_edit "$BUNDLE" '
import os
e = os.environ
c["root"] = {"path": e["SB_ROOTFS"], "readonly": False}
c["hostname"] = "sudobox-test"
p = c["process"]
p["terminal"] = False
p["args"] = json.loads(e["SB_ARGS"])
p["env"].append("container=sudobox")
p["noNewPrivileges"] = False
names = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
         "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT "
         "SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE "
         "AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ "
         "PERFMON BPF CHECKPOINT_RESTORE").split()
last = int(open("/proc/sys/kernel/cap_last_cap").read())
caps = ["CAP_" + n for n in names[: last + 1]]
for k in ("bounding", "effective", "permitted"):
    p["capabilities"][k] = caps
for d, mode in (("/run", "755"), ("/run/lock", "755"), ("/tmp", "1777")):
    c["mounts"].append({"destination": d, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "mode=" + mode]})
c["linux"]["cgroupsPath"] = e["SB_CG"]
c["annotations"] = {"run.sudobox.isolation": "system"}
'
}

@test "create --isolation system: recorded, and the spec selects the mode by annotation" {
    run sb ls
    echo "$output"
    [[ "$output" == *"sys1"*"running"*"system"* ]]
    run sb inspect sys1
    [[ "$output" == *'"isolation": "system"'* ]]
}

@test "systemd is PID 1: the system is running, a unit starts, journalctl shows its output" {
    wait_booted sys1
    run sb exec sys1 -- systemctl is-system-running
    echo "$output"
    [ "$output" = running ]
    run sb exec sys1 -- cat /proc/1/comm
    [ "$output" = systemd ]
    sb exec sys1 -- systemd-run --unit=sbhello sh -c 'echo hello-from-unit; sleep 600'
    run sb exec sys1 -- systemctl is-active sbhello
    [ "$output" = active ]
    run sb exec sys1 -- sh -c 'for i in $(seq 50); do journalctl -u sbhello --no-pager | grep -q hello-from-unit && exit 0; sleep 0.1; done; exit 1'
    [ "$status" -eq 0 ]
    sb exec sys1 -- systemctl stop sbhello
}

@test "nested containers: dev runs sudo podman run with overlay storage inside" {
    wait_booted sys1
    nested_setup sys1
    run sb exec --user dev sys1 -- sudo -n podman run --rm tiny echo hi
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = hi ]
    run sb exec sys1 -- podman info --format '{{.Store.GraphDriverName}}'
    [ "$output" = overlay ]
}

@test "nested containers: sudo buildah bud of a Dockerfile, then the image runs" {
    wait_booted sys1
    nested_setup sys1
    sb exec --user dev sys1 -- sh -c 'mkdir -p /tmp/ctx && printf "FROM localhost/tiny\nRUN echo built > /x\n" > /tmp/ctx/Dockerfile'
    run sb exec --user dev sys1 -- sudo -n buildah bud -q -t built /tmp/ctx
    echo "$output"
    [ "$status" -eq 0 ]
    run sb exec --user dev sys1 -- sudo -n podman run --rm built cat /x
    [ "$output" = built ]
}

@test "nested containers: sudo dockerd (systemd's docker.service) and docker run" {
    wait_booted sys1
    nested_setup sys1
    run sb exec --user dev sys1 -- sh -c 'sudo -n systemctl start docker && sudo -n docker import /root/tiny.tar tiny >/dev/null &&
        sudo -n docker run --rm tiny echo docker-hi'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | tail -1)" = docker-hi ]
}

@test "a nested container has fresh proc and sysfs, and its root is the workspace's root" {
    wait_booted sys1
    nested_setup sys1
    run sb exec sys1 -- podman run --rm tiny sh -c 'cat /proc/self/uid_map; ls /sys/kernel >/dev/null && echo sys-ok; echo $$'
    echo "$output"
    [ "$status" -eq 0 ]
    # Identity inside the workspace: still the workspace's 65536 ids.
    [[ "$(echo "$output" | head -1 | tr -s ' ')" == " 0 0 65536" ]]
    [[ "$output" == *sys-ok* ]]
    [ "$(echo "$output" | tail -1)" = 1 ]
}

@test "mounts sudobox set up cannot be unmounted, remounted writable, moved or bound without their masks" {
    wait_booted sys1
    run sb exec sys1 -- sh -c '
        grep -q " /proc/timer_list " /proc/self/mountinfo || { echo "mask missing"; exit 1; }
        umount /proc/timer_list && echo "BYPASS umount mask"
        umount -l /proc/timer_list && echo "BYPASS lazy umount mask"
        umount -l /proc && echo "BYPASS umount /proc"
        mount -o remount,rw /sys && echo "BYPASS remount /sys rw"
        mount -o remount,bind,rw /proc/sys && echo "BYPASS remount /proc/sys rw"
        mount -o remount,bind,suid,dev /dev/shm && echo "BYPASS clear nosuid"
        mkdir -p /tmp/peek
        mount --bind /proc /tmp/peek && { [ -c /tmp/peek/timer_list ] || echo "BYPASS bind without masks"; umount /tmp/peek; }
        mount --move /proc/timer_list /tmp/peek && echo "BYPASS move mask"
        umount /dev/.sudobox && echo "BYPASS uncover the hidden proc"
        ls -A /dev/.sudobox | grep . && echo "BYPASS hidden proc visible"
        echo done'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *BYPASS* ]]
    [[ "$output" == *done* ]]
}

@test "fresh proc mounts inside are allowed for new pid namespaces only, and keep the kernel's own checks" {
    wait_booted sys1
    run sb exec sys1 -- sh -c '
        mkdir -p /tmp/p
        mount -t proc proc /tmp/p && echo "BYPASS proc of the workspace pid namespace"
        unshare -pf --mount sh -c "mount -t proc proc /tmp/p && echo nested-proc-ok && cat /tmp/p/timer_list >/dev/null 2>&1 && echo BYPASS timer_list; echo 1 > /tmp/p/sys/kernel/sysrq 2>/dev/null && echo BYPASS sysctl"'
    echo "$output"
    [[ "$output" == *nested-proc-ok* ]]
    [[ "$output" != *BYPASS* ]]
}

@test "root inside owns its uts and network namespaces (hostname, bridges for nested networks, /sys/class/net)" {
    wait_booted sys1
    run sb exec sys1 -- sh -c 'hostname sbtest-h && hostname && ip link add sbbr0 type bridge &&
        test -d /sys/class/net/sbbr0/bridge && ip link del sbbr0 && echo net-ok; ls /sys/class/net | tr "\n" " "'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *sbtest-h*net-ok* ]]
    # /sys shows the workspace's own network namespace, whose interfaces
    # appear and go (not the one the spec's /sys was first mounted in).
    [[ " ${lines[-1]} " == *" lo "* ]] && [[ " ${lines[-1]} " == *" tap0 "* ]]
    sb exec sys1 -- hostname sys1
}

@test "cgroups: root inside creates cgroups below its own, and cannot write the workspace's limits" {
    wait_booted sys1
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        run sb exec sys1 -- sh -c 'mkdir /sys/fs/cgroup/sbt && echo $$ > /sys/fs/cgroup/sbt/cgroup.procs && echo moved
            echo 1 > /sys/fs/cgroup/memory.max && echo BYPASS'
    else
        # Hybrid/v1: each hierarchy's directory is delegated (memory here).
        run sb exec sys1 -- sh -c 'mkdir /sys/fs/cgroup/memory/sbt && echo $$ > /sys/fs/cgroup/memory/sbt/cgroup.procs && echo moved
            echo 64M > /sys/fs/cgroup/memory/sbt/memory.limit_in_bytes && echo child-limit-ok
            echo 4G > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo BYPASS
            rmdir /sys/fs/cgroup/memory/sbt 2>/dev/null; true'
    fi
    echo "$output"
    [[ "$output" == *moved* ]]
    [[ "$output" != *BYPASS* ]]
}

# The host-side pid of workspace $1's /proc server (the supervisor).
procfs_pid() { cut -d' ' -f1 "$SYSDIR/state/run/$1/procfs.pid"; }

# Copies busybox into workspace $1 (its free and uptime call sysinfo(2)).
put_busybox() {
    sb exec -i "$1" -- sh -c 'cat > /usr/local/bin/busybox && chmod 755 /usr/local/bin/busybox' </bin/busybox
}

@test "acceptance 3: --memory 512M --cpus 1 shows as 512 MB and one CPU, /proc/uptime counts from the start" {
    [ -s "$SYSDIR/sysacc.started" ] || { cat "$SYSDIR/import.log"; false; }
    run sb exec sysacc -- sh -c 'free -m | awk "/^Mem:/ {print \$2}"; nproc; getconf _NPROCESSORS_ONLN
        grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; grep -c "^cpu[0-9]" /proc/stat
        grep ^MemTotal: /proc/meminfo; cut -d" " -f1 /proc/uptime; sleep 1.2; cut -d" " -f1 /proc/uptime'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 512 ]
    [ "${lines[1]}" = 1 ]
    [ "${lines[2]}" = 1 ]
    [ "${lines[3]}" = 1 ]
    [[ "${lines[4]}" =~ ^[0-9]+$ ]]
    [ "${lines[5]}" = 1 ]
    [[ "${lines[6]}" =~ ^MemTotal:\ +524288\ kB$ ]]
    # Since the workspace started (not since the host booted), and growing.
    since=$(($(date +%s) - $(cat "$SYSDIR/sysacc.started") + 2))
    awk -v u="${lines[7]}" -v s="$since" 'BEGIN { exit !(u >= 0 && u <= s) }'
    awk -v a="${lines[7]}" -v b="${lines[8]}" 'BEGIN { exit !(b >= a + 1) }'
}

@test "sysinfo(2) is answered by the workspace's server: free and uptime agree with the files, in every process" {
    put_busybox sysacc
    # As root, as dev after sudo, and in a process of systemd's (a unit):
    # every process of the workspace carries the notifying filter.
    run sb exec sysacc -- sh -c 'busybox free -m | awk "/Mem:/ {print \$2}"; busybox uptime; cut -d" " -f1 /proc/uptime
        grep ^Seccomp: /proc/self/status'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 512 ]
    # busybox prints "up N min" below an hour, "up H:MM" or days above.
    if [ "${lines[2]%.*}" -lt 3600 ]; then [[ "${lines[1]}" == *" up "*" min,"* ]]; fi
    [[ "${lines[3]}" == *2 ]]
    run sb exec --user dev sysacc -- sudo -n busybox free -m
    echo "$output"
    [[ "$(echo "$output" | awk '/Mem:/ {print $2}')" = 512 ]]
    wait_booted sysacc
    sb exec sysacc -- systemd-run --wait -q -p StandardOutput=file:/run/unit-free sh -c 'busybox free -m'
    run sb exec sysacc -- cat /run/unit-free
    echo "$output"
    [[ "$(echo "$output" | awk '/Mem:/ {print $2}')" = 512 ]]
}

@test "a killed worker of the workspace's /proc server is replaced: /proc/meminfo and sysinfo work again" {
    sup=$(procfs_pid sysacc)
    worker=$(pgrep -P "$sup")
    [ -n "$worker" ]
    kill -9 "$worker"
    run sb exec sysacc -- sh -c 'grep ^MemTotal: /proc/meminfo; busybox free -m | awk "/Mem:/ {print \$2}"'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^MemTotal:\ +524288\ kB$ ]]
    [ "${lines[1]}" = 512 ]
    new=$(pgrep -P "$sup")
    [ -n "$new" ] && [ "$new" != "$worker" ]
    grep -q "worker $worker killed by signal 9, restarting" "$SYSDIR/state/run/sysacc/procfs.log"
}

@test "the /proc files are locked: root inside cannot unmount them to see the host's" {
    run sb exec sysacc -- sh -c 'umount /proc/meminfo && echo BYPASS umount; umount -l /proc/meminfo && echo BYPASS lazy
        grep ^MemTotal: /proc/meminfo'
    echo "$output"
    [[ "$output" != *BYPASS* ]]
    [[ "$output" =~ MemTotal:\ +524288\ kB ]]
}

@test "deleting a system workspace stops its /proc server and leaves no FUSE mount" {
    WS_NAMES=sysdel
    sb create sysdel --image sys --isolation system --memory 256M
    sb start sysdel </dev/null 3>&-
    sup=$(procfs_pid sysdel)
    run sb exec sysdel -- grep ^MemTotal: /proc/meminfo
    [[ "$output" =~ MemTotal:\ +262144\ kB ]]
    grep -q " $SYSDIR/state/run/sysdel/procfs " /proc/self/mountinfo
    sb rm --force sysdel
    # Gone (a zombie waiting for the host's PID 1 to reap it counts as gone).
    st=$(ps -o stat= -p "$sup" || true)
    [ -z "$st" ] || [[ "$st" == Z* ]]
    ! grep -q "$SYSDIR/state/run/sysdel" /proc/self/mountinfo
    [ ! -e "$SYSDIR/state/run/sysdel" ]
}

@test "sudobox-runc --isolation system: the container's /proc and sysinfo show its limits, from its first process on" {
    new_ids 1
    sys_bundle sh -c 'busybox free -m > /run/free.tmp && mv /run/free.tmp /run/free-init; exec sleep 600'
    spec_edit "$BUNDLE" 'c["annotations"] = {}' \
        'c["linux"]["resources"] = {"memory": {"limit": 536870912}, "cpu": {"quota": 100000, "period": 100000, "cpus": "0"}}'
    "$RUNTIME" --root "$ROOT" --isolation system run -d -b "$BUNDLE" "$ID" </dev/null >"$TMP/$ID.out" 2>&1 3>&- || { cat "$TMP/$ID.out"; false; }
    wait_for rt exec "$ID" test -s /run/free-init
    run rt exec "$ID" sh -c 'awk "/Mem:/ {print \$2}" /run/free-init; free -m | awk "/^Mem:/ {print \$2}"; nproc
        busybox free -m | awk "/Mem:/ {print \$2}"; cut -d" " -f1 /proc/uptime'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 512 ]
    [ "${lines[1]}" = 512 ]
    [ "${lines[2]}" = 1 ]
    [ "${lines[3]}" = 512 ]
    awk -v u="${lines[4]}" 'BEGIN { exit !(u < 60) }'
    sup=$(cut -d' ' -f1 "$ROOT/$ID/procfs.pid")
    rt delete --force "$ID"
    st=$(ps -o stat= -p "$sup" || true)
    [ -z "$st" ] || [[ "$st" == Z* ]]
    ! grep -q "$ROOT/$ID" /proc/self/mountinfo
}

@test "stop sends SIGRTMIN+3 to systemd: it halts and the exit is recorded as 0" {
    WS_NAMES=sysstop
    sb create sysstop --image sys --isolation system
    sb start sysstop </dev/null 3>&-
    wait_booted sysstop
    run sb stop --timeout 20 sysstop
    [ "$status" -eq 0 ]
    run sb inspect sysstop
    echo "$output"
    [[ "$output" == *'"state": "stopped"'* ]]
    [[ "$output" == *'"exitCode": 0'* ]]
}

@test "systemctl poweroff inside stops the workspace cleanly" {
    WS_NAMES=syspoweroff
    sb create syspoweroff --image sys --isolation system
    sb start syspoweroff </dev/null 3>&-
    wait_booted syspoweroff
    sb exec syspoweroff -- systemctl poweroff || true
    run wait_for sh -c "'$SUDOBOX' --root '$SYSDIR/state' inspect syspoweroff | grep -q '\"state\": \"stopped\"'"
    [ "$status" -eq 0 ]
    run sb inspect syspoweroff
    [[ "$output" == *'"exitCode": 0'* ]]
}

@test "sudobox-runc: the annotation selects system mode; systemd boots, nested podman runs, RTMIN+3 stops it" {
    new_ids 1
    sys_bundle /sbin/init
    rt_detached run -d -b "$BUNDLE" "$ID"
    run state_field "$ID" annotations
    [[ "$output" == *system* ]]
    run wait_for sh -c "'$RUNTIME' --root '$ROOT' exec '$ID' systemctl is-system-running | grep -qx running"
    [ "$status" -eq 0 ]
    run rt exec "$ID" sh -c 'podman image exists tiny || podman import -q /root/tiny.tar tiny >/dev/null; podman run --rm tiny echo nested-hi'
    echo "$output"
    [ "$output" = nested-hi ]
    rt kill "$ID" RTMIN+3
    run wait_for status_is "$ID" stopped
    [ "$status" -eq 0 ]
}

@test "sudobox-runc --isolation system: applies to a spec without the annotation, and wins over one" {
    new_ids 2
    sys_bundle sleep 600
    spec_edit "$BUNDLE" 'c["annotations"] = {}'
    "$RUNTIME" --root "$ROOT" --isolation system run -d -b "$BUNDLE" "$ID" </dev/null >"$TMP/$ID.out" 2>&1 3>&-
    # The hidden proc of system mode: its cover is an empty, read-only directory.
    run rt exec "$ID" sh -c 'grep -c " /dev/.sudobox " /proc/self/mountinfo'
    [ "$output" = 2 ]
    # The handler's flag is the administrator's choice: a pod's annotation
    # cannot downgrade it.
    SB_CG=$(cg_path "$ID2") spec_edit "$BUNDLE" 'c["annotations"] = {"run.sudobox.isolation": "userns"}' \
        'import os; c["linux"]["cgroupsPath"] = os.environ["SB_CG"]'
    "$RUNTIME" --root "$ROOT" --isolation system run -d -b "$BUNDLE" "$ID2" </dev/null >"$TMP/$ID2.out" 2>&1 3>&- || { cat "$TMP/$ID2.out"; false; }
    run rt exec "$ID2" sh -c 'grep -c " /dev/.sudobox " /proc/self/mountinfo'
    [ "$output" = 2 ]
    run state_field "$ID2" annotations
    [[ "$output" == *userns* ]]
    run "$RUNTIME" --root "$ROOT" --isolation bogus run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$output" == *'--isolation: unknown isolation "bogus"'* ]] || [[ "$output" == *exists* ]]
}

@test "sudobox-runc: system mode refuses a spec it cannot honour, naming why" {
    new_ids 1
    sys_bundle true
    spec_edit "$BUNDLE" 'c["annotations"]["run.sudobox.userns"] = "host"'
    rt_files run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'isolation "system" needs a user namespace'* ]]
    spec_edit "$BUNDLE" 'del c["annotations"]["run.sudobox.userns"]' \
        'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]'
    rt_files run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"pid namespace"* ]]
    spec_edit "$BUNDLE" 'c["annotations"]["run.sudobox.isolation"] = "bogus"'
    rt_files run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'unknown isolation "bogus"'* ]]
}

@test "pure cgroup v2 (private mount namespace): delegated subtree, systemd boots into it, own limits refused" {
    new_ids 1
    sys_bundle /sbin/init
    cg=$(cg_path "$ID")
    run env RUNTIME="$RUNTIME" ROOT="$ROOT" BUNDLE="$BUNDLE" ID="$ID" CG="$cg" unshare -m sh -c '
        mount --make-rprivate / && umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 1
        rt() { "$RUNTIME" --root "$ROOT" "$@"; }
        rt run -d -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 || { echo "run failed"; exit 1; }
        for i in $(seq 100); do
            [ "$(rt exec "$ID" systemctl is-system-running 2>/dev/null)" = running ] && break; sleep 0.2
        done
        rt exec "$ID" systemctl is-system-running
        stat -c "owner=%u" /sys/fs/cgroup$CG /sys/fs/cgroup$CG/cgroup.procs /sys/fs/cgroup$CG/cgroup.subtree_control
        stat -c "limit-owner=%u" /sys/fs/cgroup$CG/cgroup.max.descendants
        rt exec "$ID" sh -c "stat -f -c %T /sys/fs/cgroup; cat /proc/1/cgroup | grep ^0::
            systemd-run --unit=v2unit sleep 600 >/dev/null 2>&1; cat /sys/fs/cgroup/system.slice/v2unit.service/cgroup.procs | grep -q . && echo unit-cgroup-ok
            echo 1 > /sys/fs/cgroup/cgroup.max.descendants 2>/dev/null && echo BYPASS"
        # Controllers enabled below the container'"'"'s cgroup (systemd does that with real
        # ones): v2 then refuses processes there, and exec joins the init'"'"'s cgroup.
        rt exec "$ID" sh -c "echo \$\$ > /sys/fs/cgroup/init.scope/cgroup.procs &&
            echo +hugetlb > /sys/fs/cgroup/cgroup.subtree_control" || echo "enable failed"
        rt exec "$ID" sh -c "grep ^0:: /proc/self/cgroup | sed s/^/exec-in-/"
        rt kill "$ID" KILL; rt delete --force "$ID"
        test ! -e /sys/fs/cgroup$CG && echo cgroup-removed
        rmdir /sys/fs/cgroup/sudobox-test 2>/dev/null; true
    ' 3>&-
    echo "$output"
    [[ "$output" == *running* ]]
    [[ "$output" == *cgroup2fs* ]]
    [[ "$output" == *"0::/init.scope"* ]]
    [[ "$output" == *unit-cgroup-ok* ]]
    [[ "$output" == *"exec-in-0::/init.scope"* ]]
    [[ "$output" == *cgroup-removed* ]]
    [[ "$output" == *limit-owner=0* ]]
    [[ "$output" != *BYPASS* ]]
    # Delegated to the container's root: not host root.
    [ "$(echo "$output" | grep -c '^owner=0$')" -eq 0 ]
}
