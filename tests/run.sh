#!/bin/bash
# Runs the test suites through prove, so the run ends with one summary line
# ("Result: PASS" / "Files=..., Tests=...") and a non-zero status on failure.
#   tests/run.sh [unit|integration|all]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD:=build}" "${ASAN_BUILD:=build-asan}"
cd "$top"
export BUILD=$top/$BUILD ASAN_BUILD=$top/$ASAN_BUILD
what=${1:-all}
files=()

if [ "$what" = unit ] || [ "$what" = all ]; then
    for b in "$BUILD" "$ASAN_BUILD"; do
        [ -d "$b/tests/unit" ] || continue
        for t in "$b"/tests/unit/test_* "$b"/tests/test_fuzz_*; do
            [ -x "$t" ] && [ -f "$t" ] && files+=("$t")
        done
    done
fi
if [ "$what" = integration ] || [ "$what" = all ]; then
    files+=("$top"/tests/integration/*.bats "$top"/tests/security/*.bats)
fi

# ASan: leaks are errors; fork children that _exit skip the check anyway.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec prove --exec "$top/tests/tap-exec" --timer --failures --comments "${files[@]}"
