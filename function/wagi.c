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
 * Out: a CGI response on stdout (Status, Content-Type, blank line, body)
 *      and one JSON log line on stderr. Exit status 0 once a response is
 *      written, as WAGI hosts require.
 *
 * Where the record goes. Invoked directly, the caller is the sink: a
 * capture is answered with the record as JSON. Under a WAGI host
 * (REQUEST_METHOD set) the answer only goes back to the sender, and Panora
 * keeps whatever a 2xx carries, so nothing on the user's side would keep
 * the token: a capture is refused with 500 no_sink (not acknowledged;
 * the catch-up brings it back), an ignored event gets the plain-text receipt, and errors keep
 * their JSON bodies.
 *
 * Only raw WASI calls are used: no getenv (wasi-libc's environ set-up
 * allocates), no stdio, no malloc: the module links no allocator.
 *
 * Memory: a host instantiates this module once per request, and that cost
 * grows with the initial linear memory (about 2 us per 64 KiB page under
 * V8). So the static buffers cover the common request (environment up to
 * 32 KiB, body up to 64 KiB, with its decode scratch), and a larger request
 * claims whole fresh pages with memory.grow, at the address memory.grow
 * returns. Nothing is ever freed: the instance ends with the request. Pages
 * claimed this way can never overlap memory a preview1 adapter grew for
 * itself, which is what breaks sbrk-based heaps under adapters.
 */
#include <wasi/api.h>

#include "panora_webhook.h"
#include "bufsink.h"
#include "kit.h"
#include "settings.h"

#define ENV_STATIC   (32u * 1024u)   /* environment bytes held statically  */
#define ENVC_STATIC  256             /* environment variables, statically  */
#define BODY_STATIC  (64u * 1024u)   /* body (and as much scratch)         */
#define OUT_BUF_SIZE 16384           /* response and log buffers           */

static pw_context ctx;
static kit_settings cfg;
static char body_static[BODY_STATIC];
static unsigned char scratch_static[BODY_STATIC];
static uint8_t env_static[ENV_STATIC];
static uint8_t *envp_static[ENVC_STATIC];

static char *body = body_static;
static uint8_t *env_buf = env_static;
static uint8_t **env_ptrs = envp_static;
static __wasi_size_t env_count, env_size;

/* `n` bytes of fresh linear memory, or NULL if the host refuses to grow.
   Not inlined: this is the module's one memory.grow. */
__attribute__((noinline)) static void *
claim(size_t n)
{
	size_t pages = (n + 65535) / 65536;
	long old = (long)__builtin_wasm_memory_grow(0, pages);

	return old < 0 ? NULL : (void *)((uintptr_t)old * 65536u);
}

/* ------------------------------------------------------------------ */
/* Output: buffered, so a response is one or two fd_write calls         */
/* ------------------------------------------------------------------ */

/* Write buf[0..len) to the file descriptor, as far as it will take it. */
static void
send_fd(bufsink *b)
{
	size_t off = 0;

	while (off < b->len) {
		__wasi_ciovec_t iov;
		__wasi_size_t n = 0;

		iov.buf = (const uint8_t *)b->buf + off;
		iov.buf_len = b->len - off;
		if (__wasi_fd_write((__wasi_fd_t)b->target, &iov, 1, &n) != 0 || n == 0) {
			break;               /* nowhere left to report it */
		}
		off += n;
	}
}

static char out_mem[OUT_BUF_SIZE], err_mem[OUT_BUF_SIZE];
static bufsink out = { send_fd, 1, 0, sizeof out_mem, out_mem };
static bufsink err = { send_fd, 2, 0, sizeof err_mem, err_mem };

/* ------------------------------------------------------------------ */
/* Environment                                                          */
/* ------------------------------------------------------------------ */

/* The environment, into memory. */
static kit_step
load_env(pw_result *res)
{
	static const char why[] = "the request's headers could not be read into memory";
	__wasi_size_t count = 0, size = 0;

	if (__wasi_environ_sizes_get(&count, &size) != 0) {
		return kit_refuse(res, PW_ERR_MALFORMED_REQUEST, why);
	}
	if (count > ENVC_STATIC) {
		env_ptrs = claim((size_t)count * sizeof *env_ptrs);
	}
	if (size > ENV_STATIC) {
		env_buf = claim(size);
	}
	if (env_ptrs == NULL || env_buf == NULL
		|| __wasi_environ_get(env_ptrs, env_buf) != 0)
	{
		return kit_refuse(res, PW_ERR_MALFORMED_REQUEST, why);
	}
	env_count = count;
	env_size = size;
	return KIT_GO;
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

/* The settings a WAGI module reads (settings.h), from the environment:
   unrolled, so only their names are in the module. */
static void
read_settings(kit_settings *s)
{
#define PW_X_WAGI(m, name, spin, readers, meaning)    \
	if ((readers) & READ_WAGI) {                      \
		pw_span v = env(name);                        \
		if (v.len > 0) {                              \
			s->m = v;                                 \
		}                                             \
	}
	PW_SETTINGS(PW_X_WAGI)
#undef PW_X_WAGI
}

/* ------------------------------------------------------------------ */
/* Body                                                                 */
/* ------------------------------------------------------------------ */

/*
 * Read the body: exactly `want` bytes when CONTENT_LENGTH is known, else
 * to end of input. Stops as soon as more than `limit` bytes are seen. A
 * body that outgrows the static buffer moves to claimed pages.
 */
static kit_body
read_body(int known, size_t want, size_t limit, size_t *got)
{
	size_t len = 0, cap = known ? want : limit;  /* the most we may read */
	size_t room = BODY_STATIC;                   /* what `body` can hold */

	if (known && cap > room) {
		if ((body = claim(cap)) == NULL) {
			return KIT_BODY_ERROR;
		}
		room = cap;
	}
	for (;;) {
		__wasi_iovec_t iov;
		__wasi_size_t n = 0;
		uint8_t extra;

		if (len == cap) {
			if (known) {
				break;
			}
			iov.buf = &extra;                    /* one more byte: too large */
			iov.buf_len = 1;
		} else {
			if (len == room) {                   /* unknown length, and large */
				char *big = claim(cap);

				if (big == NULL) {
					return KIT_BODY_ERROR;
				}
				__builtin_memcpy(big, body, len);
				body = big;
				room = cap;
			}
			iov.buf = (uint8_t *)body + len;
			iov.buf_len = (room < cap ? room : cap) - len;
		}
		if (__wasi_fd_read(0, &iov, 1, &n) != 0) {
			return KIT_BODY_ERROR;
		}
		if (n == 0) {
			break;
		}
		if (len == cap) {
			return KIT_BODY_TOO_LARGE;
		}
		len += n;
	}
	*got = len;
	return (known && len < want) ? KIT_BODY_SHORT : KIT_BODY_OK;
}

/* ------------------------------------------------------------------ */
/* Response                                                             */
/* ------------------------------------------------------------------ */

/*
 * Write the CGI response and the log line. Under a WAGI host a 2xx answer
 * is the plain-text receipt; invoked directly, the caller gets the JSON
 * body (the record, for a capture).
 */
static void
respond(const pw_result *res, int direct)
{
	kit_head h = kit_head_of(res, !direct);
	char code[20];

	bufsink_puts(&out, "Status: ");
	bufsink_put(&out, code, pw_u64_dec(code, h.status));
	bufsink_puts(&out, " ");
	bufsink_puts(&out, h.reason);
	bufsink_puts(&out, "\nContent-Type: ");
	bufsink_puts(&out, h.content_type);
	bufsink_puts(&out, "\nCache-Control: " KIT_CACHE_CONTROL "\n");
	if (h.allow_post) {
		bufsink_puts(&out, "Allow: POST\n");
	}
	bufsink_puts(&out, "\n");
	kit_write_body(&h, res, NULL, &out);
	pw_write_log(res, bufsink_write, &err);
	bufsink_flush(&err);
}

/* ------------------------------------------------------------------ */
/* The stages of one request                                            */
/* ------------------------------------------------------------------ */

/* The request's headers, as a WAGI host passes them. */
static void
read_headers(pw_request *req)
{
	__builtin_memset(req, 0, sizeof *req);
	req->method = env("REQUEST_METHOD");
	req->signature = env("HTTP_PANORA_SIGNATURE");
	req->content_type = env("HTTP_CONTENT_TYPE");
	if (req->content_type.ptr == NULL || req->content_type.len == 0) {
		req->content_type = env("CONTENT_TYPE");
		if (req->content_type.len == 0) {
			req->content_type.ptr = NULL;     /* Spin sets it empty */
		}
	}
}

/*
 * The body of a POST (or of a direct invocation), and the decode scratch
 * for it; other methods read nothing.
 */
static kit_step
read_request_body(pw_request *req, pw_result *res, int direct)
{
	pw_span v = env("CONTENT_LENGTH");
	int known = v.ptr != NULL && v.len > 0;
	size_t want = 0, got = 0;
	kit_size_result size = KIT_SIZE_OK;

	if (!direct && !kit_wants_body(req->method)) {
		return KIT_GO;                        /* pw_handle refuses it */
	}
	if (known && (size = kit_parse_size(v.ptr, v.len, &want)) == KIT_SIZE_BAD) {
		return kit_refuse(res, PW_ERR_MALFORMED_REQUEST, "CONTENT_LENGTH is not a decimal number");
	}
	if (known && (size == KIT_SIZE_HUGE || want > ctx.body_max)) {
		return kit_refuse(res, PW_ERR_PAYLOAD_TOO_LARGE, NULL);  /* before reading */
	}
	if (kit_body_step(res, read_body(known, want, ctx.body_max, &got)) != KIT_GO) {
		return KIT_STOP;
	}
	req->body.ptr = body;
	req->body.len = got;
	ctx.scratch = got <= BODY_STATIC ? scratch_static : claim(got);
	ctx.scratch_cap = ctx.scratch != NULL ? got : 0;
	return KIT_GO;
}

int
main(void)
{
	pw_request req;
	pw_result res;
	int direct;

	kit_start(&res);
	if (load_env(&res) != KIT_GO) {
		respond(&res, 0);
		return 0;
	}
	read_settings(&cfg);
	kit_limit(&ctx, cfg.max_body);
	read_headers(&req);
	direct = req.method.ptr == NULL;          /* no WAGI host: a command */
	if (read_request_body(&req, &res, direct) == KIT_GO) {
		kit_verify_setting(&ctx, cfg.secret, "", KIT_ENV_NAME(secret), &req, &res);
	}
	if (!direct && res.status == PW_CAPTURED) {
		/* a WAGI host only relays the answer to the sender: nothing on
		   the user's side would keep the record, so it is not acknowledged */
		kit_refuse(&res, PW_ERR_NO_SINK, "a WAGI host keeps nothing: deploy "
			"the Spin flavour or a forward (README: where the record goes)");
	}
	pw_wipe(env_buf, env_size);               /* the secrets were in there */
	respond(&res, direct);
	return 0;
}
