#!/usr/bin/env bash
# redis under LD_PRELOAD of the drop-in malloc: a server on a free loopback
# port, no persistence, driven by redis-benchmark (bounded request count),
# then checked with redis-cli and shut down; it must exit cleanly. The
# clients run under the preload too. The results (values, key counts, the
# benchmark's counters) are deterministic and checked against the answers
# below; the benchmark's speed is never checked.
# Usage: preload_redis_test.sh <liballoy_malloc.so> [asan|tsan|valgrind]
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/redis-server /usr/bin/redis-cli /usr/bin/redis-benchmark

# redis_scenario <dir>: a server of its own in <dir> for one run. Prints the
# checks to stdout; the benchmark's lines and the server's log to stderr
# would differ between runs, so they go to <dir>.
redis_scenario() {
  local dir=$1 port=0 attempt
  rm -rf "$dir" && mkdir -p "$dir"
  redis_pid=""
  trap 'exit 1' TERM INT
  trap '[[ -n $redis_pid ]] && kill -9 "$redis_pid" 2>/dev/null; true' EXIT
  # A port nobody listens on: a random one; retried when the bind fails.
  for attempt in {1..20}; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    /usr/bin/redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
      --dir "$dir" --logfile "$dir/server.log" --pidfile "$dir/server.pid" --protected-mode yes &
    redis_pid=$!
    local tries
    for tries in {1..100}; do
      kill -0 "$redis_pid" 2>/dev/null || break
      # The answer of this server, not of another one that holds the port.
      [[ $(/usr/bin/redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' |
        grep '^process_id:') == "process_id:$redis_pid" ]] && break 2
      sleep 0.05
    done
    kill -9 "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=""
  done
  if [[ -z $redis_pid ]]; then
    echo "no redis-server came up on a free port"; tail -5 "$dir/server.log" 2>/dev/null
    return 1
  fi
  if [[ -n ${LD_PRELOAD:-} ]] && ! grep -q "$PRELOAD_NAME" "/proc/$redis_pid/maps"; then
    echo "the server is not on $PRELOAD_NAME"
    return 1
  fi
  local cli=(/usr/bin/redis-cli -h 127.0.0.1 -p "$port")

  /usr/bin/redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -q -t set,get,lpush,lpop,incr >"$dir/benchmark.txt" 2>&1
  echo "benchmark tests $(grep -c 'requests per second' "$dir/benchmark.txt")"
  echo "counter $("${cli[@]}" get counter:__rand_int__)"
  echo "list $("${cli[@]}" llen mylist)"

  # Values of every size from a few bytes to 64 KiB, set, read back, dropped.
  local i zeros letters
  printf -v zeros '%02000d' 0
  printf -v letters '%s' {a..z}{a..z}{a..z}
  letters=$letters$letters$letters$letters$letters
  for i in {1..3000}; do
    echo "SET k$i ${zeros:0:$((i * 37 % 2000))}$i"
  done | "${cli[@]}" >/dev/null
  for i in {1..40}; do
    echo "SET big$i ${letters:$i:$((i * 1600))}"
  done | "${cli[@]}" >/dev/null
  echo "dbsize $("${cli[@]}" dbsize)"
  echo "k17 $("${cli[@]}" get k17 | wc -c) $("${cli[@]}" getrange k17 -6 -1)"
  echo "strlen big40 $("${cli[@]}" strlen big40)"
  echo "lengths $(for i in {1..3000..97}; do echo "STRLEN k$i"; done | "${cli[@]}" | awk '{ n += $1 } END { print n }')"
  "${cli[@]}" rpush list {1..2000} >/dev/null
  echo "lrange $("${cli[@]}" lrange list 1000 1002 | paste -sd,)"
  "${cli[@]}" hset hash $(for i in {1..500}; do echo "f$i v$i"; done) >/dev/null
  echo "hash $("${cli[@]}" hlen hash) $("${cli[@]}" hget hash f250)"
  for i in {1..3000..2}; do echo "DEL k$i"; done | "${cli[@]}" >/dev/null
  echo "dbsize after deletes $("${cli[@]}" dbsize)"
  "${cli[@]}" info memory >"$dir/info.txt"
  grep -q '^used_memory:[1-9]' "$dir/info.txt" && echo "info memory has used_memory"

  "${cli[@]}" shutdown nosave >/dev/null 2>&1 || true
  local status=0
  wait "$redis_pid" || status=$?
  redis_pid=""
  echo "server exit status $status"
  grep -q 'ready to exit, bye bye' "$dir/server.log" && echo "server said bye"
}

# Whatever happens to the scenario's shell, no server outlives the test.
redis_cleanup() {
  local file pid
  for file in "$preload_work"/redis/server.pid; do
    [[ -f $file ]] || continue
    pid=$(cat "$file")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server ]] && kill -9 "$pid"
  done
  true
}
trap redis_cleanup EXIT

preload_expect "redis-server, redis-benchmark, redis-cli" "$(cat <<'ANSWER'
benchmark tests 5
counter 20000
list 0
dbsize 3042
k17 632 000017
strlen big40 64000
lengths 32142
lrange 1001,1002,1003
hash 500 v250
dbsize after deletes 1544
info memory has used_memory
server exit status 0
server said bye
ANSWER
)" redis_scenario "$preload_work/redis"
preload_finish
