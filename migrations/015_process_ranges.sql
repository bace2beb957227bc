-- 015_process_ranges.sql - a live process's mapped ranges (lector's resume
-- state for mapped_bytes) as one row per range, not one blob per process.
-- lector rewrote processes.mapped_ranges whole at every commit that touched
-- the process: one with 65k separate mappings making a call per commit
-- cost megabytes of writes per commit.  Now each commit writes only the
-- ranges that changed (lector/sink_mysql_ranges.c), and a restart reads
-- them back in key order.  Rows exist only for live processes: exit, exec
-- and pid reuse delete a process's rows in the commit that closes it.
-- The blobs of live processes become rows (little-endian (start, end) u64
-- pairs), then the column goes.  Safe to run twice.  The recursive counter
-- runs as many times as the longest blob has ranges (the session's
-- max_recursive_iterations, 1000 by default, would stop it silently, so it
-- is lifted for this statement), and the column is dropped only when every
-- range of every live process has its row.
CREATE TABLE IF NOT EXISTS process_ranges (
  host_id     SMALLINT UNSIGNED NOT NULL,
  pid         INT UNSIGNED NOT NULL,
  start_ns    BIGINT UNSIGNED NOT NULL,
  start_addr  BIGINT UNSIGNED NOT NULL,
  end_addr    BIGINT UNSIGNED NOT NULL,   -- exclusive
  PRIMARY KEY (host_id, pid, start_ns, start_addr)
) ENGINE=InnoDB;
BEGIN NOT ATOMIC
  DECLARE saved_iterations BIGINT UNSIGNED DEFAULT @@SESSION.max_recursive_iterations;
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE()
             AND table_name = 'processes' AND column_name = 'mapped_ranges') THEN
    SET SESSION max_recursive_iterations = 4294967295;
    INSERT IGNORE INTO process_ranges (host_id, pid, start_ns, start_addr, end_addr)
      WITH RECURSIVE k (i) AS (
        SELECT 0 UNION ALL SELECT i + 1 FROM k
        WHERE i + 1 < (SELECT MAX(LENGTH(mapped_ranges)) DIV 16 FROM processes WHERE exited = 0))
      SELECT p.host_id, p.pid, p.start_ns,
             CAST(CONV(HEX(REVERSE(SUBSTRING(p.mapped_ranges, 16 * k.i + 1, 8))), 16, 10) AS UNSIGNED),
             CAST(CONV(HEX(REVERSE(SUBSTRING(p.mapped_ranges, 16 * k.i + 9, 8))), 16, 10) AS UNSIGNED)
      FROM processes p JOIN k ON k.i < LENGTH(p.mapped_ranges) DIV 16
      WHERE p.exited = 0;
    SET SESSION max_recursive_iterations = saved_iterations;
    IF (SELECT COALESCE(SUM(LENGTH(mapped_ranges) DIV 16), 0) FROM processes WHERE exited = 0) >
       (SELECT COUNT(*) FROM process_ranges r JOIN processes p
          ON p.host_id = r.host_id AND p.pid = r.pid AND p.start_ns = r.start_ns WHERE p.exited = 0) THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
        'migration 015: fewer range rows than the blobs hold; processes.mapped_ranges is kept';
    END IF;
    ALTER TABLE processes DROP COLUMN mapped_ranges;
  END IF;
END;
