-- tests/unit/db-v1.sql: a certd database as schema version 1 left it, with
-- one commit (old.example, generation 1) and three events.  Frozen: made
-- once by `sqlite3 .dump` from sql/001_initial.sql as of commit 6278877
-- (schema v1 as released), and never regenerated.  test_db builds its v1
-- database from this file, not from sql/001_initial.sql, so that an edit to
-- 001 (which existing databases never see) cannot hide from the migration
-- test: schema changes belong in a new sql/NNN_*.sql.
PRAGMA user_version = 1;
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE domains (
	name		TEXT PRIMARY KEY NOT NULL,
	current		INTEGER,
	created		INTEGER NOT NULL,
	FOREIGN KEY (name, current) REFERENCES generations (domain, generation)
	    DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO domains VALUES('old.example',1,10);
CREATE TABLE generations (
	domain		TEXT NOT NULL REFERENCES domains (name)
	    DEFERRABLE INITIALLY DEFERRED,
	generation	INTEGER NOT NULL CHECK (generation > 0),
	created		INTEGER NOT NULL,
	state		TEXT NOT NULL DEFAULT 'committed'
	    CHECK (state IN ('committed', 'rolled-back')),
	PRIMARY KEY (domain, generation)
);
INSERT INTO generations VALUES('old.example',1,10,'committed');
CREATE TABLE keystore (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	certificate	TEXT NOT NULL,
	key		TEXT,
	domain_suffix	TEXT NOT NULL,
	seq		INTEGER NOT NULL CHECK (seq > 0),
	kind		TEXT NOT NULL
	    CHECK (kind IN ('root', 'intermediate', 'server')),
	fingerprint	TEXT NOT NULL,		-- SHA-256 of the DER, hex
	subject		TEXT NOT NULL,
	issuer		TEXT NOT NULL,
	serial		TEXT NOT NULL,
	san		TEXT NOT NULL DEFAULT '',
	not_before	INTEGER NOT NULL,
	not_after	INTEGER NOT NULL,
	generation	INTEGER NOT NULL,
	created		INTEGER NOT NULL,	-- first uploaded
	updated		INTEGER NOT NULL,	-- this row written
	UNIQUE (domain_suffix, generation, seq),
	UNIQUE (domain_suffix, generation, name),
	FOREIGN KEY (domain_suffix, generation)
	    REFERENCES generations (domain, generation) ON DELETE CASCADE
);
INSERT INTO keystore VALUES(1,'root','PEM',NULL,'old.example',1,'root','ff','CN=r','CN=r','01','',1,2,1,10,10);
CREATE TABLE staged (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	certificate	TEXT NOT NULL,
	domain_suffix	TEXT NOT NULL REFERENCES domains (name)
	    DEFERRABLE INITIALLY DEFERRED,
	seq		INTEGER NOT NULL CHECK (seq > 0),
	kind		TEXT NOT NULL CHECK (kind IN ('root', 'intermediate')),
	fingerprint	TEXT NOT NULL,
	subject		TEXT NOT NULL,
	issuer		TEXT NOT NULL,
	serial		TEXT NOT NULL,
	san		TEXT NOT NULL DEFAULT '',
	not_before	INTEGER NOT NULL,
	not_after	INTEGER NOT NULL,
	created		INTEGER NOT NULL,
	updated		INTEGER NOT NULL,
	UNIQUE (domain_suffix, name),
	UNIQUE (domain_suffix, seq)
);
CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	domain		TEXT NOT NULL DEFAULT '',
	generation	INTEGER NOT NULL DEFAULT 0,
	type		TEXT NOT NULL,
	result		TEXT NOT NULL,
	step		TEXT NOT NULL DEFAULT '',
	dependent	TEXT NOT NULL DEFAULT '',
	duration_ms	INTEGER NOT NULL DEFAULT 0,
	message		TEXT NOT NULL DEFAULT ''
);
INSERT INTO events VALUES(1,10,'old.example',0,'reject','E_ORDER','','',0,'');
INSERT INTO events VALUES(2,11,'old.example',0,'reject','E_ORDER','','',0,'');
INSERT INTO events VALUES(3,12,'old.example',0,'commit','ok','','',0,'');
COMMIT;
