-- 019_ledger.sql - the mapping ledger and time travel (README, "The mapping
-- ledger and time travel").  Safe to run twice; every change is instant in
-- MariaDB 10.4+ (ADD COLUMN with a default, a new table): no table copy.

-- Each live range as the call that made it: when, with which protection,
-- flags and file.  Ranges made by different calls are separate rows now
-- (lector kept adjacent ranges merged before): a leak hunt needs the age of
-- each one.  Rows stored before 019 keep created_ns 0 ("made before the
-- ledger"), as do ranges that lector restored from an older row.
-- via: the call that gave the range its place (mmap, or mremap for a moved
-- or grown range).
ALTER TABLE process_ranges
  ADD COLUMN IF NOT EXISTS created_ns   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS prot         INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS flags        INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS file_dev     INT UNSIGNED NOT NULL DEFAULT 0,   -- st_dev encoding
  ADD COLUMN IF NOT EXISTS file_ino     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS offset_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS via          ENUM('unknown','mmap','mremap') NOT NULL DEFAULT 'unknown';

-- The process's mapped_bytes (acct_mapped_bytes) after this call: the one
-- measure that cannot be folded from a checkpoint and the calls after it
-- without the ranges themselves.  0 in rows stored before 019.
ALTER TABLE calls
  ADD COLUMN IF NOT EXISTS mapped_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- A process's state after one of its calls (the call (session, seq) of
-- this host, at ts_ns), as its processes row held it then: written by
-- lector every --checkpoint-calls calls of the process, when a process that
-- made calls has had none for --checkpoint-secs, and at its exit, in the
-- transaction of that call.  The state at an instant T is the newest
-- checkpoint at or before T plus the calls after it (server/timetravel.c);
-- once --retain-days purged the calls, the checkpoints alone (sampled).
CREATE TABLE IF NOT EXISTS checkpoints (
  host_id          SMALLINT UNSIGNED NOT NULL,
  pid              INT UNSIGNED NOT NULL,
  start_ns         BIGINT UNSIGNED NOT NULL,
  ts_ns            BIGINT UNSIGNED NOT NULL,  -- of the last call folded in
  session          BIGINT UNSIGNED NOT NULL,  -- that call's (session, seq)
  seq              BIGINT UNSIGNED NOT NULL,
  uid              INT UNSIGNED NOT NULL,
  comm             VARBINARY(16) NOT NULL,
  exited           TINYINT(1) NOT NULL,
  net_bytes_raw    BIGINT NOT NULL,
  mapped_bytes     BIGINT UNSIGNED NOT NULL,
  vm_size_bytes    BIGINT UNSIGNED NOT NULL,
  requested_bytes  BIGINT UNSIGNED NOT NULL,
  heap_bytes       BIGINT UNSIGNED NOT NULL,
  heap_base_bytes  BIGINT UNSIGNED NOT NULL,
  heap_known       TINYINT(1) NOT NULL,
  n_mmap           BIGINT UNSIGNED NOT NULL,
  n_munmap         BIGINT UNSIGNED NOT NULL,
  n_mremap         BIGINT UNSIGNED NOT NULL,
  n_brk            BIGINT UNSIGNED NOT NULL,
  n_failed         BIGINT UNSIGNED NOT NULL,
  rss_anon_bytes   BIGINT UNSIGNED NOT NULL,
  rss_file_bytes   BIGINT UNSIGNED NOT NULL,
  rss_shmem_bytes  BIGINT UNSIGNED NOT NULL,
  swap_bytes       BIGINT UNSIGNED NOT NULL,
  rss_ts_ns        BIGINT UNSIGNED NOT NULL,
  cgroup_id        BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (host_id, pid, start_ns, ts_ns, session, seq),
  KEY by_time (host_id, ts_ns)
) ENGINE=InnoDB;
