/*
 * pw_handle.c -- one delivery, from raw request to token record.
 *
 * The order of the checks is the contract (see pw_handle in the header):
 * cheap refusals first, then the envelope structure (needed to find the
 * signed span), then the MAC, and only after it the decoding of "data".
 */
#include <string.h>

#include "pw_internal.h"

/* ------------------------------------------------------------------ */
/* The status table: the one place statuses meet HTTP                   */
/* ------------------------------------------------------------------ */

static const struct {
	unsigned http;
	const char *reason;
	const char *code;
	const char *message;     /* for refusals that have no better one */
} status_table[PW_STATUS_COUNT] = {
	[PW_CAPTURED]               = { 200, "OK", "captured",
		"connection token captured" },
	[PW_IGNORED]                = { 200, "OK", "ignored",
		"verified; this event type carries no connection token" },
	[PW_ERR_METHOD_NOT_ALLOWED] = { 405, "Method Not Allowed", "method_not_allowed",
		"only POST is accepted" },
	[PW_ERR_PAYLOAD_TOO_LARGE]  = { 413, "Content Too Large", "payload_too_large",
		"body is larger than the configured limit" },
	[PW_ERR_MALFORMED_REQUEST]  = { 400, "Bad Request", "malformed_request",
		"the request is not a Panora delivery" },
	[PW_ERR_MISSING_SIGNATURE]  = { 400, "Bad Request", "missing_signature",
		"the Panora-Signature header is missing" },
	[PW_ERR_BAD_SIGNATURE]      = { 401, "Unauthorized", "bad_signature",
		"Panora-Signature does not match the body under any configured secret" },
	[PW_ERR_UNUSABLE_DATA]      = { 422, "Unprocessable Content", "unusable_data",
		"data is not a usable Connection Object" },
	[PW_ERR_NO_SECRET]          = { 500, "Internal Server Error", "no_secret",
		"no endpoint secret is configured" },
	[PW_ERR_NO_SINK]            = { 500, "Internal Server Error", "no_sink",
		"nothing is configured to keep the record, so it is not acknowledged" },
	[PW_ERR_SINK_FAILED]        = { 503, "Service Unavailable", "sink_failed",
		"the record could not be forwarded; Panora will send it again" },
	[PW_ERR_STORAGE_FAILED]     = { 503, "Service Unavailable", "storage_failed",
		"the record could not be stored; Panora will send it again" },
};

static pw_status
clamp(pw_status st)
{
	return (unsigned)st < PW_STATUS_COUNT ? st : PW_ERR_NO_SECRET;
}

/* see panora_webhook.h */
unsigned
pw_status_http(pw_status st)
{
	return status_table[clamp(st)].http;
}

/* see panora_webhook.h */
const char *
pw_status_reason(pw_status st)
{
	return status_table[clamp(st)].reason;
}

/* see panora_webhook.h */
const char *
pw_status_code(pw_status st)
{
	return status_table[clamp(st)].code;
}

/* see panora_webhook.h */
const char *
pw_status_message(pw_status st)
{
	return status_table[clamp(st)].message;
}

/* see panora_webhook.h */
int
pw_status_ok(pw_status st)
{
	return st == PW_CAPTURED || st == PW_IGNORED;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
void
pw_context_init(pw_context *ctx, size_t body_max, unsigned char *scratch,
	size_t scratch_cap)
{
	ctx->body_max = (body_max == 0 || body_max > PW_BODY_MAX)
		? PW_BODY_MAX : body_max;
	ctx->scratch = scratch;
	ctx->scratch_cap = scratch != NULL ? scratch_cap : 0;
}

static pw_status
fail(pw_result *res, pw_status st, const char *message)
{
	memset(&res->record, 0, sizeof res->record);
	res->status = st;
	res->message = message;
	return st;
}

static int
span_is(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len == n && memcmp(p, lit, n) == 0;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static pw_span
trim(pw_span s)
{
	while (s.len > 0 && is_ows(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && is_ows(s.ptr[s.len - 1])) {
		s.len--;
	}
	return s;
}

/* "application/json", any case, optionally followed by ";" parameters */
static int
is_json_media_type(pw_span ct)
{
	static const char want[] = "application/json";
	size_t i, n = sizeof want - 1;

	ct = trim(ct);
	if (ct.len < n) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = ct.ptr[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c + 32);
		}
		if (c != want[i]) {
			return 0;
		}
	}
	while (i < ct.len && is_ows(ct.ptr[i])) {
		i++;
	}
	return i == ct.len || ct.ptr[i] == ';';
}

static int
all_hex(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)p[i];

		if (!(c - '0' < 10u || (c | 0x20) - 'a' < 6u)) {
			return 0;
		}
	}
	return 1;
}

/* Scratch space is handed out front to back within one request. */
typedef struct {
	unsigned char *buf;
	size_t used, cap;
} arena;

/*
 * Decode the string token `t` of `js` into a span: a view into `js` when
 * it holds no escape; else decoded in place when `in_place` is `js` made
 * writable (the decoded data text, which is ours), or into the arena.
 * Returns 0, or -1 for a bad escape or lone surrogate, -2 if the result
 * holds a NUL byte.
 */
static int
decode_string(arena *a, const char *js, unsigned char *in_place,
	const jsmntok_t *t, pw_span *out)
{
	const char *s = js + t->start;
	size_t len = (size_t)(t->end - t->start);
	unsigned char *dst;
	long n;

	if (memchr(s, '\\', len) == NULL) {
		out->ptr = s;           /* checked: valid UTF-8, no controls */
		out->len = len;
		return 0;
	}
	dst = in_place != NULL ? in_place + t->start : a->buf + a->used;
	n = pw_json_unescape(dst, in_place != NULL ? len : a->cap - a->used, s, len);
	if (n < 0) {
		return -1;
	}
	out->ptr = (const char *)dst;
	out->len = (size_t)n;
	if (in_place == NULL) {
		a->used += (size_t)n;
	}
	return memchr(out->ptr, 0, out->len) != NULL ? -2 : 0;
}

static const char *
json_error_message(long e, int in_data)
{
	switch (e) {
	case PW_JSON_UTF8:
		return in_data ? "data is not valid UTF-8 or holds a NUL character"
			: "body is not valid UTF-8 or holds a NUL byte";
	case PW_JSON_DEPTH:
		return in_data ? "data nests deeper than the limit"
			: "body nests deeper than the limit";
	case PW_JSON_TOKENS:
		return in_data ? "data holds more JSON values than the limit"
			: "body holds more JSON values than the limit";
	case PW_JSON_NOT_OBJ:
		return in_data ? "data does not hold a JSON object"
			: "body is not a JSON object";
	default:
		return in_data ? "data does not hold valid JSON"
			: "body is not valid JSON";
	}
}

/* ------------------------------------------------------------------ */
/* The Connection Object                                                */
/* ------------------------------------------------------------------ */

#define F_REQUIRED 1   /* non-empty string, else unusable */
#define F_NULLABLE 2   /* JSON null is a value            */

static const struct {
	const char *name;
	size_t offset;
	int flags;
	const char *missing;
} fields[] = {
	{ "id_connection", offsetof(pw_record, id_connection), F_REQUIRED,
		"data has no usable id_connection (missing, null, empty or not a string)" },
	{ "connection_token", offsetof(pw_record, connection_token), F_REQUIRED,
		"data has no usable connection_token (missing, null, empty or not a string)" },
	{ "id_linked_user", offsetof(pw_record, id_linked_user), F_REQUIRED,
		"data has no usable id_linked_user (missing, null, empty or not a string)" },
	{ "id_project", offsetof(pw_record, id_project), F_NULLABLE, NULL },
	{ "provider_slug", offsetof(pw_record, provider_slug), F_NULLABLE, NULL },
	{ "vertical", offsetof(pw_record, vertical), F_NULLABLE, NULL },
	{ "status", offsetof(pw_record, status), F_NULLABLE, NULL },
	{ "account_url", offsetof(pw_record, account_url), F_NULLABLE, NULL },
	{ "created_at", offsetof(pw_record, created_at), F_NULLABLE, NULL },
	{ "expiration_timestamp", offsetof(pw_record, expiration_timestamp),
		F_NULLABLE, NULL },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/*
 * Fill res->record from the Connection Object text `js` (already known to
 * be signed). Keys are matched byte for byte; unknown keys (access_token,
 * refresh_token, token_type among them) are skipped without being read.
 * `mine` is `js` when the text is our own decoded copy: field values are
 * then decoded in place (each only ever shrinks inside its own span).
 */
static pw_status
decode_connection(pw_context *ctx, arena *a, const char *js, size_t len,
	unsigned char *mine, pw_result *res)
{
	jsmntok_t *t = ctx->toks;
	unsigned seen = 0;
	long n, i;
	size_t f;

	n = pw__json_parse(t, js, len);
	if (n < 0) {
		return fail(res, PW_ERR_UNUSABLE_DATA, json_error_message(n, 1));
	}
	for (i = 1; i + 1 < n; i++) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];
		pw_span *dst;
		int r;

		if (k->parent != 0) {
			continue;
		}
		for (f = 0; f < NFIELDS; f++) {
			if (span_is(js + k->start, (size_t)(k->end - k->start),
				fields[f].name))
			{
				break;
			}
		}
		if (f == NFIELDS) {
			continue;
		}
		if (seen & (1u << f)) {
			return fail(res, PW_ERR_UNUSABLE_DATA,
				"data repeats a Connection Object field");
		}
		seen |= 1u << f;
		dst = (pw_span *)(void *)((char *)&res->record + fields[f].offset);
		if (v->type == JSMN_STRING) {
			r = decode_string(a, js, mine, v, dst);
			if (r == -1) {
				return fail(res, PW_ERR_UNUSABLE_DATA,
					"a Connection Object field is not a valid JSON string");
			}
			if (r == -2) {
				return fail(res, PW_ERR_UNUSABLE_DATA,
					"a Connection Object field holds a NUL character");
			}
		} else if (v->type == JSMN_PRIMITIVE && js[v->start] == 'n'
			&& (fields[f].flags & F_NULLABLE))
		{
			dst->ptr = NULL;
			dst->len = 0;
		} else if (!(fields[f].flags & F_REQUIRED)) {
			return fail(res, PW_ERR_UNUSABLE_DATA,
				"a Connection Object field has the wrong JSON type");
		}
	}
	for (f = 0; f < NFIELDS; f++) {
		const pw_span *s = (const pw_span *)(const void *)
			((const char *)&res->record + fields[f].offset);

		if ((fields[f].flags & F_REQUIRED) && (s->ptr == NULL || s->len == 0)) {
			return fail(res, PW_ERR_UNUSABLE_DATA, fields[f].missing);
		}
	}
	res->record.id_event = res->id_event;
	res->status = PW_CAPTURED;
	res->message = pw_status_message(PW_CAPTURED);
	return PW_CAPTURED;
}

/* ------------------------------------------------------------------ */
/* The entry point                                                      */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
pw_status
pw_handle(pw_context *ctx, const pw_keyring *kr, const pw_request *req,
	pw_result *res)
{
	const char *body = req->body.ptr ? req->body.ptr : "";
	size_t blen = req->body.len;
	jsmntok_t *t = ctx->toks;
	long n, i, key[PW_MAX_MEMBERS];
	long i_event = -1, i_type = -1, i_data = -1;
	size_t nkeys = 0, j;
	const char *msg;
	size_t msg_len;
	pw_span sig;
	arena a;
	int r;

	memset(res, 0, sizeof *res);

	if (req->method.ptr != NULL
		&& !span_is(req->method.ptr, req->method.len, "POST"))
	{
		return fail(res, PW_ERR_METHOD_NOT_ALLOWED,
			"only POST is accepted");
	}
	if (blen > ctx->body_max) {
		return fail(res, PW_ERR_PAYLOAD_TOO_LARGE,
			"body is larger than the configured limit");
	}
	if (blen > ctx->scratch_cap) {
		return fail(res, PW_ERR_PAYLOAD_TOO_LARGE,
			"body is larger than the working memory given for it");
	}
	if (kr->overflow) {
		return fail(res, PW_ERR_NO_SECRET,
			"more endpoint secrets are configured than the limit of 8");
	}
	if (kr->count == 0) {
		return fail(res, PW_ERR_NO_SECRET,
			"no endpoint secret is configured (PANORA_WEBHOOK_SECRET)");
	}
	if (req->repeated & PW_REPEATED_SIGNATURE) {
		return fail(res, PW_ERR_MISSING_SIGNATURE,
			"the Panora-Signature header appears more than once");
	}
	sig = req->signature.ptr ? trim(req->signature) : req->signature;
	if (sig.ptr == NULL || sig.len == 0) {
		return fail(res, PW_ERR_MISSING_SIGNATURE,
			"the Panora-Signature header is missing");
	}
	if (sig.len != PW_SIGNATURE_HEX_LEN || !all_hex(sig.ptr, sig.len)) {
		return fail(res, PW_ERR_MISSING_SIGNATURE,
			"the Panora-Signature header must be exactly 64 hex digits");
	}
	if (req->repeated & PW_REPEATED_CONTENT_TYPE) {
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"the Content-Type header appears more than once");
	}
	if (req->content_type.ptr != NULL && !is_json_media_type(req->content_type)) {
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"Content-Type must be application/json");
	}

	/* The envelope: find id_event, type and the raw span of data. */
	n = pw__json_parse(t, body, blen);
	if (n < 0) {
		return fail(res, PW_ERR_MALFORMED_REQUEST, json_error_message(n, 0));
	}
	for (i = 1; i + 1 < n; i++) {
		const jsmntok_t *k = &t[i];
		const char *ks = body + k->start;
		size_t kl = (size_t)(k->end - k->start);

		if (k->parent != 0) {
			continue;
		}
		if (memchr(ks, '\\', kl) != NULL) {
			return fail(res, PW_ERR_MALFORMED_REQUEST,
				"top-level keys must not contain escapes");
		}
		if (nkeys == PW_MAX_MEMBERS) {
			return fail(res, PW_ERR_MALFORMED_REQUEST,
				"body has too many top-level members");
		}
		for (j = 0; j < nkeys; j++) {
			const jsmntok_t *o = &t[key[j]];

			if ((size_t)(o->end - o->start) == kl
				&& memcmp(body + o->start, ks, kl) == 0)
			{
				return fail(res, PW_ERR_MALFORMED_REQUEST,
					"body repeats a top-level key");
			}
		}
		key[nkeys++] = i;
		if (span_is(ks, kl, "id_event")) {
			i_event = i + 1;
		} else if (span_is(ks, kl, "type")) {
			i_type = i + 1;
		} else if (span_is(ks, kl, "data")) {
			i_data = i + 1;
		}
	}
	if (i_event < 0 || t[i_event].type != JSMN_STRING) {
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"body needs an \"id_event\" string");
	}
	if (i_type < 0 || t[i_type].type != JSMN_STRING) {
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"body needs a \"type\" string");
	}
	if (i_data < 0 || (t[i_data].type != JSMN_STRING
		&& t[i_data].type != JSMN_OBJECT))
	{
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"body needs \"data\" as a JSON string or object");
	}

	/* The signed bytes: data's raw text, quotes included for a string. */
	if (t[i_data].type == JSMN_STRING) {
		msg = body + t[i_data].start - 1;
		msg_len = (size_t)(t[i_data].end - t[i_data].start) + 2;
	} else {
		msg = body + t[i_data].start;
		msg_len = (size_t)(t[i_data].end - t[i_data].start);
	}
	if (!pw_verify(kr, sig.ptr, sig.len, msg, msg_len)) {
		return fail(res, PW_ERR_BAD_SIGNATURE,
			"Panora-Signature does not match the body under any configured secret");
	}

	/* Verified. Decode what the record needs, nothing more. */
	a.buf = ctx->scratch;
	a.used = 0;
	a.cap = ctx->scratch_cap;
	r = decode_string(&a, body, NULL, &t[i_event], &res->id_event);
	if (r == 0) {
		r = decode_string(&a, body, NULL, &t[i_type], &res->type);
	}
	if (r != 0) {
		memset(&res->id_event, 0, sizeof res->id_event);
		memset(&res->type, 0, sizeof res->type);
		return fail(res, PW_ERR_MALFORMED_REQUEST,
			"id_event and type must be JSON strings without NUL characters");
	}
	if (!span_is(res->type.ptr, res->type.len, "connection.created")) {
		return fail(res, PW_IGNORED, pw_status_message(PW_IGNORED));
	}

	if (t[i_data].type == JSMN_STRING) {
		size_t start = a.used;
		long m = pw_json_unescape(a.buf + start, a.cap - start,
			body + t[i_data].start,
			(size_t)(t[i_data].end - t[i_data].start));

		if (m < 0) {
			return fail(res, PW_ERR_UNUSABLE_DATA,
				"data is not a valid JSON string");
		}
		a.used += (size_t)m;
		return decode_connection(ctx, &a, (const char *)a.buf + start,
			(size_t)m, a.buf + start, res);
	}
	return decode_connection(ctx, &a, msg, msg_len, NULL, res);
}
