-- 002_events_index.sql: status reads the newest events of one domain and
-- metrics count events by type; without these both scan the whole log,
-- which only grows.  Also a view of the current chains with CloudStack's
-- columns, for operators used to its keystore table.
CREATE INDEX events_domain ON events (domain, id);
CREATE INDEX events_type ON events (type, result);

CREATE VIEW keystore_current AS
	SELECT k.id, k.name, k.certificate, k.key, k.domain_suffix, k.seq
	FROM keystore k JOIN domains d
	    ON k.domain_suffix = d.name AND k.generation = d.current;
