/*
 * catchup_spin.c -- the catch-up command's Spin flavour
 * (build/panora-webhook-catchup-spin.wasm, wit/http/catchup-spin.wit), for
 * Spin's command trigger: settings from Spin variables, each recovered
 * connection written to Spin's key-value store "default" as the webhook
 * path writes it. The run itself is catchup.c (catchup.h says who does
 * what).
 *
 *   spin up -f deploy/spin/catchup.toml --runtime-config-file FILE
 *
 * Settings: those settings.h marks READ_CATCHUP_SPIN, as Spin variables
 * (wasi:config/store, read as http_spin.c reads its own): the API key
 * (required), the API URL, and the forward (optional, exactly as the HTTP
 * Spin flavour has it).
 *
 * A connection whose connection/<id_connection> key the store already has
 * (written by the webhook path or by an earlier run) is left untouched
 * and not forwarded: steady-state runs write and send nothing. One the
 * store lacks is forwarded first, when a forward is set, and then written
 * through store.c's store_record: the linked-user index, then the record.
 * So a record in the store has been forwarded; a run that fails between
 * the two sends it again next time, under the same webhook-id, and a
 * backend that deduplicates on it sees it once. The first connection that
 * cannot be forwarded or written ends the run with a non-zero exit; what
 * was written before it stays, whole.
 *
 * There is no window and no high-water mark: the store is the record of
 * what is known, so a first run writes every connection it lacks, however
 * old. Each listed connection costs one `exists` on the store.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "catchup.h"


/* see catchup.h: the forward is optional, the store counts */
const catchup_flavour catchup_this = { KIT_SPIN_NAMING, 0, 1 };

/* see catchup.h */
void
catchup_load(kit_settings *s)
{
	kit_spin_load(s, READ_CATCHUP_SPIN);
}

/* see catchup.h: nothing more to check */
catchup_failure
catchup_prepare(const kit_settings *s, uint64_t now)
{
	(void)s;
	(void)now;
	return catchup_fine;
}

/* see catchup.h: known, or forwarded (when set) and then written */
catchup_failure
catchup_take(const kit_settings *s, pw_result *res, catchup_tally *t)
{
	sink_result st;

	t->recovered++;
	st = store_lookup(res);
	if (st == SINK_KNOWN) {
		t->known++;
		return catchup_fine;
	}
	if (st == SINK_FAILED) {
		return catchup_fail("the key-value store could not be read", res->message);
	}
	switch (forward_record(res, &s->forward)) {
	case SINK_KEPT:
		t->forwarded++;
		break;
	case SINK_NONE:
		break;
	default:
		return catchup_fail("the backend did not accept a forward", res->message);
	}
	st = store_record(res);
	if (st == SINK_FAILED) {
		return catchup_fail("the key-value store did not take a connection",
			res->message);
	}
	if (st == SINK_KEPT) {
		t->stored++;
	} else {
		t->known++;                      /* the webhook path was first */
	}
	return catchup_fine;
}

/* see catchup.h */
catchup_failure
catchup_done(uint64_t listed_at)
{
	(void)listed_at;
	return catchup_fine;
}

/* see catchup.h */
void
catchup_end(void)
{
}
