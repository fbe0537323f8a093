/*
 * test_jsonw.c: what daemon/jsonw.c writes (GET /v1/status) parses with
 * jansson, as certctl reads it, to the very values written: odd bytes in
 * a certificate subject included, invalid UTF-8 as U+FFFD.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "jsonw.h"

/* Subjects a CA may really issue: quotes, backslashes, control bytes
 * (BMPString and T61 fields decode to anything), non-ASCII. */
static const char *const odd[] = {
	"CN=plain.example",
	"CN=\"quoted\", O=a\\b",
	"CN=tab\there,\nnewline\r\x01\x1f",
	"O=M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x92",	/* u-umlaut, euro, lock */
	"",
	"/ and </script>",
};

static json_t *
parse(struct jsonw *w)
{
	json_error_t	 e;
	json_t		*j;
	char		*s;
	size_t		 n;

	s = jsonw_finish(w, &n);
	assert_int_equal(s[n - 1], '\n');
	if ((j = json_loadb(s, n, 0, &e)) == NULL)
		fail_msg("does not parse: %s at %d: %.*s", e.text, e.position,
		    (int)n, s);
	free(s);
	return j;
}

static void
test_status_shape_round_trips(void **state)
{
	struct jsonw	 w;
	json_t		*j, *d, *srv;
	size_t		 i;

	jsonw_init(&w);
	jsonw_object(&w, NULL);
	jsonw_string(&w, "version", "0.1.0");
	jsonw_int(&w, "uptime", INT64_C(9007199254740993));
	jsonw_bool(&w, "busy", 0);
	jsonw_array(&w, "domains");
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		jsonw_object(&w, NULL);
		jsonw_string(&w, "domain", "d.example");
		jsonw_int(&w, "generation", -(int64_t)i);
		assert_int_equal(jsonw_object_or_null(&w, "server", 1), 1);
		jsonw_string(&w, "subject", odd[i]);
		jsonw_time(&w, "not_after", 0);
		jsonw_time(&w, "not_before", 1700000000);
		jsonw_close(&w);
		assert_int_equal(jsonw_object_or_null(&w, "last_reload", 0),
		    0);
		jsonw_close(&w);
	}
	jsonw_close(&w);
	jsonw_array(&w, "dependents");
	jsonw_close(&w);
	jsonw_close(&w);
	j = parse(&w);

	assert_string_equal(json_string_value(json_object_get(j, "version")),
	    "0.1.0");
	assert_true(json_integer_value(json_object_get(j, "uptime")) ==
	    INT64_C(9007199254740993));
	assert_true(json_is_false(json_object_get(j, "busy")));
	assert_int_equal(json_array_size(json_object_get(j, "dependents")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "domains")),
	    sizeof(odd) / sizeof(odd[0]));
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		d = json_array_get(json_object_get(j, "domains"), i);
		assert_int_equal(json_integer_value(json_object_get(d,
		    "generation")), -(int64_t)i);
		assert_true(json_is_null(json_object_get(d, "last_reload")));
		srv = json_object_get(d, "server");
		assert_string_equal(json_string_value(json_object_get(srv,
		    "subject")), odd[i]);
		assert_true(json_is_null(json_object_get(srv, "not_after")));
		assert_string_equal(json_string_value(json_object_get(srv,
		    "not_before")), "2023-11-14T22:13:20Z");
	}
	json_decref(j);
}

/* Invalid UTF-8 (a Latin-1 byte, a cut sequence, an overlong '/', a
 * surrogate) never makes the whole answer unreadable. */
static void
test_invalid_utf8_replaced(void **state)
{
	struct jsonw	 w;
	json_t		*j;

	jsonw_init(&w);
	jsonw_array(&w, NULL);
	jsonw_string(&w, NULL, "M\xfcller");
	jsonw_string(&w, NULL, "cut \xe2\x82");
	jsonw_string(&w, NULL, "\xc0\xaf");
	jsonw_string(&w, NULL, "\xed\xa0\x80x");
	jsonw_close(&w);
	j = parse(&w);
	assert_string_equal(json_string_value(json_array_get(j, 0)),
	    "M\xef\xbf\xbdller");
	assert_string_equal(json_string_value(json_array_get(j, 1)),
	    "cut \xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_array_get(j, 2)),
	    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_array_get(j, 3)),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");
	json_decref(j);
}

/* Text written by one writer goes into another whole (status writes the
 * domains first and the summary before them). */
static void
test_raw_value_and_empty_containers(void **state)
{
	struct jsonw	 a, w;
	json_t		*j;
	char		*s;
	size_t		 n;

	jsonw_init(&a);
	jsonw_array(&a, NULL);
	jsonw_close(&a);
	s = jsonw_finish(&a, &n);
	jsonw_init(&w);
	jsonw_object(&w, NULL);
	jsonw_object(&w, "summary");
	jsonw_close(&w);
	jsonw_raw(&w, "domains", s, n - 1);
	jsonw_int(&w, "after", 1);
	jsonw_close(&w);
	free(s);
	j = parse(&w);
	assert_int_equal(json_object_size(json_object_get(j, "summary")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "domains")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "after")), 1);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_shape_round_trips),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_raw_value_and_empty_containers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
