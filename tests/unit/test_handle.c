/*
 * test_handle.c -- pw_handle over every case of tests/vectors/gen.mjs
 * (signed and decoded by Node), plus the status table and the promise that
 * no secret or credential ever reaches an output.
 *
 *   build/tests/test_handle [substring]   runs only the matching cases
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "panora_webhook.h"
#include "cases.h"
#include "strbuf.h"
#include "fields.h"

static pw_context ctx;
static unsigned char scratch[PW_SCRATCH_FOR(PW_BODY_MAX)];

/* Outputs can be several times the body: escaping grows up to 6x. */
#define OUT_CAP (8u << 20)
static char outmem[OUT_CAP], logmem[OUT_CAP];

static int
contains(const strbuf *b, const char *needle, size_t n)
{
	size_t i;

	if (n == 0 || n > b->len) {
		return 0;
	}
	for (i = 0; i + n <= b->len; i++) {
		if (memcmp(b->buf + i, needle, n) == 0) {
			return 1;
		}
	}
	return 0;
}

static pw_span
span(pwt_str s)
{
	pw_span v;

	v.ptr = s.p;
	v.len = s.n;
	return v;
}

static void
span_equals(const char *field, pw_span got, pwt_str want)
{
	if (want.p == NULL) {
		if (got.ptr != NULL) {
			fail_msg("%s: got \"%.*s\", want null", field, (int)got.len, got.ptr);
		}
		return;
	}
	if (got.ptr == NULL) {
		fail_msg("%s: got null, want \"%s\"", field, want.p);
	}
	if (got.len != want.n) {
		fail_msg("%s: got %zu bytes, want %zu", field, got.len, want.n);
	}
	assert_memory_equal(got.ptr, want.p, want.n);
}

/* Output must never carry a secret, a provider credential or, for
   anything but a capture, a connection token. */
static void
assert_no_leak(const pwt_case *c, const pw_result *res, const strbuf *out)
{
	static const char *const never[] = {
		"provider-access-credential", "provider-refresh-credential",
		"whsec_", "3b241101-e2bb-4255-8caf-4136c566a962", "token_type",
	};
	size_t i;

	for (i = 0; i < sizeof never / sizeof never[0]; i++) {
		if (contains(out, never[i], strlen(never[i]))) {
			fail_msg("%s: output contains %s", c->name, never[i]);
		}
	}
	if (res->status != PW_CAPTURED && contains(out, "ctok_", 5)) {
		fail_msg("%s: non-capture output contains a connection token", c->name);
	}
}

static void
test_case(void **state)
{
	const pwt_case *c = (const pwt_case *)*state;
	pw_keyring kr;
	pw_request req;
	pw_result res;
	strbuf out = { outmem, 0, OUT_CAP }, log = { logmem, 0, OUT_CAP };
	size_t f;

	pw_context_init(&ctx, c->max_body, scratch, sizeof scratch);
	pw_keyring_init(&kr);
	if (c->secret.p != NULL) {
		pw_keyring_add_list(&kr, c->secret.p, c->secret.n);
	}
	req.method = span(c->method);
	req.signature = span(c->signature);
	req.content_type = span(c->content_type);
	req.body = span(c->body);

	pw_handle(&ctx, &kr, &req, &res);
	pw_keyring_wipe(&kr);

	if (pw_status_http(res.status) != c->http
		|| strcmp(pw_status_code(res.status), c->code) != 0)
	{
		fail_msg("%s: got %u %s (%s), want %u %s", c->name,
			pw_status_http(res.status), pw_status_code(res.status),
			res.message ? res.message : "", c->http, c->code);
	}
	assert_non_null(res.message);
	if (c->message != NULL && strstr(res.message, c->message) == NULL) {
		fail_msg("%s: refused with \"%s\", want one about %s", c->name,
			res.message, c->message);
	}

	if (c->has_record) {
		for (f = 0; f < PWT_NFIELDS; f++) {
			span_equals(pwt_field_names[f], record_field(&res.record, f), c->record[f]);
		}
	} else {
		static const pw_record empty;

		assert_memory_equal(&res.record, &empty, sizeof empty);
	}
	if (res.status == PW_IGNORED) {
		span_equals("type", res.type, c->type);
	}

	pw_write_response(&res, strbuf_sink, &out);
	assert_no_leak(c, &res, &out);
	pw_write_log(&res, strbuf_sink, &log);
	assert_no_leak(c, &res, &log);
	assert_false(contains(&log, "ctok_", 5));
	assert_int_equal(log.buf[log.len - 1], '\n');
	assert_null(memchr(log.buf, '\n', log.len - 1));
	/* one strict JSON object in valid UTF-8 (a clip inside a character
	   would break it); Node checks the same lines in tests/wasm */
	assert_true(pw_json_check(log.buf, log.len - 1) > 0);
}

static void
test_status_table(void **state)
{
	static const struct { pw_status st; unsigned http; const char *code; } t[] = {
		{ PW_CAPTURED, 200, "captured" },
		{ PW_IGNORED, 200, "ignored" },
		{ PW_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed" },
		{ PW_ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large" },
		{ PW_ERR_MALFORMED_REQUEST, 400, "malformed_request" },
		{ PW_ERR_MISSING_SIGNATURE, 400, "missing_signature" },
		{ PW_ERR_BAD_SIGNATURE, 401, "bad_signature" },
		{ PW_ERR_UNUSABLE_DATA, 422, "unusable_data" },
		{ PW_ERR_NO_SECRET, 500, "no_secret" },
		{ PW_ERR_NO_SINK, 500, "no_sink" },
		{ PW_ERR_SINK_FAILED, 503, "sink_failed" },
		{ PW_ERR_STORAGE_FAILED, 503, "storage_failed" },
	};
	size_t i;

	(void)state;
	assert_int_equal(sizeof t / sizeof t[0], PW_STATUS_COUNT);
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(pw_status_http(t[i].st), t[i].http);
		assert_string_equal(pw_status_code(t[i].st), t[i].code);
		assert_non_null(pw_status_reason(t[i].st));
		assert_true(strlen(pw_status_message(t[i].st)) > 0);
		assert_int_equal(pw_status_ok(t[i].st), t[i].http / 100 == 2);
	}
	assert_int_equal(pw_status_http((pw_status)99), 500);
}

/* A run-time limit can only lower the compile-time one. */
static void
test_limit_is_capped(void **state)
{
	(void)state;
	pw_context_init(&ctx, (size_t)PW_BODY_MAX * 4, scratch, sizeof scratch);
	assert_int_equal(ctx.body_max, PW_BODY_MAX);
	pw_context_init(&ctx, (size_t)PW_BODY_MAX + 1, scratch, sizeof scratch);
	assert_int_equal(ctx.body_max, PW_BODY_MAX);
	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	assert_int_equal(ctx.body_max, PW_BODY_MAX);
	pw_context_init(&ctx, 100, scratch, sizeof scratch);
	assert_int_equal(ctx.body_max, 100);
}

/* The first case (a typical delivery) as a direct call: its keyring and
   request, handled once and captured. */
static void
typical(pw_keyring *kr, pw_request *req, pw_result *res)
{
	const pwt_case *c = &pwt_cases[0];

	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	pw_keyring_init(kr);
	pw_keyring_add_list(kr, c->secret.p, c->secret.n);
	memset(req, 0, sizeof *req);
	req->signature = span(c->signature);
	req->body = span(c->body);
	assert_int_equal(pw_handle(&ctx, kr, req, res), PW_CAPTURED);
}

/* A header given twice is refused by the core, in its place in the order:
   after method and size, before the envelope. */
static void
test_repeated_headers(void **state)
{
	const pwt_case *c = &pwt_cases[0];
	pw_keyring kr;
	pw_request req;
	pw_result res;

	(void)state;
	typical(&kr, &req, &res);

	req.repeated = PW_REPEATED_SIGNATURE;
	assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_ERR_MISSING_SIGNATURE);
	assert_string_equal(res.message, "the Panora-Signature header appears more than once");
	req.repeated = PW_REPEATED_CONTENT_TYPE;
	assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_ERR_MALFORMED_REQUEST);
	assert_string_equal(res.message, "the Content-Type header appears more than once");

	/* method and size come first, on every interface */
	req.repeated = PW_REPEATED_SIGNATURE | PW_REPEATED_CONTENT_TYPE;
	req.method.ptr = "GET";
	req.method.len = 3;
	assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_ERR_METHOD_NOT_ALLOWED);
	req.method.ptr = NULL;
	pw_context_init(&ctx, c->body.n - 1, scratch, sizeof scratch);
	assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_ERR_PAYLOAD_TOO_LARGE);
	pw_keyring_wipe(&kr);
}

/* The adversarial corpus is the hostile part of the cases. */
static void
test_adversarial_corpus_size(void **state)
{
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < PWT_NCASES; i++) {
		n += pwt_cases[i].hostile != 0;
	}
	if (n < 60) {
		fail_msg("only %zu hostile cases; the corpus promises at least 60", n);
	}
}

/* The C field list and the one the generator (Node) decodes agree. */
static void
test_field_lists_agree(void **state)
{
	size_t f;

	(void)state;
	assert_int_equal(sizeof record_fields / sizeof record_fields[0], PWT_NFIELDS);
	for (f = 0; f < PWT_NFIELDS; f++) {
		assert_string_equal(record_fields[f].name, pwt_field_names[f]);
	}
}

/*
 * One delivery, by hand, the way Panora makes it: `data` is the Connection
 * Object as a JSON string, and the signature is
 * hex(HMAC-SHA256(secret, JSON.stringify(data))), i.e. over the raw text
 * of the data value, quotes included. (The signature below was computed
 * with Node: crypto.createHmac('sha256', 'whsec_readme')
 * .update(JSON.stringify(data)).digest('hex').)
 */
static void
test_one_delivery_by_hand(void **state)
{
	static const char body[] =
		"{\"id_event\":\"evt_1\","
		"\"data\":\"{\\\"id_connection\\\":\\\"conn_1\\\","
		"\\\"connection_token\\\":\\\"ctok_1\\\","
		"\\\"id_linked_user\\\":\\\"user_1\\\","
		"\\\"access_token\\\":\\\"never-read\\\","
		"\\\"account_url\\\":null}\","
		"\"type\":\"connection.created\"}";
	static const char sig[] =
		"69a710c60eee35ee101c095a968eb05863cb931f48c6b550c819d622371b0fec";
	pw_keyring kr;
	pw_request req;
	pw_result res;

	(void)state;
	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "whsec_readme", 12), 1);
	memset(&req, 0, sizeof req);
	req.signature.ptr = sig;
	req.signature.len = sizeof sig - 1;
	req.body.ptr = body;
	req.body.len = sizeof body - 1;

	assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_CAPTURED);
	assert_int_equal(pw_status_http(res.status), 200);
	assert_int_equal(res.record.connection_token.len, 6);
	assert_memory_equal(res.record.connection_token.ptr, "ctok_1", 6);
	assert_memory_equal(res.record.id_connection.ptr, "conn_1", 6);
	assert_memory_equal(res.record.id_linked_user.ptr, "user_1", 6);
	assert_memory_equal(res.record.id_event.ptr, "evt_1", 5);
	assert_null(res.record.account_url.ptr);      /* JSON null */
	assert_null(res.record.provider_slug.ptr);    /* absent    */

	/* one byte of data changed: the same signature no longer matches */
	{
		char forged[sizeof body];

		memcpy(forged, body, sizeof body);
		forged[strstr(forged, "ctok_1") - forged + 5] = '2';
		req.body.ptr = forged;
		assert_int_equal(pw_handle(&ctx, &kr, &req, &res), PW_ERR_BAD_SIGNATURE);
		assert_int_equal(pw_status_http(res.status), 401);
		assert_null(res.record.connection_token.ptr);
	}
	pw_keyring_wipe(&kr);
}

int
main(int argc, char **argv)
{
	static struct CMUnitTest tests[PWT_NCASES + 6];
	size_t i, n = 0;

	for (i = 0; i < PWT_NCASES; i++) {
		if (argc > 1 && strstr(pwt_cases[i].name, argv[1]) == NULL) {
			continue;
		}
		tests[n].name = pwt_cases[i].name;
		tests[n].test_func = test_case;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		tests[n].initial_state = (void *)(uintptr_t)&pwt_cases[i];
		n++;
	}
	if (argc <= 1) {
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_status_table);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_limit_is_capped);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_adversarial_corpus_size);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_repeated_headers);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_field_lists_agree);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_one_delivery_by_hand);
	}
	return _cmocka_run_group_tests("handle", tests, n, NULL, NULL);
}
