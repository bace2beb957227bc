-- 010_server_commit_id.sql - a commit-ordered id on calls for the server:
-- the SSE stream's event ids and /api/calls keyset pagination.  Every
-- lector (one per host, several may share the database) takes the named
-- lock 'memprobe.commit' (GET_LOCK) before its first INSERT and releases it
-- after COMMIT (lector/sink_mysql.c), so insert transactions run one at a
-- time across all writers and AUTO_INCREMENT values become visible in
-- increasing order (gaps are harmless).  Without the lock two lectors'
-- transactions interleave their cids and may commit in either order: the
-- server would skip the rows that became visible below an id it had
-- already passed (tests/hosts/run-tests shows it).
-- by_pid_cid serves "newest calls of one pid".  Safe to run twice.
ALTER TABLE calls
  ADD COLUMN IF NOT EXISTS cid BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  ADD UNIQUE KEY IF NOT EXISTS by_cid (cid),
  ADD KEY IF NOT EXISTS by_pid_cid (pid, cid);
