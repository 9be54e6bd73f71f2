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
#include "outgoing.h"

/* The longest a forward may take, and the default. */
#define TIMEOUT_MAX_MS 10000u
#define TIMEOUT_MIN_MS 100u
#define TIMEOUT_INVALID 0u        /* a setting that is not one */

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
static kit_step
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
	kit_refuse(res, PW_ERR_SINK_FAILED, sentence);
	res->cause = code >= 0 && (size_t)code < N_CODES ? code_name[code]
		: code == CODE_DEADLINE ? "deadline" : "no-answer";
	return KIT_STOP;
}

/* The configured timeout in milliseconds: TIMEOUT_MAX_MS unless a number
   from TIMEOUT_MIN_MS to TIMEOUT_MAX_MS is given; TIMEOUT_INVALID when
   the setting is not one. */
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
		return TIMEOUT_INVALID;
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

/* ------------------------------------------------------------------ */
/* One forward, stage by stage                                          */
/* ------------------------------------------------------------------ */

/* What the stages hand on. */
typedef struct {
	pw_url url;
	pw_span target;                     /* the request target          */
	pw_forward_key key;                 /* wiped once it has signed    */
	unsigned ms;                        /* the timeout                 */
	int64_t limit_ns, deadline;         /* the timeout; start + it     */
	uint64_t now;                       /* webhook-timestamp (seconds) */
	char id[PW_FORWARD_ID_LEN], sig[PW_FORWARD_SIG_LEN];
	char ts[20], len[20];               /* decimal timestamp, length   */
	size_t ts_len, len_len;
} forward_job;

/*
 * Every configuration error, before anything is sent: 500 no_sink. The
 * deadline runs from here.
 */
static kit_step
configure(forward_job *j, const forward_config *cfg, pw_result *res)
{
	pw_url_result ur;

	j->deadline = mono_now();
	if ((ur = pw_url_parse(&j->url, cfg->url.ptr, cfg->url.len)) != PW_URL_OK) {
		return kit_refuse(res, PW_ERR_NO_SINK, url_sentence(ur));
	}
	if ((j->ms = timeout_ms(cfg->timeout_ms)) == TIMEOUT_INVALID) {
		return kit_refuse(res, PW_ERR_NO_SINK,
			"the forward timeout is not a number of milliseconds from 100 to 10000");
	}
	if (cfg->secret.ptr == NULL
		|| pw_forward_key_init(&j->key, cfg->secret.ptr, cfg->secret.len) != PW_FORWARD_KEY_OK)
	{
		return kit_refuse(res, PW_ERR_NO_SINK,
			"the forward secret is not whsec_ and the base64 of 16 to 64 bytes");
	}
	if ((j->target = request_target(&j->url)).ptr == NULL) {
		pw_wipe(&j->key, sizeof j->key);
		return kit_refuse(res, PW_ERR_NO_SINK, "the forward URL is too long");
	}
	j->limit_ns = (int64_t)j->ms * 1000000;
	j->deadline += j->limit_ns;
	return KIT_GO;
}

/* Sign webhook-id "." timestamp "." body, counting the body's length;
   the key is wiped. */
static void
sign(forward_job *j, const pw_result *res)
{
	struct { uint64_t seconds; uint32_t nanoseconds; } wall;
	pw_forward_signer signer;

	wall_now(&wall);
	j->now = wall.seconds;
	pw_forward_id(j->id, &res->record);
	pw_forward_sign_begin(&signer, &j->key, j->id, sizeof j->id, j->now);
	pw_wipe(&j->key, sizeof j->key);
	pw_forward_write_body(res, j->now, pw_forward_sign_update, &signer);
	j->len_len = pw_u64_dec(j->len, signer.body_len);
	pw_forward_sign_end(&signer, j->sig);
	j->ts_len = pw_u64_dec(j->ts, j->now);
}

/* The outgoing request, its headers set; KIT_NO_HANDLE when the host
   refuses one of its parts. */
static int32_t
make_request(const forward_job *j)
{
	cabi_entry e[6];

	e[0] = entry("content-type", "application/json", 16);
	e[1] = entry("content-length", j->len, j->len_len);
	e[2] = entry("webhook-id", j->id, PW_FORWARD_ID_LEN);
	e[3] = entry("webhook-timestamp", j->ts, j->ts_len);
	e[4] = entry("webhook-signature", j->sig, PW_FORWARD_SIG_LEN);
	e[5] = entry("user-agent", "panora-webhook/0.1", 18);
	return og_request(OG_POST, &j->url, j->target.ptr, j->target.len, e, 6);
}

/*
 * Hand the request to the host, with every timeout set to the forward's:
 * the future of its answer into `*future`, its body into `*body`.
 */
static kit_step
start_request(const forward_job *j, pw_result *res, int32_t *future,
	int32_t *body)
{
	int32_t req = make_request(j);
	og_handle_result h;

	if (req == KIT_NO_HANDLE) {
		return kit_refuse(res, PW_ERR_NO_SINK,
			"the host refused the forward URL or the request's headers");
	}
	switch (og_send(req, j->limit_ns, body, &h)) {
	case OG_NO_BODY:
		return kit_refuse(res, PW_ERR_SINK_FAILED,
			"the host refused the forward request");
	case OG_NOT_SENT:
		return exchange_failed(res, h.code, j->ms);
	default:
		*future = h.handle;
		return KIT_GO;
	}
}

/* Send the message body into the outgoing body and finish it; 1 when all
   of it went, 0 when a write or the finish failed. */
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
		return 0;
	}
	o.target = r.handle;
	http_stream_failed = 0;
	pw_forward_write_body(res, now, bufsink_write, &o);
	bufsink_flush(&o);
	pw_wipe(mem, sizeof mem);             /* it held the token */
	http_drop_output_stream(o.target);
	http_outbody_finish(body, 0, 0, &fin);
	return !http_stream_failed && !fin.is_err;
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
	og_ready ready;
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
	int32_t response;     /* the incoming-response, or KIT_NO_HANDLE */
	unsigned status;      /* its HTTP status                    */
	int code;             /* with no response: an error-code case,
	                         CODE_DEADLINE or CODE_UNKNOWN       */
} answer;

/* Wait for the answer until `deadline` (monotonic ns). */
static answer
await_answer(int32_t future, int64_t deadline)
{
	answer a = { KIT_NO_HANDLE, 0, CODE_DEADLINE };
	og_future_result fr;
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
		a.code = fr.code;
	} else {
		a.response = fr.handle;
		a.status = (unsigned)response_status(fr.handle) & 0xffffu;
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
	cabi_read_result rd;
	size_t drained = 0;
	int32_t p[2];
	unsigned polls;

	response_consume(response, &body);
	if (!body.is_err) {
		incoming_body_stream(body.handle, &stream);
		if (!stream.is_err) {
			p[0] = input_subscribe(stream.handle);
			p[1] = deadline_pollable(deadline);
			for (polls = 0; polls < DRAIN_POLLS && drained < DRAIN_MAX; polls++) {
				if (!first_ready(p)) {
					break;                /* the deadline came first */
				}
				memset(&rd, 0, sizeof rd);
				input_read(stream.handle, (int64_t)(DRAIN_MAX - drained), &rd);
				if (rd.is_err) {
					if (rd.u.err.tag == 0) {
						drop_io_error(rd.u.err.error);
					}
					break;                /* closed: all of it is read */
				}
				drained += rd.u.ok.len;
			}
			drop_pollable(p[1]);
			drop_pollable(p[0]);
			drop_input_stream(stream.handle);
		}
		drop_incoming_body(body.handle);
	}
	drop_response(response);
}

/* The answer, if one comes before the deadline; the response (drained)
   and the future are let go. */
static answer
await_and_release(const forward_job *j, int32_t future)
{
	answer a = await_answer(future, j->deadline);

	if (a.response != KIT_NO_HANDLE) {
		release_response(a.response, j->deadline);
	}
	drop_future(future);
	return a;
}

/* Was it kept? Only a 2xx answer to the whole body is. */
static kit_step
judge(const forward_job *j, int sent, answer a, pw_result *res)
{
	if (!sent) {
		/* the answer, if there is one, says why */
		if (a.response == KIT_NO_HANDLE && a.code >= 0) {
			return exchange_failed(res, a.code, j->ms);
		}
		return kit_refuse(res, PW_ERR_SINK_FAILED,
			"the forward's body could not be sent");
	}
	if (a.response == KIT_NO_HANDLE) {
		return exchange_failed(res, a.code, j->ms);
	}
	if (a.status < 200 || a.status > 299) {
		return kit_refuse(res, PW_ERR_SINK_FAILED,
			"the forward was answered with a non-2xx status");
	}
	return KIT_GO;
}

/* see sinks.h */
sink_result
forward_record(pw_result *res, const forward_config *cfg)
{
	forward_job j;
	int32_t future, body;
	int sent;

	if (cfg->url.ptr == NULL || cfg->url.len == 0) {
		return SINK_NONE;
	}
	if (configure(&j, cfg, res) != KIT_GO) {
		return SINK_FAILED;
	}
	sign(&j, res);
	if (start_request(&j, res, &future, &body) != KIT_GO) {
		return SINK_FAILED;
	}
	sent = send_body(body, res, j.now);
	return judge(&j, sent, await_and_release(&j, future), res) == KIT_GO
		? SINK_KEPT : SINK_FAILED;
}
