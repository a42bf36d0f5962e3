/* alloy/lua_workload.h — the GC-heavy Lua scripts of scripts/ (binary trees,
 * table churn, string building, closures) and a runner that executes one in
 * a fresh state on any lua_Alloc, for the tests and the benchmark.
 *
 * Each script reads the global SCALE (its work grows linearly with it, the
 * binary-trees depth with its logarithm) and prints lines ending in a
 * checksum-like result; the runner collects what it prints.
 *
 * Internal to alloy (tests and bench).
 */
#ifndef ALLOY_LUA_WORKLOAD_H
#define ALLOY_LUA_WORKLOAD_H

#include <stddef.h>

#include "lua.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct alloy_lua_workload {
  const char *name; /* the script's file name without ".lua" */
  const char *source;
} alloy_lua_workload;

extern const alloy_lua_workload alloy_lua_workloads[];
extern const size_t alloy_lua_workload_count;

/* The workload called `name`, or NULL. */
const alloy_lua_workload *alloy_lua_workload_find(const char *name);

/* Runs `workload` in a new state made by lua_newstate(alloc, ud) with the
 * standard libraries, SCALE set to `scale` and print() writing into `output`
 * (NUL-terminated, cut at `capacity`), then closes the state. Returns LUA_OK,
 * the error status of the script (its message in `output`), or LUA_ERRMEM
 * when the state cannot be created. */
int alloy_lua_workload_run(lua_Alloc alloc, void *ud, const alloy_lua_workload *workload, double scale, char *output,
                           size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* ALLOY_LUA_WORKLOAD_H */
