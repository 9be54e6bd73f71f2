/*
 * test_verify.c -- HMAC-SHA256 through our wrapper (RFC 4231), the hex
 * decoder, constant-time equality and the keyring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "panora_webhook.h"

typedef struct {
	const char *name;
	unsigned char key_byte;   /* repeated key_len times, unless key != NULL */
	size_t key_len;
	const char *key;
	const char *data;         /* NULL: data_byte repeated data_len times   */
	unsigned char data_byte;
	size_t data_len;
	const char *mac;
} rfc4231;

/* RFC 4231 section 4; test case 5 (truncated output) does not apply. */
static const rfc4231 vectors[] = {
	{ "4.2", 0x0b, 20, NULL, "Hi There", 0, 8,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4.3", 0, 4, "Jefe", "what do ya want for nothing?", 0, 28,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "4.4", 0xaa, 20, NULL, NULL, 0xdd, 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4.5", 0, 25, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
	  "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19", NULL, 0xcd, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "4.7", 0xaa, 131, NULL,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 0, 54,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "4.8", 0xaa, 131, NULL,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.", 0, 152,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void
load(const rfc4231 *v, pw_keyring *kr, unsigned char *key, unsigned char *data)
{
	if (v->key) {
		memcpy(key, v->key, v->key_len);
	} else {
		memset(key, v->key_byte, v->key_len);
	}
	if (v->data) {
		memcpy(data, v->data, v->data_len);
	} else {
		memset(data, v->data_byte, v->data_len);
	}
	pw_keyring_init(kr);
	assert_int_equal(pw_keyring_add(kr, key, v->key_len), PW_KEY_ADDED);
}

static void
test_rfc4231_accepts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		unsigned char key[200], data[200];
		char upper[65];
		pw_keyring kr;
		size_t k;

		load(&vectors[i], &kr, key, data);
		if (!pw_verify(&kr, vectors[i].mac, 64, data, vectors[i].data_len)) {
			fail_msg("RFC 4231 %s: correct MAC rejected", vectors[i].name);
		}
		for (k = 0; k < 64; k++) {
			char c = vectors[i].mac[k];
			upper[k] = (char)(c >= 'a' && c <= 'f' ? c - 32 : c);
		}
		upper[64] = 0;
		if (!pw_verify(&kr, upper, 64, data, vectors[i].data_len)) {
			fail_msg("RFC 4231 %s: upper-case MAC rejected", vectors[i].name);
		}
		pw_keyring_wipe(&kr);
	}
}

/* Every single hex digit changed, and the message changed, must fail. */
static void
test_rfc4231_rejects_any_change(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		unsigned char key[200], data[200];
		pw_keyring kr;
		char mac[65];

		load(&vectors[i], &kr, key, data);
		for (k = 0; k < 64; k++) {
			memcpy(mac, vectors[i].mac, 65);
			mac[k] = mac[k] == '0' ? '1' : '0';
			if (pw_verify(&kr, mac, 64, data, vectors[i].data_len)) {
				fail_msg("RFC 4231 %s: digit %zu changed, still accepted",
					vectors[i].name, k);
			}
		}
		data[0] ^= 1;
		assert_false(pw_verify(&kr, vectors[i].mac, 64, data,
			vectors[i].data_len));
		pw_keyring_wipe(&kr);
	}
}

static void
test_verify_refuses_bad_signature_forms(void **state)
{
	const rfc4231 *v = &vectors[1];
	unsigned char key[200], data[200];
	pw_keyring kr;
	char mac[66];

	(void)state;
	load(v, &kr, key, data);
	assert_false(pw_verify(&kr, v->mac, 63, data, v->data_len));
	memcpy(mac, v->mac, 64);
	mac[64] = '0';
	assert_false(pw_verify(&kr, mac, 65, data, v->data_len));
	memcpy(mac, v->mac, 64);
	mac[10] = 'g';                 /* g = 0x67: a-f arithmetic must not wrap */
	assert_false(pw_verify(&kr, mac, 64, data, v->data_len));
	mac[10] = ':';                 /* one past '9' */
	assert_false(pw_verify(&kr, mac, 64, data, v->data_len));
	mac[10] = '/';                 /* one before '0' */
	assert_false(pw_verify(&kr, mac, 64, data, v->data_len));
	pw_keyring_wipe(&kr);
	assert_false(pw_verify(&kr, v->mac, 64, data, v->data_len));  /* empty */
}

static void
test_keyring_rotation_tries_every_key(void **state)
{
	const rfc4231 *v = &vectors[1];
	unsigned char key[200], data[200];
	pw_keyring kr;

	(void)state;
	load(v, &kr, key, data);
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "a,b,Jefe,c", 10), 4);
	assert_true(pw_verify(&kr, v->mac, 64, data, v->data_len));
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "a,b,c", 5), 3);
	assert_false(pw_verify(&kr, v->mac, 64, data, v->data_len));
	pw_keyring_wipe(&kr);
}

static void
test_keyring_list_parsing(void **state)
{
	pw_keyring kr;
	unsigned char zero[sizeof kr];

	(void)state;
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "", 0), 0);
	assert_int_equal(pw_keyring_add_list(&kr, ",,", 2), 0);
	assert_int_equal(pw_keyring_add_list(&kr, " \t, ,\t", 6), 0);
	assert_int_equal(kr.count, 0);
	assert_int_equal(pw_keyring_add_list(&kr, " x ,y", 5), 2);
	assert_int_equal(pw_keyring_add(&kr, "", 0), PW_KEY_EMPTY);
	assert_int_equal(kr.count, 2);
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "1,2,3,4,5,6,7,8", 15), 8);
	pw_keyring_init(&kr);
	assert_int_equal(pw_keyring_add_list(&kr, "1,2,3,4,5,6,7,8,9", 17), PW_KEY_FULL);
	memset(zero, 0, sizeof zero);
	assert_memory_equal(kr.keys, zero, sizeof kr.keys);   /* wiped */
	assert_int_equal(kr.count, 0);
	assert_int_equal(kr.overflow, 1);                     /* and it says so */
	pw_keyring_init(&kr);
	assert_int_equal(kr.overflow, 0);
}

static void
test_hex_decode(void **state)
{
	unsigned char out[4];

	(void)state;
	assert_int_equal(pw_hex_decode(out, 4, "00fFa9", 6), 3);
	assert_memory_equal(out, "\x00\xff\xa9", 3);
	assert_int_equal(pw_hex_decode(out, 4, "", 0), 0);
	assert_int_equal(pw_hex_decode(out, 4, "abc", 3), PW_DECODE_INVALID);  /* odd */
	assert_int_equal(pw_hex_decode(out, 0, "abc", 3), PW_DECODE_INVALID);  /* odd first */
	assert_int_equal(pw_hex_decode(out, 2, "aabbcc", 6), PW_DECODE_CAP);
	assert_int_equal(pw_hex_decode(out, 0, "0g", 2), PW_DECODE_CAP);       /* cap first */
	assert_int_equal(pw_hex_decode(out, 4, "0g", 2), PW_DECODE_INVALID);
	assert_int_equal(pw_hex_decode(out, 4, "G0", 2), PW_DECODE_INVALID);
	assert_int_equal(pw_hex_decode(out, 4, " 0", 2), PW_DECODE_INVALID);
	assert_int_equal(pw_hex_decode(out, 4, "@0", 2), PW_DECODE_INVALID);   /* 'A'-1 */
	assert_int_equal(pw_hex_decode(out, 4, "`0", 2), PW_DECODE_INVALID);   /* 'a'-1 */
	assert_int_equal(pw_hex_decode(out, 4, "\xc1\x30", 2), PW_DECODE_INVALID); /* 'A'|0x80 */
	assert_memory_equal(out, "\0\0\0\0", 4);                      /* zeroed */
}

static void
test_prefix_nocase(void **state)
{
	(void)state;
	assert_int_equal(pw_prefix_nocase("Content-TYPE", 12, "content-type"), 1);
	assert_int_equal(pw_prefix_nocase("https://X", 9, "https://"), 1);
	assert_int_equal(pw_prefix_nocase("HTTP:/", 6, "http://"), 0);  /* short */
	assert_int_equal(pw_prefix_nocase(NULL, 0, ""), 1);
	assert_int_equal(pw_prefix_nocase("[", 1, "{"), 0);   /* '[' | 0x20 is '{' */
	assert_int_equal(pw_prefix_nocase("@", 1, "`"), 0);   /* 'A'-1, 'a'-1 */
	assert_int_equal(pw_prefix_nocase("jsoN", 4, "jsox"), 0);
}

static void
test_ct_equal(void **state)
{
	unsigned char a[32], b[32];
	size_t i;

	(void)state;
	memset(a, 0x5a, sizeof a);
	memcpy(b, a, sizeof b);
	assert_int_equal(pw_ct_equal(a, b, 32), 1);
	assert_int_equal(pw_ct_equal(a, b, 0), 1);
	for (i = 0; i < 32; i++) {
		b[i] ^= 0x80;
		assert_int_equal(pw_ct_equal(a, b, 32), 0);
		b[i] ^= 0x80 | 0x01;
		assert_int_equal(pw_ct_equal(a, b, 32), 0);
		b[i] ^= 0x01;
	}
}

static void
test_wipe(void **state)
{
	unsigned char buf[16];

	(void)state;
	memset(buf, 0xff, sizeof buf);
	pw_wipe(buf, sizeof buf);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_accepts),
		cmocka_unit_test(test_rfc4231_rejects_any_change),
		cmocka_unit_test(test_verify_refuses_bad_signature_forms),
		cmocka_unit_test(test_keyring_rotation_tries_every_key),
		cmocka_unit_test(test_keyring_list_parsing),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_prefix_nocase),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
