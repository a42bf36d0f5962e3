#!/usr/bin/env bash
# Runs one sample as a test: the program must exit 0 and its output (stdout
# and stderr together) must match every expected extended regular expression
# given after it, each on some line.
#
#   run_sample.sh <program> [<regex> ...]
#
# Under the valgrind config (ALLOY_UNDER_VALGRIND=1) the sample itself runs
# under memcheck, so its memory errors fail the test as any test's do.
set -uo pipefail
program=$1
shift
output=$(mktemp)
trap 'rm -f "$output"' EXIT

runner=()
if [[ ${ALLOY_UNDER_VALGRIND:-0} == 1 ]]; then
  runner=(valgrind --quiet --error-exitcode=97 --leak-check=full --show-leak-kinds=definite
          --errors-for-leak-kinds=definite)
fi

"${runner[@]}" "$program" >"$output" 2>&1
code=$?
cat "$output"
if [[ $code -ne 0 ]]; then
  echo "run_sample: $program exited with $code" >&2
  exit 1
fi
missing=0
for expected in "$@"; do
  if ! grep -Eq -- "$expected" "$output"; then
    echo "run_sample: no line of the output matches: $expected" >&2
    missing=$((missing + 1))
  fi
done
[[ $missing -eq 0 ]]
