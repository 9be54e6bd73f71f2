/*
 * catchup.h -- the two halves of a catch-up command (wasi:cli/run@0.2.0).
 *
 * catchup.c is the run, the same in every flavour: the checks of the API
 * and forward settings, GET /connections with the API key, the answer read
 * as it arrives through pw_catchup, the summary and reason lines and the
 * exit status. A flavour file says where the settings come from and what
 * becomes of each recovered connection, by defining the functions below:
 *
 *   catchup_env.c   build/panora-webhook-catchup.wasm (wit/http/catchup.wit):
 *                   settings from the environment; each connection created
 *                   within the window, or since the high-water mark in a
 *                   preopened directory, is forwarded
 *   catchup_spin.c  build/panora-webhook-catchup-spin.wasm
 *                   (wit/http/catchup-spin.wit): settings from Spin
 *                   variables; each connection Spin's key-value store lacks
 *                   is written there as the webhook path writes it
 *                   (store.c), and forwarded first when a forward is set
 *
 * The run calls them in this order: catchup_load, (its own checks),
 * catchup_prepare, catchup_take for each record, catchup_done after a
 * wholly good run, catchup_end always.
 */
#ifndef PW_CATCHUP_ADAPTER_H
#define PW_CATCHUP_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Why the run failed: a static sentence and, optionally, a static detail
   (a sentence of pw_catchup's, forward.c's or store.c's). reason NULL: no
   failure. */
typedef struct {
	const char *reason;
	const char *detail;
} catchup_failure;

/* The counts of the summary line. */
typedef struct {
	uint64_t listed;       /* elements of the list                    */
	uint64_t recovered;    /* records decoded from them               */
	uint64_t stored;       /* written to the store (Spin)             */
	uint64_t known;        /* the store had them already (Spin)       */
	uint64_t forwarded;    /* accepted by the backend                 */
	uint64_t skipped;      /* elements that gave no record            */
	uint64_t outside;      /* older than the window or the mark       */
} catchup_tally;

/* What the shared part needs to know of the settings. Spans into the
   arena; a NULL api_url means the default. */
typedef struct {
	pw_span api_key;
	pw_span api_url;
	forward_config forward;
} catchup_settings;

/* The flavour's sentences, naming its own settings, and what it counts. */
typedef struct {
	const char *no_key, *bad_url, *not_https, *long_path;
	const char *no_forward;     /* NULL: a forward is optional          */
	const char *bad_forward_url, *bad_forward_secret;
	int store;                  /* 1: the summary has stored and known  */
} catchup_flavour;

/* The sentences, with the flavour's names for its settings put in. */
#define CATCHUP_API_SENTENCES(KEY, URL) \
	KEY " is not set", \
	URL " is not an absolute http or https base URL without a query", \
	URL " must be https (http only to a loopback address, for a " \
		"self-hosted Panora)", \
	URL "'s path is too long"
#define CATCHUP_FORWARD_SENTENCES(FURL, FSECRET) \
	FURL " is not an absolute http or https URL", \
	FSECRET " is not whsec_ and the base64 of 16 to 64 bytes"

/* ------------------------------------------------------------------ */
/* catchup.c, for the flavours                                          */
/* ------------------------------------------------------------------ */

/* A failure of `reason` (and `detail`, or NULL); catchup_fine: none. */
catchup_failure catchup_fail(const char *reason, const char *detail);
extern const catchup_failure catchup_fine;

/* The wall clock, in unix seconds. */
uint64_t catchup_wall_seconds(void);

/* ------------------------------------------------------------------ */
/* The flavour                                                          */
/* ------------------------------------------------------------------ */

extern const catchup_flavour catchup_this;

/* Fill `s` (zeroed) from the flavour's configuration source; set up
   whatever else the flavour reads later. Cannot fail: an unusable
   setting is refused by the checks that follow. */
void catchup_load(catchup_settings *s);

/* The flavour's own checks before anything is listed, at `now`. */
catchup_failure catchup_prepare(uint64_t now);

/* One recovered connection (a PW_CAPTURED `res`, its spans valid for this
   call only): keep it as the flavour does, counting in `t`. A failure
   ends the run. Scratch taken from the arena is released after the call. */
catchup_failure catchup_take(const catchup_settings *s, pw_result *res,
	catchup_tally *t);

/* After a wholly good run, listed at `listed_at`. */
catchup_failure catchup_done(uint64_t listed_at);

/* Release and wipe the flavour's state; always called, last. */
void catchup_end(void);

#endif
