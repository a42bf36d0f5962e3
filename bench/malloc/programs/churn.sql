-- bench/malloc/programs/churn.sql — sqlite3 for the drop-in malloc
-- comparison, on a database file in a temporary directory: @ROWS@ rows
-- (100k at scale 1; the runner fills in the count) in one transaction, two
-- indexes, aggregates, every other row deleted, VACUUM. Syncs are off: the
-- figure is the library's work, not the disk's.
PRAGMA journal_mode = DELETE;
PRAGMA synchronous = OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, grp TEXT, v TEXT);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @ROWS@ - 1)
  INSERT INTO t(id, k, grp, v)
  SELECT i, (i * 7919) % 1000, 'g' || (i % 37), printf('row-%d-%.*c', i, i % 300, 'x') FROM n;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_grp ON t(grp, k);
SELECT count(*), sum(id), sum(length(v)), min(k), max(k) FROM t;
SELECT grp, count(*), sum(k) FROM t GROUP BY grp ORDER BY grp LIMIT 3;
SELECT count(*), sum(id) FROM t WHERE k BETWEEN 100 AND 199;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*), sum(id), count(DISTINCT k) FROM t;
VACUUM;
SELECT count(*), sum(length(v)) FROM t;
