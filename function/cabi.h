/*
 * cabi.h -- what the canonical-ABI adapters (component.c, http.c) share:
 * the bump arena behind their cabi_realloc, and header-name matching.
 */
#ifndef PW_CABI_H
#define PW_CABI_H

#include <stddef.h>
#include <string.h>

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

#endif
