/*
 * variables.c -- Spin variables, read through wasi:config/store
 * (@0.2.0-draft-2024-09-27, as Spin 3 provides it): the Spin flavours'
 * configuration source, for http_spin.c and catchup_spin.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

IMPORT("wasi:config/store@0.2.0-draft-2024-09-27", "get")
void config_get(const char *key, size_t len, void *ret);

/* see http.h */
pw_span
spin_variable(const char *name)
{
	cabi_result r;
	pw_span v = { NULL, 0 };

	config_get(name, strlen(name), &r);
	if (!r.is_err && r.u.opt.is_some && r.u.opt.s.len > 0) {
		v.ptr = r.u.opt.s.ptr;
		v.len = r.u.opt.s.len;
	}
	return v;
}

/* see settings.h */
void
kit_spin_load(kit_settings *s, unsigned reader)
{
	size_t i;

	for (i = 0; i < KIT_SETTINGS_COUNT; i++) {
		const kit_setting *t = &kit_spin_settings[i];
		pw_span v;

		if (!(t->readers & reader)) {
			continue;
		}
		v = spin_variable(t->name);
		if (v.ptr != NULL) {
			*kit_setting_at(s, t) = v;
		}
	}
}
