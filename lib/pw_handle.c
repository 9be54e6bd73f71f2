/*
 * pw_handle.c -- one delivery, from raw request to token record.
 *
 * The order of the checks is the contract (see pw_handle in the header):
 * cheap refusals first, then the envelope structure (needed to find the
 * signed span), then the MAC, and only after it the decoding of "data".
 * pw_handle is that order written as a sequence of stages; each stage
 * either passes or stops with the refusal already in the result.
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
		"the record could not be forwarded, so it is not acknowledged" },
	[PW_ERR_STORAGE_FAILED]     = { 503, "Service Unavailable", "storage_failed",
		"the record could not be stored, so it is not acknowledged" },
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

/* What a stage says: go on to the next, or stop (the result is set). */
typedef enum {
	STAGE_PASS = 0,
	STAGE_STOP = 1
} stage;

static stage
stop(pw_result *res, pw_status st, const char *message)
{
	fail(res, st, message);
	return STAGE_STOP;
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

/* see panora_webhook.h */
int
pw_prefix_nocase(const char *p, size_t len, const char *lower)
{
	size_t i, n = strlen(lower);

	if (len < n) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c + 32);
		}
		if (c != lower[i]) {
			return 0;
		}
	}
	return 1;
}

/* "application/json", any case, optionally followed by ";" parameters */
static int
is_json_media_type(pw_span ct)
{
	static const char want[] = "application/json";
	size_t i = sizeof want - 1;

	ct = trim(ct);
	if (!pw_prefix_nocase(ct.ptr, ct.len, want)) {
		return 0;
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
		if (!pw__is_hex((unsigned char)p[i])) {
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

/* What decode_string made of a string token. */
typedef enum {
	STR_OK = 0,
	STR_BAD = -1,          /* a bad escape or a lone surrogate          */
	STR_NUL = -2           /* valid, but the decoded text holds a NUL   */
} str_result;

/*
 * Decode the string token `t` of `js` into a span: a view into `js` when
 * it holds no escape; else decoded in place when `in_place` is `js` made
 * writable (the decoded data text, which is ours), or into the arena.
 */
static str_result
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
		return STR_OK;
	}
	dst = in_place != NULL ? in_place + t->start : a->buf + a->used;
	n = pw__json_unescape(dst, in_place != NULL ? len : a->cap - a->used, s, len, 1);
	if (n < 0) {
		return STR_BAD;
	}
	out->ptr = (const char *)dst;
	out->len = (size_t)n;
	if (in_place == NULL) {
		a->used += (size_t)n;
	}
	return memchr(out->ptr, 0, out->len) != NULL ? STR_NUL : STR_OK;
}

static const char *
json_error_message(long e, int in_data)
{
	switch (e) {
	case PW_JSON_UTF8:
		return in_data ? "data is not valid UTF-8 or holds a NUL character"
			: "body is not valid UTF-8 or holds a NUL byte";
	case PW_JSON_DEPTH:
		return in_data ? "data nests deeper than the limit of " PW_STR(PW_MAX_DEPTH)
			: "body nests deeper than the limit of " PW_STR(PW_MAX_DEPTH);
	case PW_JSON_TOKENS:
		return in_data ? "data holds more JSON values than the limit of " PW_STR(PW_MAX_TOKENS)
			: "body holds more JSON values than the limit of " PW_STR(PW_MAX_TOKENS);
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

/* PW_RECORD_FIELDS as a table: where each field goes, and what it may be. */
static const struct {
	const char *name;
	size_t offset;
	int kind;
	const char *missing;      /* the refusal when a required one is not usable */
} fields[] = {
#define missing_PW_FIELD_REQUIRED(name) \
	"data has no usable " #name " (missing, null, empty or not a string)"
#define missing_PW_FIELD_META(name)   NULL
#define missing_PW_FIELD_TEXT(name)   NULL
#define missing_PW_FIELD_OPTION(name) NULL
#define PW_X_FIELD(name, kind) \
	{ #name, offsetof(pw_record, name), kind, missing_##kind(name) },
	PW_RECORD_FIELDS(PW_X_FIELD)
#undef PW_X_FIELD
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static pw_span *
field_of(pw_record *r, size_t f)
{
	return (pw_span *)(void *)((char *)r + fields[f].offset);
}

/* The field a top-level key of data names, or NFIELDS: byte for byte,
   and never the metadata. */
static size_t
field_named(const char *key, size_t len)
{
	size_t f;

	for (f = 0; f < NFIELDS; f++) {
		if (fields[f].kind != PW_FIELD_META && span_is(key, len, fields[f].name)) {
			break;
		}
	}
	return f;
}

/* Take the value token `v` of field `f` into the record. */
static stage
take_field(arena *a, const char *js, unsigned char *mine, size_t f,
	const jsmntok_t *v, pw_result *res)
{
	pw_span *dst = field_of(&res->record, f);

	if (v->type == JSMN_STRING) {
		switch (decode_string(a, js, mine, v, dst)) {
		case STR_OK:
			return STAGE_PASS;
		case STR_NUL:
			return stop(res, PW_ERR_UNUSABLE_DATA,
				"a Connection Object field holds a NUL character");
		default:
			return stop(res, PW_ERR_UNUSABLE_DATA,
				"a Connection Object field is not a valid JSON string");
		}
	}
	if (v->type == JSMN_PRIMITIVE && js[v->start] == 'n'
		&& fields[f].kind != PW_FIELD_REQUIRED)
	{
		dst->ptr = NULL;
		dst->len = 0;
		return STAGE_PASS;
	}
	if (fields[f].kind != PW_FIELD_REQUIRED) {
		return stop(res, PW_ERR_UNUSABLE_DATA,
			"a Connection Object field has the wrong JSON type");
	}
	return STAGE_PASS;            /* left empty: refused as missing below */
}

/*
 * Fill res->record from the Connection Object `js`, already tokenised into
 * ctx->toks (`n` tokens) and known to be signed. Keys are matched byte for
 * byte at the top level only; unknown keys (access_token, refresh_token,
 * token_type among them) are skipped without being read. `mine` is `js`
 * when the text is our own writable copy: field values are then decoded in
 * place (each only ever shrinks inside its own span).
 */
static pw_status
take_fields(pw_context *ctx, arena *a, const char *js, long n,
	unsigned char *mine, pw_result *res)
{
	jsmntok_t *t = ctx->toks;
	unsigned seen = 0;
	long i;
	size_t f;

	for (i = 1; i + 1 < n; i++) {
		if (t[i].parent != 0) {
			continue;
		}
		f = field_named(js + t[i].start, (size_t)(t[i].end - t[i].start));
		if (f == NFIELDS) {
			continue;
		}
		if (seen & (1u << f)) {
			return fail(res, PW_ERR_UNUSABLE_DATA,
				"data repeats a Connection Object field");
		}
		seen |= 1u << f;
		if (take_field(a, js, mine, f, &t[i + 1], res) == STAGE_STOP) {
			return res->status;
		}
	}
	for (f = 0; f < NFIELDS; f++) {
		const pw_span *s = field_of(&res->record, f);

		if (fields[f].kind == PW_FIELD_REQUIRED && (s->ptr == NULL || s->len == 0)) {
			return fail(res, PW_ERR_UNUSABLE_DATA, fields[f].missing);
		}
	}
	res->record.id_event = res->id_event;
	res->status = PW_CAPTURED;
	res->message = pw_status_message(PW_CAPTURED);
	return PW_CAPTURED;
}

/* The checked, tokenised Connection Object text, then its fields. With
   `utf8_ok` the text is already known to be valid UTF-8 (a checked body's
   span, or what the unescape made). */
static pw_status
decode_connection(pw_context *ctx, arena *a, const char *js, size_t len,
	unsigned char *mine, int utf8_ok, pw_result *res, long *json)
{
	*json = pw__json_parse(ctx->toks, js, len, utf8_ok);
	if (*json < 0) {
		return fail(res, PW_ERR_UNUSABLE_DATA, json_error_message(*json, 1));
	}
	return take_fields(ctx, a, js, *json, mine, res);
}

/* see pw_internal.h */
pw_status
pw__connection_decode(pw_context *ctx, unsigned char *js, size_t len,
	pw_result *res, long *json)
{
	arena none = { NULL, 0, 0 };     /* decoded in place: no scratch used */

	memset(res, 0, sizeof *res);
	return decode_connection(ctx, &none, (const char *)js, len, js, 0, res, json);
}

/* ------------------------------------------------------------------ */
/* The stages                                                           */
/* ------------------------------------------------------------------ */

/* The envelope's three members, as tokens into the body, and the bytes the
   signature covers. */
typedef struct {
	const char *body;
	size_t len;
	jsmntok_t event, type, data;
	pw_span signed_bytes;
} envelope;

/* Method, size, secrets, the signature header, the content type. */
static stage
check_request(const pw_context *ctx, const pw_keyring *kr,
	const pw_request *req, pw_span *sig, pw_result *res)
{
	if (req->method.ptr != NULL && !span_is(req->method.ptr, req->method.len, "POST")) {
		return stop(res, PW_ERR_METHOD_NOT_ALLOWED, "only POST is accepted");
	}
	if (req->body.len > ctx->body_max) {
		return stop(res, PW_ERR_PAYLOAD_TOO_LARGE, pw_status_message(PW_ERR_PAYLOAD_TOO_LARGE));
	}
	if (req->body.len > ctx->scratch_cap) {
		return stop(res, PW_ERR_PAYLOAD_TOO_LARGE,
			"body is larger than the working memory given for it");
	}
	if (kr->overflow) {
		return stop(res, PW_ERR_NO_SECRET,
			"more endpoint secrets are configured than the limit of " PW_STR(PW_MAX_SECRETS));
	}
	if (kr->count == 0) {
		return stop(res, PW_ERR_NO_SECRET,
			"no endpoint secret is configured");
	}
	if (req->repeated & PW_REPEATED_SIGNATURE) {
		return stop(res, PW_ERR_MISSING_SIGNATURE,
			"the Panora-Signature header appears more than once");
	}
	*sig = req->signature.ptr ? trim(req->signature) : req->signature;
	if (sig->ptr == NULL || sig->len == 0) {
		return stop(res, PW_ERR_MISSING_SIGNATURE, pw_status_message(PW_ERR_MISSING_SIGNATURE));
	}
	if (sig->len != PW_SIGNATURE_HEX_LEN || !all_hex(sig->ptr, sig->len)) {
		return stop(res, PW_ERR_MISSING_SIGNATURE,
			"the Panora-Signature header must be exactly " PW_STR(PW_SIGNATURE_HEX_LEN) " hex digits");
	}
	if (req->repeated & PW_REPEATED_CONTENT_TYPE) {
		return stop(res, PW_ERR_MALFORMED_REQUEST,
			"the Content-Type header appears more than once");
	}
	if (req->content_type.ptr != NULL && !is_json_media_type(req->content_type)) {
		return stop(res, PW_ERR_MALFORMED_REQUEST, "Content-Type must be application/json");
	}
	return STAGE_PASS;
}

/* A member's value as a jsmn token, for decode_string. */
static jsmntok_t
token_of(const pw__member *m)
{
	jsmntok_t t;

	memset(&t, 0, sizeof t);
	t.type = (jsmntype_t)m->val_type;
	t.start = (int)m->val_start;
	t.end = (int)m->val_end;
	return t;
}

/* The signed bytes: data's raw text, quotes included for a string. */
static pw_span
signed_span(const envelope *e)
{
	size_t q = e->data.type == JSMN_STRING;
	pw_span m;

	m.ptr = e->body + e->data.start - q;
	m.len = (size_t)(e->data.end - e->data.start) + 2 * q;
	return m;
}

/* Is member `i`'s key new among those before it, byte for byte? */
static int
key_is_new(const char *body, const pw__members *ms, size_t i)
{
	const pw__member *k = &ms->m[i];
	size_t j, kl = k->key_end - k->key_start;

	for (j = 0; j < i; j++) {
		const pw__member *o = &ms->m[j];

		if (o->key_end - o->key_start == kl
			&& memcmp(body + o->key_start, body + k->key_start, kl) == 0)
		{
			return 0;
		}
	}
	return 1;
}

/* The envelope: one strict JSON object whose top-level keys are unescaped
   and distinct, holding id_event, type and data of the right types. The
   check that reads it also notes its members: one walk, no tokenizer. */
static stage
read_envelope(const pw_request *req, envelope *e, pw_result *res)
{
	const pw__member *ev = NULL, *ty = NULL, *da = NULL;
	pw__members ms;
	size_t i;
	long n;

	e->body = req->body.ptr ? req->body.ptr : "";
	e->len = req->body.len;
	n = pw__json_members(e->body, e->len, &ms);
	if (n < 0) {
		return stop(res, PW_ERR_MALFORMED_REQUEST, json_error_message(n, 0));
	}
	if (ms.count > PW_MAX_MEMBERS) {
		return stop(res, PW_ERR_MALFORMED_REQUEST,
			"body has more top-level members than the limit of " PW_STR(PW_MAX_MEMBERS));
	}
	for (i = 0; i < ms.count; i++) {
		const pw__member *m = &ms.m[i];
		const char *ks = e->body + m->key_start;
		size_t kl = m->key_end - m->key_start;

		if (memchr(ks, '\\', kl) != NULL) {
			return stop(res, PW_ERR_MALFORMED_REQUEST, "top-level keys must not contain escapes");
		}
		if (!key_is_new(e->body, &ms, i)) {
			return stop(res, PW_ERR_MALFORMED_REQUEST, "body repeats a top-level key");
		}
		if (span_is(ks, kl, "id_event")) {
			ev = m;
		} else if (span_is(ks, kl, "type")) {
			ty = m;
		} else if (span_is(ks, kl, "data")) {
			da = m;
		}
	}
	if (ev == NULL || ev->val_type != JSMN_STRING) {
		return stop(res, PW_ERR_MALFORMED_REQUEST, "body needs an \"id_event\" string");
	}
	if (ty == NULL || ty->val_type != JSMN_STRING) {
		return stop(res, PW_ERR_MALFORMED_REQUEST, "body needs a \"type\" string");
	}
	if (da == NULL || (da->val_type != JSMN_STRING && da->val_type != JSMN_OBJECT)) {
		return stop(res, PW_ERR_MALFORMED_REQUEST,
			"body needs \"data\" as a JSON string or object");
	}
	e->event = token_of(ev);
	e->type = token_of(ty);
	e->data = token_of(da);
	e->signed_bytes = signed_span(e);
	return STAGE_PASS;
}

/* The MAC of the signed span under every secret, in constant time. */
static stage
check_signature(const pw_keyring *kr, pw_span sig, pw_span msg, pw_result *res)
{
	if (!pw_verify(kr, sig.ptr, sig.len, msg.ptr, msg.len)) {
		return stop(res, PW_ERR_BAD_SIGNATURE, pw_status_message(PW_ERR_BAD_SIGNATURE));
	}
	return STAGE_PASS;
}

/* Verified: id_event and type, decoded; other types stop here, ignored.
   The body passed pw_json_check, so a string that does not decode holds a
   lone surrogate escape. */
static stage
read_metadata(const envelope *e, arena *a, pw_result *res)
{
	str_result r = decode_string(a, e->body, NULL, &e->event, &res->id_event);

	if (r == STR_OK) {
		r = decode_string(a, e->body, NULL, &e->type, &res->type);
	}
	if (r != STR_OK) {
		memset(&res->id_event, 0, sizeof res->id_event);
		memset(&res->type, 0, sizeof res->type);
		return stop(res, PW_ERR_MALFORMED_REQUEST, r == STR_BAD
			? "id_event and type must not hold a lone surrogate escape (\\uD800 to \\uDFFF unpaired)"
			: "id_event and type must be JSON strings without NUL characters");
	}
	if (!span_is(res->type.ptr, res->type.len, "connection.created")) {
		return stop(res, PW_IGNORED, pw_status_message(PW_IGNORED));
	}
	return STAGE_PASS;
}

/* The Connection Object: data decoded (a string) or read as it is. */
static pw_status
read_data(pw_context *ctx, const envelope *e, arena *a, pw_result *res)
{
	const jsmntok_t *d = &e->data;
	size_t start = a->used;
	long m;

	if (d->type != JSMN_STRING) {
		return decode_connection(ctx, a, e->signed_bytes.ptr, e->signed_bytes.len,
			NULL, 1, res, &m);
	}
	m = pw__json_unescape(a->buf + start, a->cap - start, e->body + d->start,
		(size_t)(d->end - d->start), 1);
	if (m < 0) {
		return fail(res, PW_ERR_UNUSABLE_DATA, "data is not a valid JSON string");
	}
	a->used += (size_t)m;
	return decode_connection(ctx, a, (const char *)a->buf + start, (size_t)m,
		a->buf + start, 1, res, &m);
}

/* ------------------------------------------------------------------ */
/* The entry point                                                      */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
pw_status
pw_handle(pw_context *ctx, const pw_keyring *kr, const pw_request *req,
	pw_result *res)
{
	arena a = { ctx->scratch, 0, ctx->scratch_cap };
	envelope e;
	pw_span sig;

	memset(res, 0, sizeof *res);
	if (check_request(ctx, kr, req, &sig, res) == STAGE_STOP
		|| read_envelope(req, &e, res) == STAGE_STOP
		|| check_signature(kr, sig, e.signed_bytes, res) == STAGE_STOP
		|| read_metadata(&e, &a, res) == STAGE_STOP)
	{
		return res->status;
	}
	return read_data(ctx, &e, &a, res);
}
