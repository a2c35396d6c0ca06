#!/usr/bin/env bats
# OCI hooks: order, state on stdin, failures and timeouts.

load ../lib/helpers

# add_hooks KIND...: each hook appends its kind to log and saves its stdin
# (the state JSON) to KIND.json, in $HOOKDIR on the host, which the
# container also sees at /hooks (startContainer runs inside the container;
# createContainer may see either view).  $HOOKDIR is not below the 0700
# $TMP: createContainer may run as the container's (mapped) root.
add_hooks() {
    HOOKDIR=$(mktemp -d /tmp/sbhooks.XXXXXX)
    SB_CLEANUP+=("$HOOKDIR")
    # Hooks run as host root or as the container's mapped root: both write.
    touch "$HOOKDIR/log"
    chmod 0777 "$HOOKDIR"
    chmod 0666 "$HOOKDIR/log"
    SB_HOOKDIR=$HOOKDIR SB_KINDS="$*" spec_edit "$BUNDLE" '
import os
d = os.environ["SB_HOOKDIR"]
c.setdefault("hooks", {})
for kind in os.environ["SB_KINDS"].split():
    script = ("d=%s; [ -d \"$d\" ] || d=/hooks; cat > \"$d/%s.json\"; "
              "echo \"%s $HOOKVAR $0\" >> \"$d/log\"" % (d, kind, kind))
    c["hooks"].setdefault(kind, []).append(
        {"path": "/bin/sh", "args": ["sh", "-c", script, "arg0-" + kind],
         "env": ["HOOKVAR=v-" + kind]})
c["mounts"].append({"destination": "/hooks", "type": "bind", "source": d,
                    "options": ["rbind", "rw"]})
'
}

ALL_KINDS="prestart createRuntime createContainer startContainer poststart poststop"

# runc 1.1.5 runs poststart on the host while the container runs
# startContainer just before exec, so the two race there; the spec (and
# sudobox) order is startContainer, then poststart.
hook_order() {
    local order
    order=$(cut -d' ' -f1 "$HOOKDIR/log" | tr '\n' ' ')
    is_runc && order=${order/poststart startContainer/startContainer poststart}
    echo "$order"
}

@test "every hook kind runs once, in the spec's order, across create/start/delete" {
    skip_if_runc "runc 1.1.5 runs poststart hooks at create, not at start (fixed in runc 1.2)"
    new_ids 1
    bundle -- true
    add_hooks $ALL_KINDS
    rt_detached create -b "$BUNDLE" "$ID"
    [ "$(hook_order)" = "prestart createRuntime createContainer " ]
    rt start "$ID"
    wait_for status_is "$ID" stopped
    [ "$(hook_order)" = "prestart createRuntime createContainer startContainer poststart " ]
    rt delete "$ID"
    [ "$(hook_order)" = "prestart createRuntime createContainer startContainer poststart poststop " ]
}

@test "hooks run in order for a foreground run" {
    new_ids 1
    bundle -- true
    add_hooks $ALL_KINDS
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    [ "$(hook_order)" = "prestart createRuntime createContainer startContainer poststart poststop " ]
}

@test "each hook gets the state JSON on stdin, its env and its args" {
    new_ids 1
    bundle -- true
    add_hooks $ALL_KINDS
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    for kind in $ALL_KINDS; do
        python3 - "$HOOKDIR/$kind.json" "$ID" "$BUNDLE" "$kind" <<'PY'
import json, sys
path, cid, bundle, kind = sys.argv[1:]
s = json.load(open(path))
assert s["id"] == cid, (kind, s)
assert s["bundle"] == bundle, (kind, s)
assert "status" in s and "pid" in s or kind == "poststop", (kind, s)
PY
        grep -qx "$kind v-$kind arg0-$kind" "$HOOKDIR/log"
    done
}

@test "several hooks of one kind run in their order" {
    new_ids 1
    bundle -- true
    add_hooks prestart prestart poststart
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    [ "$(hook_order)" = "prestart prestart poststart " ]
}

@test "a failing prestart hook fails create and leaves no state" {
    new_ids 1
    bundle -- sleep 1000
    spec_edit "$BUNDLE" 'c["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}'
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
    [ -z "$(rt list -q 2>/dev/null)" ]
    [ -z "$(sb_leftover_procs)" ]
    [ -z "$(sb_leftover_mounts)" ]
}

@test "a missing hook binary fails create" {
    new_ids 1
    bundle -- sleep 1000
    spec_edit "$BUNDLE" 'c["hooks"] = {"createRuntime": [{"path": "/no/such/hook"}]}'
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "a hook that outlives its timeout is killed and fails create" {
    new_ids 1
    bundle -- sleep 1000
    spec_edit "$BUNDLE" 'c["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30.4242"], "timeout": 1}]}'
    start=$SECONDS
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [ $((SECONDS - start)) -lt 15 ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
    # The hook itself was killed, not left behind.
    wait_for eval "! pgrep -fx 'sleep 30.4242' >/dev/null"
}

@test "a failing poststop hook does not stop delete" {
    new_ids 1
    bundle -- true
    spec_edit "$BUNDLE" 'c["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]}'
    rt_detached create -b "$BUNDLE" "$ID"
    rt start "$ID"
    wait_for status_is "$ID" stopped
    rt delete "$ID" || true
    run rt state "$ID"
    [ "$status" -ne 0 ]
}
