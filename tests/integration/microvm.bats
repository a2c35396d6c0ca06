#!/usr/bin/env bats
# Microvm workspaces end to end: each workspace in its own guest kernel
# under QEMU (TCG when KVM cannot boot the guest), driven by the same
# sudobox commands as userns ones.  One state root and one image (built
# with `sudobox image build`) for the file; the first start boots the
# template guest and snapshots it, later starts restore that snapshot.

bats_require_minimum_version 1.5.0

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
SUDOBOX=$BUILD/src/sudobox/sudobox
AGENT=$BUILD/src/agent/sudobox-agent

have_vm_parts() {
    [ -x "$SUDOBOX" ] && [ -x "$AGENT" ] && command -v qemu-system-x86_64 >/dev/null &&
        command -v qemu-img >/dev/null && ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1
}

setup_file() {
    have_vm_parts || return 0
    export WSROOT
    WSROOT=$(mktemp -d /tmp/sbvm.XXXXXX)
    chmod 700 "$WSROOT"
    # json-c: sudobox-runc runs in a guest too (the cgroup v2 test).
    "$SUDOBOX" --root "$WSROOT/state" image build img --include procps,libjson-c5 >"$WSROOT/build.log" 2>&1
}

teardown_file() {
    [ -n "${WSROOT:-}" ] || return 0
    for ws in $("$SUDOBOX" --root "$WSROOT/state" ls -q 2>/dev/null); do
        "$SUDOBOX" --root "$WSROOT/state" rm --force --volumes "$ws" >/dev/null 2>&1 || true
    done
    "$SUDOBOX" --root "$WSROOT/state" image rm img >/dev/null 2>&1 || true
    rm -rf "$WSROOT"
}

sb() { "$SUDOBOX" --root "$WSROOT/state" "$@"; }

setup() {
    have_vm_parts || skip "needs the build's sudobox and sudobox-agent, qemu-system-x86, qemu-utils and a kernel in /boot"
}

teardown() {
    for ws in ${WS_NAMES:-}; do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
}

# A process is gone once it exited: a zombie waiting for init to reap it
# (QEMU is init's child) counts as gone.
gone() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ')
    [ -z "$st" ] || [[ "$st" == Z* ]]
}

qemu_pid() { sb inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["monitorPid"])'; }
id_first() { sb inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])'; }

# Runs `sudobox shell NAME` on a pty of rows x cols, types the script's
# lines, resizes to 44x120 before the last one; prints what the pty showed
# and the exit status.
pty_shell() {
    python3 - "$SUDOBOX" "$WSROOT/state" "$1" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time
sudobox, root, name = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sudobox, [sudobox, "--root", root, "shell", name])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 90, 0, 0))
out = b""
def drain(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
drain(2)
os.write(fd, b"stty size; tty\r")
drain(2)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 120, 0, 0))
os.kill(pid, signal.SIGWINCH)
time.sleep(0.5)
os.write(fd, b"stty size; exit 3\r")
drain(4)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nstatus=%d" % os.waitstatus_to_exitcode(status))
EOF
}

@test "microvm: sudo gives root in the guest, whose kernel is not the host's" {
    WS_NAMES="vm1"
    run sb create vm1 --image img --isolation microvm
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run sb start vm1
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run sb exec vm1 -- id -un
    [ "$output" = "dev" ] || { echo "expected dev, got: $output"; false; }
    run sb exec vm1 -- sudo -n id -u
    [ "$status" -eq 0 ] && [ "$output" = "0" ] || { echo "expected 0, got: $output"; false; }
    guest=$(ls /boot/vmlinuz-*-amd64 | sort -V | tail -1 | sed 's|/boot/vmlinuz-||')
    run sb exec vm1 -- uname -r
    [ "$output" = "$guest" ] || { echo "expected guest kernel $guest, got: $output"; false; }
    [ "$output" != "$(uname -r)" ]
    run sb exec vm1 -- hostname
    [ "$output" = "vm1" ]
}

@test "microvm: every host process of the workspace runs as an unprivileged uid, QEMU sandboxed" {
    WS_NAMES="vm2"
    sb create vm2 --image img --isolation microvm
    sb start vm2
    pid=$(qemu_pid vm2)
    first=$(id_first vm2)
    [ "$pid" -gt 0 ]
    uid=$(ps -o uid= -p "$pid" | tr -d ' ')
    [ "$uid" = "$first" ] || { echo "QEMU runs as $uid, expected $first"; false; }
    [ "$uid" -ne 0 ]
    grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status" || { echo "QEMU has no seccomp filter"; false; }
    grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
    # QEMU is the workspace's only host process: everything in its session
    # (the launcher made one) runs as the workspace's uid.
    sid=$(ps -o sid= -p "$pid" | tr -d ' ')
    run bash -c "ps -eo sid=,uid=,comm= | awk -v s=$sid '\$1 == s'"
    [ -n "$output" ]
    ! awk -v u="$first" '$2 != u' <<<"$output" | grep -q . || { echo "not all as $first: $output"; false; }
    run sb exec vm2 -- sudo -n cat /proc/1/comm
    [ "$output" = "init" ] || [ "$output" = "sudobox-agent" ] || { echo "PID 1 is $output"; false; }
}

@test "microvm: exit codes, stdin, a missing program" {
    WS_NAMES="vm3"
    sb create vm3 --image img --isolation microvm
    sb start vm3
    run sb exec vm3 -- sh -c 'exit 7'
    [ "$status" -eq 7 ]
    run bash -c "echo through-stdin | '$SUDOBOX' --root '$WSROOT/state' exec -i vm3 -- cat"
    [ "$output" = "through-stdin" ]
    run sb exec vm3 -- sh -c 'echo out; echo err >&2'
    [[ "$output" == *out* ]] && [[ "$output" == *err* ]]
    run -127 sb exec vm3 -- no-such-program
    [ "$status" -eq 127 ]
    [[ "$output" == *"no-such-program"* ]]
    run sb exec vm3 -- sh -c 'kill -TERM $$'
    [ "$status" -eq 143 ]
}

@test "microvm: a silent exec stays up; one into a hung guest fails instead of waiting forever" {
    WS_NAMES="vmhang"
    sb create vmhang --image img --isolation microvm
    sb start vmhang
    # Longer than the keepalive's ping interval: the agent answers the pings.
    run sb exec vmhang -- sleep 7
    [ "$status" -eq 0 ]
    qemu=$(qemu_pid vmhang)
    # Bounded, so that a regression fails here instead of hanging the suite.
    timeout 60 "$SUDOBOX" --root "$WSROOT/state" exec vmhang -- sleep 120 >"$WSROOT/hang.out" 2>&1 &
    exec_pid=$!
    sleep 2
    kill -STOP "$qemu"
    start=$SECONDS
    status=0
    wait "$exec_pid" || status=$?
    took=$((SECONDS - start))
    kill -CONT "$qemu"
    cat "$WSROOT/hang.out"
    [ "$status" -ne 0 ]
    grep -q "the guest agent has not answered for" "$WSROOT/hang.out"
    [ "$took" -le 30 ]
}

@test "microvm: shell has a tty that follows window resizes" {
    WS_NAMES="vm4"
    sb create vm4 --image img --isolation microvm
    sb start vm4
    run pty_shell vm4
    [[ "$output" == *"30 90"* ]] || { echo "initial size not seen: $output"; false; }
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"44 120"* ]] || { echo "resize not seen: $output"; false; }
    [[ "$output" == *"status=3"* ]]
}

@test "microvm: /projects and the root's writes survive stop/start; stop powers the guest off" {
    WS_NAMES="vm5"
    sb create vm5 --image img --isolation microvm
    sb start vm5
    sb exec vm5 -- sh -c 'echo kept > /projects/file && sudo touch /etc/written-by-root'
    run sb exec vm5 -- stat -c %U /projects
    [ "$output" = "dev" ]
    pid=$(qemu_pid vm5)
    run sb stop vm5
    [ "$status" -eq 0 ]
    gone "$pid" || { echo "QEMU $pid still there after stop"; false; }
    run sb inspect vm5
    [[ "$output" == *'"state": "stopped"'* ]]
    [[ "$output" == *'"exitCode": 0'* ]] || { echo "stop was not a clean poweroff: $output"; false; }
    [ ! -e "$WSROOT/state/workspaces/vm5/vm" ]
    sb start vm5
    run sb exec vm5 -- cat /projects/file
    [ "$output" = "kept" ]
    run sb exec vm5 -- ls /etc/written-by-root
    [ "$status" -eq 0 ]
    # rm keeps the volume, rm --volumes does not; nothing else is left.
    sb rm --force vm5
    [ -e "$WSROOT/state/volumes/vm5-projects/disk.img" ]
    sb create vm5 --image img --isolation microvm
    sb start vm5
    run sb exec vm5 -- cat /projects/file
    [ "$output" = "kept" ]
    pid=$(qemu_pid vm5)
    sb rm --force --volumes vm5
    gone "$pid"
    [ ! -e "$WSROOT/state/workspaces/vm5" ]
    [ ! -e "$WSROOT/state/volumes/vm5-projects" ]
}

@test "microvm: options it cannot honour are refused by name" {
    run sb create vmx --image img --isolation microvm --volume /tmp:/mnt
    [ "$status" -ne 0 ] && [[ "$output" == *"--volume"* ]]
    run sb create vmx --image img --isolation microvm --memory 64M
    [ "$status" -ne 0 ] && [[ "$output" == *"--memory"* ]]
    run sb create vmx --image img --isolation microvm --pids 5000000
    [ "$status" -ne 0 ] && [[ "$output" == *"--pids"* ]]
    run sb create vmx --image img --isolation microvm --security-opt seccomp=unconfined
    [ "$status" -ne 0 ] && [[ "$output" == *"--security-opt"* ]]
    run sb ls -q
    [[ "$output" != *vmx* ]]
}

@test "microvm: sudo apt-get install works through QEMU user networking" {
    WS_NAMES="vm6"
    sb create vm6 --image img --isolation microvm
    sb start vm6
    run sb exec vm6 -- sh -c 'sudo apt-get update -qq >/dev/null 2>&1; sudo apt-get install -y -qq hello >/dev/null 2>&1 && hello'
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "$output" = "Hello, world!" ]
}

@test "microvm: a published port reaches the guest" {
    WS_NAMES="vm7"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    sb create vm7 --image img --isolation microvm --publish "127.0.0.1:$port:8000"
    sb start vm7
    # perl-base is in every Debian image: a one-shot listener in the guest.
    sb exec vm7 -- perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 8000, Listen => 1,
        ReuseAddr => 1) or die; $c = $s->accept; print $c "published\n"' &
    listener=$!
    for _ in $(seq 30); do
        out=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat <&3" 2>/dev/null || true)
        [ -z "$out" ] || break
        sleep 1
    done
    wait "$listener" || true
    [ "$out" = "published" ] || { echo "got: $out"; false; }
}

@test "microvm: the host's loopback is not reachable from the guest" {
    WS_NAMES="vm9"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
s.settimeout(20)
try:
    s.accept()
    print("reached")
except OSError:
    print("not reached")
' "$port" >"$WSROOT/loopback.txt" &
    listener=$!
    sb create vm9 --image img --isolation microvm
    sb start vm9
    sb exec vm9 -- bash -c "timeout 5 bash -c 'echo x >/dev/tcp/10.0.2.2/$port'; timeout 5 bash -c 'echo x >/dev/tcp/127.0.0.1/$port'" || true
    wait "$listener"
    [ "$(cat "$WSROOT/loopback.txt")" = "not reached" ] || { echo "the guest reached the host's 127.0.0.1:$port"; false; }
}

# The guest is a pure cgroup v2 machine with every controller, which this
# host (hybrid, v2 carries only hugetlb) is not: sudobox-runc runs there
# against real memory, pids, cpu, cpuset and device (eBPF) enforcement,
# and `update` of a running container.
@test "microvm guest as a cgroup v2 node: sudobox-runc's limits, device rules and update are enforced" {
    WS_NAMES="vmv2"
    RUNC=$BUILD/src/runc/sudobox-runc
    [ -x "$RUNC" ] || skip "no $RUNC"
    sb create vmv2 --image img --isolation microvm
    sb start vmv2
    sb exec -i vmv2 -- sudo -n sh -c 'cat > /usr/local/bin/sudobox-runc && chmod 755 /usr/local/bin/sudobox-runc' <"$RUNC"
    mkdir -p "$WSROOT/v2b"
    (cd "$WSROOT/v2b" && runc spec)
    python3 - "$WSROOT/v2b/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max "
                        "/sys/fs/cgroup/cpu.max; head -c 1 /dev/fuse 2>&1; timeout 60 tail /dev/zero; echo balloon=$?"]
c["linux"]["cgroupsPath"] = "/sbtest/t1"
c["linux"]["resources"] = {"memory": {"limit": 64 << 20, "swap": 64 << 20}, "pids": {"limit": 32},
                           "cpu": {"quota": 50000, "period": 100000}, "devices": [{"allow": False, "access": "rwm"}]}
c["mounts"] += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]},
                {"destination": "/dev/fuse", "type": "bind", "source": "/tmp/p/fuse", "options": ["bind"]}]
json.dump(c, open(p, "w"))
EOF
    # The bundle: the guest's own root, bound below a 0700 directory; a
    # fuse node (no fuse module in the guest: an allowed open would fail
    # with ENODEV, a denied one fails with EPERM).
    run sb exec -i vmv2 -- sudo -n sh -c 'echo "+memory +cpu +pids +cpuset" > /sys/fs/cgroup/cgroup.subtree_control &&
        mkdir -m 700 /tmp/p && mkdir -p /tmp/p/b/rootfs && cat > /tmp/p/b/config.json &&
        mknod -m 666 /tmp/p/fuse c 10 229 && mount --bind / /tmp/p/b/rootfs &&
        sudobox-runc --root /run/sbt run -b /tmp/p/b t1; echo rc=$?; umount /tmp/p/b/rootfs
        test -e /sys/fs/cgroup/sbtest/t1 && echo CGROUP-LEFT' <"$WSROOT/v2b/config.json"
    echo "$output"
    [ "${lines[0]}" = "0::/sbtest/t1" ]
    [ "${lines[1]}" = 67108864 ]
    [ "${lines[2]}" = 32 ]
    [ "${lines[3]}" = "50000 100000" ]
    [[ "${lines[4]}" == *"/dev/fuse"*"Operation not permitted"* ]]
    # tail /dev/zero grows until the memory limit's OOM kill (SIGKILL: 137).
    [[ "$output" == *balloon=137* ]]
    [[ "$output" == *rc=0* ]]
    [[ "$output" != *CGROUP-LEFT* ]]
    # A running container: cpuset, then `update` of memory and pids.
    python3 - "$WSROOT/v2b/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sleep", "600"]
c["linux"]["cgroupsPath"] = "/sbtest/t2"
c["linux"]["resources"]["cpu"]["cpus"] = "0"
json.dump(c, open(p, "w"))
EOF
    run sb exec -i vmv2 -- sudo -n sh -c 'mkdir -p /tmp/p/b2/rootfs && cat > /tmp/p/b2/config.json &&
        mount --bind / /tmp/p/b2/rootfs && cg=/sys/fs/cgroup/sbtest/t2 &&
        sudobox-runc --root /run/sbt run -d -b /tmp/p/b2 t2 </dev/null >/dev/null 2>&1 &&
        cat $cg/cpuset.cpus && sudobox-runc --root /run/sbt update --memory 134217728 --pids-limit 64 t2 &&
        cat $cg/memory.max $cg/pids.max; sudobox-runc --root /run/sbt delete --force t2; echo rc=$?
        umount /tmp/p/b2/rootfs; test -e $cg && echo CGROUP-LEFT' <"$WSROOT/v2b/config.json"
    echo "$output"
    [ "${lines[0]}" = 0 ]
    [ "${lines[1]}" = 134217728 ]
    [ "${lines[2]}" = 64 ]
    [ "${lines[3]}" = rc=0 ]
    [[ "$output" != *CGROUP-LEFT* ]]
}

@test "microvm: nothing of a removed workspace is left on the host" {
    WS_NAMES="vm8"
    sb create vm8 --image img --isolation microvm
    sb start vm8
    first=$(id_first vm8)
    sb rm --force --volumes vm8
    run ps -eo uid=,stat=
    ! awk -v u="$first" '$1 == u && $2 !~ /^Z/' <<<"$output" | grep -q . || { echo "a process of uid $first is left"; false; }
    [ ! -e "$WSROOT/state/workspaces/vm8" ]
    [ ! -e "$WSROOT/state/volumes/vm8-projects" ]
}
