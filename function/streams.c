/*
 * streams.c -- the wasi:io output-stream writer every canonical-ABI
 * component links: the incoming handler (http.c) for its response and log,
 * the forward (forward.c) for its request body, and the catch-up command
 * (catchup.c) for its summary and reason lines.
 */
#include <stddef.h>
#include <stdint.h>

#include "http.h"

IMPORT(IO, "[method]output-stream.blocking-write-and-flush")
void stream_write(int32_t s, const void *p, size_t n, void *ret);

int http_stream_failed;

/* see http.h */
void
http_send_stream(bufsink *b)
{
	struct { uint8_t is_err; uint8_t tag; int32_t err; } r;

	stream_write(b->target, b->buf, b->len, &r);
	http_stream_failed |= r.is_err;
}
