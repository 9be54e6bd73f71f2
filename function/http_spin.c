/*
 * http_spin.c -- the Spin flavour of the wasi:http component
 * (build/panora-webhook-spin.wasm): its settings are Spin variables
 * (wasi:config/store, each one mapped in deploy/spin/spin.toml), and a
 * captured record is kept in the key-value store "default" (store.c) and,
 * when panora_webhook_forward_url is set, forwarded too. Panora gets its
 * 2xx only once every configured sink has the record.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

/* see http.h: every setting the Spin flavour reads, by its variable name */
void
flavour_settings(kit_settings *s)
{
	kit_spin_load(s, READ_SPIN);
}

/* see http.h */
const kit_naming flavour_naming = KIT_SPIN_NAMING;

/* see http.h */
const char *
flavour_keep(pw_result *res, const kit_settings *s)
{
	sink_result st = store_record(res), fwd;

	if (st == SINK_FAILED) {
		return NULL;
	}
	fwd = forward_record(res, &s->forward);
	if (fwd == SINK_FAILED) {
		return NULL;
	}
	if (fwd == SINK_KEPT) {
		return st == SINK_KEPT ? "new forwarded" : "known forwarded";
	}
	return st == SINK_KEPT ? "new" : "known";
}
