#!/usr/bin/env bash
# Proves from a consumer's side that each strategy target pulls in only what
# it uses: primitives, resource, the platform targets and concurrency targets
# below it, and itself. No other strategy, no decorator, no test-only fault
# injection, no Valgrind headers, and no libnuma (//platform:numa loads it at
# its first call; nothing links it).
# Also builds every strategy target from this workspace. Run it from
# tests/consumer (tools/test.sh does, after `bazel run //:consumer`).
set -uo pipefail
cd "$(dirname "$0")"

# The platform and concurrency targets each strategy may reach (directly or
# through each other). vm, heap and huge_pages consult fault_seam, the
# production half of fault injection; vm_arena binds pages through numa.
declare -A uses=(
  [frame]="platform:vm_arena platform:vm platform:numa platform:tool_hooks platform:fault_seam"
  [stack]="platform:vm_arena platform:vm platform:numa platform:tool_hooks platform:fault_seam"
  [pool]="platform:vm_arena platform:vm platform:numa platform:random platform:thread platform:tool_hooks platform:fault_seam
          concurrency:remote_free concurrency:mpsc_queue concurrency:atomic_field concurrency:thread_exit"
  [small_object]="platform:vm platform:random platform:thread platform:tool_hooks platform:fault_seam
          concurrency:remote_free concurrency:mpsc_queue concurrency:atomic_field concurrency:spin_lock
          concurrency:thread_exit concurrency:fork_guard"
  [tlsf]="platform:vm platform:numa platform:tool_hooks platform:fault_seam"
  [partition]="platform:vm platform:numa platform:random platform:thread platform:tool_hooks platform:fault_seam
          concurrency:spin_lock concurrency:thread_exit concurrency:fork_guard"
  [huge_page]="platform:huge_pages platform:vm platform:numa platform:tool_hooks platform:fault_seam"
  [system]="platform:heap platform:fault_seam"
  [fallback]=""
)
strategies=(frame stack pool small_object tlsf partition huge_page system fallback)

# Whether rule `label` may be in the closure of strategy `name`.
allowed() { # allowed <name> <label>
  local name=$1 label=$2 part
  case $label in
    @alloy//primitives:* | @alloy//resource:* | "@alloy//strategies/$name:"*) return 0 ;;
    @alloy//platform:valgrind_on) [[ " ${uses[$name]} " == *" platform:tool_hooks "* ]]; return ;;
  esac
  for part in ${uses[$name]}; do
    [[ $label == "@alloy//$part" ]] && return 0
  done
  return 1
}

failures=0
for name in "${strategies[@]}"; do
  target="@alloy//strategies/$name"
  # The default configuration, as a consumer builds it; rules only (a source
  # file belongs to a rule that is itself checked).
  if ! closure=$(bazel cquery --noshow_progress --noimplicit_deps --output=label_kind "deps($target)" 2>&1); then
    echo "closure: cquery failed for $target:"; echo "$closure" | tail -n 20 | sed 's/^/    /'
    failures=$((failures + 1))
    continue
  fi
  leaked=()
  while read -r kind rule label _; do
    [[ $rule == rule ]] || continue
    allowed "$name" "$label" || leaked+=("$label ($kind)")
  done < <(echo "$closure" | grep -E '^[a-z_]+ rule ')
  if [[ ${#leaked[@]} -gt 0 ]]; then
    echo "closure: $target pulls in what it does not use:"
    printf '    %s\n' "${leaked[@]}"
    failures=$((failures + 1))
  fi
done

if ! built=$(bazel build --noshow_progress "${strategies[@]/#/@alloy//strategies/}" 2>&1); then
  echo "closure: building the strategies from the consumer workspace failed:"
  echo "$built" | tail -n 20 | sed 's/^/    /'
  failures=$((failures + 1))
fi

if [[ $failures -eq 0 ]]; then
  echo "closure: each of ${strategies[*]} pulls in only primitives, resource, the platform and concurrency targets it uses, and itself"
fi
[[ $failures -eq 0 ]]
