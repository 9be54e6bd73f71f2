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

/* Why the run failed: a static sentence, after the name of the setting
   it is about (when `setting` is not NULL), and optionally a static
   detail (a sentence of pw_catchup's, forward.c's or store.c's). reason
   NULL: no failure. */
typedef struct {
	const char *setting;        /* the flavour's name for it, or NULL  */
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

/* What differs in how the flavours' runs go. */
typedef struct {
	kit_naming naming;          /* how it names its settings            */
	int forward_required;       /* 0: a forward is optional             */
	int store;                  /* 1: the summary has stored and known  */
} catchup_flavour;

/* ------------------------------------------------------------------ */
/* catchup.c, for the flavours                                          */
/* ------------------------------------------------------------------ */

/* The one verb of a catch-up stage, by these names in every file: a
   failure of `reason` (and `detail`, or NULL); catchup_fine: none. */
catchup_failure catchup_fail(const char *reason, const char *detail);
extern const catchup_failure catchup_fine;

/* A failure of the kit_settings `member`: its name in the flavour's
   words, then `reason` (" is not set", ...). */
#define catchup_fail_setting(member, reason) \
	catchup_fail_at(offsetof(kit_settings, member), reason)
catchup_failure catchup_fail_at(size_t off, const char *reason);

/* The wall clock, in unix seconds. */
uint64_t catchup_wall_seconds(void);

/* ------------------------------------------------------------------ */
/* The flavour                                                          */
/* ------------------------------------------------------------------ */

extern const catchup_flavour catchup_this;

/* Fill `s` (zeroed) with the settings the flavour reads (settings.h), by
   the kit's loader for its source; set up whatever else it reads later.
   Cannot fail: an unusable setting is refused by the checks that follow. */
void catchup_load(kit_settings *s);

/* The flavour's own checks of `s` before anything is listed, at `now`. */
catchup_failure catchup_prepare(const kit_settings *s, uint64_t now);

/* One recovered connection (a PW_CAPTURED `res`, its spans valid for this
   call only): keep it as the flavour does, counting in `t`. A failure
   ends the run. Scratch taken from the arena is released after the call. */
catchup_failure catchup_take(const kit_settings *s, pw_result *res,
	catchup_tally *t);

/* After a wholly good run, listed at `listed_at`. */
catchup_failure catchup_done(uint64_t listed_at);

/* Release and wipe the flavour's state; always called, last. */
void catchup_end(void);

#endif
