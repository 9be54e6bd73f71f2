/*
 * http.h -- what the files of a wasi:http component share: the canonical
 * ABI (abi.h), the request arena (arena.h), the record's sinks (sinks.h)
 * and the settings (settings.h); and what a flavour of the incoming
 * handler (http.c) supplies: http_env.c for the portable component,
 * http_spin.c for the Spin one.
 */
#ifndef PW_HTTP_H
#define PW_HTTP_H

#include "panora_webhook.h"
#include "pw_forward.h"
#include "abi.h"
#include "arena.h"
#include "settings.h"
#include "sinks.h"

/* ------------------------------------------------------------------ */
/* A flavour of the incoming handler                                    */
/* ------------------------------------------------------------------ */

/* Fill `s` (all NULL on entry) from the flavour's configuration. The
   values may live in the arena. */
void flavour_settings(kit_settings *s);

/* How the flavour names its settings (KIT_ENV_NAMING, KIT_SPIN_NAMING). */
extern const kit_naming flavour_naming;

/*
 * Hand the captured record in `res` to the flavour's sinks. Returns the
 * receipt's last word(s) ("forwarded", "new", ...), or NULL when `res`
 * has become the refusal.
 */
const char *flavour_keep(pw_result *res, const kit_settings *s);

#endif
