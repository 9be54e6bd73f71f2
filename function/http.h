/*
 * http.h -- what the files of the wasi:http component share: http.c (the
 * incoming-handler glue), forward.c (the Standard Webhooks forward) and,
 * in the Spin flavour, store.c (the key-value store).
 *
 * Memory is one bump arena per request (http.c), reset when a request
 * starts and wiped when it ends; every list or string the host hands over
 * lands there through cabi_realloc, and the sinks take their scratch from
 * it with http_rest and http_take.
 */
#ifndef PW_HTTP_H
#define PW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "panora_webhook.h"
#include "pw_forward.h"
#include "bufsink.h"
#include "kit.h"

#define HTTP "wasi:http/types@0.2.0"
#define IO   "wasi:io/streams@0.2.0"

/* ------------------------------------------------------------------ */
/* Canonical ABI shapes used by more than one file                      */
/* ------------------------------------------------------------------ */

typedef struct {
	cabi_str name, value;                 /* tuple<string, list<u8>>   */
} cabi_entry;

typedef struct {                          /* result<own<T>, _>         */
	uint8_t is_err;
	int32_t handle;
} cabi_handle_result;

/* result<T, E> for the small T and E the Spin imports return: the payload
   starts at offset 4, the alignment of its widest case. */
typedef struct {
	uint8_t is_err;
	union {
		struct { uint8_t is_some; cabi_str s; } opt;  /* option<string|list> */
		uint8_t flag;                                 /* bool              */
		int32_t handle;                               /* own<T>            */
		struct { uint8_t tag; cabi_str s; } err;      /* error variants    */
	} u;
} cabi_result;

_Static_assert(offsetof(cabi_result, u) == 4, "result payload at 4");
_Static_assert(offsetof(cabi_result, u.opt.s) == 8, "option payload at 8");

/* ------------------------------------------------------------------ */
/* Imports more than one file calls                                     */
/* ------------------------------------------------------------------ */

IMPORT(HTTP, "[static]fields.from-list")
void http_fields_from_list(const cabi_entry *entries, size_t n, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write")
void http_outbody_write(int32_t body, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish")
void http_outbody_finish(int32_t body, int32_t has_trailers, int32_t trailers,
	void *ret);
IMPORT(IO, "[resource-drop]output-stream")
void http_drop_output_stream(int32_t h);

/* outgoing-body.finish's result<_, error-code>: 8-byte aligned, and as
   wide as error-code's largest case */
typedef struct {
	uint8_t is_err;
	uint8_t pad[7];
	uint64_t payload[8];
} http_finish_result;

/* ------------------------------------------------------------------ */
/* http.c                                                               */
/* ------------------------------------------------------------------ */

/* The arena's free space: where the next allocation starts, and, in
   `*cap`, how much there is. Nothing is claimed until http_take: the host
   may allocate there in between. */
char *http_rest(size_t *cap);

/* Claim the first `n` bytes (n <= *cap) of what http_rest returned. */
void http_take(size_t n);

/* ------------------------------------------------------------------ */
/* streams.c (every component, the catch-up command too)                */
/* ------------------------------------------------------------------ */

/* A bufsink `send` for a wasi:io output stream (`target`); the buffer
   MUST hold at most 4096 bytes, what one blocking write may carry. A
   failed write is remembered in `http_stream_failed`. */
void http_send_stream(bufsink *b);
extern int http_stream_failed;

/* ------------------------------------------------------------------ */
/* The sinks                                                            */
/* ------------------------------------------------------------------ */

/* Where a forward goes; a NULL `url` means no forward is configured. */
typedef struct {
	pw_span url;          /* PANORA_WEBHOOK_FORWARD_URL               */
	pw_span secret;       /* PANORA_WEBHOOK_FORWARD_SECRET, whsec_... */
	pw_span timeout_ms;   /* PANORA_WEBHOOK_FORWARD_TIMEOUT_MS        */
} forward_config;

typedef enum {
	SINK_KEPT = 1,        /* the sink has the record                 */
	SINK_KNOWN = 0,       /* it had it already (store only)          */
	SINK_NONE = -1,       /* not configured                          */
	SINK_FAILED = -2      /* it failed: `res` is now the refusal     */
} sink_result;

/*
 * forward.c: POST the captured record in `res` to cfg->url as a signed
 * Standard Webhooks message, and wait (within the timeout, at most 10 s)
 * for a 2xx. SINK_KEPT on a 2xx; SINK_NONE when no URL is set; else
 * SINK_FAILED, with `res` turned into 500 no_sink (a configuration that
 * cannot work) or 503 sink_failed (Panora will send it again).
 */
sink_result forward_record(pw_result *res, const forward_config *cfg);

/*
 * store.c (Spin): is the captured record in `res` (by id_connection) in
 * the key-value store "default"? SINK_KNOWN if it is, SINK_NONE if not;
 * SINK_FAILED (`res` now 503 storage_failed) if the store could not say
 * or store_record could not key it. Changes nothing in the store.
 */
sink_result store_lookup(pw_result *res);

/*
 * store.c (Spin): keep the captured record in the key-value store
 * "default", once per id_connection. SINK_KEPT if new, SINK_KNOWN if it
 * was there, SINK_FAILED (503 storage_failed) otherwise.
 */
sink_result store_record(pw_result *res);

/* ------------------------------------------------------------------ */
/* variables.c (the Spin flavours)                                      */
/* ------------------------------------------------------------------ */

/* The Spin variable `name` (wasi:config/store get), or a NULL span when
   it is unset, empty or unreadable. Its value lands in the arena. */
pw_span spin_variable(const char *name);

#endif
