/*
 * bufsink.h -- the adapters' one byte sink: a pw_sink that gathers bytes
 * in a caller's buffer and hands them on in as few writes as it allows.
 * Each adapter says how a full buffer leaves (a WASI fd_write, a wasi:http
 * stream write) through `send`.
 *
 * With no `send` it is a bounded memory buffer (a value being built for a
 * store, say): what does not fit is dropped but still counted in `len`,
 * so the caller tells a whole value (len <= cap) from a cut one.
 */
#ifndef PW_BUFSINK_H
#define PW_BUFSINK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bufsink bufsink;
struct bufsink {
	void (*send)(bufsink *b);   /* write buf[0..len) to `target`, or NULL */
	int32_t target;             /* a file descriptor, a stream handle   */
	size_t len, cap;            /* with no `send`, len may pass cap     */
	char *buf;
};

/* Send what is buffered, and empty the buffer (with no `send`: nothing). */
static inline void
bufsink_flush(bufsink *b)
{
	if (b->len > 0 && b->send != NULL) {
		b->send(b);
		b->len = 0;
	}
}

/* Not inlined: callers are many and small, and the loop is the bulk. */
__attribute__((noinline, unused)) static void
bufsink_put(bufsink *b, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = b->len < b->cap ? b->cap - b->len : 0;

		if (k == 0) {
			if (b->send == NULL) {
				b->len += n;              /* a memory buffer, full */
				return;
			}
			bufsink_flush(b);
			continue;
		}
		if (k > n) {
			k = n;
		}
		memcpy(b->buf + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
	}
}

static inline void
bufsink_puts(bufsink *b, const char *s)
{
	bufsink_put(b, s, strlen(s));
}

/* As a pw_sink: `arg` is the bufsink. */
static inline void
bufsink_write(void *arg, const char *p, size_t n)
{
	bufsink_put((bufsink *)arg, p, n);
}

#endif
