-- A workload for the drop-in malloc under sqlite3 (on a database file):
-- 100k rows in one transaction, an index, aggregates, half deleted, VACUUM.
PRAGMA journal_mode = DELETE;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, grp TEXT, v TEXT);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
  INSERT INTO t(id, k, grp, v)
  SELECT i, (i * 7919) % 1000, 'g' || (i % 37), printf('row-%d-%.*c', i, i % 300, 'x') FROM n;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_grp ON t(grp, k);
SELECT count(*), sum(id), sum(length(v)), min(k), max(k) FROM t;
SELECT grp, count(*), sum(k), avg(length(v)) FROM t GROUP BY grp ORDER BY grp LIMIT 5;
SELECT k, count(*), group_concat(id, ' ') FROM t WHERE k < 3 AND id < 5000 GROUP BY k ORDER BY k;
SELECT count(*), sum(id) FROM t WHERE k BETWEEN 100 AND 199;
SELECT grp, max(length(v)), min(id) FROM t WHERE k = 42 GROUP BY grp ORDER BY grp LIMIT 5;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*), sum(id), count(DISTINCT k) FROM t;
VACUUM;
SELECT count(*), sum(length(v)) FROM t;
SELECT grp, count(*) FROM t INDEXED BY t_grp WHERE grp = 'g5';
PRAGMA integrity_check;
