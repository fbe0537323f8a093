/*
 * test_certctl.c: certctl's pieces that need no daemon: the HTTP reply
 * parser (lengths, chunks, EOF, garbage), URI escaping and the human output.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "certctl.h"

static int
parse(const char *s, int eof, struct http_reply *r, char *err)
{
	return http_parse_reply(s, strlen(s), eof, r, err, 256);
}

static void
test_reply_content_length(void **state)
{
	struct http_reply	 r;
	char			 err[256];
	const char		*full = "HTTP/1.1 422 Unprocessable\r\n"
	    "content-length: 5\r\nX: y\r\n\r\nhello";

	/* partial headers, partial body: need more; the full reply parses */
	assert_int_equal(http_parse_reply(full, 20, 0, &r, err, 256), 0);
	assert_int_equal(http_parse_reply(full, strlen(full) - 2, 0, &r, err,
	    256), 0);
	assert_int_equal(parse(full, 0, &r, err), 1);
	assert_int_equal(r.status, 422);
	assert_int_equal(r.len, 5);
	assert_string_equal(r.body, "hello");
	http_reply_free(&r);
	/* the peer closed before Content-Length bytes came: an error */
	assert_int_equal(http_parse_reply(full, strlen(full) - 2, 1, &r, err,
	    256), -1);
	assert_non_null(strstr(err, "3 of 5"));
}

static void
test_reply_chunked(void **state)
{
	struct http_reply	 r;
	char			 err[256];
	const char		*s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n4\r\n{\"a\"\r\na;ext=1\r\n:12345678}\r\n0\r\n\r\n";

	assert_int_equal(parse(s, 0, &r, err), 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"a\":12345678}");
	http_reply_free(&r);
	/* cut inside the second chunk: more needed; at EOF: an error */
	assert_int_equal(http_parse_reply(s, strlen(s) - 12, 0, &r, err, 256),
	    0);
	assert_int_equal(http_parse_reply(s, strlen(s) - 12, 1, &r, err, 256),
	    -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\nzz\r\n", 0, &r, err), -1);
}

static void
test_reply_until_eof(void **state)
{
	struct http_reply	 r;
	char			 err[256];
	const char		*s = "HTTP/1.0 200 OK\r\n\r\n{}";

	/* no length: the body ends when the daemon closes */
	assert_int_equal(parse(s, 0, &r, err), 0);
	assert_int_equal(parse(s, 1, &r, err), 1);
	assert_string_equal(r.body, "{}");
	http_reply_free(&r);
}

static void
test_reply_garbage(void **state)
{
	struct http_reply	 r;
	char			 err[256];

	assert_int_equal(parse("SSH-2.0-OpenSSH\r\n\r\n", 0, &r, err), -1);
	assert_int_equal(parse("HTTP/1.1 99x OK\r\n\r\n", 0, &r, err), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    0, &r, err), -1);
	assert_int_equal(parse("", 1, &r, err), -1);
	assert_string_equal(err, "connection closed without a reply");
	assert_int_equal(parse("HTTP/1.1 200", 1, &r, err), -1);
}

static void
test_uri_escape(void **state)
{
	char	 out[64];

	assert_int_equal(uri_escape("example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(uri_escape("a/b c?%", out, sizeof(out)), 0);
	assert_string_equal(out, "a%2Fb%20c%3F%25");
	assert_int_equal(uri_escape("abcdef", out, 6), -1);
}

static void
test_fmt(void **state)
{
	char	 out[256];

	fmt_fingerprint("0a1bff", out, sizeof(out));
	assert_string_equal(out, "0A:1B:FF");
	fmt_fingerprint("0a1bff", out, 6);	/* truncated, still terminated */
	assert_string_equal(out, "0A:1B");
	fmt_time("2026-11-23T11:00:00Z", out, sizeof(out));
	assert_string_equal(out, "2026-11-23 11:00:00 UTC");
	fmt_time("yesterday", out, sizeof(out));
	assert_string_equal(out, "yesterday");
}

/* What a printer writes, as a string. */
static char *
capture(void (*fn)(FILE *, json_t *), const char *json)
{
	json_t	*j = json_loads(json, 0, NULL);
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	assert_non_null(j);
	fn(f, j);
	fclose(f);
	json_decref(j);
	return buf;
}

static void
error_printer(FILE *f, json_t *j)
{
	print_api_error(f, j, 422);
}

static void
test_print_error(void **state)
{
	char	*s;

	s = capture(error_printer, "{\"error\":{\"code\":\"E_ORDER\","
	    "\"message\":\"server before root\",\"item\":{\"name\":\"srv\","
	    "\"seq\":2}}}");
	assert_string_equal(s, "certctl: E_ORDER: server before root "
	    "(item srv, seq 2)\n");
	free(s);
	s = capture(error_printer, "{\"error\":{\"code\":\"E_BAD_REQUEST\","
	    "\"message\":\"bad JSON\"}}");
	assert_string_equal(s, "certctl: E_BAD_REQUEST: bad JSON\n");
	free(s);
}

static void
test_print_reload(void **state)
{
	json_t	*j;
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	j = json_loads("{\"result\":\"rolled-back\",\"generation\":2,"
	    "\"message\":\"verify apache: served leaf is aa, expected bb; "
	    "rolled back to generation 2\"}", 0, NULL);
	f = open_memstream(&buf, &len);
	assert_int_equal(print_reload(f, j), 1);
	fclose(f);
	assert_string_equal(buf, "rolled back to generation 2: verify apache: "
	    "served leaf is aa, expected bb\n");
	free(buf);
	assert_int_equal(print_reload(NULL, j), 1);	/* --json: verdict */
	json_decref(j);

	j = json_loads("{\"result\":\"ok\",\"generation\":3}", 0, NULL);
	assert_int_equal(print_reload(NULL, j), 0);
	json_decref(j);
	j = json_loads("{\"result\":\"failed\",\"message\":\"x\"}", 0, NULL);
	assert_int_equal(print_reload(NULL, j), 1);
	json_decref(j);
}

static void
print_status_all(FILE *f, json_t *j)
{
	print_status(f, j, 1);
}

static void
print_status_attention(FILE *f, json_t *j)
{
	print_status(f, j, 0);
}

static void
test_print_status_columns(void **state)
{
	char	*s, *l1, *l2, *l3;

	s = capture(print_status_all, "{\"version\":\"0.1.0\",\"uptime\":61,"
	    "\"summary\":{\"domains\":2,\"states\":{\"ok\":1,"
	    "\"expiring\":1},\"next_expiry\":{\"domain\":\"bb.example.org\","
	    "\"not_after\":\"2026-12-01T00:00:00Z\",\"days_left\":8},"
	    "\"unchecked\":0},"
	    "\"domains\":[{\"domain\":\"a.example\",\"generation\":12,"
	    "\"state\":\"ok\",\"server\":{\"subject\":\"CN=a.example\","
	    "\"not_after\":\"2027-01-01T00:00:00Z\",\"days_left\":39}},"
	    "{\"domain\":\"bb.example.org\",\"generation\":1,\"state\":"
	    "\"expiring\",\"server\":{\"subject\":\"CN=bb\",\"not_after\":"
	    "\"2026-12-01T00:00:00Z\",\"days_left\":8}}]}");
	assert_non_null(strstr(s, "2 domains: 1 expiring, 1 ok; next expiry "
	    "bb.example.org in 8 days (2026-12-01 00:00:00 UTC)\n"));
	/* the STATE column starts at the same offset in every row */
	assert_non_null(l1 = strstr(s, "DOMAIN"));
	assert_non_null(l2 = strstr(s, "bb.example.org  "));
	assert_non_null(l3 = strstr(s, "a.example  "));
	assert_int_equal(strstr(l1, "STATE") - l1,
	    strstr(l2, "expiring") - l2);
	/* the expiring domain is listed before the ok one */
	assert_true(l2 < l3);
	assert_non_null(strstr(s, "2026-12-01 00:00:00 UTC  8 "));
	assert_null(strstr(s, "--all"));
	free(s);

	s = capture(print_status_attention, "{\"version\":\"0.1.0\","
	    "\"uptime\":61,\"summary\":{\"domains\":3,\"states\":{\"ok\":3}},"
	    "\"domains\":[]}");
	assert_non_null(strstr(s, "3 domains: 3 ok\n"));
	assert_non_null(strstr(s, "Every domain is ok. (certctl status --all "
	    "lists every domain.)\n"));
	assert_null(strstr(s, "DOMAIN"));
	free(s);
}

static void
test_print_show(void **state)
{
	char	*s;

	s = capture(print_show, "{\"domain\":\"example.com\",\"generation\":1,"
	    "\"items\":[{\"name\":\"root\",\"seq\":1,\"kind\":\"root\","
	    "\"subject\":\"CN=Root\",\"issuer\":\"CN=Root\",\"serial\":\"0a\","
	    "\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":"
	    "\"2036-01-01T00:00:00Z\",\"sha256\":\"abcdef\"}]}");
	assert_non_null(strstr(s, "Your chain contains 1 entry\n"));
	assert_non_null(strstr(s, "Alias name: root\n"));
	assert_non_null(strstr(s, "Owner: CN=Root\n"));
	assert_non_null(strstr(s, "Valid from: 2026-01-01 00:00:00 UTC until: "
	    "2036-01-01 00:00:00 UTC\n"));
	assert_non_null(strstr(s, "SHA256: AB:CD:EF\n"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_content_length),
		cmocka_unit_test(test_reply_chunked),
		cmocka_unit_test(test_reply_until_eof),
		cmocka_unit_test(test_reply_garbage),
		cmocka_unit_test(test_uri_escape),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_print_error),
		cmocka_unit_test(test_print_reload),
		cmocka_unit_test(test_print_status_columns),
		cmocka_unit_test(test_print_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
