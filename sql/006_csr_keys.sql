-- 006_csr_keys.sql: keys certd made on the host for a certificate signing
-- request (POST /v1/domains/D/csr), and who made each change.
--
-- A pending key waits here until a certificate for its public key comes
-- back without a key; the commit that stores it (in the keystore row of
-- the new generation) deletes the pending row in the same transaction, so
-- the key is never in both places, nor in neither.  No foreign key: a CSR
-- may come before the domain's first upload, and a domain row exists only
-- for staged items or generations.  key is in its stored form (key.c):
-- sealed with the certd.key credential when certd has it, with "csr:" and
-- spki as the associated data, so a sealed pending key copied into a
-- keystore row does not open there.
CREATE TABLE csr_keys (
	id		INTEGER PRIMARY KEY,
	domain		TEXT NOT NULL,
	spki		TEXT NOT NULL,	-- SHA-256 of the public key's DER, hex
	key		TEXT NOT NULL,
	key_type	TEXT NOT NULL,	-- "EC P-256", "RSA 3072"
	names		TEXT NOT NULL,	-- the request's subjectAltName
	created		INTEGER NOT NULL,
	actor		TEXT NOT NULL DEFAULT '',
	UNIQUE (domain, spki)
);

-- Who asked for what an event records: "uid 0" for a peer of the control
-- socket, the verified client certificate's subject for a TLS peer, ''
-- for certd itself (the recovery at start).
ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
