"""bench/malloc/real_programs.py — the drop-in comparison's real programs.

Debian's own programs (setup.sh installs them) run under each malloc by
LD_PRELOAD, the way run_comparison.py runs its workloads: python3, perl and
lua5.4 on the churn scripts in bench/malloc/programs/, sqlite3 on a database
file, git making a repository and packing it, gcc compiling alloy's own C
sources, and redis-server driven by redis-benchmark. Each run is started by
measure_child, which reports wall time, CPU time (user + sys) and peak RSS;
a program's output must be the same under every malloc (gcc: the object
files), or its cell is reported as failed.

run_comparison.py imports this and calls measure(); table() and
write_csvs() give the text and the CSVs.
"""

import csv
import ctypes
import glob
import hashlib
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

PROGRAMS = ["python", "perl", "lua", "sqlite", "git", "gcc", "redis"]
# Where the project's peak-RSS target applies (≤ 1.1x the lowest peer's).
RSS_TARGETS = ("redis", "sqlite", "python")
TIME_TARGET = 1.05
RSS_TARGET = 1.10

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "programs")
REPO = os.path.dirname(os.path.dirname(HERE))

# What one run of each does at scale S (the table's footnote says it too).
WHAT = {
    "python": "python3 programs/churn.py: dicts, lists, strs, re, json, collections (x S)",
    "perl": "perl programs/churn.pl: hashes of arrays, arrays of hashes, strings, regexes (x S)",
    "lua": "lua5.4 programs/churn.lua: tables of tables, strings, closures, GC (x S)",
    "sqlite": "sqlite3 programs/churn.sql on a file: 50k x S rows, 2 indexes, queries, delete half, VACUUM",
    "git": "bash programs/git_repo.sh: init, 500 x S files, 2 commits, gc (every git process preloaded)",
    "gcc": "gcc -O2 -c of ceil(3 x S) of alloy's TLSF and small-object sources (driver, cc1, as preloaded)",
    "redis": "redis-server (preloaded) <- redis-benchmark (not preloaded) -n 40000 x S -P 16 -r 100000 -d 128, 6 commands",
}
GCC_SOURCES = ["strategies/tlsf/tlsf.c", "strategies/small_object/small_object.c", "strategies/tlsf/tlsf_pool.c",
               "strategies/small_object/small_object_cache.c", "strategies/tlsf/tlsf_check.c",
               "strategies/small_object/small_object_page.c", "strategies/tlsf/tlsf_purge.c"]
REDIS_COMMANDS = "set,get,incr,lpush,lpop,hset"

USAGE = re.compile(r"usage wall_s=(\S+) user_s=(\S+) sys_s=(\S+)\n")
PEAK = re.compile(r"^peak_rss_kib=(\d+) exit=(\d+)$", re.M)
RPS = re.compile(r"^(\S+): ([0-9.]+) requests per second", re.M)


class Failure(Exception):
    pass


class Run:
    """One run: wall and CPU seconds, peak RSS in MiB, requests/s (redis)."""

    def __init__(self, wall, cpu, rss, rps=None):
        self.wall, self.cpu, self.rss, self.rps = wall, cpu, rss, rps


class Cell:
    """One program under one subject: its runs, or why it failed."""

    def __init__(self):
        self.runs = []
        self.error = None

    @property
    def ok(self):
        return self.error is None and bool(self.runs)

    def median(self, figure):
        return statistics.median(getattr(r, figure) for r in self.runs)


def die_with_runner():
    """In the launcher, before exec: SIGKILL when the runner dies (PR_SET_PDEATHSIG),
    which the launcher passes on to its program, a server say."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def stop_on_sigterm(signal_number, frame):
    """SIGTERM to the runner unwinds it like ^C, so a running server is stopped."""
    raise SystemExit(128 + signal_number)


def child_env():
    env = dict(os.environ, LC_ALL="C", PYTHONDONTWRITEBYTECODE="1")
    env.pop("LD_PRELOAD", None)
    return env


def parse_report(stdout, stderr, returncode):
    """(program output, wall s, CPU s, peak RSS MiB) from measure_child's stdout."""
    peak, usage = PEAK.search(stdout), USAGE.search(stdout)
    if returncode != 0 or peak is None or usage is None:
        raise Failure(f"measure_child failed (exit {returncode}): {stderr.strip()[-200:]}")
    code = int(peak.group(2))
    if code != 0:
        why = f"killed by signal {code - 128}" if code > 128 else f"exit {code}"
        raise Failure(f"{why}: {(stderr.strip() or stdout.strip())[-300:]}")
    output = stdout[:usage.start()]
    return (output, float(usage.group(1)), float(usage.group(2)) + float(usage.group(3)),
            int(peak.group(1)) / 1024.0)


def launch(launcher, preload, argv, timeout, cwd=None, stdin=None):
    run = subprocess.run([launcher, str(int(timeout)), preload or "-"] + argv, env=child_env(), cwd=cwd,
                         stdin=stdin or subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout + 30,
                         preexec_fn=die_with_runner)
    return parse_report(run.stdout, run.stderr, run.returncode)


class Programs:
    """The inputs of one comparison, prepared once in a temporary directory."""

    def __init__(self, launcher, scale, work):
        self.launcher, self.scale, self.work = launcher, scale, work
        self.timeout = 60 + 30 * scale
        with open(os.path.join(INPUTS, "churn.sql")) as f:
            sql = f.read().replace("@ROWS@", str(max(1000, int(50000 * scale))))
        self.sql = os.path.join(work, "churn.sql")
        with open(self.sql, "w") as f:
            f.write(sql)
        # Public headers are included as "alloy/<name>.h" whatever package
        # they live in (tools/bazel/alloy.bzl): the same mapping, as links.
        self.include = os.path.join(work, "include")
        os.makedirs(os.path.join(self.include, "alloy"))
        for package in ("primitives", "platform", "concurrency", "resource", "strategies"):
            for header in glob.glob(os.path.join(REPO, package, "**", "*.h"), recursive=True):
                link = os.path.join(self.include, "alloy", os.path.basename(header))
                if not os.path.lexists(link):
                    os.symlink(header, link)
        count = min(len(GCC_SOURCES), max(1, math.ceil(3 * scale)))
        self.gcc_sources = [os.path.join(REPO, s) for s in GCC_SOURCES[:count]]

    def run(self, program, preload):
        """One run of `program` under `preload`: (Run, output to compare)."""
        if program == "redis":
            return self.redis(preload)
        scale = f"{self.scale:g}"
        if program in ("python", "perl", "lua"):
            binary, script = {"python": ("/usr/bin/python3", "churn.py"), "perl": ("/usr/bin/perl", "churn.pl"),
                              "lua": ("/usr/bin/lua5.4", "churn.lua")}[program]
            output, wall, cpu, rss = launch(self.launcher, preload, [binary, os.path.join(INPUTS, script), scale],
                                            self.timeout)
            return Run(wall, cpu, rss), output
        if program == "sqlite":
            database = os.path.join(self.work, "churn.db")
            for stale in (database, database + "-journal"):
                if os.path.exists(stale):
                    os.remove(stale)
            with open(self.sql) as stdin:
                output, wall, cpu, rss = launch(self.launcher, preload,
                                                ["/usr/bin/sqlite3", "-batch", "-bail", database], self.timeout,
                                                stdin=stdin)
            return Run(wall, cpu, rss), output
        if program == "git":
            files = str(max(100, int(500 * self.scale)))
            output, wall, cpu, rss = launch(self.launcher, preload,
                                            ["/bin/bash", os.path.join(INPUTS, "git_repo.sh"),
                                             os.path.join(self.work, "git"), files], self.timeout)
            return Run(wall, cpu, rss), output
        if program == "gcc":
            objects = os.path.join(self.work, "objects")
            shutil.rmtree(objects, ignore_errors=True)
            os.makedirs(objects)
            output, wall, cpu, rss = launch(self.launcher, preload,
                                            ["/usr/bin/gcc", "-std=c11", "-O2", "-I" + REPO, "-I" + self.include,
                                             "-c"] + self.gcc_sources, self.timeout, cwd=objects)
            # Code generation must not depend on the malloc: the objects' digests.
            digests = []
            for path in sorted(glob.glob(os.path.join(objects, "*.o"))):
                with open(path, "rb") as f:
                    digests.append(f"{os.path.basename(path)} {hashlib.sha256(f.read()).hexdigest()}")
            if len(digests) != len(self.gcc_sources):
                raise Failure(f"{len(digests)} objects for {len(self.gcc_sources)} sources: {output[-200:]}")
            return Run(wall, cpu, rss), output + "\n".join(digests)
        raise ValueError(program)

    def redis(self, preload):
        """The server under the preload, measured by its launcher; the
        benchmark client without it. The server dies on every way out."""
        directory = os.path.join(self.work, "redis")
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        requests = max(1000, int(40000 * self.scale))
        server = None
        server_pid = None
        try:
            for _ in range(20):
                with socket.socket() as probe:  # A port free now; retried if taken before the bind.
                    probe.bind(("127.0.0.1", 0))
                    port = probe.getsockname()[1]
                server = subprocess.Popen(
                    [self.launcher, str(int(self.timeout)), preload or "-", "/usr/bin/redis-server", "--port",
                     str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                     "--protected-mode", "yes", "--dir", directory, "--logfile", os.path.join(directory, "log")],
                    env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, preexec_fn=die_with_runner)
                server_pid = self.wait_for_server(server, port)
                if server_pid is not None:
                    break
                self.stop(server, None)
                server = None
            if server is None:
                raise Failure("no redis-server came up on a free loopback port")
            if preload:
                with open(f"/proc/{server_pid}/maps") as f:
                    if os.path.basename(preload) not in f.read():
                        raise Failure(f"the server does not map {preload}")
            bench = subprocess.run(
                ["/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-P", "16",
                 "-r", "100000", "-d", "128", "-q", "-t", REDIS_COMMANDS],
                env=child_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=self.timeout)
            rates = [float(m.group(2)) for m in RPS.finditer(bench.stdout.replace("\r", "\n"))]
            if bench.returncode != 0 or len(rates) != len(REDIS_COMMANDS.split(",")):
                raise Failure(f"redis-benchmark: exit {bench.returncode}, {len(rates)} results: "
                              f"{(bench.stderr or bench.stdout).strip()[-200:]}")
            subprocess.run(["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(port), "shutdown", "nosave"],
                           env=child_env(), capture_output=True, timeout=30)
            stdout, stderr = server.communicate(timeout=60)
            _, wall, cpu, rss = parse_report(stdout, stderr, server.returncode)
            server = None
            # Every command's requests over the time they took together.
            rps = len(rates) * requests / sum(requests / r for r in rates)
            return Run(wall, cpu, rss, rps), ""
        finally:
            if server is not None:
                self.stop(server, server_pid)

    @staticmethod
    def wait_for_server(server, port):
        """The server's pid once it answers on `port` as our launcher's child, else None."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            info = subprocess.run(["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(port), "info", "server"],
                                  env=child_env(), capture_output=True, text=True, timeout=10).stdout
            found = re.search(r"^process_id:(\d+)", info, re.M)
            if found:
                pid = int(found.group(1))
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        parent = int(f.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    parent = None
                # Another server on the port is not ours: give up this port.
                return pid if parent == server.pid else None
            time.sleep(0.05)
        return None

    @staticmethod
    def stop(server, server_pid):
        """SIGTERM to the launcher kills its child; SIGKILL to both if that is not enough."""
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
        if server_pid is not None:
            try:
                with open(f"/proc/{server_pid}/comm") as f:
                    if f.read().strip() == "redis-server":
                        os.kill(server_pid, signal.SIGKILL)
            except OSError:
                pass


def measure(programs, subjects, launcher, scale, reps, log):
    """Every program under every subject, interleaved as the workloads are."""
    cells = {p: {n: Cell() for n in subjects} for p in programs}
    expected = {}
    names = list(subjects)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="dropin_programs.") as work:
        runner = Programs(launcher, scale, work)
        start = time.monotonic()
        for rep in range(reps):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for program in programs:
                for name in order:
                    cell = cells[program][name]
                    if cell.error:
                        continue
                    try:
                        run, output = runner.run(program, subjects[name])
                        if expected.setdefault(program, output) != output:
                            raise Failure("output differs from the first run's: "
                                          f"{output[-120:]!r} vs {expected[program][-120:]!r}")
                    except (Failure, OSError, subprocess.TimeoutExpired) as error:
                        cell.error = str(error)
                        continue
                    cell.runs.append(run)
            log(f"real programs: repetition {rep + 1}/{reps} done ({time.monotonic() - start:.0f} s)")
    return cells


def figures(program):
    """(name, unit, Run attribute, higher is better, display factor): the rows of a program."""
    if program == "redis":
        return [("req/s", "k", "rps", True, 1e-3), ("server CPU", "ms", "cpu", False, 1e3),
                ("peak RSS", "MiB", "rss", False, 1.0)]
    return [("wall", "ms", "wall", False, 1e3), ("CPU", "ms", "cpu", False, 1e3), ("peak RSS", "MiB", "rss", False, 1.0)]


def advantage(higher, alloy_value, peer_value):
    if alloy_value <= 0 or peer_value <= 0:
        return float("nan")
    return alloy_value / peer_value if higher else peer_value / alloy_value


def targets(cells, alloy, peers):
    """The project's tracked targets, judged on the medians (reported, not enforced)."""
    lines = []
    for program, row in cells.items():
        a = row[alloy]
        ok = [p for p in peers if row[p].ok]
        if not a.ok or not ok:
            lines.append(f"    {program:<8}not measured")
            continue
        parts = []
        for name, _, attribute, higher, _ in figures(program)[:2]:
            best = max(ok, key=lambda p: row[p].median(attribute)) if higher else \
                min(ok, key=lambda p: row[p].median(attribute))
            # alloy's time over the fastest peer's (requests/s inverted for redis).
            factor = 1 / advantage(higher, a.median(attribute), row[best].median(attribute))
            parts.append(f"{name} {factor:.2f}x {best}'s: {'met' if factor <= TIME_TARGET else 'MISSED'}")
        text = f"    {program:<8}" + "; ".join(parts)
        if program in RSS_TARGETS:
            lowest = min(ok, key=lambda p: row[p].median("rss"))
            rss = a.median("rss") / row[lowest].median("rss")
            text += f"; peak RSS {rss:.2f}x {lowest}'s: {'met' if rss <= RSS_TARGET else 'MISSED'}"
        lines.append(text)
    return lines


def table(cells, subjects, skipped, alloy, scale, reps, load_before, load_after, elapsed):
    names = list(subjects)
    lines = [f"Drop-in malloc, real programs (Debian's, LD_PRELOAD; scale {scale:g}, median of {reps} "
             f"interleaved runs, {elapsed:.0f} s)",
             f"  machine: {load_before} before, {load_after} after (shared with other builds: wall times "
             "include waiting for a core; CPU times less so)"]
    lines += [f"  {name}: skipped ({why})" for name, why in skipped.items()]
    lines.append("  " + f"{'program':<9}{'figure':<15}" + "".join(f"{n:>11}" for n in names))
    for program, row in cells.items():
        first = True
        for name, unit, attribute, _, factor in figures(program):
            label = "k req/s" if attribute == "rps" else f"{name} {unit}"
            cells_text = "".join(f"{row[n].median(attribute) * factor:>11.1f}" if row[n].ok else f"{'failed':>11}"
                                 for n in names)
            lines.append("  " + f"{program if first else '':<9}{label:<15}" + cells_text)
            first = False
    for program, row in cells.items():
        for n in names:
            if row[n].error:
                lines.append(f"  {program} under {n} failed: {row[n].error}")
    peers = [n for n in names if n != alloy]
    if alloy in names and peers:
        lines.append("")
        lines.append("  alloy's advantage over each peer (> 1 = alloy better): time (wall; redis: req/s) / "
                     "CPU (redis: the server's) / peak RSS")
        lines.append("  " + f"{'program':<9}" + "".join(f"{'vs ' + p:>22}" for p in peers))
        for program, row in cells.items():
            if not row[alloy].ok:
                continue
            parts = []
            for p in peers:
                if not row[p].ok:
                    parts.append(f"{'-':>22}")
                    continue
                ratios = [advantage(higher, row[alloy].median(attribute), row[p].median(attribute))
                          for _, _, attribute, higher, _ in figures(program)]
                parts.append(f"{' / '.join(f'{r:.2f}' for r in ratios):>22}")
            lines.append("  " + f"{program:<9}" + "".join(parts))
        lines.append(f"  targets (tracked, not tuned for): time within {TIME_TARGET - 1:.0%} of the fastest peer "
                     "(judged on wall and on CPU: alloy's over the best peer's, redis on req/s and the server's CPU);")
        lines.append(f"  peak RSS of {', '.join(RSS_TARGETS)} <= {RSS_TARGET:.1f}x the lowest peer's")
        lines += targets(cells, alloy, peers)
    lines.append("  What runs (S = scale):")
    lines += [f"    {p:<8}{WHAT[p]}" for p in cells]
    lines.append("  Wall time is the launcher's, fork to reap (redis: the server's whole life, not shown); CPU is")
    lines.append("  user + sys of the process and every descendant it waited for. Peak RSS is wait4's ru_maxrss:")
    lines.append("  the largest single process of the tree, so for gcc usually cc1 (not the driver), for git")
    lines.append("  the largest git command (pack-objects in gc, or add), for redis the server alone.")
    return "\n".join(lines) + "\n"


def write_csvs(cells, subjects, alloy, out):
    names = list(subjects)
    with open(os.path.join(out, "dropin_programs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["program", "subject", "figure", "better", "median", "runs", "values", "error"])
        for program, row in cells.items():
            for n in names:
                c = row[n]
                for name, unit, attribute, higher, factor in figures(program):
                    label = "k req/s" if attribute == "rps" else f"{name} {unit}"
                    w.writerow([program, n, label, "higher" if higher else "lower",
                                f"{c.median(attribute) * factor:.6g}" if c.ok else "", len(c.runs),
                                ";".join(f"{getattr(r, attribute) * factor:.6g}" for r in c.runs), c.error or ""])
    if alloy not in names:
        return
    peers = [n for n in names if n != alloy]
    with open(os.path.join(out, "ratios_dropin_programs.csv"), "w", newline="") as f:
        f.write("# real programs (LD_PRELOAD): alloy_malloc vs each peer, advantage factor (>1 = alloy better)\n")
        w = csv.writer(f)
        w.writerow(["metric"] + peers)
        for program, row in cells.items():
            if not row[alloy].ok:
                continue
            for name, _, attribute, higher, _ in figures(program):
                w.writerow([f"{program}: {name}"]
                           + [f"{advantage(higher, row[alloy].median(attribute), row[p].median(attribute)):.4f}"
                              if row[p].ok else "NaN" for p in peers])
