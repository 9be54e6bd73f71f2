/*
 * pw_forward.c -- the captured record as a Standard Webhooks message: the
 * forward secret, the webhook-id, the signature, the target URL and the
 * message body, with the small codecs they need (base64, decimal, ISO-8601).
 *
 * The forward secret is key material: it is decoded without branches or
 * table look-ups on its bytes, and every copy of it is wiped. The body's
 * record members come from the response body's writer (pw__write_record),
 * so the two never disagree on the fields.
 */
#include <string.h>

#include "pw_internal.h"

/* ------------------------------------------------------------------ */
/* base64                                                               */
/* ------------------------------------------------------------------ */

/* The 6-bit value of base64 character `c`, or -1; branch-free on `c`. */
static int
b64_value(unsigned c)
{
	int32_t x = (int32_t)c;
	uint32_t v = (uint32_t)-1;

	v = ct_select(ct_eq(c, '/'), 63, v);
	v = ct_select(ct_eq(c, '+'), 62, v);
	v = ct_select(ct_in(x, '0', '9' + 1), (uint32_t)(x + 4), v);
	v = ct_select(ct_in(x, 'a', 'z' + 1), (uint32_t)(x - 71), v);
	v = ct_select(ct_in(x, 'A', 'Z' + 1), (uint32_t)(x - 65), v);
	return (int)v;
}

/* see pw_forward.h */
long
pw_base64_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
	size_t i, n, o = 0;
	unsigned acc = 0, bits = 0;
	int bad = 0;

	/* padding and length are public */
	while (len > 0 && in[len - 1] == '=' && bits < 2) {
		len--;
		bits++;
	}
	if ((bits > 0 && (len + bits) % 4 != 0) || len % 4 == 1) {
		return PW_DECODE_INVALID;
	}
	n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (n > cap) {
		return PW_DECODE_CAP;
	}
	bits = 0;
	for (i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);

		bad |= v;
		acc = ((acc << 6) | ((unsigned)v & 63u)) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	acc = 0;
	if (bad < 0) {
		pw_wipe(out, o);
		return PW_DECODE_INVALID;
	}
	return (long)o;
}

/* see pw_forward.h */
size_t
pw_base64_encode(char *out, const unsigned char *in, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len) {
			v |= (unsigned)in[i + 1] << 8;
		}
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

/* ------------------------------------------------------------------ */
/* Decimal and dates                                                    */
/* ------------------------------------------------------------------ */

/* see pw_forward.h */
size_t
pw_u64_dec(char out[20], uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++) {
		out[i] = tmp[n - 1 - i];
	}
	return n;
}

static void
two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SSZ" (20 bytes, no NUL) for `t` in UTC, in the
   proleptic Gregorian calendar (years up to 9999). */
static void
iso8601(char out[20], uint64_t t)
{
	/* 9999-12-31T23:59:59Z is the last instant four year digits hold */
	uint64_t days, z, era, doe, yoe, doy, mp, y;
	unsigned m, d, sod;

	if (t > 253402300799u) {
		t = 253402300799u;
	}
	days = t / 86400;
	sod = (unsigned)(t % 86400);
	/* civil date from a day count: eras of 400 years starting in March */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);

	two(out, (unsigned)(y / 100));
	two(out + 2, (unsigned)(y % 100));
	out[4] = '-';
	two(out + 5, m);
	out[7] = '-';
	two(out + 8, d);
	out[10] = 'T';
	two(out + 11, sod / 3600);
	out[13] = ':';
	two(out + 14, sod / 60 % 60);
	out[16] = ':';
	two(out + 17, sod % 60);
	out[19] = 'Z';
}

/* ------------------------------------------------------------------ */
/* Key, id, signature                                                   */
/* ------------------------------------------------------------------ */

#define WHSEC "whsec_"

/* see pw_forward.h */
pw_forward_key_result
pw_forward_key_init(pw_forward_key *k, const char *secret, size_t len)
{
	unsigned char raw[PW_FORWARD_KEY_MAX];
	long n;

	memset(k, 0, sizeof *k);
	if (len < sizeof WHSEC - 1 || memcmp(secret, WHSEC, sizeof WHSEC - 1) != 0) {
		return PW_FORWARD_KEY_PREFIX;
	}
	n = pw_base64_decode(raw, sizeof raw, secret + sizeof WHSEC - 1,
		len - (sizeof WHSEC - 1));
	if (n < PW_FORWARD_KEY_MIN) {
		pw_wipe(raw, sizeof raw);
		return n == PW_DECODE_INVALID ? PW_FORWARD_KEY_BASE64 : PW_FORWARD_KEY_LENGTH;
	}
	br_hmac_key_init(&k->key, &br_sha256_vtable, raw, (size_t)n);
	pw_wipe(raw, sizeof raw);
	return PW_FORWARD_KEY_OK;
}

/* see pw_forward.h */
void
pw_forward_id(char out[PW_FORWARD_ID_LEN], const pw_record *rec)
{
	unsigned char h[br_sha256_SIZE];
	br_sha256_context sc;
	size_t i;

	br_sha256_init(&sc);
	br_sha256_update(&sc, rec->id_connection.ptr, rec->id_connection.len);
	br_sha256_out(&sc, h);
	memcpy(out, "msg_", 4);
	for (i = 0; i < 16; i++) {
		pw__hex(out + 4 + 2 * i, h[i], 2);
	}
}

/* see pw_forward.h */
void
pw_forward_sign_begin(pw_forward_signer *s, const pw_forward_key *k,
	const char *id, size_t id_len, uint64_t unix_seconds)
{
	char ts[20];

	br_hmac_init(&s->mac, &k->key, 0);
	br_hmac_update(&s->mac, id, id_len);
	br_hmac_update(&s->mac, ".", 1);
	br_hmac_update(&s->mac, ts, pw_u64_dec(ts, unix_seconds));
	br_hmac_update(&s->mac, ".", 1);
	s->body_len = 0;
}

/* see pw_forward.h */
void
pw_forward_sign_update(void *arg, const char *data, size_t len)
{
	pw_forward_signer *s = (pw_forward_signer *)arg;

	br_hmac_update(&s->mac, data, len);
	s->body_len += len;
}

/* see pw_forward.h */
void
pw_forward_sign_end(pw_forward_signer *s, char out[PW_FORWARD_SIG_LEN])
{
	unsigned char mac[br_sha256_SIZE];

	br_hmac_out(&s->mac, mac);
	memcpy(out, "v1,", 3);
	pw_base64_encode(out + 3, mac, sizeof mac);
	pw_wipe(mac, sizeof mac);
	pw_wipe(&s->mac, sizeof s->mac);
}

/* ------------------------------------------------------------------ */
/* The message body                                                     */
/* ------------------------------------------------------------------ */

/* see pw_forward.h */
void
pw_forward_write_body(const pw_result *res, uint64_t unix_seconds,
	pw_sink *sink, void *arg)
{
	const pw__out o = { sink, arg };
	char iso[20];

	iso8601(iso, unix_seconds);
	pw__puts(&o, "{\"type\":\"connection.created\",\"timestamp\":\"");
	pw__put(&o, iso, sizeof iso);
	pw__puts(&o, "\",\"data\":{");
	pw__write_record(&o, &res->record);
	pw__puts(&o, "}}");
}

/* ------------------------------------------------------------------ */
/* URL                                                                  */
/* ------------------------------------------------------------------ */

/* May `c` stand in a URL's path or query as it is (RFC 3986: unreserved,
   sub-delims, ':', '@', '/', '?'; '%' is checked apart)? */
static int
url_char(unsigned c)
{
	static const char other[] = "-._~!$&'()*+,;=:@/?";

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		|| (c >= '0' && c <= '9')
		|| (c != 0 && memchr(other, (int)c, sizeof other - 1) != NULL);
}

/* A host name or an IPv4 address: letters, digits, '-', '.', '_'. */
static pw_url_result
url_host(const char *h, size_t len)
{
	size_t i;

	if (len > 0 && h[0] == '[') {
		return PW_URL_IPV6;
	}
	if (len == 0) {
		return PW_URL_HOST;
	}
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			|| (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
		{
			return PW_URL_HOST;
		}
	}
	return PW_URL_OK;
}

/* One to five digits, 1 to 65535. */
static pw_url_result
url_port(const char *p, size_t len)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5) {
		return PW_URL_PORT;
	}
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)p[i] - (unsigned)'0';

		if (d > 9) {
			return PW_URL_PORT;
		}
		v = v * 10 + d;
	}
	return v >= 1 && v <= 65535 ? PW_URL_OK : PW_URL_PORT;
}

/* host[:port], split at the first ':' (an IPv6 literal has more). */
static pw_url_result
url_authority(const char *a, size_t len)
{
	const char *colon = memchr(a, ':', len);
	size_t host_len = colon != NULL ? (size_t)(colon - a) : len;
	pw_url_result r = url_host(a, host_len);

	if (r != PW_URL_OK || colon == NULL) {
		return r;
	}
	return url_port(colon + 1, len - host_len - 1);
}

/* see pw_forward.h */
pw_url_result
pw_url_parse(pw_url *u, const char *url, size_t len)
{
	size_t i, at, end;
	pw_url_result r;

	memset(u, 0, sizeof *u);
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)url[i];

		if (c == '#') {
			return PW_URL_FRAGMENT;
		}
		if (c < 0x21 || c > 0x7e) {
			return PW_URL_CHAR;
		}
	}
	if (pw_prefix_nocase(url, len, "https://")) {
		u->https = 1;
		at = 8;
	} else if (pw_prefix_nocase(url, len, "http://")) {
		at = 7;
	} else {
		return PW_URL_SCHEME;
	}
	for (end = at; end < len && url[end] != '/' && url[end] != '?'; end++) {
		if (url[end] == '@') {
			return PW_URL_USERINFO;
		}
	}
	if ((r = url_authority(url + at, end - at)) != PW_URL_OK) {
		return r;
	}
	for (i = end; i < len; i++) {
		unsigned c = (unsigned char)url[i];

		if (c == '%' ? i + 2 >= len || !pw__is_hex((unsigned char)url[i + 1])
				|| !pw__is_hex((unsigned char)url[i + 2])
			: !url_char(c))
		{
			return PW_URL_CHAR;
		}
	}
	u->authority.ptr = url + at;
	u->authority.len = end - at;
	if (end == len) {
		u->path.ptr = "/";
		u->path.len = 1;
	} else {
		u->path.ptr = url + end;
		u->path.len = len - end;
	}
	return PW_URL_OK;
}
