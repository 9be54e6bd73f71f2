/*
 * kit.h -- what every adapter in function/ shares: the export and import
 * attributes, the refusal an adapter makes itself, strict size parsing,
 * the stages of one request that do not depend on the host (the body
 * limit, the POST pre-check, the verify call, the answer's head and
 * body), and, for the canonical-ABI adapters (component.c, http.c), the
 * string type, the bump arena behind cabi_realloc and request-header
 * matching.
 *
 * One convention for every stage in function/ that can refuse: it returns
 * a kit_step, and on KIT_STOP `res` holds the refusal. A stage that gets a
 * host resource returns its handle, or KIT_NO_HANDLE.
 *
 * Header-only (static inline): each adapter is its own module, and links
 * only what it calls.
 */
#ifndef PW_KIT_H
#define PW_KIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "panora_webhook.h"
#include "pw_forward.h"          /* pw_u64_dec */
#include "bufsink.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(module, name) \
	__attribute__((import_module(module), import_name(name)))

/* ------------------------------------------------------------------ */
/* Refusals and sizes                                                   */
/* ------------------------------------------------------------------ */

/* How a stage ended. */
typedef enum {
	KIT_GO = 0,           /* go on to the next stage                  */
	KIT_STOP = -1         /* `res` holds the refusal: answer it       */
} kit_step;

/* What a stage that gets a host resource returns when it got none. */
#define KIT_NO_HANDLE (-1)

/*
 * The start of every request, before any stage can refuse: `res` zeroed.
 * Every pw_result an adapter refuses MUST have started here (or in
 * pw_handle, or pw_catchup_feed, which zero theirs): kit_refuse keeps the
 * id_event and type it finds, and only pw_handle sets them, once the
 * signature matched. A result that was not zeroed is not supported.
 */
static inline void
kit_start(pw_result *res)
{
	memset(res, 0, sizeof *res);
}

/*
 * Make `res` a refusal with status `st`: no record, and `message` (a
 * static sentence), or the status table's own when NULL. The verified
 * delivery's id_event and type stay for the log (for a capture that its
 * sinks could not keep); a refusal before verification has none, as `res`
 * started zeroed (kit_start). Returns KIT_STOP, for a stage to return.
 */
static inline kit_step
kit_refuse(pw_result *res, pw_status st, const char *message)
{
	pw_span id_event = res->id_event, type = res->type;

	memset(res, 0, sizeof *res);
	res->status = st;
	res->message = message != NULL ? message : pw_status_message(st);
	res->id_event = id_event;
	res->type = type;
	return KIT_STOP;
}

/* How reading a request body ended, in every adapter. */
typedef enum {
	KIT_BODY_OK = 0,
	KIT_BODY_TOO_LARGE = -1,  /* more than the limit: reading stopped      */
	KIT_BODY_SHORT = -2,      /* fewer bytes than the length announced     */
	KIT_BODY_ERROR = -3       /* the host could not give the body          */
} kit_body;

/* The stage's end for a body read that ended `r`: KIT_GO on KIT_BODY_OK,
   else KIT_STOP with the refusal in `res`. */
static inline kit_step
kit_body_step(pw_result *res, kit_body r)
{
	if (r == KIT_BODY_OK) {
		return KIT_GO;
	}
	if (r == KIT_BODY_TOO_LARGE) {
		return kit_refuse(res, PW_ERR_PAYLOAD_TOO_LARGE, NULL);
	}
	return kit_refuse(res, PW_ERR_MALFORMED_REQUEST, r == KIT_BODY_SHORT
		? "body is shorter than CONTENT_LENGTH" : "the body could not be read");
}

typedef enum {
	KIT_SIZE_OK = 0,
	KIT_SIZE_BAD = -1,      /* empty, or not all digits                 */
	KIT_SIZE_HUGE = -2      /* all digits, but over SIZE_MAX: a size no
	                           limit admits                              */
} kit_size_result;

/*
 * Strict decimal: digits only, at least one. Overflow is checked digit by
 * digit, so a value that does not fit size_t (32 bits in wasm32) is
 * refused rather than wrapped: KIT_SIZE_HUGE once every byte is a digit,
 * so that a caller can answer it as a size over its limit. `*val` is set
 * only on KIT_SIZE_OK.
 */
static inline kit_size_result
kit_parse_size(const char *p, size_t len, size_t *val)
{
	size_t i, v = 0;
	int huge = 0;

	if (len == 0) {
		return KIT_SIZE_BAD;
	}
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)p[i] - (unsigned)'0';

		if (d > 9) {
			return KIT_SIZE_BAD;
		}
		if (huge || v > (SIZE_MAX - d) / 10) {
			huge = 1;
			continue;
		}
		v = v * 10 + d;
	}
	if (huge) {
		return KIT_SIZE_HUGE;
	}
	*val = v;
	return KIT_SIZE_OK;
}

/* ------------------------------------------------------------------ */
/* One request: the stages every adapter runs the same way              */
/* ------------------------------------------------------------------ */

/* The body limit into a fresh `ctx`: the compile-time one, lowered by a
   max_body setting that is a number (anything else leaves it). */
static inline void
kit_limit(pw_context *ctx, pw_span max_body)
{
	size_t limit = 0;

	if (max_body.ptr != NULL
		&& kit_parse_size(max_body.ptr, max_body.len, &limit) != KIT_SIZE_OK)
	{
		limit = 0;                        /* not a number: the default */
	}
	pw_context_init(ctx, limit, NULL, 0);
}

/* The POST pre-check: is there a body to read? Only a POST's matters;
   pw_handle refuses any other method without one. */
static inline int
kit_wants_body(pw_span method)
{
	return method.len == 4 && memcmp(method.ptr, "POST", 4) == 0;
}

/*
 * Verify and decode `req` under the secret lists secrets[0..n) (each one
 * comma-separated, as PANORA_WEBHOOK_SECRET; a NULL one is no secret),
 * into `res`. The keyring is wiped before this returns. Returns 0 when
 * the lists held no secret at all (not even too many), else 1.
 */
static inline int
kit_verify(pw_context *ctx, const pw_span *secrets, size_t n,
	const pw_request *req, pw_result *res)
{
	static pw_keyring kr;
	size_t i;
	int any;

	pw_keyring_init(&kr);
	for (i = 0; i < n && !kr.overflow; i++) {
		if (secrets[i].ptr != NULL) {
			pw_keyring_add_list(&kr, secrets[i].ptr, secrets[i].len);
		}                                 /* overflow: pw_handle says */
	}
	pw_handle(ctx, &kr, req, res);
	any = kr.count > 0 || kr.overflow;
	pw_keyring_wipe(&kr);
	return any;
}

/*
 * As kit_verify, for an adapter whose secrets are the one setting
 * `secret`, which it calls `prefix` `name` (settings.h): a refusal for
 * want of any secret ends by naming that setting, "no endpoint secret is
 * configured (PANORA_WEBHOOK_SECRET)". The sentence is in static memory,
 * one at a time.
 */
static inline void
kit_verify_setting(pw_context *ctx, pw_span secret, const char *prefix,
	const char *name, const pw_request *req, pw_result *res)
{
	static char sentence[128];
	bufsink b = { NULL, 0, 0, sizeof sentence - 1, sentence };

	if (kit_verify(ctx, &secret, 1, req, res) == 0
		&& res->status == PW_ERR_NO_SECRET)
	{
		bufsink_puts(&b, res->message);
		bufsink_puts(&b, " (");
		bufsink_puts(&b, prefix);
		bufsink_puts(&b, name);
		bufsink_puts(&b, ")");
		sentence[b.len < b.cap ? b.len : b.cap] = '\0';
		res->message = sentence;
	}
}

#define KIT_CACHE_CONTROL "no-store"      /* on every answer */

/* The head of the answer to `res`; each adapter writes it its host's way,
   with Cache-Control: KIT_CACHE_CONTROL. */
typedef struct {
	unsigned status;          /* the HTTP status code                  */
	const char *reason;       /* its reason phrase                     */
	const char *content_type;
	int receipt;              /* the body is the plain-text receipt    */
	int allow_post;           /* a 405: the answer says Allow: POST    */
} kit_head;

/* `receipts`: whether a 2xx is answered with the receipt (every adapter
   but a WAGI module invoked directly, whose caller gets the JSON). */
static inline kit_head
kit_head_of(const pw_result *res, int receipts)
{
	kit_head h;

	h.status = pw_status_http(res->status);
	h.reason = pw_status_reason(res->status);
	h.receipt = receipts && pw_status_ok(res->status);
	h.content_type = h.receipt ? "text/plain; charset=utf-8" : "application/json";
	h.allow_post = res->status == PW_ERR_METHOD_NOT_ALLOWED;
	return h;
}

/* The answer's body into `o`, flushed: the receipt (its last word(s)
   `kept`), or the JSON body and a newline. */
static inline void
kit_write_body(const kit_head *h, const pw_result *res, const char *kept,
	bufsink *o)
{
	if (h->receipt) {
		pw_write_receipt(res, kept, bufsink_write, o);
	} else {
		pw_write_response(res, bufsink_write, o);
		bufsink_puts(o, "\n");
	}
	bufsink_flush(o);
}

/* ------------------------------------------------------------------ */
/* Canonical ABI                                                        */
/* ------------------------------------------------------------------ */

/* string and list<u8>: {ptr, len}, two i32 in wasm32; the same shape as
   pw_span, so a span crosses as it is */
typedef pw_span cabi_str;

/*
 * cabi_realloc over a bump arena of `size` bytes at `base`, `*used` of
 * them taken. Growing the newest block happens in place. Traps (the
 * canonical ABI's only way to refuse) when the arena cannot hold the
 * request.
 */
static inline void *
cabi_bump(unsigned char *base, size_t size, size_t *used, void *old,
	size_t old_size, size_t align, size_t new_size)
{
	size_t at;

	if (align == 0 || (align & (align - 1)) != 0) {
		__builtin_trap();
	}
	if (old != NULL && (unsigned char *)old + old_size == base + *used
		&& new_size >= old_size && new_size - old_size <= size - *used)
	{
		*used += new_size - old_size;
		return old;
	}
	at = (*used + align - 1) & ~(align - 1);
	if (at > size || new_size > size - at) {
		__builtin_trap();
	}
	*used = at + new_size;
	if (old != NULL) {
		memcpy(base + at, old, old_size < new_size ? old_size : new_size);
	}
	return base + at;
}

/* Is the header name (ptr, len) `lower`, in any ASCII case? (The core's
   one case-insensitive compare.) */
static inline int
cabi_name_is(const char *ptr, size_t len, const char *lower)
{
	return len == strlen(lower) && pw_prefix_nocase(ptr, len, lower);
}

/*
 * Take one request header into `req`: Panora-Signature and Content-Type
 * are kept, any other is ignored, and a second one of either is marked in
 * req->repeated for pw_handle to refuse. `seen` starts at 0 per request.
 */
static inline void
cabi_note_header(pw_request *req, unsigned *seen, const char *name,
	size_t name_len, const char *value, size_t value_len)
{
	unsigned bit;
	pw_span *dst;

	if (cabi_name_is(name, name_len, "panora-signature")) {
		bit = PW_REPEATED_SIGNATURE;
		dst = &req->signature;
	} else if (cabi_name_is(name, name_len, "content-type")) {
		bit = PW_REPEATED_CONTENT_TYPE;
		dst = &req->content_type;
	} else {
		return;
	}
	req->repeated |= *seen & bit;
	*seen |= bit;
	dst->ptr = value;
	dst->len = value_len;
}

#endif
