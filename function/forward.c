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
 * A failure names its cause: the host's error-code case picks a short
 * sentence for the sender and goes, by name, into the log line (res->cause),
 * so an operator can tell a wrong host or port from a slow backend. The
 * URL's path and query are never repeated.
 *
 * The answer's body is read and dropped (up to DRAIN_MAX bytes, within the
 * same deadline) before the response is let go, and every child resource
 * is dropped before its parent: a host that pools connections (jco's
 * keep-alive agent) can then reuse the connection rather than hold it open
 * for good, one socket per delivery.
 *
 * Imports, all under 0.2.0 names and all in the wasi:http proxy world:
 * outgoing-handler, the outgoing-request and request-options resources,
 * the incoming response and its body stream, wasi:io/poll, and the
 * monotonic and wall clocks.
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
IMPORT(HTTP, "[method]incoming-response.consume")
void response_consume(int32_t r, void *ret);
/* the same imports as http.c's; the linker keeps one of each */
IMPORT(HTTP, "[method]incoming-body.stream")
void response_body_stream(int32_t body, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-body")
void drop_response_body(int32_t h);
IMPORT(IO, "[resource-drop]input-stream")
void drop_response_stream(int32_t h);
IMPORT(IO, "[method]input-stream.subscribe")
int32_t stream_subscribe(int32_t s);
IMPORT(IO, "[method]input-stream.read")
void stream_read_now(int32_t s, int64_t len, void *ret);
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
   u64, so the payload sits at 8; an error-code is its case's position
   (a u8) there */
typedef struct {
	uint8_t is_err;
	uint8_t pad[7];
	union {
		int32_t handle;
		uint8_t code;                     /* the error-code's case */
	} v;
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
	union {
		int32_t handle;
		uint8_t code;                     /* the error-code's case */
	} v;
	uint8_t rest[36];
} future_result;

/* result<list<u8>, stream-error>: stream-error is last-operation-failed
   (own<error>, case 0) or closed (case 1) */
typedef struct {
	uint8_t is_err;
	union {
		cabi_str ok;
		struct { uint8_t tag; int32_t error; } e;
	} u;
} read_result;

_Static_assert(offsetof(handle_result, v) == 8, "handle result payload");
_Static_assert(offsetof(future_result, v) == 24, "future result payload");
_Static_assert(offsetof(read_result, u.e.error) == 8, "stream-error payload");

/*
 * wasi:http/types@0.2.0 `error-code`, one entry per case in the order of
 * the variant (the canonical ABI lowers a case as its position): the
 * case's name, for the log, and the kind of failure, for the sentence.
 * tests/http/forward.test.mjs checks this list against the WIT the
 * build derives from jco's package.
 */
#define ERROR_CODES(X) \
	X("DNS-timeout",                        DNS)         \
	X("DNS-error",                          DNS)         \
	X("destination-not-found",              DNS)         \
	X("destination-unavailable",            UNREACHABLE) \
	X("destination-IP-prohibited",          UNREACHABLE) \
	X("destination-IP-unroutable",          UNREACHABLE) \
	X("connection-refused",                 REFUSED)     \
	X("connection-terminated",              CLOSED)      \
	X("connection-timeout",                 TIMEOUT)     \
	X("connection-read-timeout",            TIMEOUT)     \
	X("connection-write-timeout",           TIMEOUT)     \
	X("connection-limit-reached",           LIMIT)       \
	X("TLS-protocol-error",                 TLS)         \
	X("TLS-certificate-error",              TLS)         \
	X("TLS-alert-received",                 TLS)         \
	X("HTTP-request-denied",                REQUEST)     \
	X("HTTP-request-length-required",       REQUEST)     \
	X("HTTP-request-body-size",             REQUEST)     \
	X("HTTP-request-method-invalid",        REQUEST)     \
	X("HTTP-request-URI-invalid",           REQUEST)     \
	X("HTTP-request-URI-too-long",          REQUEST)     \
	X("HTTP-request-header-section-size",   REQUEST)     \
	X("HTTP-request-header-size",           REQUEST)     \
	X("HTTP-request-trailer-section-size",  REQUEST)     \
	X("HTTP-request-trailer-size",          REQUEST)     \
	X("HTTP-response-incomplete",           CLOSED)      \
	X("HTTP-response-header-section-size",  RESPONSE)    \
	X("HTTP-response-header-size",          RESPONSE)    \
	X("HTTP-response-body-size",            RESPONSE)    \
	X("HTTP-response-trailer-section-size", RESPONSE)    \
	X("HTTP-response-trailer-size",         RESPONSE)    \
	X("HTTP-response-transfer-coding",      RESPONSE)    \
	X("HTTP-response-content-coding",       RESPONSE)    \
	X("HTTP-response-timeout",              TIMEOUT)     \
	X("HTTP-upgrade-failed",                RESPONSE)    \
	X("HTTP-protocol-error",                PROTOCOL)    \
	X("loop-detected",                      REQUEST)     \
	X("configuration-error",                HOST)        \
	X("internal-error",                     HOST)

/* What went wrong, as the sender reads it. */
#define FAILURE_KINDS(X) \
	X(DNS,         "the forward failed: DNS lookup failed")                 \
	X(UNREACHABLE, "the forward failed: the backend's address is unreachable") \
	X(REFUSED,     "the forward failed: connection refused")                \
	X(CLOSED,      "the forward failed: the backend closed the connection") \
	X(PROTOCOL,    "the forward failed: the backend closed the connection or broke HTTP") \
	X(LIMIT,       "the forward failed: the host has no connection to spare") \
	X(TLS,         "the forward failed: TLS failed")                        \
	X(REQUEST,     "the forward failed: the host refused the request")      \
	X(RESPONSE,    "the forward failed: the backend's answer is not usable HTTP") \
	X(HOST,        "the forward failed: the host's HTTP client failed")     \
	X(TIMEOUT,     NULL)   /* "the forward got no answer within N ms" */

#define KIND_ENUM(kind, sentence) KIND_##kind,
typedef enum { FAILURE_KINDS(KIND_ENUM) KIND_COUNT } failure_kind;
#undef KIND_ENUM

#define CODE_NAME(name, kind) name,
#define CODE_KIND(name, kind) KIND_##kind,
static const char *const code_name[] = { ERROR_CODES(CODE_NAME) };
static const unsigned char code_kind[] = { ERROR_CODES(CODE_KIND) };
#undef CODE_NAME
#undef CODE_KIND

#define KIND_SENTENCE(kind, sentence) sentence,
static const char *const kind_sentence[] = { FAILURE_KINDS(KIND_SENTENCE) };
#undef KIND_SENTENCE

#define N_CODES (sizeof code_name / sizeof code_name[0])
_Static_assert(N_CODES == 39, "wasi:http 0.2.0 error-code has 39 cases");

enum { METHOD_POST = 2, SCHEME_HTTP = 0, SCHEME_HTTPS = 1 };

/* Not error-code cases: how else the wait for an answer can end. */
enum {
	CODE_DEADLINE = -1,   /* our own deadline came first              */
	CODE_UNKNOWN = -2     /* the host gave no answer that can be read */
};

/* Reading the answer's body: at most this much, in at most this many
   waits. What is read lands in the request's arena (input-stream.skip
   would not, but jco 1.35's skip returns the bytes, not their count). */
#define DRAIN_MAX   16384u
#define DRAIN_POLLS 32u

/* Refuse with `st`; returns SINK_FAILED for the caller to pass on. */
static sink_result
failed(pw_result *res, pw_status st, const char *message)
{
	kit_unkept(res, st, message);
	return SINK_FAILED;
}

/* Why the URL cannot be used, for the 500 no_sink. */
static const char *
url_sentence(pw_url_result r)
{
	switch (r) {
	case PW_URL_CHAR:
		return "the forward URL holds a character no URL allows as it is";
	case PW_URL_FRAGMENT:
		return "the forward URL has a #fragment";
	case PW_URL_USERINFO:
		return "the forward URL has user information (user@host)";
	case PW_URL_HOST:
		return "the forward URL's host is empty or not a host name or IPv4 address";
	case PW_URL_IPV6:
		return "the forward URL's host is an IPv6 literal, which is not supported: use a host name";
	case PW_URL_PORT:
		return "the forward URL's port is not a number from 1 to 65535";
	default:
		return "the forward URL is not an absolute http or https URL";
	}
}

/*
 * A failed exchange with the backend: 503 sink_failed, with the sentence
 * of the error-code case `code` (or of CODE_DEADLINE, CODE_UNKNOWN), and
 * the case's name as the log's cause.
 */
static sink_result
exchange_failed(pw_result *res, int code, unsigned ms)
{
	static char timeout_sentence[64];
	static const char prefix[] = "the forward got no answer within ";
	failure_kind kind = code == CODE_DEADLINE ? KIND_TIMEOUT : KIND_HOST;
	const char *sentence;
	size_t n;

	if (code >= 0 && (size_t)code < N_CODES) {
		kind = (failure_kind)code_kind[code];
	}
	sentence = kind_sentence[kind];
	if (kind == KIND_TIMEOUT) {
		memcpy(timeout_sentence, prefix, sizeof prefix - 1);
		n = sizeof prefix - 1 + pw_u64_dec(timeout_sentence + sizeof prefix - 1, ms);
		memcpy(timeout_sentence + n, " ms", 4);
		sentence = timeout_sentence;
	}
	failed(res, PW_ERR_SINK_FAILED, sentence);
	res->cause = code >= 0 && (size_t)code < N_CODES ? code_name[code]
		: code == CODE_DEADLINE ? "deadline" : "no-answer";
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

/*
 * The request target: the URL's path and query, or "/" before a query
 * that has no path (made in the request's arena). A NULL ptr when the
 * arena cannot hold it.
 */
static pw_span
request_target(const pw_url *url)
{
	pw_span t = url->path;
	size_t cap;
	char *p;

	if (t.len > 0 && t.ptr[0] == '?') {
		p = http_rest(&cap);
		if (cap <= t.len) {
			t.ptr = NULL;
			return t;
		}
		p[0] = '/';
		memcpy(p + 1, url->path.ptr, url->path.len);
		http_take(url->path.len + 1);
		t.ptr = p;
		t.len = url->path.len + 1;
	}
	return t;
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
make_request(const pw_url *url, pw_span target, const char *id, const char *ts,
	size_t ts_len, const char *sig, const char *len, size_t len_len)
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
		|| request_set_path(req, 1, target.ptr, target.len) != 0)
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

/* A pollable for what is left until `deadline` (monotonic ns). */
static int32_t
deadline_pollable(int64_t deadline)
{
	int64_t left = deadline - mono_now();

	return mono_subscribe(left > 0 ? left : 0);
}

/* Wait until p[0] or p[1] is ready; 1 when p[0] is. */
static int
first_ready(const int32_t p[2])
{
	struct { uint32_t *ptr; size_t len; } ready;
	int first = 0;
	size_t i;

	io_poll(p, 2, &ready);
	for (i = 0; i < ready.len; i++) {
		first |= ready.ptr[i] == 0;
	}
	return first;
}

/* How the wait for the backend's answer ended. */
typedef struct {
	int32_t response;     /* the incoming-response, or -1       */
	unsigned status;      /* its HTTP status                    */
	int code;             /* with no response: an error-code case,
	                         CODE_DEADLINE or CODE_UNKNOWN       */
} answer;

/* Wait for the answer until `deadline` (monotonic ns). */
static answer
await_answer(int32_t future, int64_t deadline)
{
	answer a = { -1, 0, CODE_DEADLINE };
	future_result fr;
	int32_t p[2];
	int answered;

	p[0] = future_subscribe(future);
	p[1] = deadline_pollable(deadline);
	answered = first_ready(p);
	drop_pollable(p[1]);
	drop_pollable(p[0]);
	if (!answered) {
		return a;                         /* the deadline came first */
	}
	memset(&fr, 0, sizeof fr);
	future_get(future, &fr);
	if (!fr.is_some || fr.outer_is_err) {
		a.code = CODE_UNKNOWN;
	} else if (fr.is_err) {
		a.code = fr.v.code;
	} else {
		a.response = fr.v.handle;
		a.status = (unsigned)response_status(fr.v.handle) & 0xffffu;
	}
	return a;
}

/*
 * Read and drop the answer's body (at most DRAIN_MAX bytes, until
 * `deadline`), then let the response go: the pollable, the stream, the
 * body, the response, each child before its parent.
 */
static void
release_response(int32_t response, int64_t deadline)
{
	cabi_handle_result body, stream;
	read_result rd;
	size_t drained = 0;
	int32_t p[2];
	unsigned polls;

	response_consume(response, &body);
	if (!body.is_err) {
		response_body_stream(body.handle, &stream);
		if (!stream.is_err) {
			p[0] = stream_subscribe(stream.handle);
			p[1] = deadline_pollable(deadline);
			for (polls = 0; polls < DRAIN_POLLS && drained < DRAIN_MAX; polls++) {
				if (!first_ready(p)) {
					break;                /* the deadline came first */
				}
				memset(&rd, 0, sizeof rd);
				stream_read_now(stream.handle, (int64_t)(DRAIN_MAX - drained), &rd);
				if (rd.is_err) {
					if (rd.u.e.tag == 0) {
						drop_io_error(rd.u.e.error);
					}
					break;                /* closed: all of it is read */
				}
				drained += rd.u.ok.len;
			}
			drop_pollable(p[1]);
			drop_pollable(p[0]);
			drop_response_stream(stream.handle);
		}
		drop_response_body(body.handle);
	}
	drop_response(response);
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
	pw_url_result ur;
	pw_span target;
	answer a;
	int32_t req, body, opts;
	int64_t start, limit_ns;
	unsigned ms;

	if (cfg->url.ptr == NULL || cfg->url.len == 0) {
		return SINK_NONE;
	}
	/* every configuration error, before anything is sent: 500 no_sink */
	start = mono_now();
	if ((ur = pw_url_parse(&url, cfg->url.ptr, cfg->url.len)) != PW_URL_OK) {
		return failed(res, PW_ERR_NO_SINK, url_sentence(ur));
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
	if ((target = request_target(&url)).ptr == NULL) {
		pw_wipe(&key, sizeof key);
		return failed(res, PW_ERR_NO_SINK, "the forward URL is too long");
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

	req = make_request(&url, target, id, ts, ts_len, sig, len, len_len);
	if (req < 0) {
		return failed(res, PW_ERR_NO_SINK,
			"the host refused the forward URL or the request's headers");
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
		return exchange_failed(res, h.v.code, ms);
	}
	if (send_body(body, res, wall.seconds) != 0) {
		/* the answer, if there is one, says why */
		a = await_answer(h.v.handle, start + limit_ns);
		if (a.response >= 0) {
			release_response(a.response, start + limit_ns);
		}
		drop_future(h.v.handle);
		if (a.response < 0 && a.code >= 0) {
			return exchange_failed(res, a.code, ms);
		}
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward's body could not be sent");
	}
	a = await_answer(h.v.handle, start + limit_ns);
	if (a.response >= 0) {
		release_response(a.response, start + limit_ns);
	}
	drop_future(h.v.handle);
	if (a.response < 0) {
		return exchange_failed(res, a.code, ms);
	}
	if (a.status < 200 || a.status > 299) {
		return failed(res, PW_ERR_SINK_FAILED,
			"the forward was answered with a non-2xx status");
	}
	return SINK_KEPT;
}
