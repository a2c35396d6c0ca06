#!/bin/bash
# Builds what a microvm guest boots: the uncompressed kernel (vmlinux, booted
# through its PVH entry: no decompression, which costs seconds under TCG)
# and an uncompressed initramfs holding the static agent as /init and the
# kernel modules it loads, numbered in load order.  Cached: nothing is redone
# while the kernel and the agent are the same.
#   mkinitramfs.sh AGENT OUTDIR [KERNEL-VERSION]
# Prints the kernel version used.
set -euo pipefail
agent=$1
out=$2
kver=${3:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -1)}
vmlinuz=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -r "$vmlinuz" ] || { echo "mkinitramfs: no kernel $vmlinuz (apt-get install linux-image-amd64)" >&2; exit 1; }
[ -x "$agent" ] || { echo "mkinitramfs: no agent $agent" >&2; exit 1; }
# Dependencies first; virtio_mmio serves -M microvm, virtio_pci q35.
modules=(virtio_ring virtio virtio_mmio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk
         virtio_console failover net_failover virtio_net crc16 mbcache jbd2 crc32c_generic ext4)
stamp="$kver $(sha256sum "$agent" | cut -d' ' -f1) ${modules[*]}"
mkdir -p "$out"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initramfs" ]; then
    touch "$out/stamp" # the caller skips this script while the stamp is newer than the agent
    echo "$kver"
    exit 0
fi
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# vmlinuz is a boot stub followed by the xz-compressed vmlinux.
offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$offset" ] || { echo "mkinitramfs: no xz payload in $vmlinuz" >&2; exit 1; }
tail -c +$((offset + 1)) "$vmlinuz" | xz -dc 2>/dev/null >"$tmp/vmlinux" || true
[ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || {
    echo "mkinitramfs: could not extract vmlinux from $vmlinuz" >&2
    exit 1
}
root=$tmp/root
mkdir -p "$root"/{modules,proc,sys,dev,sysroot}
install -m 0755 "$agent" "$root/init"
i=10
for m in "${modules[@]}"; do
    f=$(find "$moddir/kernel" -name "$m.ko*" | head -1)
    [ -n "$f" ] || { echo "mkinitramfs: module $m not found under $moddir" >&2; exit 1; }
    case $f in
    *.xz) xz -dc "$f" >"$root/modules/$i-$m.ko" ;;
    *.zst) zstd -dcq "$f" >"$root/modules/$i-$m.ko" ;;
    *) cp "$f" "$root/modules/$i-$m.ko" ;;
    esac
    i=$((i + 1))
done
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --owner=0:0) >"$tmp/initramfs"
chmod 0644 "$tmp/vmlinux" "$tmp/initramfs"
mv -f "$tmp/vmlinux" "$out/vmlinux"
mv -f "$tmp/initramfs" "$out/initramfs"
echo "$stamp" >"$out/stamp"
echo "$kver"
