#!/usr/bin/env bats
# cgroup limits as the host sees them (v1 controllers on this hybrid host),
# and a run on a pure cgroup v2 hierarchy.

load ../lib/helpers

@test "memory and pids limits from the spec reach the host cgroup files" {
    new_ids 1
    bundle -- sleep 1000
    spec_edit "$BUNDLE" 'c["linux"]["resources"]["memory"] = {"limit": 67108864}' \
        'c["linux"]["resources"]["pids"] = {"limit": 30}'
    rt_detached run -d -b "$BUNDLE" "$ID"
    [ "$(cat "$(cg_file "$ID" memory memory.limit_in_bytes)")" = 67108864 ]
    [ "$(cat "$(cg_file "$ID" pids pids.max)")" = 30 ]
    pid=$(state_field "$ID" pid)
    grep -qx "$pid" "$(cg_file "$ID" pids cgroup.procs)"
    grep -qx "$pid" "$(cg_file "$ID" memory cgroup.procs)"
}

@test "the pids limit stops a fork bomb" {
    new_ids 1
    bundle -- sleep 1000
    spec_edit "$BUNDLE" 'c["linux"]["resources"]["pids"] = {"limit": 20}'
    rt_detached run -d -b "$BUNDLE" "$ID"
    # 50 background sleeps; forks beyond the limit fail.
    rt_detached exec -d "$ID" sh -c 'i=0; while [ $i -lt 50 ]; do sleep 100 & i=$((i+1)); done; wait'
    sleep 1
    n=$(cat "$(cg_file "$ID" pids pids.current)")
    echo "pids.current=$n"
    [ "$n" -le 20 ]
    [ "$(ps_pids "$ID" | wc -w)" -le 20 ]
    ev=$(awk '$1 == "max" {print $2}' "$(cg_file "$ID" pids pids.events)")
    echo "pids.events max=$ev"
    [ "$ev" -gt 0 ]
}

@test "a memory limit below what the runtime can honour fails create" {
    skip_if_runc "runc 1.1.5 lets the kernel reject tiny limits late"
    new_ids 1
    bundle -- true
    spec_edit "$BUNDLE" 'c["linux"]["resources"]["memory"] = {"limit": 4096}'
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    echo "$stderr" | grep -qi memory
}

@test "pure cgroup v2: the container's cgroup lives on the v2 mount and goes with delete" {
    new_ids 1
    bundle -- sleep 1000
    cg=$(cg_path "$ID")
    # A private mount namespace where /sys/fs/cgroup is only cgroup2.
    run env RUNTIME="$RUNTIME" ROOT="$ROOT" BUNDLE="$BUNDLE" TMP="$TMP" ID="$ID" unshare -m sh -ec '
        mount --make-rprivate /
        umount -R /sys/fs/cgroup
        mount -t cgroup2 none /sys/fs/cgroup
        rt() { "$RUNTIME" --root "$ROOT" "$@"; }
        rt run -d -b "$BUNDLE" "$ID" </dev/null >"$TMP/$ID.out" 2>&1
        test -d "/sys/fs/cgroup'"$cg"'" || { echo "no cgroup at '"$cg"'"; exit 1; }
        pid=$(rt state "$ID" | sed -n "s/.*\"pid\": *\([0-9]*\).*/\1/p")
        grep -qx "$pid" "/sys/fs/cgroup'"$cg"'/cgroup.procs" || { echo "pid $pid not in cgroup"; exit 1; }
        grep -q "^0::'"$cg"'\$" "/proc/$pid/cgroup" || { cat "/proc/$pid/cgroup"; exit 1; }
        rt delete --force "$ID"
        test ! -e "/sys/fs/cgroup'"$cg"'" || { echo "cgroup left: '"$cg"'"; exit 1; }
        rmdir /sys/fs/cgroup/sudobox-test 2>/dev/null || true
        echo v2-ok
    ' 3>&-
    echo "$output"
    cat "$TMP/$ID.out" || true
    [ "$status" -eq 0 ]
    [[ "$output" == *v2-ok* ]]
}

# A host device node reaches the container through a bind mount (docker run
# -v /dev/fuse:/dev/fuse), but the spec's device rules do not allow it: the
# device cgroup must refuse the open.  runc spec's rules: deny all.
fuse_bundle() {
    bundle --rw -- sh -c 'head -c 0 /dev/fuse; echo fuse=$?; head -c 1 /dev/zero | wc -c'
    spec_edit "$BUNDLE" 'c["mounts"].append({"destination": "/dev/fuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]})'
}

@test "device rules refuse a bind-mounted host device the spec does not allow (v1)" {
    [ -c /dev/fuse ] || skip "no /dev/fuse"
    new_ids 1
    fuse_bundle
    rt_files run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/fuse'"*"Operation not permitted"* ]]
    [[ "$output" == *fuse=1* ]]
    [ "$(echo "$output" | grep -x '[0-9]*')" = 1 ]
}

@test "pure cgroup v2: the device rules are an eBPF program and refuse the same device" {
    [ -c /dev/fuse ] || skip "no /dev/fuse"
    new_ids 1
    fuse_bundle
    run env RUNTIME="$RUNTIME" ROOT="$ROOT" BUNDLE="$BUNDLE" ID="$ID" unshare -m sh -ec '
        mount --make-rprivate /
        umount -R /sys/fs/cgroup
        mount -t cgroup2 none /sys/fs/cgroup
        "$RUNTIME" --root "$ROOT" run -b "$BUNDLE" "$ID" </dev/null 2>&1
        rmdir /sys/fs/cgroup/sudobox-test 2>/dev/null || true
    ' 3>&-
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/fuse'"*"Operation not permitted"* ]]
    [[ "$output" == *fuse=1* ]]
    [ "$(echo "$output" | grep -x '[0-9]*')" = 1 ]
}
