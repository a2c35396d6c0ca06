# Shared by install.sh and uninstall.sh: where things go on the node and how
# the container runtime's configuration is edited.  Every path is below
# HOST_ROOT, the node's / as mounted into the installer pod (tests point it at
# a scratch directory).
set -eu

HOST_ROOT=${HOST_ROOT:-/host}
# The tree `meson install --destdir` produced in the installer image.
PAYLOAD=${PAYLOAD:-/opt/sudobox/payload}
PREFIX=${PREFIX:-/usr/local}
RUNTIME=${RUNTIME:-auto}
CONTAINERD_CONFIG=${CONTAINERD_CONFIG:-/etc/containerd/config.toml}
# How to get the node's containerd defaults when it has no config file
# (default: the node's own containerd, run in a chroot of HOST_ROOT).
CONTAINERD_DEFAULTS=${CONTAINERD_DEFAULTS:-}
CRIO_DROPIN=${CRIO_DROPIN:-/etc/crio/crio.conf.d/50-sudobox.conf}
# sudobox-runc's --root for every handler: one state directory for every
# pod of the node, whatever its mode.
RUNC_ROOT=${RUNC_ROOT:-/run/sudobox}
# 0: do not restart the runtime service (tests; or restart it yourself).
RESTART=${RESTART:-1}
NODE_LABEL=run.sudobox/runtime
MANIFEST=$PREFIX/share/sudobox/installed-files
BEGIN_MARK='# BEGIN sudobox runtimes (managed by the sudobox installer; removed by its uninstall.sh)'
END_MARK='# END sudobox runtimes'

log () { printf 'sudobox-installer: %s\n' "$*" >&2; }
die () { log "error: $*"; exit 1; }

# containerd or crio: whichever runtime the node runs.
detect_runtime () {
  if [ "$RUNTIME" != auto ]; then
    echo "$RUNTIME"
  elif [ -S "$HOST_ROOT/run/crio/crio.sock" ] || [ -d "$HOST_ROOT/etc/crio" ]; then
    echo crio
  elif [ -S "$HOST_ROOT/run/containerd/containerd.sock" ] || [ -d "$HOST_ROOT/etc/containerd" ]; then
    echo containerd
  else
    die "neither containerd nor CRI-O found below $HOST_ROOT (set RUNTIME=containerd|crio)"
  fi
}

# Prints FILE without the managed block.
strip_block () {
  awk -v b="$BEGIN_MARK" -v e="$END_MARK" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$1"
}

# Replaces FILE by stdin atomically, keeping its mode.
replace_file () {
  tmp=$(mktemp "$1.sudobox.XXXXXX")
  cat >"$tmp"
  chmod --reference="$1" "$tmp"
  mv -f "$tmp" "$1"
}

# The runc.v2 shim cannot pass arguments or annotations to the runtime
# binary, so each handler names its own binary: sudobox-runc itself for
# userns, and a wrapper that selects the mode for the other two.
handler_binary () {
  case "$1" in
    sudobox) echo "$PREFIX/sbin/sudobox-runc" ;;
    sudobox-system) echo "$PREFIX/sbin/sudobox-runc-system" ;;
    sudobox-microvm) echo "$PREFIX/sbin/sudobox-runc-microvm" ;;
  esac
}

HANDLERS="sudobox sudobox-system sudobox-microvm"

containerd_block () {
  echo "$BEGIN_MARK"
  for h in $HANDLERS; do
    cat <<TOML
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$h]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$h.options]
    BinaryName = "$(handler_binary "$h")"
    Root = "$RUNC_ROOT"
TOML
  done
  echo "$END_MARK"
}

crio_dropin () {
  echo "# Written by the sudobox installer; removed by its uninstall.sh."
  for h in $HANDLERS; do
    cat <<TOML
[crio.runtime.runtimes.$h]
runtime_path = "$(handler_binary "$h")"
runtime_type = "oci"
runtime_root = "$RUNC_ROOT"
TOML
  done
}

restart_runtime () {
  if [ "$RESTART" != 1 ]; then
    log "not restarting $1 (RESTART=$RESTART)"
    return 0
  fi
  # hostPID: the node's systemd is PID 1.
  nsenter --target 1 --mount --uts --ipc --net --pid -- systemctl restart "$1"
  log "restarted $1"
}

# Sets (value) or removes (empty value) the node label through the API
# server with the pod's service account.
label_node () {
  sa=/var/run/secrets/kubernetes.io/serviceaccount
  if [ -z "${NODE_NAME:-}" ] || [ ! -r "$sa/token" ]; then
    log "not labelling the node (no NODE_NAME or service account)"
    return 0
  fi
  if [ -n "$1" ]; then value="\"$1\""; else value=null; fi
  curl -fsS --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" -X PATCH \
    -H 'Content-Type: application/merge-patch+json' \
    -d "{\"metadata\":{\"labels\":{\"$NODE_LABEL\":$value}}}" \
    "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/nodes/$NODE_NAME" >/dev/null
  log "node $NODE_NAME: $NODE_LABEL=${1:-(removed)}"
}
