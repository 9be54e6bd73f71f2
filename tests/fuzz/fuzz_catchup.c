/*
 * fuzz_catchup.c -- the GET /connections reader on any bytes, in any
 * chunking.
 *
 * The first input byte picks a chunk size and an element limit; the rest
 * is the answer. It is read twice, whole and in chunks: both reads must
 * give the same events and the same records, and every record and skip
 * must keep pw_handle's promises (no partial record, fields valid UTF-8
 * without NUL, the outputs valid JSON).
 */
#include "fuzz.h"
#include "pw_catchup.h"

static unsigned char element[8192];
static pw_catchup cu;
static char outmem[FUZZ_OUT_CAP];
static char trace[2][FUZZ_OUT_CAP];

/* One read of the answer; what it gave, as bytes, into trace[t]. */
static size_t
read_answer(int t, const char *p, size_t n, size_t chunk, size_t cap)
{
	fuzz_buf out = { outmem, 0 };
	size_t len = 0, off = 0;
	pw_catchup_event ev = PW_CATCHUP_MORE;

	pw_catchup_init(&cu, element, cap);
	while (off < n && ev != PW_CATCHUP_ERROR) {
		size_t k = chunk < n - off ? chunk : n - off, used;
		const char *q = p + off;

		off += k;
		do {
			pw_result res;

			ev = pw_catchup_feed(&cu, q, k, &used, &res);
			if (used > k) {
				abort();
			}
			q += used;
			k -= used;
			if (ev == PW_CATCHUP_RECORD || ev == PW_CATCHUP_SKIPPED) {
				fuzz_check_result(&res, &out);
				if ((ev == PW_CATCHUP_RECORD) != (res.status == PW_CAPTURED)) {
					abort();
				}
				out.len = 0;
				pw_write_response(&res, fuzz_sink, &out);
				if (len + out.len + 1 > FUZZ_OUT_CAP) {
					abort();
				}
				memcpy(trace[t] + len, out.buf, out.len);
				len += out.len;
			}
			trace[t][len++] = (char)('0' + (int)ev + 1);
		} while (k > 0 && ev != PW_CATCHUP_ERROR);
	}
	if (ev != PW_CATCHUP_ERROR) {
		ev = pw_catchup_finish(&cu);
	}
	if ((ev == PW_CATCHUP_ERROR) != (cu.error != NULL)) {
		abort();
	}
	trace[t][len++] = (char)('a' + (int)ev + 1);
	return len;
}

/* The trace without its MORE marks: chunking changes only where those fall. */
static size_t
events_only(char *s, size_t n)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '0' + PW_CATCHUP_MORE + 1) {
			s[m++] = s[i];
		}
	}
	return m;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t chunk, cap, a, b;

	if (size < 1) {
		return 0;
	}
	chunk = 1 + (data[0] & 0x1f) * (data[0] & 0x1f);
	cap = 16u + (size_t)(data[0] >> 5) * 1000u;
	a = events_only(trace[0], read_answer(0, (const char *)data + 1, size - 1, size, cap));
	b = events_only(trace[1], read_answer(1, (const char *)data + 1, size - 1, chunk, cap));
	if (a != b || memcmp(trace[0], trace[1], a) != 0) {
		abort();
	}
	return 0;
}
