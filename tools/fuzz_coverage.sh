#!/usr/bin/env bash
# Fuzzes every fuzz target of //tests/fuzz for a while and reports what that
# reached: executions per target, and the lines of each strategy's and
# decorator's sources that the inputs covered (clang source-based coverage,
# all targets' profiles merged).
#
#   tools/fuzz_coverage.sh [seconds per target, default 60]
#
# The seed corpora are copied first, so the checked-in ones stay as they are.
# Needs clang, llvm-profdata and llvm-cov (setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t targets < <(bazel query --noshow_progress 'attr(generator_function, alloy_fuzz_test, //tests/fuzz:all)' 2>/dev/null)
bazel build --noshow_progress --config=fuzz_coverage "${targets[@]}" >"$work/build.log" 2>&1 ||
  { tail -n 30 "$work/build.log"; exit 1; }
bin=$(bazel info --config=fuzz_coverage bazel-bin 2>/dev/null)

objects=()
printf '%-22s %12s %10s\n' target executions exec/s
for label in "${targets[@]}"; do
  name=${label##*:}
  corpus="$work/corpus/$name"
  mkdir -p "$corpus"
  [[ -d tests/fuzz/corpus/$name ]] && cp tests/fuzz/corpus/"$name"/* "$corpus"/
  LLVM_PROFILE_FILE="$work/$name.profraw" ASAN_OPTIONS=allocator_may_return_null=1 \
    "$bin/tests/fuzz/$name" -max_total_time="$seconds" -max_len=768 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$work/$name-" "$corpus" >"$work/$name.log" 2>&1 || {
    tail -n 30 "$work/$name.log"
    trap - EXIT
    echo "the input that failed is kept under $work"
    exit 1
  }
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -oE '[0-9]+$')
  printf '%-22s %12s %10s\n' "$name" "$runs" "$((runs / seconds))"
  objects+=(-object "$bin/tests/fuzz/$name")
done

# Test binaries link the libraries as shared objects: their coverage maps
# live there.
for library in "$bin"/_solib_k8/lib*.so; do objects+=(-object "$library"); done
llvm-profdata merge -sparse "$work"/*.profraw -o "$work/merged.profdata"
# Per file, then summed per package: covered and total lines.
llvm-cov report "${objects[@]:1}" -instr-profile="$work/merged.profdata" \
  -ignore-filename-regex='(^|/)(tests|external|bazel-out)/' >"$work/report.txt"
echo
printf '%-28s %8s %8s %8s\n' package lines covered percent
awk '$1 ~ /^(strategies|decorators|resource|platform|concurrency|primitives)\// && NF >= 13 {
       split($1, p, "/"); pkg = p[1] "/" p[2]
       if (p[1] == "resource" || p[1] == "platform" || p[1] == "concurrency" || p[1] == "primitives") pkg = p[1]
       lines[pkg] += $8; missed[pkg] += $9
     }
     END { for (k in lines) printf "%-28s %8d %8d %7.1f%%\n", k, lines[k], lines[k] - missed[k],
                                   lines[k] ? 100 * (lines[k] - missed[k]) / lines[k] : 0 }' "$work/report.txt" | sort
