#!/usr/bin/env bats
# `sudobox check`: the node readiness report on this machine, where the
# userns mode is ready and /dev/kvm opens but is not trusted to boot a
# guest.  Each probe really mounts, so the tests also check that nothing is
# left behind.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
SUDOBOX=$BUILD/src/sudobox/sudobox

setup() {
    [ -x "$SUDOBOX" ] || skip "sudobox is not built"
    TMP=$(mktemp -d /tmp/sbcheck.XXXXXX)
    chmod 700 "$TMP"
}

teardown() {
    [ -n "${TMP:-}" ] || return 0
    local left
    left=$(grep " $TMP" /proc/mounts || true)
    rm -rf "$TMP"
    [ -z "$left" ] || { echo "mounts left: $left"; false; }
}

sb() { "$SUDOBOX" --root "$TMP/state" "$@"; }

json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMP/out.json" "$1"; }

@test "check: text report lists every probe and says userns is ready (exit 0)" {
    run sb check
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    for probe in kernel user-namespaces idmapped-mounts overlay-idmapped-layers overlay-in-userns \
        seccomp-notify cgroup cgroup-delegation fuse kvm qemu network subuid sudobox-init; do
        echo "$output" | grep -Eq "^  $probe +(ok|warn|fail) " || { echo "no line for $probe"; echo "$output"; false; }
    done
    echo "$output" | grep -Eq "^  kernel +ok +$(uname -r)$"
    echo "$output" | grep -Eq "^  idmapped-mounts +ok +[a-z0-9]+ under $TMP/state: a file of 0:0 appears as"
    echo "$output" | grep -Eq '^  userns +ready$'
    # Whether workspaces get IPv6 follows the host's IPv6 default route.
    v6="IPv4 only"
    while read -r dst plen _ _ _ _ _ _ flags _; do
        if [ "$dst" = 00000000000000000000000000000000 ] && [ "$plen" = 00 ] &&
            (((16#$flags & 0x1) && !(16#$flags & 0x200))); then v6="IPv4 and IPv6"; fi
    done </proc/net/ipv6_route
    echo "$output" | grep -Eq "^  network +ok +.*sudobox-net; $v6 "
}

@test "check: microvm is reported without trusting KVM to boot a guest" {
    run sb check
    [ "$status" -eq 0 ]
    if [ -r /dev/kvm ]; then
        echo "$output" | grep -Fq "KVM present (API 12, a test guest ran); microvm uses software emulation unless a guest boots"
        echo "$output" | grep -Eq '^  microvm +ready \(KVM present; microvm uses software emulation unless a guest boots\)$'
    else
        echo "$output" | grep -Eq '^  microvm +ready \(software emulation'
    fi
}

@test "check --format json: modes, checks and statuses a script can use" {
    sb check --format json >"$TMP/out.json"
    [ "$(json_get 'd["modes"]["userns"]["ready"]')" = True ]
    [ "$(json_get 'd["modes"]["userns"]["failed"]')" = "[]" ]
    [ "$(json_get 'sorted(d["modes"])')" = "['microvm', 'system', 'userns']" ]
    [ "$(json_get 'len(d["checks"])')" = 14 ]
    [ "$(json_get 'all(c["status"] in ("ok", "warn", "fail") and c["detail"] for c in d["checks"].values())')" = True ]
    [ "$(json_get 'd["checks"]["kernel"]["detail"]')" = "$(uname -r)" ]
    [ "$(json_get 'd["checks"]["overlay-idmapped-layers"]["status"]')" = ok ]
    [ "$(json_get 'd["checks"]["seccomp-notify"]["status"]')" = ok ]
    [ "$(json_get 'd["root"]')" = "$TMP/state" ]
}

@test "check: the cgroup layout of this machine is reported as it is" {
    sb check --format json >"$TMP/out.json"
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        [[ "$(json_get 'd["checks"]["cgroup"]["detail"]')" == v2:* ]]
    else
        [[ "$(json_get 'd["checks"]["cgroup"]["detail"]')" == v1* ]]
        [ "$(json_get 'd["checks"]["cgroup-delegation"]["status"]')" = warn ]
    fi
}

@test "check: a state root on a filesystem without idmapped mounts is not ready (exit 1, says why)" {
    mkdir -p "$TMP/ram"
    # ramfs cannot be idmapped; a private mount namespace keeps it off the host.
    run unshare -m sh -c 'mount -t ramfs none "$1" && "$2" --root "$1/state" check' sh "$TMP/ram" "$SUDOBOX"
    [ "$status" -eq 1 ] || { echo "$output"; false; }
    echo "$output" | grep -Eq '^  idmapped-mounts +fail +ramfs under .*: idmap mount of .*: Invalid argument'
    echo "$output" | grep -Eq '^  userns +not ready: idmapped-mounts, overlay-idmapped-layers$'
}

@test "check: the probes leave no scratch directory, mount or process behind" {
    sb check >/dev/null
    [ -z "$(find "$TMP/state" -maxdepth 1 -name 'check-*')" ]
    ! pgrep -f "$TMP/state" >/dev/null
}

@test "check: --help and bad arguments" {
    run sb check --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: sudobox check [--format table|json]"* ]]
    run sb check --format yaml
    [ "$status" -eq 1 ]
    [[ "$output" == *'--format "yaml": expected table or json'* ]]
    run sb check extra
    [ "$status" -ne 0 ]
    [[ "$output" == *"usage: sudobox check [--format table|json]"* ]]
}
