/*
 * chain.c: a domain's chain (root seq 1, intermediates, server last with its
 * key), the kinds of its items, and the ordering of a bundle given in any
 * order by its issuer links.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "chain.h"
#include "util.h"

static const char *const kind_names[] = {
	[KIND_ROOT] = "root",
	[KIND_INTERMEDIATE] = "intermediate",
	[KIND_SERVER] = "server",
};

const char *
chain_kind_name(enum item_kind k)
{
	if ((size_t)k >= nitems(kind_names) || kind_names[k] == NULL)
		return "unknown";
	return kind_names[k];
}

int
chain_kind_from_name(const char *s)
{
	size_t	 k;

	for (k = KIND_ROOT; k < nitems(kind_names); k++)
		if (strcmp(s, kind_names[k]) == 0)
			return (int)k;
	return -1;
}

struct chain *
chain_new(void)
{
	return xcalloc(1, sizeof(struct chain));
}

void
chain_free(struct chain *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		X509_free(c->items[i].cert);
	EVP_PKEY_free(c->key);	/* OpenSSL clears private key material */
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int
chain_add(struct chain *c, const char *name, int seq, enum item_kind kind,
    X509 *cert, struct cert_error *err)
{
	struct chain_item	*it;

	if (c->n >= CHAIN_MAX)
		return cert_error_set(err, E_TOO_LARGE, name, seq,
		    "a chain holds at most %d certificates", CHAIN_MAX);
	if (strlen(name) > ITEM_NAME_MAX)
		return cert_error_set(err, E_BAD_REQUEST, "", seq,
		    "item name longer than %d characters", ITEM_NAME_MAX);
	if (!X509_up_ref(cert))
		return cert_error_set(err, E_INTERNAL, name, seq,
		    "X509_up_ref failed");
	it = &c->items[c->n++];
	strlcpy(it->name, name, sizeof(it->name));
	it->seq = seq;
	it->kind = kind;
	it->cert = cert;
	return 0;
}

X509 *
chain_leaf(const struct chain *c)
{
	if (c == NULL || c->n == 0 || c->items[c->n - 1].kind != KIND_SERVER)
		return NULL;
	return c->items[c->n - 1].cert;
}

/* --- bundles ----------------------------------------------------------- */

/* Could p have issued x?  Names, then key identifiers when both exist. */
static int
may_issue(X509 *p, X509 *x)
{
	const ASN1_OCTET_STRING	*aki, *ski;

	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(p)) != 0)
		return 0;
	aki = X509_get0_authority_key_id(x);
	ski = X509_get0_subject_key_id(p);
	if (aki != NULL && ski != NULL && ASN1_OCTET_STRING_cmp(aki, ski) != 0)
		return 0;
	return 1;
}

int
chain_from_bundle(STACK_OF(X509) *certs, EVP_PKEY *key, struct chain *out,
    struct cert_error *err)
{
	X509		*x, *y, *path[CHAIN_MAX];
	int		 parent[CHAIN_MAX], child_count[CHAIN_MAX];
	int		 n, i, j, leaf = -1, nleaf = 0, steps, cur;
	char		*s, name[ITEM_NAME_MAX + 1];
	EVP_PKEY	*pk;

	n = certs != NULL ? sk_X509_num(certs) : 0;
	if (n > CHAIN_MAX)
		return cert_error_set(err, E_TOO_LARGE, "bundle", 0,
		    "the bundle holds %d certificates; at most %d are "
		    "accepted", n, CHAIN_MAX);
	if (n < 2)
		return cert_error_set(err, E_ORDER, "bundle", 0,
		    "a bundle needs the root and the server certificate, "
		    "found %d certificate%s", n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (X509_cmp(sk_X509_value(certs, i),
			    sk_X509_value(certs, j)) == 0) {
				s = cert_subject_or(sk_X509_value(certs, j));
				cert_error_set(err, E_DUPLICATE, "bundle", 0,
				    "certificates %d and %d of the bundle are "
				    "the same (%s)", i + 1, j + 1,
				    s ? s : "?");
				free(s);
				return -1;
			}

	/* Link each certificate to its issuer in the bundle. */
	for (i = 0; i < n; i++) {
		x = sk_X509_value(certs, i);
		parent[i] = -1;
		child_count[i] = 0;
		for (j = 0; j < n; j++) {
			if (j == i)
				continue;
			y = sk_X509_value(certs, j);
			if (!may_issue(y, x))
				continue;
			/* Prefer the candidate whose key verifies. */
			pk = X509_get0_pubkey(y);
			if (parent[i] == -1 ||
			    (pk != NULL && X509_verify(x, pk) == 1))
				parent[i] = j;
			ERR_clear_error();
		}
	}
	for (i = 0; i < n; i++)
		if (parent[i] != -1)
			child_count[parent[i]]++;
	for (i = 0; i < n; i++)
		if (child_count[i] == 0) {
			nleaf++;
			leaf = i;
		}
	if (nleaf != 1)
		return cert_error_set(err, E_ORDER, "bundle", 0,
		    "the %d certificates do not form one chain: %d of them "
		    "issue no other certificate (there must be exactly one "
		    "server certificate)", n, nleaf);
	for (cur = leaf, steps = 0; cur != -1 && steps < n; steps++) {
		path[steps] = sk_X509_value(certs, cur);
		cur = parent[cur];
	}
	if (cur != -1 || steps != n) {
		for (i = 0; i < n; i++) {
			for (j = 0; j < steps; j++)
				if (path[j] == sk_X509_value(certs, i))
					break;
			if (j == steps)
				break;
		}
		s = i < n ? cert_subject_or(sk_X509_value(certs, i)) : NULL;
		cert_error_set(err, E_ORDER, "bundle", 0,
		    "the certificates do not form one chain from the server "
		    "to a root%s%s%s", s ? ": \"" : "", s ? s : "",
		    s ? "\" is not on that path" : "");
		free(s);
		return -1;
	}

	/* path[] runs server .. root; the chain runs root .. server. */
	for (i = n - 1; i >= 0; i--) {
		if (i == n - 1)
			strlcpy(name, "root", sizeof(name));
		else if (i == 0)
			strlcpy(name, "server", sizeof(name));
		else
			snprintf(name, sizeof(name), "intermediate-%d",
			    n - 1 - i);
		if (chain_add(out, name, n - i, i == n - 1 ? KIND_ROOT :
		    i == 0 ? KIND_SERVER : KIND_INTERMEDIATE, path[i],
		    err) == -1)
			return -1;
	}
	if (key != NULL) {
		if (!EVP_PKEY_up_ref(key))
			return cert_error_set(err, E_INTERNAL, "bundle", 0,
			    "EVP_PKEY_up_ref failed");
		EVP_PKEY_free(out->key);
		out->key = key;
	}
	return 0;
}
