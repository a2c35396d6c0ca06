# Common setup/teardown for the integration tests (load from a .bats file:
#   load ../lib/helpers).
#
# Every test gets its own 0700 directory $TMP holding the runtime root
# ($ROOT) and its bundles, fresh container ids, and a teardown that deletes
# every container it created and then fails the test if anything is left:
# a mount below $TMP, a process whose root is below $TMP, a cgroup named
# after one of its ids.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
: "${RUNTIME:=$BUILD/src/runc/sudobox-runc}"
. "$SB_TOP/tests/lib/rootfs.sh"

# Receives pty masters from --console-socket (runs on the host).
CONSOLE_RECV=$SB_TOP/tests/lib/console-recv.py

is_runc() { [ "$(basename "$RUNTIME")" = runc ]; }
skip_if_runc() { is_runc && skip "${1:-runc does not add a user namespace}"; return 0; }

sb_setup() {
    [ -x "$RUNTIME" ] || command -v "$RUNTIME" >/dev/null ||
        skip "runtime $RUNTIME is not built"
    TMP=$(mktemp -d /tmp/sbtest.XXXXXX)
    chmod 700 "$TMP"
    ROOT=$TMP/state
    BUNDLE=$TMP/bundle
    SB_IDS=()
    SB_CLEANUP=()
}

# new_ids N: sets ID, ID2 ... IDN to ids unique to this test (and $TMP),
# remembered for teardown.  (Not an echoing function: $(...) would lose them.)
new_ids() {
    local i n=${1:-1} id
    for ((i = 1; i <= n; i++)); do
        id=$(sb_id_prefix)$BATS_TEST_NUMBER-$i
        SB_IDS+=("$id")
        if [ "$i" = 1 ]; then ID=$id; else printf -v "ID$i" %s "$id"; fi
    done
}

rt() { "$RUNTIME" --root "$ROOT" "$@"; }

# The cgroup path the tests give their containers.
cg_path() { echo "/sudobox-test/$1"; }

# state_field ID FIELD
state_field() {
    rt state "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v)' "$2"
}

# wait_for CMD...: retries for up to 5 s.
wait_for() {
    local i
    for ((i = 0; i < 50; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

status_is() { [ "$(state_field "$1" status 2>/dev/null)" = "$2" ]; }

sb_leftover_mounts() { awk -v t="$TMP" '$5 == t || index($5, t "/") == 1 {print $5}' /proc/self/mountinfo; }

# A container's root is a mount in its own namespace: /proc/PID/root reads
# "/" from here, but the root mount's entry in /proc/PID/mountinfo names the
# directory it came from (relative to its filesystem, so match on the unique
# name of $TMP rather than on its full path).
sb_leftover_procs() {
    local p base
    base=$(basename "$TMP")
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        # Only the root mount counts: a process of another test or workspace
        # may hold copies of our mounts elsewhere in its namespace.
        awk -v b="/$base" '$5 == "/" { if (index($4 "/", b "/")) f = 1; exit }
            END { exit !f }' "$p/mountinfo" 2>/dev/null && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
    done
    return 0
}

# Every id new_ids makes carries $TMP's unique suffix.
sb_id_prefix() { echo "sbt-$(basename "$TMP" | cut -d. -f2)-"; }

sb_leftover_cgroups() {
    local pre d
    pre=$(sb_id_prefix)
    # Test paths, sudobox's default (/sudobox/ID) and runc's (/ID).
    for d in /sys/fs/cgroup/*/sudobox/"$pre"* /sys/fs/cgroup/*/sudobox-test/"$pre"* \
        /sys/fs/cgroup/sudobox/"$pre"* /sys/fs/cgroup/sudobox-test/"$pre"* \
        /sys/fs/cgroup/*/"$pre"* /sys/fs/cgroup/"$pre"*; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

sb_teardown() {
    [ -n "${TMP:-}" ] || return 0
    local id bad="" m
    for id in "${SB_IDS[@]}"; do
        rt delete --force "$id" >/dev/null 2>&1 || true
    done
    # Whatever is still registered (ids a test did not announce).
    if [ -d "$ROOT" ]; then
        for id in $(rt list -q 2>/dev/null); do
            rt delete --force "$id" >/dev/null 2>&1 || true
        done
    fi
    [ -n "$(sb_leftover_procs)" ] && sleep 0.5
    m=$(sb_leftover_mounts)
    [ -n "$m" ] && bad+="leftover mounts: $m"$'\n'
    m=$(sb_leftover_procs)
    if [ -n "$m" ]; then
        bad+="leftover processes: $m"$'\n'
        # Ours (their root is below $TMP): do not leave them running.
        kill -9 $(echo "$m" | cut -d' ' -f1) 2>/dev/null || true
        sleep 0.2
    fi
    m=$(sb_leftover_cgroups)
    [ -n "$m" ] && bad+="leftover cgroups: $m"$'\n'
    # Never let rm -rf walk into a mount: detach what is left first.
    for m in $(sb_leftover_mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    for m in $(sb_leftover_cgroups); do rmdir "$m" 2>/dev/null || true; done
    # The parents the tests' cgroupsPath made, once empty (ours, never others').
    rmdir /sys/fs/cgroup/*/sudobox-test /sys/fs/cgroup/sudobox-test 2>/dev/null || true
    rm -rf "$TMP" "${SB_CLEANUP[@]}"
    if [ -n "$bad" ]; then
        echo "$bad" >&2
        return 1
    fi
}

setup() { sb_setup; }
teardown() { sb_teardown; }

# Detached commands must not hold bats' output pipes (nor fd 3) open, or bats
# waits for the container to exit: their stdio goes to $TMP/ID.out.
rt_detached() {
    local id=${!#} rc=0
    rt "$@" </dev/null >>"$TMP/$id.out" 2>&1 3>&- || rc=$?
    # On failure show what the runtime said (bats prints a failing test's output).
    [ "$rc" = 0 ] || cat "$TMP/$id.out"
    return "$rc"
}

# bundle [make_bundle options] [--] ARGS...: $BUNDLE with the test cgroup
# path for $ID (call new_ids first).
bundle() { make_bundle "$BUNDLE" --cgroup "$(cg_path "$ID")" "$@"; }

# pids in the container ($1) as seen by the runtime's ps --format json.
ps_pids() { rt ps --format json "$1" | python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin))))'; }

pid_alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# The v1 path of a controller file for the test cgroup of $1 (pure v2: the
# file directly below /sys/fs/cgroup).
cg_file() {
    local id=$1 ctrl=$2 file=$3
    if [ -d "/sys/fs/cgroup/$ctrl" ]; then
        echo "/sys/fs/cgroup/$ctrl$(cg_path "$id")/$file"
    else
        echo "/sys/fs/cgroup$(cg_path "$id")/$file"
    fi
}

# rt_files ARGS...: like bats' run for commands that might (wrongly) leave a
# container behind holding their stdio: output goes through files.  Sets
# status, output (stdout then stderr) and stderr.
rt_files() {
    status=0
    rt "$@" </dev/null >"$TMP/rt.out" 2>"$TMP/rt.err" 3>&- || status=$?
    stderr=$(cat "$TMP/rt.err")
    output=$(cat "$TMP/rt.out" "$TMP/rt.err")
}
