#!/usr/bin/env bash
# bench/malloc/workloads_test.sh — runs each drop-in workload (given as
# arguments after the launcher) at a tiny scale and checks that it exits
# cleanly with exactly one well-formed result line naming it; then checks
# that the runner's launcher, measure_child, passes that line through and
# reports the child's times, a peak RSS and the child's exit code, passes
# stdin on, and takes the child down with it on SIGTERM.
#
#   workloads_test.sh MEASURE_CHILD WORKLOAD...
set -uo pipefail
failures=0
launcher=$1
shift
# Under the valgrind config the test's own shell runs under memcheck, not its
# children: run each workload under it here.
under=()
if [[ -n ${ALLOY_UNDER_VALGRIND:-} ]]; then
  under=(valgrind --quiet --error-exitcode=97 --leak-check=full --show-leak-kinds=definite
         --errors-for-leak-kinds=definite)
fi
for binary in "$@"; do
  name=$(basename "$binary")
  output=$("${under[@]}" "$binary" --scale=0.02)
  code=$?
  line=$(grep -E "^result workload=$name metric=(ops_per_s|seconds) value=[0-9.e+]+ threads=2$" <<<"$output")
  if [[ $code -ne 0 || $(grep -c '^result ' <<<"$output") -ne 1 || -z $line ]]; then
    echo "FAIL $name (exit $code): $output"
    failures=$((failures + 1))
  else
    echo "ok   $line"
  fi
done
if "${1:?}" --bogus >/dev/null 2>&1; then
  echo "FAIL $(basename "$1") accepted an unknown flag"
  failures=$((failures + 1))
fi
launched=$("$launcher" 60 - "$1" --scale=0.02)
if ! grep -qE "^result workload=$(basename "$1") " <<<"$launched" ||
   ! grep -qE '^usage wall_s=[0-9]+\.[0-9]{6} user_s=[0-9]+\.[0-9]{6} sys_s=[0-9]+\.[0-9]{6}$' <<<"$launched" ||
   ! grep -qE '^peak_rss_kib=[1-9][0-9]* exit=0$' <<<"$launched"; then
  echo "FAIL measure_child on $(basename "$1"): $launched"
  failures=$((failures + 1))
fi
launched=$("$launcher" 60 - /bin/sh -c 'exit 3')
if [[ $(tail -1 <<<"$launched") != *" exit=3" ]]; then
  echo "FAIL measure_child does not report the child's exit code: $launched"
  failures=$((failures + 1))
fi
launched=$(echo through | "$launcher" 60 - /bin/cat)
if [[ $(head -1 <<<"$launched") != through ]]; then
  echo "FAIL measure_child does not pass stdin to the child: $launched"
  failures=$((failures + 1))
fi
# SIGTERM to the launcher once its child (a sleep of a minute) is up: the
# child is killed and reaped, and the launcher still reports.
report=$(mktemp "${TEST_TMPDIR:-/tmp}/launched.XXXXXX")
"$launcher" 60 - /bin/sh -c 'echo up; exec sleep 60' >"$report" &
launcher_pid=$!
for _ in {1..200}; do
  grep -q '^up$' "$report" && break
  sleep 0.05
done
kill -TERM "$launcher_pid"
wait "$launcher_pid"
launched=$(cat "$report")
if [[ $(tail -1 <<<"$launched") != *" exit=137" ]]; then
  echo "FAIL measure_child does not kill its child on SIGTERM: $launched"
  failures=$((failures + 1))
fi
if "$launcher" 60 - >/dev/null 2>&1; then
  echo "FAIL measure_child accepted a missing binary argument"
  failures=$((failures + 1))
fi
[[ $failures -eq 0 ]]
