/*
 * pw_internal.h -- helpers shared by the files of lib/, not part of the API.
 */
#ifndef PW_INTERNAL_H
#define PW_INTERNAL_H

#include "panora_webhook.h"

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

#endif
