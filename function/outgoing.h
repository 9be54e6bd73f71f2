/*
 * outgoing.h -- the wasi:http/outgoing-handler@0.2.0 side of the canonical
 * ABI, for a component that makes requests: the request and its options,
 * the future of its response, the response and its body, and the poll
 * that bounds every wait. Declarations only (core signatures as the
 * canonical ABI lowers them); forward.c and catchup.c call them.
 */
#ifndef PW_OUTGOING_H
#define PW_OUTGOING_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define OUTGOING "wasi:http/outgoing-handler@0.2.0"
#define POLL     "wasi:io/poll@0.2.0"
#define MONO     "wasi:clocks/monotonic-clock@0.2.0"
#define WALL     "wasi:clocks/wall-clock@0.2.0"

/* method and scheme variant tags */
enum { OG_GET = 0, OG_POST = 2, OG_HTTP = 0, OG_HTTPS = 1 };

IMPORT(HTTP, "[constructor]outgoing-request")
int32_t request_new(int32_t headers);
IMPORT(HTTP, "[method]outgoing-request.set-method")
int32_t request_set_method(int32_t req, int32_t tag, const char *p, size_t n);
IMPORT(HTTP, "[method]outgoing-request.set-scheme")
int32_t request_set_scheme(int32_t req, int32_t is_some, int32_t tag,
	const char *p, size_t n);
IMPORT(HTTP, "[method]outgoing-request.set-authority")
int32_t request_set_authority(int32_t req, int32_t is_some, const char *p,
	size_t n);
IMPORT(HTTP, "[method]outgoing-request.set-path-with-query")
int32_t request_set_path(int32_t req, int32_t is_some, const char *p, size_t n);
IMPORT(HTTP, "[method]outgoing-request.body")
void request_body(int32_t req, void *ret);
IMPORT(HTTP, "[resource-drop]outgoing-request")
void drop_request(int32_t h);
IMPORT(HTTP, "[resource-drop]outgoing-body")
void drop_outgoing_body(int32_t h);
IMPORT(HTTP, "[constructor]request-options")
int32_t options_new(void);
IMPORT(HTTP, "[method]request-options.set-connect-timeout")
int32_t options_connect(int32_t o, int32_t is_some, int64_t ns);
IMPORT(HTTP, "[method]request-options.set-first-byte-timeout")
int32_t options_first_byte(int32_t o, int32_t is_some, int64_t ns);
IMPORT(HTTP, "[method]request-options.set-between-bytes-timeout")
int32_t options_between_bytes(int32_t o, int32_t is_some, int64_t ns);
IMPORT(HTTP, "[method]future-incoming-response.subscribe")
int32_t future_subscribe(int32_t f);
IMPORT(HTTP, "[method]future-incoming-response.get")
void future_get(int32_t f, void *ret);
IMPORT(HTTP, "[resource-drop]future-incoming-response")
void drop_future(int32_t h);
IMPORT(HTTP, "[method]incoming-response.status")
int32_t response_status(int32_t r);
IMPORT(HTTP, "[method]incoming-response.consume")
void response_consume(int32_t r, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-response")
void drop_response(int32_t h);
IMPORT(HTTP, "[method]incoming-body.stream")
void incoming_body_stream(int32_t body, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-body")
void drop_incoming_body(int32_t h);
IMPORT(IO, "[method]input-stream.subscribe")
int32_t input_subscribe(int32_t s);
IMPORT(IO, "[method]input-stream.read")
void input_read(int32_t s, int64_t len, void *ret);
IMPORT(IO, "[resource-drop]input-stream")
void drop_input_stream(int32_t h);
IMPORT("wasi:io/error@0.2.0", "[resource-drop]error")
void drop_io_error(int32_t h);
IMPORT(OUTGOING, "handle")
void outgoing_handle(int32_t req, int32_t has_options, int32_t options, void *ret);
IMPORT(POLL, "poll")
void io_poll(const int32_t *pollables, size_t n, void *ret);
IMPORT(POLL, "[resource-drop]pollable")
void drop_pollable(int32_t h);
IMPORT(MONO, "now")
int64_t mono_now(void);
IMPORT(MONO, "subscribe-duration")
int32_t mono_subscribe(int64_t ns);
IMPORT(WALL, "now")
void wall_now(void *ret);

/* result<own<future-incoming-response>, error-code>: error-code holds a
   u64, so the payload sits at 8; an error-code is its case's position (a
   u8) there */
typedef struct {
	uint8_t is_err;
	uint8_t pad[7];
	union {
		int32_t handle;
		uint8_t code;                     /* the error-code's case */
	};
	uint8_t rest[28];
} og_handle_result;

/* option<result<result<own<incoming-response>, error-code>>>: each level's
   payload at the next multiple of 8 */
typedef struct {
	uint8_t is_some;
	uint8_t pad0[7];
	uint8_t outer_is_err;
	uint8_t pad1[7];
	uint8_t is_err;
	uint8_t pad2[7];
	union {
		int32_t handle;
		uint8_t code;                     /* the error-code's case */
	};
	uint8_t rest[36];
} og_future_result;

/* result<list<u8>, stream-error> (abi.h) */
typedef cabi_read_result og_read_result;

/* list<u32>, as poll returns it */
typedef struct {
	uint32_t *ptr;
	size_t len;
} og_ready;

_Static_assert(offsetof(og_handle_result, handle) == 8
	&& offsetof(og_handle_result, code) == 8, "handle result payload");
_Static_assert(offsetof(og_future_result, handle) == 24
	&& offsetof(og_future_result, code) == 24, "future result payload");

#endif
