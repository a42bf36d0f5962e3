/* The Lua workloads: the scripts compiled in and the runner. */
#include "alloy/lua_workload.h"

#include <string.h>

#include "lauxlib.h"
#include "lualib.h"

const alloy_lua_workload alloy_lua_workloads[] = {
#include "integrations/lua/lua_workload_sources.inc"
};
const size_t alloy_lua_workload_count = sizeof alloy_lua_workloads / sizeof alloy_lua_workloads[0];

const alloy_lua_workload *alloy_lua_workload_find(const char *name) {
  for (size_t i = 0; i < alloy_lua_workload_count; ++i) {
    if (strcmp(alloy_lua_workloads[i].name, name) == 0) return &alloy_lua_workloads[i];
  }
  return NULL;
}

typedef struct output_sink {
  char *text;
  size_t capacity;
  size_t length;
} output_sink;

static void sink_append(output_sink *sink, const char *text, size_t length) {
  if (sink->capacity == 0) return;
  size_t room = sink->capacity - 1 - sink->length;
  if (length > room) length = room;
  memcpy(sink->text + sink->length, text, length);
  sink->length += length;
  sink->text[sink->length] = '\0';
}

/* print(...): the arguments through tostring, tab-separated, one line. */
static int captured_print(lua_State *state) {
  output_sink *sink = (output_sink *)lua_touserdata(state, lua_upvalueindex(1));
  int count = lua_gettop(state);
  for (int i = 1; i <= count; ++i) {
    size_t length;
    const char *text = luaL_tolstring(state, i, &length);
    if (i > 1) sink_append(sink, "\t", 1);
    sink_append(sink, text, length);
    lua_pop(state, 1);
  }
  sink_append(sink, "\n", 1);
  return 0;
}

/* In a protected call: the libraries and the globals can fail for memory too. */
static int run_protected(lua_State *state) {
  const alloy_lua_workload *workload = (const alloy_lua_workload *)lua_touserdata(state, 1);
  double scale = lua_tonumber(state, 2);
  output_sink *sink = (output_sink *)lua_touserdata(state, 3);
  luaL_openlibs(state);
  lua_pushnumber(state, scale);
  lua_setglobal(state, "SCALE");
  lua_pushlightuserdata(state, sink);
  lua_pushcclosure(state, captured_print, 1);
  lua_setglobal(state, "print");
  if (luaL_loadbuffer(state, workload->source, strlen(workload->source), workload->name) != LUA_OK)
    return lua_error(state);
  lua_call(state, 0, 0);
  return 0;
}

int alloy_lua_workload_run(lua_Alloc alloc, void *ud, const alloy_lua_workload *workload, double scale, char *output,
                           size_t capacity) {
  output_sink sink = {output, capacity, 0};
  if (capacity > 0) output[0] = '\0';
  lua_State *state = lua_newstate(alloc, ud);
  if (state == NULL) return LUA_ERRMEM;
  lua_pushcfunction(state, run_protected);
  lua_pushlightuserdata(state, (void *)workload);
  lua_pushnumber(state, scale);
  lua_pushlightuserdata(state, &sink);
  int status = lua_pcall(state, 3, 0, 0);
  if (status != LUA_OK) {
    const char *message = lua_tostring(state, -1);
    if (message == NULL) message = "(error object is not a string)";
    sink.length = 0;
    sink_append(&sink, message, strlen(message));
  }
  lua_close(state);
  return status;
}
