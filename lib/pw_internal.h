/*
 * pw_internal.h -- helpers shared by the files of lib/, not part of the API.
 */
#ifndef PW_INTERNAL_H
#define PW_INTERNAL_H

#include "panora_webhook.h"

/*
 * Constant-time validation (tests/ct): secrets are marked undefined for
 * valgrind memcheck, which then flags any branch or index that depends on
 * them. What the code deliberately treats as public -- where the commas of
 * a secret list are, hence each secret's length -- is declassified here.
 * Outside that check this is nothing.
 */
#ifdef PW_CT_VALIDATION
#include <valgrind/memcheck.h>
#define PW_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define PW_DECLASSIFY(p, n) ((void)0)
/*
 * "YYYY-MM-DDTHH:MM:SSZ" (20 bytes, no NUL) for `unix_seconds` in UTC, in
 * the proleptic Gregorian calendar (years up to 9999).
 */
void pw__iso8601(char out[20], uint64_t unix_seconds);

#endif

/*
 * Length of the well-formed UTF-8 sequence starting at p (p < end, *p >=
 * 0x80), or 0 if it is not one (overlong, surrogate, above U+10FFFF,
 * truncated, stray continuation byte).
 */
size_t pw__utf8_seq(const unsigned char *p, const unsigned char *end);

/*
 * pw_json_check, then jsmn over the same text into toks[PW_MAX_TOKENS].
 * Returns the token count or a pw_json_error.
 */
long pw__json_parse(jsmntok_t *toks, const char *js, size_t len);

/*
 * "YYYY-MM-DDTHH:MM:SSZ" (20 bytes, no NUL) for `unix_seconds` in UTC, in
 * the proleptic Gregorian calendar (years up to 9999).
 */
void pw__iso8601(char out[20], uint64_t unix_seconds);

#endif
