/*
 * render-tool.c: the tests/render-tool check program: render one generation
 * from PEM files into a state dir (crash test, benchmark), or check one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "chain.h"
#include "conf.h"
#include "log.h"
#include "gendir.h"
#include "render.h"
#include "testpki.h"
#include "util.h"

static const char usage_text[] =
"usage: render-tool [-c] [-s] [-b N] [-k KEEP] [-G GROUP] STATE DOMAIN GEN\n"
"           ROOT.pem [INTER.pem ...] SERVER.pem SERVER.key\n"
"       render-tool -q STATE DOMAIN\n"
"\n"
"Renders generation GEN of DOMAIN into STATE/domains/DOMAIN and makes it\n"
"current.  Certificates are given root first, the server last, then its key.\n"
"  -c        render_clean the domain first (what certd does on start)\n"
"  -s        truststore_include_system = yes\n"
"  -k KEEP   gendir_prune afterwards, keeping KEEP generations\n"
"  -G GROUP  key_group (default ssl-cert)\n"
"  -b N      benchmark: render N generations GEN..GEN+N-1 and print the\n"
"            time of each render_generation in ms, one per line\n"
"  -q        print the generation current names; exit 0 if it is complete\n"
"            (matches its manifest), 1 if not, 3 if there is none\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static int
check_current(struct certd_conf *conf, const char *domain)
{
	int64_t	 gen;

	gen = gendir_current(conf, domain);
	printf("%" PRId64 "\n", gen);
	if (gen == 0)
		return 3;
	return gen > 0 && gendir_check(conf, domain, gen) ? 0 : 1;
}

/* Keep the newest keep generations on disk (certd asks the store). */
static int
prune_newest(const struct certd_conf *conf, const char *domain, int keep)
{
	int64_t	*gens;
	size_t	 n;
	int	 dfd, rc;

	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return -1;
	rc = gendir_list(dfd, &gens, &n);
	close(dfd);
	if (rc == -1)
		return -1;
	rc = gendir_prune(conf, domain, gens, n < (size_t)keep ? n :
	    (size_t)keep);
	free(gens);
	return rc;
}

int
main(int argc, char **argv)
{
	struct certd_conf	*conf;
	struct cert_error	 err;
	struct chain		 ch;
	const char		*domain, *group = NULL;
	struct timespec		 t0, t1;
	int64_t			 gen;
	long			 bench = 0, i;
	int			 c, clean = 0, sys = 0, check = 0, keep = -1;
	int			 ncerts, rc = 0;

	while ((c = getopt(argc, argv, "b:cG:k:qs")) != -1) {
		switch (c) {
		case 'b':
			bench = strtol(optarg, NULL, 10);
			break;
		case 'c':
			clean = 1;
			break;
		case 'G':
			group = optarg;
			break;
		case 'k':
			keep = atoi(optarg);
			break;
		case 'q':
			check = 1;
			break;
		case 's':
			sys = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	log_init(1, 0);
	if ((conf = conf_new()) == NULL)
		return 2;
	if (argc < 2)
		usage();
	free(conf->state_dir);
	conf->state_dir = strdup(argv[0]);
	domain = argv[1];
	if (check) {
		rc = check_current(conf, domain);
		conf_free(conf);
		return rc;
	}
	ncerts = argc - 4;
	if (ncerts < 2 || ncerts > CHAIN_MAX)
		usage();
	gen = strtoll(argv[2], NULL, 10);
	if (group != NULL) {
		free(conf->key_group);
		conf->key_group = strdup(group);
	}
	conf->truststore_include_system = sys;

	memset(&ch, 0, sizeof(ch));
	for (c = 0; c < ncerts; c++) {
		ch.items[c].cert = tpki_read_cert(argv[3 + c]);
		ch.items[c].seq = c + 1;
		ch.items[c].kind = c == 0 ? KIND_ROOT : c == ncerts - 1 ?
		    KIND_SERVER : KIND_INTERMEDIATE;
		if (c == 0)
			strlcpy(ch.items[c].name, "root", sizeof(ch.items[c].name));
		else if (c == ncerts - 1)
			strlcpy(ch.items[c].name, "server",
			    sizeof(ch.items[c].name));
		else
			snprintf(ch.items[c].name, sizeof(ch.items[c].name),
			    "intermediate-%d", c);
	}
	ch.n = ncerts;
	ch.key = tpki_read_key(argv[argc - 1]);

	/* certd makes its state dir itself before it renders; so do we. */
	if (mkdir(conf->state_dir, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "render-tool: %s: %s\n", conf->state_dir,
		    strerror(errno));
		rc = 2;
		goto out;
	}
	if (clean && gendir_clean(conf, domain) == -1) {
		fprintf(stderr, "render-tool: render_clean failed\n");
		rc = 1;
		goto out;
	}
	for (i = 0; i < (bench > 0 ? bench : 1); i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (render_generation(conf, domain, gen + i, &ch, &err) == -1) {
			fprintf(stderr, "render-tool: %s: %s\n",
			    cert_code_name(err.code), err.message);
			rc = 1;
			goto out;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (bench > 0)
			printf("%.3f\n", (t1.tv_sec - t0.tv_sec) * 1e3 +
			    (t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	if (keep >= 0 && prune_newest(conf, domain, keep) == -1) {
		fprintf(stderr, "render-tool: gendir_prune failed\n");
		rc = 1;
	}
out:
	for (c = 0; c < ncerts; c++)
		X509_free(ch.items[c].cert);
	EVP_PKEY_free(ch.key);
	conf_free(conf);
	return rc;
}
