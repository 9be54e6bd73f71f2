/*
 * settings.h -- every run-time setting of the adapters, in one list: the
 * member of kit_settings it fills, its environment name, its Spin
 * variable name, which artifacts read it, and what it means. The loaders
 * (wagi.c, kit_env_load for the wasi:http component and the catch-up
 * command, kit_spin_load in variables.c for both Spin flavours) and the
 * sentences that name a setting are generated from it, and so is the
 * README's settings table (scripts/settings.mjs, checked by
 * tests/http/settings.test.mjs).
 *
 * An empty value is an unset one, in every loader.
 *
 * Header-only (static inline), like kit.h.
 */
#ifndef PW_SETTINGS_H
#define PW_SETTINGS_H

#include <stddef.h>
#include <string.h>

#include "panora_webhook.h"
#include "kit.h"
#include "sinks.h"

/* Who reads a setting (the `readers` column). */
#define READ_WAGI         1u   /* build/panora-webhook.wasm, the environment   */
#define READ_HTTP         2u   /* build/panora-webhook-http.wasm, the environment */
#define READ_SPIN         4u   /* build/panora-webhook-spin.wasm, Spin variables */
#define READ_CATCHUP      8u   /* build/panora-webhook-catchup.wasm, the environment */
#define READ_CATCHUP_SPIN 16u  /* build/panora-webhook-catchup-spin.wasm, Spin variables */

/* X(member, environment name, Spin variable, readers, meaning) */
#define PW_SETTINGS(X) \
	X(secret, "PANORA_WEBHOOK_SECRET", "panora_webhook_secret", \
		READ_WAGI | READ_HTTP | READ_SPIN, \
		"the endpoint secret; a comma-separated list during rotation (every " \
		"entry is tried, in constant time; blanks around entries are trimmed, " \
		"empty entries ignored; at most 8)") \
	X(max_body, "PANORA_WEBHOOK_MAX_BODY", "panora_webhook_max_body", \
		READ_WAGI | READ_HTTP | READ_SPIN, \
		"lowers the body limit at run time (bytes); not a number: the limit stays") \
	X(forward.url, "PANORA_WEBHOOK_FORWARD_URL", "panora_webhook_forward_url", \
		READ_HTTP | READ_SPIN | READ_CATCHUP | READ_CATCHUP_SPIN, \
		"the forward sink: the URL of your backend (the forward, above)") \
	X(forward.secret, "PANORA_WEBHOOK_FORWARD_SECRET", "panora_webhook_forward_secret", \
		READ_HTTP | READ_SPIN | READ_CATCHUP | READ_CATCHUP_SPIN, \
		"the forward's signing secret, `whsec_` and base64") \
	X(forward.timeout_ms, "PANORA_WEBHOOK_FORWARD_TIMEOUT_MS", \
		"panora_webhook_forward_timeout_ms", \
		READ_HTTP | READ_SPIN | READ_CATCHUP | READ_CATCHUP_SPIN, \
		"the longest wait for the backend's answer, 100 to 10000 ms (default 10000)") \
	X(api_key, "PANORA_API_KEY", "panora_api_key", READ_CATCHUP | READ_CATCHUP_SPIN, \
		"the catch-up's Panora API key (required there; the catch-up, below)") \
	X(api_url, "PANORA_API_URL", "panora_api_url", READ_CATCHUP | READ_CATCHUP_SPIN, \
		"Panora's API, default `https://api.panora.dev`") \
	X(window_s, "PANORA_WEBHOOK_CATCHUP_WINDOW_S", "panora_webhook_catchup_window_s", \
		READ_CATCHUP, \
		"the catch-up forwards connections created this many seconds back " \
		"(default 86400; 0 = all)")

/* What the loaders fill: the raw values, NULL when unset. */
typedef struct {
	pw_span secret;          /* the endpoint secret list              */
	pw_span max_body;        /* lowers the body limit                 */
	forward_config forward;
	pw_span api_key;         /* the catch-up command's                */
	pw_span api_url;
	pw_span window_s;
} kit_settings;

#define PW_X_COUNT(m, env, spin, readers, meaning) + 1
_Static_assert(sizeof(kit_settings) == (0 PW_SETTINGS(PW_X_COUNT)) * sizeof(pw_span),
	"every member of kit_settings is in PW_SETTINGS, once");
#undef PW_X_COUNT

typedef struct {
	const char *name;        /* the environment or Spin name          */
	unsigned readers;
	size_t off;              /* of the member in kit_settings         */
} kit_setting;

#define PW_X_ENV(m, env, spin, readers, meaning) \
	{ env, readers, offsetof(kit_settings, m) },
#define PW_X_SPIN(m, env, spin, readers, meaning) \
	{ spin, readers, offsetof(kit_settings, m) },
static const kit_setting kit_env_settings[] = { PW_SETTINGS(PW_X_ENV) };
static const kit_setting kit_spin_settings[] = { PW_SETTINGS(PW_X_SPIN) };
#undef PW_X_ENV
#undef PW_X_SPIN

#define KIT_SETTINGS_COUNT (sizeof kit_env_settings / sizeof kit_env_settings[0])

/* The member `t` names. */
static inline pw_span *
kit_setting_at(kit_settings *s, const kit_setting *t)
{
	return (pw_span *)(void *)((char *)s + t->off);
}

/*
 * Take one environment variable: when (name, name_len) is the
 * environment name of a setting `reader` reads, and the value is not
 * empty, that setting is the value (a span into the caller's memory).
 */
static inline void
kit_setting_take(kit_settings *s, unsigned reader, const char *name,
	size_t name_len, const char *value, size_t value_len)
{
	size_t i;

	for (i = 0; i < KIT_SETTINGS_COUNT; i++) {
		const kit_setting *t = &kit_env_settings[i];

		if ((t->readers & reader) && value_len > 0
			&& name_len == strlen(t->name) && memcmp(name, t->name, name_len) == 0)
		{
			kit_setting_at(s, t)->ptr = value;
			kit_setting_at(s, t)->len = value_len;
		}
	}
}

/*
 * The environment name (kit_env_name) or Spin variable name
 * (kit_spin_name) of the member at `off` of kit_settings, for a sentence
 * that names the setting; NULL when no setting is there. Called with a
 * constant `off`, KIT_ENV_NAME(secret) folds to that one name (the WAGI
 * module carries no other); a flavour that keeps the function's address
 * (KIT_ENV_NAMING) links every name.
 */
#define PW_X_ENV_IF(m, env, spin, readers, meaning) \
	off == offsetof(kit_settings, m) ? env :
#define PW_X_SPIN_IF(m, env, spin, readers, meaning) \
	off == offsetof(kit_settings, m) ? spin :
static inline const char *
kit_env_name(size_t off)
{
	return PW_SETTINGS(PW_X_ENV_IF) NULL;
}
static inline const char *
kit_spin_name(size_t off)
{
	return PW_SETTINGS(PW_X_SPIN_IF) NULL;
}
#undef PW_X_ENV_IF
#undef PW_X_SPIN_IF
#define KIT_ENV_NAME(member) kit_env_name(offsetof(kit_settings, member))
#define KIT_SPIN_NAME(member) kit_spin_name(offsetof(kit_settings, member))

/* How a flavour names one of its settings in a sentence: `prefix`, then
   name(offset of its member). */
typedef struct {
	const char *prefix;
	const char *(*name)(size_t off);
} kit_naming;

#define KIT_ENV_NAMING  { "", kit_env_name }
#define KIT_SPIN_NAMING { "the Spin variable ", kit_spin_name }

#ifdef __wasm__
IMPORT("wasi:cli/environment@0.2.0", "get-environment")
void get_environment(void *ret);

/* The settings `reader` reads, from the environment (wasi:cli/
   environment): the wasi:http component's and the catch-up command's
   loader. The values stay where the host put them (the arena). */
static inline void
kit_env_load(kit_settings *s, unsigned reader)
{
	struct { cabi_str *ptr; size_t len; } env;   /* list<tuple<string, string>> */
	size_t i;

	get_environment(&env);
	for (i = 0; i < env.len; i++) {
		const cabi_str *name = &env.ptr[2 * i], *value = name + 1;

		kit_setting_take(s, reader, name->ptr, name->len, value->ptr,
			value->len);
	}
}
#endif

/* variables.c: the settings `reader` reads, from Spin variables (their
   Spin names; unset, empty or unreadable is unset): both Spin flavours'
   loader. The values land in the arena. */
void kit_spin_load(kit_settings *s, unsigned reader);

#endif
