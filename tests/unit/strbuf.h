/*
 * strbuf.h -- a pw_sink into a caller-provided buffer, for the unit tests.
 * Overflowing the buffer fails the running test.
 */
#ifndef PW_TEST_STRBUF_H
#define PW_TEST_STRBUF_H

typedef struct {
	char *buf;
	size_t len, cap;
} strbuf;

static inline void
strbuf_sink(void *arg, const char *p, size_t n)
{
	strbuf *b = (strbuf *)arg;

	assert_true(b->len + n <= b->cap);
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

#endif
