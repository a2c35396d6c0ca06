#!/usr/bin/env bats
# Bad specs: a non-zero exit, one clear line on stderr naming what is wrong,
# and nothing left behind (state dir, mount, cgroup, process).

load ../lib/helpers

setup() {
    sb_setup
    new_ids 1
    bundle -- true
}

# expect_create_fail REGEX: create must fail with a one-line error (sudobox;
# runc's are its own) matching REGEX (case-insensitive) and leave nothing.
expect_create_fail() {
    rt_files create -b "$BUNDLE" "$ID"
    echo "status=$status stderr=$stderr"
    [ "$status" -ne 0 ]
    echo "$stderr" | grep -qiE "$1"
    is_runc || [ "$(echo "$stderr" | grep -c .)" -eq 1 ]
    [ ! -e "$ROOT/$ID" ]
    [ -z "$(sb_leftover_mounts)" ]
    [ -z "$(sb_leftover_procs)" ]
    [ -z "$(sb_leftover_cgroups)" ]
}

@test "invalid JSON" {
    echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
    # runc only says "unexpected EOF"; sudobox must name the file.
    if is_runc; then expect_create_fail 'EOF'; else expect_create_fail 'config\.json|json'; fi
}

@test "process.args is a string" {
    spec_edit "$BUNDLE" 'c["process"]["args"] = "true"'
    expect_create_fail 'args'
}

@test "missing root" {
    spec_edit "$BUNDLE" 'del c["root"]'
    expect_create_fail 'root'
}

@test "missing rootfs directory" {
    spec_edit "$BUNDLE" 'c["root"]["path"] = "no-such-rootfs"'
    expect_create_fail 'no-such-rootfs|rootfs|root'
}

@test "relative mount destination" {
    skip_if_runc "runc 1.1.5 accepts relative mount destinations with a warning"
    spec_edit "$BUNDLE" 'c["mounts"].append({"destination": "relative/dst", "type": "tmpfs", "source": "tmpfs"})'
    expect_create_fail 'relative/dst|destination'
}

@test "unknown namespace type" {
    spec_edit "$BUNDLE" 'c["linux"]["namespaces"].append({"type": "bogusns"})'
    expect_create_fail 'bogusns|namespace'
}

@test "uid out of range" {
    spec_edit "$BUNDLE" 'c["process"]["user"]["uid"] = 99999999999'
    expect_create_fail 'uid'
}

@test "missing process with create" {
    spec_edit "$BUNDLE" 'del c["process"]'
    expect_create_fail 'process'
}

@test "unknown ociVersion major" {
    skip_if_runc "runc 1.1.5 accepts any ociVersion"
    spec_edit "$BUNDLE" 'c["ociVersion"] = "9.0.0"'
    expect_create_fail 'ociVersion|version'
}

@test "missing config.json" {
    rm "$BUNDLE/config.json"
    expect_create_fail 'config\.json'
}

@test "an invalid container id" {
    rt_files create -b "$BUNDLE" ../escape
    [ "$status" -ne 0 ]
    [ -n "$stderr" ]
    [ ! -e "$TMP/escape" ]
}

@test "duplicate id: the second create fails, the first is intact" {
    rt_detached create -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    echo "$stderr" | grep -qiE 'exist|already|in use'
    [ "$(state_field "$ID" status)" = created ]
    [ "$(state_field "$ID" pid)" = "$pid" ]
    pid_alive "$pid"
}

@test "a mount destination symlinked out of the rootfs stays inside" {
    # The symlink points (absolutely, with extra ..) at a host directory:
    # a runtime that follows it on the host would create sub/ in there.
    mkdir -p "$TMP/outside" "$TMP/src"
    echo marker >"$TMP/src/marker"
    ln -s "/../../..$TMP/outside/sub" "$BUNDLE/rootfs/escape"
    SRC=$TMP/src spec_edit "$BUNDLE" '
import os
c["mounts"].append({"destination": "/escape", "type": "bind", "source": os.environ["SRC"], "options": ["rbind", "ro"]})
c["process"]["args"] = ["sh", "-c", "cat /escape/marker 2>/dev/null; cat ..'"$TMP"'/outside/sub/marker 2>/dev/null; true"]
'
    run rt run -b "$BUNDLE" "$ID" </dev/null 3>&-
    echo "status=$status output=$output"
    # Either refused, or mounted inside the rootfs: never on the host path.
    [ -z "$(ls -A "$TMP/outside")" ]
    ! grep -qF "$TMP/outside" /proc/self/mountinfo
    if [ "$status" -eq 0 ]; then
        [[ "$output" == *marker* ]]
    fi
}
