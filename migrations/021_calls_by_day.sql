-- 021_calls_by_day.sql - calls partitioned by UTC day of ts_ns, so that
-- retention drops whole days (ALTER TABLE ... DROP PARTITION, a moment)
-- instead of deleting rows (lector/retain.c, lector/calls_part.c; README,
-- "Retention").  One partition per day, named pYYYYMMDD after the day it
-- holds (its bound is the next midnight UTC, in ns); the first one also
-- holds anything older; pmax (VALUES LESS THAN MAXVALUE) catches rows past
-- the last day and is kept empty: every lector adds the days ahead
-- (REORGANIZE of the empty pmax, instant) at start and daily.
-- Every unique key must hold the partitioning column: the primary key
-- becomes (cid, ts_ns) and by_seq (host_id, session, seq, ts_ns).  A
-- re-delivered record carries the same ts_ns, so INSERT IGNORE still stores
-- it once (tests/hosts/partitions.py).  cid stays unique: only lector
-- assigns it.
-- The first partition is the day of the oldest call (the lowest cid), at
-- most 31 days back; 7 days ahead of today (the database server's clock).
-- Cost: the ALTER copies the table once (partitioning is ALGORITHM=COPY),
-- keys and partitions in one statement; writes wait meanwhile (lectors
-- queue and spill).  docs/INSTALL.md, "Upgrade", says how long per million
-- rows and how much disk (bench/lector/part-migrate), and what to do with
-- a huge table (partition a new empty table, copy back by cid).  Safe to
-- run twice: a partitioned calls is left as is.
--
-- calls_retention: each lector's --retain-days (0: keeps its calls
-- forever), written by that lector at start; the partition rule is the
-- largest of them, and no day is dropped while any host keeps everything.
-- A host with a shorter retention deletes its own older rows, as before.
CREATE TABLE IF NOT EXISTS calls_retention (
  host_id      SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
  retain_days  INT UNSIGNED NOT NULL,
  updated_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;

BEGIN NOT ATOMIC
  DECLARE day_ns BIGINT UNSIGNED DEFAULT 86400000000000;
  DECLARE today BIGINT UNSIGNED DEFAULT UNIX_TIMESTAMP() DIV 86400;
  DECLARE first BIGINT UNSIGNED DEFAULT NULL;
  DECLARE d BIGINT UNSIGNED;
  DECLARE parts TEXT DEFAULT '';
  IF NOT EXISTS (SELECT 1 FROM information_schema.PARTITIONS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'calls'
                   AND PARTITION_NAME IS NOT NULL) THEN
    SELECT ts_ns DIV day_ns INTO first FROM calls ORDER BY cid LIMIT 1;
    SET first = GREATEST(LEAST(COALESCE(first, today), today), today - 31);
    SET d = first;
    WHILE d <= today + 7 DO
      SET parts = CONCAT(parts, 'PARTITION p', DATE_FORMAT(DATE('1970-01-01') + INTERVAL d DAY, '%Y%m%d'),
                         ' VALUES LESS THAN (', (d + 1) * day_ns, '), ');
      SET d = d + 1;
    END WHILE;
    EXECUTE IMMEDIATE CONCAT('ALTER TABLE calls DROP PRIMARY KEY, DROP KEY IF EXISTS by_seq, ',
                             'ADD PRIMARY KEY (cid, ts_ns), ADD UNIQUE KEY by_seq (host_id, session, seq, ts_ns) ',
                             'PARTITION BY RANGE (ts_ns) (', parts, 'PARTITION pmax VALUES LESS THAN MAXVALUE)');
  END IF;
END;
