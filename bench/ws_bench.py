#!/usr/bin/env python3
"""Workspace-manager benchmarks, driven by bench/workspace.sh.

  ws_bench.py startup N SUDOBOX ROOT IMAGE [PODMAN_CMD | --skip REASON]
      `sudobox run --rm IMAGE -- true` against PODMAN_CMD (a shell-style
      command line), interleaved; target: podman/sudobox >= 10x.
  ws_bench.py create N SUDOBOX ROOT BIG_IMAGE SMALL_IMAGE
      create + start (stop + rm untimed) on two image sizes; target: the
      big/small ratio of medians within 10% of 1.
  ws_bench.py exec N SUDOBOX ROOT IMAGE RUNC_CMD
      `sudobox exec WS -- true` into a started workspace against RUNC_CMD
      (`runc exec` into a running container); target: sudobox/runc <= 1.5x.
  ws_bench.py memory COUNT SUDOBOX ROOT IMAGE
      VmRSS and PSS of the monitor and its sudobox-net for COUNT idle
      workspaces; target: RSS <= 2 MiB per workspace.

Times are wall clock of the whole command (fork+exec included), measured by
bench.py's timed(); each benchmark drops one warm-up round.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import p90, timed  # noqa: E402

WARMUP = 1
# The network helper the monitor starts (src/net).
NET = "sudobox-net"
# An idle workspace: long enough after start for the monitor and sudobox-net
# to have finished their setup work and touched every page they will touch.
SETTLE_S = 2.0


def sudobox(sb, root, *args):
    return [sb, "--root", root] + list(args)


def quiet(argv):
    """Runs an untimed step; failures raise with the command's last error line."""
    timed(argv)


class Runs:
    """Samples and failures of one command.  A failed round is dropped and
    counted (an intermittent failure is a finding, not a reason to lose the
    run); three failures in a row mean it cannot run here, and it stops."""

    GIVE_UP = 3

    def __init__(self):
        self.ms = []
        self.failures = 0
        self.streak = 0
        self.last_error = ""

    def alive(self):
        return self.streak < self.GIVE_UP

    def attempt(self, fn):
        """fn()'s result, or None when it failed (counted)."""
        try:
            result = fn()
        except RuntimeError as e:
            self.failures += 1
            self.streak += 1
            self.last_error = str(e)
            return None
        self.streak = 0
        return result

    def problem(self):
        """None when every round ran; else what to print instead of / after the row."""
        if not self.ms:
            return "failed: %s" % self.last_error
        if self.failures:
            return "%d round(s) failed, dropped; last: %s" % (self.failures, self.last_error)
        return None


def row(name, xs, ref):
    med = statistics.median(xs)
    ratio = "%9.2fx" % (med / ref) if ref else "%10s" % "-"
    return "%-22s %4d %9.2f %9.2f %9.2f %s" % (name, len(xs), med, p90(xs), min(xs), ratio)


def header(ratio_label):
    return "%-22s %4s %9s %9s %9s %10s" % ("", "N", "median", "p90", "min", ratio_label)


def report(name, runs, ref):
    """Prints the row of runs (if it has samples) and its failures; 1 if any."""
    if runs.ms:
        print(row(name, runs.ms, ref))
    if runs.problem():
        print("%-22s %s" % (name if not runs.ms else "", runs.problem()))
        return 1
    return 0


def interleaved(n, cmds):
    """cmds: [(name, argv)]; every round runs each once, the first rotating."""
    runs = {name: Runs() for name, _ in cmds}
    for rnd in range(-WARMUP, n):
        for k in range(len(cmds)):
            name, argv = cmds[(rnd + k) % len(cmds)]
            if not runs[name].alive():
                continue
            ms = runs[name].attempt(lambda: timed(argv))
            if ms is not None and rnd >= 0:
                runs[name].ms.append(ms)
    return runs


def verdict(ok, what):
    return "target %s: %s" % (what, "met" if ok else "NOT met")


def bench_startup(n, sb, root, image, podman, skip):
    cmds = [("sudobox run --rm", sudobox(sb, root, "run", "--rm", image, "--", "true"))]
    if podman:
        cmds.append(("podman run --rm", shlex.split(podman)))
    runs = interleaved(n, cmds)
    print("1. run --rm of `true` on the Debian image, %d interleaved rounds (ms)" % n)
    print(header("vs sudobox"))
    sb_runs = runs["sudobox run --rm"]
    ref = statistics.median(sb_runs.ms) if sb_runs.ms else None
    rc = report("sudobox run --rm", sb_runs, ref)
    if skip:
        print("%-22s skipped: %s" % ("podman run --rm", skip))
        return rc
    pm_runs = runs["podman run --rm"]
    rc |= report("podman run --rm", pm_runs, ref)
    if ref and pm_runs.ms:
        speedup = statistics.median(pm_runs.ms) / ref
        print(verdict(speedup >= 10, "sudobox >= 10x faster than podman (%.1fx)" % speedup))
    return rc


def create_start(sb, root, ws, image):
    """ms of create + start of ws, and of create alone; removed afterwards."""
    try:
        c = timed(sudobox(sb, root, "create", ws, "--image", image))
        return c + timed(sudobox(sb, root, "start", ws)), c
    finally:
        subprocess.call(sudobox(sb, root, "rm", "--force", "--volumes", ws),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_create(n, sb, root, big, small):
    runs = {"big": Runs(), "small": Runs()}
    create = {"big": [], "small": []}
    for rnd in range(-WARMUP, n):
        order = [("big", big), ("small", small)]
        if rnd % 2:
            order.reverse()
        for label, image in order:
            if not runs[label].alive():
                continue
            ws = "cs-%s-%d" % (label, rnd + WARMUP)
            got = runs[label].attempt(lambda: create_start(sb, root, ws, image))
            if got is not None and rnd >= 0:
                runs[label].ms.append(got[0])
                create[label].append(got[1])
    print("2. create + start on a big (%s) vs a small (%s) image, %d interleaved rounds (ms)" % (big, small, n))
    print(header("vs small"))
    ref = statistics.median(runs["small"].ms) if runs["small"].ms else None
    rc = 0
    for label in ("big", "small"):
        rc |= report("create+start, %s" % label, runs[label], ref)
    if not (runs["big"].ms and runs["small"].ms):
        return 1
    for label in ("big", "small"):
        print(row("  create only, %s" % label, create[label], statistics.median(create["small"])))
    ratio = statistics.median(runs["big"].ms) / ref
    print(verdict(abs(ratio - 1) <= 0.10, "big/small within 10%% (%.2fx)" % ratio))
    return rc


def bench_exec(n, sb, root, image, runc_cmd):
    ws = "exec-bench"
    quiet(sudobox(sb, root, "create", ws, "--image", image))
    try:
        quiet(sudobox(sb, root, "start", ws))
        runs = interleaved(n, [("sudobox exec", sudobox(sb, root, "exec", ws, "--", "true")),
                               ("runc exec", shlex.split(runc_cmd))])
    finally:
        subprocess.call(sudobox(sb, root, "rm", "--force", "--volumes", ws),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("3. exec of `true` into a running workspace / container, %d interleaved rounds (ms)" % n)
    print(header("vs runc"))
    ref = statistics.median(runs["runc exec"].ms) if runs["runc exec"].ms else None
    rc = report("sudobox exec", runs["sudobox exec"], ref) | report("runc exec", runs["runc exec"], ref)
    if ref and runs["sudobox exec"].ms:
        ratio = statistics.median(runs["sudobox exec"].ms) / ref
        print(verdict(ratio <= 1.5, "sudobox exec <= 1.5x runc exec (%.2fx)" % ratio))
    return rc


def proc_kib(pid):
    """(VmRSS, Pss, Uss) in KiB: Pss splits each shared page among its users;
    Uss counts only the pages no other process maps (what one more
    workspace adds)."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open("/proc/%d/smaps_rollup" % pid) as f:
        fields = {line.split(":")[0]: int(line.split()[1]) for line in f if line.split()[-1] == "kB"}
    return rss, fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]


def children(pid):
    """{comm: pid} of pid's children."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # comm may hold spaces: the fields after it start past the last ')'.
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out[comm] = int(entry)
    return out


def measure_workspace(sb, root, ws):
    info = json.loads(subprocess.check_output(sudobox(sb, root, "inspect", ws)))
    mon = info["monitorPid"]
    kids = children(mon)
    if NET not in kids:
        raise RuntimeError("workspace %s: monitor %d has no %s child (children: %s)" %
                           (ws, mon, NET, ", ".join(sorted(kids)) or "none"))
    inits = [pid for comm, pid in kids.items() if comm != NET]
    return {"monitor": proc_kib(mon), NET: proc_kib(kids[NET]),
            "init": proc_kib(inits[0]) if inits else None}


def bench_memory(count, sb, root, image):
    names = ["mem-%d" % i for i in range(count)]
    try:
        for ws in names:
            quiet(sudobox(sb, root, "create", ws, "--image", image))
            quiet(sudobox(sb, root, "start", ws))
        time.sleep(SETTLE_S)
        got = [measure_workspace(sb, root, ws) for ws in names]
    finally:
        for ws in names:
            subprocess.call(sudobox(sb, root, "rm", "--force", "--volumes", ws),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    comps = {
        "monitor": [g["monitor"] for g in got],
        NET: [g[NET] for g in got],
        "monitor + " + NET: [tuple(m + n for m, n in zip(g["monitor"], g[NET])) for g in got],
    }
    inits = [g["init"] for g in got if g["init"]]
    print("4. host memory per idle workspace, %d workspace(s) started, %.0f s idle (KiB)" % (count, SETTLE_S))
    print("%-22s %4s %9s %9s %9s %9s %9s %10s" % ("", "N", "RSS med", "RSS p90", "PSS med", "PSS p90",
                                                   "USS med", "RSS/2MiB"))
    for name, xs in list(comps.items()) + ([("(init, in the ws)", inits)] if inits else []):
        rss = [x[0] for x in xs]
        pss = [x[1] for x in xs]
        uss = [x[2] for x in xs]
        print("%-22s %4d %9d %9d %9d %9d %9d %9.2fx" % (name, len(xs), statistics.median(rss), p90(rss),
                                                        statistics.median(pss), p90(pss), statistics.median(uss),
                                                        statistics.median(rss) / 2048))
    total = comps["monitor + " + NET]
    rss_total, pss_total, uss_total = (statistics.median([x[i] for x in total]) for i in range(3))
    print(verdict(rss_total <= 2048, "RSS of monitor + sudobox-net <= 2 MiB (%.2f MiB; PSS %.2f MiB; USS %.2f MiB)" %
                  (rss_total / 1024, pss_total / 1024, uss_total / 1024)))
    return 0


def main(argv):
    try:
        if len(argv) in (5, 6, 7) and argv[0] == "startup":
            skip = argv[6] if len(argv) == 7 and argv[5] == "--skip" else None
            podman = argv[5] if len(argv) == 6 else None
            return bench_startup(int(argv[1]), argv[2], argv[3], argv[4], podman, skip)
        if len(argv) == 6 and argv[0] == "create":
            return bench_create(int(argv[1]), *argv[2:])
        if len(argv) == 6 and argv[0] == "exec":
            return bench_exec(int(argv[1]), *argv[2:])
        if len(argv) == 5 and argv[0] == "memory":
            return bench_memory(int(argv[1]), *argv[2:])
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print("%s benchmark failed: %s" % (argv[0], e))
        return 1
    except KeyboardInterrupt:
        return 130
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
