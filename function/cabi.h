/*
 * cabi.h -- what the canonical-ABI adapters (component.c, http.c) share:
 * the bump arena behind their cabi_realloc, and reading request headers.
 */
#ifndef PW_CABI_H
#define PW_CABI_H

#include <stddef.h>
#include <string.h>

#include "panora_webhook.h"

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
