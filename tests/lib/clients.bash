# Shared by the real-client tests (podman.bats, containerd.bats,
# docker.bats; load after helpers): each file runs its clients and daemons on
# a private 0700 directory, and its teardown_file removes and then checks
# everything they could leave behind.

SBC_PTY_RUN=$SB_TOP/tests/lib/pty-run.py
# Shell code that prints the terminal's size once it is set: docker 20.10
# and ctr size the terminal with a resize call after the start (no console
# size at create), so wait up to 5 s for it.
SBC_WAIT_SIZE='for i in $(seq 50); do [ "$(stty size)" != "0 0" ] && break; sleep 0.1; done; stty size'

# A new 0700 directory below /tmp (overlay layers written by container root
# are host root's: nobody else may reach them).
sbc_dir() {
    local d
    d=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
    chmod 700 "$d" && echo "$d"
}

sbc_mounts() { awk -v t="$1" '$5 == t || index($5, t "/") == 1 {print $5}' /proc/self/mountinfo; }

# sbc_procs DIR [CGROUP...]: processes that name DIR on their command line
# (daemons, shims, conmon) or live in one of the test's top-level cgroups
# (container processes).  Nothing else: processes of other mount namespaces
# may hold copies of DIR's mounts without being ours.
sbc_procs() {
    local dir=$1 p cg
    shift
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        if { tr '\0' ' ' <"$p/cmdline" | grep -qF "$dir"; } 2>/dev/null; then
            echo "${p#/proc/} $({ tr '\0' ' ' <"$p/cmdline" | cut -c1-120; } 2>/dev/null)"
            continue
        fi
        for cg in "$@"; do
            if awk -F: -v c="/$cg/" 'index($3 "/", c) == 1 { f = 1 } END { exit !f }' "$p/cgroup" 2>/dev/null; then
                echo "${p#/proc/} $({ tr '\0' ' ' <"$p/cmdline" | cut -c1-120; } 2>/dev/null)"
                break
            fi
        done
    done
    return 0
}

# sbc_stop PID: SIGTERM, up to 15 s for it to exit, then SIGKILL.
sbc_stop() {
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
}

# The cgroup NAME (a top-level one the test chose) in every hierarchy.
sbc_cgroups() {
    local d
    for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

# Removes the cgroup NAME and its children (empty ones: a live process
# keeps its cgroup, and the leftover check reports it).
sbc_cgroups_remove() {
    local d
    for d in $(sbc_cgroups "$1"); do
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}

# sbc_subid_overlaps FIRST COUNT: prints the /etc/subuid and /etc/subgid
# entries that overlap [FIRST, FIRST+COUNT), and sudobox's own default pools
# (sudobox-runc's from 1000000, the manager's from 2000000000, 4096 ranges of
# 65536 each) when they do.
sbc_subid_overlaps() {
    local first=$1 count=$2
    {
        cat /etc/subuid /etc/subgid 2>/dev/null
        echo "sudobox-runc-default:1000000:268435456"
        echo "sudobox-manager-default:2000000000:268435456"
    } | awk -F: -v f="$first" -v c="$count" \
        'NF == 3 && $2 + 0 < f + c && f < $2 + $3 {print}'
}

# sbc_subid_add NAME FIRST COUNT: gives NAME that range in /etc/subuid and
# /etc/subgid unless NAME has an entry in either already (then the existing
# one is used).  Sets SBC_SUBID_ADDED to the line added, "" otherwise.
sbc_subid_add() {
    local name=$1 first=$2 count=$3 f overlap
    SBC_SUBID_ADDED=""
    if grep -qs "^$name:" /etc/subuid /etc/subgid; then
        return 0
    fi
    overlap=$(sbc_subid_overlaps "$first" "$count")
    if [ -n "$overlap" ]; then
        echo "clients.bash: $name:$first:$count overlaps $overlap" >&2
        return 1
    fi
    for f in /etc/subuid /etc/subgid; do
        echo "$name:$first:$count" >>"$f" || return 1
    done
    SBC_SUBID_ADDED="$name:$first:$count"
}

# Removes exactly the line sbc_subid_add added (other lines stay as they are).
sbc_subid_remove() {
    local line=$1 f
    [ -n "$line" ] || return 0
    for f in /etc/subuid /etc/subgid; do
        # In place (sed -i would replace the file and its owner/mode).
        grep -vxF "$line" "$f" >"$f.sbc.tmp"
        cat "$f.sbc.tmp" >"$f" && rm -f "$f.sbc.tmp"
    done
}

# sbc_leftovers DIR CGROUP...: prints what the file's clients left behind,
# then kills those processes (ours: see sbc_procs) and removes the cgroups
# (podman and docker leave their cgroup parent, empty, by design).
sbc_leftovers() {
    local dir=$1 cg m p
    shift
    [ -n "$(sbc_procs "$dir" "$@")" ] && sleep 1
    m=$(sbc_mounts "$dir")
    [ -n "$m" ] && echo "leftover mounts: $m"
    m=$(sbc_procs "$dir" "$@")
    if [ -n "$m" ]; then
        echo "leftover processes: $m"
        for p in $(cut -d' ' -f1 <<<"$m"); do kill -9 "$p" 2>/dev/null; done
        sleep 0.2
    fi
    for cg in "$@"; do
        sbc_cgroups_remove "$cg"
        m=$(sbc_cgroups "$cg")
        [ -n "$m" ] && echo "leftover cgroups: $m"
    done
    return 0
}

# Detaches what is mounted below DIR (deepest first), then removes DIR.
sbc_remove_dir() {
    local dir=$1 m
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    for m in $(sbc_mounts "$dir" | sort -r); do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
}

# The host uid of process PID as /proc shows it.
sbc_host_uid() { awk '/^Uid:/ {print $2}' "/proc/$1/status"; }

# sbc_cg_value HIERARCHY CGROUP-PATH FILE: a v1 controller file, or on pure
# v2 the unified one.
sbc_cg_value() {
    local ctrl=$1 path=$2 file=$3
    if [ -d "/sys/fs/cgroup/$ctrl" ]; then
        cat "/sys/fs/cgroup/$ctrl$path/$file"
    else
        cat "/sys/fs/cgroup$path/$file"
    fi
}

# sbc_containerd_config DIR: DIR/containerd.toml, a containerd of its own
# below DIR (root, state, sockets, the opt plugin's dir, CNI dirs) whose CRI
# plugin has the runtime handler "sudobox" (BinaryName: $RUNTIME) next to
# runc, as a node is configured for a RuntimeClass with handler sudobox.
sbc_containerd_config() {
    local dir=$1
    mkdir -p "$dir/cni/conf" "$dir/cni/bin"
    cat >"$dir/containerd.toml" <<EOT
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$dir/cni/bin"
    conf_dir = "$dir/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sudobox]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sudobox.options]
        BinaryName = "$RUNTIME"
EOT
}

# sbc_containerd_start DIR: starts containerd on DIR/containerd.toml (log in
# DIR/containerd.log, pid in DIR/containerd.pid) and waits for its socket.
sbc_containerd_start() {
    local dir=$1 i
    containerd --config "$dir/containerd.toml" </dev/null >"$dir/containerd.log" 2>&1 3>&- &
    echo $! >"$dir/containerd.pid"
    for ((i = 0; i < 100; i++)); do
        ctr -a "$dir/containerd.sock" version >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "containerd did not start:" >&2
    tail -5 "$dir/containerd.log" >&2
    return 1
}

# Host paths the clients use whatever their private dirs: containerd's
# shims put their sockets in /run/containerd/s, dockerd its plugin dir in
# /run/docker and its key in /etc/docker, podman its blob-info cache in
# /var/lib/containers/cache.  sbc_host_paths_note DIR PATH... records which
# exist; sbc_host_paths_clean DIR PATH... removes those that did not (files,
# and directories once empty; list children before their parents).
sbc_host_paths_note() {
    local dir=$1 p
    shift
    for p in "$@"; do [ -e "$p" ] && echo "$p"; done >"$dir/host-paths.before"
    return 0
}
sbc_host_paths_clean() {
    local dir=$1 p
    shift
    for p in "$@"; do
        grep -qxF "$p" "$dir/host-paths.before" 2>/dev/null && continue
        if [ -d "$p" ]; then rmdir "$p" 2>/dev/null; else rm -f "$p"; fi
    done
    return 0
}
SBC_CONTAINERD_PATHS=(/run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd)
