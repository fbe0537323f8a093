/*
 * certctl.c: the admin's command line over certd's control socket.  One
 * table lists the commands with what each takes; main parses the global
 * options, the table's entry parses the command's, and the command sends
 * its request (http.c) and prints the answer (print.c).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "certctl.h"
#include "key.h"
#include "log.h"
#include "names.h"
#include "pem.h"
#include "proto.h"
#include "util.h"

#define CTL_BUNDLE_MAX	(512 * 1024)	/* a whole chain, under the body cap */

static int	cmd_status(struct ctl *, const struct cmd *, struct args *);
static int	cmd_show(struct ctl *, const struct cmd *, struct args *);
static int	cmd_upload(struct ctl *, const struct cmd *, struct args *);
static int	cmd_discard(struct ctl *, const struct cmd *, struct args *);
static int	cmd_rollback(struct ctl *, const struct cmd *, struct args *);
static int	cmd_render(struct ctl *, const struct cmd *, struct args *);
static int	cmd_reload(struct ctl *, const struct cmd *, struct args *);

static const struct cmd cmds[] = {
	{ "status", cmd_status, 0, 0, 0, "A", "status [--all]",
"	A summary (how many domains, how many in each state, the next\n"
"	expiry), then the domains that need attention, most urgent first:\n"
"	pending or recovering (a commit not yet verified), failed (the last\n"
"	commit was rolled back), expired, expiring (under 30 days),\n"
"	unchecked (files not yet checked since certd started), staged (items\n"
"	waiting for their server certificate).  For each: its current\n"
"	generation, state, the server certificate's expiry, days left and\n"
"	subject.  Then each dependent's last result.  --all lists every\n"
"	domain, those that need attention first.\n" },
	{ "show", cmd_show, 1, 1, 0, "P",
"show DOMAIN\n"
"       show FILE [--storepass PASSWORD]",
"	The first form asks certd: each certificate of DOMAIN's current\n"
"	chain, like keytool -list -v: alias (item name), seq, kind, owner,\n"
"	issuer, serial number, validity, subject alternative names and\n"
"	SHA-256 fingerprint; then staged items, kept generations and\n"
"	recent events.  Never a key.\n"
"\n"
"	The second form needs no daemon: it describes FILE, taken as a file\n"
"	when it exists or contains a '/'.  FILE may be PEM or DER (one\n"
"	certificate, a bundle, a key, or all of them, as HAProxy's\n"
"	bundle.pem), a JKS or a PKCS#12 store, told by its bytes, not its\n"
"	name.  For each certificate: its alias and entry type in a store\n"
"	(Java's trustedCertEntry, a key entry's certificate, or one Java\n"
"	ignores for want of its trusted attribute), owner, issuer, serial\n"
"	number, validity, subjectAltName, key type and size, signature\n"
"	algorithm, CA or not, SHA-256; whether a bundle is in the order a\n"
"	server must send it.  A private key is told by its type and size\n"
"	and the certificate it belongs to, never by its bytes.\n"
"	--storepass checks a store's integrity (JKS digest, PKCS#12 MAC)\n"
"	and opens encrypted PKCS#12 certificates, as keytool -storepass.\n"
"	Exits 2 when FILE cannot be read or is none of those (the reason\n"
"	is printed), or when the password is wrong.\n" },
	{ "upload", cmd_upload, 1, 2, 1, "nsSkb",
"upload DOMAIN --name NAME --seq K FILE\n"
"       upload DOMAIN [--name NAME] [--seq K] --server CERT [--key KEY]\n"
"       upload DOMAIN --bundle FILE --key KEY",
"	The first form stages one CA certificate: the root at seq 1,\n"
"	intermediates at seq 2, 3, ...  Re-uploading a NAME replaces it.\n"
"	Nothing is served until the server certificate arrives.\n"
"\n"
"	The second form uploads the server certificate with its key\n"
"	(NAME defaults to \"server\", K to the seq after the last CA\n"
"	certificate, staged or current: a renewal keeps the server's seq,\n"
"	a chain with more intermediates moves it up).  certd validates the\n"
"	whole staged chain, commits it as a new generation, writes the\n"
"	files, runs the dependents and verifies what they serve.  certctl\n"
"	waits for all of it and prints the result; if a dependent fails,\n"
"	certd rolls back and certctl exits 1.  Without --key, CERT is the\n"
"	certificate a CA signed for a request certctl csr made: it commits\n"
"	with the key certd keeps for it (E_KEY_MISMATCH if it has none).\n"
"\n"
"	The third form uploads a whole chain in any order (certd orders it\n"
"	by issuer) with the key, and commits it in one step.\n"
"\n"
"	Files may be PEM or DER, at most 64 KiB each.  certctl checks them\n"
"	as certd would before sending, and refuses an empty, oversized or\n"
"	undecodable file with certd's error code.  Keys must not have a\n"
"	passphrase: services start unattended.\n" },
	{ "discard", cmd_discard, 1, 1, 1, "", "discard DOMAIN",
"	Drop DOMAIN's staged, uncommitted items.  Exits 1 (E_NOT_FOUND)\n"
"	when nothing was staged.\n" },
	{ "rollback", cmd_rollback, 1, 2, 1, "", "rollback DOMAIN [GENERATION]",
"	Make a kept generation current again (default: the previous one),\n"
"	then run the dependents as after a commit.\n" },
	{ "render", cmd_render, 1, 1, 1, "", "render DOMAIN",
"	Write DOMAIN's current generation's files again from the database.\n" },
	{ "reload", cmd_reload, 0, 1, 0, "", "reload [DEPENDENT]",
"	Run the dependents (all, or the one named) by hand: configtest,\n"
"	reload, verify.\n" },
	{ "check", cmd_check, 1, 1, 0, "NcTPDLW", check_synopsis,
	    check_help },
	{ "gen-ca", cmd_gen_ca, 0, 0, 0, "oCdIK", gen_ca_synopsis,
	    gen_ca_help },
	{ "gen-cert", cmd_gen_cert, 0, 0, 0, "cDNidoKl", gen_cert_synopsis,
	    gen_cert_help },
	{ "csr", cmd_csr, 1, 1, 1, "NKo", csr_synopsis, csr_help },
};

static const char usage_head[] =
"NAME\n"
"	certctl - control certd, the certificate provisioning daemon\n"
"\n"
"SYNOPSIS\n"
"	certctl [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]\n"
"	certctl -H https://HOST:PORT --client-cert FILE --client-key FILE\n"
"	    [--ca FILE] [-t SECONDS] [--json] COMMAND [ARGS]\n"
"	certctl COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"	certctl talks HTTP/1.1 with JSON to certd over its control socket,\n"
"	or with -H over TLS to certd's listen = address, as a management\n"
"	server pushes to its hosts: every command works either way.  On the\n"
"	socket, changing anything needs uid 0 or membership in certd's\n"
"	admin_group; over TLS, a client certificate that certd's\n"
"	client_allow lists.  Anybody else may read status.  check, show\n"
"	FILE, gen-ca and gen-cert need no daemon: they diagnose what a\n"
"	server serves, describe files, and make a test PKI.\n"
"\n"
"OPTIONS\n"
"	-s, --socket SOCKET\n"
"		The control socket (default $CERTD_SOCKET, else\n"
"		" CTL_SOCKET_DEFAULT ").\n"
"	-H, --host https://HOST:PORT\n"
"		Talk to certd over TLS at HOST:PORT (a name, an IPv4\n"
"		address, or an IPv6 one in brackets) instead of the socket.\n"
"		certd's certificate must verify against --ca and name HOST.\n"
"	--client-cert FILE, --client-key FILE\n"
"		With -H: this client's certificate (PEM, with its\n"
"		intermediates) and key, which certd verifies against its\n"
"		client_ca.  Both are needed.\n"
"	--ca FILE\n"
"		With -H: the CA certificates (PEM) that certd's tls_cert is\n"
"		verified against (default: the system's).\n"
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
"		reload failed, since the served files did not change, and\n"
"		when an input file is empty, too large or not a certificate\n"
"		or key (the code certd would give: E_ENCODING, E_TOO_LARGE,\n"
"		E_KEY_ENCRYPTED, ...)\n"
"	2	usage error, or an input file cannot be read\n"
"	3	certd unreachable: the socket is missing or refuses; over\n"
"		TLS, no connection, certd's certificate does not verify, or\n"
"		certd refused this client's certificate\n"
"	4	daemon error: HTTP 5xx, a garbled answer, or a timeout\n"
"	check exits 0 when a client with the trust store connects, 1 when\n"
"	it does not; show FILE and check exit 2 on a file they cannot read.\n"
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
"	A management server pushes the same way over TLS, and a key can\n"
"	stay on the host: certd makes it and answers a CSR, and the signed\n"
"	certificate comes back without a key:\n"
"\n"
"	    R=\"-H https://host1:8443 --client-cert mgmt.pem\n"
"	        --client-key mgmt.key --ca hosts-ca.pem\"\n"
"	    certctl $R csr example.com --name www.example.com --out req.csr\n"
"	    certctl $R upload example.com --server signed.pem\n"
"\n"
"	A key with a passphrase is refused (E_KEY_ENCRYPTED); remove it:\n"
"\n"
"	    openssl pkey -in server.key -out server-nopass.key\n"
"\n"
"	A test PKI (gen-cert prints the uploads for it), then what a client\n"
"	trusting its root makes of the server that serves it:\n"
"\n"
"	    certctl gen-ca --out pki --intermediate\n"
"	    certctl gen-cert --ca pki --domain example.com \\\n"
"	        --name www.example.com --out pki\n"
"	    certctl check www.example.com --ca pki/root.pem\n"
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

int
usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "certctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cmd != NULL) {
		print_indented(stderr, cmd->synopsis, "usage: certctl ");
		fprintf(stderr, "Try 'certctl %s --help'.\n", cmd->name);
	} else
		fprintf(stderr, "Try 'certctl --help'.\n");
	return EXIT_USAGE;
}

/* A rejection found before asking certd: printed as certd would. */
static int
reject(const struct cert_error *err, const char *path)
{
	fprintf(stderr, "certctl: %s: %s: %s\n", cert_code_name(err->code),
	    path, err->message);
	return EXIT_REJECTED;
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
	if (code != NULL && strcmp(code, "E_FORBIDDEN") == 0)
		fprintf(stderr, "certctl: changing certd needs %s\n",
		    c->url != NULL ? "a client certificate that certd's "
		    "client_allow lists" : "uid 0 or membership in its "
		    "admin_group");
	if (r->status >= 500 || code == NULL || cert_code_from_name(code) < 0)
		return EXIT_DAEMON;
	return EXIT_REJECTED;
}

/*
 * One request.  Returns 0 with *answer (a JSON object, caller frees) or an
 * exit code, having printed why.  In --json mode the answer is printed as
 * it came.
 */
int
ctl_request(struct ctl *c, const char *method, const char *uri, json_t *body,
    json_t **answer)
{
	struct http_reply	 r;
	json_error_t		 jerr;
	json_t			*a = NULL;
	char			*req = NULL, err[512];
	int			 rc;

	*answer = NULL;
	if (body != NULL && (req = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("cannot encode the request");
	if (c->url != NULL)
		rc = remote_call(c, method, uri, req, req != NULL ? strlen(req) :
		    0, &r, err, sizeof(err));
	else
		rc = http_call(c->sock, method, uri, req, req != NULL ?
		    strlen(req) : 0, c->timeout, &r, err, sizeof(err));
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
	if (c->json) {
		fwrite(r.body, 1, r.len, stdout);
		if (r.len == 0 || r.body[r.len - 1] != '\n')
			putchar('\n');
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

/* ctl_request on API_DOMAINS + escaped domain + suffix. */
static int
domain_request(struct ctl *c, const char *method, const char *domain,
    const char *suffix, json_t *body, json_t **answer)
{
	char	 esc[DOMAIN_MAX * 3 + 1], uri[1024];

	uri_escape(domain, esc, sizeof(esc));	/* fits: a folded name */
	snprintf(uri, sizeof(uri), API_DOMAINS "%s%s", esc, suffix);
	return ctl_request(c, method, uri, body, answer);
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

/* The reload object of an answer: 1 if the change did not take effect. */
static int
answer_reload(struct ctl *c, json_t *a)
{
	json_t	*r = json_object_get(a, "reload");

	if (!json_is_object(r))
		return 0;
	return print_reload(c->json ? NULL : stdout, r);
}

static int
add_listed(struct args *a, int ch, const char *v)
{
	const char	**list = ch == 'N' ? a->hosts : a->ips;
	int		 *n = ch == 'N' ? &a->nhosts : &a->nips;

	if (*n >= ARGS_LIST_MAX)
		return -1;
	list[(*n)++] = v;
	return 0;
}

/* The options that are a plain string; -1 if ch is none of them. */
static int
set_string(struct args *a, int ch, const char *v)
{
	static const struct {
		int	 ch;
		size_t	 off;	/* of a const char * in struct args */
	} strings[] = {
		{ 'S', offsetof(struct args, server) },
		{ 'k', offsetof(struct args, key) },
		{ 'b', offsetof(struct args, bundle) },
		{ 'c', offsetof(struct args, ca) },
		{ 'T', offsetof(struct args, truststore) },
		{ 'P', offsetof(struct args, storepass) },
		{ 'L', offsetof(struct args, state_dir) },
		{ 'o', offsetof(struct args, out) },
		{ 'C', offsetof(struct args, cn) },
		{ 'K', offsetof(struct args, key_type) },
		{ 'W', offsetof(struct args, save) },
	};
	size_t	 i;

	for (i = 0; i < nitems(strings); i++)
		if (strings[i].ch == ch) {
			*(const char **)((char *)a + strings[i].off) = v;
			return 0;
		}
	return -1;
}

/*
 * The command's own options (those the table lists, plus --json and
 * --help) and its positional arguments.  Returns -1 to go on, or an exit
 * code (help printed: 0; usage error: 2).
 */
enum { OPT_JSON = 256, OPT_HELP, OPT_CLIENT_CERT, OPT_CLIENT_KEY, OPT_CA };

static int
cmd_args(struct ctl *c, const struct cmd *cmd, int argc, char **argv,
    struct args *a)
{
	static const struct option all[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "seq", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 's' },
		{ "server", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "bundle", required_argument, NULL, 'b' },
		/* a host name: check's SNI, gen-cert's subjectAltName */
		{ "name", required_argument, NULL, 'N' },
		{ "ip", required_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, 'c' },
		{ "truststore", required_argument, NULL, 'T' },
		{ "storepass", required_argument, NULL, 'P' },
		{ "domain", required_argument, NULL, 'D' },
		{ "state-dir", required_argument, NULL, 'L' },
		{ "out", required_argument, NULL, 'o' },
		{ "cn", required_argument, NULL, 'C' },
		{ "days", required_argument, NULL, 'd' },
		{ "intermediate", no_argument, NULL, 'I' },
		{ "key-type", required_argument, NULL, 'K' },
		{ "save", required_argument, NULL, 'W' },
		{ "all", no_argument, NULL, 'A' },
		{ "client", no_argument, NULL, 'l' },
	};
	struct option	 lo[nitems(all) + 3];
	size_t		 n = 0, i;
	int		 ch;

	memset(a, 0, sizeof(*a));
	lo[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	for (i = 0; i < nitems(all); i++)
		if (strchr(cmd->opts, all[i].val) != NULL)
			lo[n++] = all[i];
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
		case 'n':
			if (!item_name_valid(optarg))
				return usage_error(cmd, "bad name: %s (1 to %d "
				    "printable characters, no '/')", optarg,
				    ITEM_NAME_MAX);
			a->name = optarg;
			break;
		case 's':
			if (parse_int(optarg, 1, ITEM_SEQ_MAX, &a->seq) == -1)
				return usage_error(cmd, "bad seq: %s", optarg);
			break;
		case 'A':
			a->all = 1;
			break;
		case 'N':
		case 'i':
			if (add_listed(a, ch, optarg) == -1)
				return usage_error(cmd, "more than %d --%s",
				    ARGS_LIST_MAX, ch == 'N' ? "name" : "ip");
			break;
		case 'D':
			if (domain_fold(optarg, a->for_domain_buf) == -1)
				return usage_error(cmd, "not a domain name: %s",
				    optarg);
			a->for_domain = a->for_domain_buf;
			break;
		case 'd':
			if (parse_int(optarg, 1, 36500, &a->days) == -1)
				return usage_error(cmd, "bad days: %s (1 to "
				    "36500)", optarg);
			break;
		case 'I':
			a->intermediate = 1;
			break;
		case 'l':
			a->client = 1;
			break;
		default:
			if (set_string(a, ch, optarg) == 0)
				break;
			return usage_error(cmd, "unknown option or missing "
			    "value: %s", argv[optind - 1]);
		}
	}
	a->v = argv + optind;
	a->n = argc - optind;
	if (a->n < cmd->min)
		return usage_error(cmd, "missing argument");
	if (a->n > cmd->max)
		return usage_error(cmd, "too many arguments");
	if (cmd->domain && domain_fold(a->v[0], a->domain) == -1)
		return usage_error(cmd, "not a domain name: %s", a->v[0]);
	return -1;
}

static int
cmd_status(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t	*ans;
	int	 rc;

	/* On a host with 10,000 domains the full list is --all's. */
	if ((rc = ctl_request(c, "GET", a->all ? API_STATUS :
	    API_STATUS "?attention=1", NULL, &ans)) != 0)
		return rc;
	if (!c->json)
		print_status(stdout, ans, a->all);
	json_decref(ans);
	return 0;
}

static int
cmd_show(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t		*ans;
	struct stat	 st;
	int		 rc;

	if (strchr(a->v[0], '/') != NULL || stat(a->v[0], &st) == 0)
		return show_file(c, a->v[0], a->storepass);
	if (a->storepass != NULL)
		return usage_error(cmd, "--storepass goes with a FILE; no "
		    "file %s here", a->v[0]);
	if (domain_fold(a->v[0], a->domain) == -1)
		return usage_error(cmd, "neither a file nor a domain name: %s",
		    a->v[0]);
	if ((rc = domain_request(c, "GET", a->domain, "", NULL, &ans)) != 0)
		return rc;
	if (!c->json)
		print_show(stdout, ans);
	json_decref(ans);
	return 0;
}

/*
 * A file as a JSON string, checked first as certd checks it (a key with
 * key_decode, certificates with pem_decode_certs), so that a bad file is
 * refused with certd's code.  PEM (or any UTF-8 text: percent-encoded PEM)
 * goes as it is; DER cannot travel in JSON, so it is wrapped in PEM armour
 * with label (base64 of the exact bytes).  Returns 0 with *out, or an exit
 * code after printing why.  Buffers that held a key are cleared.
 */
static int
file_json(const char *path, size_t max, int is_key, json_t **out)
{
	struct cert_error	 err;
	STACK_OF(X509)		*sk = NULL;
	EVP_PKEY		*k = NULL;
	const char		*label = is_key ? "PRIVATE KEY" : "CERTIFICATE";
	char			*buf = NULL, *pem = NULL;
	size_t			 len = 0, b64len, pemlen, i, o;
	int			 rc, ok;

	*out = NULL;
	if (read_file(path, max, &buf, &len) == -1) {
		if (errno != EFBIG) {
			fprintf(stderr, "certctl: cannot read %s: %s\n", path,
			    strerror(errno));
			return EXIT_USAGE;
		}
		cert_error_set(&err, E_TOO_LARGE, NULL, 0, "larger than %zu "
		    "KiB, the limit for one %s", max / 1024, is_key ?
		    "key" : "upload");
		return reject(&err, path);
	}
	cert_error_clear(&err);
	ok = is_key ? key_decode(buf, len, "", 0, &k, &err) == 0 :
	    pem_decode_certs(buf, len, "", 0, &sk, &err) == 0;
	EVP_PKEY_free(k);
	sk_X509_pop_free(sk, X509_free);
	if (!ok) {
		rc = reject(&err, path);
		goto out;
	}
	if (len > 0 && (unsigned char)buf[0] == 0x30) {
		b64len = 4 * ((len + 2) / 3);
		pemlen = b64len + b64len / 64 + 2 + 2 * (strlen(label) + 32);
		pem = xmalloc(pemlen);
		o = snprintf(pem, pemlen, "-----BEGIN %s-----\n", label);
		/* 48 bytes of DER are one 64-character line of base64. */
		for (i = 0; i < len; i += 48) {
			o += EVP_EncodeBlock((unsigned char *)pem + o,
			    (unsigned char *)buf + i, (int)(len - i < 48 ?
			    len - i : 48));
			pem[o++] = '\n';
		}
		snprintf(pem + o, pemlen - o, "-----END %s-----\n", label);
		*out = json_string(pem);
	} else
		*out = json_stringn(buf, len);
	rc = 0;
	if (*out == NULL) {
		/* Decodable but not UTF-8: PEM with 8-bit text before it. */
		cert_error_set(&err, E_ENCODING, NULL, 0, "not UTF-8 text: "
		    "remove the non-text bytes around the PEM blocks");
		rc = reject(&err, path);
	}
out:
	if (pem != NULL)
		freezero(pem, strlen(pem));
	freezero(buf, len);
	return rc;
}

static int
cmd_upload(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t		*body, *ans = NULL, *v;
	const char	*certfile;
	int		 rc;

	body = json_object();
	if (a->bundle != NULL) {
		if (a->n != 1 || a->server != NULL || a->seq != 0 ||
		    a->name != NULL) {
			rc = usage_error(cmd, "--bundle takes no FILE, "
			    "--server, --name or --seq");
			goto out;
		}
		if (a->key == NULL) {
			rc = usage_error(cmd, "--bundle needs --key");
			goto out;
		}
		if ((rc = file_json(a->bundle, CTL_BUNDLE_MAX, 0, &v)) != 0)
			goto out;
		json_object_set_new(body, "certificates", v);
		if ((rc = file_json(a->key, PEM_ITEM_MAX, 1, &v)) != 0)
			goto out;
		json_object_set_new(body, "privatekey", v);
		rc = domain_request(c, "POST", a->domain, API_D_BUNDLE, body,
		    &ans);
		goto answer;
	}
	if (a->server != NULL && a->n != 1) {
		rc = usage_error(cmd, "give the certificate either as FILE or "
		    "with --server, not both");
		goto out;
	}
	if (a->server == NULL && a->n != 2) {
		rc = usage_error(cmd, "missing FILE");
		goto out;
	}
	certfile = a->server != NULL ? a->server : a->v[1];
	if (a->server == NULL && a->key == NULL && (a->seq == 0 ||
	    a->name == NULL)) {
		rc = usage_error(cmd, "a CA certificate needs --name and --seq "
		    "(root: --seq 1)");
		goto out;
	}
	/* Without --seq, certd puts the server after the last CA item. */
	json_object_set_new(body, "domainsuffix", json_string(a->domain));
	json_object_set_new(body, "name", json_string(a->name != NULL ?
	    a->name : "server"));
	json_object_set_new(body, "id", json_integer(a->seq));
	if ((rc = file_json(certfile, PEM_ITEM_MAX, 0, &v)) != 0)
		goto out;
	json_object_set_new(body, "certificate", v);
	if (a->key != NULL) {
		if ((rc = file_json(a->key, PEM_ITEM_MAX, 1, &v)) != 0)
			goto out;
		json_object_set_new(body, "privatekey", v);
	}
	rc = ctl_request(c, "POST", API_CERTIFICATES, body, &ans);
answer:
	if (rc != 0)
		goto out;
	if (!c->json) {
		print_warnings(stderr, ans);
		print_upload(stdout, ans);
	}
	if (answer_reload(c, ans) == 1)
		rc = EXIT_REJECTED;
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

static int
cmd_discard(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t	*ans;
	int	 rc;

	if ((rc = domain_request(c, "DELETE", a->domain, API_D_STAGED, NULL,
	    &ans)) != 0)
		return rc;
	if (!c->json)
		printf("discarded %lld staged item%s of %s\n",
		    jint(ans, "discarded", 0), jint(ans, "discarded", 0) == 1 ?
		    "" : "s", a->domain);
	json_decref(ans);
	return 0;
}

static int
cmd_rollback(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t	*ans, *body;
	int	 rc, gen = 0;

	if (a->n == 2 && parse_int(a->v[1], 1, INT_MAX, &gen) == -1)
		return usage_error(cmd, "bad generation: %s", a->v[1]);
	body = json_object();
	if (gen > 0)
		json_object_set_new(body, "generation", json_integer(gen));
	rc = domain_request(c, "POST", a->domain, API_D_ROLLBACK, body, &ans);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (!c->json)
		printf("%s is at generation %lld\n", jstr(ans, "domain",
		    a->domain), jint(ans, "generation", 0));
	if (answer_reload(c, ans) == 1)
		rc = EXIT_REJECTED;
	json_decref(ans);
	return rc;
}

static int
cmd_render(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t	*ans;
	int	 rc;

	if ((rc = domain_request(c, "POST", a->domain, API_D_RENDER, NULL,
	    &ans)) != 0)
		return rc;
	if (!c->json)
		printf("rendered generation %lld of %s\n",
		    jint(ans, "generation", 0), jstr(ans, "domain", a->domain));
	json_decref(ans);
	return 0;
}

static int
cmd_reload(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	json_t	*ans, *body;
	int	 rc;

	body = json_object();
	if (a->n == 1)
		json_object_set_new(body, "dependent", json_string(a->v[0]));
	rc = ctl_request(c, "POST", API_RELOAD, body, &ans);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (answer_reload(c, ans) == 1)
		rc = EXIT_REJECTED;
	json_decref(ans);
	return rc;
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

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "client-cert", required_argument, NULL, OPT_CLIENT_CERT },
		{ "client-key", required_argument, NULL, OPT_CLIENT_KEY },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl		 c = { 0 };
	struct args		 a;
	const struct cmd	*cmd;
	int			 ch, rc;

	/*
	 * A key passes through certctl too (upload --key, gen-ca, gen-cert):
	 * no core dump, and jansson's blocks (the request body) cleared.
	 */
	if (no_core_dumps() == -1) {
		fprintf(stderr, "certctl: cannot disable core dumps: %s\n",
		    strerror(errno));
		return EXIT_USAGE;
	}
	json_set_alloc_funcs(secure_malloc, secure_free);
	/* OpenSSL writes with write(2): certd refusing a TLS client may
	 * close before the request is sent; its alert tells why. */
	signal(SIGPIPE, SIG_IGN);
	c.sock = getenv("CERTD_SOCKET");
	if (c.sock == NULL || *c.sock == '\0')
		c.sock = CTL_SOCKET_DEFAULT;
	c.timeout = CTL_TIMEOUT_DEFAULT;

	opterr = 0;
	/* "+": stop at the command; its options are its own */
	while ((ch = getopt_long(argc, argv, "+s:H:t:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.sock = optarg;
			break;
		case 'H':
			if (remote_parse_url(&c, optarg) == -1)
				return usage_error(NULL, "-H wants "
				    "https://HOST:PORT, not %s", optarg);
			break;
		case OPT_CLIENT_CERT:
			c.client_cert = optarg;
			break;
		case OPT_CLIENT_KEY:
			c.client_key = optarg;
			break;
		case OPT_CA:
			c.ca = optarg;
			break;
		case 't':
			if (parse_int(optarg, 1, 86400, &c.timeout) == -1)
				return usage_error(NULL, "bad timeout: %s",
				    optarg);
			c.timeout_set = 1;
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
	if ((c.client_cert != NULL || c.client_key != NULL || c.ca != NULL) &&
	    c.url == NULL)
		return usage_error(NULL, "--client-cert, --client-key and --ca "
		    "go with -H https://HOST:PORT");
	if (c.url != NULL && (c.client_cert == NULL || c.client_key == NULL))
		return usage_error(NULL, "-H needs --client-cert FILE and "
		    "--client-key FILE: certd requires a client certificate");
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
	if ((rc = cmd_args(&c, cmd, argc - optind, argv + optind, &a)) != -1)
		return rc;
	return cmd->fn(&c, cmd, &a);
}
