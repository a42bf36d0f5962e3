#!/usr/bin/env bash
# bench/malloc/programs_test.sh — the drop-in comparison's real programs at
# a tiny scale, under the C library's malloc and mimalloc's (a preload; alloy's
# own is tested under the preload in //tests/malloc), one run each: every
# program must run (its output the same under both, which the runner checks),
# and the table and the CSV must hold each of them.
# gcc is left out: alloy's sources are not in this test's runfiles (the
# preload test //tests/malloc:preload_gcc_test compiles them).
#
#   programs_test.sh [asan|tsan|valgrind]   (runfiles as the working directory)
set -uo pipefail
if [[ -n ${1:-} || -n ${ALLOY_UNDER_VALGRIND:-} ]]; then
  echo "SKIPPED: ${1:-valgrind} owns malloc in this config; the preload runs are left out"
  exit 0
fi
programs=python,perl,lua,sqlite,git,redis
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/programs.XXXXXX")
python3 bench/malloc/run_comparison.py --bin_dir="$PWD" --out="$out" --workloads= --programs=$programs \
  --subjects=glibc,mimalloc --scale=0.05 --reps=1 >"$out/stdout" 2>"$out/stderr"
code=$?
cat "$out/stdout"
failures=0
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
[[ $code -eq 0 ]] || fail "run_comparison.py exited $code: $(tail -5 "$out/stderr")"
grep -q failed "$out/stdout" && fail "a program failed"
for program in ${programs//,/ }; do
  grep -qE "^  $program +(wall ms|k req/s) +[0-9.]+ +[0-9.]+$" "$out/stdout" || fail "no figures for $program"
  [[ $(grep -cE "^$program,(glibc|mimalloc),[^,]+,(higher|lower),[0-9.e+]+,1," "$out/dropin_programs.csv") -eq 6 ]] ||
    fail "$program's CSV rows"
done
cmp -s "$out/stdout" "$out/dropin_programs.txt" || fail "dropin_programs.txt is not the printed table"
# A subset flag with a name it does not know is refused.
python3 bench/malloc/run_comparison.py --bin_dir="$PWD" --out="$out" --programs=nosuch >/dev/null 2>&1 &&
  fail "--programs=nosuch was accepted"
[[ $failures -eq 0 ]] && echo "every program ran under both mallocs"
