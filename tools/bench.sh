#!/usr/bin/env bash
# tools/bench.sh — one command for the performance report: alloy next to glibc
# malloc, mimalloc, jemalloc and tcmalloc, measured in the same run.
#
# Builds //bench:report (-c opt), runs a short comparison (40-80 s on
# 2 shared cores), then the Lua and SQLite integrations against their stock
# allocators and the peers (//bench/integrations, about a minute more; their
# tables are appended to report.txt), then the drop-in malloc comparison
# (//bench/malloc: its workloads, then real programs — python3, perl, lua,
# sqlite3, git, gcc, redis — under each malloc by LD_PRELOAD, about 30 s and
# a minute more; appended too), draws the PNG plots with gnuplot when it is
# installed, and prints where the report is.
#
#   tools/bench.sh                     short run into bench-out/
#   tools/bench.sh --long              longer cases and traces (steadier numbers)
#   tools/bench.sh --out DIR           write the report into DIR
#   tools/bench.sh -- --subjects=alloy/system,mimalloc --benchmark_filter=small
#                                      anything after -- goes to //bench:report
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

command_line="tools/bench.sh"
[[ $# -gt 0 ]] && command_line+="$(printf ' %q' "$@")"
out="bench-out"
run_flags=(--min_time=0.1 --scale=1)
host_flags=(--runs=3)
lua_scale=4
dropin_flags=(--scale=1 --reps=3)
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --long) run_flags=(--min_time=1 --scale=4); host_flags=(--runs=5); lua_scale=16; dropin_flags=(--scale=4 --reps=5); shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$out" in /*) ;; *) out="$repo/$out" ;; esac

start=$(date +%s)
echo "== building //bench:report, //bench/integrations and //bench/malloc (-c opt)" >&2
bazel build --noshow_progress -c opt //bench:report //bench/integrations:lua_bench //bench/integrations:sqlite_bench \
  //bench/malloc/... //malloc:liballoy_malloc.so >&2
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
binary="$bin/bench/report"

mkdir -p "$out"
rm -f "$out"/*.png "$out"/latency_*.csv "$out"/ratios_*.csv "$out"/dropin_malloc.* "$out"/dropin_programs.*
echo "== running the report (${run_flags[*]})" >&2
status=0
"$binary" --out_dir="$out" --command="$command_line" "${run_flags[@]}" "${extra[@]}" || status=$?
echo "== running the Lua and SQLite integrations (${host_flags[*]})" >&2
"$bin/bench/integrations/lua_bench" --scale="$lua_scale" "${host_flags[@]}" --append="$out/report.txt" || status=$?
"$bin/bench/integrations/sqlite_bench" "${host_flags[@]}" --append="$out/report.txt" || status=$?
echo "== running the drop-in malloc comparison (${dropin_flags[*]})" >&2
python3 "$repo/bench/malloc/run_comparison.py" --bin_dir="$bin" --out="$out" "${dropin_flags[@]}" \
  --append="$out/report.txt" || status=$?

pngs=()
if command -v gnuplot >/dev/null 2>&1; then
  gnuplot -e "dir='$out'" "$repo/bench/report_tool/plots.gp"
  shopt -s nullglob
  pngs=("$out"/*.png)
else
  echo "gnuplot is not installed (Debian: apt-get install gnuplot-nox): no PNG plots, the CSVs are there." >&2
fi
elapsed=$(( $(date +%s) - start ))

echo
echo "Report:  $out/report.txt"
echo "Data:    $out/results.csv  $out/results.json  $out/dropin_malloc.csv  $out/dropin_programs.csv  (latency_*.csv, ratios_*.csv)"
for png in "${pngs[@]}"; do echo "Plot:    $png"; done
echo "Command: $command_line   (${elapsed} s including the build)"
if [[ $status -ne 0 ]]; then
  echo "Some cases were skipped or failed (exit $status); see the report." >&2
fi
exit $status
