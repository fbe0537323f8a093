-- 004_commit_states.sql: what is current is what the services were
-- reloaded with and verified on.
--
-- A generation's state: pending (stored, maybe rendered, its dependents not
-- yet done), live (its dependents and verify passed, or it has none),
-- rolled-back (undone after a failed run, or left by a rollback), failed
-- (never complete on disk, or a first commit whose dependents failed).
--
-- domains.current is the last live generation.  domains.pending is the one
-- being made current (a new commit, or a rollback target); a crash or a
-- stop leaves it set, and the next start resolves it.  domains.unsettled
-- says the files may not be what the services loaded (a run did not
-- finish): the next start runs the dependents again.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- (db.c runs migrations with foreign keys off, then checks them).
CREATE TABLE generations_new (
	domain		TEXT NOT NULL REFERENCES domains (name)
	    DEFERRABLE INITIALLY DEFERRED,
	generation	INTEGER NOT NULL CHECK (generation > 0),
	created		INTEGER NOT NULL,
	state		TEXT NOT NULL DEFAULT 'pending'
	    CHECK (state IN ('pending', 'live', 'rolled-back', 'failed')),
	PRIMARY KEY (domain, generation)
);
INSERT INTO generations_new (domain, generation, created, state)
	SELECT domain, generation, created,
	    CASE state WHEN 'committed' THEN 'live' ELSE 'rolled-back' END
	FROM generations;
DROP TABLE generations;
ALTER TABLE generations_new RENAME TO generations;

ALTER TABLE domains ADD COLUMN pending INTEGER;
ALTER TABLE domains ADD COLUMN unsettled INTEGER NOT NULL DEFAULT 0;
-- Generation numbers are never reused, even when pruning (live ones first)
-- removes the newest: the last number given is kept here.
ALTER TABLE domains ADD COLUMN last_generation INTEGER NOT NULL DEFAULT 0;
UPDATE domains SET last_generation = (SELECT coalesce(max(generation), 0)
	FROM generations WHERE domain = domains.name);
-- Start-up finds the domains to recover without a scan.
CREATE INDEX domains_unsettled ON domains (unsettled) WHERE unsettled != 0;

-- Facts about the store as a whole.  "sealed": a key was once stored
-- sealed with the certd.key credential; from then on certd refuses to
-- store a key unsealed, so a start without the credential cannot quietly
-- write plaintext keys beside sealed ones.
CREATE TABLE meta (
	name		TEXT PRIMARY KEY NOT NULL,
	value		TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (name, value)
	SELECT 'sealed', '1' WHERE EXISTS
	    (SELECT 1 FROM keystore WHERE key LIKE 'certd-aes256gcm:%');
