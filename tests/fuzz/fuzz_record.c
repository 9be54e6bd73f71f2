/*
 * fuzz_record.c -- everything after the signature matched, and the writer.
 *
 * The input is the Connection Object text. The harness wraps it the way
 * Panora does (as a JSON string, or raw as an object when the first byte is
 * odd), signs the data span itself, and calls pw_handle. A captured record
 * must write as a JSON object whose fields decode back to the same bytes.
 */
#include "fuzz.h"

static pw_context ctx;
static unsigned char scratch[PW_SCRATCH_FOR(4u * PW_BODY_MAX)];
static jsmntok_t toks[PW_MAX_TOKENS];
static char bodymem[4u * PW_BODY_MAX];
static char outmem[FUZZ_OUT_CAP];
static unsigned char decoded[FUZZ_OUT_CAP];

static const char head[] = "{\"id_event\":\"e\",\"data\":";
static const char tail[] = ",\"type\":\"connection.created\"}";

static void
round_trip(const pw_result *res, fuzz_buf *out)
{
	/* every field of the record, by name, from the one field list */
	static const char *const names[] = {
#define PW_X_NAME(name, kind) #name,
		PW_RECORD_FIELDS(PW_X_NAME)
#undef PW_X_NAME
	};
	const pw_span f[] = {
#define PW_X_VALUE(name, kind) res->record.name,
		PW_RECORD_FIELDS(PW_X_VALUE)
#undef PW_X_VALUE
	};
	long n, i;
	size_t k;

	out->len = 0;
	pw_write_response(res, fuzz_sink, out);
	n = pw__json_parse(toks, out->buf, out->len, 0);
	if (n < 1) {
		abort();
	}
	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		int found = 0;

		for (i = 1; i + 1 < n; i++) {
			const jsmntok_t *key = &toks[i], *v = &toks[i + 1];
			long m;

			if (key->parent != 0
				|| (size_t)(key->end - key->start) != strlen(names[k])
				|| memcmp(out->buf + key->start, names[k], strlen(names[k])) != 0)
			{
				continue;
			}
			found++;
			if (f[k].ptr == NULL) {
				if (v->type != JSMN_PRIMITIVE || out->buf[v->start] != 'n') {
					abort();
				}
				continue;
			}
			m = pw_json_unescape(decoded, sizeof decoded, out->buf + v->start,
				(size_t)(v->end - v->start));
			if (v->type != JSMN_STRING || m != (long)f[k].len
				|| memcmp(decoded, f[k].ptr, f[k].len) != 0)
			{
				abort();
			}
		}
		if (found != 1) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char hexd[] = "0123456789abcdef";
	fuzz_buf body = { bodymem, 0 }, out = { outmem, 0 };
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char mac[32];
	char sig[64];
	size_t start, i;
	int as_object;
	pw_keyring kr;
	pw_request req;
	pw_result res;

	if (size == 0 || size > PW_BODY_MAX / 2) {
		return 0;
	}
	as_object = data[0] & 1;
	data++;
	size--;
	fuzz_sink(&body, head, sizeof head - 1);
	start = body.len;
	if (as_object) {
		fuzz_sink(&body, (const char *)data, size);
	} else {
		pw_json_write_string(fuzz_sink, &body, (const char *)data, size);
	}
	br_hmac_key_init(&kc, &br_sha256_vtable, "k", 1);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, body.buf + start, body.len - start);
	br_hmac_out(&hc, mac);
	for (i = 0; i < 32; i++) {
		sig[2 * i] = hexd[mac[i] >> 4];
		sig[2 * i + 1] = hexd[mac[i] & 15];
	}
	fuzz_sink(&body, tail, sizeof tail - 1);

	memset(&req, 0, sizeof req);
	req.signature.ptr = sig;
	req.signature.len = 64;
	req.body.ptr = body.buf;
	req.body.len = body.len;
	pw_keyring_init(&kr);
	pw_keyring_add(&kr, "k", 1);
	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	pw_handle(&ctx, &kr, &req, &res);

	/* The harness signed it. As a JSON string the input is exactly the
	   data value, so the signature must match; raw, the input need not be
	   one value (a string followed by more members), and then the span
	   the parser finds differs from the one signed: 401 is right. */
	if (res.status == PW_ERR_MISSING_SIGNATURE
		|| (res.status == PW_ERR_BAD_SIGNATURE && !as_object))
	{
		abort();
	}
	fuzz_check_result(&res, &out);
	if (res.status == PW_CAPTURED) {
		round_trip(&res, &out);
	}
	return 0;
}
