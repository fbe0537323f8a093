/*
 * csr.c: certctl csr: certd makes a key on its host and answers a
 * certificate signing request for it; the key stays there, pending, until
 * the signed certificate is uploaded without a key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "certctl.h"
#include "util.h"

const char csr_synopsis[] =
"csr DOMAIN [--name N]... [--key-type T] [--out FILE]";

const char csr_help[] =
"	certd makes a new key on its host and answers a certificate signing\n"
"	request (CSR) for it, written to FILE (mode 0644) or to standard\n"
"	output.  The request's subject is CN=DOMAIN; its subjectAltName holds\n"
"	DOMAIN and each --name (a host name, or *.DOMAIN); it asks for a\n"
"	server certificate (CA:FALSE, serverAuth).  --key-type T: ec (P-256,\n"
"	the default), rsa2048 or rsa3072.\n"
"\n"
"	The key never leaves certd: it is kept pending (sealed with the\n"
"	certd.key credential when certd has it) until the certificate a CA\n"
"	signs for the request is uploaded without a key,\n"
"	    certctl upload DOMAIN --server CERT\n"
"	which validates and commits it with the pending key, as an upload\n"
"	with a key does; a certificate whose public key matches no pending\n"
"	key is E_KEY_MISMATCH.  certd keeps the newest 8 pending keys of a\n"
"	domain.\n";

/* Write the request where it goes; 0 or EXIT_USAGE. */
static int
csr_write(const char *path, const char *pem)
{
	size_t	 len = strlen(pem);
	int	 fd;

	if (path == NULL) {
		fputs(pem, stdout);
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 || write_all(fd, pem, len) == -1 ||
	    close(fd) == -1) {
		fprintf(stderr, "certctl: cannot write %s: %s\n", path,
		    strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

int
cmd_csr(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t		*body, *names, *ans;
	const char	*pem;
	char		 uri[1024], esc[DOMAIN_MAX * 3 + 1];
	int		 i, rc;

	body = json_object();
	names = json_array();
	for (i = 0; i < a->nhosts; i++)
		json_array_append_new(names, json_string(a->hosts[i]));
	json_object_set_new(body, "names", names);
	if (a->key_type != NULL)
		json_object_set_new(body, "key_type", json_string(a->key_type));
	uri_escape(a->domain, esc, sizeof(esc));
	snprintf(uri, sizeof(uri), API_DOMAINS "%s" API_D_CSR, esc);
	rc = ctl_request(c, "POST", uri, body, &ans);
	json_decref(body);
	if (rc != 0)
		return rc;
	if ((pem = jstr(ans, "csr", NULL)) == NULL) {
		fprintf(stderr, "certctl: the answer holds no CSR\n");
		json_decref(ans);
		return EXIT_DAEMON;
	}
	if (c->json && a->out == NULL) {
		json_decref(ans);
		return 0;
	}
	rc = csr_write(a->out, pem);
	if (rc == 0 && !c->json)
		fprintf(stderr, "certd made a new %s key for %s (%s) and keeps it "
		    "until its certificate comes back:\n    certctl upload %s "
		    "--server CERT\n", jstr(ans, "key_type", "?"), a->domain,
		    jstr(ans, "names", ""), a->domain);
	json_decref(ans);
	return rc;
}
