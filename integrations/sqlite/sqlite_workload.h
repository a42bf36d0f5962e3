/* alloy/sqlite_workload.h — a scripted SQLite workload with checked results,
 * for the tests and the benchmark.
 *
 * On an in-memory database (so that every page lives in SQLite's page
 * cache, on the configured allocator): create a table, insert `rows` rows
 * in one transaction through a prepared statement, create an index, run
 * queries whose answers are computed here independently of SQLite, delete
 * and update a share of the rows, VACUUM, and check integrity.
 *
 * Internal to alloy (tests and bench).
 */
#ifndef ALLOY_SQLITE_WORKLOAD_H
#define ALLOY_SQLITE_WORKLOAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0 when every step ran and every answer matched; otherwise 1 with the
 * failed step in `report`. On success `report` holds one line per checked
 * answer (NUL-terminated, cut at `capacity`). */
int alloy_sqlite_workload_run(int rows, char *report, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* ALLOY_SQLITE_WORKLOAD_H */
