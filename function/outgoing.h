/*
 * outgoing.h -- the wasi:http/outgoing-handler@0.2.0 side of the canonical
 * ABI, for a component that makes requests: the request and its options,
 * the future of its response, the response and its body, and the poll
 * that bounds every wait: the imports (core signatures as the canonical
 * ABI lowers them), and the two steps every request of forward.c and
 * catchup.c takes through them (og_request, og_send).
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

/* The outgoing request `method` (OG_GET, OG_POST) to `url`'s scheme and
   authority, at `target`, with the header entries e[0..n); KIT_NO_HANDLE
   when the host refuses one of its parts. */
static inline int32_t
og_request(int32_t method, const pw_url *url, const char *target,
	size_t target_len, const cabi_entry *e, size_t n)
{
	cabi_handle_result r;
	int32_t req;

	http_fields_from_list(e, n, &r);
	if (r.is_err) {
		return KIT_NO_HANDLE;
	}
	req = request_new(r.handle);
	if (request_set_method(req, method, NULL, 0) != 0
		|| request_set_scheme(req, 1, url->https ? OG_HTTPS : OG_HTTP, NULL, 0) != 0
		|| request_set_authority(req, 1, url->authority.ptr, url->authority.len) != 0
		|| request_set_path(req, 1, target, target_len) != 0)
	{
		drop_request(req);
		return KIT_NO_HANDLE;
	}
	return req;
}

/* How og_send ended. */
typedef enum {
	OG_SENT,       /* *h holds the response future, *body the body      */
	OG_NO_BODY,    /* the host gave the request no body                 */
	OG_NOT_SENT    /* the host refused it: h->code is the error-code    */
} og_send_result;

/* Hand `req` to the host with every timeout set to `wait_ns`. It takes
   `req` on every path; on OG_SENT the caller owns *body (to write and
   finish) and h->handle. */
static inline og_send_result
og_send(int32_t req, int64_t wait_ns, int32_t *body, og_handle_result *h)
{
	cabi_handle_result b;
	int32_t opts;

	request_body(req, &b);
	if (b.is_err) {
		drop_request(req);
		return OG_NO_BODY;
	}
	opts = options_new();
	options_connect(opts, 1, wait_ns);
	options_first_byte(opts, 1, wait_ns);
	options_between_bytes(opts, 1, wait_ns);
	outgoing_handle(req, 1, opts, h);     /* takes the request, options */
	if (h->is_err) {
		drop_outgoing_body(b.handle);
		return OG_NOT_SENT;
	}
	*body = b.handle;
	return OG_SENT;
}

#endif
