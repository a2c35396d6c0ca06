#!/usr/bin/env python3
"""Times open/read/close of files, interleaving the given paths sample by
sample (so drift hits all alike), and prints the median per path and the
ratio of each to the first.  usage: procfs.py N LABEL=PATH...  """
import os
import statistics
import sys
import time


def sample(path):
    t0 = time.perf_counter_ns()
    fd = os.open(path, os.O_RDONLY)
    while os.read(fd, 65536):
        pass
    os.close(fd)
    return time.perf_counter_ns() - t0


def main():
    n = int(sys.argv[1])
    targets = [a.split("=", 1) for a in sys.argv[2:]]
    times = {label: [] for label, _ in targets}
    for i in range(n + 20):
        for label, path in targets:
            t = sample(path)
            if i >= 20:  # warm-up dropped
                times[label].append(t)
    base = statistics.median(times[targets[0][0]])
    print(f"{'file':<34}{'median us':>10}{'p90 us':>10}{'vs first':>10}")
    for label, _ in targets:
        med = statistics.median(times[label])
        p90 = sorted(times[label])[int(len(times[label]) * 0.9)]
        print(f"{label:<34}{med / 1000:>10.1f}{p90 / 1000:>10.1f}{med / base:>9.2f}x")


main()
