#!/usr/bin/env bash
# python3 under LD_PRELOAD of the drop-in malloc: dict, list and str churn
# and a few standard modules (preload_python.py); its checksums must match
# the run on the C library's malloc.
# Usage: preload_python_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/python3
preload_compare "python3 preload_python.py" /usr/bin/python3 tests/malloc/preload_python.py
preload_finish
