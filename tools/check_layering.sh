#!/usr/bin/env bash
# Proves the layering with bazel query: a strategy's dependency closure holds
# no other strategy and no decorator; a decorator's holds no strategy and no
# other decorator (decorators/common, their shared internals, aside); no
# decorator depends on decorators/config, the composition helper above them;
# the lower layers hold nothing above them; no C library depends on the C++
# face (the header-only .hpp targets composed above it); an integration
# (integrations/*, user layer) holds strategies, decorators and what lies
# below them, but no other integration (integrations/common, their shared
# internals, aside), no test, sample or benchmark; nothing in the library
# holds an integration; malloc holds no decorator, integration, test, sample
# or benchmark, and nothing in the library holds malloc, save that the
# checked malloc (alloy_malloc_debug and what stands on it) holds the debug
# decorator and nothing else of the decorators; bench holds no test
# and no sample, tests hold no sample; the drop-in workloads (bench/malloc)
# hold nothing of alloy, so that they run under any malloc; and every
# benchmark binary carries the `benchmark` tag.
set -uo pipefail
cd "$(dirname "$0")/.."

violations=0
check() { # check <target> <forbidden query expression>
  local found code
  # --keep_going: a layer that has no package yet matches nothing (exit 3).
  found=$(bazel query --keep_going --noshow_progress "deps($1) intersect ($2)" 2>/dev/null)
  code=$?
  if [[ $code -ne 0 && $code -ne 3 ]]; then
    echo "layering: bazel query failed for $1 (exit $code)"
    violations=$((violations + 1))
  elif [[ -n $found ]]; then
    echo "layering: $1 depends on:"; echo "$found" | sed 's/^/    /'
    violations=$((violations + 1))
  fi
}

lower="//primitives/... + //platform/... + //resource/... + //concurrency/..."
for package in strategies/*/; do
  name=$(basename "$package")
  check "//strategies/$name/..." "(//strategies/... except //strategies/$name/...) + //decorators/... + //integrations/..."
done
for package in decorators/*/; do
  [[ -f $package/BUILD ]] || continue
  name=$(basename "$package")
  case $name in
    common) check "//decorators/common/..." \
      "//strategies/... + (//decorators/... except //decorators/common/...) + //integrations/..." ;;
    config) check "//decorators/config/..." "//strategies/... + //integrations/..." ;;
    *) check "//decorators/$name/..." \
      "//strategies/... + (//decorators/... except (//decorators/$name/... + //decorators/common/...)) + //integrations/..." ;;
  esac
done
check "//primitives/..." "(($lower) except //primitives/...) + //integrations/..."
check "//platform/..." "//resource/... + //concurrency/... + //strategies/... + //decorators/... + //integrations/..."
check "//resource/..." "//platform/... + //concurrency/... + //strategies/... + //decorators/... + //integrations/..."
check "//concurrency/..." "//resource/... + //strategies/... + //decorators/... + //integrations/..."
for package in integrations/*/; do
  [[ -f $package/BUILD ]] || continue
  name=$(basename "$package")
  user="//tests/... + //samples/... + //bench/..."
  case $name in
    common) check "//integrations/common/..." "(//integrations/... except //integrations/common/...) + $user" ;;
    *) check "//integrations/$name/..." \
      "(//integrations/... except (//integrations/$name/... + //integrations/common/...)) + $user" ;;
  esac
done
# The C++ face: every library with .hpp headers. Only users stand on it.
cxx_face='attr(hdrs, "[.]hpp", //resource/... + //strategies/... + //decorators/...)'
check "($lower + //strategies/... + //decorators/...) except $cxx_face" "$cxx_face"
# The drop-in malloc (user layer) stands on strategies, platform, primitives,
# resource and concurrency; nothing in the library or the integrations
# stands on it. Its checked variant (every //malloc target that holds
# alloy_malloc_debug) stands on the debug decorator too, and on no other.
checked_malloc="rdeps(//malloc/..., //malloc:alloy_malloc_debug)"
check "//malloc/... except $checked_malloc" "//decorators/... + //integrations/... + //tests/... + //samples/... + //bench/..."
check "$checked_malloc" \
  "(//decorators/... except (//decorators/debug/... + //decorators/common/...)) + //integrations/... + //tests/... + //samples/... + //bench/..."
check "$lower + //strategies/... + //decorators/... + //integrations/..." "//malloc/..."
check "//bench/..." "//tests/... + //samples/..."
check "//bench/malloc/..." "$lower + //strategies/... + //decorators/... + //integrations/... + //malloc/... + (//bench/... except //bench/malloc/...)"
check "//tests/..." "//samples/..."

# Every binary under //bench is a benchmark and says so.
untagged=$(bazel query --keep_going --noshow_progress \
  'kind(cc_binary, //bench/...) except attr(tags, "\bbenchmark\b", //bench/...)' 2>/dev/null)
code=$?
if [[ $code -ne 0 && $code -ne 3 ]]; then
  echo "layering: bazel query failed for the benchmark tags (exit $code)"
  violations=$((violations + 1))
elif [[ -n $untagged ]]; then
  echo "layering: benchmark binaries without the benchmark tag:"; echo "$untagged" | sed 's/^/    /'
  violations=$((violations + 1))
fi

if [[ $violations -eq 0 ]]; then
  echo "layering: every strategy, decorator, lower layer, integration, test and benchmark depends only on what it may"
fi
[[ $violations -eq 0 ]]
