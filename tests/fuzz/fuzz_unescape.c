/*
 * fuzz_unescape.c -- the JSON string decoder.
 *
 * Whatever it accepts must be valid UTF-8, no longer than its input, also
 * accepted by the strict checker inside a string literal, and must survive
 * pw_json_write_string and a second decode unchanged. Whatever the checker
 * accepts, the decoder must accept too, unless it holds a lone surrogate.
 * On input the checker accepted, the fast `checked` mode (which does not
 * look at raw UTF-8 again) must give exactly what the full decoder gives.
 */
#include "fuzz.h"

static unsigned char dec[PW_BODY_MAX], dec2[PW_BODY_MAX], dec3[PW_BODY_MAX];
static char wrapped[PW_BODY_MAX + 16];
static char outmem[FUZZ_OUT_CAP];

/* Does s hold a \uXXXX escape of a UTF-16 surrogate (paired or not)? */
static int
has_surrogate_escape(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] != '\\' || i + 1 >= n) {
			i++;
			continue;
		}
		if (s[i + 1] == 'u' && i + 5 < n && (s[i + 2] | 0x20) == 'd'
			&& strchr("89abcdefABCDEF", s[i + 3]) != NULL && s[i + 3] != 0)
		{
			return 1;
		}
		i += 2;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *in = (const char *)data;
	fuzz_buf out = { outmem, 0 };
	long n, m, chk;

	if (size > PW_BODY_MAX) {
		return 0;
	}
	n = pw_json_unescape(dec, sizeof dec, in, size);

	memcpy(wrapped, "{\"a\":\"", 6);
	memcpy(wrapped + 6, in, size);
	memcpy(wrapped + 6 + size, "\"}", 2);
	chk = pw_json_check(wrapped, size + 8);

	/* {"a":"<input>"} holds exactly 3 tokens when the input is the inside
	   of one string literal; a raw quote in it can close the string and
	   open more members, which is valid JSON of another shape. */
	if (chk == 3) {
		long k = pw__json_unescape(dec3, sizeof dec3, in, size, 1);

		if (k != n || (n > 0 && memcmp(dec, dec3, (size_t)n) != 0)) {
			abort();          /* the checked mode decoded otherwise */
		}
	}
	if (n < 0) {
		if (chk == 3 && !has_surrogate_escape(in, size)) {
			abort();          /* valid JSON string refused */
		}
		return 0;
	}
	if ((size_t)n > size || !fuzz_utf8_ok((const char *)dec, (size_t)n) || chk != 3) {
		abort();
	}
	pw_json_write_string(fuzz_sink, &out, (const char *)dec, (size_t)n);
	m = pw_json_unescape(dec2, sizeof dec2, out.buf + 1, out.len - 2);
	if (m != n || memcmp(dec, dec2, (size_t)n) != 0) {
		abort();
	}
	return 0;
}
