/*
 * pw_output.c -- the JSON response body, the receipt and the JSON log
 * line.
 *
 * Both go through a caller's sink, so the caller decides how bytes leave
 * (one buffered write, 4 KiB stream chunks, a test buffer). The record is
 * the only place token values are written; errors and logs carry static
 * messages and, for verified requests only, short metadata.
 */
#include <string.h>

#include "pw_internal.h"

/* see pw_internal.h */
void
pw__puts(const pw__out *o, const char *s)
{
	pw__put(o, s, strlen(s));
}

/* see pw_internal.h */
void
pw__hex(char *out, uint32_t v, size_t n)
{
	static const char hexd[] = "0123456789abcdef";

	while (n-- > 0) {
		*out++ = hexd[v >> (4 * n) & 15];
	}
}

static void
put_value(const pw__out *o, pw_span v)
{
	if (v.ptr == NULL) {
		pw__puts(o, "null");
	} else {
		pw_json_write_string(o->sink, o->arg, v.ptr, v.len);
	}
}

/* ,"name":value */
static void
put_member(const pw__out *o, const char *name, pw_span v)
{
	pw__puts(o, ",\"");
	pw__puts(o, name);
	pw__puts(o, "\":");
	put_value(o, v);
}

/* see pw_internal.h */
void
pw__write_record(const pw__out *o, const pw_record *r)
{
	const char *sep = "\"";

#define PW_X_PUT(name, kind) \
	pw__puts(o, sep); \
	pw__puts(o, #name "\":"); \
	put_value(o, r->name); \
	sep = ",\"";
	PW_RECORD_FIELDS(PW_X_PUT)
#undef PW_X_PUT
}

static pw_span
lit(const char *s)
{
	pw_span v;

	v.ptr = s;
	v.len = strlen(s);
	return v;
}

/* see panora_webhook.h */
void
pw_write_response(const pw_result *res, pw_sink *sink, void *arg)
{
	const pw__out out = { sink, arg }, *o = &out;
	const pw_record *r = &res->record;

	switch (res->status) {
	case PW_CAPTURED:
		pw__puts(o, "{\"outcome\":\"captured\",");
		pw__write_record(o, r);
		break;
	case PW_IGNORED:
		pw__puts(o, "{\"outcome\":\"ignored\"");
		put_member(o, "type", res->type);
		put_member(o, "message", lit(res->message));
		break;
	default:
		pw__puts(o, "{\"outcome\":\"rejected\"");
		put_member(o, "error", lit(pw_status_code(res->status)));
		put_member(o, "message",
			lit(res->message ? res->message : ""));
		break;
	}
	pw__puts(o, "}");
}

/* A span cut to at most PW_TEXT_CLIP bytes, on a UTF-8 character boundary. */
static pw_span
clip(pw_span v)
{
	if (v.ptr != NULL && v.len > PW_TEXT_CLIP) {
		v.len = PW_TEXT_CLIP;
		while (v.len > 0 && ((unsigned char)v.ptr[v.len] & 0xC0) == 0x80) {
			v.len--;
		}
	}
	return v;
}

/*
 * Length of the character at p (p < end) if it is one a log or a receipt
 * must not carry as it is, 0 otherwise: a C1 control (U+0080 to U+009F),
 * the line and paragraph separators (U+2028, U+2029), a bidirectional
 * embedding or override (U+202A to U+202E) or isolate (U+2066 to U+2069).
 * Each can make a line read as something it is not. `*cp` gets the code
 * point. (The values are valid UTF-8: pw_handle checked them.)
 */
static size_t
spoofing(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
	if (end - p >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		*cp = p[1];
		return 2;
	}
	if (end - p >= 3 && p[0] == 0xe2
		&& ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae)
			|| (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
	{
		*cp = 0x2000u | (unsigned)(p[1] & 0x3f) << 6 | (unsigned)(p[2] & 0x3f);
		return 3;
	}
	return 0;
}

/* A pw_sink in front of another (`arg` is its pw__out): every spoofing
   character in the bytes passed through becomes a \uXXXX escape.
   pw_json_write_string hands over whole characters, so none is ever split
   across two calls. */
static void
log_filtered(void *arg, const char *data, size_t len)
{
	const pw__out *o = (const pw__out *)arg;
	const unsigned char *p = (const unsigned char *)data, *end = p + len;
	size_t i = 0, run = 0;

	while (i < len) {
		unsigned cp;
		size_t n = p[i] >= 0x80 ? spoofing(p + i, end, &cp) : 0;
		char esc[6];

		if (n == 0) {
			i++;
			continue;
		}
		if (i > run) {
			pw__put(o, data + run, i - run);
		}
		esc[0] = '\\';
		esc[1] = 'u';
		pw__hex(esc + 2, cp, 4);
		pw__put(o, esc, sizeof esc);
		i += n;
		run = i;
	}
	if (len > run) {
		pw__put(o, data + run, len - run);
	}
}

/* ,"name":value for the log: clipped, and spoofing characters escaped. */
static void
put_log_member(const pw__out *o, const char *name, pw_span v)
{
	const pw__out filtered = { log_filtered, (void *)o };

	put_member(&filtered, name, clip(v));
}

/* see panora_webhook.h */
void
pw_write_log(const pw_result *res, pw_sink *sink, void *arg)
{
	const pw__out out = { sink, arg }, *o = &out;
	char http[4];
	unsigned h = pw_status_http(res->status);

	http[0] = (char)('0' + h / 100);
	http[1] = (char)('0' + h / 10 % 10);
	http[2] = (char)('0' + h % 10);
	http[3] = 0;

	pw__puts(o, "{\"outcome\":");
	put_value(o, lit(res->status == PW_CAPTURED ? "captured"
		: res->status == PW_IGNORED ? "ignored" : "rejected"));
	pw__puts(o, ",\"http\":");
	pw__puts(o, http);
	if (res->status != PW_CAPTURED && res->status != PW_IGNORED) {
		put_member(o, "error", lit(pw_status_code(res->status)));
	}
	if (res->id_event.ptr != NULL) {
		put_log_member(o, "id_event", res->id_event);
		put_log_member(o, "type", res->type);
	}
	if (res->status == PW_CAPTURED) {
		put_log_member(o, "provider", res->record.provider_slug);
		put_log_member(o, "vertical", res->record.vertical);
	}
	if (res->cause != NULL) {
		put_member(o, "cause", lit(res->cause));
	}
	pw__puts(o, "}\n");
}

/* A receipt value: clipped; control bytes, space, DEL, backslash and the
   bytes of a spoofing character as \xHH. */
static void
put_text(const pw__out *o, pw_span v)
{
	const unsigned char *p, *end;
	size_t i = 0, run = 0;

	v = clip(v);
	p = (const unsigned char *)v.ptr;
	end = p + v.len;
	while (i < v.len) {
		unsigned c = p[i], cp;
		size_t n = c >= 0x80 ? spoofing(p + i, end, &cp)
			: (size_t)(c <= 0x20 || c == 0x7f || c == '\\');
		char esc[4];

		if (n == 0) {
			i++;
			continue;
		}
		if (i > run) {
			pw__put(o, v.ptr + run, i - run);
		}
		for (run = i + n; i < run; i++) {
			esc[0] = '\\';
			esc[1] = 'x';
			pw__hex(esc + 2, p[i], 2);
			pw__put(o, esc, 4);
		}
	}
	if (v.len > run) {
		pw__put(o, v.ptr + run, v.len - run);
	}
}

/* see panora_webhook.h */
void
pw_write_receipt(const pw_result *res, const char *kept, pw_sink *sink,
	void *arg)
{
	const pw__out out = { sink, arg }, *o = &out;

	if (res->status == PW_CAPTURED) {
		pw__puts(o, "captured ");
		put_text(o, res->record.id_connection);
		pw__puts(o, " ");
		pw__puts(o, kept != NULL ? kept : "kept");
	} else if (res->status == PW_IGNORED) {
		pw__puts(o, "ignored ");
		put_text(o, res->type);
	} else {
		return;
	}
	pw__puts(o, "\n");
}
