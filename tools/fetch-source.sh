#!/bin/sh
# Unpacks the Debian source package PACKAGE into DEST (Debian's patches
# applied), from the host's own apt sources: a deb-src twin of every
# enabled "deb" entry, in a private apt state under CACHE, so the host's apt
# configuration is left as it was.  apt checks the files against the signed
# Sources index.  Used for what Debian ships only as a shared library but a
# static helper needs (libslirp).
#
#   tools/fetch-source.sh PACKAGE DEST [CACHE]
set -eu
pkg=$1
dest=$2
cache=${3:-.cache/apt-src}

[ -d "$dest" ] && exit 0
mkdir -p "$cache/parts" "$cache/lists/partial" "$cache/archives/partial" "$cache/work"
cache=$(cd "$cache" && pwd)
rm -f "$cache/parts"/*
if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list > "$cache/parts/host.list"
fi
for f in /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" > "$cache/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$cache/parts/$(basename "$f")"
done
apt_src() {
    apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$cache/parts" \
        -o Dir::State::Lists="$cache/lists" -o Dir::Cache="$cache" \
        -o APT::Sandbox::User=root "$@"
}
# A third-party repository without sources fails its part of the update;
# the Debian archive's part is what counts, and `source` says if it is missing.
apt_src update >/dev/null 2>&1 || true
work=$(mktemp -d "$cache/work/$pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt_src source --download-only "$pkg" >/dev/null) || {
    echo "fetch-source: cannot download the Debian source of $pkg (are deb-src lines reachable?)" >&2
    exit 1
}
dpkg-source --no-check -x "$work"/"$pkg"_*.dsc "$work/src" >/dev/null
mkdir -p "$(dirname "$dest")"
mv "$work/src" "$dest"
echo "fetch-source: $pkg -> $dest"
