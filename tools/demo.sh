#!/bin/bash
# The sudobox demo: a Debian workspace where the user `dev` uses sudo, while
# on the host every process of the workspace runs as an unprivileged uid.
# Safe to run again: the image is reused and the workspace re-created.
set -euo pipefail
SUDOBOX=$(realpath "${1:-build/src/sudobox/sudobox}")
sb() { "$SUDOBOX" "$@"; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

if ! sb image inspect default >/dev/null 2>&1; then
    say "building the default image (Debian bookworm, sudo, user dev with passwordless sudo; about 20 s)"
    sb image build default --include procps,ca-certificates
fi
sb rm --force demo >/dev/null 2>&1 || true
say "creating and starting workspace demo"
sb create demo --image default
sb start demo
sb ls

say "inside the workspace, as dev"
show "id";                       sb exec demo -- id
show "sudo -n id";               sb exec demo -- sudo -n id
show "sudo -n apt-get update && sudo -n apt-get install -y hello"
sb exec demo -- sh -c 'sudo -n apt-get update -q >/dev/null && sudo -n apt-get install -y -q hello >/dev/null' 
show "hello";                    sb exec demo -- hello

sb exec demo -- sh -c 'sleep 600 >/dev/null 2>&1 &'
say "on the host: the workspace's processes and their (unprivileged) host uids"
first=$(sb inspect demo | python3 -c 'import json,sys; print(json.load(sys.stdin)["hostIdFirst"])')
echo "workspace demo owns host ids $first..$((first + 65535)); root inside is host uid $first"
ps -eo user:12,pid,args --sort pid | awk -v lo="$first" -v hi=$((first + 65535)) \
    'NR == 1 || ($1 ~ /^[0-9]+$/ && $1 >= lo && $1 <= hi)'

say "a shell in it:   $SUDOBOX shell demo"
echo "   stop it:      $SUDOBOX stop demo        remove it: $SUDOBOX rm --volumes demo"
