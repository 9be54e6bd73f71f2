/*
 * arena.h -- the request arena of a canonical-ABI component: one bump
 * arena over static memory, behind cabi_realloc. Every list or string the
 * host hands over lands there; the sinks take their scratch from it with
 * http_rest and http_take. The component resets `arena_used` when a
 * request (or a chunk) starts and wipes what it used when it ends.
 *
 * HTTP_ARENA(size) defines the arena (`arena`, `arena_used`, both static)
 * and the three functions below, once per component, in its main file.
 */
#ifndef PW_ARENA_H
#define PW_ARENA_H

#include <stddef.h>

#include "kit.h"

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);

/* The arena's free space: where the next allocation starts, and, in
   `*cap`, how much there is. Nothing is claimed until http_take: the host
   may allocate there in between. */
char *http_rest(size_t *cap);

/* Claim the first `n` bytes (n <= *cap) of what http_rest returned. */
void http_take(size_t n);

#define HTTP_ARENA(size)                                                 \
	static unsigned char arena[size] __attribute__((aligned(16)));       \
	static size_t arena_used;                                            \
	void *cabi_realloc(void *old, size_t old_size, size_t align,         \
		size_t new_size)                                                 \
	{                                                                    \
		return cabi_bump(arena, size, &arena_used, old, old_size, align, \
			new_size);                                                   \
	}                                                                    \
	char *http_rest(size_t *cap)                                         \
	{                                                                    \
		*cap = (size) - arena_used;                                      \
		return (char *)arena + arena_used;                               \
	}                                                                    \
	void http_take(size_t n)                                             \
	{                                                                    \
		arena_used += n;                                                 \
	}

#endif
