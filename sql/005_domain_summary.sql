-- 005_domain_summary.sql: what status, the systemd STATUS= line and the
-- expiry warnings need about a domain, kept on its own row, so that none
-- of them walks the keystore or the events for every domain.
--
-- not_after, subject, san, fingerprint: the current generation's server
-- certificate's, and chain_length its number of certificates, set whenever
-- the current generation changes (not_after is indexed: the soonest expiry
-- is one lookup).  outcome_*: how the last commit, rollback or reload of the
-- domain ended (ok, none, rolled-back, failed), with its message, the
-- generation current after it and when.
ALTER TABLE domains ADD COLUMN not_after INTEGER;
ALTER TABLE domains ADD COLUMN subject TEXT;
ALTER TABLE domains ADD COLUMN san TEXT;
ALTER TABLE domains ADD COLUMN fingerprint TEXT;
ALTER TABLE domains ADD COLUMN chain_length INTEGER NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN outcome TEXT;
ALTER TABLE domains ADD COLUMN outcome_message TEXT;
ALTER TABLE domains ADD COLUMN outcome_generation INTEGER;
ALTER TABLE domains ADD COLUMN outcome_at INTEGER;

UPDATE domains SET (not_after, subject, san, fingerprint) =
    (SELECT k.not_after, k.subject, k.san, k.fingerprint FROM keystore k
    WHERE k.domain_suffix = domains.name AND k.generation = domains.current
    AND k.kind = 'server');
UPDATE domains SET chain_length = (SELECT count(*) FROM keystore k
    WHERE k.domain_suffix = domains.name AND k.generation = domains.current);
-- Before this, only each dependent step was recorded: the newest one says
-- how the last run ended well enough.
UPDATE domains SET (outcome, outcome_message, outcome_generation,
    outcome_at) = (SELECT e.result, e.message, e.generation, e.at
    FROM events e WHERE e.domain = domains.name AND e.type = 'reload'
    ORDER BY e.id DESC LIMIT 1);

CREATE INDEX domains_not_after ON domains (not_after)
    WHERE not_after IS NOT NULL;
