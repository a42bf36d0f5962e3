#!/usr/bin/env bash
# lua5.4 under LD_PRELOAD of the drop-in malloc: tables of tables, string
# building, closures, full collections (preload_lua.lua); its output must
# match the run on the C library's malloc.
# Usage: preload_lua_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/lua5.4
preload_compare "lua5.4 preload_lua.lua" /usr/bin/lua5.4 tests/malloc/preload_lua.lua
preload_finish
