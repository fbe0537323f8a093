-- 001_initial.sql: the keystore (CloudStack's columns plus ours), the
-- generations of each domain, the staged uploads and the event log.
-- Times are unix seconds (UTC).  db.c runs this in one transaction.

-- One row per domain; current points at its current generation (NULL until
-- the first commit).  The pointer is a foreign key, so the current
-- generation can never be pruned away.
CREATE TABLE domains (
	name		TEXT PRIMARY KEY NOT NULL,
	current		INTEGER,
	created		INTEGER NOT NULL,
	FOREIGN KEY (name, current) REFERENCES generations (domain, generation)
	    DEFERRABLE INITIALLY DEFERRED
);

-- Generations are numbered per domain from 1 and never reused.
CREATE TABLE generations (
	domain		TEXT NOT NULL REFERENCES domains (name)
	    DEFERRABLE INITIALLY DEFERRED,
	generation	INTEGER NOT NULL CHECK (generation > 0),
	created		INTEGER NOT NULL,
	state		TEXT NOT NULL DEFAULT 'committed'
	    CHECK (state IN ('committed', 'rolled-back')),
	PRIMARY KEY (domain, generation)
);

-- CloudStack's keystore table (id, name, certificate, key, domain_suffix,
-- seq) plus what certd needs.  Every generation holds a complete copy of its
-- chain (root seq 1 .. server last), so a rollback is a pointer move and a
-- generation can be rendered again from its own rows.  key is the server's
-- private key in its stored form (common/key.c): sealed with AES-256-GCM
-- when the certd.key credential is given, else PKCS#8 PEM; NULL on CA rows.
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

-- Staged uploads live in their own table rather than as keystore rows with
-- a NULL generation: they are deltas over the current chain (an upload adds
-- or replaces one CA item), they never carry a key (the upload with the key
-- commits at once), and keeping them apart leaves every keystore row a
-- member of exactly one complete generation.
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

-- Commits, rejections, reloads, rollbacks and renders, for status and
-- metrics.  No foreign keys: the record outlives pruned generations.
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
