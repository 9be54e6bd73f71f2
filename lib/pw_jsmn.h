/*
 * pw_jsmn.h -- the one place jsmn's configuration is fixed.
 *
 * JSMN_STRICT: primitives are numbers, true, false, null only.
 * JSMN_PARENT_LINKS: every token knows its parent, so closing brackets
 * and commas cost O(1) instead of a backwards scan (linear on any input).
 *
 * Every file but pw_json.c sees declarations only; pw_json.c defines
 * PW_JSMN_IMPL first and gets jsmn's functions as file-local statics.
 */
#ifndef PW_JSMN_H
#define PW_JSMN_H

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifdef PW_JSMN_IMPL
#define JSMN_STATIC
#else
#define JSMN_HEADER
#endif
#include <jsmn.h>

#endif
