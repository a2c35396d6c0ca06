#!/bin/sh
# Undoes install.sh: removes the node label first (so no new sudobox pod is
# scheduled), then the runtime handlers, restarts the runtime and removes
# the installed files.  Drain the node's sudobox pods before running it:
# their containers need the binaries until they stop.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

unconfigure_containerd () {
  f=$HOST_ROOT$CONTAINERD_CONFIG
  [ -e "$f" ] || return 0
  if [ -e "$f.sudobox-created" ]; then
    rm -f "$f" "$f.sudobox-created"
  else
    strip_block "$f" | replace_file "$f"
  fi
  log "containerd: handlers removed from $CONTAINERD_CONFIG"
}

remove_payload () {
  m=$HOST_ROOT$MANIFEST
  [ -e "$m" ] || return 0
  while read -r f; do
    [ "$f" = share/sudobox/installed-files ] || rm -f "$HOST_ROOT$PREFIX/$f"
  done <"$m"
  rm -f "$m"
  rmdir "$HOST_ROOT$PREFIX/share/sudobox" "$HOST_ROOT$PREFIX/libexec/sudobox" 2>/dev/null || true
  log "removed the files below $PREFIX"
}

runtime=$(detect_runtime)
label_node ""
case "$runtime" in
  containerd) unconfigure_containerd ;;
  crio) rm -f "$HOST_ROOT$CRIO_DROPIN" ;;
  *) die "RUNTIME=$runtime: expected containerd or crio" ;;
esac
restart_runtime "$runtime"
remove_payload
