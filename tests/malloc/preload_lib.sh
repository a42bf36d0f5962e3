# Shared by the preload tests (sourced, not run): a real Debian program
# under LD_PRELOAD of the drop-in malloc, its output compared with the same
# run on the C library's malloc. Each program runs under the release
# library and, in a test of its own, under the checked one, where any misuse
# the program commits aborts it with the report on stderr.
#
# A test script sources this with its own arguments:
#   <liballoy_malloc.so | liballoy_malloc_debug.so> [asan|tsan|valgrind]
# The second argument (the build config) makes it skip: there a tool owns
# malloc. A program that is missing fails the test: setup.sh installs it.
set -euo pipefail

preload_library=$(realpath "$1")
# The library's file name, as the process maps and dladdr name it.
export PRELOAD_NAME=${1##*/}
preload_tool=${2:-}
if [[ -n $preload_tool || -n ${ALLOY_UNDER_VALGRIND:-} ]]; then
  echo "SKIPPED: ${preload_tool:-valgrind} owns malloc in this config; the preload runs are left out"
  exit 0
fi

preload_failures=0
preload_work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/preload.XXXXXX")

# The loader really puts the library into a process: its maps list it.
preload_maps=$(LD_PRELOAD=$preload_library /bin/cat /proc/self/maps)
if [[ $preload_maps != *"$PRELOAD_NAME"* ]]; then
  echo "FAIL: LD_PRELOAD=$preload_library is not mapped into a process"
  exit 1
fi

# preload_require <program...>: each must be installed (setup.sh lists it).
preload_require() {
  local program
  for program in "$@"; do
    if [[ ! -x $program ]]; then
      echo "FAIL: $program is missing; ./setup.sh installs it"
      exit 1
    fi
  done
}

# preload_bounded <command...>: the command, at most 120 s; a shell function
# runs in a bash of its own (under the preload too, when it is set), which
# stops at the first failing step.
preload_bounded() {
  if declare -F "$1" >/dev/null; then
    export -f "$1"
    timeout 120 /bin/bash -c 'set -euo pipefail; "$@"' preload "$@"
  else
    timeout 120 "$@"
  fi
}

# preload_compare <name> <command...>: runs the command on the C library's
# malloc, then under the preload; both must exit 0 with identical output
# (stdout and stderr), which must not be empty.
preload_compare() {
  local name=$1 expected actual status=0
  shift
  if ! expected=$(preload_bounded "$@" 2>&1); then
    echo "FAIL $name: fails without the preload too:"; echo "$expected" | tail -20
    preload_failures=$((preload_failures + 1))
    return
  fi
  actual=$(LD_PRELOAD=$preload_library preload_bounded "$@" 2>&1) || status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAIL $name: exit status $status under the preload"; echo "$actual" | tail -20
    preload_failures=$((preload_failures + 1))
  elif [[ -z $expected ]]; then
    echo "FAIL $name: no output to compare"
    preload_failures=$((preload_failures + 1))
  elif [[ $actual != "$expected" ]]; then
    echo "FAIL $name: output differs from the run without the preload:"
    diff <(echo "$expected") <(echo "$actual") | head -20 || true
    preload_failures=$((preload_failures + 1))
  else
    echo "ok   $name:"; echo "$actual" | sed 's/^/       /' | head -40
  fi
}

# preload_expect <name> <expected output> <command...>: the command under
# the preload only (where a second run would double a long test), its
# output checked against the answer given.
preload_expect() {
  local name=$1 expected=$2 actual status=0
  shift 2
  actual=$(LD_PRELOAD=$preload_library preload_bounded "$@" 2>&1) || status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAIL $name: exit status $status under the preload"; echo "$actual" | tail -20
    preload_failures=$((preload_failures + 1))
  elif [[ $actual != "$expected" ]]; then
    echo "FAIL $name: not the expected output:"
    diff <(echo "$expected") <(echo "$actual") | head -20 || true
    preload_failures=$((preload_failures + 1))
  else
    echo "ok   $name:"; echo "$actual" | sed 's/^/       /' | head -40
  fi
}

# preload_finish: the test's verdict.
preload_finish() {
  rm -rf "$preload_work"
  if [[ $preload_failures -ne 0 ]]; then
    echo "$preload_failures check(s) failed under LD_PRELOAD=$preload_library"
    exit 1
  fi
  echo "every check passed on $PRELOAD_NAME"
}
