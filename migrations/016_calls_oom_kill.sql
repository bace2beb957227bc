-- 016_calls_oom_kill.sql - the OOM killer's victims are calls too (record
-- ABI 2: MP_CALL_OOM_KILL = 7, from oom:mark_victim).  lector stores a
-- record's call as the ENUM's index, so the ENUM lists the names of
-- MEMPROBE_CALLS (include/memprobe_abi.h) in their order; appending a value
-- changes no stored index (MariaDB does it in place).  Safe to run twice.
ALTER TABLE calls
  MODIFY COLUMN syscall ENUM('mmap','munmap','mremap','brk','exec','exit','oom_kill') NOT NULL;
