/*
 * fuzz_request.c -- the whole entry point of lib/.
 *
 * Input: "secrets\nsignature\ncontent-type\nbody". Missing lines mean an
 * absent header; with no newline at all, the input is the body. Seeds carry
 * genuine signatures, so mutations outside "data" reach the verified paths.
 */
#include "fuzz.h"

static pw_context ctx;
static unsigned char scratch[PW_SCRATCH_FOR(4u * PW_BODY_MAX)];
static char outmem[FUZZ_OUT_CAP];

static const char *
line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));

	if (nl == NULL) {
		return NULL;
	}
	*len = (size_t)(nl - s);
	*p = nl + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *s;
	fuzz_buf out = { outmem, 0 };
	pw_keyring kr;
	pw_request req;
	pw_result res;
	size_t n;

	memset(&req, 0, sizeof req);
	pw_keyring_init(&kr);
	if ((s = line(&p, end, &n)) != NULL) {
		pw_keyring_add_list(&kr, s, n);
		if ((s = line(&p, end, &n)) != NULL) {
			req.signature.ptr = s;
			req.signature.len = n;
			if ((s = line(&p, end, &n)) != NULL && n > 0) {
				req.content_type.ptr = s;
				req.content_type.len = n;
			}
		}
	} else {
		pw_keyring_add(&kr, "whsec_fuzz", 10);
	}
	req.body.ptr = p;
	req.body.len = (size_t)(end - p);

	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	pw_handle(&ctx, &kr, &req, &res);
	fuzz_check_result(&res, &out);
	pw_keyring_wipe(&kr);
	return 0;
}
