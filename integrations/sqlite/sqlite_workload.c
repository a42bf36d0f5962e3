/* The SQLite workload: its steps and the answers it expects. */
#include "alloy/sqlite_workload.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sqlite3.h"

/* The row each id gets, a pure function so the expected answers can be
 * computed without SQLite. */
static int64_t value_of(int64_t id) { return (id * 7919) % 1000; }
static int payload_length_of(int64_t id) { return (int)(id % 97) + 1; }

typedef struct run {
  sqlite3 *db;
  char *report;
  size_t capacity;
  size_t length;
  int failed;
} run;

static void note(run *r, const char *format, ...) {
  if (r->capacity == 0 || r->length + 1 >= r->capacity) return;
  va_list args;
  va_start(args, format);
  int wrote = vsnprintf(r->report + r->length, r->capacity - r->length, format, args);
  va_end(args);
  if (wrote > 0) r->length += (size_t)wrote < r->capacity - r->length ? (size_t)wrote : r->capacity - r->length - 1;
}

static void fail(run *r, const char *step) {
  if (r->failed) return;
  r->failed = 1;
  r->length = 0;
  note(r, "%s: %s\n", step, r->db != NULL ? sqlite3_errmsg(r->db) : "no database");
}

static void exec(run *r, const char *sql) {
  if (!r->failed && sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK) fail(r, sql);
}

/* The single integer `sql` answers, checked against `expected`. */
static void expect_int(run *r, const char *sql, int64_t expected) {
  if (r->failed) return;
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2(r->db, sql, -1, &stmt, NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    fail(r, sql);
    return;
  }
  int64_t got = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (got != expected) {
    r->failed = 1;
    r->length = 0;
    note(r, "%s: %lld, expected %lld\n", sql, (long long)got, (long long)expected);
    return;
  }
  note(r, "%s = %lld\n", sql, (long long)got);
}

static void expect_text(run *r, const char *sql, const char *expected) {
  if (r->failed) return;
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2(r->db, sql, -1, &stmt, NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    fail(r, sql);
    return;
  }
  const char *got = (const char *)sqlite3_column_text(stmt, 0);
  int same = got != NULL && strcmp(got, expected) == 0;
  if (!same) {
    r->failed = 1;
    r->length = 0;
    note(r, "%s: '%s', expected '%s'\n", sql, got != NULL ? got : "(null)", expected);
  } else {
    note(r, "%s = %s\n", sql, got);
  }
  sqlite3_finalize(stmt);
}

static void insert_rows(run *r, int rows) {
  if (r->failed) return;
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2(r->db, "INSERT INTO t(id, name, value, payload) VALUES(?, ?, ?, ?)", -1, &stmt, NULL) !=
      SQLITE_OK) {
    fail(r, "prepare insert");
    return;
  }
  unsigned char payload[128];
  char name[32];
  for (int64_t id = 1; id <= rows && !r->failed; ++id) {
    int length = payload_length_of(id);
    for (int i = 0; i < length; ++i) payload[i] = (unsigned char)(id + i);
    snprintf(name, sizeof name, "name-%lld", (long long)id);
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_text(stmt, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 3, value_of(id));
    sqlite3_bind_blob(stmt, 4, payload, length, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) != SQLITE_DONE) fail(r, "insert");
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
}

typedef struct expected {
  int64_t count, value_sum, payload_bytes, below_100, id_sum_500s, deleted, updated;
} expected;

static expected expect_for(int rows) {
  expected e = {0, 0, 0, 0, 0, 0, 0};
  for (int64_t id = 1; id <= rows; ++id) {
    const int64_t value = value_of(id);
    e.count += 1;
    e.value_sum += value;
    e.payload_bytes += payload_length_of(id);
    e.below_100 += value < 100;
    if (value >= 500 && value <= 599) e.id_sum_500s += id;
    if (value % 3 == 0) {
      e.deleted += 1;
    } else if (value < 50) {
      e.updated += 1;
    }
  }
  return e;
}

static void expect_changes(run *r, const char *sql, int64_t expected_changes) {
  exec(r, sql);
  if (r->failed) return;
  int64_t changes = sqlite3_changes(r->db);
  if (changes != expected_changes) {
    r->failed = 1;
    r->length = 0;
    note(r, "%s: changed %lld rows, expected %lld\n", sql, (long long)changes, (long long)expected_changes);
    return;
  }
  note(r, "%s: %lld rows\n", sql, (long long)changes);
}

int alloy_sqlite_workload_run(int rows, char *report, size_t capacity) {
  run r = {NULL, report, capacity, 0, 0};
  if (capacity > 0) report[0] = '\0';
  if (sqlite3_open(":memory:", &r.db) != SQLITE_OK) fail(&r, "open");
  const expected e = expect_for(rows);
  char sql[160];
  exec(&r, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL, payload BLOB)");
  exec(&r, "BEGIN");
  insert_rows(&r, rows);
  exec(&r, "COMMIT");
  exec(&r, "CREATE INDEX t_value ON t(value)");
  expect_int(&r, "SELECT count(*) FROM t", e.count);
  expect_int(&r, "SELECT sum(value) FROM t", e.value_sum);
  expect_int(&r, "SELECT sum(length(payload)) FROM t", e.payload_bytes);
  expect_int(&r, "SELECT count(*) FROM t WHERE value < 100", e.below_100);
  expect_int(&r, "SELECT sum(id) FROM t WHERE value BETWEEN 500 AND 599", e.id_sum_500s);
  snprintf(sql, sizeof sql, "SELECT name FROM t WHERE id = %d", rows / 2 + 1);
  char name[32];
  snprintf(name, sizeof name, "name-%d", rows / 2 + 1);
  expect_text(&r, sql, name);
  expect_changes(&r, "DELETE FROM t WHERE value % 3 = 0", e.deleted);
  expect_changes(&r, "UPDATE t SET name = name || '-updated' WHERE value < 50", e.updated);
  exec(&r, "VACUUM");
  expect_text(&r, "PRAGMA integrity_check", "ok");
  expect_int(&r, "SELECT count(*) FROM t", e.count - e.deleted);
  expect_int(&r, "SELECT count(*) FROM t WHERE name LIKE '%-updated'", e.updated);
  if (sqlite3_close(r.db) != SQLITE_OK) fail(&r, "close");
  return r.failed;
}
