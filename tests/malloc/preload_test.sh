#!/usr/bin/env bash
# Real Debian programs under LD_PRELOAD of the drop-in malloc, each bounded
# in time, their output checked against answers computed here:
#   python3 -c  dict, list and str churn;
#   perl -e     building and dropping nested structures;
#   sqlite3     an in-memory database: create, insert, index, query, delete, vacuum;
#   new_delete_program (ours, C++, built without alloy): sized and aligned
#               new and delete, its operators bound to the preload's.
# Usage: preload_test.sh <liballoy_malloc.so> <new_delete_program> [asan|tsan|valgrind];
# the last argument (the build config) makes it skip: there a tool owns malloc.
set -euo pipefail

library=$(realpath "$1")
cxx_program=$(realpath "$2")
tool=${3:-}
if [[ -n $tool || -n ${ALLOY_UNDER_VALGRIND:-} ]]; then
  echo "SKIPPED: ${tool:-valgrind} owns malloc in this config; the preload runs are left out"
  exit 0
fi

failures=0
# run <name> <expected output> <command...>: the command under the preload,
# at most 120 s; its output must match.
run() {
  local name=$1 expected=$2 output status=0
  shift 2
  output=$(LD_PRELOAD=$library timeout 120 "$@" 2>&1) || status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAIL $name: exit status $status"; echo "$output" | tail -20
    failures=$((failures + 1))
  elif [[ $output != "$expected" ]]; then
    echo "FAIL $name: expected '$expected', got:"; echo "$output" | tail -20
    failures=$((failures + 1))
  else
    echo "ok   $name: $output"
  fi
}

# The preload really is the process's malloc: its maps list the library.
run "preload loaded" "loaded" /usr/bin/python3 -c "
import sys
print('loaded' if any('liballoy_malloc.so' in line for line in open('/proc/self/maps')) else 'missing')"

# Python's answer comes from the same script on the C library's malloc.
python_churn="
import json, re, collections
d = {}
for i in range(200000):
    d[str(i)] = [i] * (i % 7)
words = [('w%d' % (i % 5000)) * (1 + i % 9) for i in range(200000)]
counts = collections.Counter(w[:4] for w in words)
text = ' '.join(words[:20000])
parsed = json.loads(json.dumps({k: v for k, v in list(d.items())[:20000]}))
for k in list(d)[::2]:
    del d[k]
d.update((str(-i), 'x' * (i % 300)) for i in range(100000))
print(len(d), sum(len(v) for v in d.values()), len(counts), len(text), len(parsed), len(re.findall(r'w12\\b', text)))"
run "python3 churn" "$(timeout 120 /usr/bin/python3 -c "$python_churn")" /usr/bin/python3 -c "$python_churn"

run "perl structures" "300000 1350000 gone" /usr/bin/perl -e '
my %h; my $n = 0;
for my $round (1..3) {
  for my $i (1..100000) { $h{"$round:$i"} = [ map { "v$_" x 3 } 1..($i % 10) ]; }
}
$n += scalar(@{$h{$_}}) for keys %h;
my @s = sort keys %h;
print scalar(@s), " ", $n, " ";
%h = (); @s = ();
my $str = ""; $str .= chr(65 + $_ % 26) for 1..1000000; $str = undef;
print "gone\n";'

run "sqlite3 workload" "$(printf '100000\n25000\n4999950000\n50000\n0\n50000')" /usr/bin/sqlite3 :memory: "
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
  INSERT INTO t(id, k, v) SELECT i, i % 1000, printf('row-%d-%s', i, hex(randomblob(i % 64))) FROM n;
CREATE INDEX t_k ON t(k);
SELECT count(*) FROM t;
SELECT count(*) FROM t WHERE k < 500 AND id % 2 = 1;
SELECT sum(id) FROM t;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*) FROM t;
SELECT count(*) FROM t WHERE id % 2 = 0;
VACUUM;
SELECT count(*) FROM t WHERE k = k;"

# A C++ program's operator new and delete, sized and aligned forms too, are
# the preload's (without it they are the C++ runtime's); its output is the
# same line either way.
run "C++ operators bound" "$(printf 'operator new: %s\nsized delete: %s\naligned new: %s\nsized aligned delete: %s' \
  liballoy_malloc.so liballoy_malloc.so liballoy_malloc.so liballoy_malloc.so)" "$cxx_program" --providers
if "$cxx_program" --providers | grep -q liballoy_malloc; then
  echo "FAIL C++ operators bound: the program defines alloy's operators without the preload"
  failures=$((failures + 1))
fi
run "C++ sized and aligned new/delete" "$(timeout 120 "$cxx_program")" "$cxx_program"

if [[ $failures -ne 0 ]]; then
  echo "$failures program(s) failed under LD_PRELOAD=$library"
  exit 1
fi
echo "every program ran on alloy_malloc"
