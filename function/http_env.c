/*
 * http_env.c -- the portable flavour of the wasi:http component
 * (build/panora-webhook-http.wasm, for wasmtime serve and any wasi:http
 * host): its settings come from the environment (wasi:cli/environment),
 * and its one sink is the forward. With no forward URL a capture is not
 * acknowledged: 500 no_sink (the catch-up command brings it back).
 */
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* see http.h */
void
flavour_settings(kit_settings *s)
{
	kit_env_load(s, READ_HTTP);
}

/* see http.h */
const kit_naming flavour_naming = KIT_ENV_NAMING;

/* see http.h */
const char *
flavour_keep(pw_result *res, const kit_settings *s)
{
	sink_result fwd = forward_record(res, &s->forward);

	if (fwd == SINK_NONE) {
		kit_refuse(res, PW_ERR_NO_SINK, "no sink is configured for captured "
			"records (PANORA_WEBHOOK_FORWARD_URL), so it is not acknowledged");
	}
	return fwd == SINK_KEPT ? "forwarded" : NULL;
}
