#!/usr/bin/env bash
# sqlite3 under LD_PRELOAD of the drop-in malloc, on a database file:
# 100k rows in one transaction, indexes, aggregates, half the rows deleted,
# VACUUM, an integrity check (preload_sqlite.sql); the query results must
# match the run on the C library's malloc.
# Usage: preload_sqlite_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/sqlite3

# sqlite_workload <database> <script>: a fresh database file each run.
sqlite_workload() {
  rm -f "$1" "$1-journal"
  /usr/bin/sqlite3 -batch -bail "$1" <"$2"
}

preload_compare "sqlite3 preload_sqlite.sql" sqlite_workload "$preload_work/test.db" "$(realpath tests/malloc/preload_sqlite.sql)"
preload_finish
