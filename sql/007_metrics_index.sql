-- 007_metrics_index.sql: /metrics reports the expiry of every certificate
-- of every current chain.  A keystore row also carries the certificate
-- and key (about 2 KB), so reading only these columns from it reads the
-- whole table, 60 MB at 10,000 domains; this index holds just what
-- metrics reads, a few MB, and is looked up by domain and generation.
CREATE INDEX keystore_expiry ON keystore
    (domain_suffix, generation, seq, name, kind, not_after);
