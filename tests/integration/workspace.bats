#!/usr/bin/env bats
# The workspace manager end to end: images, workspaces, sudo inside,
# /projects across stop/start, isolation between workspaces, crash
# consistency, concurrency.  One state root per file; one image built with
# `sudobox image build` (the real path a user takes) and reused.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
SUDOBOX=$BUILD/src/sudobox/sudobox

setup_file() {
    # bats 1.8 cannot skip from setup_file: setup() does it.
    [ -x "$SUDOBOX" ] || return 0
    export WSROOT
    WSROOT=$(mktemp -d /tmp/sbws.XXXXXX)
    chmod 700 "$WSROOT"
    "$SUDOBOX" --root "$WSROOT/state" image build img --include procps >"$WSROOT/build.log" 2>&1
}

teardown_file() {
    [ -n "${WSROOT:-}" ] || return 0
    for ws in $("$SUDOBOX" --root "$WSROOT/state" ls -q 2>/dev/null); do
        "$SUDOBOX" --root "$WSROOT/state" rm --force --volumes "$ws" >/dev/null 2>&1 || true
    done
    "$SUDOBOX" --root "$WSROOT/state" image rm img >/dev/null 2>&1 || true
    userdel sbtest-nobody >/dev/null 2>&1 || true
    rm -rf "$WSROOT"
}

sb() { "$SUDOBOX" --root "$WSROOT/state" "$@"; }

setup() {
    [ -x "$SUDOBOX" ] || skip "sudobox is not built"
}

# Every test ends with no workspace of its own left running.
teardown() {
    for ws in ${WS_NAMES:-}; do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
}

@test "image build made a Debian image with sudo and user dev" {
    run sb image ls -q
    [ "$status" -eq 0 ]
    [ "$output" = img ]
    run sb image inspect img
    [[ "$output" == *'"user": "dev"'* ]]
}

@test "end to end: sudo, apt-get install hello, /projects across stop and start, rm --volumes" {
    WS_NAMES=e2e
    sb create e2e --image img
    sb start e2e
    run sb exec e2e -- sudo -n id -u
    [ "$status" -eq 0 ]
    [ "$output" = 0 ]
    run sb exec e2e -- sh -c 'sudo -n apt-get update -q >/dev/null 2>&1 && sudo -n apt-get install -y -q hello >/dev/null 2>&1 && hello'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "Hello, world!" ]
    sb exec e2e -- sh -c 'echo kept > /projects/f'
    sb stop e2e
    run sb ls --format json
    [[ "$output" == *'"state": "stopped"'* ]]
    sb start e2e
    run sb exec e2e -- stat -c '%U %n' /projects/f
    [ "$output" = "dev /projects/f" ]
    run sb exec e2e -- cat /projects/f
    [ "$output" = kept ]
    sb rm --force --volumes e2e
    [ ! -e "$WSROOT/state/volumes/e2e-projects" ]
    run sb inspect e2e
    [ "$status" -ne 0 ]
    [[ "$output" == *'workspace "e2e" not found'* ]]
}

@test "processes run under the workspace's unprivileged host range" {
    WS_NAMES=ids
    sb create ids --image img
    sb start ids
    first=$(sb inspect ids | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    [ "$first" -ge 65536 ]
    run sb exec ids -- cat /proc/self/uid_map
    [ "$(echo $output)" = "0 $first 65536" ]
    # Every process of the workspace, seen from the host, has a uid in the range.
    # (A duration no other process on the host uses, to find ours.)
    local nap="30.$$"
    sb exec ids -- sh -c "sleep $nap </dev/null >/dev/null 2>&1 &"
    [ -n "$(pgrep -fx "sleep $nap")" ]
    for p in $(pgrep -fx "sleep $nap"); do
        uid=$(awk '/^Uid:/ {print $2}' /proc/$p/status)
        [ "$uid" -ge "$first" ] && [ "$uid" -lt $((first + 65536)) ]
    done
}

@test "two workspaces: disjoint ranges, no view of each other" {
    WS_NAMES="wa wb"
    sb create wa --image img
    sb create wb --image img
    sb start wa
    sb start wb
    a=$(sb inspect wa | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    b=$(sb inspect wb | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    [ "$a" != "$b" ]
    [ $((a > b ? a - b : b - a)) -ge 65536 ]
    sb exec wb -- sh -c 'echo secret-b > /projects/secret; sleep 1000 >/dev/null 2>&1 &'
    # root in wa sees only its own processes and cannot reach wb's files.
    run sb exec --user root wa -- sh -c 'ps -e -o comm= | grep -c "sleep" || true'
    [ "$output" = 0 ]
    run sb exec --user root wa -- sh -c 'grep -rs secret-b /projects /proc/*/root/projects 2>/dev/null; find / -xdev -name secret 2>/dev/null'
    [ -z "$output" ]
    run sb exec --user root wa -- sh -c "cat $WSROOT/state/volumes/wb-projects/secret"
    [ "$status" -ne 0 ]
}

@test "a setuid-root binary planted inside cannot be run as root by an unprivileged host user" {
    WS_NAMES=plant
    id sbtest-nobody >/dev/null 2>&1 || useradd -M -s /bin/sh sbtest-nobody
    sb create plant --image img
    sb start plant
    sb exec --user root plant -- sh -c 'cp /bin/sh /projects/rootsh && chmod 4755 /projects/rootsh && cp /bin/sh /usr/local/bin/rootsh && chmod 4755 /usr/local/bin/rootsh'
    # The files exist on the host, below the 0700 state root.
    found=$(find "$WSROOT/state" -name rootsh -perm -4000 | wc -l)
    [ "$found" -ge 2 ]
    for f in $(find "$WSROOT/state" -name rootsh); do
        run su -s /bin/sh sbtest-nobody -c "$f -p -c id -u"
        [ "$status" -ne 0 ] || [ "$output" != 0 ]
    done
}

@test "bad input gets clear errors" {
    run sb create Bad/Name --image img
    [ "$status" -ne 0 ]; [[ "$output" == *'invalid workspace name'* ]]
    run sb create x1 --image nope
    [ "$status" -ne 0 ]; [[ "$output" == *'image "nope" not found'* ]]
    run sb create x2 --image img --memory lots
    [ "$status" -ne 0 ]; [[ "$output" == *'--memory'* ]]
    run sb create x3 --image img --cpus -1
    [ "$status" -ne 0 ]; [[ "$output" == *'--cpus'* ]]
    run sb create x4 --image img --isolation bogus
    [ "$status" -ne 0 ]; [[ "$output" == *'--isolation "bogus"'* ]]
    run sb create x4 --image img --isolation microvm --volume /tmp:/x
    [ "$status" -ne 0 ]; [[ "$output" == *'--volume is not available with --isolation microvm'* ]]
    run sb start nosuch
    [ "$status" -ne 0 ]; [[ "$output" == *'workspace "nosuch" not found'* ]]
    WS_NAMES=dup
    sb create dup --image img
    run sb create dup --image img
    [ "$status" -ne 0 ]; [[ "$output" == *'already exists'* ]]
    run sb exec dup -- true
    [ "$status" -ne 0 ]; [[ "$output" == *'not running'* ]]
    run sb image rm img
    [ "$status" -ne 0 ]; [[ "$output" == *'used by'* ]]
    run sb ls
    [ "$status" -eq 0 ]
}

@test "20 concurrent creates get 20 disjoint ranges" {
    WS_NAMES=$(seq -f 'c%g' 1 20 | tr '\n' ' ')
    for i in $(seq 1 20); do sb create "c$i" --image img & done
    wait
    run sb ls -q
    [ "$(echo "$output" | grep -c '^c[0-9]*$')" -eq 20 ]
    sb ls --format json | python3 -c '
import json, sys
firsts = sorted(w["hostIdFirst"] for w in json.load(sys.stdin) if w["name"].startswith("c"))
assert len(firsts) == 20, firsts
assert all(b - a >= 65536 for a, b in zip(firsts, firsts[1:])), firsts'
}

cg_dir() {
    local ws=$1 ctrl=$2 first
    first=$(sb inspect "$ws" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    if [ -d "/sys/fs/cgroup/$ctrl" ]; then echo "/sys/fs/cgroup/$ctrl/sudobox/ws-$first-$ws"; else echo "/sys/fs/cgroup/sudobox/ws-$first-$ws"; fi
}

@test "limits become cgroup limits; env, workdir, user, volumes reach the workspace" {
    WS_NAMES=lim
    mkdir -p "$WSROOT/shared"
    echo from-host >"$WSROOT/shared/file"
    sb create lim --image img --memory 512M --cpus 1 --pids 200 --env FOO=bar \
        --volume "$WSROOT/shared:/mnt/shared:ro" --hostname limhost
    sb start lim
    [ "$(cat "$(cg_dir lim memory)/memory.limit_in_bytes")" = 536870912 ]
    [ "$(cat "$(cg_dir lim pids)/pids.max")" = 200 ]
    [ "$(cat "$(cg_dir lim cpu)/cpu.cfs_quota_us")" = 100000 ]
    run sb exec lim -- sh -c 'echo $FOO; hostname; cat /mnt/shared/file; touch /mnt/shared/x 2>&1 || echo ro'
    [ "${lines[0]}" = bar ]
    [ "${lines[1]}" = limhost ]
    [ "${lines[2]}" = from-host ]
    [ "${lines[-1]}" = ro ]
    run sb exec --workdir /tmp --env X=1 lim -- sh -c 'pwd; echo $X; id -un'
    [ "$output" = "$(printf '/tmp\n1\ndev')" ]
    run sb exec --user root lim -- id -u
    [ "$output" = 0 ]
    grep -q limhost "$WSROOT/state/workspaces/lim/etc/hosts"
}

@test "network: outbound works, host loopback is not reachable, --publish forwards, --network none" {
    WS_NAMES="net nonet"
    port=$((20000 + RANDOM % 10000))
    hport=$((30000 + RANDOM % 10000))
    python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); time.sleep(60)' "$hport" &
    hostsrv=$!
    sb create net --image img --publish "127.0.0.1:$port:8080"
    sb start net
    # A tiny server inside (perl is in every Debian image).
    sb exec net -- sh -c 'perl -MIO::Socket::INET -e '"'"'$s=IO::Socket::INET->new(LocalPort=>8080,Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){print $c "hello-from-ws\n"; close $c}'"'"' >/dev/null 2>&1 &'
    sleep 0.5
    run python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3); print(s.recv(100).decode().strip())' "$port"
    [ "$output" = hello-from-ws ]
    # The host's loopback service is not reachable from inside.
    run sb exec net -- bash -c "exec 3<>/dev/tcp/10.0.2.2/$hport && echo connected"
    [[ "$output" != *connected* ]]
    run sb exec net -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$hport && echo connected"
    [[ "$output" != *connected* ]]
    # A taken host port is refused at create.
    run sb create nonet --image img --publish "127.0.0.1:$hport:80"
    [ "$status" -ne 0 ]; [[ "$output" == *"already in use"* ]]
    sb create nonet --image img --network none
    sb start nonet
    run sb exec nonet -- cat /proc/net/dev
    [[ "$output" != *tap0* ]]
    kill "$hostsrv"
}

@test "IPv6: fd00::100 behind libslirp when the host has an IPv6 default route, none without one" {
    # Each case runs sudobox in a private network namespace as "the host":
    # one with a veth carrying fd99::1 and a default route, one with only lo.
    port=$((20000 + RANDOM % 10000))
    run env SB_BIN="$SUDOBOX" SB_ROOT="$WSROOT/state" PORT="$port" unshare -n sh -c '
        ip link set lo up
        ip link add sbv0 type veth peer name sbv1 && ip link set sbv0 up && ip link set sbv1 up &&
            ip -6 addr add fd99::1/64 dev sbv0 nodad && ip -6 route add default via fd99::2 dev sbv0 || exit 1
        python3 -c "import socket,sys
s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"::\", int(sys.argv[1]))); s.listen(5)
while True:
    c,_=s.accept(); c.sendall(b\"hello-v6\\n\"); c.close()" "$PORT" &
        sleep 0.3
        "$SB_BIN" --root "$SB_ROOT" run --rm img -- bash -c "grep -c fd000000000000000000000000000100 /proc/net/if_inet6
            exec 3<>/dev/tcp/fd99::1/$PORT && cat <&3
            exec 4<>/dev/tcp/fd00::2/$PORT && echo HOST-LOOPBACK-REACHED"
        kill $!' 3>&-
    echo "$output"
    [ "${lines[0]}" = 1 ]
    [[ "$output" == *hello-v6* ]]
    [[ "$output" != *HOST-LOOPBACK-REACHED* ]]
    run env SB_BIN="$SUDOBOX" SB_ROOT="$WSROOT/state" unshare -n sh -c '
        ip link set lo up
        "$SB_BIN" --root "$SB_ROOT" run --rm img -- sh -c "grep -c fd00 /proc/net/if_inet6; grep -c tap0 /proc/net/dev"' 3>&-
    echo "$output"
    [ "$output" = "$(printf '0\n1')" ]
}

@test "restart, logs and inspect" {
    WS_NAMES=rs
    sb create rs --image img
    sb start rs
    pid1=$(sb inspect rs | python3 -c 'import json,sys; print(json.load(sys.stdin)["monitorPid"])')
    sb restart rs
    pid2=$(sb inspect rs | python3 -c 'import json,sys; print(json.load(sys.stdin)["monitorPid"])')
    [ "$pid1" != "$pid2" ]
    run sb start rs
    [ "$status" -ne 0 ]; [[ "$output" == *"already running"* ]]
    run sb logs rs
    [ "$status" -eq 0 ]
    run sb stop rs
    [ "$status" -eq 0 ]
    run sb stop rs
    [ "$status" -ne 0 ]; [[ "$output" == *"not running"* ]]
    run sb rm rs
    [ "$status" -eq 0 ]
}

@test "two state roots never hand out the same host range" {
    WS_NAMES=xr1
    . "$SB_TOP/tests/lib/rootfs.sh"
    local root2=$WSROOT/state2
    "$SUDOBOX" --root "$root2" image import img2 "$(sb_rootfs_tar base)" >/dev/null
    sb create xr1 --image img
    "$SUDOBOX" --root "$root2" create xr2 --image img2
    a=$(sb inspect xr1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    b=$("$SUDOBOX" --root "$root2" inspect xr2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
    "$SUDOBOX" --root "$root2" rm xr2
    "$SUDOBOX" --root "$root2" image rm img2
    rm -rf "$root2"
    echo "ranges $a and $b"
    [ "$a" != "$b" ]
}

@test "run --rm: the command runs as the workspace user in the foreground, its exit code returns, nothing is left" {
    run sb run --rm img -- sh -c 'id -un; sudo -n id -u; test -e /sys/class/net/tap0 && echo net; exit 7'
    echo "$output"
    [ "$status" -eq 7 ]
    [ "$output" = "$(printf 'dev\n0\nnet')" ]
    [ -z "$(sb ls -q)" ]
    [ -z "$(find "$WSROOT/state/workspaces" "$WSROOT/state/volumes" -mindepth 1 -maxdepth 1 -name 'run-*')" ]
    ! grep -rqF "$WSROOT/state	" /var/lib/sudobox-ids
}

@test "a default seccomp profile confines workspaces; --security-opt seccomp=unconfined lifts it" {
    run sb run --rm img -- grep '^Seccomp:' /proc/self/status
    [ "$status" -eq 0 ] && [[ "$output" == *"Seccomp:"*2 ]]
    run sb run --rm --security-opt seccomp=unconfined img -- grep '^Seccomp:' /proc/self/status
    [ "$status" -eq 0 ] && [[ "$output" == *"Seccomp:"*0 ]]
    run sb run --rm --security-opt seccomp=/tmp/profile.json img -- true
    [ "$status" -ne 0 ] && [[ "$output" == *'--security-opt "seccomp=/tmp/profile.json": expected seccomp=unconfined'* ]]
}

@test "run --rm killed while its command runs leaves a running workspace that rm removes" {
    WS_NAMES=killed-run
    # A duration no other workspace on the host (make demo's sleeps 600) uses.
    sb run --rm --name killed-run img -- sleep 599.5 &
    pid=$!
    for _ in $(seq 100); do
        sb inspect killed-run 2>/dev/null | grep -q '"state": "running"' && break
        sleep 0.1
    done
    sb exec killed-run -- true
    kill -9 "$pid"
    wait "$pid" || true
    run sb inspect killed-run
    [[ "$output" == *'"state": "running"'* ]]
    sb rm --force --volumes killed-run
    [ -z "$(sb ls -q)" ]
    ! pgrep -fx "sleep 599.5"
}
