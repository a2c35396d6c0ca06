#!/usr/bin/env python3
"""Makes an OCI image archive (an image layout in a tar, what `ctr image
import` and `podman load` read) of one layer: a rootfs tarball as it is.

  oci-archive.py ROOTFS.tar NAME:TAG OUT.tar

The image's config runs /bin/bash with Debian's PATH; its name is the
index's org.opencontainers.image.ref.name annotation.
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def descriptor(media_type, digest, size, **extra):
    return dict(mediaType=media_type, digest="sha256:" + digest, size=size, **extra)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rootfs, name, out = sys.argv[1:]
    layer = sha256_file(rootfs)
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/bash"],
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer]},
    }).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", config_digest, len(config)),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", layer, os.path.getsize(rootfs))],
    }).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [descriptor("application/vnd.oci.image.manifest.v1+json", manifest_digest, len(manifest),
                                 annotations={"org.opencontainers.image.ref.name": name})],
    }).encode()
    with tarfile.open(out + ".partial", "w") as tar:
        add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(tar, "index.json", index)
        add_bytes(tar, "blobs/sha256/" + manifest_digest, manifest)
        add_bytes(tar, "blobs/sha256/" + config_digest, config)
        tar.add(rootfs, arcname="blobs/sha256/" + layer)
    os.rename(out + ".partial", out)


if __name__ == "__main__":
    main()
