#!/usr/bin/env bash
# Runs alloy's whole test suite:
#   1. every test target under each build config of .bazelrc
#      (default with warnings as errors, asan, ubsan, tsan, valgrind, debug)
#      and under each non-default compile-time option (align32 runs them all;
#      no_huge_pages, canaries and leak_tracking the tests that stand on the
#      code that reads the option);
#      the fuzz targets under libFuzzer for a bounded time (fuzz);
#   2. the layering check: no strategy pulls in another strategy or a
#      decorator, no decorator pulls in a strategy;
#   3. the consumer check: a separate workspace that names only
#      @alloy//strategies/system builds and runs;
#   4. the closure check: from that workspace, every strategy target builds
#      and pulls in only primitives, resource, the platform and concurrency
#      targets it uses, and itself (tests/consumer/check_closure.sh).
# Prints one line per check and ends with "N passed, M failed", counting test
# targets per config plus the three checks.
#
# ALLOY_CONFIGS="default asan" narrows the configs (default: all of them).
set -uo pipefail
cd "$(dirname "$0")/.."

configs=(${ALLOY_CONFIGS:-default asan ubsan tsan valgrind debug align32 no_huge_pages canaries leak_tracking fuzz})
passed=0
failed=0
log_dir=$(mktemp -d)
started=$(date +%s)

record() { # record <ok|fail> <what>
  if [[ $1 == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $2"; fi
}

# The tests a config runs. The default config builds everything, benchmarks
# and tools included, with warnings as errors; the others build only what
# their tests need. The canaries and leak_tracking options are read only by
# the debug and leak decorators, no_huge_pages only by the platform's huge
# pages, so those configs run the tests that stand on what reads them.
config_targets() {
  case $1 in
    fuzz) echo //tests/fuzz/... ;;
    canaries | leak_tracking) bazel query --noshow_progress 'tests(rdeps(//..., //decorators/debug + //decorators/leak))' ;;
    no_huge_pages) bazel query --noshow_progress 'tests(rdeps(//..., //platform:huge_pages))' ;;
    *) echo //... ;;
  esac
}

for config in "${configs[@]}"; do
  flags=(--config="$config" --build_tests_only)
  [[ $config == default ]] && flags=(--config=strict)
  mapfile -t targets < <(config_targets "$config" 2>/dev/null)
  log="$log_dir/$config.log"
  config_started=$(date +%s)
  if [[ ${#targets[@]} -eq 1 ]]; then
    echo "== bazel test ${flags[*]} ${targets[0]}"
  else
    echo "== bazel test ${flags[*]} (${#targets[@]} test targets)"
  fi
  bazel test "${flags[@]}" --keep_going "${targets[@]}" >"$log" 2>&1
  code=$?
  config_passed=$(grep -cE '^//[^ ]+ +(\(cached\) +)?PASSED' "$log")
  config_failed=$(grep -cE '^//[^ ]+ +(\(cached\) +)?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)|^//[^ ]+ +FAILED TO BUILD' "$log")
  if [[ $code -ne 0 && $config_failed -eq 0 ]]; then
    config_failed=1 # the build itself failed before any test ran
  fi
  grep -E '^//[^ ]+ ' "$log" | grep -vE 'PASSED' || true
  if [[ $code -ne 0 ]]; then
    grep -E '^(ERROR|FAIL)' "$log" | head -n 20
    for failed_log in $(grep -oE '/[^ ]+/test\.log' "$log" | sort -u); do
      echo "---- $failed_log"; tail -n 40 "$failed_log"
    done
  fi
  echo "   $config: $config_passed test targets passed, $config_failed failed ($(($(date +%s) - config_started)) s)"
  passed=$((passed + config_passed))
  failed=$((failed + config_failed))
done

echo "== layering check"
if tools/check_layering.sh; then record ok layering; else record fail layering; fi

echo "== consumer check (tests/consumer names only @alloy//strategies/system)"
if (cd tests/consumer && bazel run //:consumer) >"$log_dir/consumer.log" 2>&1; then
  grep -E '^consumer:' "$log_dir/consumer.log"
  record ok consumer
else
  tail -n 30 "$log_dir/consumer.log"
  record fail consumer
fi

echo "== closure check (each @alloy//strategies/<name> pulls in only what it uses)"
if tests/consumer/check_closure.sh; then record ok closure; else record fail closure; fi
(cd tests/consumer && bazel shutdown >/dev/null 2>&1) || true

echo "== test suite took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
