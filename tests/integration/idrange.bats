#!/usr/bin/env bats
# Exclusive host id ranges for the automatic user namespace.

load ../lib/helpers

setup() {
    sb_setup
    skip_if_runc
    bundle_shared
}

bundle_shared() {
    make_bundle "$BUNDLE" -- sleep 1000
}

# host_first ID: the host id of container id 0, from the kernel.
host_first() {
    local pid
    pid=$(state_field "$1" pid) || return 1
    awk 'NR == 1 {print $2}' "/proc/$pid/uid_map"
}

@test "two live containers get disjoint host ranges" {
    new_ids 2
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt_detached run -d -b "$BUNDLE" "$ID2"
    a=$(host_first "$ID")
    b=$(host_first "$ID2")
    [ -n "$a" ] && [ -n "$b" ]
    [ "$a" -ge 65536 ] && [ "$b" -ge 65536 ]
    d=$((a > b ? a - b : b - a))
    [ "$d" -ge 65536 ]
    pa=$(state_field "$ID" pid)
    [ "$(awk 'NR == 1 {print $3}' "/proc/$pa/uid_map")" = 65536 ]
}

@test "delete frees the range for the next container" {
    new_ids 3
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt_detached run -d -b "$BUNDLE" "$ID2"
    a=$(host_first "$ID")
    rt delete --force "$ID"
    rt_detached run -d -b "$BUNDLE" "$ID3"
    [ "$(host_first "$ID3")" = "$a" ]
    [ "$(host_first "$ID2")" != "$a" ]
}

@test "the range is recorded under ROOT/idranges and seen by later invocations" {
    new_ids 1
    rt_detached create -b "$BUNDLE" "$ID"
    a=$(host_first "$ID")
    [ -d "$ROOT/idranges" ]
    # The allocation names its owner (file name or content).
    ls "$ROOT/idranges" | grep -qF "$ID" || grep -rqF "$ID" "$ROOT/idranges"
    # A separate invocation (the runtime is not a daemon) finds the same range.
    run rt exec "$ID" cat /proc/self/uid_map
    [ "$status" -eq 0 ]
    [ "$(echo $output)" = "0 $a 65536" ]
    rt start "$ID"
    [ "$(host_first "$ID")" = "$a" ]
    rt delete --force "$ID"
    ! { ls "$ROOT/idranges" | grep -qF "$ID" || grep -rqF "$ID" "$ROOT/idranges"; }
}

@test "a failed create frees its range" {
    new_ids 2
    rt_detached run -d -b "$BUNDLE" "$ID"
    a=$(host_first "$ID")
    make_bundle "$TMP/bad" -- /no/such/binary
    run rt run -b "$TMP/bad" "$ID2" </dev/null 3>&-
    [ "$status" -ne 0 ]
    ! { ls "$ROOT/idranges" | grep -qF "$ID2" || grep -rqF "$ID2" "$ROOT/idranges"; }
}

@test "two state roots with the same pool never share a range (host-wide claims)" {
    new_ids 2
    local root2=$TMP/state2
    rt_detached run -d -b "$BUNDLE" "$ID"
    "$RUNTIME" --root "$root2" run -d -b "$BUNDLE" "$ID2" </dev/null >"$TMP/$ID2.out" 2>&1 3>&- ||
        { cat "$TMP/$ID2.out"; false; }
    pid2=$("$RUNTIME" --root "$root2" state "$ID2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    a=$(host_first "$ID")
    b=$(awk 'NR == 1 {print $2}' "/proc/$pid2/uid_map")
    "$RUNTIME" --root "$root2" delete --force "$ID2"
    rm -rf "$root2"
    d=$((a > b ? a - b : b - a))
    [ "$d" -ge 65536 ]
    # The claims name their root: none is left for the removed one.
    ! grep -rqF "$root2" /var/lib/sudobox-ids
}
