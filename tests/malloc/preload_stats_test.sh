#!/usr/bin/env bash
# ALLOY_MALLOC_STATS under LD_PRELOAD of the drop-in malloc: perl builds
# many small strings, some medium and one large one; the report at exit
# counts them in the right tiers, as a table on stderr and as JSON (on
# stderr, or in the file the variable names); without the variable the
# program's output carries nothing of it.
# Usage: preload_stats_test.sh <liballoy_malloc.so> [asan|tsan|valgrind] (runfiles as the working directory)
source "$(dirname "$0")/preload_lib.sh"
preload_require /usr/bin/perl /usr/bin/python3

script='my @small = map { "s" x (8 + $_ % 200) } 1 .. 50000;
my @medium = map { "m" x (9000 + $_) } 1 .. 200;
my $large = "l" x (4 << 20);
print scalar(@small) + scalar(@medium) + length($large) > 0 ? "built\n" : "empty\n";'

check() { # check <name> <condition>
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; preload_failures=$((preload_failures + 1)); fi
}

# timeout runs outside the preload: a preloaded timeout would write its own
# report when it exits. "%p" keeps each process's report apart.
output=$(timeout 120 env ALLOY_MALLOC_STATS="$preload_work/stats.%p.json" LD_PRELOAD="$preload_library" \
  /usr/bin/perl -e "$script" 2>"$preload_work/stderr")
reports=("$preload_work"/stats.*.json)
check "one process, one JSON file (${#reports[@]})" '[[ ${#reports[@]} -eq 1 ]]'
json=${reports[0]}
check "the program ran" '[[ $output == built ]]'
check "the table went to stderr" 'grep -q "^alloy_malloc: statistics at exit" "$preload_work/stderr"'
check "the JSON went to the file" '[[ -s $json ]]'
verdict=$(/usr/bin/python3 - "$json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
problems = []
for tier, least in (("small", 50000), ("medium", 200), ("large", 1)):
    t = stats[tier]
    if t["allocations"] < least: problems.append(f"{tier}: {t['allocations']} allocations, expected at least {least}")
    if t["frees"] > t["allocations"]: problems.append(f"{tier}: more frees than allocations")
    if t["live_bytes"] > t["peak_live_bytes"]: problems.append(f"{tier}: live above peak")
if stats["large"]["peak_live_bytes"] < 4 << 20: problems.append("large: peak below the 4 MiB string")
if stats["peak_rss_bytes"] <= 0: problems.append("no peak RSS")
print("; ".join(problems) or "consistent")
PY
)
check "the JSON counts every tier ($verdict)" '[[ $verdict == consistent ]]'

both=$(timeout 120 env ALLOY_MALLOC_STATS=1 LD_PRELOAD="$preload_library" /usr/bin/perl -e "$script" 2>&1 >/dev/null)
check "ALLOY_MALLOC_STATS=1 puts the JSON on stderr" 'grep -q "^alloy_malloc: {\"pid\":" <<<"$both"'
quiet=$(timeout 120 env LD_PRELOAD="$preload_library" /usr/bin/perl -e "$script" 2>&1)
check "without the variable nothing is reported" '[[ $quiet == built ]]'
preload_finish
