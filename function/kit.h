/*
 * kit.h -- what every adapter in function/ shares: the export and import
 * attributes, the refusal an adapter makes itself, strict size parsing,
 * and, for the canonical-ABI adapters (component.c, http.c), the string
 * type, the bump arena behind cabi_realloc and request-header matching.
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

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(module, name) \
	__attribute__((import_module(module), import_name(name)))

/* ------------------------------------------------------------------ */
/* Refusals and sizes                                                   */
/* ------------------------------------------------------------------ */

/*
 * Make `res` a refusal with status `st`: no record, no metadata, and
 * `message` (a static sentence), or the status table's own when NULL.
 */
static inline void
kit_refuse(pw_result *res, pw_status st, const char *message)
{
	memset(res, 0, sizeof *res);
	res->status = st;
	res->message = message != NULL ? message : pw_status_message(st);
}

/*
 * As kit_refuse, but keep the verified delivery's id_event and type for
 * the log: for a capture that its sinks could not keep.
 */
static inline void
kit_unkept(pw_result *res, pw_status st, const char *message)
{
	pw_span id_event = res->id_event, type = res->type;

	kit_refuse(res, st, message);
	res->id_event = id_event;
	res->type = type;
}

/* How reading a request body ended, in every adapter. */
typedef enum {
	KIT_BODY_OK = 0,
	KIT_BODY_TOO_LARGE = -1,  /* more than the limit: reading stopped      */
	KIT_BODY_SHORT = -2,      /* fewer bytes than the length announced     */
	KIT_BODY_ERROR = -3       /* the host could not give the body          */
} kit_body;

/* The refusal for a body that did not read KIT_BODY_OK. */
static inline void
kit_refuse_body(pw_result *res, kit_body r)
{
	if (r == KIT_BODY_TOO_LARGE) {
		kit_refuse(res, PW_ERR_PAYLOAD_TOO_LARGE, NULL);
	} else {
		kit_refuse(res, PW_ERR_MALFORMED_REQUEST, r == KIT_BODY_SHORT
			? "body is shorter than CONTENT_LENGTH" : "the body could not be read");
	}
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
/* Canonical ABI                                                        */
/* ------------------------------------------------------------------ */

/* string and list<u8>: {ptr, len}, two i32 in wasm32 */
typedef struct {
	const char *ptr;
	size_t len;
} cabi_str;

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

/* Is the header name (ptr, len) `lower`, in any ASCII case? */
static inline int
cabi_name_is(const char *ptr, size_t len, const char *lower)
{
	size_t i, n = strlen(lower);

	if (len != n) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = ptr[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c + 32);
		}
		if (c != lower[i]) {
			return 0;
		}
	}
	return 1;
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
