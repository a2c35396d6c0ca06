#!/bin/sh
# Installs sudobox on a Kubernetes node from the installer DaemonSet's pod
# (see ../installer.yaml): copies the binaries, adds the runtime handlers
# sudobox, sudobox-system and sudobox-microvm to containerd (or CRI-O),
# restarts the runtime and labels the node run.sudobox/runtime=installed.
# Running it again gives the same result.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

copy_payload () {
  [ -d "$PAYLOAD$PREFIX" ] || die "no payload at $PAYLOAD$PREFIX"
  mkdir -p "$HOST_ROOT$PREFIX/share/sudobox"
  list=$(mktemp)
  (cd "$PAYLOAD$PREFIX" && find . -type f | sed 's|^\./||') >"$list"
  while read -r f; do
    mkdir -p "$(dirname "$HOST_ROOT$PREFIX/$f")"
    # Copy then rename: a running binary is replaced, never rewritten.
    cp -p "$PAYLOAD$PREFIX/$f" "$HOST_ROOT$PREFIX/$f.sudobox-new"
    mv -f "$HOST_ROOT$PREFIX/$f.sudobox-new" "$HOST_ROOT$PREFIX/$f"
  done <"$list"
  for mode in system microvm; do
    w=sbin/sudobox-runc-$mode
    printf '#!/bin/sh\nexec %s --isolation %s "$@"\n' "$PREFIX/sbin/sudobox-runc" "$mode" >"$HOST_ROOT$PREFIX/$w"
    chmod 0755 "$HOST_ROOT$PREFIX/$w"
    echo "$w" >>"$list"
  done
  echo "share/sudobox/installed-files" >>"$list"
  mv -f "$list" "$HOST_ROOT$MANIFEST"
  chmod 0644 "$HOST_ROOT$MANIFEST"
  log "installed $(wc -l <"$HOST_ROOT$MANIFEST") files below $PREFIX"
}

configure_containerd () {
  f=$HOST_ROOT$CONTAINERD_CONFIG
  if [ ! -e "$f" ]; then
    # Not a file with the sudobox tables alone: containerd would take its
    # runtimes table for the whole map and lose the default runtime, runc.
    mkdir -p "$(dirname "$f")"
    ${CONTAINERD_DEFAULTS:-chroot "$HOST_ROOT" containerd config default} >"$f.sudobox-new"
    mv -f "$f.sudobox-new" "$f"
    touch "$f.sudobox-created"
  fi
  grep -Eq '^[[:space:]]*version[[:space:]]*=[[:space:]]*2' "$f" \
    || die "$CONTAINERD_CONFIG is not a version 2 configuration (containerd 1.5 or later writes one: containerd config default)"
  # awk ends every line it prints with a newline: the block never joins
  # the last line of a file that lacked one.
  { strip_block "$f"; containerd_block; } | replace_file "$f"
  log "containerd: handlers $HANDLERS in $CONTAINERD_CONFIG"
}

configure_crio () {
  mkdir -p "$(dirname "$HOST_ROOT$CRIO_DROPIN")"
  crio_dropin >"$HOST_ROOT$CRIO_DROPIN"
  log "CRI-O: handlers $HANDLERS in $CRIO_DROPIN"
}

runtime=$(detect_runtime)
copy_payload
case "$runtime" in
  containerd) configure_containerd ;;
  crio) configure_crio ;;
  *) die "RUNTIME=$runtime: expected containerd or crio" ;;
esac
restart_runtime "$runtime"
label_node installed
