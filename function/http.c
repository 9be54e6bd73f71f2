/*
 * http.c -- wasi:http/incoming-handler@0.2.0 over the same core, in
 * hand-written canonical-ABI glue (wit/http/proxy.wit, wit/http/spin.wit).
 *
 *   default   build/panora-webhook-http.wasm: secrets from the environment
 *             variable PANORA_WEBHOOK_SECRET (wasi:cli/environment)
 *   PW_SPIN   build/panora-webhook-spin.wasm: secrets from the Spin variable
 *             panora_webhook_secret (wasi:config/store), captured records
 *             kept in the key-value store "default" (wasi:keyvalue/store)
 *
 * Same statuses and JSON bodies as the WAGI module. The body is read in
 * chunks and refused with 413 as soon as it passes the limit (nothing more
 * is read); the response is written in chunks of at most 4096 bytes.
 *
 * Memory: every list or string the host hands over (environment, headers,
 * body chunks, store values) lands in a bump arena over static memory,
 * reset at the start of each request. The body's chunks are compacted in
 * place as they arrive. No malloc, no memory.grow.
 *
 * Only functions that wasi:http 0.2.0 already had are imported, under their
 * @0.2.0 names, so Spin 3.0+ and wasmtime both link the component.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "panora_webhook.h"
#include "bufsink.h"
#include "cabi.h"

#define IMPORT(module, name) \
	__attribute__((import_module(module), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

#define HTTP  "wasi:http/types@0.2.0"
#define IO    "wasi:io/streams@0.2.0"

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
IMPORT(HTTP, "[static]fields.from-list")
void fields_from_list(const void *entries, size_t n, void *ret);
IMPORT(HTTP, "[method]incoming-body.stream")
void body_stream(int32_t body, void *ret);
IMPORT(HTTP, "[constructor]outgoing-response")
int32_t response_new(int32_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code")
int32_t response_set_status(int32_t resp, int32_t status);
IMPORT(HTTP, "[method]outgoing-response.body")
void response_body(int32_t resp, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write")
void outbody_write(int32_t body, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish")
void outbody_finish(int32_t body, int32_t has_trailers, int32_t trailers, void *ret);
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
IMPORT(IO, "[method]output-stream.blocking-write-and-flush")
void stream_write(int32_t s, const void *p, size_t n, void *ret);
IMPORT(IO, "[resource-drop]input-stream")
void drop_input_stream(int32_t h);
IMPORT(IO, "[resource-drop]output-stream")
void drop_output_stream(int32_t h);

#ifdef PW_SPIN
#define CONFIG "wasi:config/store@0.2.0-draft-2024-09-27"
#define KV     "wasi:keyvalue/store@0.2.0-draft2"
IMPORT(CONFIG, "get")
void config_get(const char *key, size_t len, void *ret);
IMPORT(KV, "open")
void kv_open(const char *id, size_t len, void *ret);
IMPORT(KV, "[method]bucket.get")
void kv_get(int32_t b, const char *key, size_t len, void *ret);
IMPORT(KV, "[method]bucket.set")
void kv_set(int32_t b, const char *key, size_t klen, const void *v, size_t vlen, void *ret);
IMPORT(KV, "[method]bucket.exists")
void kv_exists(int32_t b, const char *key, size_t len, void *ret);
IMPORT(KV, "[resource-drop]bucket")
void drop_bucket(int32_t h);
#else
IMPORT("wasi:cli/environment@0.2.0", "get-environment")
void get_environment(void *ret);
#endif

/* ------------------------------------------------------------------ */
/* Memory                                                               */
/* ------------------------------------------------------------------ */

#define ARENA_SIZE (2u * (size_t)PW_BODY_MAX + 512u * 1024u)
#define CHUNK 65536u

static unsigned char arena[ARENA_SIZE] __attribute__((aligned(16)));
static size_t arena_used;
static pw_context ctx;
static pw_keyring kr;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);

void *
cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
	return cabi_bump(arena, ARENA_SIZE, &arena_used, old, old_size, align,
		new_size);
}

/* ------------------------------------------------------------------ */
/* Canonical ABI shapes                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
	const char *ptr;
	size_t len;
} cabi_str;

typedef struct {
	cabi_str name, value;                 /* tuple<string, list<u8>> */
} cabi_entry;

typedef struct {                          /* result<own<T>, _>         */
	uint8_t is_err;
	int32_t handle;
} cabi_handle_result;

typedef struct {                          /* result<list<u8>, stream-error> */
	uint8_t is_err;
	union {
		cabi_str ok;
		struct { uint8_t tag; int32_t error; } err;   /* 1 = closed */
	} u;
} cabi_read_result;

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

static pw_span
span_of(const char *p, size_t n)
{
	pw_span s;

	s.ptr = p;
	s.len = n;
	return s;
}

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

enum { BODY_OK, BODY_TOO_LARGE, BODY_ERROR };

/*
 * Read the whole body into the arena, compacting the chunks as they come.
 * Stops at once when it passes `limit`.
 */
static int
read_body(int32_t req, size_t limit, pw_span *body)
{
	cabi_handle_result r;
	int32_t inbody, stream;
	unsigned char *start;
	size_t len = 0;
	int rc = BODY_OK;

	req_consume(req, &r);
	if (r.is_err) {
		return BODY_ERROR;
	}
	inbody = r.handle;
	body_stream(inbody, &r);
	if (r.is_err) {
		drop_incoming_body(inbody);
		return BODY_ERROR;
	}
	stream = r.handle;
	start = arena + arena_used;
	for (;;) {
		cabi_read_result rd;
		size_t want = limit + 1 - len;

		stream_read(stream, (int64_t)(want < CHUNK ? want : CHUNK), &rd);
		if (rd.is_err) {
			rc = rd.u.err.tag == 1 ? BODY_OK : BODY_ERROR;   /* closed: done */
			break;
		}
		if ((const unsigned char *)rd.u.ok.ptr != start + len) {
			memmove(start + len, rd.u.ok.ptr, rd.u.ok.len);
		}
		len += rd.u.ok.len;
		arena_used = (size_t)(start - arena) + len;   /* reclaim the gap */
		if (len > limit) {
			rc = BODY_TOO_LARGE;
			break;
		}
	}
	drop_input_stream(stream);
	drop_incoming_body(inbody);
	*body = span_of((const char *)start, len);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Response                                                             */
/* ------------------------------------------------------------------ */

/* Write buf[0..len) to the output stream (len <= 4096: one call). */
static void
send_stream(bufsink *b)
{
	struct { uint8_t is_err; uint8_t tag; int32_t err; } r;

	stream_write(b->target, b->buf, b->len, &r);
}

/*
 * Send the response: the JSON body of `res`, with `extra` (Spin:
 * ,"persisted":"new") spliced in before its closing brace; or, when `res`
 * is NULL, the fixed JSON text `extra`.
 */
static void
respond(int32_t outparam, unsigned http, const pw_result *res, const char *extra)
{
	static const char ct_name[] = "content-type", ct[] = "application/json";
	static const char cc_name[] = "cache-control", cc[] = "no-store";
	static const char allow_name[] = "allow", allow[] = "POST";
	static char mem[4096];              /* the most one write may carry */
	bufsink o = { send_stream, 0, 0, sizeof mem, mem };
	cabi_entry e[3];
	cabi_handle_result r;
	int32_t headers, resp, outbody;
	size_t ne = 2;
	struct { uint8_t is_err; uint8_t pad[7]; uint64_t payload[8]; } fin;

	e[0].name = (cabi_str){ ct_name, sizeof ct_name - 1 };
	e[0].value = (cabi_str){ ct, sizeof ct - 1 };
	e[1].name = (cabi_str){ cc_name, sizeof cc_name - 1 };
	e[1].value = (cabi_str){ cc, sizeof cc - 1 };
	if (http == 405) {
		e[2].name = (cabi_str){ allow_name, sizeof allow_name - 1 };
		e[2].value = (cabi_str){ allow, sizeof allow - 1 };
		ne = 3;
	}
	fields_from_list(e, ne, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	headers = r.handle;
	resp = response_new(headers);             /* takes the headers */
	response_set_status(resp, (int32_t)http);
	response_body(resp, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	outbody = r.handle;
	outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
	outbody_write(outbody, &r);
	if (r.is_err) {
		__builtin_trap();
	}
	o.target = r.handle;
	if (res == NULL) {
		bufsink_puts(&o, extra);
	} else {
		pw_write_response(res, bufsink_write, &o);
		if (extra != NULL && o.len > 0) {     /* buf ends with its '}' */
			o.len--;
			bufsink_puts(&o, extra);
			bufsink_puts(&o, "}");
		}
	}
	bufsink_puts(&o, "\n");
	bufsink_flush(&o);
	drop_output_stream(o.target);
	outbody_finish(outbody, 0, 0, &fin);
}

/* ------------------------------------------------------------------ */
/* Secrets, and (Spin) the store                                        */
/* ------------------------------------------------------------------ */

#ifdef PW_SPIN
static void
load_secrets(void)
{
	cabi_result r;

	config_get("panora_webhook_secret", 21, &r);
	if (!r.is_err && r.u.opt.is_some) {
		pw_keyring_add_list(&kr, r.u.opt.s.ptr, r.u.opt.s.len);
		pw_wipe((void *)(uintptr_t)r.u.opt.s.ptr, r.u.opt.s.len);
	}
}

static size_t
key_of(char *dst, const char *prefix, pw_span id)
{
	size_t n = strlen(prefix);

	memcpy(dst, prefix, n);
	memcpy(dst + n, id.ptr, id.len);
	return n + id.len;
}

typedef struct {
	char *buf;
	size_t len, cap;
} membuf;

static void
mem_sink(void *arg, const char *p, size_t n)
{
	membuf *m = (membuf *)arg;

	if (m->len + n <= m->cap) {
		memcpy(m->buf + m->len, p, n);
	}
	m->len += n;
}

/*
 * Keep a captured record: "connection/<id_connection>" holds the record
 * as JSON, written once (a retry or replay finds it and changes nothing);
 * "linked-user/<id_linked_user>" holds the JSON array of that user's
 * id_connections. Returns 1 if new, 0 if known, -1 if the store failed.
 */
static int
persist(const pw_result *res)
{
	const pw_record *rec = &res->record;
	cabi_result r, ex, got;
	char *key = (char *)arena + arena_used;
	char *key2;
	membuf json;
	size_t klen, k2len, room;
	int32_t bucket;
	int rc = -1;

	if (rec->id_connection.len > 200 || rec->id_linked_user.len > 200) {
		return -1;                  /* over the store's 256-byte keys */
	}
	key2 = key + 256;
	json.buf = key + 512;
	room = ARENA_SIZE - arena_used;
	if (room < 1024) {
		return -1;
	}
	json.cap = room - 512;
	json.len = 0;

	kv_open("default", 7, &r);
	if (r.is_err) {
		return -1;
	}
	bucket = r.u.handle;
	klen = key_of(key, "connection/", rec->id_connection);
	kv_exists(bucket, key, klen, &ex);
	if (ex.is_err) {
		goto done;
	}
	if (ex.u.flag) {
		rc = 0;
		goto done;
	}
	pw_write_response(res, mem_sink, &json);
	if (json.len > json.cap) {
		goto done;
	}
	/* the user index first: a record is only ever reported as kept once
	   both are written */
	k2len = key_of(key2, "linked-user/", rec->id_linked_user);
	arena_used += 512 + json.len;
	kv_get(bucket, key2, k2len, &got);
	{
		membuf list;

		list.buf = (char *)arena + arena_used;
		list.cap = ARENA_SIZE - arena_used;
		list.len = 0;
		if (got.is_err) {
			goto done;
		}
		if (got.u.opt.is_some && got.u.opt.s.len >= 2) {   /* ["a","b"] */
			mem_sink(&list, got.u.opt.s.ptr, got.u.opt.s.len - 1);
			mem_sink(&list, ",", 1);
		} else {
			mem_sink(&list, "[", 1);
		}
		pw_json_write_string(mem_sink, &list, rec->id_connection.ptr,
			rec->id_connection.len);
		mem_sink(&list, "]", 1);
		if (list.len > list.cap) {
			goto done;
		}
		{
			cabi_result w;

			kv_set(bucket, key2, k2len, list.buf, list.len, &w);
			if (w.is_err) {
				goto done;
			}
			kv_set(bucket, key, klen, json.buf, json.len, &w);
			if (w.is_err) {
				goto done;
			}
		}
	}
	rc = 1;
done:
	drop_bucket(bucket);
	return rc;
}
#else
static void
load_secrets(void)
{
	struct { cabi_str *ptr; size_t len; } env;
	size_t i;

	get_environment(&env);
	for (i = 0; i < env.len; i += 1) {
		cabi_str *kv = env.ptr + 2 * i;

		if (kv[0].len == 21 && memcmp(kv[0].ptr, "PANORA_WEBHOOK_SECRET", 21) == 0) {
			pw_keyring_add_list(&kr, kv[1].ptr, kv[1].len);
		}
		if (kv[0].len == 23 && memcmp(kv[0].ptr, "PANORA_WEBHOOK_MAX_BODY", 23) == 0) {
			size_t j, v = 0;

			for (j = 0; j < kv[1].len && kv[1].len <= 12; j++) {
				unsigned d = (unsigned char)kv[1].ptr[j] - '0';

				if (d > 9) {
					v = 0;
					break;
				}
				v = v * 10 + d;
			}
			pw_context_init(&ctx, v, NULL, 0);
		}
		pw_wipe((void *)(uintptr_t)kv[1].ptr, kv[1].len);
	}
	/* the environment list itself stays in the arena until the next
	   request resets it; its values were wiped above */
}
#endif

/* ------------------------------------------------------------------ */
/* The export                                                           */
/* ------------------------------------------------------------------ */

static void
refuse(pw_result *res, pw_status st, const char *message)
{
	memset(res, 0, sizeof *res);
	res->status = st;
	res->message = message;
}

EXPORT("wasi:http/incoming-handler@0.2.0#handle")
void handle(int32_t request, int32_t outparam);

void
handle(int32_t request, int32_t outparam)
{
	static pw_result res;
	pw_request req;
	size_t i;
	unsigned seen = 0;
	struct { cabi_entry *ptr; size_t len; } entries;
	int32_t headers;
	const char *extra = NULL;
	int rc;

	arena_used = 0;
	memset(&req, 0, sizeof req);
	pw_context_init(&ctx, 0, NULL, 0);
	pw_keyring_init(&kr);
	load_secrets();

	req.method = read_method(request);
	headers = req_headers(request);
	fields_entries(headers, &entries);
	for (i = 0; i < entries.len; i++) {
		const cabi_entry *h = &entries.ptr[i];

		cabi_note_header(&req, &seen, h->name.ptr, h->name.len,
			h->value.ptr, h->value.len);
	}

	if (req.method.len == 4 && memcmp(req.method.ptr, "POST", 4) == 0) {
		rc = read_body(request, ctx.body_max, &req.body);
		if (rc == BODY_TOO_LARGE) {
			refuse(&res, PW_ERR_PAYLOAD_TOO_LARGE,
				"body is larger than the configured limit");
			goto send;
		}
		if (rc != BODY_OK) {
			refuse(&res, PW_ERR_MALFORMED_REQUEST, "the body could not be read");
			goto send;
		}
		ctx.scratch = arena + arena_used;
		ctx.scratch_cap = ARENA_SIZE - arena_used;
		if (ctx.scratch_cap > req.body.len) {
			ctx.scratch_cap = req.body.len;
		}
		arena_used += ctx.scratch_cap;
	}
	pw_handle(&ctx, &kr, &req, &res);

#ifdef PW_SPIN
	if (res.status == PW_CAPTURED) {
		int kept = persist(&res);

		if (kept < 0) {
			/* not kept, so not captured: a 500 makes Panora retry */
			pw_keyring_wipe(&kr);
			drop_fields(headers);
			respond(outparam, 500, NULL, "{\"outcome\":\"rejected\","
				"\"error\":\"storage_failed\",\"message\":"
				"\"the record could not be stored; Panora will retry\"}");
			drop_incoming_request(request);
			return;
		}
		extra = kept ? ",\"persisted\":\"new\"" : ",\"persisted\":\"known\"";
	}
#endif
send:
	pw_keyring_wipe(&kr);
	drop_fields(headers);
	respond(outparam, pw_status_http(res.status), &res, extra);
	drop_incoming_request(request);
}
