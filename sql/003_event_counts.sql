-- 003_event_counts.sql: running totals of the events, by type, domain,
-- result and dependent.  db.c keeps only the newest events (a management
-- server retrying a bad upload forever must not grow the file without
-- bound), and these totals are what /metrics reports: counters that never
-- go backwards when old events go, read without scanning the log.
-- Seeded from the events recorded so far.
CREATE TABLE event_counts (
	type		TEXT NOT NULL,
	domain		TEXT NOT NULL,
	result		TEXT NOT NULL,
	dependent	TEXT NOT NULL,
	n		INTEGER NOT NULL,
	PRIMARY KEY (type, domain, result, dependent)
) WITHOUT ROWID;

INSERT INTO event_counts (type, domain, result, dependent, n)
	SELECT type, domain, result, dependent, count(*) FROM events
	GROUP BY type, domain, result, dependent;
