#!/usr/bin/env python3
"""Turns JMH JSON from bench/run.sh into the Markdown tables of bench/RESULTS.md.

    python3 bench/summarize.py bench/results/jmh-20261126T130000Z.json [more.json ...]

Two throughputs per row:
  wall MB/s  JMH's own score (plaintext MB per wall-clock second, mean of iterations +- 99.9% error);
             on a shared machine this measures the neighbours too.
  CPU MB/s   plaintext MB per second of the benchmark thread's CPU time, from the CpuTime counters
             (totals over the measured iterations, with the min..max over iterations). This is what an
             idle machine would show for single-threaded code, and what the ratios use.
Ratios compare rows of the same file (the same run), never across runs.
"""
import json
import sys
from collections import OrderedDict

MB = 1e6


def metric(bench, name):
    return bench["secondaryMetrics"].get(name)


def flat(raw):
    return [x for fork in raw for x in fork]


def cpu_rates(bench, size_bytes, clock="threadCpuNanos"):
    calls = flat(metric(bench, "calls")["rawData"])
    cpu = flat(metric(bench, clock)["rawData"])
    # bytes per CPU nanosecond * 1e3 = MB per CPU second
    per_iteration = [c * size_bytes / n * 1e3 for c, n in zip(calls, cpu) if n > 0]
    total = sum(calls) * size_bytes / sum(cpu) * 1e3 if sum(cpu) else float("nan")
    return total, min(per_iteration), max(per_iteration)


def wall(bench):
    m = metric(bench, "megabytes")
    return float(m["score"]), float(m["scoreError"])  # JMH writes "NaN" as a string


def short(name):
    return name.split(".")[-2] + "." + name.split(".")[-1]


def size_label(n):
    n = int(n)
    if n == 0:
        return "0"
    if n % (1 << 30) == 0:
        return f"{n >> 30} GiB"
    if n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    return f"{n >> 10} KiB" if n % (1 << 10) == 0 else str(n)


def fmt(x, digits=0):
    return "n/a" if x != x else f"{x:,.{digits}f}"


def impl_tables(results):
    groups = OrderedDict()
    for b in results:
        p = b.get("params", {})
        if "impl" not in p:
            continue
        # Rows compared with each other share every parameter but impl (tinkSegmentBytes only matters to
        # tink, so it is shown in the impl column instead of splitting the table).
        others = tuple((k, v) for k, v in sorted(p.items()) if k not in ("impl", "tinkSegmentBytes"))
        groups.setdefault((short(b["benchmark"]), others), []).append(b)
    for (name, others), rows in groups.items():
        if "plaintextBytes" not in dict(others):
            continue  # the store benchmarks have an impl but no plaintext: RESULTS-store.md, by hand
        size = dict(others)["plaintextBytes"]
        size_bytes = int(size)
        for b in rows:
            impl = b["params"]["impl"]
            b["label"] = impl + (f" ({size_label(b['params']['tinkSegmentBytes'])} segments)"
                                 if impl.startswith("tink") and "tinkSegmentBytes" in b["params"] else "")
        cpu = {b["label"]: cpu_rates(b, size_bytes) for b in rows}
        walls = {b["label"]: wall(b) for b in rows}
        extra = "".join(f", {k} = {v}" for k, v in others if k != "plaintextBytes")
        print(f"\n#### {name}, {size_label(size)}{extra}\n")
        print("| impl | wall MB/s (± 99.9%) | CPU MB/s (min..max per iteration) | ÷ limit (CPU) | ÷ tink (CPU) | ÷ limit (wall) | ÷ tink (wall) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        tink = next((b["label"] for b in rows if b["params"]["impl"] == "tink"), "tink")
        for b in rows:
            impl = b["label"]
            total, lo, hi = cpu[impl]
            w, err = walls[impl]

            def ratio(table, ref, pick):
                return fmt(pick(table[impl]) / pick(table[ref]), 2) if ref in table else "n/a"

            print(f"| {impl} | {fmt(w)} ± {fmt(err)} | {fmt(total)} ({fmt(lo)}..{fmt(hi)}) "
                  f"| {ratio(cpu, 'limit', lambda t: t[0])} | {ratio(cpu, tink, lambda t: t[0])} "
                  f"| {ratio(walls, 'limit', lambda t: t[0])} | {ratio(walls, tink, lambda t: t[0])} |")


def open_threads_table(results):
    """OpenBenchmark with -p threads=1,2: ours by process CPU and wall clock (the workers' CPU counts)."""
    rows = [b for b in results if "OpenBenchmark" in b["benchmark"] and "threads" in b.get("params", {})
            and b["params"].get("impl") == "crowdbackup"]
    if not rows:
        return
    print("\n#### OpenBenchmark, crowdbackup by worker threads\n")
    print("| threads | input | wall MB/s (± 99.9%) | caller-thread CPU s/GB | process CPU s/GB | wall s/GB |")
    print("|---:|---|---:|---:|---:|---:|")
    for b in rows:
        size_bytes = int(b["params"]["plaintextBytes"])
        gb = sum(flat(metric(b, "calls")["rawData"])) * size_bytes / 1e9
        thread_s = sum(flat(metric(b, "threadCpuNanos")["rawData"])) / 1e9 / gb
        process_s = sum(flat(metric(b, "processCpuNanos")["rawData"])) / 1e9 / gb
        w, err = wall(b)
        print(f"| {b['params']['threads']} | {size_label(size_bytes)} | {fmt(w)} ± {fmt(err)} | {fmt(thread_s, 3)} "
              f"| {fmt(process_s, 3)} | {fmt(1e3 / w, 3)} |")


def threads_table(results):
    rows = [b for b in results if "SealThreadsBenchmark" in b["benchmark"] and "threads" in b.get("params", {})]
    if not rows:
        return
    print("\n#### SealThreadsBenchmark (crowdbackup seal)\n")
    print("| threads | input | wall MB/s (± 99.9%) | caller-thread CPU s/GB | process CPU s/GB | wall s/GB |")
    print("|---:|---|---:|---:|---:|---:|")
    stats = {}
    for b in rows:
        size_bytes = int(b["params"]["plaintextBytes"])
        calls = sum(flat(metric(b, "calls")["rawData"]))
        gb = calls * size_bytes / 1e9
        thread_s = sum(flat(metric(b, "threadCpuNanos")["rawData"])) / 1e9 / gb
        process_s = sum(flat(metric(b, "processCpuNanos")["rawData"])) / 1e9 / gb
        w, err = wall(b)
        wall_s = 1e3 / w
        stats[int(b["params"]["threads"])] = (thread_s, process_s, wall_s, w)
        print(f"| {b['params']['threads']} | {size_label(size_bytes)} | {fmt(w)} ± {fmt(err)} | {fmt(thread_s, 3)} "
              f"| {fmt(process_s, 3)} | {fmt(wall_s, 3)} |")
    if 1 in stats and 2 in stats:
        one, two = stats[1], stats[2]
        print(f"\nMeasured wall-clock speed-up, 2 threads vs 1: **{two[3] / one[3]:.2f}x**.")
        # On an otherwise idle 2-core machine a 2-thread seal can finish no sooner than its busiest thread
        # (the caller) and no sooner than all its CPU work spread over 2 cores.
        bound = max(two[0], two[1] / 2)
        print(f"Idle 2-core estimate from CPU time: 1 thread needs {one[1]:.3f} CPU s/GB; 2 threads need "
              f"{two[1]:.3f} CPU s/GB in all, {two[0]:.3f} of it on the caller, so at best "
              f"max({two[0]:.3f}, {two[1]:.3f}/2) = {bound:.3f} s/GB: **{one[1] / bound:.2f}x**.")


def primitives_table(results):
    rows = [b for b in results if "op" in b.get("params", {})]
    if not rows:
        return
    print("\n#### PrimitivesBenchmark (one step on a 64 KiB chunk, 16 per call)\n")
    print("| op | wall MB/s (± 99.9%) | CPU MB/s | CPU µs per 64 KiB step |")
    print("|---|---:|---:|---:|")
    for b in rows:
        calls = sum(flat(metric(b, "calls")["rawData"]))
        cpu_ns = sum(flat(metric(b, "threadCpuNanos")["rawData"]))
        us_per_step = cpu_ns / calls / 16 / 1e3
        w, err = wall(b)
        cpu_mbps = 65536 / (us_per_step * 1e-6) / MB if b["params"]["op"] != "gcm-empty" else float("nan")
        print(f"| {b['params']['op']} | {fmt(w)} ± {fmt(err)} | {fmt(cpu_mbps)} | {fmt(us_per_step, 2)} |")


def main(paths):
    for path in paths:
        results = json.load(open(path))
        if results:
            print(f"\n### {path} — JVM {results[0].get('jdkVersion')} ({results[0].get('vmName')}), "
                  f"JMH {results[0].get('jmhVersion')}")
        impl_tables(results)
        threads_table(results)
        open_threads_table(results)
        primitives_table(results)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
