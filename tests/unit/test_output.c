/*
 * test_output.c -- what lib/pw_output.c writes for a result: the receipt
 * a 2xx carries, against the text tests/vectors/gen.mjs computes for every
 * captured and ignored case (its own escaping rule, in Node), and by hand
 * at its edges; and the shape of the JSON response. Results are built
 * here from the vectors, not by pw_handle: this is the writer alone.
 *
 *   build/tests/test_output
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

static char outmem[1u << 16];

/* The result pw_handle gives for vector case `c`: its status, and its
   record or type as Node decoded them. */
static void
result_of(const pwt_case *c, pw_result *res)
{
	size_t f = 0;

	memset(res, 0, sizeof *res);
	res->status = c->has_record ? PW_CAPTURED : PW_IGNORED;
	res->type.ptr = c->type.p;
	res->type.len = c->type.n;
#define PW_X_FILL(name, kind) \
	res->record.name.ptr = c->record[f].p; res->record.name.len = c->record[f++].n;
	PW_RECORD_FIELDS(PW_X_FILL)
#undef PW_X_FILL
}

/* ------------------------------------------------------------------ */
/* The receipt                                                          */
/* ------------------------------------------------------------------ */

static void
expect_receipt(const char *name, const strbuf *out, const char *head,
	pwt_str value, const char *tail)
{
	char want[1024];
	int n = snprintf(want, sizeof want, "%s%.*s%s", head, (int)value.n,
		value.p, tail);

	if (out->len != (size_t)n || memcmp(out->buf, want, out->len) != 0) {
		fail_msg("%s: receipt \"%.*s\", want \"%s\"", name, (int)out->len,
			out->buf, want);
	}
}

static void
test_receipt_of_every_case(void **state)
{
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < PWT_NCASES; i++) {
		const pwt_case *c = &pwt_cases[i];
		pw_result res;
		strbuf out = { outmem, 0, sizeof outmem };
		size_t at;

		if (c->receipt_value.p == NULL) {
			continue;
		}
		n++;
		result_of(c, &res);
		if (!c->has_record) {
			pw_write_receipt(&res, "new", strbuf_sink, &out);
			expect_receipt(c->name, &out, "ignored ", c->receipt_value, "\n");
			continue;
		}
		pw_write_receipt(&res, "new forwarded", strbuf_sink, &out);
		expect_receipt(c->name, &out, "captured ", c->receipt_value, " new forwarded\n");
		for (at = 0; at + res.record.connection_token.len <= out.len; at++) {
			assert_false(memcmp(out.buf + at, res.record.connection_token.ptr,
				res.record.connection_token.len) == 0);
		}
		out.len = 0;
		pw_write_receipt(&res, NULL, strbuf_sink, &out);
		expect_receipt(c->name, &out, "captured ", c->receipt_value, " kept\n");
	}
	assert_true(n >= 30);
}

static void
test_receipt_ignored_is_clipped_and_escaped(void **state)
{
	pw_result res;
	strbuf out = { outmem, 0, sizeof outmem };
	static const char type[] = "a b\\c\nd\x7f" "e";
	char longtype[300];

	(void)state;
	memset(&res, 0, sizeof res);
	res.status = PW_IGNORED;
	res.type.ptr = type;
	res.type.len = sizeof type - 1;
	pw_write_receipt(&res, NULL, strbuf_sink, &out);
	assert_int_equal(out.len, strlen("ignored a\\x20b\\x5cc\\x0ad\\x7fe\n"));
	assert_memory_equal(out.buf, "ignored a\\x20b\\x5cc\\x0ad\\x7fe\n", out.len);

	/* 127 bytes then a two-byte character: cut before the character */
	memset(longtype, 'a', 127);
	memcpy(longtype + 127, "\xc3\xa9zzz", 5);
	res.type.ptr = longtype;
	res.type.len = 132;
	out.len = 0;
	pw_write_receipt(&res, NULL, strbuf_sink, &out);
	assert_int_equal(out.len, 8 + 127 + 1);
	assert_int_equal(out.buf[out.len - 2], 'a');
}

static void
test_receipt_is_nothing_for_errors(void **state)
{
	pw_status st;
	pw_result res;
	strbuf out = { outmem, 0, sizeof outmem };

	(void)state;
	for (st = PW_ERR_METHOD_NOT_ALLOWED; st < PW_STATUS_COUNT; st++) {
		memset(&res, 0, sizeof res);
		res.status = st;
		pw_write_receipt(&res, "new", strbuf_sink, &out);
		assert_int_equal(out.len, 0);
	}
}

/* ------------------------------------------------------------------ */
/* The response                                                         */
/* ------------------------------------------------------------------ */

static void
test_response_shape(void **state)
{
	pw_result res;
	strbuf out = { outmem, 0, sizeof outmem };
	static const char head[] = "{\"outcome\":\"captured\",\"id_event\":\"";
	static const char refused[] =
		"{\"outcome\":\"rejected\",\"error\":\"bad_signature\",\"message\":\"m\"}";

	(void)state;
	result_of(&pwt_cases[0], &res);
	assert_int_equal(res.status, PW_CAPTURED);
	pw_write_response(&res, strbuf_sink, &out);
	assert_memory_equal(out.buf, head, sizeof head - 1);
	assert_int_equal(out.buf[out.len - 1], '}');

	res.status = PW_ERR_BAD_SIGNATURE;
	res.message = "m";
	out.len = 0;
	pw_write_response(&res, strbuf_sink, &out);
	assert_int_equal(out.len, sizeof refused - 1);
	assert_memory_equal(out.buf, refused, out.len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt_of_every_case),
		cmocka_unit_test(test_receipt_ignored_is_clipped_and_escaped),
		cmocka_unit_test(test_receipt_is_nothing_for_errors),
		cmocka_unit_test(test_response_shape),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
