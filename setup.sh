#!/usr/bin/env bash
# alloy's one set-up entry point. Installs what is missing from Debian's
# archive (idempotent: a second run installs nothing), then optionally runs
# one of alloy's jobs:
#
#   ./setup.sh          install only
#   ./setup.sh main     install, then run the samples and a short benchmark comparison
#   ./setup.sh test     install, then run the whole test suite under every config
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  bazel-bootstrap            # Bazel 4.2.3, WORKSPACE mode
  build-essential pkg-config
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev libabsl-dev  # benchmarks
  libnuma-dev                # NUMA placement (libnuma1, which //platform:numa loads at run time)
  liblua5.4-dev libsqlite3-dev  # the Lua and SQLite integrations
  valgrind                   # the valgrind config; client-request headers
  clang libclang-rt-14-dev   # sanitizer and fuzzer runtimes
  llvm                       # llvm-profdata and llvm-cov for tools/fuzz_coverage.sh
  libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev  # peers in the benchmark report
  gnuplot-nox                # benchmark report plots
  python3 perl lua5.4 sqlite3 git gcc binutils redis-server redis-tools  # real programs the drop-in malloc runs under in tests/malloc
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

case "${1:-}" in
  "") echo "setup: everything alloy needs is installed" ;;
  main) shift; exec tools/main.sh "$@" ;;
  test) shift; exec tools/test.sh "$@" ;;
  *) echo "usage: ./setup.sh [main|test]" >&2; exit 2 ;;
esac
