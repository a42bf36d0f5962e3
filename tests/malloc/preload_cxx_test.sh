#!/usr/bin/env bash
# A C++ program (ours, built without alloy) under LD_PRELOAD of the drop-in
# malloc: its operator new and delete, sized and aligned forms too, are the
# preload's (without it they are the C++ runtime's), its output is the
# same line either way, and so is what its failed allocations do.
# Usage: preload_cxx_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
program=tests/malloc/new_delete_program
preload_require "$program"
preload_expect "C++ operators bound" "$(printf 'operator new: %s\nsized delete: %s\naligned new: %s\nsized aligned delete: %s' \
  "$PRELOAD_NAME" "$PRELOAD_NAME" "$PRELOAD_NAME" "$PRELOAD_NAME")" "$program" --providers
if "$program" --providers | grep -q liballoy_malloc; then
  echo "FAIL C++ operators bound: the program names alloy's operators without the preload"
  preload_failures=$((preload_failures + 1))
fi
preload_compare "C++ sized and aligned new/delete" "$program"
# A failed new runs the program's new_handler and throws std::bad_alloc from
# the preload as from the C++ runtime (which the library finds only then).
preload_compare "C++ new_handler and std::bad_alloc" "$program" --exhaustion
preload_finish
