"""A workload for the drop-in malloc: dict, list and str churn and a few
standard modules (json, re, collections, hashlib, sqlite3, threads), each
step printing a checksum that does not depend on addresses or hash seeds."""
import collections
import concurrent.futures
import hashlib
import json
import re
import sqlite3


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Dicts of lists, then half of them dropped and others of another shape added.
table = {}
for i in range(100000):
    table[str(i)] = [i] * (i % 7)
for key in list(table)[::2]:
    del table[key]
table.update((str(-i), "x" * (i % 300)) for i in range(30000))
print("dict", len(table), sum(len(v) for v in table.values()))

# Strings of every small size and some large ones, joined, split and counted.
words = [("w%d" % (i % 5000)) * (1 + i % 9) for i in range(100000)]
counts = collections.Counter(w[:4] for w in words)
text = " ".join(words[:30000])
big = "".join(chr(65 + i % 26) * (i % 4000) for i in range(600))
print("str", len(counts), counts.most_common(1)[0], len(text), len(text.split()), digest(big))

# Regular expressions over the text.
print("re", len(re.findall(r"\bw12\b", text)), len(re.sub(r"w(\d+)", r"<\1>", text)))

# JSON round trips of nested structures, keys sorted for a stable digest.
nested = {str(i): {"id": i, "tags": ["t%d" % j for j in range(i % 11)], "blob": "b" * (i % 2000)}
          for i in range(3000)}
encoded = json.dumps(nested, sort_keys=True)
decoded = json.loads(encoded)
print("json", len(encoded), len(decoded), digest(json.dumps(decoded, sort_keys=True)))

# Deques, default dicts and ordered dicts grown and drained.
queue = collections.deque()
groups = collections.defaultdict(list)
for i in range(150000):
    queue.append(i)
    groups[i % 977].append(i)
    if i % 3 == 0:
        queue.popleft()
order = collections.OrderedDict((i, str(i)) for i in range(30000))
for i in range(0, 30000, 3):
    order.move_to_end(i)
print("collections", len(queue), sum(queue), len(groups), sum(map(len, groups.values())),
      next(iter(order)), next(reversed(order)))

# hashlib over many buffers, in four threads (each result in input order).
chunks = [bytes([i % 251]) * (1000 + 37 * i) for i in range(1000)]
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    hashes = list(pool.map(lambda c: hashlib.sha1(c).hexdigest(), chunks))
print("hashlib", digest("".join(hashes)))

# The sqlite3 module: an in-memory database through Python's bindings.
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t(k INTEGER, v TEXT)")
db.executemany("INSERT INTO t VALUES (?, ?)", ((i % 100, "v" * (i % 500)) for i in range(30000)))
rows = db.execute("SELECT k, count(*), sum(length(v)) FROM t GROUP BY k ORDER BY k").fetchall()
db.close()
print("sqlite3", len(rows), rows[0], rows[-1], digest(repr(rows)))

# Everything dropped; what is left still adds up.
del table, words, counts, text, big, nested, encoded, decoded, queue, groups, order, chunks, hashes, rows
print("done")
