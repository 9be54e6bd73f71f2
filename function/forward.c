/*
 * forward.c -- the forward sink: one signed Standard Webhooks POST of the
 * captured record to the user's backend (wasi:http/outgoing-handler).
 *
 * The message (lib/pw_forward.c) is written twice, identically: once into
 * the HMAC, counting its length, and once into the request body, so no
 * buffer of its size is needed. The request is sent with connect, first-
 * byte and between-bytes timeouts, and the wait for its answer is bounded
 * by a monotonic-clock deadline: no answer in time is a failure, never a
 * hang. Only a 2xx from the backend counts as kept.
 *
 * Imports, all under 0.2.0 names and all in the wasi:http proxy world:
 * outgoing-handler, the outgoing-request and request-options resources,
 * wasi:io/poll, and the monotonic and wall clocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

#define OUTGOING "wasi:http/outgoing-handler@0.2.0"
#define POLL     "wasi:io/poll@0.2.0"
#define MONO     "wasi:clocks/monotonic-clock@0.2.0"
#define WALL     "wasi:clocks/wall-clock@0.2.0"

/* The longest a forward may take, and the default. */
#define TIMEOUT_MAX_MS 10000u
#define TIMEOUT_MIN_MS 100u

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
IMPORT(HTTP, "[resource-drop]incoming-response")
void drop_response(int32_t h);
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
   u64, so the payload sits at 8 */
typedef struct {
	uint8_t is_err;
	uint8_t pad[7];
	int32_t handle;
	uint8_t rest[28];
} handle_result;

/* option<result<result<own<incoming-response>, error-code>>>: each level's
   payload at the next multiple of 8 */
typedef struct {
	uint8_t is_some;
	uint8_t pad0[7];
	uint8_t outer_is_err;
	uint8_t pad1[7];
	uint8_t is_err;
	uint8_t pad2[7];
	int32_t handle;
	uint8_t rest[36];
} future_result;

_Static_assert(offsetof(handle_result, handle) == 8, "handle result payload");
_Static_assert(offsetof(future_result, handle) == 24, "future result payload");

enum { METHOD_POST = 2, SCHEME_HTTP = 0, SCHEME_HTTPS = 1 };

/* Refuse with `st`; returns SINK_FAILED for the caller to pass on. */
static sink_result
failed(pw_result *res, pw_status st, const char *message)
{
	kit_unkept(res, st, message);
	return SINK_FAILED;
}

/* The configured timeout in milliseconds: TIMEOUT_MAX_MS unless a number
   from TIMEOUT_MIN_MS to TIMEOUT_MAX_MS is given; 0 when it is not one. */
static unsigned
timeout_ms(pw_span v)
{
	size_t ms;

	if (v.ptr == NULL || v.len == 0) {
		return TIMEOUT_MAX_MS;
	}
	if (kit_parse_size(v.ptr, v.len, &ms) != KIT_SIZE_OK
		|| ms < TIMEOUT_MIN_MS || ms > TIMEOUT_MAX_MS)
	{
		return 0;
	}
	return (unsigned)ms;
}

static cabi_entry
entry(const char *name, const char *value, size_t len)
{
	cabi_entry e;

	e.name.ptr = name;
	e.name.len = strlen(name);
	e.value.ptr = value;
	e.value.len = len;
	return e;
}

/*
 * The outgoing request, its headers set; -1 when the host refuses one of
 * its parts.
 */
static int32_t
make_request(const pw_url *url, const char *id, const char *ts, size_t ts_len,
	const char *sig, const char *len, size_t len_len)
{
	cabi_entry e[6];
	cabi_handle_result r;
	int32_t req;

	e[0] = entry("content-type", "application/json", 16);
	e[1] = entry("content-length", len, len_len);
	e[2] = entry("webhook-id", id, PW_FORWARD_ID_LEN);
	e[3] = entry("webhook-timestamp", ts, ts_len);
	e[4] = entry("webhook-signature", sig, PW_FORWARD_SIG_LEN);
	e[5] = entry("user-agent", "panora-webhook/0.1", 18);
	http_fields_from_list(e, 6, &r);
	if (r.is_err) {
		return -1;
	}
	req = request_new(r.handle);
	if (request_set_method(req, METHOD_POST, NULL, 0) != 0
		|| request_set_scheme(req, 1, url->https ? SCHEME_HTTPS : SCHEME_HTTP,
			NULL, 0) != 0
		|| request_set_authority(req, 1, url->authority.ptr, url->authority.len) != 0
		|| request_set_path(req, 1, url->path.ptr, url->path.len) != 0)
	{
		drop_request(req);
		return -1;
	}
	return req;
}

/* Send the message body into the outgoing body; 0, or -1 on failure. */
static int
send_body(int32_t body, const pw_result *res, uint64_t now)
{
	static char mem[4096];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };
	cabi_handle_result r;
	http_finish_result fin;

	http_outbody_write(body, &r);
	if (r.is_err) {
		drop_outgoing_body(body);
		return -1;
	}
	o.target = r.handle;
	http_stream_failed = 0;
	pw_forward_write_body(res, now, bufsink_write, &o);
	bufsink_flush(&o);
	pw_wipe(mem, sizeof mem);             /* it held the token */
	http_drop_output_stream(o.target);
	http_outbody_finish(body, 0, 0, &fin);
	return http_stream_failed || fin.is_err ? -1 : 0;
}

/*
 * Wait for the answer until `deadline` (monotonic ns); its HTTP status, or
 * 0 when it failed or did not come in time.
 */
static unsigned
await_status(int32_t future, int64_t deadline)
{
	struct { uint32_t *ptr; size_t len; } ready;
	future_result fr;
	int64_t left = deadline - mono_now();
	int32_t p[2];
	unsigned status = 0;
	int answered = 0;
	size_t i;

	p[0] = future_subscribe(future);
	p[1] = mono_subscribe(left > 0 ? left : 0);
	io_poll(p, 2, &ready);
	for (i = 0; i < ready.len; i++) {
		answered |= ready.ptr[i] == 0;
	}
	drop_pollable(p[1]);
	drop_pollable(p[0]);
	if (!answered) {
		return 0;                         /* the deadline came first */
	}
	memset(&fr, 0, sizeof fr);
	future_get(future, &fr);
	if (fr.is_some && !fr.outer_is_err && !fr.is_err) {
		status = (unsigned)response_status(fr.handle) & 0xffffu;
		drop_response(fr.handle);
	}
	return status;
}

/* see http.h */
sink_result
forward_record(pw_result *res, const forward_config *cfg)
{
	struct { uint64_t seconds; uint32_t nanoseconds; } wall;
	char id[PW_FORWARD_ID_LEN], sig[PW_FORWARD_SIG_LEN], ts[20], len[20];
	size_t ts_len, len_len;
	pw_forward_signer signer;
	pw_forward_key key;
	handle_result h;
	cabi_handle_result b;
	pw_url url;
	int32_t req, body, opts;
	int64_t start, limit_ns;
	unsigned ms, status;

	if (cfg->url.ptr == NULL || cfg->url.len == 0) {
		return SINK_NONE;
	}
	start = mono_now();
	if (!pw_url_parse(&url, cfg->url.ptr, cfg->url.len)) {
		return failed(res, PW_ERR_NO_SINK,
			"the forward URL is not an absolute http or https URL");
	}
	if ((ms = timeout_ms(cfg->timeout_ms)) == 0) {
		return failed(res, PW_ERR_NO_SINK,
			"the forward timeout is not a number of milliseconds from 100 to 10000");
	}
	if (cfg->secret.ptr == NULL
		|| !pw_forward_key_init(&key, cfg->secret.ptr, cfg->secret.len))
	{
		return failed(res, PW_ERR_NO_SINK,
			"the forward secret is not whsec_ and the base64 of 16 to 64 bytes");
	}
	limit_ns = (int64_t)ms * 1000000;

	/* sign: webhook-id "." timestamp "." body */
	wall_now(&wall);
	pw_forward_id(id, &res->record);
	pw_forward_sign_begin(&signer, &key, id, sizeof id, wall.seconds);
	pw_wipe(&key, sizeof key);
	pw_forward_write_body(res, wall.seconds, pw_forward_sign_update, &signer);
	len_len = pw_u64_dec(len, signer.body_len);
	pw_forward_sign_end(&signer, sig);
	ts_len = pw_u64_dec(ts, wall.seconds);

	req = make_request(&url, id, ts, ts_len, sig, len, len_len);
	if (req < 0) {
		return failed(res, PW_ERR_SINK_FAILED,
			"the host refused the forward request");
	}
	request_body(req, &b);
	if (b.is_err) {
		drop_request(req);
		return failed(res, PW_ERR_SINK_FAILED,
			"the host refused the forward request");
	}
	body = b.handle;
	opts = options_new();
	options_connect(opts, 1, limit_ns);
	options_first_byte(opts, 1, limit_ns);
	options_between_bytes(opts, 1, limit_ns);
	outgoing_handle(req, 1, opts, &h);    /* takes the request, options */
	if (h.is_err) {
		drop_outgoing_body(body);
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward could not be sent");
	}
	if (send_body(body, res, wall.seconds) != 0) {
		drop_future(h.handle);
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward's body could not be sent");
	}
	status = await_status(h.handle, start + limit_ns);
	drop_future(h.handle);
	if (status == 0) {
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward got no answer in time");
	}
	if (status < 200 || status > 299) {
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward was answered with a non-2xx status");
	}
	return SINK_KEPT;
}
