/*
 * pw_verify.c -- keyring, hex decoding and the constant-time signature
 * check.
 *
 * Everything that touches a secret or the received signature is written
 * without branches or table look-ups on their values: the hex digits are
 * decoded with arithmetic masks, the MAC comparison accumulates
 * differences over all 32 bytes, and every key in the ring is tried even
 * after a match. Only lengths (public) steer control flow. The valgrind
 * check in tests/ct/ holds the code to that.
 */
#include <string.h>

#include "pw_internal.h"

/* see panora_webhook.h */
void
pw_wipe(void *p, size_t len)
{
	volatile unsigned char *v = (volatile unsigned char *)p;

	while (len-- > 0) {
		*v++ = 0;
	}
}

/* see panora_webhook.h */
int
pw_ct_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;
	uint32_t d = 0;
	size_t i;

#ifdef PW_CT_SELFTEST_EARLY_EXIT
	/* Only in tests/ct's self-test binary: the comparison the constant-time
	   check must catch. Never built into anything else. */
	for (i = 0; i < len; i++) {
		if (x[i] != y[i]) {
			return 0;
		}
	}
	return 1;
#endif
	for (i = 0; i < len; i++) {
		d |= (uint32_t)(x[i] ^ y[i]);
	}
	return (int)ct_eq0(d);              /* d < 256 */
}

/*
 * Decode 2*n hex digits into n bytes. Returns 1 if every digit was hex,
 * else 0; the bytes are garbage in that case. Branch-free on the digits.
 */
static uint32_t
hex_decode_ct(unsigned char *out, const char *hex, size_t n)
{
	uint32_t bad = 0;
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		uint32_t d = pw__hex_digit((unsigned char)hex[i]);

		bad |= d >> 4;
		if ((i & 1) == 0) {
			out[i >> 1] = (unsigned char)(d << 4);
		} else {
			out[i >> 1] |= (unsigned char)(d & 15);
		}
	}
	return bad ^ 1;
}

/* see panora_webhook.h */
long
pw_hex_decode(unsigned char *out, size_t cap, const char *hex, size_t hex_len)
{
	size_t n = hex_len / 2;
	long r = (hex_len & 1) != 0 ? PW_DECODE_INVALID
		: n > cap ? PW_DECODE_CAP
		: hex_decode_ct(out, hex, n) ? (long)n : PW_DECODE_INVALID;

	if (r < 0) {
		pw_wipe(out, cap);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Keyring                                                              */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
void
pw_keyring_init(pw_keyring *kr)
{
	memset(kr, 0, sizeof *kr);
}

/* see panora_webhook.h */
void
pw_keyring_wipe(pw_keyring *kr)
{
	pw_wipe(kr, sizeof *kr);
}

/* see panora_webhook.h */
pw_key_result
pw_keyring_add(pw_keyring *kr, const void *secret, size_t len)
{
	if (len == 0) {
		return PW_KEY_EMPTY;
	}
	if (kr->count >= PW_MAX_SECRETS) {
		kr->overflow = 1;
		return PW_KEY_FULL;
	}
	br_hmac_key_init(&kr->keys[kr->count], &br_sha256_vtable, secret, len);
	kr->count++;
	return PW_KEY_ADDED;
}

/*
 * 1 if byte c is one of the separators the list syntax gives meaning to
 * (',' when want_comma, else space or tab), 0 if not. Computed without a
 * branch on c, then declassified: the list's structure is public, the
 * bytes of the secrets are not.
 */
static int
is_structure(char c, int want_comma)
{
	uint32_t x = (unsigned char)c;
	uint32_t comma = ct_eq(x, ',');
	uint32_t blank = ct_eq(x, ' ') | ct_eq(x, '\t');
	uint32_t r = want_comma ? comma : blank;   /* want_comma is public */

	PW_DECLASSIFY(&r, sizeof r);
	return (int)r;
}

/* see panora_webhook.h */
int
pw_keyring_add_list(pw_keyring *kr, const char *list, size_t len)
{
	size_t i = 0;
	int added = 0;

	while (i <= len) {
		size_t a = i, b;
		pw_key_result r;

		while (i < len && !is_structure(list[i], 1)) {
			i++;
		}
		b = i++;                  /* entry is list[a..b), skip ',' */
		while (a < b && is_structure(list[a], 0)) {
			a++;
		}
		while (b > a && is_structure(list[b - 1], 0)) {
			b--;
		}
		r = pw_keyring_add(kr, list + a, b - a);
		if (r == PW_KEY_FULL) {
			pw_keyring_wipe(kr);
			kr->overflow = 1;
			return PW_KEY_FULL;
		}
		added += r == PW_KEY_ADDED;
	}
	return added;
}

/* ------------------------------------------------------------------ */
/* Verification                                                         */
/* ------------------------------------------------------------------ */

/* see panora_webhook.h */
int
pw_verify(const pw_keyring *kr, const char *sig_hex, size_t sig_len,
	const void *msg, size_t msg_len)
{
	unsigned char want[br_sha256_SIZE], got[br_sha256_SIZE];
	br_hmac_context hc;
	uint32_t ok, match = 0;
	size_t i;

	if (sig_len != 2 * br_sha256_SIZE) {
		return 0;
	}
	ok = hex_decode_ct(want, sig_hex, br_sha256_SIZE);
	for (i = 0; i < kr->count; i++) {
		br_hmac_init(&hc, &kr->keys[i], 0);
		br_hmac_update(&hc, msg, msg_len);
		br_hmac_out(&hc, got);
		match |= (uint32_t)pw_ct_equal(got, want, sizeof got);
	}
	pw_wipe(&hc, sizeof hc);
	pw_wipe(got, sizeof got);
	pw_wipe(want, sizeof want);
	return (int)(match & ok);
}
