/*
 * test_json.c -- the strict checker, the string decoder and the writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "panora_webhook.h"
#include "strbuf.h"

#define CHECK(js) pw_json_check(js, sizeof(js) - 1)

static void
test_check_accepts_json_objects(void **state)
{
	static const char *const ok[] = {
		"{}", " {} ", "\t{\r\n}\n", "{\"a\":1}", "{\"a\":[]}", "{\"a\":{}}",
		"{\"a\":[1,-0,0.5,1e9,1E+2,-1.25e-3,true,false,null,\"s\"]}",
		"{\"\":\"\"}", "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}",
		"{\"a\":\"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}",
		"{\"a\":\"\\ud800\"}",   /* lone surrogate escape: valid JSON */
		"{\"a\" : 1 , \"b\" : [ 1 , 2 ] }",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (pw_json_check(ok[i], strlen(ok[i])) < 1) {
			fail_msg("rejected valid JSON: %s", ok[i]);
		}
	}
	assert_int_equal(CHECK("{\"a\":[1,{\"b\":null}]}"), 7);
}

static void
test_check_rejects(void **state)
{
	static const struct { const char *js; long want; } bad[] = {
		{ "", PW_JSON_NOT_OBJ }, { "   ", PW_JSON_NOT_OBJ },
		{ "[]", PW_JSON_NOT_OBJ }, { "1", PW_JSON_NOT_OBJ },
		{ "\"a\"", PW_JSON_NOT_OBJ }, { "null", PW_JSON_NOT_OBJ },
		{ "{", PW_JSON_SYNTAX }, { "}", PW_JSON_NOT_OBJ },
		{ "{}}", PW_JSON_SYNTAX }, { "{}{}", PW_JSON_SYNTAX },
		{ "{} x", PW_JSON_SYNTAX }, { "{\"a\"}", PW_JSON_SYNTAX },
		{ "{\"a\" \"b\"}", PW_JSON_SYNTAX }, { "{\"a\":1 \"b\":2}", PW_JSON_SYNTAX },
		{ "{\"a\":1,}", PW_JSON_SYNTAX }, { "{,}", PW_JSON_SYNTAX },
		{ "{\"a\":[1,]}", PW_JSON_SYNTAX }, { "{\"a\":[,1]}", PW_JSON_SYNTAX },
		{ "{\"a\":[1 2]}", PW_JSON_SYNTAX }, { "{\"a\":[}", PW_JSON_SYNTAX },
		{ "{\"a\":{]}", PW_JSON_SYNTAX }, { "{\"a\":[1}", PW_JSON_SYNTAX },
		{ "{1:2}", PW_JSON_SYNTAX }, { "{a:1}", PW_JSON_SYNTAX },
		{ "{\"a\":tru}", PW_JSON_SYNTAX }, { "{\"a\":truex}", PW_JSON_SYNTAX },
		{ "{\"a\":nul}", PW_JSON_SYNTAX }, { "{\"a\":True}", PW_JSON_SYNTAX },
		{ "{\"a\":01}", PW_JSON_SYNTAX }, { "{\"a\":-}", PW_JSON_SYNTAX },
		{ "{\"a\":1.}", PW_JSON_SYNTAX }, { "{\"a\":.5}", PW_JSON_SYNTAX },
		{ "{\"a\":1e}", PW_JSON_SYNTAX }, { "{\"a\":+1}", PW_JSON_SYNTAX },
		{ "{\"a\":0x1}", PW_JSON_SYNTAX }, { "{\"a\":NaN}", PW_JSON_SYNTAX },
		{ "{\"a\":'s'}", PW_JSON_SYNTAX }, { "{\"a\":\"\\x\"}", PW_JSON_SYNTAX },
		{ "{\"a\":\"\\u12\"}", PW_JSON_SYNTAX }, { "{\"a\":\"\\u12g4\"}", PW_JSON_SYNTAX },
		{ "{\"a\":\"\\\"}", PW_JSON_SYNTAX }, { "{\"a\":\"x", PW_JSON_SYNTAX },
		{ "{\"a\":\"\t\"}", PW_JSON_SYNTAX }, { "{\"a\":\"\n\"}", PW_JSON_SYNTAX },
		{ "{\"a\":\"\x7f\"}", 3 },  /* DEL is allowed raw */
		{ "{\"a\":\"\xc0\xaf\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xc1\xbf\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\xe0\x9f\xbf\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xed\xa0\x80\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\xf0\x8f\xbf\xbf\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xf4\x90\x80\x80\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\xf5\x80\x80\x80\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xff\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\x80\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xe2\x82\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\xe2\x82\x41\"}", PW_JSON_UTF8 }, { "{\"\xff\":1}", PW_JSON_UTF8 },
		/* a lead byte where a continuation byte must stand */
		{ "{\"a\":\"\xe2\x82\xc2\"}", PW_JSON_UTF8 }, { "{\"a\":\"\xf0\x9f\x98\xf0\"}", PW_JSON_UTF8 },
		{ "{\"a\":\"\xf0\x9f\xc3\x80\"}", PW_JSON_UTF8 },
		{ "{\"a\":1}\xef\xbb\xbf", PW_JSON_SYNTAX }, { "\xef\xbb\xbf{}", PW_JSON_NOT_OBJ },
		{ "{\"a\":1\xc2\xa0}", PW_JSON_SYNTAX }, /* NBSP is not white space */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		long got = pw_json_check(bad[i].js, strlen(bad[i].js));

		if (got != bad[i].want) {
			fail_msg("case %zu (%s): got %ld, want %ld", i, bad[i].js, got,
				bad[i].want);
		}
	}
	/* NUL bytes, inside and outside strings and after the end */
	assert_int_equal(pw_json_check("{\"a\":\"\0\"}", 9), PW_JSON_UTF8);
	assert_int_equal(pw_json_check("{\0}", 3), PW_JSON_UTF8);
	assert_int_equal(pw_json_check("{}\0", 3), PW_JSON_UTF8);
}

static void
test_check_limits(void **state)
{
	static char buf[8192];
	size_t n = 0;
	int i;

	(void)state;
	/* depth: { plus PW_MAX_DEPTH - 1 arrays is at the limit */
	buf[n++] = '{';
	buf[n++] = '"'; buf[n++] = 'a'; buf[n++] = '"'; buf[n++] = ':';
	for (i = 0; i < PW_MAX_DEPTH - 1; i++) buf[n++] = '[';
	for (i = 0; i < PW_MAX_DEPTH - 1; i++) buf[n++] = ']';
	buf[n++] = '}';
	assert_true(pw_json_check(buf, n) > 0);
	n = 0;
	buf[n++] = '{';
	buf[n++] = '"'; buf[n++] = 'a'; buf[n++] = '"'; buf[n++] = ':';
	for (i = 0; i < PW_MAX_DEPTH; i++) buf[n++] = '[';
	for (i = 0; i < PW_MAX_DEPTH; i++) buf[n++] = ']';
	buf[n++] = '}';
	assert_int_equal(pw_json_check(buf, n), PW_JSON_DEPTH);

	/* tokens: {"a":[0,0,...]} holds 3 + count tokens */
	n = 0;
	memcpy(buf, "{\"a\":[", 6);
	n = 6;
	for (i = 0; i < PW_MAX_TOKENS - 3; i++) {
		buf[n++] = '0';
		buf[n++] = ',';
	}
	buf[n - 1] = ']';
	buf[n++] = '}';
	assert_int_equal(pw_json_check(buf, n), PW_MAX_TOKENS);
	buf[n - 2] = ',';
	buf[n - 1] = '0';
	buf[n++] = ']';
	buf[n++] = '}';
	assert_int_equal(pw_json_check(buf, n), PW_JSON_TOKENS);
}

static void
unescape_is(const char *in, const char *want, size_t want_len)
{
	unsigned char out[64];
	long n = pw_json_unescape(out, sizeof out, in, strlen(in));

	if (n != (long)want_len) {
		fail_msg("unescape(%s): got length %ld, want %zu", in, n, want_len);
	}
	assert_memory_equal(out, want, want_len);
}

static void
test_unescape_every_form(void **state)
{
	(void)state;
	unescape_is("", "", 0);
	unescape_is("plain", "plain", 5);
	unescape_is("\\\"", "\"", 1);
	unescape_is("\\\\", "\\", 1);
	unescape_is("\\/", "/", 1);
	unescape_is("\\b\\f\\n\\r\\t", "\b\f\n\r\t", 5);
	unescape_is("\\u0000", "\0", 1);
	unescape_is("\\u0041\\u007F", "A\x7f", 2);
	unescape_is("\\u0080", "\xc2\x80", 2);
	unescape_is("\\u07ff", "\xdf\xbf", 2);
	unescape_is("\\u0800", "\xe0\xa0\x80", 3);
	unescape_is("\\u2028\\u2029", "\xe2\x80\xa8\xe2\x80\xa9", 6);
	unescape_is("\\uFFFF", "\xef\xbf\xbf", 3);
	unescape_is("\\uD800\\uDC00", "\xf0\x90\x80\x80", 4);
	unescape_is("\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4);
	unescape_is("\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf", 4);
	unescape_is("a\\u00e9b\xc3\xa9" "c", "a\xc3\xa9" "b\xc3\xa9" "c", 7);
	unescape_is("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 4);
}

static void
test_unescape_rejects(void **state)
{
	static const char *const bad[] = {
		"\\", "\\x", "\\u", "\\u12", "\\u12G4", "\\U0041", "\\'",
		"\\ud800", "\\ud800x", "\\ud800\\u0041", "\\ud800\\ud800",
		"\\udc00", "\\udfff\\ud800", "\"", "\x01", "\x1f", "\t",
		"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
		"\x80", "\xff",
	};
	unsigned char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pw_json_unescape(out, sizeof out, bad[i], strlen(bad[i])) != PW_DECODE_INVALID) {
			fail_msg("unescape accepted bad input %zu", i);
		}
	}
	/* NUL is a control character */
	assert_int_equal(pw_json_unescape(out, sizeof out, "a\0b", 3), PW_DECODE_INVALID);
	/* the output capacity is respected; the first error found is named */
	assert_int_equal(pw_json_unescape(out, 3, "abcd", 4), PW_DECODE_CAP);
	assert_int_equal(pw_json_unescape(out, 3, "\\u00e9\\u00e9", 12), PW_DECODE_CAP);
	assert_int_equal(pw_json_unescape(out, 4, "\\u00e9\\u00e9", 12), 4);
	assert_int_equal(pw_json_unescape(out, 3, "abcd\\x", 6), PW_DECODE_CAP);
	assert_int_equal(pw_json_unescape(out, 3, "ab\\x", 4), PW_DECODE_INVALID);
}


static void
writes_as(const char *in, size_t len, const char *want)
{
	char mem[256];
	strbuf b = { mem, 0, sizeof mem };

	pw_json_write_string(strbuf_sink, &b, in, len);
	if (b.len != strlen(want) || memcmp(b.buf, want, b.len) != 0) {
		fail_msg("write(%s): got %.*s, want %s", in, (int)b.len, b.buf, want);
	}
}

static void
test_write_string(void **state)
{
	char all[32];
	int i;

	(void)state;
	writes_as("", 0, "\"\"");
	writes_as("abc", 3, "\"abc\"");
	writes_as("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"");
	writes_as("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	writes_as("\0\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\x7f\"");
	writes_as("\xc3\xa9\xe2\x80\xa8", 5, "\"\xc3\xa9\xe2\x80\xa8\"");
	/* round trip through the decoder for every control character */
	for (i = 0; i < 32; i++) {
		all[i] = (char)i;
	}
	{
		char mem[256];
		strbuf b = { mem, 0, sizeof mem };
		unsigned char back[32];

		pw_json_write_string(strbuf_sink, &b, all, 32);
		assert_int_equal(pw_json_unescape(back, sizeof back, b.buf + 1,
			b.len - 2), 32);
		assert_memory_equal(back, all, 32);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_json_objects),
		cmocka_unit_test(test_check_rejects),
		cmocka_unit_test(test_check_limits),
		cmocka_unit_test(test_unescape_every_form),
		cmocka_unit_test(test_unescape_rejects),
		cmocka_unit_test(test_write_string),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
