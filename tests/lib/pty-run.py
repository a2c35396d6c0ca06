#!/usr/bin/env python3
"""Runs a client command (podman run -it, docker run -it, ...) on a new
pseudo-terminal, as a user at a terminal would: the window size is set
before the command starts, input is typed once the command prints --wait-for
(or at once), and everything the terminal shows is copied to stdout.

  pty-run.py [--size ROWSxCOLS] [--input TEXT] [--wait-for TEXT]
             [--timeout SECONDS] -- CMD...

Exit status: the command's own (128+N for a signal), 124 on timeout.
"""
import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="24x80")
    ap.add_argument("--input", default="")
    ap.add_argument("--wait-for", default="")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()
    rows, cols = (int(x) for x in args.size.split("x"))

    pid, master = pty.fork()
    if pid == 0:
        # Our own terminal: the client reads its size from stdin.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execvp(args.cmd[0], args.cmd)

    deadline = time.monotonic() + args.timeout
    out = b""
    to_type = args.input.encode()
    wait_for = args.wait_for.encode()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            print("pty-run.py: timed out", file=sys.stderr)
            return 124
        if to_type and (not wait_for or wait_for in out):
            os.write(master, to_type)
            to_type = b""
        ready, _, _ = select.select([master], [], [], min(left, 0.2))
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: every slave end is closed
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
