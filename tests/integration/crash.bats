#!/usr/bin/env bats
# Crash consistency of the workspace manager: commands (and monitors) are
# killed with SIGKILL at random moments; every next command must still find
# a consistent registry, and at the end nothing may be left: no registry
# row, range, mount, process, cgroup or state directory.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
SUDOBOX=$BUILD/src/sudobox/sudobox
: "${CRASH_ROUNDS:=200}"

setup() {
    [ -x "$SUDOBOX" ] || skip "sudobox is not built"
    . "$SB_TOP/tests/lib/rootfs.sh"
    TMPR=$(mktemp -d /tmp/sbcrash.XXXXXX)
    chmod 700 "$TMPR"
    ROOT=$TMPR/state
    sb image import img "$(sb_rootfs_tar base)" >/dev/null
}

teardown() {
    for ws in $(sb ls -q 2>/dev/null); do sb rm --force --volumes "$ws" >/dev/null 2>&1 || true; done
    sb image rm img >/dev/null 2>&1 || true
    rm -rf "$TMPR"
}

sb() { "$SUDOBOX" --root "$ROOT" "$@"; }

# The registry as seen by a fresh command: valid JSON, known states,
# distinct ranges.
check_consistent() {
    sb ls --format json | python3 -c '
import json, sys
ws = json.load(sys.stdin)
assert all(w["state"] in ("created", "running", "stopped") for w in ws), ws
firsts = [w["hostIdFirst"] for w in ws]
assert len(set(firsts)) == len(firsts), firsts'
}

leftovers() {
    findmnt -rn -o TARGET | grep -F "$TMPR" || true
    pgrep -f -- "--root $ROOT" || true
    # A network helper outlives its monitor only by a bug (its exit pipe
    # closes with the monitor): a live one whose parent is not a monitor is
    # a leak.  Zombies are not: a monitor kills its helper without reaping
    # it, and init reaps it once the monitor's exit command is done.
    for p in $(pgrep -x sudobox-net); do
        read -r st pp <<<"$(ps -o stat=,ppid= -p "$p")" || continue
        [[ $st == Z* ]] && continue
        case $(ps -o comm= -p "$pp") in sudobox-monitor | sudobox) ;; *) echo "orphan sudobox-net $p ($st)" ;; esac
    done
    # This test's workspaces only (w0..w3): other states may run their own.
    ls -d /sys/fs/cgroup/*/sudobox/ws-*-w[0-3] /sys/fs/cgroup/sudobox/ws-*-w[0-3] 2>/dev/null || true
    ls "$ROOT/run" "$ROOT/workspaces" 2>/dev/null | grep -v ':$' | grep . || true
    ls "$ROOT/volumes" 2>/dev/null | grep . || true
}

@test "$CRASH_ROUNDS rounds of SIGKILL during create, start, stop and rm leave a consistent registry and nothing behind" {
    ops=(create start stop rm)
    for ((round = 0; round < CRASH_ROUNDS; round++)); do
        ws=w$((RANDOM % 4))
        op=${ops[RANDOM % 4]}
        case $op in
        create) args=(create "$ws" --image img) ;;
        start) args=(start "$ws") ;;
        stop) args=(stop --timeout 1 "$ws") ;;
        rm) args=(rm --force --volumes "$ws") ;;
        esac
        # The binary itself in the background (not a function: $! must be it).
        "$SUDOBOX" --root "$ROOT" "${args[@]}" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # Now and then a monitor dies too.
        if ((round % 17 == 5)); then
            mon=$(pgrep -f -- "--root $ROOT start" | head -n 1)
            [ -n "$mon" ] && kill -9 "$mon" 2>/dev/null || true
        fi
        check_consistent
    done
    for ws in $(sb ls -q); do sb rm --force --volumes "$ws"; done
    sb gc
    run sb ls -q
    [ -z "$output" ]
    sleep 0.5
    left=$(leftovers)
    echo "$left"
    [ -z "$left" ]
}
