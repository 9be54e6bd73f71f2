/*
 * pw_json.c -- strict JSON checking, string decoding and string writing.
 *
 * jsmn tokenises, but even in strict mode it accepts text that is not
 * JSON ({"a" "b"}, [1 2], tru, two top-level values, raw control bytes in
 * strings) and it stops silently at a NUL byte. A parser that accepts
 * what others reject is a parser differential waiting to happen, so every
 * text is first checked here against RFC 8259 and UTF-8 in one
 * non-recursive pass; jsmn then only ever sees valid JSON.
 */
#define PW_JSMN_IMPL
#include <string.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "pw_jsmn.h"
#include "pw_internal.h"

/* ------------------------------------------------------------------ */
/* UTF-8                                                                */
/* ------------------------------------------------------------------ */

/* pw__utf8_seq, inlined into the scanning loops below */
static inline size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0) {
			lo = 0xA0;          /* no overlongs */
		} else if (c == 0xED) {
			hi = 0x9F;          /* no UTF-16 surrogates */
		}
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0) {
			lo = 0x90;          /* no overlongs */
		} else if (c == 0xF4) {
			hi = 0x8F;          /* nothing above U+10FFFF */
		}
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return 0;
		}
	}
	return n;
}

/* see pw_internal.h */
size_t
pw__utf8_seq(const unsigned char *p, const unsigned char *end)
{
	return utf8_seq(p, end);
}

/* ------------------------------------------------------------------ */
/* Checking                                                             */
/* ------------------------------------------------------------------ */

/*
 * 1 for a byte that can stand for itself inside a string literal and needs
 * no further look: printable ASCII but '"' and '\\'. Runs of these are the
 * bulk of every string, and a table lookup is the cheapest test.
 */
static const unsigned char plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * The first byte at or after p (before end) that is not plain: a quote, a
 * backslash, a control byte, or, unless `utf8_ok` (the text is known to be
 * valid UTF-8 already), a byte of 0x80 or more. Runs of plain bytes are
 * the bulk of every string, so whole blocks are tested at once: 16 bytes
 * with wasm simd128, 8 bytes in a 64-bit word elsewhere; the tail byte by
 * byte.
 */
#if defined(__wasm_simd128__)
static const unsigned char *
skip_block(const unsigned char *p, const unsigned char *end, int utf8_ok)
{
	const v128_t ctl = wasm_u8x16_splat(0x20);
	const v128_t quote = wasm_u8x16_splat('"');
	const v128_t bslash = wasm_u8x16_splat('\\');
	const v128_t high = utf8_ok ? wasm_u8x16_splat(0) : wasm_u8x16_splat(0x80);

	while (end - p >= 16) {
		v128_t v = wasm_v128_load(p);
		v128_t stop = wasm_v128_or(wasm_v128_or(wasm_u8x16_lt(v, ctl),
			wasm_i8x16_eq(v, quote)), wasm_i8x16_eq(v, bslash));

		stop = wasm_v128_or(stop, wasm_v128_and(v, high));
		if (wasm_v128_any_true(stop)) {
			break;
		}
		p += 16;
	}
	return p;
}
#else
#define ONES 0x0101010101010101u
/* some byte of x is zero; some byte of x is below n (n <= 0x80): exact */
#define HAS_ZERO(x)     (((x) - ONES) & ~(x) & (ONES * 0x80))
#define HAS_BELOW(x, n) (((x) - ONES * (n)) & ~(x) & (ONES * 0x80))

static const unsigned char *
skip_block(const unsigned char *p, const unsigned char *end, int utf8_ok)
{
	const uint64_t high = utf8_ok ? 0 : ONES * 0x80;

	while (end - p >= 8) {
		uint64_t x;

		memcpy(&x, p, 8);
		if (HAS_BELOW(x, 0x20) | HAS_ZERO(x ^ (ONES * '"'))
			| HAS_ZERO(x ^ (ONES * '\\')) | (x & high))
		{
			break;
		}
		p += 8;
	}
	return p;
}
#endif

static const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end, int utf8_ok)
{
	p = skip_block(p, end, utf8_ok);
	while (p < end && (plain[*p] || (utf8_ok && *p >= 0x80))) {
		p++;
	}
	return p;
}

/*
 * Scan the string literal whose opening quote is at *pp. On success *pp
 * is just past the closing quote.
 */
static long
check_string(const unsigned char **pp, const unsigned char *end, int utf8_ok)
{
	const unsigned char *p = *pp + 1;

	for (;;) {
		unsigned c;
		size_t n;

		p = skip_plain(p, end, utf8_ok);
		if (p >= end) {
			return PW_JSON_SYNTAX;
		}
		c = *p;
		if (c == '"') {
			*pp = p + 1;
			return 0;
		}
		if (c == '\\') {
			if (end - p < 2) {
				return PW_JSON_SYNTAX;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || !pw__is_hex(p[2]) || !pw__is_hex(p[3])
					|| !pw__is_hex(p[4]) || !pw__is_hex(p[5]))
				{
					return PW_JSON_SYNTAX;
				}
				p += 6;
				continue;
			default:
				return PW_JSON_SYNTAX;
			}
		}
		if (c < 0x20) {
			return c == 0 ? PW_JSON_UTF8 : PW_JSON_SYNTAX;
		}
		n = utf8_seq(p, end);
		if (n == 0) {
			return PW_JSON_UTF8;
		}
		p += n;
	}
}

static const unsigned char *
skip_digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p - '0' < 10u) {
		p++;
	}
	return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static long
check_number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp, *q;

	if (*p == '-') {
		p++;
	}
	if (p >= end || *p - '0' >= 10u) {
		return PW_JSON_SYNTAX;
	}
	p = (*p == '0') ? p + 1 : skip_digits(p, end);
	if (p < end && *p == '.') {
		q = skip_digits(p + 1, end);
		if (q == p + 1) {
			return PW_JSON_SYNTAX;
		}
		p = q;
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-')) {
			p++;
		}
		q = skip_digits(p, end);
		if (q == p) {
			return PW_JSON_SYNTAX;
		}
		p = q;
	}
	*pp = p;
	return 0;
}

static long
check_literal(const unsigned char **pp, const unsigned char *end)
{
	static const char *const lit[] = { "true", "false", "null" };
	const unsigned char *p = *pp;
	size_t i, k;

	for (i = 0; i < 3; i++) {
		const char *w = lit[i];

		if ((unsigned char)w[0] != *p) {
			continue;
		}
		for (k = 0; w[k] != 0; k++) {
			if (p + k >= end || (unsigned char)w[k] != p[k]) {
				return PW_JSON_SYNTAX;
			}
		}
		*pp = p + k;
		return 0;
	}
	return PW_JSON_SYNTAX;
}

enum {
	ST_VALUE,       /* a value is expected                        */
	ST_FIRST_VALUE, /* after '[': a value or ']'                  */
	ST_KEY,         /* after ',' in an object: a key              */
	ST_FIRST_KEY,   /* after '{': a key or '}'                    */
	ST_COLON,       /* after a key                                */
	ST_NEXT,        /* after a member or element: ',' or a close  */
	ST_END          /* after the top-level value: only white space */
};

/*
 * pw_json_check, and with `utf8_ok` the same grammar over a text already
 * known to be valid UTF-8 (then bytes of 0x80 or more in strings are not
 * looked at again; outside strings they are still refused). With `out`,
 * the same walk also notes where each top-level member's key and value
 * are, so the envelope needs no second pass.
 */
static long
check_text(const char *js, size_t len, int utf8_ok, pw__members *out)
{
	const unsigned char *base = (const unsigned char *)js;
	const unsigned char *p = base;
	const unsigned char *end = p + len;
	uint64_t objects = 0;   /* bit d set: level d is an object */
	unsigned depth = 0;
	long ntok = 0, r;
	int st = ST_VALUE;
	pw__member *cur = NULL; /* the top-level member whose value is next */
	const unsigned char *q;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
		p++;
	}
	if (p >= end || *p != '{') {
		return PW_JSON_NOT_OBJ;
	}
	while (p < end) {
		unsigned c = *p;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			p++;
			continue;
		}
		if (c == 0) {
			return PW_JSON_UTF8;
		}
		switch (st) {
		case ST_FIRST_KEY:
		case ST_KEY:
			if (c == '}' && st == ST_FIRST_KEY) {
				goto close;
			}
			if (c != '"') {
				return PW_JSON_SYNTAX;
			}
			q = p;
			if ((r = check_string(&p, end, utf8_ok)) < 0) {
				return r;
			}
			if (out != NULL && depth == 1) {
				cur = out->count < PW_MAX_MEMBERS ? &out->m[out->count] : NULL;
				out->count++;
				if (cur != NULL) {
					cur->key_start = (uint32_t)(q + 1 - base);
					cur->key_end = (uint32_t)(p - 1 - base);
				}
			}
			st = ST_COLON;
			goto counted;
		case ST_COLON:
			if (c != ':') {
				return PW_JSON_SYNTAX;
			}
			p++;
			st = ST_VALUE;
			continue;
		case ST_NEXT:
			if (c == ',') {
				p++;
				st = ((objects >> (depth - 1)) & 1) ? ST_KEY : ST_VALUE;
				continue;
			}
			if (c == (((objects >> (depth - 1)) & 1) ? '}' : ']')) {
				goto close;
			}
			return PW_JSON_SYNTAX;
		case ST_END:
			return PW_JSON_SYNTAX;
		default: /* ST_VALUE, ST_FIRST_VALUE */
			break;
		}

		if (c == ']' && st == ST_FIRST_VALUE) {
			goto close;
		}
		if (c == '{' || c == '[') {
			if (depth >= PW_MAX_DEPTH) {
				return PW_JSON_DEPTH;
			}
			if (cur != NULL && depth == 1) {     /* a member's value opens */
				cur->val_type = c == '{' ? JSMN_OBJECT : JSMN_ARRAY;
				cur->val_start = (uint32_t)(p - base);
			}
			objects &= ~((uint64_t)1 << depth);
			objects |= (uint64_t)(c == '{') << depth;
			depth++;
			p++;
			st = (c == '{') ? ST_FIRST_KEY : ST_FIRST_VALUE;
			goto counted;
		}
		q = p;
		if (c == '"') {
			r = check_string(&p, end, utf8_ok);
		} else if (c == '-' || c - '0' < 10u) {
			r = check_number(&p, end);
		} else {
			r = check_literal(&p, end);
		}
		if (r < 0) {
			return r;
		}
		if (cur != NULL && depth == 1) {         /* a member's value, whole */
			int str = c == '"';

			cur->val_type = str ? JSMN_STRING : JSMN_PRIMITIVE;
			cur->val_start = (uint32_t)(q + str - base);
			cur->val_end = (uint32_t)(p - str - base);
			cur = NULL;
		}
		st = depth ? ST_NEXT : ST_END;
	counted:
		if (++ntok > PW_MAX_TOKENS) {
			return PW_JSON_TOKENS;
		}
		continue;
	close:
		p++;
		depth--;
		if (cur != NULL && depth == 1) {         /* a member's value closes */
			cur->val_end = (uint32_t)(p - base);
			cur = NULL;
		}
		st = depth ? ST_NEXT : ST_END;
	}
	return st == ST_END ? ntok : PW_JSON_SYNTAX;
}

/* see panora_webhook.h */
long
pw_json_check(const char *js, size_t len)
{
	return check_text(js, len, 0, NULL);
}

/* see pw_internal.h */
long
pw__json_members(const char *js, size_t len, pw__members *out)
{
	out->count = 0;
	return check_text(js, len, 0, out);
}

/* see pw_internal.h */
long
pw__json_parse(jsmntok_t *toks, const char *js, size_t len, int utf8_ok)
{
	jsmn_parser ps;
	long n;
	int r;

	n = check_text(js, len, utf8_ok, NULL);
	if (n < 0) {
		return n;
	}
	jsmn_init(&ps);
	r = jsmn_parse(&ps, js, len, toks, PW_MAX_TOKENS);
	/* jsmn agrees with the checker on every valid text; if it ever did
	   not, refusing is the only safe answer. */
	return r == n ? n : PW_JSON_SYNTAX;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */
/* ------------------------------------------------------------------ */

/* The value of the four hex digits at p, or -1 if one is not hex. */
static long
hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint32_t d = pw__hex_digit(p[i]);

		if (d >> 4) {
			return -1;
		}
		v = (v << 4) | (long)d;
	}
	return v;
}

/* Write code point cp (< 0x110000, not a surrogate) as UTF-8 at out. */
static size_t
put_utf8(unsigned char *out, long cp)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* see panora_webhook.h */
long
pw_json_unescape(unsigned char *out, size_t cap, const char *in, size_t len)
{
	return pw__json_unescape(out, cap, in, len, 0);
}

/* see pw_internal.h */
long
pw__json_unescape(unsigned char *out, size_t cap, const char *in, size_t len,
	int checked)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + len;
	size_t o = 0;

	for (;;) {
		const unsigned char *q = p;
		long cp;
		size_t n;

		/* the longest run that stands for itself: plain ASCII and
		   well-formed UTF-8, copied in one move (in place, the source is
		   never behind the destination) */
		for (;;) {
			q = skip_plain(q, end, checked);
			if (q < end && *q >= 0x80) {
				n = utf8_seq(q, end);
				if (n == 0) {
					return PW_DECODE_INVALID;
				}
				q += n;
				continue;
			}
			break;
		}
		n = (size_t)(q - p);
		if (n > 0) {
			if (cap - o < n) {
				return PW_DECODE_CAP;
			}
			if (out + o != p) {
				memmove(out + o, p, n);
			}
			o += n;
			p = q;
		}
		if (p >= end) {
			return (long)o;
		}
		if (*p != '\\' || end - p < 2) {
			return PW_DECODE_INVALID;   /* raw quote or control, lone '\\' */
		}
		switch (p[1]) {
		case '"':  cp = '"';  break;
		case '\\': cp = '\\'; break;
		case '/':  cp = '/';  break;
		case 'b':  cp = '\b'; break;
		case 'f':  cp = '\f'; break;
		case 'n':  cp = '\n'; break;
		case 'r':  cp = '\r'; break;
		case 't':  cp = '\t'; break;
		case 'u':
			if (end - p < 6 || (cp = hex4(p + 2)) < 0) {
				return PW_DECODE_INVALID;
			}
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				return PW_DECODE_INVALID;  /* lone low surrogate */
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				long lo;

				if (end - p < 12 || p[6] != '\\' || p[7] != 'u'
					|| (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
				{
					return PW_DECODE_INVALID; /* lone high surrogate */
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			p += 4;
			break;
		default:
			return PW_DECODE_INVALID;
		}
		p += 2;
		n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		if (cap - o < n) {
			return PW_DECODE_CAP;
		}
		/* the escape was at least as long as what it stands for, so in
		   place the write stays behind the read */
		o += put_utf8(out + o, cp);
	}
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
void
pw_json_write_string(pw_sink *sink, void *arg, const char *s, size_t len)
{
	const pw__out o = { sink, arg };
	size_t i, run = 0;

	pw__put(&o, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		char esc[6];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		if (i > run) {
			pw__put(&o, s + run, i - run);
		}
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':  esc[1] = '"';  break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b';  break;
		case '\f': esc[1] = 'f';  break;
		case '\n': esc[1] = 'n';  break;
		case '\r': esc[1] = 'r';  break;
		case '\t': esc[1] = 't';  break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			pw__hex(esc + 4, c, 2);
			n = 6;
			break;
		}
		pw__put(&o, esc, n);
	}
	if (len > run) {
		pw__put(&o, s + run, len - run);
	}
	pw__put(&o, "\"", 1);
}
