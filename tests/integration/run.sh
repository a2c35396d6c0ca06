#!/bin/bash
# Runs every integration test file with bats, printing TAP.  Exits non-zero
# when any test fails.
#   RUNTIME=path   the runtime under test (default: build/src/runc/sudobox-runc)
#   BUILD=dir      the meson build dir holding it (default: build)
#   usage: tests/integration/run.sh [FILE.bats...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export BUILD=${BUILD:-$top/build}
export RUNTIME=${RUNTIME:-$BUILD/src/runc/sudobox-runc}

if [ "$(id -u)" != 0 ]; then
    echo "integration tests need root (they create containers)" >&2
    exit 1
fi
command -v bats >/dev/null || { echo "bats is not installed (apt-get install bats)" >&2; exit 1; }

# Build the cached rootfs up front so the first test does not time it.
. "$top/tests/lib/rootfs.sh"
sb_rootfs_tar base >/dev/null || exit 1

if [ $# -eq 0 ]; then
    set -- "$here"/*.bats
fi
echo "# runtime: $RUNTIME" >&2
bats --tap "$@"
