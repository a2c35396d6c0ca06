#!/usr/bin/env python3
"""Benchmark driver: times runtimes with a monotonic clock, interleaved.

  bench.py run N NAME=CMD... -- BUNDLE ROOTS_DIR
      each round runs every runtime once (the starting runtime rotates), so
      drift on the machine hits all of them alike.  CMD is a shell-style
      command; the words {bundle}, {root}, {id} and {rootfs} are filled in.
  bench.py create N RUNTIME BIG_BUNDLE SMALL_BUNDLE ROOT
      create (then delete --force, timed apart) on two rootfs sizes.

Times are wall-clock of the whole command (fork+exec of the runtime
included), from time.perf_counter_ns.
"""
import math
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

WARMUP = 2


def timed(argv):
    # stderr goes to a file, not a pipe: after `create` the container's init
    # holds the runtime's stdio, and a pipe would never reach EOF.
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter_ns()
        rc = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        dt = time.perf_counter_ns() - t0
        if rc != 0:
            err.seek(0)
            msg = err.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError("%s exited %d: %s" % (" ".join(argv), rc, msg[-1] if msg else ""))
    return dt / 1e6


def p90(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def bench_run(n, specs, bundle, roots):
    names = [name for name, _ in specs]
    samples = {name: [] for name in names}
    failed = {}
    for rnd in range(-WARMUP, n):
        for k in range(len(specs)):
            name, cmd = specs[(rnd + k) % len(specs)]
            if name in failed:
                continue
            argv = [w.format(bundle=bundle, rootfs=bundle + "/rootfs", root="%s/%s" % (roots, name),
                             id="bench-%s-%d" % (name, rnd + WARMUP)) for w in shlex.split(cmd)]
            try:
                ms = timed(argv)
            except RuntimeError as e:
                failed[name] = str(e)
                continue
            if rnd >= 0:
                samples[name].append(ms)
    ref = statistics.median(samples["crun"]) if samples.get("crun") else None
    print("run of /bin/true, %d interleaved rounds (ms, lower is better)" % n)
    print("%-14s %9s %9s %9s %10s" % ("runtime", "median", "p90", "min", "vs crun"))
    for name in names:
        if name in failed:
            print("%-14s failed: %s" % (name, failed[name]))
            continue
        xs = samples[name]
        med = statistics.median(xs)
        ratio = "%9.2fx" % (med / ref) if ref else "%10s" % "-"
        print("%-14s %9.2f %9.2f %9.2f %s" % (name, med, p90(xs), min(xs), ratio))
    return 1 if failed else 0


def bench_create(n, runtime, big, small, root):
    create = {"big": [], "small": []}
    delete = {"big": [], "small": []}
    for rnd in range(-WARMUP, n):
        order = [("big", big), ("small", small)]
        if rnd % 2:
            order.reverse()
        for label, bundle in order:
            cid = "create-%s-%d" % (label, rnd + WARMUP)
            c = timed([runtime, "--root", root, "create", "-b", bundle, cid])
            d = timed([runtime, "--root", root, "delete", "--force", cid])
            if rnd >= 0:
                create[label].append(c)
                delete[label].append(d)
    print("create on a big vs a small rootfs with %s, %d interleaved rounds (ms)" % (runtime, n))
    print("%-8s %12s %12s %12s" % ("rootfs", "create med", "create p90", "+delete med"))
    for label in ("big", "small"):
        both = [c + d for c, d in zip(create[label], delete[label])]
        print("%-8s %12.2f %12.2f %12.2f" % (label, statistics.median(create[label]),
                                            p90(create[label]), statistics.median(both)))
    ratio = statistics.median(create["big"]) / statistics.median(create["small"])
    print("create time ratio big/small: %.2fx (1.00x: create does not depend on rootfs size)" % ratio)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "run" and "--" in argv:
        sep = argv.index("--")
        specs = [tuple(a.split("=", 1)) for a in argv[2:sep]]
        bundle, roots = argv[sep + 1:sep + 3]
        return bench_run(int(argv[1]), specs, bundle, roots)
    if len(argv) == 6 and argv[0] == "create":
        return bench_create(int(argv[1]), *argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
