#!/bin/bash
# Builds every libFuzzer target with clang and runs each for a bounded time.
#   tests/fuzz/run.sh [SECONDS-PER-TARGET]   (FUZZ_TARGETS="fuzz_agent ...": only those)
# New corpus entries go to a scratch copy; a crash is kept in
# tests/fuzz/regressions/TARGET/ so it becomes a regression input.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
out=$top/build-fuzz
mkdir -p "$out"
lib=(src/libsudobox/error.c src/libsudobox/util.c)
declare -A sources=(
    [fuzz_spec]="$(cd "$top" && ls src/libsudobox/spec*.c | tr '\n' ' ')"
    [fuzz_image]="src/sudobox/image-import.c src/sudobox/archive-dl.c"
    [fuzz_agent]="src/libsudobox/agent-proto.c"
    # The name and number parsers sit in the manager's registry/wsconfig and
    # in sudobox-runc's signals.c; wsconfig pulls in the whole library.
    [fuzz_cli]="$(cd "$top" && ls src/libsudobox/*.c | grep -Ev '/(error|util)\.c$' | tr '\n' ' ') src/sudobox/registry.c src/sudobox/wsconfig.c src/sudobox/ws-system.c src/runc/signals.c"
)
declare -A flags=(
    [fuzz_spec]="$(pkg-config --cflags --libs json-c)"
    [fuzz_image]="-Isrc/sudobox $(pkg-config --cflags --libs libarchive json-c)"
    [fuzz_agent]=""
    [fuzz_cli]="-Isrc/sudobox -Isrc/runc -DSUDOBOX_LIBEXECDIR=\"/usr/local/libexec\" $(pkg-config --cflags --libs json-c sqlite3 libseccomp libcap) -lm"
)
cd "$top"
for target in ${FUZZ_TARGETS:-${!sources[@]}}; do
    [ -n "${sources[$target]+set}" ] || { echo "tests/fuzz/run.sh: unknown target $target" >&2; exit 2; }
    # shellcheck disable=SC2086
    # -fno-sanitize-recover: undefined behaviour is a finding, not a warning.
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Isrc/libsudobox \
        "tests/fuzz/$target.c" ${sources[$target]} "${lib[@]}" ${flags[$target]} -o "$out/$target"
    corpus=$(mktemp -d)
    cp -r "tests/fuzz/corpus/${target#fuzz_}/." "$corpus/"
    [ -d "tests/fuzz/regressions/$target" ] && cp -r "tests/fuzz/regressions/$target/." "$corpus/"
    mkdir -p "tests/fuzz/regressions/$target"
    echo "== $target: ${seconds}s"
    if ! "$out/$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/regressions/$target/" "$corpus"; then
        rm -rf "$corpus"
        echo "== $target: crash saved under tests/fuzz/regressions/$target/" >&2
        exit 1
    fi
    rm -rf "$corpus"
    rmdir "tests/fuzz/regressions/$target" 2>/dev/null || true
done
