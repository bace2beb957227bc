-- 018_calls_cid_primary.sql - calls clustered by cid: the primary key is
-- the commit-ordered id (migration 010) and (host_id, session, seq) stays
-- unique as by_seq, so INSERT IGNORE still stores a re-delivered record
-- once.  by_cid goes (the primary key is that index now); by_pid_cid stays
-- ("newest calls of one pid", a process's series) and shrinks: a secondary
-- index carries the primary key, 8 bytes of cid instead of 18 of
-- (host_id, session, seq).  Rows arrive in cid order, so the table and
-- by_seq (seq grows within a session) are appended to at their right edge.
-- Measured with bench/lector/variants (README, Storage): more rows/s
-- through lector's sink and fewer bytes per call than the old layout.
-- Every query on calls by cid names the primary key (FORCE INDEX (PRIMARY):
-- server/sse_batch.c, server/api_calls.c, lector/retain.c).
-- Cost: InnoDB rebuilds the table in place (ALGORITHM=INPLACE, LOCK=NONE:
-- reads and writes go on meanwhile, a moment of exclusive lock at the end);
-- about 20 s per million rows measured here, and free space for a second
-- copy of the table while it runs.  Safe to run twice: nothing happens once
-- cid is the primary key.
-- A calls table partitioned by ts_ns (docs/SCALE-OUT.md, partitioning)
-- cannot take these keys (every unique key must hold ts_ns): the migration
-- stops and says which keys to make by hand; once cid leads its primary
-- key, running it again does nothing.
BEGIN NOT ATOMIC
  IF NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'calls'
                   AND INDEX_NAME = 'PRIMARY' AND COLUMN_NAME = 'cid')
     AND EXISTS (SELECT 1 FROM information_schema.PARTITIONS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'calls'
                   AND PARTITION_NAME IS NOT NULL) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'calls is partitioned: make its keys by hand (ALTER TABLE calls DROP PRIMARY KEY, DROP KEY IF EXISTS by_cid, ADD PRIMARY KEY (cid, ts_ns), ADD UNIQUE KEY by_seq (host_id, session, seq, ts_ns); docs/SCALE-OUT.md, partitioning), then lector --migrate again';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'calls'
                   AND INDEX_NAME = 'PRIMARY' AND COLUMN_NAME = 'cid') THEN
    ALTER TABLE calls
      DROP PRIMARY KEY,
      DROP KEY IF EXISTS by_cid,
      ADD PRIMARY KEY (cid),
      ADD UNIQUE KEY IF NOT EXISTS by_seq (host_id, session, seq),
      ALGORITHM=INPLACE, LOCK=NONE;
  END IF;
END;
