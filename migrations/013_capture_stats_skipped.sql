-- 013_capture_stats_skipped.sql - probe runs the producer skipped, next to
-- its drops: SystemTap's skipped_count() (reentrancy, low stack; the ring
-- header's skipped field) or the sum of the eBPF programs' recursion_misses.
-- A skipped run may have been a syscall memprobe does not record, so this is
-- an upper bound on events missing; they got no seq, so seq gaps miss them.
-- Safe to run twice.
ALTER TABLE capture_stats
  ADD COLUMN IF NOT EXISTS skipped BIGINT UNSIGNED NOT NULL DEFAULT 0;
