#!/usr/bin/env python3
"""bench/malloc/run_comparison.py — the drop-in malloc comparison.

Runs every workload of //bench/malloc under glibc (no preload) and, by
LD_PRELOAD, mimalloc, jemalloc, tcmalloc (Debian's shared objects, found with
dpkg -L) and alloy (//malloc:liballoy_malloc.so). The runs are interleaved:
each repetition goes through every workload, and for each workload through
every subject (the order rotated per repetition), so a change in the
machine's load spreads over all subjects. Each figure is the median over the
repetitions: the workload's own result (ops/s or seconds) and the child's
peak RSS (ru_maxrss, from wait4).

Then the real programs (real_programs.py: python3, perl, lua5.4, sqlite3,
git, gcc, redis-server from Debian) under the same subjects, interleaved the
same way: wall time, CPU time and peak RSS of each, redis's requests/s.

Writes, into --out: dropin_malloc.txt (the table, also printed),
dropin_malloc.csv (every subject's medians and raw runs) and
ratios_dropin_malloc.csv (alloy's advantage over each peer, the format
bench/report_tool/plots.gp draws as ratios_dropin_malloc.png); for the
programs, the table in dropin_programs.txt, dropin_programs.csv and
ratios_dropin_programs.csv.

  bench/malloc/run_comparison.py                    builds (-c opt), short run
  bench/malloc/run_comparison.py --scale=4 --reps=5 longer, steadier
  bench/malloc/run_comparison.py --bin_dir=DIR      binaries already built in DIR (bazel-bin)
  bench/malloc/run_comparison.py --append=FILE      also append the table to FILE
  bench/malloc/run_comparison.py --workloads= --programs=redis,gcc   only those programs
"""

import argparse
import csv
import math
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
import real_programs  # noqa: E402  (bench/malloc/real_programs.py, beside this file)

WORKLOADS = ["larson", "xmalloc_test", "cache_scratch", "glibc_thread", "thread_churn", "rptest"]
PEERS = ["glibc", "mimalloc", "jemalloc", "tcmalloc"]
ALLOY = "alloy"

# Debian package name prefix and the shared object each peer is preloaded as.
PEER_PACKAGES = {
    "mimalloc": ("libmimalloc", r"libmimalloc\.so(\.\d+)*$"),
    "jemalloc": ("libjemalloc", r"libjemalloc\.so(\.\d+)*$"),
    "tcmalloc": ("libtcmalloc-minimal", r"libtcmalloc_minimal\.so(\.\d+)*$"),
}

RESULT = re.compile(r"^result workload=(\S+) metric=(ops_per_s|seconds) value=(\S+) threads=(\d+)$", re.M)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_peer_object(name):
    """The peer's shared object from its installed Debian package, or (None, why)."""
    prefix, pattern = PEER_PACKAGES[name]
    try:
        installed = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\n"], capture_output=True,
                                   text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"dpkg-query failed: {error}"
    found = []
    for package in (p for p in installed if p.startswith(prefix)):
        files = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout.split()
        found += [f for f in files if re.search(pattern, os.path.basename(f)) and os.path.exists(f)]
    if not found:
        return None, f"no {pattern} in an installed {prefix}* package"
    # The versioned name (what programs load) before the development symlink.
    found.sort(key=lambda f: (-f.count("."), len(f)))
    return found[0], ""


def preload_loads(binary, preload):
    """Whether the dynamic loader takes `preload` in front of `binary` (ldd's way)."""
    env = dict(os.environ, LD_PRELOAD=preload, LD_TRACE_LOADED_OBJECTS="1")
    out = subprocess.run([binary], env=env, capture_output=True, text=True).stdout
    return os.path.realpath(preload) in out or preload in out


PEAK = re.compile(r"^peak_rss_kib=(\d+) exit=(\d+)$", re.M)


def run_once(launcher, binary, preload, scale, timeout):
    """One child run: (metric, value, peak RSS in MiB) or raises RuntimeError.

    The child is started by measure_child, not forked from this interpreter:
    Linux carries the peak RSS across exec, so a fork of Python would report
    at least Python's size."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    run = subprocess.run([launcher, str(int(timeout)), preload or "-", binary, f"--scale={scale}"], env=env,
                         capture_output=True, text=True)
    peak = PEAK.search(run.stdout)
    if run.returncode != 0 or peak is None:
        raise RuntimeError(f"measure_child failed (exit {run.returncode}): {run.stderr.strip()[:200]}")
    code = int(peak.group(2))
    if code != 0:
        why = f"killed by signal {code - 128}" if code > 128 else f"exit {code}"
        raise RuntimeError(f"{why}: {run.stderr.strip()[:200]}")
    match = RESULT.search(run.stdout)
    if match is None:
        raise RuntimeError(f"no result line in {run.stdout.strip()[:200]!r}")
    return match.group(2), float(match.group(3)), int(peak.group(1)) / 1024.0


class Cell:
    """One workload under one subject: every run, and why it failed if it did."""

    def __init__(self):
        self.metric = None
        self.values = []
        self.rss = []
        self.error = None

    @property
    def ok(self):
        return self.error is None and bool(self.values)

    def value(self):
        return statistics.median(self.values)

    def peak_rss(self):
        return statistics.median(self.rss)


def advantage(metric, alloy_value, peer_value):
    """> 1 when alloy is better: more ops/s, fewer seconds, less RSS."""
    if alloy_value <= 0 or peer_value <= 0:
        return float("nan")
    return alloy_value / peer_value if metric == "ops_per_s" else peer_value / alloy_value


def load_line():
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"load average {one}, {five}, {fifteen} on {os.cpu_count()} CPUs"


def fmt_value(metric, value):
    return f"{value / 1e6:.3f}" if metric == "ops_per_s" else f"{value * 1e3:.1f}"


def unit_of(metric):
    return "M ops/s" if metric == "ops_per_s" else "ms"


def geomean(values):
    values = [v for v in values if v > 0 and not math.isnan(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def table(cells, subjects, skipped, args, load_before, load_after, elapsed):
    lines = [f"Drop-in malloc (//bench/malloc, LD_PRELOAD; 2 threads each; scale {args.scale:g}, "
             f"median of {args.reps} interleaved runs, {elapsed:.0f} s)",
             f"  machine: {load_before} before, {load_after} after"]
    for name, why in skipped.items():
        lines.append(f"  {name}: skipped ({why})")
    lines.append("  subjects: " + ", ".join(f"{s}={p or 'none (the C library)'}" for s, p in subjects.items()))
    names = list(subjects)
    lines.append("  " + f"{'workload':<14}{'figure':<16}" + "".join(f"{n:>12}" for n in names))
    for w in cells:
        row = cells[w]
        metric = next((row[n].metric for n in names if row[n].ok), None)
        if metric is None:
            lines.append(f"  {w:<14}failed under every subject: "
                         + "; ".join(f"{n}: {row[n].error}" for n in names))
            continue
        better = "higher" if metric == "ops_per_s" else "lower"
        lines.append("  " + f"{w:<14}{unit_of(metric) + ' (' + better + ')':<16}"
                     + "".join(f"{fmt_value(metric, row[n].value()) if row[n].ok else 'failed':>12}" for n in names))
        lines.append("  " + f"{'':<14}{'peak RSS MiB':<16}"
                     + "".join(f"{row[n].peak_rss() if row[n].ok else float('nan'):>12.1f}" for n in names))
    for w in cells:
        for n in names:
            if cells[w][n].error:
                lines.append(f"  {w} under {n} failed: {cells[w][n].error}")

    peers = [p for p in names if p != ALLOY]
    if ALLOY in names:
        lines.append("")
        lines.append("  alloy's advantage over each peer (> 1 = alloy better): "
                     "speed (ops/s ratio, or time ratio) / peak RSS (peer's over alloy's)")
        lines.append("  " + f"{'workload':<14}" + "".join(f"{'vs ' + p:>19}" for p in peers))
        speed = {p: [] for p in peers}
        memory = {p: [] for p in peers}
        for w in cells:
            a = cells[w][ALLOY]
            if not a.ok:
                continue
            parts = []
            for p in peers:
                c = cells[w][p]
                if not c.ok:
                    parts.append(f"{'-':>19}")
                    continue
                s, m = advantage(a.metric, a.value(), c.value()), advantage("rss", a.peak_rss(), c.peak_rss())
                speed[p].append(s)
                memory[p].append(m)
                parts.append(f"{f'{s:.2f}x / {m:.2f}x':>19}")
            lines.append("  " + f"{w:<14}" + "".join(parts))
        lines.append("  " + f"{'geomean':<14}"
                     + "".join(f"{f'{geomean(speed[p]):.2f}x / {geomean(memory[p]):.2f}x':>19}" for p in peers))
    lines.append("  Throughput workloads run for a fixed time (0.25 s x scale) and count malloc+free pairs;")
    lines.append("  cache_scratch and thread_churn do a fixed amount of work and are timed. Peak RSS is the")
    lines.append("  child's ru_maxrss: the whole process, program and libraries included.")
    return "\n".join(lines) + "\n"


def write_csvs(cells, subjects, out):
    names = list(subjects)
    with open(os.path.join(out, "dropin_malloc.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "subject", "metric", "better", "median", "peak_rss_mib", "runs", "values", "rss_mib",
                    "error"])
        for wl in cells:
            for n in names:
                c = cells[wl][n]
                better = "" if c.metric is None else ("higher" if c.metric == "ops_per_s" else "lower")
                w.writerow([wl, n, c.metric or "", better,
                            f"{c.value():.6g}" if c.ok else "", f"{c.peak_rss():.2f}" if c.ok else "",
                            len(c.values), ";".join(f"{v:.6g}" for v in c.values),
                            ";".join(f"{v:.2f}" for v in c.rss), c.error or ""])
    if ALLOY not in names:
        return
    peers = [p for p in names if p != ALLOY]
    # The format of the report's ratios_*.csv: a '# title' line, then metric,peer...
    with open(os.path.join(out, "ratios_dropin_malloc.csv"), "w", newline="") as f:
        f.write("# drop-in malloc (LD_PRELOAD): alloy_malloc vs each peer, advantage factor (>1 = alloy better)\n")
        w = csv.writer(f)
        w.writerow(["metric"] + peers)
        for wl in cells:
            a = cells[wl][ALLOY]
            if not a.ok:
                continue
            label = "ops/s" if a.metric == "ops_per_s" else "time"
            for figure, pick in ((label, lambda c: (c.metric, c.value())), ("peak RSS", lambda c: ("rss", c.peak_rss()))):
                row = [f"{wl}: {figure}"]
                for p in peers:
                    c = cells[wl][p]
                    if not c.ok:
                        row.append("NaN")
                        continue
                    metric, alloy_value = pick(a)
                    row.append(f"{advantage(metric, alloy_value, pick(c)[1]):.4f}")
                w.writerow(row)


def build(repo):
    subprocess.run(["bazel", "build", "--noshow_progress", "-c", "opt", "//bench/malloc/...",
                    "//malloc:liballoy_malloc.so"], cwd=repo, check=True, stdout=sys.stderr)
    return subprocess.run(["bazel", "info", "-c", "opt", "bazel-bin"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin_dir", help="bazel-bin holding bench/malloc/* and malloc/liballoy_malloc.so "
                        "(default: build them)")
    parser.add_argument("--scale", type=float, default=1.0, help="workload length factor (default 1: short)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions (default 3)")
    parser.add_argument("--out", default=os.path.join(REPO, "bench-out"), help="directory for the text and CSVs")
    parser.add_argument("--subjects", default=",".join(PEERS + [ALLOY]), help="comma-separated subset")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset (empty: none)")
    parser.add_argument("--programs", default=",".join(real_programs.PROGRAMS),
                        help="comma-separated subset of the real programs (empty: none)")
    parser.add_argument("--append", help="also append the table to this file (the benchmark report)")
    args = parser.parse_args()
    if args.scale <= 0 or args.reps < 1:
        parser.error("--scale must be positive and --reps at least 1")
    chosen = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {WORKLOADS}")
    workloads = [w for w in WORKLOADS if w in chosen]
    chosen = [p for p in args.programs.split(",") if p]
    unknown = [p for p in chosen if p not in real_programs.PROGRAMS]
    if unknown:
        parser.error(f"unknown programs {unknown}; known: {real_programs.PROGRAMS}")
    programs = [p for p in real_programs.PROGRAMS if p in chosen]
    if not workloads and not programs:
        parser.error("neither a workload nor a program chosen")

    bin_dir = args.bin_dir or build(REPO)
    binaries = {w: os.path.join(bin_dir, "bench", "malloc", w) for w in workloads}
    launcher = os.path.join(bin_dir, "bench", "malloc", "measure_child")
    missing = [b for b in list(binaries.values()) + [launcher] if not os.access(b, os.X_OK)]
    if missing:
        sys.exit(f"run_comparison: missing workload binaries {missing} (bazel build -c opt //bench/malloc/...)")

    subjects, skipped = {}, {}
    for name in args.subjects.split(","):
        if name == "glibc":
            subjects[name] = None
            continue
        if name == ALLOY:
            path, why = os.path.join(bin_dir, "malloc", "liballoy_malloc.so"), "not built (//malloc:liballoy_malloc.so)"
            path = path if os.path.exists(path) else None
        elif name in PEER_PACKAGES:
            path, why = find_peer_object(name)
        else:
            sys.exit(f"run_comparison: unknown subject {name}; known: {PEERS + [ALLOY]}")
        if path is not None and not preload_loads(binaries[workloads[0]] if workloads else launcher, path):
            path, why = None, f"the dynamic loader does not preload {path}"
        if path is None:
            skipped[name] = why
        else:
            subjects[name] = path

    os.makedirs(args.out, exist_ok=True)
    cells = {w: {n: Cell() for n in subjects} for w in workloads}
    names = list(subjects)
    timeout = 60 + 30 * args.scale
    load_before = load_line()
    start = time.monotonic()
    for rep in range(args.reps if workloads else 0):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for w in workloads:
            for n in order:
                cell = cells[w][n]
                if cell.error:
                    continue
                try:
                    metric, value, rss = run_once(launcher, binaries[w], subjects[n], args.scale, timeout)
                except RuntimeError as error:
                    cell.error = str(error)
                    continue
                cell.metric = metric
                cell.values.append(value)
                cell.rss.append(rss)
        print(f"run_comparison: repetition {rep + 1}/{args.reps} done ({time.monotonic() - start:.0f} s)",
              file=sys.stderr)
    texts = []
    if workloads:
        texts.append(table(cells, subjects, skipped, args, load_before, load_line(), time.monotonic() - start))
        write_csvs(cells, subjects, args.out)
        with open(os.path.join(args.out, "dropin_malloc.txt"), "w") as f:
            f.write(texts[-1])
    failed = any(c.error for row in cells.values() for c in row.values())
    if programs:
        load_before, start = load_line(), time.monotonic()
        program_cells = real_programs.measure(programs, subjects, launcher, args.scale, args.reps,
                                              lambda line: print(f"run_comparison: {line}", file=sys.stderr))
        texts.append(real_programs.table(program_cells, subjects, skipped, ALLOY, args.scale, args.reps, load_before,
                                         load_line(), time.monotonic() - start))
        real_programs.write_csvs(program_cells, subjects, ALLOY, args.out)
        with open(os.path.join(args.out, "dropin_programs.txt"), "w") as f:
            f.write(texts[-1])
        failed = failed or any(c.error for row in program_cells.values() for c in row.values())
    text = "\n".join(texts)
    if args.append:
        with open(args.append, "a") as f:
            f.write("\n" + text)
    print(text, end="")
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
