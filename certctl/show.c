/*
 * show.c: certctl show FILE: a certificate, bundle, key, JKS or PKCS#12
 * file described in short, like keytool -list -v, with what Java would
 * make of each entry.  A key is its type and size, never its bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "certctl.h"
#include "proto.h"
#include "util.h"

static const char *
entry_type(const struct file_contents *fc, const struct file_cert *c)
{
	if (fc->kind == FILE_JKS)
		return "trustedCertEntry";
	if (fc->kind != FILE_PKCS12)
		return NULL;
	if (c->key_entry)
		return "PrivateKeyEntry (its certificate)";
	if (c->anchor)
		return "trustedCertEntry";
	return "certificate without Java's trusted attribute: Java ignores it";
}

/* Does each certificate follow the one it issued, or precede it? */
static const char *
bundle_order(const struct file_contents *fc)
{
	size_t	 i;
	int	 up = 1, down = 1;

	for (i = 1; i < fc->ncerts; i++) {
		up &= cert_issued_by(fc->certs[i - 1].cert,
		    fc->certs[i].cert) == 1;
		down &= cert_issued_by(fc->certs[i].cert,
		    fc->certs[i - 1].cert) == 1;
	}
	if (up)
		return "each certificate is followed by its issuer, the order "
		    "a server sends";
	if (down)
		return "root first, each certificate followed by one it "
		    "issued: the order of certctl upload --seq 1, 2, ...";
	return "not a chain in either order (certctl upload --bundle sorts "
	    "it; a server must send it leaf first)";
}

static void
print_key(FILE *f, const struct file_key *k, size_t ncerts)
{
	if (k->encrypted) {
		fprintf(f, "Private key: encrypted (a passphrase): a service "
		    "cannot start with it unattended, and certd refuses it; "
		    "remove it with: openssl pkey -in key.pem -out "
		    "key-nopass.pem\n");
		return;
	}
	fprintf(f, "Private key: %s, no passphrase", k->desc);
	if (k->cert >= 0)
		fprintf(f, ", the key of certificate [%d]\n", k->cert);
	else if (ncerts > 0)
		fprintf(f, ", the key of no certificate in this file\n");
	else
		fprintf(f, "\n");
}

static void
print_contents(FILE *f, const char *path, const struct file_contents *fc)
{
	const char	*type;
	time_t		 now = time(NULL);
	size_t		 i;

	fprintf(f, "%s: %s", path, files_kind_name(fc->kind));
	if (fc->ncerts > 0 || fc->nkeys + fc->nkeybags == 0)
		fprintf(f, ", %zu certificate%s", fc->ncerts, fc->ncerts == 1 ?
		    "" : "s");
	if (fc->nkeys + fc->nkeybags > 0)
		fprintf(f, ", %zu private key%s", fc->nkeys + fc->nkeybags,
		    fc->nkeys + fc->nkeybags == 1 ? "" : "s");
	if (fc->kind == FILE_JKS || fc->kind == FILE_PKCS12)
		fprintf(f, "; %s %s", fc->kind == FILE_JKS ? "digest" : "MAC",
		    fc->checked ? "checked" : "not checked (no --storepass)");
	fprintf(f, "\n");
	for (i = 0; i < fc->ncerts; i++) {
		fprintf(f, "\n[%zu]", i);
		if (fc->certs[i].alias != NULL)
			fprintf(f, " Alias name: %s", fc->certs[i].alias);
		if ((type = entry_type(fc, &fc->certs[i])) != NULL)
			fprintf(f, "%sEntry type: %s", fc->certs[i].alias !=
			    NULL ? "\n    " : " ", type);
		fprintf(f, "\n");
		describe_cert(f, fc->certs[i].cert, "    ", now);
	}
	if (fc->ncerts > 1 && fc->kind != FILE_JKS &&
	    fc->kind != FILE_PKCS12)
		fprintf(f, "\nOrder: %s.\n", bundle_order(fc));
	if (fc->nkeys > 0)
		fprintf(f, "\n");
	for (i = 0; i < fc->nkeys; i++)
		print_key(f, &fc->keys[i], fc->ncerts);
	if (fc->others[0] != '\0')
		fprintf(f, "\nAlso in the file, not described: %s\n",
		    fc->others);
}

static json_t *
contents_json(const char *path, const struct file_contents *fc)
{
	json_t		*certs = json_array(), *keys = json_array(), *x;
	const char	*type;
	time_t		 now = time(NULL);
	size_t		 i;

	for (i = 0; i < fc->ncerts; i++) {
		x = describe_cert_json(fc->certs[i].cert, now);
		if (fc->certs[i].alias != NULL)
			json_object_set_new(x, "alias",
			    json_string(fc->certs[i].alias));
		if ((type = entry_type(fc, &fc->certs[i])) != NULL)
			json_object_set_new(x, "entry_type",
			    json_string(type));
		json_object_set_new(x, "java_trusts",
		    json_boolean(fc->certs[i].anchor));
		json_array_append_new(certs, x);
	}
	for (i = 0; i < fc->nkeys; i++)
		json_array_append_new(keys, json_pack("{s:s, s:b, s:o}",
		    "key", fc->keys[i].desc, "encrypted",
		    fc->keys[i].encrypted, "certificate", fc->keys[i].cert >=
		    0 ? json_integer(fc->keys[i].cert) : json_null()));
	return json_pack("{s:s, s:s, s:b, s:o, s:o, s:I}", "file", path,
	    "type", files_kind_name(fc->kind), "checked", fc->checked,
	    "certificates", certs, "keys", keys, "key_bags",
	    (json_int_t)fc->nkeybags);
}

int
show_file(struct ctl *c, const char *path, const char *storepass)
{
	struct file_contents	 fc;
	json_t			*o;
	char			 err[512];

	if (files_read(path, storepass, &fc, err, sizeof(err)) == -1) {
		fprintf(stderr, "certctl: %s: %s\n", path, err);
		return EXIT_USAGE;
	}
	if (fc.locked) {
		fprintf(stderr, "certctl: %s: its certificates are encrypted: "
		    "give --storepass\n", path);
		files_free(&fc);
		return EXIT_USAGE;
	}
	if (c->json) {
		o = contents_json(path, &fc);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else
		print_contents(stdout, path, &fc);
	files_free(&fc);
	return 0;
}
