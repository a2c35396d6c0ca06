# Root filesystems and bundles for the integration tests and the benchmark.
# Source it from bash; every function is usable on its own.
#
#   sb_rootfs_tar [base|bench]  ->  prints the path of the cached tarball,
#                                   building it with mmdebstrap the first time
#   sb_tiny_rootfs DIR          ->  a ~5 MB rootfs made of host binaries
#   make_bundle DIR [opts] [--] ARGS...
#   spec_edit DIR PYTHON-STATEMENTS   (edits DIR/config.json; `c` is the spec)
#
# The tarballs come from the host's own apt sources (no mirror is named here),
# are cached under $SUDOBOX_TEST_CACHE and are reused as long as they exist.

: "${SUDOBOX_TEST_CACHE:=/var/cache/sudobox-test}"
SB_TEST_HOSTNAME=sudobox-test

# The host's sources file, passed to mmdebstrap as a file argument so the
# chroot uses exactly what the host uses.
sb__host_sources() {
    local f
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        if [ -s "$f" ]; then
            echo "$f"
            return 0
        fi
    done
    echo "rootfs.sh: no apt sources on the host (/etc/apt/sources.list.d/debian.sources)" >&2
    return 1
}

sb__packages() {
    case "$1" in
    base) echo "sudo,procps" ;;
    # ~250 MB unpacked (git pulls perl): the big side of the create benchmark.
    bench) echo "sudo,procps,git" ;;
    # The system isolation tests: systemd as PID 1, nested podman, buildah, docker.
    system) echo "sudo,procps,systemd,systemd-sysv,dbus,podman,buildah,runc,iproute2,docker.io" ;;
    *)
        echo "rootfs.sh: unknown rootfs variant '$1' (base, bench or system)" >&2
        return 1
        ;;
    esac
}

sb_rootfs_tar() {
    local variant=${1:-base} pkgs sources out partial
    pkgs=$(sb__packages "$variant") || return 1
    out=$SUDOBOX_TEST_CACHE/bookworm-$variant.tar
    # mmdebstrap picks the output format from the name: keep ".tar" last.
    partial=$SUDOBOX_TEST_CACHE/.partial-$variant.tar
    if [ -s "$out" ]; then
        echo "$out"
        return 0
    fi
    command -v mmdebstrap >/dev/null || {
        echo "rootfs.sh: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2
        return 1
    }
    sources=$(sb__host_sources) || return 1
    mkdir -p "$SUDOBOX_TEST_CACHE" || return 1
    (
        # One builder at a time; a second caller waits and then reuses.
        flock 9 || exit 1
        [ -s "$out" ] && exit 0
        mmdebstrap --quiet --variant=minbase --include="$pkgs" \
            --customize-hook='chroot "$1" groupadd -g 1000 dev' \
            --customize-hook='chroot "$1" useradd -m -u 1000 -g 1000 -s /bin/bash dev' \
            --customize-hook='echo "dev ALL=(ALL) NOPASSWD:ALL" > "$1/etc/sudoers.d/dev"' \
            --customize-hook='chmod 0440 "$1/etc/sudoers.d/dev"' \
            --customize-hook="printf '127.0.0.1 localhost\n127.0.1.1 $SB_TEST_HOSTNAME\n' > \"\$1/etc/hosts\"" \
            --customize-hook="echo $SB_TEST_HOSTNAME > \"\$1/etc/hostname\"" \
            bookworm "$partial" "$sources" >&2 &&
            mv "$partial" "$out"
    ) 9>"$SUDOBOX_TEST_CACHE/.lock" || {
        rm -f "$partial"
        echo "rootfs.sh: building $out failed" >&2
        return 1
    }
    echo "$out"
}

# A rootfs of a few MB: host binaries and the libraries ldd says they need.
sb_tiny_rootfs() {
    local dir=$1 bin lib path
    mkdir -p "$dir"/usr/bin "$dir"/usr/lib "$dir"/etc "$dir"/proc "$dir"/dev "$dir"/sys "$dir"/tmp || return 1
    ln -sfn usr/bin "$dir/bin"
    ln -sfn usr/lib "$dir/lib"
    [ -e /lib64 ] && ln -sfn usr/lib64 "$dir/lib64" && mkdir -p "$dir/usr/lib64"
    for bin in true sh sleep cat id ls; do
        # type -P: the file, not the shell builtin of the same name.
        path=$(type -P "$bin") || return 1
        cp -L "$path" "$dir/usr/bin/$bin" || return 1
        for lib in $(ldd "$path" | grep -o '/[^ ]*'); do
            mkdir -p "$dir$(dirname "$lib")"
            cp -Ln "$lib" "$dir$lib" 2>/dev/null || true
        done
    done
    printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000::/tmp:/bin/sh\n' >"$dir/etc/passwd"
    printf 'root:x:0:\ndev:x:1000:\n' >"$dir/etc/group"
}

# Extracts the cached rootfs into DIR/rootfs (as root, owners kept).
sb_extract_rootfs() {
    local dir=$1 variant=${2:-base} tarball
    tarball=$(sb_rootfs_tar "$variant") || return 1
    mkdir -p "$dir/rootfs" &&
        tar -C "$dir/rootfs" --numeric-owner -xpf "$tarball"
}

# Runs python statements on DIR/config.json, with `c` bound to the spec.
spec_edit() {
    local dir=$1
    shift
    python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
for stmt in sys.argv[2:]:
    exec(stmt, {"c": c, "json": json})
with open(path + ".tmp", "w") as f:
    json.dump(c, f, indent=2)
import os
os.rename(path + ".tmp", path)
PY
}

# make_bundle DIR [options] [--] ARGS...
#   --user UID:GID    process.user
#   --nnp-false       process.noNewPrivileges = false
#   --cgroup PATH     linux.cgroupsPath
#   --rootfs VARIANT  base (default), bench, tiny or none (keep DIR/rootfs)
#   --userns          add a user namespace mapping 0 -> 2000000 (65536 ids)
#   --rw              root.readonly = false (default: read-only root)
# The spec is `runc spec`'s default (no user namespace), terminal false.
# DIR's parent must not be reachable by unprivileged users (mktemp -d + 0700).
make_bundle() {
    local dir=$1 user="" nnp=true cgroup="" variant=base userns=false readonly=true
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
        --user) user=$2; shift 2 ;;
        --nnp-false) nnp=false; shift ;;
        --cgroup) cgroup=$2; shift 2 ;;
        --rootfs) variant=$2; shift 2 ;;
        --userns) userns=true; shift ;;
        --rw) readonly=false; shift ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || set -- /bin/true
    mkdir -p "$dir" || return 1
    case "$variant" in
    none) ;;
    tiny) sb_tiny_rootfs "$dir/rootfs" || return 1 ;;
    *) sb_extract_rootfs "$dir" "$variant" || return 1 ;;
    esac
    rm -f "$dir/config.json"
    runc spec --bundle "$dir" || return 1
    SB_ARGS=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@") \
    SB_USER=$user SB_NNP=$nnp SB_CGROUP=$cgroup SB_USERNS=$userns SB_RO=$readonly \
    SB_HOSTNAME=$SB_TEST_HOSTNAME \
        spec_edit "$dir" '
import os
e = os.environ
p = c["process"]
p["terminal"] = False
p["args"] = json.loads(e["SB_ARGS"])
p["noNewPrivileges"] = e["SB_NNP"] == "true"
if e["SB_USER"]:
    uid, gid = e["SB_USER"].split(":")
    p["user"] = {"uid": int(uid), "gid": int(gid)}
c["hostname"] = e["SB_HOSTNAME"]
c["root"]["readonly"] = e["SB_RO"] == "true"
if e["SB_CGROUP"]:
    c["linux"]["cgroupsPath"] = e["SB_CGROUP"]
if e["SB_USERNS"] == "true":
    c["linux"]["namespaces"].append({"type": "user"})
    m = [{"containerID": 0, "hostID": 2000000, "size": 65536}]
    c["linux"]["uidMappings"] = m
    c["linux"]["gidMappings"] = m
'
}
