/*
 * http.c -- wasi:http/incoming-handler@0.2.0 over the same core, in
 * hand-written canonical-ABI glue (wit/http/proxy.wit, wit/http/spin.wit).
 *
 * Two flavours link it, each with its own file for what differs
 * (http.h: flavour_settings, flavour_keep):
 *
 *   http_env.c   build/panora-webhook-http.wasm: settings from the
 *                environment (wasi:cli/environment); a captured record is
 *                forwarded to PANORA_WEBHOOK_FORWARD_URL (forward.c)
 *   http_spin.c  build/panora-webhook-spin.wasm: settings from Spin
 *                variables (wasi:config/store); a captured record is kept
 *                in the key-value store "default" (store.c) and, when
 *                panora_webhook_forward_url is set, forwarded too
 *
 * The sender (Panora) gets a receipt on success, one plain-text line that
 * never holds the token (pw_write_receipt), and the JSON error body
 * otherwise. A capture is acknowledged only once a sink has it: with no
 * sink, 500 no_sink; a sink that fails, 503 (not acknowledged). One
 * JSON log line per request goes to stderr, as from the WAGI module.
 *
 * The body is read in chunks and refused with 413 as soon as it passes the
 * limit (nothing more is read); the response is written in chunks of at
 * most 4096 bytes.
 *
 * Memory: every list or string the host hands over (environment, headers,
 * body chunks, store values) lands in a bump arena over static memory,
 * reset at the start of each request and wiped at its end (it held the
 * secrets and the token). The body's chunks are compacted in place as they
 * arrive. No malloc, no memory.grow.
 *
 * Only functions that wasi:http 0.2.0 already had are imported, under their
 * @0.2.0 names, so Spin 3.0+ and wasmtime both link the component.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

/* ------------------------------------------------------------------ */
/* Imports (core signatures as the canonical ABI lowers them)           */
/* ------------------------------------------------------------------ */

IMPORT(HTTP, "[method]incoming-request.method")
void req_method(int32_t req, void *ret);
IMPORT(HTTP, "[method]incoming-request.headers")
int32_t req_headers(int32_t req);
IMPORT(HTTP, "[method]incoming-request.consume")
void req_consume(int32_t req, void *ret);
IMPORT(HTTP, "[method]fields.entries")
void fields_entries(int32_t fields, void *ret);
IMPORT(HTTP, "[method]incoming-body.stream")
void body_stream(int32_t body, void *ret);
IMPORT(HTTP, "[constructor]outgoing-response")
int32_t response_new(int32_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code")
int32_t response_set_status(int32_t resp, int32_t status);
IMPORT(HTTP, "[method]outgoing-response.body")
void response_body(int32_t resp, void *ret);
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(int32_t param, int32_t is_err, int32_t a, int32_t b,
	int64_t c, int32_t d, int32_t e, int32_t f, int32_t g);
IMPORT(HTTP, "[resource-drop]incoming-request")
void drop_incoming_request(int32_t h);
IMPORT(HTTP, "[resource-drop]incoming-body")
void drop_incoming_body(int32_t h);
IMPORT(HTTP, "[resource-drop]fields")
void drop_fields(int32_t h);
IMPORT(IO, "[method]input-stream.blocking-read")
void stream_read(int32_t s, int64_t len, void *ret);
IMPORT(IO, "[resource-drop]input-stream")
void drop_input_stream(int32_t h);
IMPORT("wasi:cli/stderr@0.2.0", "get-stderr")
int32_t get_stderr(void);

/* ------------------------------------------------------------------ */
/* Memory                                                               */
/* ------------------------------------------------------------------ */

#define ARENA_SIZE (2u * (size_t)PW_BODY_MAX + 512u * 1024u)
#define CHUNK 65536u

HTTP_ARENA(ARENA_SIZE)              /* see arena.h */

static pw_context ctx;

/* ------------------------------------------------------------------ */
/* Request                                                              */
/* ------------------------------------------------------------------ */

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
};

static pw_span
read_method(int32_t req)
{
	struct { uint8_t tag; cabi_str other; } m;

	req_method(req, &m);
	if (m.tag < sizeof method_names / sizeof method_names[0]) {
		return span_of(method_names[m.tag], strlen(method_names[m.tag]));
	}
	return span_of(m.other.ptr, m.other.len);
}


/*
 * Read the whole body into the arena, compacting the chunks as they come.
 * Stops at once when it passes `limit`.
 */
static kit_body
read_body(int32_t req, size_t limit, pw_span *body)
{
	cabi_handle_result r;
	int32_t inbody, stream;
	unsigned char *start;
	size_t len = 0;
	kit_body rc = KIT_BODY_OK;

	req_consume(req, &r);
	if (r.is_err) {
		return KIT_BODY_ERROR;
	}
	inbody = r.handle;
	body_stream(inbody, &r);
	if (r.is_err) {
		drop_incoming_body(inbody);
		return KIT_BODY_ERROR;
	}
	stream = r.handle;
	start = arena + arena_used;
	for (;;) {
		cabi_read_result rd;
		size_t want = limit + 1 - len;

		stream_read(stream, (int64_t)(want < CHUNK ? want : CHUNK), &rd);
		if (rd.is_err) {
			rc = rd.u.err.tag == 1 ? KIT_BODY_OK : KIT_BODY_ERROR;   /* closed: done */
			break;
		}
		if ((const unsigned char *)rd.u.ok.ptr != start + len) {
			memmove(start + len, rd.u.ok.ptr, rd.u.ok.len);
		}
		len += rd.u.ok.len;
		arena_used = (size_t)(start - arena) + len;   /* reclaim the gap */
		if (len > limit) {
			rc = KIT_BODY_TOO_LARGE;
			break;
		}
	}
	drop_input_stream(stream);
	drop_incoming_body(inbody);
	*body = span_of((const char *)start, len);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Response and log                                                     */
/* ------------------------------------------------------------------ */

/*
 * Send the answer to `res`: the head kit_head_of makes (a 2xx gets the
 * plain-text receipt, with `kept` naming what its sinks did; anything
 * else, the JSON error body), as wasi:http fields.
 */
static void
respond(int32_t outparam, const pw_result *res, const char *kept)
{
	static char mem[4096];              /* the most one write may carry */
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };
	kit_head h = kit_head_of(res, 1);
	cabi_entry e[3];
	cabi_handle_result r;
	int32_t resp, outbody;
	size_t ne = 2;
	http_finish_result fin;

	e[0].name = (cabi_str){ "content-type", 12 };
	e[0].value = (cabi_str){ h.content_type, strlen(h.content_type) };
	e[1].name = (cabi_str){ "cache-control", 13 };
	e[1].value = (cabi_str){ KIT_CACHE_CONTROL, sizeof KIT_CACHE_CONTROL - 1 };
	if (h.allow_post) {
		e[2].name = (cabi_str){ "allow", 5 };
		e[2].value = (cabi_str){ "POST", 4 };
		ne = 3;
	}
	http_fields_from_list(e, ne, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	resp = response_new(r.handle);            /* takes the headers */
	response_set_status(resp, (int32_t)h.status);
	response_body(resp, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	outbody = r.handle;
	outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
	http_outbody_write(outbody, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	o.target = r.handle;
	kit_write_body(&h, res, kept, &o);
	http_drop_output_stream(o.target);
	http_outbody_finish(outbody, 0, 0, &fin);
}

/* One JSON line on stderr, as the WAGI module writes it. */
static void
log_line(const pw_result *res)
{
	static char mem[4096];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };

	o.target = get_stderr();
	pw_write_log(res, bufsink_write, &o);
	bufsink_flush(&o);
	http_drop_output_stream(o.target);
}

/* ------------------------------------------------------------------ */
/* The export                                                           */
/* ------------------------------------------------------------------ */

/* The request's method and the two headers that matter. */
static void
read_headers(int32_t request, pw_request *req)
{
	struct { cabi_entry *ptr; size_t len; } entries;
	int32_t headers = req_headers(request);
	unsigned seen = 0;
	size_t i;

	memset(req, 0, sizeof *req);
	req->method = read_method(request);
	fields_entries(headers, &entries);
	for (i = 0; i < entries.len; i++) {
		const cabi_entry *h = &entries.ptr[i];

		cabi_note_header(req, &seen, h->name.ptr, h->name.len,
			h->value.ptr, h->value.len);
	}
	drop_fields(headers);             /* the entries stay in the arena */
}

/*
 * The body of a POST, and the decode scratch after it; other methods read
 * nothing.
 */
static kit_step
read_request_body(int32_t request, pw_request *req, pw_result *res)
{
	if (!kit_wants_body(req->method)) {
		return KIT_GO;                /* pw_handle refuses it */
	}
	if (kit_body_step(res, read_body(request, ctx.body_max, &req->body)) != KIT_GO) {
		return KIT_STOP;
	}
	ctx.scratch = arena + arena_used;
	ctx.scratch_cap = ARENA_SIZE - arena_used;
	if (ctx.scratch_cap > req->body.len) {
		ctx.scratch_cap = req->body.len;
	}
	arena_used += ctx.scratch_cap;
	return KIT_GO;
}

EXPORT("wasi:http/incoming-handler@0.2.0#handle")
void handle(int32_t request, int32_t outparam);

void
handle(int32_t request, int32_t outparam)
{
	static pw_result res;
	static kit_settings cfg;
	pw_request req;
	const char *kept = NULL;

	arena_used = 0;
	kit_start(&res);
	memset(&cfg, 0, sizeof cfg);
	flavour_settings(&cfg);
	kit_limit(&ctx, cfg.max_body);
	read_headers(request, &req);
	if (read_request_body(request, &req, &res) == KIT_GO) {
		kit_verify_setting(&ctx, cfg.secret, flavour_naming.prefix,
			flavour_naming.name(offsetof(kit_settings, secret)), &req, &res);
		if (res.status == PW_CAPTURED) {
			kept = flavour_keep(&res, &cfg);  /* NULL: res is now the refusal */
		}
	}
	respond(outparam, &res, kept);
	drop_incoming_request(request);
	log_line(&res);
	/* the arena held the secrets, the body and the token */
	pw_wipe(arena, arena_used);
	memset(&res, 0, sizeof res);
	memset(&cfg, 0, sizeof cfg);
}
