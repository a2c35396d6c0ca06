#!/usr/bin/env bats
# The runc CLI lifecycle: run, create/start/state, list, ps, kill, delete,
# pause/resume, update.

load ../lib/helpers

@test "run in the foreground propagates the exit code" {
    new_ids 1
    bundle -- sh -c 'echo out; echo err >&2; exit 7'
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -eq 7 ]
    [[ "$output" == *out* ]]
    [[ "$output" == *err* ]]
    # A finished foreground container is gone (runc deletes it).
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "run of a missing binary fails non-zero" {
    new_ids 1
    bundle -- /no/such/binary
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
}

@test "run -d leaves a running container" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    [ "$(state_field "$ID" status)" = running ]
    pid=$(state_field "$ID" pid)
    [ "$pid" -gt 0 ]
    pid_alive "$pid"
}

@test "create, start, stopped: the state follows the process" {
    new_ids 1
    bundle -- sh -c 'sleep 0.5'
    rt_detached create -b "$BUNDLE" "$ID"
    [ "$(state_field "$ID" status)" = created ]
    pid=$(state_field "$ID" pid)
    [ "$pid" -gt 0 ]
    pid_alive "$pid"
    rt start "$ID"
    [ "$(state_field "$ID" status)" = running ]
    wait_for status_is "$ID" stopped
    rt delete "$ID"
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "state JSON has every field of runc's" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached create -b "$BUNDLE" "$ID"
    rt state "$ID" >"$TMP/state.json"
    python3 - "$TMP/state.json" "$ID" "$BUNDLE" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"):
    assert k in s, "state has no %r: %s" % (k, s)
assert s["id"] == sys.argv[2], s
assert s["bundle"] == sys.argv[3], s
assert s["rootfs"] == sys.argv[3] + "/rootfs", s
assert s["status"] == "created", s
assert isinstance(s["pid"], int) and s["pid"] > 0, s
assert s["created"].endswith("Z") and "T" in s["created"], s
PY
}

@test "state of an unknown container fails" {
    new_ids 1
    run rt state "$ID"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$ID"* ]] || [[ "$output" == *"not exist"* ]]
}

@test "list -q and list --format json" {
    new_ids 2
    # Several containers from one bundle: each gets the default cgroup.
    make_bundle "$BUNDLE" -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt_detached create -b "$BUNDLE" "$ID2"
    run rt list -q
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$ID" "$ID2" | sort | tr '\n' ' ')" ]
    rt list --format json >"$TMP/list.json"
    python3 - "$TMP/list.json" "$ID" "$ID2" <<'PY'
import json, sys
l = {c["id"]: c for c in json.load(open(sys.argv[1]))}
assert set(l) == {sys.argv[2], sys.argv[3]}, l
assert l[sys.argv[2]]["status"] == "running", l
assert l[sys.argv[3]]["status"] == "created", l
assert l[sys.argv[2]]["pid"] > 0, l
PY
    run rt list
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == ID* ]]
}

@test "list on an empty root prints nothing" {
    mkdir -p "$ROOT"
    run rt list -q
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "ps lists the container's processes" {
    new_ids 1
    bundle -- sh -c 'sleep 1000 & sleep 1000'
    rt_detached run -d -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    wait_for test "$(ps_pids "$ID" | wc -w)" -ge 2
    [[ " $(ps_pids "$ID") " == *" $pid "* ]]
    run rt ps "$ID"
    [ "$status" -eq 0 ]
    [[ "$output" == *sleep* ]]
}

@test "kill sends SIGTERM by default" {
    new_ids 1
    bundle -- sh -c 'trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done'
    rt_detached run -d -b "$BUNDLE" "$ID"
    sleep 0.3
    rt kill "$ID"
    wait_for status_is "$ID" stopped
    grep -q got-term "$TMP/$ID.out"
}

@test "kill accepts KILL, 9 and SIGKILL" {
    new_ids 3
    # Several containers from one bundle: each gets the default cgroup.
    make_bundle "$BUNDLE" -- sleep 1000
    for id in "$ID" "$ID2" "$ID3"; do
        rt_detached run -d -b "$BUNDLE" "$id"
    done
    rt kill "$ID" KILL
    rt kill "$ID2" 9
    rt kill "$ID3" SIGKILL
    for id in "$ID" "$ID2" "$ID3"; do
        wait_for status_is "$id" stopped
    done
}

@test "kill of an unknown signal fails" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    run rt kill "$ID" SIGNOPE
    [ "$status" -ne 0 ]
    [ "$(state_field "$ID" status)" = running ]
}

@test "kill --all reaches every process of the container" {
    new_ids 1
    bundle -- sh -c 'sleep 1000 & sleep 1000 & wait'
    rt_detached run -d -b "$BUNDLE" "$ID"
    wait_for test "$(ps_pids "$ID" | wc -w)" -ge 3
    pids=$(ps_pids "$ID")
    rt kill --all "$ID" KILL
    wait_for status_is "$ID" stopped
    for p in $pids; do
        wait_for eval "! pid_alive $p"
    done
}

@test "delete of a running container without --force fails and keeps it" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    run rt delete "$ID"
    [ "$status" -ne 0 ]
    [ "$(state_field "$ID" status)" = running ]
}

@test "delete --force removes a running container" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    rt delete --force "$ID"
    run rt state "$ID"
    [ "$status" -ne 0 ]
    wait_for eval "! pid_alive $pid"
    [ -z "$(sb_leftover_cgroups)" ]
}

@test "delete of a created container kills its init" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached create -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    rt delete --force "$ID"
    wait_for eval "! pid_alive $pid"
}

@test "a duplicate id fails and leaves the first container intact" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    rt_files run -d -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [ "$(state_field "$ID" status)" = running ]
    [ "$(state_field "$ID" pid)" = "$pid" ]
    pid_alive "$pid"
}

@test "--pid-file holds the host pid of the container" {
    new_ids 2
    # Several containers from one bundle: each gets the default cgroup.
    make_bundle "$BUNDLE" -- sleep 1000
    rt_detached create --pid-file "$TMP/pid1" -b "$BUNDLE" "$ID"
    [ "$(cat "$TMP/pid1")" = "$(state_field "$ID" pid)" ]
    rt_detached run -d --pid-file "$TMP/pid2" -b "$BUNDLE" "$ID2"
    [ "$(cat "$TMP/pid2")" = "$(state_field "$ID2" pid)" ]
    # A host pid: the process exists in our pid namespace and runs sleep.
    grep -q sleep "/proc/$(cat "$TMP/pid2")/cmdline"
}

@test "pause freezes the container and resume thaws it" {
    new_ids 1
    # Renamed into place: a reader never sees the file truncated mid-write.
    bundle --rw -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c.new; mv /tmp/c.new /tmp/counter; sleep 0.05; done'
    rt_detached run -d -b "$BUNDLE" "$ID"
    wait_for test -s "$BUNDLE/rootfs/tmp/counter"
    rt pause "$ID"
    [ "$(state_field "$ID" status)" = paused ]
    sleep 0.2
    a=$(cat "$BUNDLE/rootfs/tmp/counter")
    sleep 0.5
    b=$(cat "$BUNDLE/rootfs/tmp/counter")
    [ "$a" = "$b" ]
    rt resume "$ID"
    [ "$(state_field "$ID" status)" = running ]
    # Read again on every try (a $(...) here would be read once).
    wait_for sh -c "[ \"\$(cat '$BUNDLE/rootfs/tmp/counter')\" -gt $b ]"
}

@test "delete --force of a paused container" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt pause "$ID"
    rt delete --force "$ID"
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "update --pids-limit and --memory reach the host cgroup files" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt update --pids-limit 42 "$ID"
    [ "$(cat "$(cg_file "$ID" pids pids.max)")" = 42 ]
    rt update --memory 64M "$ID"
    [ "$(cat "$(cg_file "$ID" memory memory.limit_in_bytes)")" = $((64 * 1024 * 1024)) ]
}

@test "update -r reads resources from a JSON file" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    echo '{"pids": {"limit": 77}}' >"$TMP/res.json"
    rt update -r "$TMP/res.json" "$ID"
    [ "$(cat "$(cg_file "$ID" pids pids.max)")" = 77 ]
}

@test "the container's pid namespace, hostname and read-only root" {
    new_ids 1
    bundle -- sh -c 'echo pid=$$; hostname; touch /x 2>/dev/null && echo writable || echo readonly'
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    [[ "$output" == *pid=1* ]]
    [[ "$output" == *sudobox-test* ]]
    [[ "$output" == *readonly* ]]
}
