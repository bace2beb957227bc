-- 010_server_commit_id.sql - a commit-ordered id on calls for the server:
-- the SSE stream's event ids and /api/calls keyset pagination.  lector is
-- the only writer and commits one transaction at a time, so AUTO_INCREMENT
-- values become visible in increasing order (gaps are harmless).
-- by_pid_cid serves "newest calls of one pid".  Safe to run twice.
ALTER TABLE calls
  ADD COLUMN IF NOT EXISTS cid BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  ADD UNIQUE KEY IF NOT EXISTS by_cid (cid),
  ADD KEY IF NOT EXISTS by_pid_cid (pid, cid);
