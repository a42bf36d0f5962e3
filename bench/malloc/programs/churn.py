"""bench/malloc/programs/churn.py — python3 for the drop-in malloc comparison:
dict, list and str churn and a few standard modules (json, re, collections,
hashlib), every loop's length times SCALE (argv[1], default 1). Prints
checksums that depend neither on addresses nor on hash seeds, so every
malloc's run prints the same."""
import collections
import hashlib
import json
import re
import sys

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def n(count):
    return max(1, int(count * SCALE))


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Dicts of lists, half dropped, others of another shape added.
table = {}
for i in range(n(40000)):
    table[str(i)] = [i] * (i % 7)
for key in list(table)[::2]:
    del table[key]
table.update((str(-i), "x" * (i % 300)) for i in range(n(12000)))
print("dict", len(table), sum(len(v) for v in table.values()))

# Strings of every small size, counted, joined, split, matched.
words = [("w%d" % (i % 5000)) * (1 + i % 9) for i in range(n(40000))]
counts = collections.Counter(w[:4] for w in words)
text = " ".join(words[:n(12000)])
print("str", len(counts), len(text), len(text.split()), len(re.findall(r"\bw12\b", text)),
      len(re.sub(r"w(\d+)", r"<\1>", text)))

# JSON round trips of nested structures.
nested = {str(i): {"id": i, "tags": ["t%d" % j for j in range(i % 11)], "blob": "b" * (i % 2000)}
          for i in range(n(1200))}
encoded = json.dumps(nested, sort_keys=True)
print("json", len(encoded), digest(json.dumps(json.loads(encoded), sort_keys=True)))

# Deques and default dicts grown and drained.
queue = collections.deque()
groups = collections.defaultdict(list)
for i in range(n(60000)):
    queue.append(i)
    groups[i % 977].append(i)
    if i % 3 == 0:
        queue.popleft()
print("collections", len(queue), sum(queue), len(groups), sum(map(len, groups.values())))

del table, words, counts, text, nested, encoded, queue, groups
print("done")
