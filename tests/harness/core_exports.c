/*
 * core_exports.c -- lib/ as a WASI-free wasm32 module with plain exports,
 * for the differential tests and the benchmark (build/obj/pw-core.wasm).
 *
 * The host writes inputs into the buffers returned by pwx_buf and calls:
 *   pwx_set_secrets(len)          keyring from BUF_SECRETS (a comma list)
 *   pwx_handle(body_len, sig_len) pw_handle; returns the pw_status
 *   pwx_response()                JSON body of the last result into BUF_OUT
 *   pwx_unescape(len)             pw_json_unescape BUF_IN -> BUF_OUT
 *   pwx_hmac(len)                 HMAC-SHA256 alone over BUF_IN, first key
 * Returned lengths are negative on failure.
 */
#include "panora_webhook.h"

#define OUT_CAP (8u * PW_BODY_MAX)
#define SIG_CAP 256
#define SECRETS_CAP 65536

enum { BUF_IN, BUF_SIG, BUF_SECRETS, BUF_OUT };

static pw_context ctx;
static pw_keyring kr;
static pw_result res;
static char in[PW_BODY_MAX];
static unsigned char scratch[PW_SCRATCH_FOR(PW_BODY_MAX)];
static char sig[SIG_CAP];
static char secrets[SECRETS_CAP];
static unsigned char out[OUT_CAP];
static size_t out_len;

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(pwx_buf) void *pwx_buf(int which);
EXPORT(pwx_cap) long pwx_cap(int which);
EXPORT(pwx_set_secrets) long pwx_set_secrets(long len);
EXPORT(pwx_handle) int pwx_handle(long body_len, long sig_len);
EXPORT(pwx_response) long pwx_response(void);
EXPORT(pwx_unescape) long pwx_unescape(long len);
EXPORT(pwx_hmac) long pwx_hmac(long len);

void *
pwx_buf(int which)
{
	switch (which) {
	case BUF_IN: return in;
	case BUF_SIG: return sig;
	case BUF_SECRETS: return secrets;
	default: return out;
	}
}

long
pwx_cap(int which)
{
	switch (which) {
	case BUF_IN: return (long)sizeof in;
	case BUF_SIG: return (long)sizeof sig;
	case BUF_SECRETS: return (long)sizeof secrets;
	default: return (long)sizeof out;
	}
}

long
pwx_set_secrets(long len)
{
	if (len < 0 || (size_t)len > sizeof secrets) {
		return -1;
	}
	pw_keyring_wipe(&kr);
	return pw_keyring_add_list(&kr, secrets, (size_t)len);
}

int
pwx_handle(long body_len, long sig_len)
{
	pw_request req;

	if (body_len < 0 || (size_t)body_len > sizeof in
		|| sig_len < -1 || sig_len > (long)sizeof sig)
	{
		return -1;
	}
	__builtin_memset(&req, 0, sizeof req);
	req.body.ptr = in;
	req.body.len = (size_t)body_len;
	if (sig_len >= 0) {
		req.signature.ptr = sig;
		req.signature.len = (size_t)sig_len;
	}
	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	return (int)pw_handle(&ctx, &kr, &req, &res);
}

static void
to_out(void *arg, const char *p, size_t n)
{
	(void)arg;
	if (out_len <= sizeof out && n <= sizeof out - out_len) {
		__builtin_memcpy(out + out_len, p, n);
	}
	out_len += n;
}

long
pwx_response(void)
{
	out_len = 0;
	pw_write_response(&res, to_out, NULL);
	return out_len <= sizeof out ? (long)out_len : -1;
}

long
pwx_unescape(long len)
{
	if (len < 0 || (size_t)len > sizeof in) {
		return -1;
	}
	return pw_json_unescape(out, sizeof out, in, (size_t)len);
}

long
pwx_hmac(long len)
{
	br_hmac_context hc;

	if (kr.count == 0 || len < 0 || (size_t)len > sizeof in) {
		return -1;
	}
	br_hmac_init(&hc, &kr.keys[0], 0);
	br_hmac_update(&hc, in, (size_t)len);
	br_hmac_out(&hc, out);
	return 32;
}
