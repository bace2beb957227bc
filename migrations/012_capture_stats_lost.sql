-- 012_capture_stats_lost.sql - losses lector itself counts, next to the
-- producer's drops:
--   lost           records of this session lector read but could not keep
--                  (the spill file's disk full while the database was down);
--   lost_before    records of the previous session on this spill file that
--                  were read or still in the ring but never committed (that
--                  lector was killed), counted when this session started;
--   gap_before_ms  no lector captured between the previous session's last
--                  poll and this session's start: events in that window
--                  were not seen at all.
-- Safe to run twice.
ALTER TABLE capture_stats
  ADD COLUMN IF NOT EXISTS lost BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS lost_before BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS gap_before_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS prev_session BIGINT UNSIGNED NOT NULL DEFAULT 0;
