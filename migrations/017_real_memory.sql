-- 017_real_memory.sql - real memory (record ABI 2): what each call's
-- process held resident and in swap, which cgroup it ran in, which file a
-- mmap mapped; the OOM killer's victims; the names of cgroups and files.
-- Safe to run twice.  Adding columns with defaults to calls is instant in
-- MariaDB 10.4+ (no table copy), so an existing calls table costs nothing.

-- Each call as the record carried it (include/memprobe_abi.h, version 2).
-- Rows stored before ABI 2 keep 0 everywhere.
ALTER TABLE calls
  ADD COLUMN IF NOT EXISTS rss_anon_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_file_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_shmem_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS swap_bytes      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS cgroup_id       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS file_dev        INT UNSIGNED NOT NULL DEFAULT 0,   -- st_dev encoding
  ADD COLUMN IF NOT EXISTS file_ino        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rec_flags       SMALLINT UNSIGNED NOT NULL DEFAULT 0; -- MEMPROBE_REC_*

-- A process's memory as last known: from its latest record, or newer from
-- lector's sampler (/proc/PID/status between calls).  0 once it exited.
-- rss_ts_ns: wall-clock ns of that reading (0: never read); lector restates
-- unchanged values once a minute.
-- cgroup_id: the cgroup of its latest record (a process can move).
ALTER TABLE processes
  ADD COLUMN IF NOT EXISTS rss_anon_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_file_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_shmem_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS swap_bytes      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_ts_ns       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS cgroup_id       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rss_bytes       BIGINT UNSIGNED
      AS (rss_anon_bytes + rss_file_bytes + rss_shmem_bytes) PERSISTENT,
  ADD KEY IF NOT EXISTS by_rss (host_id, rss_bytes),
  ADD KEY IF NOT EXISTS by_cgroup (host_id, cgroup_id);

-- A cgroup v2 id (the inode of its directory) and what lector found for
-- it.  path: below the cgroup2 mount, "/" for the root; NULL when the
-- cgroup was gone (or unreadable) before lector looked.  name: what people
-- call it (a systemd unit, "docker:<12 hex>", "podman:<12 hex>",
-- "containerd:<12 hex>", "pod:<uid>", "host" for the root; the last path
-- element otherwise; "cgroup:<id>" when the path is unknown); kind says
-- which rule named it.  Ids are not reused while the machine runs (kernfs
-- ids are 64-bit, only growing); a reboot starts again, so rows are per
-- host and lector refreshes a row it sees again after a restart.
CREATE TABLE IF NOT EXISTS cgroups (
  host_id      SMALLINT UNSIGNED NOT NULL,
  cgroup_id    BIGINT UNSIGNED NOT NULL,
  path         VARBINARY(4096) NULL,
  name         VARBINARY(255) NOT NULL,
  kind         ENUM('host','systemd','docker','podman','containerd','kubernetes','cgroup','unknown') NOT NULL,
  resolved_ns  BIGINT UNSIGNED NOT NULL,  -- wall-clock ns of the lookup
  PRIMARY KEY (host_id, cgroup_id),
  KEY by_name (name)
) ENGINE=InnoDB;

-- A mapped file (st_dev, st_ino) and the path lector found for it.  path
-- NULL: not found (how says why).  An inode number is reused after its
-- file is deleted: lector looks a file up again when it meets it an hour
-- later, and a path found replaces the stored one; resolved_ns is the
-- last lookup.
CREATE TABLE IF NOT EXISTS files (
  host_id      SMALLINT UNSIGNED NOT NULL,
  file_dev     INT UNSIGNED NOT NULL,
  file_ino     BIGINT UNSIGNED NOT NULL,
  path         VARBINARY(4096) NULL,
  how          ENUM('maps','gone','not_in_maps','unreadable') NOT NULL,
  resolved_ns  BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (host_id, file_dev, file_ino)
) ENGINE=InnoDB;

-- One row per OOM kill (calls rows with syscall 'oom_kill', copied in the
-- same transaction so that listing them reads a small table, not calls).
CREATE TABLE IF NOT EXISTS oom_kills (
  host_id         SMALLINT UNSIGNED NOT NULL,
  session         BIGINT UNSIGNED NOT NULL,
  seq             BIGINT UNSIGNED NOT NULL,
  ts_ns           BIGINT UNSIGNED NOT NULL,
  pid             INT UNSIGNED NOT NULL,
  start_ns        BIGINT UNSIGNED NOT NULL,
  uid             INT UNSIGNED NOT NULL,
  comm            VARBINARY(16) NOT NULL,
  cgroup_id       BIGINT UNSIGNED NOT NULL,
  rss_anon_bytes  BIGINT UNSIGNED NOT NULL,
  rss_file_bytes  BIGINT UNSIGNED NOT NULL,
  rss_shmem_bytes BIGINT UNSIGNED NOT NULL,
  swap_bytes      BIGINT UNSIGNED NOT NULL,
  total_vm_bytes  BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (host_id, session, seq),
  KEY by_time (ts_ns)
) ENGINE=InnoDB;
