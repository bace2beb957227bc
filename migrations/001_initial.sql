-- 001_initial.sql - hosts, calls, processes, capture_stats.
-- Sizes in bytes, BIGINT.  Names are VARBINARY: a comm may hold any byte
-- but NUL and is stored verbatim.  Safe to run twice (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS hosts (
  host_id          SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name             VARBINARY(64) NOT NULL,
  mem_total_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  swap_total_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  first_seen       TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_seen        TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (host_id),
  UNIQUE KEY by_name (name)
) ENGINE=InnoDB;

-- Every captured call.  (host_id, session, seq) is unique: re-delivery of
-- a record is harmless (INSERT IGNORE).
CREATE TABLE IF NOT EXISTS calls (
  host_id        SMALLINT UNSIGNED NOT NULL,
  session        BIGINT UNSIGNED NOT NULL,
  seq            BIGINT UNSIGNED NOT NULL,
  ts_ns          BIGINT UNSIGNED NOT NULL,
  pid            INT UNSIGNED NOT NULL,
  tid            INT UNSIGNED NOT NULL,
  uid            INT UNSIGNED NOT NULL,
  start_ns       BIGINT UNSIGNED NOT NULL,
  comm           VARBINARY(16) NOT NULL,
  thread_comm    VARBINARY(16) NOT NULL,
  syscall        ENUM('mmap','munmap','mremap','brk','exec','exit') NOT NULL,
  addr           BIGINT UNSIGNED NOT NULL,
  len_bytes      BIGINT UNSIGNED NOT NULL,
  new_addr       BIGINT UNSIGNED NOT NULL,
  new_len_bytes  BIGINT UNSIGNED NOT NULL,
  offset_bytes   BIGINT UNSIGNED NOT NULL,
  prot           INT UNSIGNED NOT NULL,
  flags          INT UNSIGNED NOT NULL,
  fd             INT NOT NULL,
  result         BIGINT NOT NULL,
  total_vm_bytes BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (host_id, session, seq),
  KEY by_time (ts_ns),
  KEY by_pid_time (host_id, pid, ts_ns)
) ENGINE=InnoDB;

-- One row per process (pids are reused: start_ns is part of the key).
CREATE TABLE IF NOT EXISTS processes (
  host_id          SMALLINT UNSIGNED NOT NULL,
  pid              INT UNSIGNED NOT NULL,
  start_ns         BIGINT UNSIGNED NOT NULL,
  uid              INT UNSIGNED NOT NULL,
  comm             VARBINARY(16) NOT NULL,
  first_seen_ns    BIGINT UNSIGNED NOT NULL,
  last_seen_ns     BIGINT UNSIGNED NOT NULL,
  exited           TINYINT(1) NOT NULL DEFAULT 0,
  net_bytes        BIGINT UNSIGNED NOT NULL,  -- course formula, clamped at 0
  net_bytes_raw    BIGINT NOT NULL,           -- the same, unclamped
  mapped_bytes     BIGINT UNSIGNED NOT NULL,
  vm_size_bytes    BIGINT UNSIGNED NOT NULL,  -- kernel total_vm at the last event
  requested_bytes  BIGINT UNSIGNED NOT NULL,  -- sum of successful mmap lengths
  heap_bytes       BIGINT UNSIGNED NOT NULL,
  heap_base_bytes  BIGINT UNSIGNED NOT NULL,
  heap_known       TINYINT(1) NOT NULL,
  n_mmap           BIGINT UNSIGNED NOT NULL,
  n_munmap         BIGINT UNSIGNED NOT NULL,
  n_mremap         BIGINT UNSIGNED NOT NULL,
  n_brk            BIGINT UNSIGNED NOT NULL,
  n_failed         BIGINT UNSIGNED NOT NULL,
  mapped_ranges    LONGBLOB NOT NULL,         -- (start,end) u64 LE pairs: resume state
  PRIMARY KEY (host_id, pid, start_ns),
  KEY by_live (host_id, exited, last_seen_ns),
  KEY by_requested (host_id, requested_bytes)
) ENGINE=InnoDB;

-- Per capture session: what the producer saw and dropped, and where the
-- committed stream stands (resume point after a restart).
CREATE TABLE IF NOT EXISTS capture_stats (
  host_id         SMALLINT UNSIGNED NOT NULL,
  session         BIGINT UNSIGNED NOT NULL,
  source          VARCHAR(16) NOT NULL,
  committed_seq   BIGINT UNSIGNED NOT NULL,
  rows_committed  BIGINT UNSIGNED NOT NULL,
  seen            BIGINT UNSIGNED NOT NULL,
  drops           BIGINT UNSIGNED NOT NULL,
  queued          BIGINT UNSIGNED NOT NULL,
  spilled_total   BIGINT UNSIGNED NOT NULL,
  lag_ms          BIGINT UNSIGNED NOT NULL,
  rate_eps        DOUBLE NOT NULL,
  started_at      TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at      TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (host_id, session)
) ENGINE=InnoDB;
