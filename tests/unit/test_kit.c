/*
 * test_kit.c -- what every adapter shares (function/kit.h), tested on its
 * own: header-name matching in any case, repeated headers, strict size
 * parsing with overflow (size_t is 32 bits in wasm32), the bump arena, the
 * refusals (for a body read that failed; a verified delivery's metadata
 * kept, none before verification), the request stages every adapter shares
 * (body limit, POST pre-check, answer head) and the settings list
 * (function/settings.h).
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
#include "settings.h"

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
	memset(&res, 0, sizeof res);
	assert_int_equal(kit_body_step(&res, KIT_BODY_OK), KIT_GO);
	assert_int_equal(res.status, 0);
	assert_int_equal(kit_body_step(&res, KIT_BODY_TOO_LARGE), KIT_STOP);
	assert_int_equal(pw_status_http(res.status), 413);
	assert_int_equal(kit_body_step(&res, KIT_BODY_SHORT), KIT_STOP);
	assert_int_equal(res.status, PW_ERR_MALFORMED_REQUEST);
	assert_string_equal(res.message, "body is shorter than CONTENT_LENGTH");
	assert_int_equal(kit_body_step(&res, KIT_BODY_ERROR), KIT_STOP);
	assert_string_equal(res.message, "the body could not be read");
	assert_null(res.record.connection_token.ptr);
}

static pw_span
span(const char *s)
{
	pw_span v;

	v.ptr = s;
	v.len = s != NULL ? strlen(s) : 0;
	return v;
}

static void
test_body_limit_and_post_precheck(void **state)
{
	pw_context ctx;

	(void)state;
	kit_limit(&ctx, span(NULL));
	assert_int_equal(ctx.body_max, PW_BODY_MAX);
	kit_limit(&ctx, span("1000"));
	assert_int_equal(ctx.body_max, 1000);
	kit_limit(&ctx, span("1k"));
	assert_int_equal(ctx.body_max, PW_BODY_MAX);       /* not a number: the default */
	kit_limit(&ctx, span("99999999999999999999999"));
	assert_int_equal(ctx.body_max, PW_BODY_MAX);
	assert_true(kit_wants_body(span("POST")));
	assert_false(kit_wants_body(span("post")));
	assert_false(kit_wants_body(span("GET")));
	assert_false(kit_wants_body(span("POSTS")));
	assert_false(kit_wants_body(span(NULL)));
}

static void
test_answer_heads(void **state)
{
	pw_result res;
	kit_head h;

	(void)state;
	kit_start(&res);
	kit_refuse(&res, PW_IGNORED, NULL);
	h = kit_head_of(&res, 1);
	assert_int_equal(h.status, 200);
	assert_true(h.receipt);
	assert_string_equal(h.content_type, "text/plain; charset=utf-8");
	h = kit_head_of(&res, 0);                          /* a direct WAGI call */
	assert_false(h.receipt);
	assert_string_equal(h.content_type, "application/json");
	kit_refuse(&res, PW_ERR_METHOD_NOT_ALLOWED, NULL);
	h = kit_head_of(&res, 1);
	assert_int_equal(h.status, 405);
	assert_true(h.allow_post);
	assert_false(h.receipt);
	assert_string_equal(h.reason, pw_status_reason(PW_ERR_METHOD_NOT_ALLOWED));
	kit_refuse(&res, PW_ERR_BAD_SIGNATURE, NULL);
	assert_false(kit_head_of(&res, 1).allow_post);
}

static void
test_settings_by_reader_and_name(void **state)
{
	kit_settings s;

	(void)state;
	memset(&s, 0, sizeof s);
	kit_setting_take(&s, READ_HTTP, "PANORA_WEBHOOK_MAX_BODY", 23, "512", 3);
	kit_setting_take(&s, READ_HTTP, "PANORA_WEBHOOK_FORWARD_URL", 26, "http://h/", 9);
	kit_setting_take(&s, READ_HTTP, "PANORA_API_KEY", 14, "k", 1);       /* the catch-up's */
	kit_setting_take(&s, READ_HTTP, "PANORA_WEBHOOK_SECRE", 20, "x", 1); /* a prefix */
	kit_setting_take(&s, READ_HTTP, "PANORA_WEBHOOK_SECRET", 21, "", 0); /* empty: unset */
	assert_memory_equal(s.max_body.ptr, "512", 3);
	assert_memory_equal(s.forward.url.ptr, "http://h/", 9);
	assert_null(s.api_key.ptr);
	assert_null(s.secret.ptr);
	kit_setting_take(&s, READ_CATCHUP, "PANORA_API_KEY", 14, "k", 1);
	assert_memory_equal(s.api_key.ptr, "k", 1);
	/* every setting has both names, and the Spin one is the environment
	   one in lower case */
	{
		size_t i, j;

		for (i = 0; i < KIT_SETTINGS_COUNT; i++) {
			const char *e = kit_env_settings[i].name, *v = kit_spin_settings[i].name;

			assert_int_equal(strlen(e), strlen(v));
			for (j = 0; e[j] != 0; j++) {
				assert_int_equal(v[j], e[j] >= 'A' && e[j] <= 'Z' ? e[j] + 32 : e[j]);
			}
		}
	}
}

static void
test_refusal_keeps_only_verified_metadata(void **state)
{
	pw_result res;

	(void)state;
	kit_start(&res);                         /* a capture, verified */
	res.status = PW_CAPTURED;
	res.id_event.ptr = "evt";
	res.id_event.len = 3;
	res.type.ptr = "connection.created";
	res.type.len = 18;
	res.record.connection_token.ptr = "ctok";
	res.record.connection_token.len = 4;
	kit_refuse(&res, PW_ERR_SINK_FAILED, NULL);
	assert_int_equal(pw_status_http(res.status), 503);
	assert_null(res.record.connection_token.ptr);
	assert_memory_equal(res.id_event.ptr, "evt", 3);
	assert_memory_equal(res.type.ptr, "connection.created", 18);
	assert_string_equal(res.message, pw_status_message(PW_ERR_SINK_FAILED));
	kit_start(&res);                         /* refused before verification */
	kit_refuse(&res, PW_ERR_PAYLOAD_TOO_LARGE, "too big");
	assert_null(res.id_event.ptr);
	assert_null(res.type.ptr);
	assert_string_equal(res.message, "too big");
}

static void
test_bufsink_as_a_bounded_buffer(void **state)
{
	char mem[8];
	bufsink m = { NULL, 0, 0, sizeof mem, mem };

	(void)state;
	bufsink_puts(&m, "abcde");
	bufsink_flush(&m);                                 /* nowhere to go: kept */
	assert_int_equal(m.len, 5);
	bufsink_puts(&m, "fghij");
	assert_int_equal(m.len, 10);                       /* cut: len > cap */
	assert_memory_equal(mem, "abcdefgh", 8);
	bufsink_puts(&m, "k");
	assert_int_equal(m.len, 11);
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
		cmocka_unit_test(test_refusal_keeps_only_verified_metadata),
		cmocka_unit_test(test_body_limit_and_post_precheck),
		cmocka_unit_test(test_answer_heads),
		cmocka_unit_test(test_settings_by_reader_and_name),
		cmocka_unit_test(test_bufsink_as_a_bounded_buffer),
	};

	return cmocka_run_group_tests_name("kit", tests, NULL, NULL);
}
