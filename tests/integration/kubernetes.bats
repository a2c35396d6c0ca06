#!/usr/bin/env bats
# deploy/kubernetes: every manifest parses and says what the docs promise;
# the node installer edits a real containerd configuration that a real,
# private containerd then loads with the three sudobox handlers; install is
# idempotent and uninstall restores the file byte for byte.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"
K8S=$SB_TOP/deploy/kubernetes
INSTALLER=$K8S/installer

setup() {
    TMP=$(mktemp -d /tmp/sbk8s.XXXXXX)
    chmod 700 "$TMP"
    HOST=$TMP/host
    mkdir -p "$HOST/etc/containerd" "$TMP/payload/usr/local/sbin" "$TMP/payload/usr/local/bin"
    # A payload shaped like `meson install --destdir`; the files' content
    # does not matter to the configuration the installer writes.
    printf '#!/bin/sh\n' >"$TMP/payload/usr/local/sbin/sudobox-runc"
    printf '#!/bin/sh\n' >"$TMP/payload/usr/local/bin/sudobox"
    chmod 755 "$TMP/payload/usr/local/sbin/sudobox-runc" "$TMP/payload/usr/local/bin/sudobox"
    CTD_PID=
}

teardown() {
    if [ -n "${CTD_PID:-}" ]; then
        kill "$CTD_PID" 2>/dev/null || true
        wait "$CTD_PID" 2>/dev/null || true
    fi
    # containerd's shims and snapshots must be gone with it.
    ! grep -q " $TMP" /proc/mounts || { umount -R "$TMP"/root/* 2>/dev/null; false; }
    rm -rf "$TMP"
}

installer() { HOST_ROOT=$HOST PAYLOAD=$TMP/payload RESTART=0 "$INSTALLER/$1.sh"; }

# The machine's containerd default configuration, with the one path outside
# root/state (the opt plugin's /opt/containerd) moved into $TMP.
default_config() {
    containerd config default | sed "s|path = \"/opt/containerd\"|path = \"$TMP/opt\"|" \
        >"$HOST/etc/containerd/config.toml"
    cp -p "$HOST/etc/containerd/config.toml" "$TMP/orig.toml"
}

# yq-like field checks: python3 FILE EXPR... where each EXPR is a Python
# assertion over `docs` (the file's documents) and `by(kind, name)`.
check_yaml() {
    python3 - "$@" <<'EOF'
import sys, yaml
path = sys.argv[1]
docs = list(yaml.safe_load_all(open(path)))
def by(kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert found, f"{path}: no {kind} {name}"
    return found[0]
for expr in sys.argv[2:]:
    ok = eval(expr)
    if not ok:
        sys.exit(f"{path}: expected {expr}")
EOF
}

@test "every manifest parses as YAML with apiVersion, kind and a name" {
    local n=0 f
    for f in $(find "$K8S" -name '*.yaml'); do
        python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    assert d["apiVersion"] and d["kind"] and d["metadata"]["name"], d' "$f"
        n=$((n + 1))
    done
    [ "$n" -ge 4 ]
}

@test "the RuntimeClasses map sudobox, sudobox-system and sudobox-microvm to their handlers on labelled nodes" {
    check_yaml "$K8S/runtimeclasses.yaml" \
        'all(by("RuntimeClass", h)["handler"] == h for h in ("sudobox", "sudobox-system", "sudobox-microvm"))' \
        'all(d["apiVersion"] == "node.k8s.io/v1" for d in docs)' \
        'all(d["scheduling"]["nodeSelector"] == {"run.sudobox/runtime": "installed"} for d in docs)' \
        'by("RuntimeClass", "sudobox-microvm")["overhead"]["podFixed"]["memory"]'
}

@test "the installer DaemonSet runs install.sh, uninstalls in preStop and may only label nodes" {
    check_yaml "$K8S/installer.yaml" \
        'by("DaemonSet", "sudobox-installer")["spec"]["template"]["spec"]["hostPID"] is True' \
        '"install.sh" in " ".join(by("DaemonSet", "sudobox-installer")["spec"]["template"]["spec"]["containers"][0]["command"])' \
        '"uninstall.sh" in by("DaemonSet", "sudobox-installer")["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][0]' \
        'by("DaemonSet", "sudobox-installer")["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == "/"' \
        'by("ClusterRole", "sudobox-installer")["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]'
}

@test "the workspace Deployment: runtimeClassName sudobox, sudo-ready securityContext, /projects on a PVC" {
    local f
    for f in workspace.yaml workspace-hostusers.yaml; do
        check_yaml "$K8S/examples/$f" \
            '[d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["runtimeClassName"] == "sudobox"' \
            '[d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": True, "privileged": False, "runAsNonRoot": True, "runAsUser": 5001}' \
            '[m["mountPath"] for m in [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]] == ["/projects"]' \
            '[d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == [d for d in docs if d["kind"] == "PersistentVolumeClaim"][0]["metadata"]["name"]'
    done
    check_yaml "$K8S/examples/workspace-hostusers.yaml" \
        '[d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["hostUsers"] is False'
    check_yaml "$K8S/examples/workspace.yaml" \
        '"hostUsers" not in [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]'
}

@test "install adds the handlers to containerd's default config; a private containerd loads them" {
    command -v containerd >/dev/null || skip "containerd is not installed"
    default_config
    run installer install
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ -x "$HOST/usr/local/sbin/sudobox-runc-system" ]
    grep -qx 'exec /usr/local/sbin/sudobox-runc --isolation microvm "$@"' "$HOST/usr/local/sbin/sudobox-runc-microvm"

    containerd --config "$HOST/etc/containerd/config.toml" --root "$TMP/root" --state "$TMP/state" \
        --address "$TMP/ctd.sock" >"$TMP/containerd.log" 2>&1 &
    CTD_PID=$!
    for _ in $(seq 50); do [ -S "$TMP/ctd.sock" ] && break; sleep 0.1; done
    run ctr --address "$TMP/ctd.sock" plugins ls
    echo "$output" | grep -E '^io\.containerd\.grpc\.v1 +cri .* ok' || { echo "$output"; cat "$TMP/containerd.log"; false; }
    # The CRI plugin logs its whole configuration when it starts.
    for _ in $(seq 50); do grep -q 'Start cri plugin' "$TMP/containerd.log" && break; sleep 0.1; done
    for h in sudobox sudobox-system sudobox-microvm; do
        bin=sudobox-runc; [ "$h" = sudobox ] || bin=sudobox-runc-${h#sudobox-}
        grep -o "Start cri plugin.*" "$TMP/containerd.log" |
            grep -q " $h:{Type:io.containerd.runc.v2 .*Options:map\[BinaryName:/usr/local/sbin/$bin Root:/run/sudobox\]" ||
            { echo "handler $h missing"; cat "$TMP/containerd.log"; false; }
    done
    ! grep -E 'level=(error|fatal).*(runtime|toml|config)' "$TMP/containerd.log"
    run containerd --config "$HOST/etc/containerd/config.toml" config dump
    echo "$output" | grep -q 'runtimes.sudobox-microvm.options\]'
}

@test "install twice gives the same files; uninstall restores the config byte for byte" {
    default_config
    installer install 2>/dev/null
    cp "$HOST/etc/containerd/config.toml" "$TMP/once.toml"
    find "$HOST" -type f | sort >"$TMP/files.once"
    installer install 2>/dev/null
    cmp "$TMP/once.toml" "$HOST/etc/containerd/config.toml"
    find "$HOST" -type f | sort | diff "$TMP/files.once" -
    [ "$(grep -c 'BEGIN sudobox runtimes' "$HOST/etc/containerd/config.toml")" -eq 1 ]
    installer uninstall 2>/dev/null
    cmp "$TMP/orig.toml" "$HOST/etc/containerd/config.toml"
    [ "$(stat -c %a "$HOST/etc/containerd/config.toml")" = "$(stat -c %a "$TMP/orig.toml")" ]
    # Only the configuration is left of the host tree.
    [ "$(find "$HOST" -type f)" = "$HOST/etc/containerd/config.toml" ]
}

@test "install on a node without a containerd config starts from containerd's defaults" {
    command -v containerd >/dev/null || skip "containerd is not installed"
    CONTAINERD_DEFAULTS="containerd config default" installer install 2>/dev/null
    run containerd --config "$HOST/etc/containerd/config.toml" config dump
    [ "$status" -eq 0 ]
    echo "$output" | grep -q 'runtimes.runc\]'
    echo "$output" | grep -q 'BinaryName = "/usr/local/sbin/sudobox-runc-system"'
    installer uninstall 2>/dev/null
    [ ! -e "$HOST/etc/containerd/config.toml" ]
}

@test "install refuses a version 1 containerd config and names it" {
    printf '[plugins.cri]\n' >"$HOST/etc/containerd/config.toml"
    run installer install
    [ "$status" -ne 0 ]
    [[ "$output" == *"/etc/containerd/config.toml is not a version 2 configuration"* ]]
}

@test "on a CRI-O node install writes the drop-in and uninstall removes it" {
    mkdir -p "$HOST/etc/crio"
    rm -rf "$HOST/etc/containerd"
    installer install 2>/dev/null
    f=$HOST/etc/crio/crio.conf.d/50-sudobox.conf
    python3 -c '
import sys, tomllib
t = tomllib.load(open(sys.argv[1], "rb"))["crio"]["runtime"]["runtimes"]
assert t["sudobox"]["runtime_path"] == "/usr/local/sbin/sudobox-runc", t
assert t["sudobox-system"]["runtime_path"] == "/usr/local/sbin/sudobox-runc-system", t
assert all(v["runtime_type"] == "oci" and v["runtime_root"] == "/run/sudobox" for v in t.values()), t' "$f"
    installer uninstall 2>/dev/null
    [ ! -e "$f" ]
}

@test "the admission policy ties allowPrivilegeEscalation to a sudobox RuntimeClass or hostUsers: false" {
    check_yaml "$K8S/policy.yaml" \
        'by("ValidatingAdmissionPolicyBinding", "sudobox-privilege-escalation")["spec"]["policyName"] == "sudobox-privilege-escalation"' \
        'by("ValidatingAdmissionPolicyBinding", "sudobox-privilege-escalation")["spec"]["validationActions"] == ["Deny"]' \
        '"allowPrivilegeEscalation" in by("ValidatingAdmissionPolicy", "sudobox-privilege-escalation")["spec"]["variables"][0]["expression"]' \
        'all(s in by("ValidatingAdmissionPolicy", "sudobox-privilege-escalation")["spec"]["validations"][0]["expression"] for s in ("variables.noEscalation", "hostUsers", "\"sudobox-system\"".replace(chr(34), chr(39))))'
}
