#!/usr/bin/env bash
# gcc under LD_PRELOAD of the drop-in malloc (the driver, cc1 and as all
# inherit it): alloy's own TLSF and small-object sources, from the test's
# runfiles, compiled with -O2. Code generation must not depend on the
# malloc: the object files are byte for byte those of the run on the C
# library's malloc, and their disassembly is printed as a digest.
# Usage: preload_gcc_test.sh <liballoy_malloc.so> [asan|tsan|valgrind]
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/gcc /usr/bin/size /usr/bin/objdump

# Public headers are included as "alloy/<name>.h" whatever package they
# live in (tools/bazel/alloy.bzl): the same mapping, as symlinks.
sources=$(realpath .)
mkdir -p "$preload_work/include/alloy"
for header in $(find -L primitives platform concurrency resource strategies -name '*.h'); do
  ln -sf "$sources/$header" "$preload_work/include/alloy/${header##*/}"
done
c_files=(strategies/tlsf/*.c strategies/small_object/*.c)
if ((${#c_files[@]} < 6)); then
  echo "FAIL: the sources to compile are not in the runfiles: ${c_files[*]}"
  exit 1
fi

# gcc_workload <dir>: compiles every source into <dir>, prints the
# objects' digests, sizes and a digest of their disassembly.
gcc_workload() {
  local dir=$1 sources=$2 include=$3 source
  shift 3
  rm -rf "$dir" && mkdir -p "$dir"
  for source in "$@"; do
    /usr/bin/gcc -std=c11 -O2 -Wall -Wextra -I"$sources" -I"$include" -c "$sources/$source" \
      -o "$dir/$(basename "$source" .c).o"
  done
  cd "$dir"
  sha256sum ./*.o
  /usr/bin/size ./*.o
  /usr/bin/objdump -d ./*.o | sha256sum
}

preload_compare "gcc -O2 -c of ${#c_files[@]} alloy sources" \
  gcc_workload "$preload_work/objects" "$sources" "$preload_work/include" "${c_files[@]}"
preload_finish
