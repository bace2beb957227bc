-- 020_cid_leases.sql - the writers stop committing one at a time: each
-- lector reserves a block of cids before its data transaction and the
-- server streams only up to the lowest block still in flight
-- (lector/sink_mysql_lease.c, server/watermark.c; docs/SCALE-OUT.md).
--
-- <db>_lock.cid_alloc: one row, the next cid to hand out.  A lector takes
-- n cids with UPDATE ... SET next = LAST_INSERT_ID(next + n) in a short
-- transaction of its own, so blocks are handed out in increasing order,
-- one allocation at a time (the row lock is held only for that short
-- transaction, never during the data transaction).  It sits in the
-- writers' schema of migration 014 for the same reason commit_order did:
-- in MariaDB an account with SELECT on a row can lock it, and the reader
-- must not be able to stall the allocation.
--
-- cid_leases: one row per lector (host_id, and lector_id, random per lector
-- process: two lectors of one host name, a restart that overlaps the old
-- lector's drain, must not clear each other's lease), the block it holds (lo..hi) and
-- whether a data transaction with those cids may still commit (live = 1,
-- since made, UTC).  The allocation transaction sets it live, the data
-- transaction clears it in the same commit as its rows.  The reader reads
-- it: the watermark is the lowest lo of a live lease minus 1, or the
-- highest hi when none is live; a live lease older than the server's
-- expiry is a dead lector's and is ignored.
--
-- commit_order (014) stays: no lector locks it any more, dropping it would
-- gain nothing, and its schema is still the one only writers can reach.
-- calls.cid keeps its AUTO_INCREMENT (rows inserted by hand or by tests
-- still get one), but lector inserts explicit cids from its block: every
-- lector writing a database must be of this version or newer (an older
-- lector refuses a schema newer than it knows, db/migrate.c).
-- Safe to run twice.
BEGIN NOT ATOMIC
  DECLARE lockdb VARCHAR(128) DEFAULT CONCAT(DATABASE(), '_lock');
  DECLARE q VARCHAR(200) DEFAULT CONCAT('`', REPLACE(lockdb, '`', '``'), '`');
  DECLARE msg VARCHAR(512);
  IF NOT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = lockdb) THEN
    SET msg = CONCAT('the writers'' lock schema ', lockdb, ' is missing or not granted to ',
                     CURRENT_USER(), ': as an administrator run CREATE DATABASE ', lockdb,
                     ' and GRANT ALL ON ', lockdb, '.* to the writer account(s), then lector ',
                     '--migrate again (docs/INSTALL.md, upgrading)');
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  END IF;
  EXECUTE IMMEDIATE CONCAT('CREATE TABLE IF NOT EXISTS ', q, '.cid_alloc (',
                           'id TINYINT UNSIGNED NOT NULL PRIMARY KEY, ',
                           'next BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB');
  EXECUTE IMMEDIATE CONCAT('INSERT IGNORE INTO ', q, '.cid_alloc (id, next) ',
                           'SELECT 1, COALESCE(MAX(cid), 0) + 1 FROM calls');
END;

CREATE TABLE IF NOT EXISTS cid_leases (
  host_id   SMALLINT UNSIGNED NOT NULL,
  lector_id BIGINT UNSIGNED NOT NULL,
  lo        BIGINT UNSIGNED NOT NULL,
  hi        BIGINT UNSIGNED NOT NULL,
  live      TINYINT(1) NOT NULL,
  made      DATETIME(6) NOT NULL,  -- UTC_TIMESTAMP(6) of the allocation
  PRIMARY KEY (host_id, lector_id)
) ENGINE=InnoDB;
