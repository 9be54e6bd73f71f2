/*
 * wagi.c -- the WAGI/CGI adapter: a WASI preview1 command.
 *
 * In:  the request as CGI meta-variables in the environment
 *      (REQUEST_METHOD, CONTENT_LENGTH, HTTP_PANORA_SIGNATURE,
 *      HTTP_CONTENT_TYPE or CONTENT_TYPE), the body on stdin, and the
 *      configuration: PANORA_WEBHOOK_SECRET (comma-separated secrets),
 *      PANORA_WEBHOOK_MAX_BODY (optional, lowers the body limit).
 *      No REQUEST_METHOD means a direct invocation (wasmtime run ... <
 *      body): the request is taken as a POST.
 * Out: a CGI response on stdout (Status, Content-Type, blank line, JSON)
 *      and one JSON log line on stderr. Exit status 0 once a response is
 *      written, as WAGI hosts require.
 *
 * Only raw WASI calls are used: no getenv (wasi-libc's environ set-up
 * allocates), no stdio, no malloc. All memory is static, so the module
 * links no allocator at all.
 */
#include <wasi/api.h>

#include "panora_webhook.h"

#define ENV_BUF_SIZE (2u * 1024u * 1024u)  /* headers + configuration */
#define ENV_MAX      4096                  /* environment variables   */
#define OUT_BUF_SIZE 65536                 /* response buffer         */

static pw_context ctx;
static pw_keyring kr;
static char body[PW_BODY_MAX];
static uint8_t env_buf[ENV_BUF_SIZE];
static uint8_t *env_ptrs[ENV_MAX];
static __wasi_size_t env_count, env_size;

/* ------------------------------------------------------------------ */
/* Output: buffered, so a response is one or two fd_write calls         */
/* ------------------------------------------------------------------ */

typedef struct {
	__wasi_fd_t fd;
	size_t len;
	char buf[OUT_BUF_SIZE];
} outbuf;

static outbuf out = { 1, 0, { 0 } };
static outbuf err = { 2, 0, { 0 } };

static void
flush(outbuf *o)
{
	size_t off = 0;

	while (off < o->len) {
		__wasi_ciovec_t iov;
		__wasi_size_t n = 0;

		iov.buf = (const uint8_t *)o->buf + off;
		iov.buf_len = o->len - off;
		if (__wasi_fd_write(o->fd, &iov, 1, &n) != 0 || n == 0) {
			break;               /* nowhere left to report it */
		}
		off += n;
	}
	o->len = 0;
}

static void
sink(void *arg, const char *p, size_t n)
{
	outbuf *o = (outbuf *)arg;

	while (n > 0) {
		size_t k = sizeof o->buf - o->len;

		if (k == 0) {
			flush(o);
			continue;
		}
		if (k > n) {
			k = n;
		}
		__builtin_memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

static void
puts_(outbuf *o, const char *s)
{
	sink(o, s, __builtin_strlen(s));
}

/* ------------------------------------------------------------------ */
/* Environment                                                          */
/* ------------------------------------------------------------------ */

/* 0 on success, -1 if the environment does not fit the static buffers */
static int
load_env(void)
{
	__wasi_size_t count = 0, size = 0;

	if (__wasi_environ_sizes_get(&count, &size) != 0) {
		return -1;
	}
	if (count > ENV_MAX || size > ENV_BUF_SIZE) {
		return -1;
	}
	if (__wasi_environ_get(env_ptrs, env_buf) != 0) {
		return -1;
	}
	env_count = count;
	env_size = size;
	return 0;
}

/* The value of `name`, or a NULL span when it is not set. */
static pw_span
env(const char *name)
{
	size_t nlen = __builtin_strlen(name);
	pw_span v = { NULL, 0 };
	__wasi_size_t i;

	for (i = 0; i < env_count; i++) {
		const char *e = (const char *)env_ptrs[i];

		if (__builtin_strncmp(e, name, nlen) == 0 && e[nlen] == '=') {
			v.ptr = e + nlen + 1;
			v.len = __builtin_strlen(v.ptr);
			return v;
		}
	}
	return v;
}

/* Strict decimal; returns 0 and sets *val, or -1 (also on overflow). */
static int
parse_size(pw_span s, size_t *val)
{
	size_t i, v = 0;

	if (s.len == 0 || s.len > 12) {
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';

		if (d > 9) {
			return -1;
		}
		v = v * 10 + d;
	}
	*val = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Body                                                                 */
/* ------------------------------------------------------------------ */

enum { BODY_OK, BODY_TOO_LARGE, BODY_SHORT, BODY_ERROR };

/*
 * Read the body: exactly `want` bytes when CONTENT_LENGTH is known, else
 * to end of input. Stops as soon as more than `limit` bytes are seen.
 */
static int
read_body(int known, size_t want, size_t limit, size_t *got)
{
	size_t len = 0, cap = known ? want : limit;

	for (;;) {
		__wasi_iovec_t iov;
		__wasi_size_t n = 0;
		uint8_t extra;

		if (len == cap) {
			if (known) {
				break;
			}
			/* at the limit: one more byte means too large */
			iov.buf = &extra;
			iov.buf_len = 1;
		} else {
			iov.buf = (uint8_t *)body + len;
			iov.buf_len = cap - len;
		}
		if (__wasi_fd_read(0, &iov, 1, &n) != 0) {
			return BODY_ERROR;
		}
		if (n == 0) {
			break;
		}
		if (len == cap) {
			return BODY_TOO_LARGE;
		}
		len += n;
	}
	*got = len;
	return (known && len < want) ? BODY_SHORT : BODY_OK;
}

/* ------------------------------------------------------------------ */
/* Response                                                             */
/* ------------------------------------------------------------------ */

static void
respond(const pw_result *res)
{
	unsigned h = pw_status_http(res->status);
	char code[5];

	code[0] = (char)('0' + h / 100);
	code[1] = (char)('0' + h / 10 % 10);
	code[2] = (char)('0' + h % 10);
	code[3] = ' ';
	code[4] = 0;
	puts_(&out, "Status: ");
	puts_(&out, code);
	puts_(&out, pw_status_reason(res->status));
	puts_(&out, "\nContent-Type: application/json\nCache-Control: no-store\n");
	if (res->status == PW_ERR_METHOD_NOT_ALLOWED) {
		puts_(&out, "Allow: POST\n");
	}
	puts_(&out, "\n");
	pw_write_response(res, sink, &out);
	puts_(&out, "\n");
	flush(&out);
	pw_write_log(res, sink, &err);
	flush(&err);
}

static void
refuse(pw_result *res, pw_status st, const char *message)
{
	__builtin_memset(res, 0, sizeof *res);
	res->status = st;
	res->message = message;
}

int
main(void)
{
	pw_request req;
	pw_result res;
	pw_span v;
	size_t limit = 0, want = 0, got = 0;
	int known, r;

	__builtin_memset(&req, 0, sizeof req);
	if (load_env() != 0) {
		refuse(&res, PW_ERR_MALFORMED_REQUEST,
			"request headers are too large");
		respond(&res);
		return 0;
	}
	v = env("PANORA_WEBHOOK_MAX_BODY");
	if (v.ptr != NULL && parse_size(v, &limit) != 0) {
		limit = 0;                   /* not a number: the default */
	}
	pw_context_init(&ctx, limit);

	req.method = env("REQUEST_METHOD");
	req.signature = env("HTTP_PANORA_SIGNATURE");
	req.content_type = env("HTTP_CONTENT_TYPE");
	if (req.content_type.ptr == NULL || req.content_type.len == 0) {
		req.content_type = env("CONTENT_TYPE");
		if (req.content_type.len == 0) {
			req.content_type.ptr = NULL;  /* Spin sets it empty */
		}
	}

	if (req.method.ptr == NULL || (req.method.len == 4
		&& __builtin_memcmp(req.method.ptr, "POST", 4) == 0))
	{
		v = env("CONTENT_LENGTH");
		known = v.ptr != NULL && v.len > 0;
		if (known && parse_size(v, &want) != 0) {
			refuse(&res, PW_ERR_MALFORMED_REQUEST,
				"CONTENT_LENGTH is not a decimal number");
			goto done;
		}
		if (known && want > ctx.body_max) {
			refuse(&res, PW_ERR_PAYLOAD_TOO_LARGE,
				"body is larger than the configured limit");
			goto done;
		}
		r = read_body(known, want, ctx.body_max, &got);
		if (r == BODY_TOO_LARGE) {
			refuse(&res, PW_ERR_PAYLOAD_TOO_LARGE,
				"body is larger than the configured limit");
			goto done;
		}
		if (r != BODY_OK) {
			refuse(&res, PW_ERR_MALFORMED_REQUEST,
				r == BODY_SHORT ? "body is shorter than CONTENT_LENGTH"
				: "the body could not be read");
			goto done;
		}
		req.body.ptr = body;
		req.body.len = got;
	}

	pw_keyring_init(&kr);
	v = env("PANORA_WEBHOOK_SECRET");
	if (v.ptr != NULL) {
		pw_keyring_add_list(&kr, v.ptr, v.len);   /* overflow: pw_handle says */
	}
	pw_handle(&ctx, &kr, &req, &res);

done:
	pw_keyring_wipe(&kr);
	pw_wipe(env_buf, env_size);        /* the secrets were in there */
	respond(&res);
	return 0;
}
