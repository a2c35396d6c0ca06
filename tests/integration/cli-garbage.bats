#!/usr/bin/env bats
# Every command of `sudobox` and `sudobox-runc` given garbage (wrong arity,
# invalid names, huge numbers, non-UTF-8 bytes, empty strings) fails with a
# clear error: a non-zero exit (not a signal), a message naming the problem,
# no sanitizer report; and the state root is left exactly as it was.
# Run it against an ASan/UBSan build too: BUILD=build-asan bats FILE.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
SUDOBOX=$BUILD/src/sudobox/sudobox
RUNC=$BUILD/src/runc/sudobox-runc
. "$SB_TOP/tests/lib/rootfs.sh"

BIG=99999999999999999999999
NONUTF=$'\xff\xfe\x80bad'

# A listing of every file under the state roots with its metadata and
# content hash; the registry is dumped as SQL so page reuse and SQLite's
# -wal/-shm files do not count.
state_digest() {
    (cd "$GROOT" && find sb runc ! -name 'registry.db*' -printf '%p %m %u %g %s %y %l\n' | sort)
    (cd "$GROOT" && find sb runc -type f ! -name 'registry.db*' -exec sha256sum {} + | sort)
    python3 -c 'import sqlite3,sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for line in c.iterdump(): print(line)' "$GROOT/sb/registry.db"
}

setup_file() {
    [ -x "$SUDOBOX" ] && [ -x "$RUNC" ] || return 0
    export GROOT
    GROOT=$(mktemp -d /tmp/sbgarbage.XXXXXX)
    chmod 700 "$GROOT"
    sb_tiny_rootfs "$GROOT/tiny" >/dev/null
    "$SUDOBOX" --root "$GROOT/sb" image import img "$GROOT/tiny" >/dev/null
    "$SUDOBOX" --root "$GROOT/sb" create ws --image img --network none >/dev/null
    # A created (not started) container for the runtime's commands to hit.
    mkdir -p "$GROOT/bundle"
    cp -a "$GROOT/tiny" "$GROOT/bundle/rootfs"
    (cd "$GROOT/bundle" && "$RUNC" spec)
    SB_ARGS='["/usr/bin/sleep", "100"]' spec_edit "$GROOT/bundle" 'import os; c["process"]["args"] = json.loads(os.environ["SB_ARGS"]); c["process"]["terminal"] = False'
    "$RUNC" --root "$GROOT/runc" create -b "$GROOT/bundle" c1 </dev/null >/dev/null 2>&1
    state_digest >"$GROOT/digest.before"
}

teardown_file() {
    [ -n "${GROOT:-}" ] || return 0
    "$RUNC" --root "$GROOT/runc" delete --force c1 >/dev/null 2>&1 || true
    "$SUDOBOX" --root "$GROOT/sb" rm --force --volumes ws >/dev/null 2>&1 || true
    "$SUDOBOX" --root "$GROOT/sb" image rm img >/dev/null 2>&1 || true
    rm -rf "$GROOT"
}

setup() {
    [ -x "$SUDOBOX" ] && [ -x "$RUNC" ] || skip "sudobox or sudobox-runc is not built"
}

# garbage WANT BINARY ARGS...: fails cleanly and says WANT (a substring,
# case insensitive; A|B for either).  `unchanged` then checks the state.
garbage() {
    local want=$1
    shift
    run "$@" </dev/null
    echo "\$ ${*}"
    echo "status $status: $output"
    [ "$status" -ge 1 ] && [ "$status" -le 125 ]
    [ -n "$output" ]
    local w ok=false
    IFS='|' read -ra alts <<<"$want"
    for w in "${alts[@]}"; do [[ "${output,,}" == *"${w,,}"* ]] && ok=true; done
    $ok
    [[ "$output" != *Sanitizer* ]] && [[ "$output" != *"runtime error:"* ]]
}

sb() { garbage "$1" "$SUDOBOX" --root "$GROOT/sb" "${@:2}"; }
rt() { garbage "$1" "$RUNC" --root "$GROOT/runc" "${@:2}"; }

unchanged() {
    state_digest >"$GROOT/digest.after"
    diff -u "$GROOT/digest.before" "$GROOT/digest.after"
}

@test "sudobox: global options and unknown commands" {
    garbage "unknown command" "$SUDOBOX" --root "$GROOT/sb" bogus
    garbage "unknown command" "$SUDOBOX" --root "$GROOT/sb" "$NONUTF"
    garbage "unknown command" "$SUDOBOX" --root "$GROOT/sb" ""
    garbage "usage" "$SUDOBOX" --root "$GROOT/sb"
    garbage "root" "$SUDOBOX" --root
    garbage "--root" "$SUDOBOX" --root "" ls
    garbage "unrecognized option" "$SUDOBOX" --bogus ls
    unchanged
}

@test "sudobox create/run: arity, names, numbers, bytes" {
    sb usage create
    sb "--image is required" create a
    sb "requires an argument" create a --image
    sb "invalid workspace name" create "" --image img
    sb "invalid workspace name" create "$NONUTF" --image img
    sb "invalid workspace name" create "Bad/Name" --image img
    sb "invalid workspace name" create "$(printf 'x%.0s' $(seq 1 300))" --image img
    sb "already exists" create ws --image img
    sb 'image "nope" not found' create a --image nope
    sb 'not found' create a --image "$NONUTF"
    sb "usage" create a --image img extra
    sb "--memory" create a --image img --memory "$BIG"
    sb "--memory" create a --image img --memory 0
    sb "--memory" create a --image img --memory ""
    sb "--memory" create a --image img --memory "$NONUTF"
    sb "--pids" create a --image img --pids "$BIG"
    sb "--pids" create a --image img --pids -5
    sb "--cpus" create a --image img --cpus "$BIG"
    sb "--cpus" create a --image img --cpus nan
    sb "--cpus" create a --image img --cpus inf
    sb "--publish" create a --image img --publish 99999:1
    sb "--publish" create a --image img --publish "1:$BIG"
    sb "--publish" create a --image img --publish ""
    sb "--volume" create a --image img --volume ::
    sb "--volume" create a --image img --volume "/nonexistent:/x"
    sb "--volume" create a --image img --volume "/tmp:relative"
    sb "--env" create a --image img --env ""
    sb "--env" create a --image img --env "=x"
    sb "--hostname" create a --image img --hostname "$NONUTF"
    sb "--hostname" create a --image img --hostname "$(printf 'h%.0s' $(seq 1 100))"
    sb "--isolation" create a --image img --isolation bogus
    sb "--network" create a --image img --network bogus
    sb "--user" create a --image img --user nosuchuser
    sb "requires an argument" run --image
    sb "usage" run --image img
    sb 'image "nope" not found' run nope -- true
    unchanged
}

@test "sudobox: commands on one workspace, wrong arity and bad names" {
    for cmd in start restart inspect logs shell; do
        sb usage "$cmd"
        sb usage "$cmd" ws extra
        sb "invalid workspace name" "$cmd" ""
        sb "invalid workspace name" "$cmd" "$NONUTF"
        sb "invalid workspace name" "$cmd" ../../etc
    done
    sb usage stop
    sb usage stop ws extra
    sb "--timeout" stop --timeout "$BIG" ws
    sb "--timeout" stop --timeout -1 ws
    sb "--timeout" stop --timeout "" ws
    sb "invalid workspace name" stop "$NONUTF"
    sb usage rm
    sb usage rm ws extra
    sb "invalid workspace name" rm ""
    sb 'not found' rm nope
    sb usage exec
    sb usage exec ws
    sb usage exec ws --
    sb "--workdir" exec --workdir relative ws -- true
    sb "invalid workspace name" exec "$NONUTF" -- true
    sb "not running" exec ws -- true
    sb "not running" exec --user "$BIG" ws -- true
    sb "not running" stop ws
    sb usage ls extra
    sb "--format" ls --format yaml
    sb "--format" ls --format "$NONUTF"
    sb usage gc extra
    sb usage check extra
    unchanged
}

@test "sudobox image: arity, names, sources" {
    sb usage image
    sb "unknown command" image bogus
    sb usage image build
    sb "invalid image name" image build ""
    sb "invalid image name" image build "$NONUTF"
    sb usage image build a extra
    sb "invalid user name" image build a --user "$NONUTF"
    sb "--user" image build a --user "dev:$BIG"
    sb usage image import
    sb usage image import a
    sb "usage|invalid image name" image import "" "$GROOT/tiny"
    sb "already exists" image import img "$GROOT/tiny"
    sb "no such file" image import a /nonexistent
    sb "no such file" image import a "$NONUTF"
    sb usage image import a b c
    sb usage image ls extra
    sb "--format" image ls --format yaml
    sb usage image inspect
    sb "not found" image inspect nope
    sb "not found|invalid image name" image inspect "$NONUTF"
    sb usage image rm
    sb "invalid image name" image rm ""
    sb "used by" image rm img
    unchanged
}

@test "sudobox-runc: global options and unknown commands" {
    garbage "unknown command" "$RUNC" --root "$GROOT/runc" bogus
    garbage "unknown command" "$RUNC" --root "$GROOT/runc" "$NONUTF"
    garbage "usage" "$RUNC" --root "$GROOT/runc"
    garbage "--root" "$RUNC" --root "" list
    garbage "--log-format" "$RUNC" --root "$GROOT/runc" --log-format yaml list
    garbage "systemd" "$RUNC" --root "$GROOT/runc" --systemd-cgroup create -b "$GROOT/bundle" x
    garbage "unrecognized option" "$RUNC" --bogus list
    unchanged
}

@test "sudobox-runc: container commands, wrong arity, bad ids, huge numbers" {
    for cmd in start state delete pause resume ps kill; do
        rt usage "$cmd"
        rt "invalid container id" "$cmd" ""
        rt "invalid container id" "$cmd" "$NONUTF"
        rt "invalid container id" "$cmd" ../../etc
        rt "does not exist" "$cmd" nope
    done
    for cmd in start state delete pause resume; do
        rt usage "$cmd" c1 extra
    done
    rt usage create
    rt usage create a b
    rt "invalid container id" create ""
    rt "invalid container id" create "$NONUTF"
    rt "invalid container id" create "$(printf 'x%.0s' $(seq 1 5000))"
    rt "already exists" create -b "$GROOT/bundle" c1
    rt "--preserve-fds" create --preserve-fds "$BIG" x
    rt "--preserve-fds" create --preserve-fds -1 x
    rt "bundle" create -b /nonexistent x
    rt "bundle" create -b "$NONUTF" x
    rt usage run
    rt "--preserve-fds" run --preserve-fds "$BIG" x
    rt "unknown signal" kill c1 SIGFOO
    rt "unknown signal" kill c1 "$BIG"
    rt "unknown signal" kill c1 -1
    rt "unknown signal" kill c1 ""
    rt "unknown signal" kill c1 "RTMIN+9223372036854775807"
    rt usage kill c1 KILL extra
    rt "--format" ps --format yaml c1
    rt usage list extra
    rt "--format" list --format yaml
    rt usage exec
    rt usage exec c1
    rt "--user" exec -u abc c1 true
    rt "--user" exec -u "$BIG:1" c1 true
    rt "--env" exec -e novalue c1 true
    rt "--process" exec -p /nonexistent c1
    rt "--preserve-fds" exec --preserve-fds "$BIG" c1 true
    rt "does not exist" exec nope true
    rt usage update
    rt "--memory" update --memory "$BIG" c1
    rt "--memory" update --memory abc c1
    rt "--memory" update --memory "" c1
    rt "--pids-limit" update --pids-limit "$BIG" c1
    rt "--resources" update -r /nonexistent c1
    rt usage features extra
    rt usage spec extra
    unchanged
}
