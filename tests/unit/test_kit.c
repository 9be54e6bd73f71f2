/*
 * test_kit.c -- what every adapter shares (function/kit.h), tested on its
 * own: header-name matching in any case, repeated headers, strict size
 * parsing with overflow (size_t is 32 bits in wasm32), the bump arena, and
 * the refusal for a body read that failed.
 *
 *   build/tests/test_kit
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kit.h"

static void
note(pw_request *req, unsigned *seen, const char *name, const char *value)
{
	cabi_note_header(req, seen, name, strlen(name), value, strlen(value));
}

static void
test_header_names_in_any_case(void **state)
{
	static const char *const sig[] = { "panora-signature", "Panora-Signature",
		"PANORA-SIGNATURE", "pAnOrA-sIgNaTuRe" };
	static const char *const not_sig[] = { "panora-signature-extra", "x-panora-signature",
		"panora_signature", "panora-signatur", "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sig / sizeof sig[0]; i++) {
		pw_request req;
		unsigned seen = 0;

		memset(&req, 0, sizeof req);
		note(&req, &seen, sig[i], "v");
		assert_non_null(req.signature.ptr);
		assert_int_equal(req.repeated, 0);
	}
	for (i = 0; i < sizeof not_sig / sizeof not_sig[0]; i++) {
		pw_request req;
		unsigned seen = 0;

		memset(&req, 0, sizeof req);
		note(&req, &seen, not_sig[i], "v");
		assert_null(req.signature.ptr);
		assert_null(req.content_type.ptr);
	}
}

static void
test_repeated_headers_are_marked(void **state)
{
	pw_request req;
	unsigned seen = 0;

	(void)state;
	memset(&req, 0, sizeof req);
	note(&req, &seen, "Content-Type", "application/json");
	note(&req, &seen, "Panora-Signature", "a");
	assert_int_equal(req.repeated, 0);
	note(&req, &seen, "panora-signature", "b");
	assert_int_equal(req.repeated, PW_REPEATED_SIGNATURE);
	note(&req, &seen, "CONTENT-TYPE", "text/plain");
	assert_int_equal(req.repeated, PW_REPEATED_SIGNATURE | PW_REPEATED_CONTENT_TYPE);
}

static void
test_size_parsing(void **state)
{
	static const struct { const char *text; kit_size_result r; size_t value; } t[] = {
		{ "0", KIT_SIZE_OK, 0 }, { "743", KIT_SIZE_OK, 743 }, { "0001", KIT_SIZE_OK, 1 },
		{ "", KIT_SIZE_BAD, 0 }, { "-1", KIT_SIZE_BAD, 0 }, { " 1", KIT_SIZE_BAD, 0 },
		{ "1 ", KIT_SIZE_BAD, 0 }, { "12x", KIT_SIZE_BAD, 0 },
		{ "+5", KIT_SIZE_BAD, 0 }, { "0x10", KIT_SIZE_BAD, 0 },
		/* the largest size_t is taken; one past it is too large, not wrapped */
		{ "18446744073709551615", KIT_SIZE_OK, SIZE_MAX },
		{ "18446744073709551616", KIT_SIZE_HUGE, 0 },
		{ "99999999999999999999", KIT_SIZE_HUGE, 0 },
		{ "184467440737095516150", KIT_SIZE_HUGE, 0 },
		/* too large and then not a number: not a number */
		{ "18446744073709551616x", KIT_SIZE_BAD, 0 },
	};
	size_t i;

	(void)state;
	assert_int_equal(sizeof(size_t), 8);        /* these numbers are for 64-bit */
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t v = 12345;
		kit_size_result r = kit_parse_size(t[i].text, strlen(t[i].text), &v);

		if (r != t[i].r) {
			fail_msg("\"%s\": got %d, want %d", t[i].text, (int)r, (int)t[i].r);
		}
		if (r == KIT_SIZE_OK) {
			assert_true(v == t[i].value);
		} else {
			assert_true(v == 12345);             /* untouched on refusal */
		}
	}
}

static void
test_bump_arena(void **state)
{
	static unsigned char base[64] __attribute__((aligned(16)));
	size_t used = 0;
	unsigned char *a, *b;

	(void)state;
	a = cabi_bump(base, sizeof base, &used, NULL, 0, 1, 3);
	assert_ptr_equal(a, base);
	b = cabi_bump(base, sizeof base, &used, NULL, 0, 8, 8);
	assert_ptr_equal(b, base + 8);               /* aligned up */
	assert_int_equal(used, 16);
	memcpy(b, "abcdefgh", 8);
	b = cabi_bump(base, sizeof base, &used, b, 8, 8, 16);   /* grows in place */
	assert_ptr_equal(b, base + 8);
	assert_int_equal(used, 24);
	a = cabi_bump(base, sizeof base, &used, a, 3, 1, 4);    /* not the newest: moves */
	assert_ptr_equal(a, base + 24);
	assert_memory_equal(b, "abcdefgh", 8);
}

static void
test_body_refusals(void **state)
{
	pw_result res;

	(void)state;
	kit_refuse_body(&res, KIT_BODY_TOO_LARGE);
	assert_int_equal(pw_status_http(res.status), 413);
	kit_refuse_body(&res, KIT_BODY_SHORT);
	assert_int_equal(res.status, PW_ERR_MALFORMED_REQUEST);
	assert_string_equal(res.message, "body is shorter than CONTENT_LENGTH");
	kit_refuse_body(&res, KIT_BODY_ERROR);
	assert_string_equal(res.message, "the body could not be read");
	assert_null(res.record.connection_token.ptr);
}

static void
test_unkept_keeps_only_metadata(void **state)
{
	pw_result res;

	(void)state;
	memset(&res, 0, sizeof res);
	res.status = PW_CAPTURED;
	res.id_event.ptr = "evt";
	res.id_event.len = 3;
	res.record.connection_token.ptr = "ctok";
	res.record.connection_token.len = 4;
	kit_unkept(&res, PW_ERR_SINK_FAILED, NULL);
	assert_int_equal(pw_status_http(res.status), 503);
	assert_null(res.record.connection_token.ptr);
	assert_memory_equal(res.id_event.ptr, "evt", 3);
	assert_string_equal(res.message, pw_status_message(PW_ERR_SINK_FAILED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_names_in_any_case),
		cmocka_unit_test(test_repeated_headers_are_marked),
		cmocka_unit_test(test_size_parsing),
		cmocka_unit_test(test_bump_arena),
		cmocka_unit_test(test_body_refusals),
		cmocka_unit_test(test_unkept_keeps_only_metadata),
	};

	return cmocka_run_group_tests_name("kit", tests, NULL, NULL);
}
