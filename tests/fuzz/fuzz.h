/*
 * fuzz.h -- what the libFuzzer targets share: a sink into a static buffer,
 * a UTF-8 check, and the invariants every pw_result must keep.
 */
#ifndef PW_FUZZ_H
#define PW_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "pw_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FUZZ_OUT_CAP (16u << 20)

typedef struct {
	char *buf;
	size_t len;
} fuzz_buf;

static inline void
fuzz_sink(void *arg, const char *p, size_t n)
{
	fuzz_buf *b = (fuzz_buf *)arg;

	if (b->len + n > FUZZ_OUT_CAP) {
		abort();
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline int
fuzz_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k = *p < 0x80 ? 1 : pw__utf8_seq(p, end);

		if (k == 0) {
			return 0;
		}
		p += k;
	}
	return 1;
}

/* The promises of pw_handle, checked on every input. */
static inline void
fuzz_check_result(const pw_result *res, fuzz_buf *out)
{
	static const pw_record empty;
	const pw_span *f = &res->record.id_event;
	size_t i;

	if ((unsigned)res->status >= PW_STATUS_COUNT || res->message == NULL) {
		abort();
	}
	if (res->status != PW_CAPTURED) {
		if (memcmp(&res->record, &empty, sizeof empty) != 0) {
			abort();              /* no partial record, ever */
		}
	} else {
		if (res->record.id_connection.len == 0
			|| res->record.connection_token.len == 0
			|| res->record.id_linked_user.len == 0)
		{
			abort();
		}
		for (i = 0; i < sizeof res->record / sizeof *f; i++) {
			if (f[i].ptr != NULL && (memchr(f[i].ptr, 0, f[i].len) != NULL
				|| !fuzz_utf8_ok(f[i].ptr, f[i].len)))
			{
				abort();
			}
		}
	}
	/* the response body and the log line are always valid JSON objects */
	out->len = 0;
	pw_write_response(res, fuzz_sink, out);
	if (pw_json_check(out->buf, out->len) < 1) {
		abort();
	}
	out->len = 0;
	pw_write_log(res, fuzz_sink, out);
	if (out->len == 0 || out->buf[out->len - 1] != '\n'
		|| pw_json_check(out->buf, out->len - 1) < 1)
	{
		abort();
	}
}

#endif
