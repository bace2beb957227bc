-- 014_commit_lock.sql - the lock that orders the writers' commits (calls.cid,
-- migration 010) becomes a row that only writers can reach: the one row of
-- commit_order in the writers' own schema, named after the data schema with
-- "_lock" appended (memprobe_lock for memprobe).  lector/sink_mysql.c locks
-- it (SELECT ... FOR UPDATE) as the first statement of every insert
-- transaction, and COMMIT or ROLLBACK releases it.
-- Why not the named lock 'memprobe.commit' any more: GET_LOCK needs no
-- privilege, so any account of the server, the read-only one included,
-- could hold it and stall every lector.  A row lock needs a privilege on
-- its table, and in MariaDB a locking read needs only SELECT: the table
-- must therefore sit where the read-only account has no grant at all,
-- hence a schema of its own rather than a table next to the data.
-- The writer account usually may not create databases: an administrator
-- creates the schema and grants it to the writers (scripts/db-start.sh and
-- memprobe-db-setup do; by hand see docs/INSTALL.md); without it this
-- migration stops with that sentence.  Safe to run twice.
BEGIN NOT ATOMIC
  DECLARE lockdb VARCHAR(128) DEFAULT CONCAT(DATABASE(), '_lock');
  DECLARE msg VARCHAR(512);
  IF CHAR_LENGTH(lockdb) > 64 THEN
    SET msg = CONCAT('the database name ', DATABASE(), ' is too long: its lock schema ', lockdb,
                     ' exceeds 64 characters; use a database name of at most 59');
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = lockdb) THEN
    SET msg = CONCAT('the writers'' lock schema ', lockdb, ' is missing or not granted to ',
                     CURRENT_USER(), ': as an administrator run CREATE DATABASE ', lockdb,
                     ' and GRANT ALL ON ', lockdb, '.* to the writer account(s), then lector ',
                     '--migrate again (docs/INSTALL.md, upgrading)');
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  END IF;
  EXECUTE IMMEDIATE CONCAT('CREATE TABLE IF NOT EXISTS `', REPLACE(lockdb, '`', '``'),
                           '`.commit_order (id TINYINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB');
  EXECUTE IMMEDIATE CONCAT('INSERT IGNORE INTO `', REPLACE(lockdb, '`', '``'),
                           '`.commit_order (id) VALUES (1)');
END;
