#!/usr/bin/env bats
# Terminals: --console-socket for create and exec -t, and a foreground run
# with a terminal.

load ../lib/helpers

# console_start NAME [console-recv options]: a receiver on $TMP/NAME.sock
# writing to $TMP/NAME.tty; its pid in CONSOLE_PID.
console_start() {
    local name=$1
    shift
    "$CONSOLE_RECV" "$TMP/$name.sock" --out "$TMP/$name.tty" "$@" 3>&- &
    CONSOLE_PID=$!
    wait_for test -S "$TMP/$name.sock"
}

@test "create --console-socket hands the pty master to the receiver" {
    new_ids 1
    bundle -- sh -c 'tty; stty size; read line; echo "got:$line"'
    spec_edit "$BUNDLE" 'c["process"]["terminal"] = True'
    console_start c --size 33x101 --input 'hello\n'
    rt_detached create --console-socket "$TMP/c.sock" -b "$BUNDLE" "$ID"
    rt start "$ID"
    wait "$CONSOLE_PID"
    run cat "$TMP/c.tty"
    [[ "$output" == */dev/pts/* ]]
    [[ "$output" == *"33 101"* ]]
    [[ "$output" == *got:hello* ]]
}

@test "terminal true without --console-socket fails for create" {
    new_ids 1
    bundle -- true
    spec_edit "$BUNDLE" 'c["process"]["terminal"] = True'
    rt_files create -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    run rt state "$ID"
    [ "$status" -ne 0 ]
}

@test "exec -t --console-socket without -d is refused (runc's rule)" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    run rt exec -t --console-socket "$TMP/none.sock" "$ID" true
    [ "$status" -ne 0 ]
}

@test "exec -t -d --console-socket detaches" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    console_start d --input 'echo detached-ok; exit\n'
    rt_detached exec -t -d --console-socket "$TMP/d.sock" "$ID" sh
    wait "$CONSOLE_PID"
    grep -q detached-ok "$TMP/d.tty"
}

@test "foreground run with a terminal: tty is a pts and stty size works" {
    new_ids 1
    # runc sets the size just after starting the process: give it a moment.
    bundle -- sh -c 'sleep 0.3; tty; stty size'
    spec_edit "$BUNDLE" 'c["process"]["terminal"] = True'
    # script(1) gives the runtime a terminal of its own to relay.
    run script -qec "stty rows 40 cols 120; $(printf '%q ' "$RUNTIME") --root $ROOT run -b $BUNDLE $ID" /dev/null </dev/null 3>&-
    [ "$status" -eq 0 ]
    echo "$output"
    [[ "$output" == */dev/pts/* ]]
    [[ "$output" == *"40 120"* ]]
}

@test "foreground exec -t: tty is a pts and stty size works" {
    new_ids 1
    bundle -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    run script -qec "stty rows 41 cols 99; $(printf '%q ' "$RUNTIME") --root $ROOT exec -t $ID sh -c 'tty; stty size; exit 4'" /dev/null </dev/null 3>&-
    echo "$output"
    [[ "$output" == */dev/pts/* ]]
    [[ "$output" == *"41 99"* ]]
}
