/*
 * names.h: the one rule for domain names and item names, applied at every
 * boundary (API, config, command line, store, paths on disk).
 *
 * A domain name is a DNS name: labels of letters, digits, '-' and '_', each
 * 1..63 bytes, at most 253 in all.  Names are case-insensitive, so they are
 * folded to lower case where they enter (Example.COM and example.com are
 * one domain, one directory, one row); one trailing dot (the absolute
 * form) is dropped.  What is stored and compared is the folded form.
 *
 * An item name (CloudStack's keystore.name) is 1..64 printable ASCII
 * characters without '/'.
 */
#ifndef CERTD_NAMES_H
#define CERTD_NAMES_H

#include "proto.h"

/* Fold in into out (lower case, no trailing dot); 0, or -1 if it is not a
 * domain name.  in and out may be the same buffer. */
int	domain_fold(const char *in, char out[DOMAIN_MAX + 1]);
/* Is s a domain name already in folded form? */
int	domain_valid(const char *s);
int	item_name_valid(const char *s);

#endif
