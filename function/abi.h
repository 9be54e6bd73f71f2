/*
 * abi.h -- the wasi:http and wasi:io side of the canonical ABI that more
 * than one file lowers by hand: the shapes of the results the imports
 * return, the imports themselves (core signatures), and the output-stream
 * writer of streams.c; and the two small constructors (a span, a header
 * entry) that each lowering file would otherwise write again.
 */
#ifndef PW_ABI_H
#define PW_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bufsink.h"
#include "kit.h"

#define HTTP "wasi:http/types@0.2.0"
#define IO   "wasi:io/streams@0.2.0"

/* ------------------------------------------------------------------ */
/* Shapes                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
	cabi_str name, value;                 /* tuple<string, list<u8>>   */
} cabi_entry;

/* (p, n) as a span */
static inline pw_span
span_of(const char *p, size_t n)
{
	pw_span s;

	s.ptr = p;
	s.len = n;
	return s;
}

/* A header field for fields.from-list: `name` (a C string), value bytes. */
static inline cabi_entry
entry(const char *name, const char *value, size_t len)
{
	cabi_entry e;

	e.name = span_of(name, strlen(name));
	e.value = span_of(value, len);
	return e;
}

typedef struct {                          /* result<own<T>, _>         */
	uint8_t is_err;
	int32_t handle;
} cabi_handle_result;

/* result<T, E> for the small T and E the Spin imports return: the payload
   starts at offset 4, the alignment of its widest case. */
typedef struct {
	uint8_t is_err;
	union {
		struct { uint8_t is_some; cabi_str s; } opt;  /* option<string|list> */
		uint8_t flag;                                 /* bool              */
		int32_t handle;                               /* own<T>            */
		struct { uint8_t tag; cabi_str s; } err;      /* error variants    */
	} u;
} cabi_result;

_Static_assert(offsetof(cabi_result, u) == 4, "result payload at 4");
_Static_assert(offsetof(cabi_result, u.opt.s) == 8, "option payload at 8");

/* result<list<u8>, stream-error>: stream-error is last-operation-failed
   (own<error>, case 0) or closed (case 1) */
typedef struct {
	uint8_t is_err;
	union {
		cabi_str ok;
		struct { uint8_t tag; int32_t error; } err;
	} u;
} cabi_read_result;

_Static_assert(offsetof(cabi_read_result, u.err.error) == 8, "stream-error payload");

/* outgoing-body.finish's result<_, error-code>: 8-byte aligned, and as
   wide as error-code's largest case */
typedef struct {
	uint8_t is_err;
	uint8_t pad[7];
	uint64_t payload[8];
} http_finish_result;

/* ------------------------------------------------------------------ */
/* Imports more than one file calls                                     */
/* ------------------------------------------------------------------ */

IMPORT(HTTP, "[static]fields.from-list")
void http_fields_from_list(const cabi_entry *entries, size_t n, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write")
void http_outbody_write(int32_t body, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish")
void http_outbody_finish(int32_t body, int32_t has_trailers, int32_t trailers,
	void *ret);
IMPORT(IO, "[resource-drop]output-stream")
void http_drop_output_stream(int32_t h);

/* ------------------------------------------------------------------ */
/* streams.c (every component, the catch-up command too)                */
/* ------------------------------------------------------------------ */

/* A bufsink `send` for a wasi:io output stream (`target`); the buffer
   MUST hold at most 4096 bytes, what one blocking write may carry. A
   failed write is remembered in `http_stream_failed`. */
void http_send_stream(bufsink *b);
extern int http_stream_failed;

#endif
