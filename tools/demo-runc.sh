#!/bin/bash
# The runtime demo: a Debian bookworm rootfs with sudo and a user `dev`, run
# by sudobox-runc from a spec that has NO user namespace.  Inside, dev uses
# sudo and is root; outside, every process runs as an unprivileged host uid.
set -euo pipefail
RUNTIME=$(realpath "${1:-build/src/runc/sudobox-runc}")
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib/rootfs.sh"

demo=/var/lib/sudobox-demo
state=$demo/state
id=demo
mkdir -p "$demo"
chmod 700 "$demo"
"$RUNTIME" --root "$state" delete --force "$id" >/dev/null 2>&1 || true
rm -rf "$demo/bundle"
echo "== building the Debian rootfs (cached after the first run)"
make_bundle "$demo/bundle" --user 1000:1000 --nnp-false --rw -- sleep infinity
# The capabilities docker and podman give by default: sudo needs SETUID,
# SETGID and AUDIT_WRITE in the bounding set to become root inside.
spec_edit "$demo/bundle" '
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
        "CAP_SETFCAP"]
c["process"]["capabilities"] = {"bounding": caps}'

trap '"$RUNTIME" --root "$state" delete --force "$id" >/dev/null 2>&1 || true' EXIT
echo "== sudobox-runc run -d $id  (config.json has no user namespace)"
"$RUNTIME" --root "$state" run -d --bundle "$demo/bundle" "$id" </dev/null >/dev/null 2>&1
ex() { "$RUNTIME" --root "$state" exec "$id" "$@"; }
echo "== inside, as dev:"
echo "\$ id";               ex id
echo "\$ sudo -n id";       ex sudo -n id
echo "\$ sudo -n touch /etc/made-by-sudo && ls -l /etc/made-by-sudo"
ex sh -c 'sudo -n touch /etc/made-by-sudo && ls -l /etc/made-by-sudo'
echo "\$ cat /proc/self/uid_map";  ex cat /proc/self/uid_map
echo "== outside, on the host: the container's processes and their host uids"
pid=$("$RUNTIME" --root "$state" state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
ps -o user:12,pid,cmd --ppid "$pid" -p "$pid"
echo "== done.  Root inside is the host uid in the second column of uid_map above."
echo "   A shell in the same bundle: $RUNTIME --root $state run --bundle $demo/bundle shell"
echo "   (set process.terminal to true and args to [\"bash\"] in $demo/bundle/config.json first)"
