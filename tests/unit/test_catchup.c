/*
 * test_catchup.c -- pw_catchup over GET /connections answers made by
 * tests/vectors/gen.mjs (JSON.stringify of Panora-shaped rows; outcomes
 * from JSON.parse), fed in chunks of every awkward size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pw_catchup.h"
#include "cases.h"
#include "fields.h"

static void
span_equals(const char *what, size_t el, pw_span got, pwt_str want)
{
	if (want.p == NULL) {
		if (got.ptr != NULL) {
			fail_msg("element %zu %s: got \"%.*s\", want null", el, what,
				(int)got.len, got.ptr);
		}
		return;
	}
	if (got.ptr == NULL || got.len != want.n) {
		fail_msg("element %zu %s: got %zu bytes%s, want %zu", el, what,
			got.len, got.ptr == NULL ? " (null)" : "", want.n);
	}
	assert_memory_equal(got.ptr, want.p, want.n);
}

static unsigned char element[PWT_CATCHUP_ELEMENT_MAX];
static pw_catchup cu;

/* What one run over a list gave. */
typedef struct {
	size_t records, skips;
	pw_catchup_event last;
} run_result;

/*
 * Feed `text` in pieces of `chunk` bytes (0: all at once), checking each
 * element's outcome against gen.mjs when `expect` is set.
 */
static run_result
run_list(pwt_str text, size_t chunk, size_t cap, int expect)
{
	run_result rr = { 0, 0, PW_CATCHUP_MORE };
	size_t off = 0, el = 0;

	pw_catchup_init(&cu, element, cap);
	while (off < text.n && rr.last != PW_CATCHUP_ERROR) {
		size_t n = chunk == 0 || chunk > text.n - off ? text.n - off : chunk;
		const char *p = text.p + off;

		off += n;
		while (rr.last != PW_CATCHUP_ERROR) {
			size_t used = 0, f;
			pw_result res;

			rr.last = pw_catchup_feed(&cu, p, n, &used, &res);
			assert_true(used <= n);
			p += used;
			n -= used;
			if (rr.last == PW_CATCHUP_RECORD) {
				assert_int_equal(res.status, PW_CAPTURED);
				if (expect) {
					assert_true(el < PWT_NLISTED);
					if (!pwt_catchup_expect[el].has_record) {
						fail_msg("element %zu: got a record, want a skip", el);
					}
					for (f = 0; f < PWT_NFIELDS; f++) {
						span_equals(record_fields[f].name, el,
							record_field(&res.record, f),
							pwt_catchup_expect[el].record[f]);
					}
				}
				rr.records++;
				el++;
			} else if (rr.last == PW_CATCHUP_SKIPPED) {
				assert_int_equal(res.status, PW_ERR_UNUSABLE_DATA);
				assert_non_null(res.message);
				assert_null(res.record.connection_token.ptr);
				if (expect && pwt_catchup_expect[el].has_record) {
					fail_msg("element %zu: skipped (%s), want a record", el, res.message);
				}
				rr.skips++;
				el++;
			}
			if (n == 0 && (rr.last == PW_CATCHUP_MORE || rr.last == PW_CATCHUP_DONE)) {
				break;
			}
		}
	}
	if (rr.last != PW_CATCHUP_ERROR) {
		rr.last = pw_catchup_finish(&cu);
	}
	return rr;
}

static size_t
expected_records(void)
{
	size_t i, n = 0;

	for (i = 0; i < PWT_NLISTED; i++) {
		n += (size_t)pwt_catchup_expect[i].has_record;
	}
	return n;
}

/* Every chunk size gives the same records, in order, as JSON.parse. */
static void
test_every_chunking(void **state)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7, 64, 1000, 4096, 65536 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		run_result rr = run_list(pwt_catchup_list, chunks[i], sizeof element, 1);

		if (rr.last != PW_CATCHUP_DONE) {
			fail_msg("chunk %zu: ended with %d (%s)", chunks[i], (int)rr.last,
				cu.error ? cu.error : "");
		}
		assert_int_equal(rr.records, expected_records());
		assert_int_equal(rr.records + rr.skips, PWT_NLISTED);
		assert_int_equal(cu.listed, PWT_NLISTED);
		assert_int_equal(cu.skipped, PWT_NLISTED - expected_records());
		assert_null(cu.error);
	}
}

/* A row listed by the API and the same row delivered by webhook give the
   same record, byte for byte (id_event aside: the list has none). */
static void
test_same_record_as_webhook(void **state)
{
	static unsigned char scratch[1u << 20];
	static pw_context hctx;
	pw_keyring kr;
	size_t off = 0, el = 0, f, compared = 0;
	pw_catchup_event ev = PW_CATCHUP_MORE;

	(void)state;
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, pwt_catchup_secret,
		strlen(pwt_catchup_secret)), 1);
	pw_catchup_init(&cu, element, sizeof element);
	while (ev != PW_CATCHUP_DONE) {
		size_t used;
		pw_result res, hook;
		pw_request req;

		ev = pw_catchup_feed(&cu, pwt_catchup_list.p + off,
			pwt_catchup_list.n - off, &used, &res);
		off += used;
		assert_true(ev != PW_CATCHUP_ERROR && ev != PW_CATCHUP_MORE);
		if (ev == PW_CATCHUP_SKIPPED) {
			el++;
			continue;
		}
		if (ev != PW_CATCHUP_RECORD) {
			continue;
		}
		memset(&req, 0, sizeof req);
		req.signature.ptr = pwt_catchup_expect[el].hook_signature.p;
		req.signature.len = pwt_catchup_expect[el].hook_signature.n;
		req.body.ptr = pwt_catchup_expect[el].hook_body.p;
		req.body.len = pwt_catchup_expect[el].hook_body.n;
		pw_context_init(&hctx, 0, scratch, sizeof scratch);
		assert_int_equal(pw_handle(&hctx, &kr, &req, &hook), PW_CAPTURED);
		for (f = 0; f < PWT_NFIELDS; f++) {
			pw_span a = record_field(&res.record, f), b = record_field(&hook.record, f);

			if (strcmp(record_fields[f].name, "id_event") == 0) {
				assert_null(a.ptr);
				continue;
			}
			assert_int_equal(a.ptr == NULL, b.ptr == NULL);
			assert_int_equal(a.len, b.len);
			if (a.len > 0) {
				assert_memory_equal(a.ptr, b.ptr, a.len);
			}
		}
		compared++;
		el++;
	}
	pw_keyring_wipe(&kr);
	assert_int_equal(compared, expected_records());
}

/* Each answer that is not a list of connections is an error, whole or in
   single bytes, and the reason is given. */
static void
test_bad_lists(void **state)
{
	size_t i, c;

	(void)state;
	for (i = 0; i < PWT_NBAD_LISTS; i++) {
		for (c = 0; c < 2; c++) {
			run_result rr = run_list(pwt_catchup_bad[i].text, c, sizeof element, 0);

			if (rr.last != PW_CATCHUP_ERROR) {
				fail_msg("%s (chunk %zu): not refused", pwt_catchup_bad[i].name, c);
			}
			assert_non_null(cu.error);
		}
	}
}

/* A small element buffer skips the larger rows and reads on. */
static void
test_small_buffer_skips_and_goes_on(void **state)
{
	run_result rr;

	(void)state;
	rr = run_list(pwt_catchup_list, 5, 16, 0);
	assert_int_equal(rr.last, PW_CATCHUP_DONE);
	assert_int_equal(rr.records, 0);
	assert_int_equal(rr.skips, PWT_NLISTED);
}

/* An error is final: later input is refused too, and nothing more is read. */
static void
test_error_is_sticky(void **state)
{
	pw_result res;
	size_t used;

	(void)state;
	pw_catchup_init(&cu, element, sizeof element);
	assert_int_equal(pw_catchup_feed(&cu, "{", 1, &used, &res), PW_CATCHUP_ERROR);
	assert_int_equal(pw_catchup_feed(&cu, "[]", 2, &used, &res), PW_CATCHUP_ERROR);
	assert_int_equal(pw_catchup_feed(&cu, NULL, 0, &used, &res), PW_CATCHUP_ERROR);
	assert_int_equal(pw_catchup_finish(&cu), PW_CATCHUP_ERROR);
	assert_string_equal(cu.error, "the answer is not a JSON array");
}

/* The empty list and white space around it. */
static void
test_empty_list(void **state)
{
	static const char text[] = " \r\n[ \t]\n";
	pwt_str s = { text, sizeof text - 1 };
	run_result rr;

	(void)state;
	rr = run_list(s, 1, sizeof element, 0);
	assert_int_equal(rr.last, PW_CATCHUP_DONE);
	assert_int_equal(cu.listed, 0);
}

/* A row that nests far deeper than any decoder goes is skipped, counted,
   and does not stop the run. */
static void
test_deep_row_skipped(void **state)
{
	static char text[8192];
	size_t n = 0, i;
	pwt_str s;
	run_result rr;

	(void)state;
	n += (size_t)sprintf(text + n, "[{\"x\":");
	for (i = 0; i < 3000; i++) {
		text[n++] = '[';
	}
	for (i = 0; i < 3000; i++) {
		text[n++] = ']';
	}
	n += (size_t)sprintf(text + n, "}]");
	s.p = text;
	s.n = n;
	rr = run_list(s, 100, sizeof element, 0);
	assert_int_equal(rr.last, PW_CATCHUP_DONE);
	assert_int_equal(rr.skips, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunking),
		cmocka_unit_test(test_same_record_as_webhook),
		cmocka_unit_test(test_bad_lists),
		cmocka_unit_test(test_small_buffer_skips_and_goes_on),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_deep_row_skipped),
	};

	return cmocka_run_group_tests_name("catchup", tests, NULL, NULL);
}
