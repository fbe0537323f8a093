/* names.c: domain and item names (see names.h). */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "names.h"

int
domain_fold(const char *in, char out[DOMAIN_MAX + 1])
{
	size_t	 len = strlen(in), label = 0, i;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMAIN_MAX || in[0] == '.' || in[0] == '-')
		return -1;
	for (i = 0; i < len; i++) {
		if (in[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((!isalnum((unsigned char)in[i]) && in[i] != '-' &&
		    in[i] != '_') || ++label > 63)
			return -1;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

int
domain_valid(const char *s)
{
	char	 folded[DOMAIN_MAX + 1];

	return s != NULL && domain_fold(s, folded) == 0 &&
	    strcmp(folded, s) == 0;
}

int
item_name_valid(const char *s)
{
	size_t	 len, i;

	if (s == NULL || (len = strlen(s)) == 0 || len > ITEM_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isprint((unsigned char)s[i]) || s[i] == '/')
			return 0;
	return 1;
}
