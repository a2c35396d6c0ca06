#!/usr/bin/env python3
"""Runs a command on a fresh pty as a user's terminal would (the pty is the
command's controlling terminal), relays its output to stdout, and after it
exits reports the input it left pending in that terminal: what an attacker
pushed with TIOCSTI would be read there by the user's shell next.

    tty-inject.py CMD ARGS...   (exits with the command's status)
"""
import fcntl
import os
import select
import sys
import termios
import tty

master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 256)
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
status = None
while status is None:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
while select.select([master], [], [], 0.2)[0]:
    try:
        d = os.read(master, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
# Raw mode makes a partial line readable; it does not flush the queue.
tty.setraw(slave, termios.TCSANOW)
fcntl.fcntl(slave, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    pending = os.read(slave, 65536)
except BlockingIOError:
    pending = b""
print("pending input:", repr(pending) if pending else "none")
sys.exit(os.waitstatus_to_exitcode(status))
