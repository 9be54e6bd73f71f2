/*
 * pw_internal.h -- helpers shared by the files of lib/, not part of the API.
 */
#ifndef PW_INTERNAL_H
#define PW_INTERNAL_H

#include "panora_webhook.h"
#include "pw_forward.h"

/*
 * Constant-time validation (tests/ct): secrets are marked undefined for
 * valgrind memcheck, which then flags any branch or index that depends on
 * them. What the code deliberately treats as public -- where the commas of
 * a secret list are, hence each secret's length -- is declassified here.
 * Outside that check this is nothing.
 */
#ifdef PW_CT_VALIDATION
#include <valgrind/memcheck.h>
#define PW_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define PW_DECLASSIFY(p, n) ((void)0)
#endif

/*
 * Constant-time helpers, in BearSSL's manner: every result is a 0/1 bit or
 * a mask computed with arithmetic, never a branch, so code built from them
 * reads as intent and still has no secret-dependent control flow. Operands
 * are 32-bit; the comments say which range each one needs.
 */

/* 1 if b is 0, 0 if b is 1 (b a bit) */
static inline uint32_t
ct_not(uint32_t b)
{
	return b ^ 1;
}

/* 1 if x == 0, else 0 (x < 2^31) */
static inline uint32_t
ct_eq0(uint32_t x)
{
	return (x - 1) >> 31;
}

/* 1 if x == y, else 0 (x ^ y < 2^31: bytes, characters) */
static inline uint32_t
ct_eq(uint32_t x, uint32_t y)
{
	return ct_eq0(x ^ y);
}

/* 1 if x < y, else 0 (both within -2^30 .. 2^30) */
static inline uint32_t
ct_lt(int32_t x, int32_t y)
{
	return (uint32_t)(x - y) >> 31;
}

/* 1 if lo <= x < hi, else 0 (all within -2^30 .. 2^30) */
static inline uint32_t
ct_in(int32_t x, int32_t lo, int32_t hi)
{
	return ct_lt(x, hi) & ct_not(ct_lt(x, lo));
}

/* a if bit ctl is 1, else b */
static inline uint32_t
ct_select(uint32_t ctl, uint32_t a, uint32_t b)
{
	return b ^ ((0u - ctl) & (a ^ b));
}

/*
 * The one hex-digit classifier of lib/: c (any byte) read as a hex digit of
 * either case. Bits 0-3 hold its value; bit 4 is set when c is no hex
 * digit (the value is then meaningless). Branch-free, so the constant-time
 * signature decode and the plain syntax checks judge digits alike.
 */
static inline uint32_t
pw__hex_digit(uint32_t c)
{
	int32_t dig = (int32_t)c - '0';            /* -48 .. 207 */
	int32_t let = (int32_t)(c | 0x20) - 'a';   /* -97 .. 158 */
	uint32_t isd = ct_in(dig, 0, 10);
	uint32_t isl = ct_in(let, 0, 6);
	uint32_t v = ct_select(isd, (uint32_t)dig, (uint32_t)(let + 10));

	return (v & 15) | (ct_not(isd | isl) << 4);
}

/* 1 if c is a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), else 0 */
static inline int
pw__is_hex(uint32_t c)
{
	return (int)ct_not(pw__hex_digit(c) >> 4);
}

/*
 * Length of the well-formed UTF-8 sequence starting at p (p < end, *p >=
 * 0x80), or 0 if it is not one (overlong, surrogate, above U+10FFFF,
 * truncated, stray continuation byte).
 */
size_t pw__utf8_seq(const unsigned char *p, const unsigned char *end);

/* A top-level member of a JSON object, as offsets into the text. */
typedef struct {
	uint32_t key_start, key_end;   /* inside the key's quotes            */
	uint32_t val_start, val_end;   /* a string: inside its quotes; else
	                                  the value's whole raw text          */
	int val_type;                  /* JSMN_STRING, _OBJECT, _ARRAY or
	                                  _PRIMITIVE                          */
} pw__member;

typedef struct {
	pw__member m[PW_MAX_MEMBERS];
	size_t count;                  /* members seen; only the first
	                                  PW_MAX_MEMBERS are kept in m        */
} pw__members;

/*
 * pw_json_check, noting in the same walk where each top-level member's key
 * and value are: the envelope is read from this, with no second pass.
 * Returns what pw_json_check returns.
 */
long pw__json_members(const char *js, size_t len, pw__members *out);

/*
 * pw_json_check, then jsmn over the same text into toks[PW_MAX_TOKENS].
 * With `utf8_ok` the text MUST already be known valid UTF-8 (a checked
 * body's span, or what pw__json_unescape made): the grammar is checked in
 * full, the UTF-8 of string bytes is not checked again.
 * Returns the token count or a pw_json_error.
 */
long pw__json_parse(jsmntok_t *toks, const char *js, size_t len, int utf8_ok);

/*
 * pw_json_unescape; with `checked` the input MUST be the inside of a string
 * token of a text pw_json_check accepted (so its UTF-8 is valid and its
 * escapes well-formed): raw bytes are then copied without looking at their
 * UTF-8 again. Surrogate escapes are paired and checked either way.
 */
long pw__json_unescape(unsigned char *out, size_t cap, const char *in,
	size_t len, int checked);

/*
 * lib/'s one byte sink: the caller's pw_sink and its argument, carried as
 * one, and the one way of writing to it. Every writer in lib/ (response,
 * receipt, log line, forward body, JSON strings) writes through these; a
 * filter in front of a sink is a pw_sink whose `arg` is another pw__out.
 */
typedef struct {
	pw_sink *sink;
	void *arg;
} pw__out;

/* Write (p, len); len may be zero. */
static inline void
pw__put(const pw__out *o, const char *p, size_t len)
{
	o->sink(o->arg, p, len);
}

/* Write the NUL-terminated `s`, without its NUL. */
void pw__puts(const pw__out *o, const char *s);

/* The low `n` hex digits of v (n <= 8), lower case, most significant
   first, into out[0..n). No NUL. */
void pw__hex(char *out, uint32_t v, size_t n);

/*
 * "id_event":..,"id_connection":..,... : the record's members, in the order
 * of PW_RECORD_FIELDS, absent ones as null, without the braces; for the
 * response body (pw_output.c) and the forward's message (pw_forward.c).
 */
void pw__write_record(const pw__out *o, const pw_record *r);

/*
 * The Connection Object decoder that a webhook's decoded data goes
 * through, over writable text of any bytes `js` (checked in full, then
 * decoded in place, so `js` stays in use by res->record). `*json` gets
 * what the check said: the token count, or the pw_json_error that made
 * the text no JSON object at all.
 * Returns PW_CAPTURED, or PW_ERR_UNUSABLE_DATA with the reason.
 */
pw_status pw__connection_decode(pw_context *ctx, unsigned char *js, size_t len,
	pw_result *res, long *json);

#endif
