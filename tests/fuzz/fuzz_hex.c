/*
 * fuzz_hex.c -- the branch-free hex decoder against a plain, branchy one:
 * same verdict, same bytes, for every length and capacity.
 */
#include "fuzz.h"

static int
ref_digit(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char out[80], ref[80];
	const char *hex = (const char *)data;
	size_t cap, i;
	long n, want;

	if (size == 0) {
		return 0;
	}
	cap = data[0] % 66;
	hex++;
	size--;
	want = size % 2 != 0 ? PW_DECODE_INVALID
		: size / 2 > cap ? PW_DECODE_CAP : (long)(size / 2);
	for (i = 0; want >= 0 && i < size; i += 2) {
		int hi = ref_digit((unsigned char)hex[i]), lo = ref_digit((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0) {
			want = PW_DECODE_INVALID;
		} else {
			ref[i / 2] = (unsigned char)(hi * 16 + lo);
		}
	}
	n = pw_hex_decode(out, cap, hex, size);
	if (n != want || (n > 0 && memcmp(out, ref, (size_t)n) != 0)) {
		abort();
	}
	return 0;
}
