#!/usr/bin/env bats
# The binaries are built hardened: PIE, full RELRO, a non-executable stack,
# stack protector and FORTIFY_SOURCE (sudobox-init is static by design, so
# not PIE, and has no dynamic section for RELRO).

SB_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BUILD:=$SB_TOP/build}"

check_dynamic() {
    local bin=$1
    [ -x "$bin" ] || skip "$bin not built"
    readelf -h "$bin" | grep -q 'Type:.*DYN'                        # PIE
    readelf -l "$bin" | grep -q 'GNU_RELRO'                          # RELRO ...
    readelf -d "$bin" | grep -Eq 'BIND_NOW|FLAGS.*NOW'               # ... full
    ! readelf -lW "$bin" | grep 'GNU_STACK' | grep -q 'RWE'          # no exec stack
    readelf -sW --dyn-syms "$bin" | grep -q '__stack_chk_fail'       # stack protector
    readelf -sW --dyn-syms "$bin" | grep -Eq '__[a-z]+_chk@'         # FORTIFY_SOURCE
}

@test "sudobox-runc is PIE, full RELRO, NX stack, stack protector, fortified" {
    check_dynamic "$BUILD/src/runc/sudobox-runc"
}

@test "sudobox is PIE, full RELRO, NX stack, stack protector, fortified" {
    check_dynamic "$BUILD/src/sudobox/sudobox"
}

@test "sudobox-init is static with a non-executable stack" {
    bin=$BUILD/src/init/sudobox-init
    [ -x "$bin" ] || skip "not built"
    ! readelf -d "$bin" | grep -q NEEDED
    ! readelf -lW "$bin" | grep 'GNU_STACK' | grep -q 'RWE'
}

@test "every installed binary is hardened (meson install into a scratch DESTDIR)" {
    [ -f "$BUILD/build.ninja" ] || skip "no build in $BUILD"
    dest=$(mktemp -d /tmp/sbinstall.XXXXXX)
    run meson install -C "$BUILD" --destdir "$dest" --no-rebuild --quiet
    [ "$status" -eq 0 ] || { echo "$output"; rm -rf "$dest"; false; }
    n=0
    for bin in $(find "$dest" -type f -perm -u+x); do
        head -c 4 "$bin" | grep -q ELF || continue
        n=$((n + 1))
        echo "checking ${bin#"$dest"}"
        if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then
            check_dynamic "$bin" || { rm -rf "$dest"; false; }
        else
            # Static by design (sudobox-init, the guest agent): NX stack.
            ! readelf -lW "$bin" | grep 'GNU_STACK' | grep -q 'RWE' || { rm -rf "$dest"; false; }
        fi
    done
    rm -rf "$dest"
    [ "$n" -ge 3 ]
}
