#!/usr/bin/env bats
# The escape battery (docs/security.md): root inside a workspace (the
# workspace user `dev` after `sudo -n`) attacks the host, the runtime and
# another workspace.  tests/security/escape runs inside through a read-only
# volume and prints one TAP line per attempt; every test here then checks
# that the host is unchanged (kernel settings, hostname, clock, a canary
# tree, mounts, cgroup files, keyrings, the binaries, sentinel processes).
#
# One variable picks the isolation mode: ISOLATION=userns (default) or any
# mode `sudobox create --isolation` accepts.  `make test` runs it once per
# mode through links named battery-MODE.bats, whose name sets the default.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
mode_from_name=$(basename "$BATS_TEST_FILENAME" .bats)
mode_from_name=${mode_from_name#battery}
: "${ISOLATION:=${mode_from_name#-}}"
: "${ISOLATION:=userns}"
SUDOBOX=$BUILD/src/sudobox/sudobox
# A sanitizer build does not make the static escape program: take the
# normal build's then (it runs inside, whichever build runs the manager).
: "${ESCAPE_DIR:=$BUILD/tests/security}"
[ -x "$ESCAPE_DIR/escape" ] || ESCAPE_DIR=$SB_TOP/build/tests/security
. "$SB_TOP/tests/lib/rootfs.sh"

sb() { "$SUDOBOX" --root "$WSROOT/state" "$@"; }

. "$BATS_TEST_DIRNAME/battery-lib.bash"

host_id_first() { sb inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])'; }

# Where escape is inside: a read-only volume, or a copy sent through
# `exec -i` in a mode without host volumes (microvm).
if [ "$ISOLATION" = microvm ]; then ESCAPE=/usr/local/lib/battery/escape; else ESCAPE=/battery/escape; fi

# Runs the battery as root inside WS: escape ARGS..., TAP on stdout.
# A hung run fails the test instead of the whole suite.
battery() {
    local ws=$1
    shift
    timeout -k 10 300 "$SUDOBOX" --root "$WSROOT/state" exec "$ws" -- sudo -n "$ESCAPE" $(battery_args) "$@"
}

new_ws() {
    local ws=$1
    shift
    if [ "$ISOLATION" = microvm ]; then
        sb create "$ws" --image img --isolation "$ISOLATION" --user dev "$@"
        sb start "$ws"
        sb exec -i "$ws" -- sudo -n sh -c "mkdir -p ${ESCAPE%/*} && cat > $ESCAPE && chmod 755 $ESCAPE" \
            <"$ESCAPE_DIR/escape"
    else
        sb create "$ws" --image img --isolation "$ISOLATION" --user dev --volume "$ESCAPE_DIR:/battery:ro" "$@"
        sb start "$ws"
    fi
}

setup_file() {
    [ -x "$SUDOBOX" ] && [ -x "$ESCAPE_DIR/escape" ] || return 0
    export WSROOT HOSTPORT SENTINEL_ROOT SENTINEL_HOSTKEY SENTINEL_KEYDESC SENTINELS
    WSROOT=$(mktemp -d /tmp/sbsec.XXXXXX)
    chmod 700 "$WSROOT"
    mkdir -p "$WSROOT/canary/dir"
    echo battery-canary >"$WSROOT/canary/secret"
    echo battery-canary >"$WSROOT/canary/dir/file"
    sb image import img "$(sb_rootfs_tar base)" >"$WSROOT/import.log" 2>&1
    # A service on the host's loopback only, never published.
    HOSTPORT=$((20000 + RANDOM % 10000))
    python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"battery-host-secret\n"); c.close()' "$HOSTPORT" >/dev/null 2>&1 3>&- &
    echo $! >"$WSROOT/service.pid"
    # A key in root's user keyring the workspace must not find.
    add_host_key >"$WSROOT/hostkey"
    SENTINEL_HOSTKEY=$(cat "$WSROOT/hostkey")
    # Another workspace, the victim of the cross-workspace attempts.
    new_ws other
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
}

teardown() {
    for ws in ${WS_NAMES:-}; do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
}

# Fails unless the TAP output names no succeeded attempt.
all_blocked() {
    echo "$output"
    [[ "$output" == *"1.."* ]]
    ! grep -q '^not ok' <<<"$output"
}

@test "battery ($ISOLATION): every in-workspace attempt is blocked and the host is unchanged" {
    WS_NAMES=attacker
    new_ws attacker
    run battery attacker all
    all_blocked
    [ "$status" -eq 0 ]
    [[ "$output" == *", 0 succeeded"* ]]
    # The victim workspace is untouched.
    [ "$(sb exec other -- cat /projects/secret)" = other-secret ]
    [ ! -e "$WSROOT/state/volumes/other-projects/battery-other" ]
    check_host
}

@test "battery ($ISOLATION): the runtime cannot be overwritten through /proc/PID/exe while exec runs (CVE-2019-5736)" {
    # No host runtime process ever enters a microvm guest: the only binary
    # this attack reaches there is the guest's own agent.
    [ "$ISOLATION" = microvm ] && skip "microvm: no host runtime binary is reachable from the guest"
    WS_NAMES=race
    new_ws race
    battery race exe-race 8 >"$WSROOT/race.out" 2>&1 &
    racer=$!
    # Keep the runtime entering the workspace while the attacker scans.
    end=$((SECONDS + 7))
    while [ $SECONDS -lt $end ]; do sb exec race -- true; done
    wait "$racer" || true
    output=$(cat "$WSROOT/race.out")
    all_blocked
    check_host
}

@test "battery ($ISOLATION): exec --workdir /proc/self/fd/N does not reach the host (CVE-2024-21626)" {
    WS_NAMES=cwd
    new_ws cwd
    rel=$(printf '../%.0s' $(seq 1 40))${WSROOT#/}/canary/secret
    for n in $(seq 3 30); do
        # Through sh, which reports the status: a refused workdir may exit
        # 127, which bats' run would otherwise warn about.
        run sh -c '"$@"; echo "exit $?"' sh "$SUDOBOX" --root "$WSROOT/state" exec --workdir "/proc/self/fd/$n" cwd \
            -- sudo -n sh -c "cat $rel; pwd -P"
        echo "fd $n: $output"
        [[ "$output" != *battery-canary* ]]
    done
    check_host
}

@test "battery ($ISOLATION): TIOCSTI/TIOCLINUX cannot inject into the terminal of exec -t or exec" {
    WS_NAMES=tty
    new_ws tty
    for t in -t ""; do
        run python3 "$BATS_TEST_DIRNAME/tty-inject.py" "$SUDOBOX" --root "$WSROOT/state" exec $t tty -- \
            sudo -n "$ESCAPE" tty-inject
        echo "exec $t: $output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"pending input: none"* ]]
        ! grep -q '^not ok' <<<"$output"
    done
    check_host
}

@test "battery ($ISOLATION): kill -9 -1 as root inside affects only the workspace" {
    WS_NAMES=killer
    new_ws killer
    first=$(host_id_first killer)
    # A host process running as the workspace's own host uid: the same
    # credentials, outside the pid namespace.
    setpriv --reuid="$first" --regid="$first" --clear-groups sleep 1000 >/dev/null 2>&1 3>&- &
    same_uid=$!
    sb exec killer -- sh -c 'sleep 1000 >/dev/null 2>&1 &'
    run battery killer kill-all
    echo "$output"
    kill -0 "$same_uid"
    kill -0 "$SENTINEL_ROOT"
    kill "$same_uid"
    # Inside, everything but init is gone; the workspace still works.
    run sb exec killer -- sh -c 'ps -e -o comm= | grep -c sleep || true'
    [ "$output" = 0 ]
    [ "$(sb exec other -- cat /projects/secret)" = other-secret ]
    check_host
}

@test "battery ($ISOLATION): fork bomb stays under --pids and the host stays responsive" {
    WS_NAMES=bomb
    # In a microvm the limit is the guest kernel's, on the cgroup the
    # agent runs the workspace's processes in.
    new_ws bomb --pids 100
    battery bomb fork-bomb 100 >"$WSROOT/bomb.out" 2>&1 &
    bomber=$!
    sleep 1
    start=$(date +%s%N)
    for i in $(seq 1 20); do /bin/true; done
    elapsed=$((($(date +%s%N) - start) / 1000000))
    echo "20 host forks took ${elapsed} ms"
    [ "$elapsed" -lt 2000 ]
    wait "$bomber" || true
    output=$(cat "$WSROOT/bomb.out")
    all_blocked
    check_host
}

@test "battery ($ISOLATION): memory balloon stays under --memory" {
    WS_NAMES=balloon
    new_ws balloon --memory 256M
    run battery balloon balloon 1024
    all_blocked
    start=$(date +%s%N)
    /bin/true
    [ $((($(date +%s%N) - start) / 1000000)) -lt 1000 ]
    check_host
}

@test "battery ($ISOLATION): /projects of the image as a symlink to a host path stays inside" {
    WS_NAMES=symproj
    # The image carries /projects -> the host's canary directory, and that
    # path exists in the image too: the volume must land on the image's copy.
    python3 - "$(sb_rootfs_tar base)" "$WSROOT/symproj.tar" "$WSROOT/canary/dir" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src:
        if m.name.lstrip("./") == "projects":
            continue
        dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    parts = sys.argv[3].strip("/").split("/")
    for i in range(1, len(parts) + 1):
        d = tarfile.TarInfo("./" + "/".join(parts[:i]))
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        dst.addfile(d)
    link = tarfile.TarInfo("./projects")
    link.type = tarfile.SYMTYPE
    link.linkname = sys.argv[3]
    dst.addfile(link)
PY
    sb image import symimg "$WSROOT/symproj.tar"
    rm -f "$WSROOT/symproj.tar"
    sb create symproj --image symimg --isolation "$ISOLATION" --user dev
    run sb start symproj
    echo "start: $status $output"
    if [ "$status" -eq 0 ]; then
        # (A mode whose init mounts a tmpfs on /tmp hides the image's copy
        # of the target: the writes may fail, they must not reach the host.)
        run sb exec symproj -- sudo -n sh -c "echo pwned > /projects/file; echo pwned > /projects/new; echo pwned > $WSROOT/canary/dir/file"
        echo "writes: $status $output"
        # What was written through /projects is in the workspace's volume.
        [ "$status" -ne 0 ] || [ "$(cat "$WSROOT/state/volumes/symproj-projects/new")" = pwned ]
    fi
    [ "$(cat "$WSROOT/canary/dir/file")" = battery-canary ]
    [ ! -e "$WSROOT/canary/dir/new" ]
    sb rm --force --volumes symproj
    sb image rm symimg
    check_host
}

@test "battery ($ISOLATION): an image with entries escaping its root is refused or contained" {
    python3 - "$WSROOT/evil.tar" "$WSROOT/canary" <<'PY'
import io, sys, tarfile
def add(t, name, kind=tarfile.REGTYPE, link="", data=b"pwned\n"):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], "w") as t:
    add(t, "./bin", tarfile.DIRTYPE)
    add(t, "../../../../../../.." + sys.argv[2] + "/dotdot")
    add(t, "./abs", tarfile.SYMTYPE, sys.argv[2])
    add(t, "./abs/through-symlink")
    add(t, "./hard", tarfile.LNKTYPE, sys.argv[2] + "/secret")
    add(t, "./rel", tarfile.SYMTYPE, "../../../../../../../.." + sys.argv[2])
    add(t, "./rel/through-relative")
PY
    run sb image import evil "$WSROOT/evil.tar"
    echo "$output"
    sb image rm evil >/dev/null 2>&1 || true
    check_host
}

@test "battery ($ISOLATION): a setuid-root file planted inside cannot be run by a host user" {
    WS_NAMES=plant
    new_ws plant
    sb exec plant -- sudo -n sh -c 'cp /bin/sh /projects/rootsh; chmod 4755 /projects/rootsh; cp /bin/sh /usr/local/bin/rootsh; chmod 4755 /usr/local/bin/rootsh'
    found=0
    for f in $(find "$WSROOT/state" -name rootsh -perm -4000); do
        found=$((found + 1))
        run setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "$f -p -c 'id -u'"
        echo "$f: $status $output"
        [ "$output" != 0 ]
    done
    # (A microvm keeps both inside disk images: nothing to find.)
    [ "$found" -ge 2 ] || [ "$ISOLATION" = microvm ]
    check_host
}

@test "battery ($ISOLATION): a hostile /etc/passwd cannot hang or balloon the host-side sudobox exec" {
    WS_NAMES=passwd
    new_ws passwd
    # exec reads the workspace's /etc/passwd on the host to resolve --user.
    # A memory cap guards the shared machine should this ever regress.
    for plant in 'ln -s /dev/zero /etc/passwd' 'mkfifo /etc/passwd' \
        'head -c 64M /dev/zero > /etc/passwd'; do
        sb exec passwd -- sudo -n sh -c "mv -f /etc/passwd /etc/passwd.real 2>/dev/null; rm -f /etc/passwd; $plant"
        start=$(date +%s)
        # Prints the command's output, then its peak RSS in KiB.
        run python3 -c 'import resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
r = subprocess.run(sys.argv[1:], timeout=30, capture_output=True, text=True)
print(r.stdout.strip() or r.stderr.strip()); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$SUDOBOX" --root "$WSROOT/state" exec --user 0 passwd -- id -u
        echo "$plant: status $status in $(($(date +%s) - start)) s: $output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 0 ]
        [ "${lines[1]}" -lt 100000 ]
        [ $(($(date +%s) - start)) -lt 10 ]
        sb exec --user 0 passwd -- sh -c 'rm -f /etc/passwd; mv /etc/passwd.real /etc/passwd'
    done
    # A symlink to a host-only file is resolved inside the workspace's root:
    # the host's file neither answers --user nor sets HOME.
    echo "hostonly:x:0:0::/battery-leak:/bin/sh" >"$WSROOT/hostpw"
    sb exec passwd -- sudo -n sh -c "mv -f /etc/passwd /etc/passwd.real; ln -s $WSROOT/hostpw /etc/passwd"
    run sb exec --user hostonly passwd -- sh -c 'echo "HOME=$HOME"'
    echo "symlink to a host file: status $status: $output"
    [ "$status" -ne 0 ]
    [[ "$output" != *battery-leak* ]]
    sb exec --user 0 passwd -- sh -c 'rm -f /etc/passwd; mv /etc/passwd.real /etc/passwd'
    rm -f "$WSROOT/hostpw"
    check_host
}

@test "battery ($ISOLATION): with a published port the host's 127.0.0.1 stays unreachable" {
    WS_NAMES=pub
    new_ws pub --publish "127.0.0.1:$((HOSTPORT + 1)):8080"
    run battery pub net
    all_blocked
    check_host
}
