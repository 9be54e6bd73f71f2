/*
 * sinks.h -- where a captured record goes after pw_handle: the forward
 * (forward.c, every wasi:http component and the catch-up command) and the
 * key-value store (store.c, the Spin flavour). Each takes the capture in
 * `res` and, when it cannot keep it, turns `res` into the refusal.
 */
#ifndef PW_SINKS_H
#define PW_SINKS_H

#include "panora_webhook.h"

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
 * cannot work) or 503 sink_failed (a failure that can heal: the record is
 * not acknowledged).
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

/* variables.c (the Spin flavours): the Spin variable `name` (wasi:config/
   store get), or a NULL span when it is unset, empty or unreadable. Its
   value lands in the arena. */
pw_span spin_variable(const char *name);

#endif
