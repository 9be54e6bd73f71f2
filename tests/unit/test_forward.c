/*
 * test_forward.c -- what a forward needs from the core: the Standard
 * Webhooks message (id, body and signature against messages the npm
 * `standardwebhooks` package signed, tests/vectors/gen.mjs), the forward
 * secret, the target URL, and base64 against Node's Buffer.
 *
 *   build/tests/test_forward
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "panora_webhook.h"
#include "pw_forward.h"
#include "cases.h"
#include "strbuf.h"

static pw_context ctx;
static unsigned char scratch[PW_SCRATCH_FOR(PW_BODY_MAX)];
static char outmem[1u << 20];

static pw_span
span(pwt_str s)
{
	pw_span v;

	v.ptr = s.p;
	v.len = s.n;
	return v;
}

/* Handle case `i` of the generated vectors into `res`. */
static void
handle_case(size_t i, pw_result *res)
{
	const pwt_case *c = &pwt_cases[i];
	pw_keyring kr;
	pw_request req;

	pw_context_init(&ctx, c->max_body, scratch, sizeof scratch);
	pw_keyring_init(&kr);
	if (c->secret.p != NULL) {
		pw_keyring_add_list(&kr, c->secret.p, c->secret.n);
	}
	memset(&req, 0, sizeof req);
	req.method = span(c->method);
	req.signature = span(c->signature);
	req.content_type = span(c->content_type);
	req.body = span(c->body);
	pw_handle(&ctx, &kr, &req, res);
	pw_keyring_wipe(&kr);
}

/* ------------------------------------------------------------------ */
/* The message, against standardwebhooks                                */
/* ------------------------------------------------------------------ */

static void
test_forward_messages(void **state)
{
	pw_forward_key key;
	size_t i;

	(void)state;
	assert_true(PWT_NFORWARDS >= 8);
	assert_int_equal(pw_forward_key_init(&key, pwt_forward_secret,
		strlen(pwt_forward_secret)), PW_FORWARD_KEY_OK);
	for (i = 0; i < PWT_NFORWARDS; i++) {
		const pwt_forward *f = &pwt_forwards[i];
		strbuf out = { outmem, 0, sizeof outmem };
		char id[PW_FORWARD_ID_LEN], sig[PW_FORWARD_SIG_LEN];
		pw_forward_signer s;
		pw_result res;

		handle_case(f->case_index, &res);
		assert_int_equal(res.status, PW_CAPTURED);
		pw_forward_id(id, &res.record);
		if (memcmp(id, f->id, sizeof id) != 0) {
			fail_msg("%s: webhook-id %.36s, want %s",
				pwt_cases[f->case_index].name, id, f->id);
		}
		pw_forward_write_body(&res, f->t, strbuf_sink, &out);
		if (out.len != f->body.n || memcmp(out.buf, f->body.p, out.len) != 0) {
			fail_msg("%s at %llu: body\n got %.*s\nwant %s",
				pwt_cases[f->case_index].name, f->t, (int)out.len, out.buf,
				f->body.p);
		}
		pw_forward_sign_begin(&s, &key, id, sizeof id, f->t);
		pw_forward_write_body(&res, f->t, pw_forward_sign_update, &s);
		assert_int_equal(s.body_len, f->body.n);
		pw_forward_sign_end(&s, sig);
		if (memcmp(sig, f->signature, sizeof sig) != 0
			|| strlen(f->signature) != sizeof sig)
		{
			fail_msg("%s: signature %.47s, want %s",
				pwt_cases[f->case_index].name, sig, f->signature);
		}
	}
	pw_wipe(&key, sizeof key);
}

static void
test_forward_key(void **state)
{
	static const struct {
		const char *secret;
		pw_forward_key_result want;
	} bad[] = {
		{ "",                                           PW_FORWARD_KEY_PREFIX },
		{ "whsec_",                                     PW_FORWARD_KEY_LENGTH },  /* no key */
		{ "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",           PW_FORWARD_KEY_PREFIX },
		{ "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",     PW_FORWARD_KEY_PREFIX },  /* case */
		{ "whsec_MfKQ9r8GKYqrTwjU",                     PW_FORWARD_KEY_LENGTH },  /* 12 bytes */
		{ "whsec_MfKQ9r8GKYqrTwjUPD8I",                 PW_FORWARD_KEY_LENGTH },  /* 15 bytes */
		{ "whsec_MfKQ9r8GKYqrTwjUPD8IL",                PW_FORWARD_KEY_BASE64 },  /* 21 digits */
		{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",     PW_FORWARD_KEY_BASE64 },
		{ "whsec_MfKQ9r8GKYqrTwjUPD8I LPZIo2LaLaSw",    PW_FORWARD_KEY_BASE64 },  /* a space */
		{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",    PW_FORWARD_KEY_BASE64 },  /* padding */
		{ "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",               PW_FORWARD_KEY_LENGTH },  /* 67 bytes */
	};
	pw_forward_key k;
	static const pw_forward_key zero;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pw_forward_key_result r = pw_forward_key_init(&k, bad[i].secret,
			strlen(bad[i].secret));

		if (r != bad[i].want) {
			fail_msg("%s: got %d, want %d", bad[i].secret, r, bad[i].want);
		}
		assert_memory_equal(&k, &zero, sizeof k);
	}
	/* 24 bytes, as generated secrets are; 16 bytes; padding optional */
	assert_int_equal(pw_forward_key_init(&k, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 38), PW_FORWARD_KEY_OK);
	assert_int_equal(pw_forward_key_init(&k, "whsec_MfKQ9r8GKYqrTwjUPD8ILA==", 30), PW_FORWARD_KEY_OK);
	assert_int_equal(pw_forward_key_init(&k, "whsec_MfKQ9r8GKYqrTwjUPD8ILA", 28), PW_FORWARD_KEY_OK);
	pw_wipe(&k, sizeof k);
}

/* ------------------------------------------------------------------ */
/* URL                                                                  */
/* ------------------------------------------------------------------ */

static void
test_url(void **state)
{
	static const struct {
		const char *url;
		pw_url_result r;
		int https;
		const char *authority, *path;
	} t[] = {
		{ "https://backend.example.com/hooks/panora?x=1", PW_URL_OK, 1,
			"backend.example.com", "/hooks/panora?x=1" },
		{ "HTTP://127.0.0.1:8081", PW_URL_OK, 0, "127.0.0.1:8081", "/" },
		{ "https://h/", PW_URL_OK, 1, "h", "/" },
		{ "http://my_backend-1.internal:1/a%2Fb;c=d", PW_URL_OK, 0,
			"my_backend-1.internal:1", "/a%2Fb;c=d" },
		{ "http://h:65535/", PW_URL_OK, 0, "h:65535", "/" },
		/* a query and no path: the target is "/" and the query */
		{ "http://h:1234?x=1", PW_URL_OK, 0, "h:1234", "?x=1" },
		{ "https://h?x=1", PW_URL_OK, 1, "h", "?x=1" },
		{ "ftp://h/", PW_URL_SCHEME, 0, NULL, NULL },
		{ "https:/h/", PW_URL_SCHEME, 0, NULL, NULL },
		{ "//h/", PW_URL_SCHEME, 0, NULL, NULL },
		{ "", PW_URL_SCHEME, 0, NULL, NULL },
		{ "https:///path", PW_URL_HOST, 0, NULL, NULL },
		{ "http://:8080/", PW_URL_HOST, 0, NULL, NULL },
		{ "http://?x=1", PW_URL_HOST, 0, NULL, NULL },
		{ "http://ho!st/", PW_URL_HOST, 0, NULL, NULL },
		{ "http://h%41/", PW_URL_HOST, 0, NULL, NULL },
		{ "http://[::1]:9000/a", PW_URL_IPV6, 0, NULL, NULL },
		{ "http://h:0/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:65536/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:99999999999/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:80a/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:-1/", PW_URL_PORT, 0, NULL, NULL },
		{ "http://h:1:2/", PW_URL_PORT, 0, NULL, NULL },
		{ "https://user:pw@h/", PW_URL_USERINFO, 0, NULL, NULL },
		{ "https://h/a#frag", PW_URL_FRAGMENT, 0, NULL, NULL },
		{ "https://h/a b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/\x01", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/\xc3\xa9", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a<b>", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a\"b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/{x}", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a|b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a\\b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a^b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a`b", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/a[0]", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/100%", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/%4", PW_URL_CHAR, 0, NULL, NULL },
		{ "https://h/%zz", PW_URL_CHAR, 0, NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		pw_url u;
		pw_url_result r = pw_url_parse(&u, t[i].url, strlen(t[i].url));

		if (r != t[i].r) {
			fail_msg("%s: got %d, want %d", t[i].url, (int)r, (int)t[i].r);
		}
		if (r != PW_URL_OK) {
			assert_null(u.authority.ptr);        /* nothing half-parsed */
			continue;
		}
		assert_int_equal(u.https, t[i].https);
		assert_int_equal(u.authority.len, strlen(t[i].authority));
		assert_memory_equal(u.authority.ptr, t[i].authority, u.authority.len);
		assert_int_equal(u.path.len, strlen(t[i].path));
		assert_memory_equal(u.path.ptr, t[i].path, u.path.len);
	}
}

/* ------------------------------------------------------------------ */
/* base64 and decimal                                                   */
/* ------------------------------------------------------------------ */

static void
test_base64_against_buffer(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PWT_NBASE64; i++) {
		const pwt_base64 *b = &pwt_base64s[i];
		char text[128];
		unsigned char raw[128];
		size_t n = pw_base64_encode(text, (const unsigned char *)b->raw.p, b->raw.n);
		long m;

		assert_int_equal(n, strlen(b->text));
		assert_memory_equal(text, b->text, n);
		m = pw_base64_decode(raw, sizeof raw, b->text, n);
		assert_int_equal(m, (long)b->raw.n);
		if (m > 0) {
			assert_memory_equal(raw, b->raw.p, b->raw.n);
		}
		/* without padding, as Standard Webhooks secrets may come */
		while (n > 0 && b->text[n - 1] == '=') {
			n--;
		}
		assert_int_equal(pw_base64_decode(raw, sizeof raw, b->text, n), (long)b->raw.n);
		/* one byte short of room */
		if (b->raw.n > 0) {
			assert_int_equal(pw_base64_decode(raw, b->raw.n - 1, b->text, n), PW_DECODE_CAP);
		}
	}
}

static void
test_base64_refusals(void **state)
{
	static const char *const bad[] = {
		"A", "AAAAA", "A===", "AA=A", "=AAA", "AA==AA==", "AA-_", "AA\nA", "AAA\x80",
		"AA=", "AAAA=",
	};
	unsigned char raw[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pw_base64_decode(raw, sizeof raw, bad[i], strlen(bad[i])) != PW_DECODE_INVALID) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
	}
	assert_int_equal(pw_base64_decode(raw, sizeof raw, "", 0), 0);
}

static void
test_decimal(void **state)
{
	char d[20];

	(void)state;
	assert_int_equal(pw_u64_dec(d, 0), 1);
	assert_memory_equal(d, "0", 1);
	assert_int_equal(pw_u64_dec(d, 1795827997u), 10);
	assert_memory_equal(d, "1795827997", 10);
	assert_int_equal(pw_u64_dec(d, UINT64_MAX), 20);
	assert_memory_equal(d, "18446744073709551615", 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_messages),
		cmocka_unit_test(test_forward_key),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_base64_against_buffer),
		cmocka_unit_test(test_base64_refusals),
		cmocka_unit_test(test_decimal),
	};

	return cmocka_run_group_tests_name("forward", tests, NULL, NULL);
}
