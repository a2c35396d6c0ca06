#!/usr/bin/env bats
# Man pages and bash completion: `meson install` puts them where man(1) and
# bash-completion look, the pages render without warnings, and the
# completion functions complete commands, flags and names.

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"

setup() {
    TMP=$(mktemp -d /tmp/sbman.XXXXXX)
    chmod 700 "$TMP"
}

teardown() { rm -rf "$TMP"; }

# complete_words FUNCTION WORD...: COMPREPLY for the last word, one a line.
complete_words() {
    local fn=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    "$fn"
    printf '%s\n' "${COMPREPLY[@]}"
}

@test "meson install puts the man pages and completions under DESTDIR" {
    [ -f "$BUILD/build.ninja" ] || skip "no build at $BUILD"
    DESTDIR=$TMP/dest meson install -C "$BUILD" --no-rebuild --quiet >/dev/null
    prefix=$(meson introspect "$BUILD" --buildoptions |
        python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
    [ -f "$TMP/dest$prefix/share/man/man1/sudobox.1" ]
    [ -f "$TMP/dest$prefix/share/man/man8/sudobox-runc.8" ]
    [ -f "$TMP/dest$prefix/share/bash-completion/completions/sudobox" ]
    [ -f "$TMP/dest$prefix/share/bash-completion/completions/sudobox-runc" ]
    run env MANWIDTH=80 man -l "$TMP/dest$prefix/share/man/man1/sudobox.1"
    [[ "$output" == *"sudobox - workspaces where sudo works"* ]]
}

@test "the man pages render without warnings and document every command" {
    command -v man >/dev/null || skip "man is not installed"
    for page in sudobox.1 sudobox-runc.8; do
        run bash -c "MANWIDTH=80 man --warnings -l '$SB_TOP/docs/man/$page' 2>&1 >/dev/null"
        [ -z "$output" ] || { echo "$page: $output"; false; }
    done
    page=$(MANWIDTH=200 man -l "$SB_TOP/docs/man/sudobox.1" 2>/dev/null)
    for c in create start stop restart rm ls inspect logs exec shell run gc image check; do
        echo "$page" | grep -Eq "^       $c( |$)" || { echo "sudobox(1) lacks $c"; false; }
    done
    page=$(MANWIDTH=200 man -l "$SB_TOP/docs/man/sudobox-runc.8" 2>/dev/null)
    for c in create start run state kill delete list ps exec pause update features spec; do
        echo "$page" | grep -Eq "^       $c( |$)" || { echo "sudobox-runc(8) lacks $c"; false; }
    done
}

@test "sudobox completion: commands, flags, image subcommands and values" {
    . "$SB_TOP/completions/sudobox"
    [ "$(complete_words _sudobox sudobox ch)" = check ]
    [ "$(complete_words _sudobox sudobox st | sort | tr '\n' ' ')" = "start stop " ]
    [ "$(complete_words _sudobox sudobox check --f)" = --format ]
    [ "$(complete_words _sudobox sudobox check --format j)" = json ]
    [ "$(complete_words _sudobox sudobox image i)" = "$(printf 'import\ninspect')" ]
    [ "$(complete_words _sudobox sudobox create w --isolation m)" = microvm ]
    complete_words _sudobox sudobox rm --v | grep -qx -- --volumes
}

@test "sudobox completion: workspace and image names come from the manager" {
    [ -x "$BUILD/src/sudobox/sudobox" ] || skip "sudobox is not built"
    . "$SB_TOP/completions/sudobox"
    # A stand-in `sudobox` on the command line answers ls -q / image ls -q
    # the way the manager does, for the --root it is given.
    cat >"$TMP/sudobox" <<'SH'
#!/bin/sh
[ "$1 $2" = "--root /r" ] || exit 1
shift 2
case "$*" in
  "ls -q") printf 'alpha\nbeta\n' ;;
  "image ls -q") printf 'deb\n' ;;
esac
SH
    chmod +x "$TMP/sudobox"
    [ "$(complete_words _sudobox "$TMP/sudobox" --root /r start a)" = alpha ]
    [ "$(complete_words _sudobox "$TMP/sudobox" --root /r exec b)" = beta ]
    [ "$(complete_words _sudobox "$TMP/sudobox" --root /r create w --image d)" = deb ]
    [ "$(complete_words _sudobox "$TMP/sudobox" --root /r image rm d)" = deb ]
    # And the real manager on an empty state root completes nothing.
    [ -z "$(complete_words _sudobox "$BUILD/src/sudobox/sudobox" --root "$TMP/state" start '')" ]
}

@test "sudobox-runc completion: commands, flags and container ids" {
    . "$SB_TOP/completions/sudobox-runc"
    [ "$(complete_words _sudobox_runc sudobox-runc fe)" = features ]
    complete_words _sudobox_runc sudobox-runc delete --f | grep -qx -- --force
    [ "$(complete_words _sudobox_runc sudobox-runc --log-format j)" = json ]
    cat >"$TMP/sudobox-runc" <<'SH'
#!/bin/sh
[ "$*" = "--root /r list -q" ] && printf 'c1\nc2\n'
SH
    chmod +x "$TMP/sudobox-runc"
    [ "$(complete_words _sudobox_runc "$TMP/sudobox-runc" --root /r kill c | tr '\n' ' ')" = "c1 c2 " ]
}
