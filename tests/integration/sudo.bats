#!/usr/bin/env bats
# Acceptance: sudo works in a container whose spec has no user namespace,
# because the runtime adds one (root inside, an unprivileged range outside)
# and idmaps the rootfs so setuid-root sudo and root-owned files work.

load ../lib/helpers

setup() {
    sb_setup
    skip_if_runc
    new_ids 1
}

# The capabilities docker and podman put in the bounding set: sudo needs
# SETUID, SETGID and AUDIT_WRITE there to become root (runc spec's default
# set has none of them, whatever the runtime).
sudo_caps() {
    spec_edit "$BUNDLE" '
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
        "CAP_SETFCAP"]
c["process"]["capabilities"] = {"bounding": caps}'
}

@test "sudo -n id -u prints 0 for user 1000" {
    bundle --rw --user 1000:1000 --nnp-false -- sh -c 'id -u; sudo -n id -u'
    sudo_caps
    run rt run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1000 ]
    [ "${lines[1]}" = 0 ]
}

@test "sudo -n touch /etc/x works and the file is root's on the host too" {
    bundle --rw --user 1000:1000 --nnp-false -- sudo -n touch /etc/x
    sudo_caps
    run rt run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -e "$BUNDLE/rootfs/etc/x" ]
    [ "$(stat -c %u:%g "$BUNDLE/rootfs/etc/x")" = 0:0 ]
}

@test "the process gets a user namespace with a 65536-id host range" {
    bundle --user 1000:1000 --nnp-false -- cat /proc/self/uid_map /proc/self/gid_map
    run rt run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    read -r inside host size <<<"${lines[0]}"
    [ "$inside" = 0 ]
    [ "$host" -ge 65536 ]
    [ "$size" = 65536 ]
    # gid_map: the same range.
    [ "$(echo ${lines[1]})" = "0 $host 65536" ]
}

@test "rootfs files owned by host root are root's inside" {
    bundle --user 1000:1000 --nnp-false -- stat -c '%u %g %n' /etc/passwd /usr/bin/sudo /home/dev
    run rt run -b "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "0 0 /etc/passwd" ]
    [ "${lines[1]}" = "0 0 /usr/bin/sudo" ]
    [ "${lines[2]}" = "1000 1000 /home/dev" ]
}

@test "on the host the container runs as an unprivileged uid" {
    bundle --user 1000:1000 --nnp-false -- sleep 1000
    rt_detached run -d -b "$BUNDLE" "$ID"
    pid=$(state_field "$ID" pid)
    read -r _ host _ <"/proc/$pid/uid_map"
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
    [ "$uid" = $((host + 1000)) ]
    [ "$uid" -ne 0 ]
}

@test "noNewPrivileges true keeps sudo from gaining root" {
    bundle --user 1000:1000 -- sudo -n id -u
    run rt run -b "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
}
