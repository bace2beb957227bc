-- 022_snapshots.sql - host snapshots for time travel (README, "The mapping
-- ledger and time travel").  Safe to run twice; a new table: no copy.

-- The state of every live process of a host at one point of lector's
-- stream: right after the call (session, seq) of this host, whose ts_ns is
-- the newest ts_ns lector had folded in that session by then (so every call
-- in the snapshot is at or before ts_ns).  lector writes one, in the
-- transaction of that call, each time the host made --snapshot-calls calls
-- per process lector holds since the last one (lector/checkpoint.c,
-- snap_after): a snapshot costs about one row per --snapshot-calls calls.
-- The state at an instant T is then the host's newest snapshot at or
-- before T and the calls lector wrote after its call (one range of cids),
-- instead of one lookup per process (server/tt_snap.c).  The columns are the checkpoints'
-- (019) and the process's last_seen_ns; ts_ns, session and seq are the
-- snapshot's, the same for all its rows, so its rows lie together.
CREATE TABLE IF NOT EXISTS snapshots (
  host_id          SMALLINT UNSIGNED NOT NULL,
  ts_ns            BIGINT UNSIGNED NOT NULL,  -- newest call folded in
  session          BIGINT UNSIGNED NOT NULL,  -- the call it was taken at
  seq              BIGINT UNSIGNED NOT NULL,
  pid              INT UNSIGNED NOT NULL,
  start_ns         BIGINT UNSIGNED NOT NULL,
  last_seen_ns     BIGINT UNSIGNED NOT NULL,
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
  PRIMARY KEY (host_id, ts_ns, session, seq, pid, start_ns)
) ENGINE=InnoDB;
