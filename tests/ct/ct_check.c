/*
 * ct_check.c -- constant-time evidence for the signature check.
 *
 * Run under valgrind memcheck. The secrets and the received signature are
 * marked undefined (VALGRIND_MAKE_MEM_UNDEFINED): memcheck then reports every
 * conditional jump and every memory index that depends on them, from HMAC key
 * set-up (pw_keyring_add_list) through hex decoding, the MAC and the final
 * comparison (pw_verify). Only pw_verify's one-bit answer is declassified,
 * because the caller must act on it.
 *
 * Cases: the right signature, a signature wrong in its first byte, in its
 * last byte, one with a non-hex digit, a two-secret ring matching on the
 * second key, and a key longer than the SHA-256 block (hashed first).
 *
 * Built twice by `make ct-check`: as is, where memcheck must report nothing,
 * and with PW_CT_SELFTEST_EARLY_EXIT, which swaps in a comparison that stops
 * at the first differing byte; there memcheck must report an error, or the
 * check would prove nothing.
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "panora_webhook.h"

static const char msg[] =
	"\"{\\\"id_connection\\\":\\\"6cd0\\\",\\\"connection_token\\\":\\\"t\\\"}\"";

/* Check one signature against a secret list, with both marked secret. */
static int
check(const char *secrets, const char *sig_in, int expect)
{
	pw_keyring kr;
	char list[512], sig[65];
	int ok;

	strcpy(list, secrets);
	memcpy(sig, sig_in, 64);
	sig[64] = 0;
	VALGRIND_MAKE_MEM_UNDEFINED(list, strlen(list));
	VALGRIND_MAKE_MEM_UNDEFINED(sig, 64);

	pw_keyring_init(&kr);
	if (pw_keyring_add_list(&kr, list, strlen(secrets)) < 1) {
		return 1;
	}
	ok = pw_verify(&kr, sig, 64, msg, sizeof msg - 1);
	VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof ok);
	pw_keyring_wipe(&kr);
	if (ok != expect) {
		fprintf(stderr, "ct_check: %s: got %d, want %d\n", secrets, ok, expect);
		return 1;
	}
	return 0;
}

/* The expected signature, computed before anything is marked secret. */
static void
sign(const char *key, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char mac[32];
	int i;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, strlen(key));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, sizeof msg - 1);
	br_hmac_out(&hc, mac);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[64] = 0;
}

int
main(void)
{
	char good[65], bad[65], longkey[200];
	int fails = 0;

	memset(longkey, 'k', 150);
	longkey[150] = 0;

	sign("whsec_ct", good);
	fails += check("whsec_ct", good, 1);
	memcpy(bad, good, 65);
	bad[0] = bad[0] == '0' ? '1' : '0';
	fails += check("whsec_ct", bad, 0);
	memcpy(bad, good, 65);
	bad[63] = bad[63] == 'f' ? 'e' : 'f';
	fails += check("whsec_ct", bad, 0);
	memcpy(bad, good, 65);
	bad[31] = 'x';
	fails += check("whsec_ct", bad, 0);
	fails += check("whsec_old,whsec_ct", good, 1);
	sign(longkey, good);
	fails += check(longkey, good, 1);

	printf("ct_check: %d of 6 cases gave the expected answer\n", 6 - fails);
	return fails != 0;
}
