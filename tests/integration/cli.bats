#!/usr/bin/env bats
# The runtime's remaining commands and flags: features, spec, --version,
# --help, --log/--log-format json, --systemd-cgroup, --no-pivot,
# --preserve-fds, --no-new-keyring, exec --no-new-privs and -c, update --cpu-*.

load ../lib/helpers

setup() {
    sb_setup
    new_ids 1
}
teardown() { sb_teardown; }

@test "features prints the runtime-spec features document" {
    skip_if_runc "runc 1.1 has no features command"
    rt features >"$TMP/f.json"
    python3 - "$TMP/f.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
assert f["ociVersionMax"] == "1.1.0", f
assert "createRuntime" in f["hooks"] and "idmap" in f["mountOptions"], f
l = f["linux"]
assert set(l["namespaces"]) >= {"user", "mount", "pid", "time", "cgroup"}, l["namespaces"]
assert "CAP_SYS_ADMIN" in l["capabilities"] and l["seccomp"]["enabled"], l
assert l["mountExtensions"]["idmap"]["enabled"] and l["cgroup"]["v1"] and l["cgroup"]["v2"], l
PY
}

@test "spec writes a default config.json that the runtime accepts; refuses to overwrite" {
    mkdir -p "$TMP/s"
    rt spec --bundle "$TMP/s"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["process"]["args"] == ["sh"], c' "$TMP/s/config.json"
    run rt spec --bundle "$TMP/s"
    [ "$status" -ne 0 ]
    mkdir -p "$TMP/r"
    rt spec --rootless --bundle "$TMP/r"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert any(n["type"] == "user" for n in c["linux"]["namespaces"]), c' "$TMP/r/config.json"
}

@test "--version and --help" {
    run rt --version
    [ "$status" -eq 0 ]; [[ "$output" == *version* ]]
    run rt --help
    [ "$status" -eq 0 ]; [[ "$output" == *create* ]]
    run rt create --help
    [ "$status" -eq 0 ]; [[ "$output" == *bundle* ]]
    run rt nosuchcommand
    [ "$status" -ne 0 ]
}

@test "--log with --log-format json records the error as JSON" {
    run rt --log "$TMP/log.json" --log-format json state no-such-container
    [ "$status" -ne 0 ]
    python3 - "$TMP/log.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(l["level"] == "error" and "no-such-container" in l["msg"] and "time" in l for l in lines), lines
PY
    run rt --log-format yaml list
    [ "$status" -ne 0 ]
}

@test "--systemd-cgroup is refused with a clear error" {
    skip_if_runc "runc has the systemd manager"
    bundle -- true
    run rt --systemd-cgroup run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$output" == *"systemd cgroup manager is not supported"* ]]
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "--no-pivot runs the container with chroot" {
    bundle -- sh -c 'cat /proc/self/mountinfo | head -n 1; echo ok'
    run rt run --no-pivot -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = ok ]
}

@test "--preserve-fds passes fds 3.. into the container, and nothing else leaks" {
    bundle -- sh -c 'cat <&3; ls /proc/self/fd | tr "\n" " "'
    echo passed-through >"$TMP/in"
    run rt run --preserve-fds 1 -b "$BUNDLE" "$ID" 3<"$TMP/in" 4<"$TMP/in"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = passed-through ]
    # 0 1 2, 3 (preserved) and ls's own directory fd; 4 is not passed.
    [[ " ${lines[1]}" != *" 4 "*" 5 "* ]]
}

@test "--no-new-keyring is accepted (the container then shares the caller's session keyring)" {
    bundle -- true
    run rt run --no-new-keyring -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
}

@test "exec --no-new-privs sets no_new_privs; exec -c adds a capability" {
    new_ids 1
    bundle --nnp-false -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    run rt exec --no-new-privs "$ID" grep NoNewPrivs /proc/self/status
    [[ "$output" == *"1"* ]]
    run rt exec "$ID" grep NoNewPrivs /proc/self/status
    [[ "$output" == *"0"* ]]
    # CAP_SYS_TIME (25) is not in the default set; -c adds it to the bounding set.
    run rt exec -c CAP_SYS_TIME "$ID" sh -c 'grep CapBnd /proc/self/status'
    mask=$(echo "$output" | awk '{print $2}')
    [ $(( 0x$mask >> 25 & 1 )) = 1 ]
}

@test "update --cpu-quota/--cpu-period and --cpuset-cpus reach the cgroup" {
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    rt update --cpu-quota 50000 --cpu-period 100000 --cpuset-cpus 0 "$ID"
    if [ -d /sys/fs/cgroup/cpu ]; then
        [ "$(cat "$(cg_file "$ID" cpu cpu.cfs_quota_us)")" = 50000 ]
        [ "$(cat "$(cg_file "$ID" cpuset cpuset.cpus)")" = 0 ]
    fi
    run rt update --memory lots "$ID"
    [ "$status" -ne 0 ]
}

@test "a container opted out of the user namespace runs, with the runtime re-executed from a sealed copy" {
    skip_if_runc
    bundle -- sh -c 'cat /proc/self/uid_map'
    spec_edit "$BUNDLE" 'c.setdefault("annotations", {})["run.sudobox.userns"] = "host"'
    run rt --debug --log "$TMP/debug.log" run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    [[ "$(echo $output)" == *"0 0 4294967295"* ]]
    grep -q "sealed copy" "$TMP/debug.log"
    # With the automatic user namespace there is nothing to protect: no re-execution.
    spec_edit "$BUNDLE" 'c["annotations"].pop("run.sudobox.userns")'
    : >"$TMP/debug.log"
    run rt --debug --log "$TMP/debug.log" run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    ! grep -q "sealed copy" "$TMP/debug.log"
}
