#!/usr/bin/env python3
"""Console socket receiver for `create/run/exec --console-socket`.

Listens on a unix socket, accepts one connection, receives the pty master
with SCM_RIGHTS (runc's protocol), optionally sets the window size and
writes input, then copies everything the container prints to stdout (or
--out) until the master hangs up (all slave ends closed) or --timeout.

  console-recv.py SOCKET [--out FILE] [--input TEXT] [--size ROWSxCOLS]
                         [--timeout SECONDS]

Exit status: 0 when a master was received and drained, 1 otherwise.
"""
import argparse
import array
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import time


def receive_master(sock_path, deadline):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    srv.settimeout(max(0.1, deadline - time.monotonic()))
    conn, _ = srv.accept()
    with conn, srv:
        fds = array.array("i")
        msg, ancdata, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if not fds:
            raise RuntimeError("no file descriptor received on %s (payload %r)" % (sock_path, msg))
        return fds[0], msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--out")
    ap.add_argument("--input", default="")
    ap.add_argument("--size")
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()

    deadline = time.monotonic() + a.timeout
    out = open(a.out, "wb") if a.out else sys.stdout.buffer
    try:
        master, name = receive_master(a.socket, deadline)
    except Exception as e:  # noqa: BLE001 - report any failure in one line
        print("console-recv: %s" % e, file=sys.stderr)
        return 1
    if a.size:
        rows, cols = (int(x) for x in a.size.split("x"))
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    if a.input:
        os.write(master, a.input.encode().decode("unicode_escape").encode())
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every slave end is closed
            break
        if not data:
            break
        out.write(data)
        out.flush()
    else:
        print("console-recv: timed out after %gs" % a.timeout, file=sys.stderr)
        return 1
    os.close(master)
    return 0


if __name__ == "__main__":
    sys.exit(main())
