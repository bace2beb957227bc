-- 011_calls_fewer_indexes.sql - drop the calls indexes no query uses.
-- Every server query on calls reads by_cid or by_pid_cid (FORCE INDEX for
-- /api/calls and SSE; pid + start_ns for a process's series), and the
-- primary key serves lector's (host, session, seq).  by_time and
-- by_pid_time were only maintained: measured, they halved the insert rate
-- (bench/lector).  A time filter in /api/calls is applied while walking
-- by_cid, which is commit-ordered like ts_ns.  Safe to run twice.
ALTER TABLE calls
  DROP KEY IF EXISTS by_time,
  DROP KEY IF EXISTS by_pid_time;
