#!/usr/bin/env bats
# exec into a running container.

load ../lib/helpers

setup() {
    sb_setup
    new_ids 1
    bundle --rw -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
}

@test "exec propagates the exit code" {
    run rt exec "$ID" sh -c 'exit 5'
    [ "$status" -eq 5 ]
    run rt exec "$ID" true
    [ "$status" -eq 0 ]
}

@test "exec runs in the container's namespaces and root" {
    run rt exec "$ID" sh -c 'hostname; cat /etc/hostname; ps -o pid= -p 1'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = sudobox-test ]
    [[ "$output" == *" 1"* ]] || [[ "${lines[2]}" == 1 ]]
}

@test "exec -e sets the environment" {
    run rt exec -e FOO=bar -e BAZ=qux "$ID" sh -c 'echo "$FOO-$BAZ"'
    [ "$status" -eq 0 ]
    [ "$output" = bar-qux ]
}

@test "exec --cwd sets the working directory" {
    run rt exec --cwd /usr/share "$ID" pwd
    [ "$status" -eq 0 ]
    [ "$output" = /usr/share ]
}

@test "exec -u 1000:1000 runs as that user" {
    run rt exec -u 1000:1000 "$ID" id
    [ "$status" -eq 0 ]
    [[ "$output" == "uid=1000(dev) gid=1000(dev)"* ]]
}

@test "exec -d detaches and --pid-file holds its host pid" {
    rt_detached exec -d --pid-file "$TMP/exec.pid" "$ID" sleep 500
    pid=$(cat "$TMP/exec.pid")
    [ "$pid" -gt 0 ]
    grep -q 500 "/proc/$pid/cmdline"
    [[ " $(ps_pids "$ID") " == *" $pid "* ]]
}

@test "exec -p reads the process from a JSON file" {
    cat >"$TMP/process.json" <<'JSON'
{
  "terminal": false,
  "user": {"uid": 1000, "gid": 1000},
  "args": ["sh", "-c", "echo $HELLO; pwd; id -u"],
  "env": ["PATH=/usr/bin:/bin", "HELLO=world"],
  "cwd": "/tmp"
}
JSON
    run rt exec -p "$TMP/process.json" "$ID"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = world ]
    [ "${lines[1]}" = /tmp ]
    [ "${lines[2]}" = 1000 ]
}

@test "exec into a stopped container fails" {
    rt kill "$ID" KILL
    wait_for status_is "$ID" stopped
    run rt exec "$ID" true
    [ "$status" -ne 0 ]
}

@test "exec into an unknown container fails" {
    run rt exec "$ID-nope" true
    [ "$status" -ne 0 ]
}

@test "exec of a missing binary fails non-zero and the container runs on" {
    run rt exec "$ID" /no/such/binary
    [ "$status" -ne 0 ]
    [ "$(state_field "$ID" status)" = running ]
}
