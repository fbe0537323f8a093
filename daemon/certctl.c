/*
 * certctl.c: the admin's command line over certd's control socket: parses
 * the command, sends one HTTP request, prints the answer (SPEC §8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "proto.h"
#include "util.h"
#include "certctl.h"

#define CTL_ITEM_MAX	(64 * 1024)	/* SPEC §4: 64 KiB per item */
#define CTL_BUNDLE_MAX	(512 * 1024)	/* a whole chain, under the body cap */

struct ctl {
	const char	*sock;
	int		 json;
	int		 timeout;
	const char	*keyfile;	/* for the E_KEY_ENCRYPTED hint */
};

struct cmd {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*synopsis;
	const char	*help;
};

static int	cmd_status(struct ctl *, int, char **);
static int	cmd_show(struct ctl *, int, char **);
static int	cmd_upload(struct ctl *, int, char **);
static int	cmd_discard(struct ctl *, int, char **);
static int	cmd_rollback(struct ctl *, int, char **);
static int	cmd_render(struct ctl *, int, char **);
static int	cmd_reload(struct ctl *, int, char **);

static const struct cmd cmds[] = {
	{ "status", cmd_status, "status",
"	Every domain with its current generation, state (ok, staged,\n"
"	expiring, expired, failed), the server certificate's expiry, days\n"
"	left and subject; then each dependent's last reload result.\n" },
	{ "show", cmd_show, "show DOMAIN",
"	Each certificate of DOMAIN's current chain, like keytool -list -v:\n"
"	alias (item name), seq, kind, owner, issuer, serial number,\n"
"	validity, subject alternative names and SHA-256 fingerprint; then\n"
"	staged items, kept generations and recent events.  Never a key.\n" },
	{ "upload", cmd_upload,
"upload DOMAIN --name NAME --seq K FILE\n"
"       upload DOMAIN [--name NAME] [--seq K] --server CERT --key KEY\n"
"       upload DOMAIN --bundle FILE --key KEY",
"	The first form stages one CA certificate: the root at seq 1,\n"
"	intermediates at seq 2, 3, ...  Re-uploading a NAME replaces it.\n"
"	Nothing is served until the server certificate arrives.\n"
"\n"
"	The second form uploads the server certificate with its key\n"
"	(NAME defaults to \"server\", K to the seq after the last CA\n"
"	certificate, or the server's own seq when renewing).  certd\n"
"	validates the whole staged chain, commits it as a new\n"
"	generation, writes the files, runs the dependents and verifies\n"
"	what they serve.  certctl waits for all of it and prints the\n"
"	result; if a dependent fails, certd rolls back and certctl exits 1.\n"
"\n"
"	The third form uploads a whole chain in any order (certd orders it\n"
"	by issuer) with the key, and commits it in one step.\n"
"\n"
"	Files may be PEM or DER, at most 64 KiB each.  Keys must not have a\n"
"	passphrase: services start unattended.\n" },
	{ "discard", cmd_discard, "discard DOMAIN",
"	Drop DOMAIN's staged, uncommitted items.  Exits 1 (E_NOT_FOUND)\n"
"	when nothing was staged.\n" },
	{ "rollback", cmd_rollback, "rollback DOMAIN [GENERATION]",
"	Make a kept generation current again (default: the previous one),\n"
"	then run the dependents as after a commit.\n" },
	{ "render", cmd_render, "render DOMAIN",
"	Write DOMAIN's current generation's files again from the database.\n" },
	{ "reload", cmd_reload, "reload [DEPENDENT]",
"	Run the dependents (all, or the one named) by hand: configtest,\n"
"	reload, verify.\n" },
};

static const char usage_head[] =
"NAME\n"
"	certctl - control certd, the certificate provisioning daemon\n"
"\n"
"SYNOPSIS\n"
"	certctl [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]\n"
"	certctl COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"	certctl talks HTTP/1.1 with JSON to certd over its control socket.\n"
"	Changing anything needs uid 0 or membership in certd's admin_group;\n"
"	anybody may read status.\n"
"\n"
"OPTIONS\n"
"	-s, --socket SOCKET\n"
"		The control socket (default $CERTD_SOCKET, else\n"
"		" CTL_SOCKET_DEFAULT ").\n"
"	-t, --timeout SECONDS\n"
"		Give up waiting for an answer after SECONDS (default 300: a\n"
"		committing upload waits for reloads and verification).\n"
"	--json\n"
"		Print the daemon's JSON answer as is (also for errors).\n"
"	-h, --help\n"
"		This text.  --version prints the version.\n"
"\n"
"COMMANDS\n";

static const char usage_tail[] =
"EXIT STATUS\n"
"	0	done\n"
"	1	rejected: the error code is printed (certctl: E_CODE: message\n"
"		(item NAME, seq K)); also when a commit was rolled back or a\n"
"		reload failed, since the served files did not change\n"
"	2	usage error, or an input file cannot be read\n"
"	3	certd unreachable: the socket is missing or refuses\n"
"	4	daemon error: HTTP 5xx, a garbled answer, or a timeout\n"
"\n"
"ENVIRONMENT\n"
"	CERTD_SOCKET	the control socket, unless -s is given\n"
"\n"
"EXAMPLES\n"
"	The CloudStack sequence: root, intermediate, then the server\n"
"	certificate with its key, which commits generation 1:\n"
"\n"
"	    certctl upload example.com --name root --seq 1 root.pem\n"
"	    certctl upload example.com --name intermediate --seq 2 inter.pem\n"
"	    certctl upload example.com --name server --server server.pem \\\n"
"	        --key server.key\n"
"\n"
"	Renewal is one upload of the new server certificate; going back is\n"
"	one command:\n"
"\n"
"	    certctl upload example.com --server new.pem --key new.key\n"
"	    certctl rollback example.com\n"
"\n"
"	A key with a passphrase is refused (E_KEY_ENCRYPTED); remove it:\n"
"\n"
"	    openssl pkey -in server.key -out server-nopass.key\n"
"\n"
"SEE ALSO\n"
"	certd(8), curl --unix-socket SOCKET http://certd/v1/status\n";

/* Each line of text, leading blanks replaced by prefix. */
static void
print_indented(FILE *f, const char *text, const char *prefix)
{
	const char	*eol;

	while (*text != '\0') {
		while (*text == ' ' || *text == '\t')
			text++;
		if ((eol = strchr(text, '\n')) == NULL)
			eol = text + strlen(text);
		if (eol > text)
			fprintf(f, "%s%.*s", prefix, (int)(eol - text), text);
		fputc('\n', f);
		text = *eol == '\n' ? eol + 1 : eol;
	}
}

static void
print_cmd_help(FILE *f, const struct cmd *c, int full)
{
	if (full) {
		print_indented(f, c->synopsis, "\t");
		print_indented(f, c->help, "\t\t");
		fputc('\n', f);
		return;
	}
	fprintf(f, "SYNOPSIS\n");
	print_indented(f, c->synopsis, "\tcertctl ");
	fprintf(f, "\nDESCRIPTION\n");
	print_indented(f, c->help, "\t");
	fprintf(f, "\nSee certctl --help for the global options and exit "
	    "status.\n");
}

static void
usage_full(FILE *f)
{
	size_t	 i;

	fputs(usage_head, f);
	for (i = 0; i < nitems(cmds); i++)
		print_cmd_help(f, &cmds[i], 1);
	fputs(usage_tail, f);
}

static int
usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 i;

	fprintf(stderr, "certctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (i = 0; cmd != NULL && i < nitems(cmds); i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			print_indented(stderr, cmds[i].synopsis,
			    "usage: certctl ");
	if (cmd != NULL)
		fprintf(stderr, "Try 'certctl %s --help'.\n", cmd);
	else
		fprintf(stderr, "Try 'certctl --help'.\n");
	return EXIT_USAGE;
}

/*
 * jansson's allocations hold the private key (the request body) for a
 * moment: clear every block before it goes back to malloc.
 */
union secure_hdr {
	size_t		 n;
	max_align_t	 align;
};

static void *
secure_malloc(size_t n)
{
	union secure_hdr	*h;

	if (n > SIZE_MAX - sizeof(*h) || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void
secure_free(void *p)
{
	union secure_hdr	*h;

	if (p == NULL)
		return;
	h = (union secure_hdr *)p - 1;
	OPENSSL_cleanse(p, h->n);
	free(h);
}

/* Print an error answer; returns the exit code it means. */
static int
answer_error(struct ctl *c, struct http_reply *r, json_t *a)
{
	json_t		*e = json_object_get(a, "error");
	const char	*code = jstr(e, "code", NULL);

	if (a == NULL) {
		fprintf(stderr, "certctl: the daemon answered HTTP %d with no "
		    "JSON error (%.200s)\n", r->status, r->body);
		return EXIT_DAEMON;
	}
	print_api_error(stderr, a, r->status);
	if (code != NULL && strcmp(code, "E_KEY_ENCRYPTED") == 0 &&
	    strstr(jstr(e, "message", ""), "openssl") == NULL)
		fprintf(stderr, "certctl: remove the passphrase with: openssl "
		    "pkey -in %s -out %s.nopass\n", c->keyfile != NULL ?
		    c->keyfile : "KEY", c->keyfile != NULL ? c->keyfile : "KEY");
	if (code != NULL && strcmp(code, "E_FORBIDDEN") == 0)
		fprintf(stderr, "certctl: changing certd needs uid 0 or "
		    "membership in its admin_group\n");
	if (r->status >= 500 || code == NULL || cert_code_from_name(code) < 0)
		return EXIT_DAEMON;
	return EXIT_REJECTED;
}

/*
 * One request.  Returns 0 with *answer (a JSON object, caller frees) or an
 * exit code, having printed why.  Flags: CTL_RAW prints the answer in
 * --json mode; CTL_QUIET says nothing about a rejection (4xx).
 */
#define CTL_RAW		0x1
#define CTL_QUIET	0x2
static int
ctl_request(struct ctl *c, const char *method, const char *uri, json_t *body,
    int flags, json_t **answer)
{
	struct http_reply	 r;
	json_error_t		 jerr;
	json_t			*a = NULL;
	char			*req = NULL, err[512];
	int			 rc;

	*answer = NULL;
	if (body != NULL && (req = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "certctl: cannot encode the request\n");
		return EXIT_USAGE;
	}
	rc = http_call(c->sock, method, uri, req, req != NULL ? strlen(req) :
	    0, c->timeout, &r, err, sizeof(err));
	secure_free(req);	/* json_dumps used secure_malloc */
	if (rc != 0) {
		fprintf(stderr, "certctl: %s\n", err);
		return rc;
	}
	if (r.len > 0)
		a = json_loadb(r.body, r.len, 0, &jerr);
	if (a != NULL && !json_is_object(a)) {
		json_decref(a);
		a = NULL;
	}
	if (c->json && (flags & CTL_RAW)) {
		fwrite(r.body, 1, r.len, stdout);
		if (r.len == 0 || r.body[r.len - 1] != '\n')
			putchar('\n');
	}
	if ((flags & CTL_QUIET) && r.status >= 400 && r.status < 500) {
		json_decref(a);
		http_reply_free(&r);
		return EXIT_REJECTED;
	}
	if (r.status < 200 || r.status >= 300) {
		rc = answer_error(c, &r, a);
		json_decref(a);
		http_reply_free(&r);
		return rc;
	}
	if (a == NULL) {
		fprintf(stderr, "certctl: the daemon's answer is not a JSON "
		    "object (HTTP %d): %.200s\n", r.status, r.body);
		http_reply_free(&r);
		return EXIT_DAEMON;
	}
	http_reply_free(&r);
	*answer = a;
	return 0;
}

/* "/v1/domains/<escaped>suffix" */
static int
domain_uri(const char *domain, const char *suffix, char *out, size_t outlen)
{
	char	 esc[DOMAIN_MAX * 3 + 1];
	int	 n;

	if (*domain == '\0' || strlen(domain) > DOMAIN_MAX ||
	    uri_escape(domain, esc, sizeof(esc)) == -1)
		return -1;
	n = snprintf(out, outlen, API_DOMAINS "%s%s", esc, suffix);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * Options shared by the commands: --json and --help.  Leaves the
 * positional arguments in argv[optind..].  Returns -1 to go on, or an exit
 * code (help printed: 0; usage error: 2).
 */
enum { OPT_JSON = 256, OPT_HELP, OPT_NAME, OPT_SEQ, OPT_SERVER, OPT_KEY,
    OPT_BUNDLE };

static int
cmd_opts(struct ctl *c, const struct cmd *cmd, int argc, char **argv,
    const struct option *extra, int (*each)(int, const char *, void *),
    void *arg)
{
	struct option	 lo[16];
	size_t		 n = 0;
	int		 ch;

	lo[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	for (; extra != NULL && extra->name != NULL && n < nitems(lo) - 1;
	    extra++)
		lo[n++] = *extra;
	lo[n] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;		/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			c->json = 1;
			break;
		case 'h':
		case OPT_HELP:
			print_cmd_help(stdout, cmd, 0);
			return 0;
		case '?':
			return usage_error(cmd->name, "unknown option or "
			    "missing value: %s", argv[optind - 1]);
		default:
			if (each == NULL || each(ch, optarg, arg) == -1)
				return usage_error(cmd->name, "bad value for "
				    "%s: %s", argv[optind - 1], optarg);
			break;
		}
	}
	return -1;
}

static const struct cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* Positional argument count check after cmd_opts. */
static int
want_args(const char *cmd, int have, int min, int max)
{
	if (have < min)
		return usage_error(cmd, "missing argument");
	if (have > max)
		return usage_error(cmd, "too many arguments");
	return -1;
}

static int
cmd_status(struct ctl *c, int argc, char **argv)
{
	json_t	*a;
	int	 rc;

	if ((rc = cmd_opts(c, cmd_find("status"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("status", argc - optind, 0, 0)) != -1)
		return rc;
	if ((rc = ctl_request(c, "GET", API_STATUS, NULL, CTL_RAW, &a)) != 0)
		return rc;
	if (!c->json)
		print_status(stdout, a);
	json_decref(a);
	return 0;
}

static int
cmd_show(struct ctl *c, int argc, char **argv)
{
	json_t	*a;
	char	 uri[1024];
	int	 rc;

	if ((rc = cmd_opts(c, cmd_find("show"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("show", argc - optind, 1, 1)) != -1)
		return rc;
	if (domain_uri(argv[optind], "", uri, sizeof(uri)) == -1)
		return usage_error("show", "bad domain: %s", argv[optind]);
	if ((rc = ctl_request(c, "GET", uri, NULL, CTL_RAW, &a)) != 0)
		return rc;
	if (!c->json)
		print_show(stdout, a);
	json_decref(a);
	return 0;
}

/*
 * A file as a JSON string.  PEM (or any UTF-8 text: percent-encoded PEM)
 * goes as is; DER cannot travel in JSON, so it is wrapped in PEM armour
 * with label (base64 of the exact bytes: nothing is parsed here).
 * Returns NULL after printing why.  Buffers that held a key are cleared.
 */
static json_t *
file_json(const char *path, size_t max, const char *label)
{
	json_t		*s = NULL;
	char		*buf = NULL, *pem = NULL;
	size_t		 len = 0, b64len, i, o, pemlen;
	unsigned char	*b64 = NULL;

	if (read_file(path, max, &buf, &len) == -1) {
		if (errno == EFBIG)
			fprintf(stderr, "certctl: %s: larger than %zu KiB, the "
			    "limit for one upload\n", path, max / 1024);
		else
			fprintf(stderr, "certctl: cannot read %s: %s\n", path,
			    strerror(errno));
		return NULL;
	}
	if (len == 0) {
		fprintf(stderr, "certctl: %s is empty\n", path);
		goto out;
	}
	if (strstr(buf, "-----BEGIN") == NULL && (unsigned char)buf[0] == 0x30) {
		b64len = 4 * ((len + 2) / 3);
		if ((b64 = malloc(b64len + 1)) == NULL)
			goto out;
		EVP_EncodeBlock(b64, (unsigned char *)buf, (int)len);
		pemlen = b64len + b64len / 64 + 2 + 2 * (strlen(label) + 32);
		if ((pem = malloc(pemlen)) == NULL)
			goto out;
		o = snprintf(pem, pemlen, "-----BEGIN %s-----\n", label);
		for (i = 0; i < b64len; i += 64) {
			memcpy(pem + o, b64 + i, b64len - i < 64 ? b64len - i :
			    64);
			o += b64len - i < 64 ? b64len - i : 64;
			pem[o++] = '\n';
		}
		snprintf(pem + o, pemlen - o, "-----END %s-----\n", label);
		s = json_string(pem);
	} else
		s = json_stringn(buf, len);
	if (s == NULL)
		fprintf(stderr, "certctl: %s is neither PEM text nor DER\n",
		    path);
out:
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, strlen((char *)b64));
		free(b64);
	}
	if (pem != NULL) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return s;
}

struct upload_opts {
	const char	*name, *server, *key, *bundle;
	int		 seq;
};

static int
upload_opt(int ch, const char *v, void *arg)
{
	struct upload_opts	*u = arg;

	switch (ch) {
	case OPT_NAME:
		if (*v == '\0' || strlen(v) > ITEM_NAME_MAX)
			return -1;
		u->name = v;
		return 0;
	case OPT_SEQ:
		return parse_int(v, 1, 64, &u->seq);
	case OPT_SERVER:
		u->server = v;
		return 0;
	case OPT_KEY:
		u->key = v;
		return 0;
	case OPT_BUNDLE:
		u->bundle = v;
		return 0;
	}
	return -1;
}

/*
 * The seq for a server certificate given without --seq: the seq of an item
 * of that name or of the current server certificate (renewal replaces it),
 * else the one after the last CA certificate, staged or current.
 */
static int
next_seq(struct ctl *c, const char *domain, const char *name, int *seq)
{
	json_t		*a, *lists[2], *it;
	char		 uri[1024];
	size_t		 i, l;
	int		 rc, same = 0, server = 0, maxca = 0, s;

	*seq = 1;
	if (domain_uri(domain, "", uri, sizeof(uri)) == -1)
		return usage_error("upload", "bad domain: %s", domain);
	rc = ctl_request(c, "GET", uri, NULL, CTL_QUIET, &a);
	if (rc == EXIT_REJECTED)
		return 0;	/* unknown domain: let certd say E_ORDER */
	if (rc != 0)
		return rc;
	lists[0] = json_object_get(a, "items");
	lists[1] = json_object_get(a, "staged");
	for (l = 0; l < 2; l++)
		json_array_foreach(lists[l], i, it) {
			s = (int)jint(it, "seq", 0);
			if (strcmp(jstr(it, "name", ""), name) == 0)
				same = s;
			else if (strcmp(jstr(it, "kind", ""), "server") == 0)
				server = s;
			else if (s > maxca)
				maxca = s;
		}
	json_decref(a);
	*seq = same ? same : server ? server : maxca + 1;
	return 0;
}

static int
cmd_upload(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "seq", required_argument, NULL, OPT_SEQ },
		{ "id", required_argument, NULL, OPT_SEQ },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ NULL, 0, NULL, 0 }
	};
	struct upload_opts	 u = { 0 };
	json_t			*body = NULL, *a = NULL, *v;
	const char		*domain, *certfile;
	char			 uri[1024];
	int			 rc, nargs;

	if ((rc = cmd_opts(c, cmd_find("upload"), argc, argv, lo, upload_opt,
	    &u)) != -1)
		return rc;
	nargs = argc - optind;
	if (nargs < 1)
		return usage_error("upload", "missing DOMAIN");
	domain = argv[optind];
	if (domain_uri(domain, "", uri, sizeof(uri)) == -1)
		return usage_error("upload", "bad domain: %s", domain);
	c->keyfile = u.key;

	if (u.bundle != NULL) {
		if (nargs != 1 || u.server != NULL || u.seq != 0 ||
		    u.name != NULL)
			return usage_error("upload", "--bundle takes no FILE, "
			    "--server, --name or --seq");
		if (u.key == NULL)
			return usage_error("upload", "--bundle needs --key");
		body = json_object();
		if ((v = file_json(u.bundle, CTL_BUNDLE_MAX,
		    "CERTIFICATE")) == NULL) {
			rc = EXIT_USAGE;
			goto out;
		}
		json_object_set_new(body, "certificates", v);
		if ((v = file_json(u.key, CTL_ITEM_MAX, "PRIVATE KEY")) ==
		    NULL) {
			rc = EXIT_USAGE;
			goto out;
		}
		json_object_set_new(body, "privatekey", v);
		domain_uri(domain, "/bundle", uri, sizeof(uri));
		if ((rc = ctl_request(c, "POST", uri, body, CTL_RAW, &a)) != 0)
			goto out;
		goto answer;
	}

	if (u.server != NULL && nargs != 1)
		return usage_error("upload", "give the certificate either as "
		    "FILE or with --server, not both");
	if (u.server == NULL && nargs != 2)
		return usage_error("upload", nargs < 2 ? "missing FILE" :
		    "too many arguments");
	certfile = u.server != NULL ? u.server : argv[optind + 1];
	if (u.server != NULL && u.key == NULL)
		return usage_error("upload", "--server needs --key KEY (the "
		    "server certificate's private key)");
	if (u.key == NULL && (u.seq == 0 || u.name == NULL))
		return usage_error("upload", "a CA certificate needs --name "
		    "and --seq (root: --seq 1)");
	if (u.name == NULL)
		u.name = "server";
	if (u.seq == 0 && (rc = next_seq(c, domain, u.name, &u.seq)) != 0)
		return rc;

	body = json_object();
	json_object_set_new(body, "domainsuffix", json_string(domain));
	json_object_set_new(body, "name", json_string(u.name));
	json_object_set_new(body, "id", json_integer(u.seq));
	if ((v = file_json(certfile, CTL_ITEM_MAX, "CERTIFICATE")) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	json_object_set_new(body, "certificate", v);
	if (u.key != NULL) {
		if ((v = file_json(u.key, CTL_ITEM_MAX, "PRIVATE KEY")) ==
		    NULL) {
			rc = EXIT_USAGE;
			goto out;
		}
		json_object_set_new(body, "privatekey", v);
	}
	if ((rc = ctl_request(c, "POST", API_CERTIFICATES, body, CTL_RAW,
	    &a)) != 0)
		goto out;
answer:
	if (!c->json) {
		print_warnings(stderr, a);
		print_upload(stdout, a);
	}
	if (json_is_object(json_object_get(a, "reload")) &&
	    print_reload(c->json ? NULL : stdout, json_object_get(a,
	    "reload")) == 1)
		rc = EXIT_REJECTED;
out:
	json_decref(body);
	json_decref(a);
	return rc;
}

static int
cmd_discard(struct ctl *c, int argc, char **argv)
{
	json_t	*a;
	char	 uri[1024];
	int	 rc;
	long long n;

	if ((rc = cmd_opts(c, cmd_find("discard"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("discard", argc - optind, 1, 1)) != -1)
		return rc;
	if (domain_uri(argv[optind], "/staged", uri, sizeof(uri)) == -1)
		return usage_error("discard", "bad domain: %s", argv[optind]);
	if ((rc = ctl_request(c, "DELETE", uri, NULL, CTL_RAW, &a)) != 0)
		return rc;
	n = jint(a, "discarded", 0);
	json_decref(a);
	if (n == 0) {
		/* nothing happened: tell scripts, as the daemon's 404 would */
		fprintf(stderr, "certctl: E_NOT_FOUND: nothing staged for %s\n",
		    argv[optind]);
		return EXIT_REJECTED;
	}
	if (!c->json)
		printf("discarded %lld staged item%s of %s\n", n,
		    n == 1 ? "" : "s", argv[optind]);
	return 0;
}

static int
cmd_rollback(struct ctl *c, int argc, char **argv)
{
	json_t	*a, *body;
	char	 uri[1024];
	int	 rc, gen = 0;

	if ((rc = cmd_opts(c, cmd_find("rollback"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("rollback", argc - optind, 1, 2)) != -1)
		return rc;
	if (domain_uri(argv[optind], "/rollback", uri, sizeof(uri)) == -1)
		return usage_error("rollback", "bad domain: %s", argv[optind]);
	if (argc - optind == 2 && parse_int(argv[optind + 1], 1, INT_MAX,
	    &gen) == -1)
		return usage_error("rollback", "bad generation: %s",
		    argv[optind + 1]);
	body = json_object();
	if (gen > 0)
		json_object_set_new(body, "generation", json_integer(gen));
	rc = ctl_request(c, "POST", uri, body, CTL_RAW, &a);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (!c->json)
		printf("%s is at generation %lld\n", jstr(a, "domain",
		    argv[optind]), jint(a, "generation", 0));
	if (print_reload(c->json ? NULL : stdout, json_object_get(a,
	    "reload")) == 1)
		rc = EXIT_REJECTED;
	json_decref(a);
	return rc;
}

static int
cmd_render(struct ctl *c, int argc, char **argv)
{
	json_t	*a;
	char	 uri[1024];
	int	 rc;

	if ((rc = cmd_opts(c, cmd_find("render"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("render", argc - optind, 1, 1)) != -1)
		return rc;
	if (domain_uri(argv[optind], "/render", uri, sizeof(uri)) == -1)
		return usage_error("render", "bad domain: %s", argv[optind]);
	if ((rc = ctl_request(c, "POST", uri, NULL, CTL_RAW, &a)) != 0)
		return rc;
	if (!c->json)
		printf("rendered generation %lld of %s\n",
		    jint(a, "generation", 0), jstr(a, "domain", argv[optind]));
	json_decref(a);
	return 0;
}

static int
cmd_reload(struct ctl *c, int argc, char **argv)
{
	json_t	*a, *body;
	int	 rc;

	if ((rc = cmd_opts(c, cmd_find("reload"), argc, argv, NULL, NULL,
	    NULL)) != -1)
		return rc;
	if ((rc = want_args("reload", argc - optind, 0, 1)) != -1)
		return rc;
	body = json_object();
	if (argc - optind == 1)
		json_object_set_new(body, "dependent",
		    json_string(argv[optind]));
	rc = ctl_request(c, "POST", API_RELOAD, body, CTL_RAW, &a);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (print_reload(c->json ? NULL : stdout, json_object_get(a,
	    "reload")) == 1)
		rc = EXIT_REJECTED;
	json_decref(a);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl		 c = { 0 };
	const struct cmd	*cmd;
	int			 ch;

	json_set_alloc_funcs(secure_malloc, secure_free);
	c.sock = getenv("CERTD_SOCKET");
	if (c.sock == NULL || *c.sock == '\0')
		c.sock = CTL_SOCKET_DEFAULT;
	c.timeout = CTL_TIMEOUT_DEFAULT;

	opterr = 0;
	/* "+": stop at the command; its options are its own */
	while ((ch = getopt_long(argc, argv, "+s:t:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.sock = optarg;
			break;
		case 't':
			if (parse_int(optarg, 1, 86400, &c.timeout) == -1)
				return usage_error(NULL, "bad timeout: %s",
				    optarg);
			break;
		case OPT_JSON:
			c.json = 1;
			break;
		case 'h':
			usage_full(stdout);
			return 0;
		case 'V':
			printf("certctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			return usage_error(NULL, "unknown option or missing "
			    "value: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: certctl [-s SOCKET] [-t SECONDS] "
		    "[--json] COMMAND [ARGS]\ncommands:\n");
		for (ch = 0; ch < (int)nitems(cmds); ch++)
			print_indented(stderr, cmds[ch].synopsis, "  ");
		fprintf(stderr, "certctl --help tells more.\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc && (cmd = cmd_find(argv[optind + 1])) !=
		    NULL)
			print_cmd_help(stdout, cmd, 0);
		else
			usage_full(stdout);
		return 0;
	}
	if ((cmd = cmd_find(argv[optind])) == NULL)
		return usage_error(NULL, "unknown command: %s", argv[optind]);
	return cmd->fn(&c, argc - optind, argv + optind);
}
