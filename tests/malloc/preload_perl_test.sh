#!/usr/bin/env bash
# perl under LD_PRELOAD of the drop-in malloc: hashes of arrays, string
# building, regular expressions (preload_perl.pl); its output must match the
# run on the C library's malloc.
# Usage: preload_perl_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/perl
preload_compare "perl preload_perl.pl" /usr/bin/perl tests/malloc/preload_perl.pl
preload_finish
