/*
 * catchup.c -- wasi:cli/run@0.2.0: one catch-up run, for cron
 * (wit/http/catchup.wit, build/panora-webhook-catchup.wasm).
 *
 *   wasmtime run -S http --env PANORA_API_KEY --env PANORA_WEBHOOK_FORWARD_URL \
 *       --env PANORA_WEBHOOK_FORWARD_SECRET build/panora-webhook-catchup.wasm
 *
 * Panora makes one delivery attempt of connection.created for six of its
 * seven verticals; a token whose delivery failed comes back only through
 * GET /connections. This command lists the project's connections from
 * PANORA_API_URL with the API key, reads the answer as it arrives through
 * pw_catchup (bounded memory: one element buffer and one read chunk,
 * never the list), and forwards each recovered connection created within
 * PANORA_WEBHOOK_CATCHUP_WINDOW_S to the backend, through forward.c: the
 * same Standard Webhooks message, under the same webhook-id, as the
 * wasi:http component sends for the same connection.
 *
 * Output: one summary line on stdout,
 *   {"outcome":"catch-up","listed":N,"recovered":K,"forwarded":F,
 *    "skipped":S,"outside_window":W}
 * ("catch-up-failed" when the run failed), and, on failure, one reason
 * line on stderr. Exit 0 only when every forward was accepted; the first
 * forward the backend does not accept ends the run (the rest wait for the
 * next one). No token, credential or secret is ever written.
 *
 * With a preopened state directory (`--dir`), a high-water mark there
 * replaces the window, so that an outage of any length is caught up by the
 * next successful run without re-forwarding everything (see "State").
 *
 * Waits are bounded: the API must answer within API_WAIT_S and never
 * stall for longer between two reads; each forward has its own timeout.
 *
 * Left out on purpose: retries within a run (cron is the retry), and
 * forwarding in parallel.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "outgoing.h"
#include "pw_catchup.h"

IMPORT("wasi:cli/environment@0.2.0", "get-environment")
void get_environment(void *ret);
IMPORT("wasi:cli/stdout@0.2.0", "get-stdout")
int32_t get_stdout(void);
IMPORT("wasi:cli/stderr@0.2.0", "get-stderr")
int32_t get_stderr(void);
IMPORT("wasi:cli/exit@0.2.0", "exit")
void cli_exit(int32_t is_err);

/* The longest the API may keep us waiting, for its answer and between
   two pieces of it. */
#define API_WAIT_S 30
#define NS_PER_S   1000000000ll
#define DEFAULT_API_URL "https://api.panora.dev"
#define DEFAULT_WINDOW_S 86400u

/* ------------------------------------------------------------------ */
/* Memory                                                               */
/* ------------------------------------------------------------------ */

/* The environment (the process's, under some hosts: large), then one read
   chunk and the forwards' host lists, reset after each chunk. */
#define CHUNK (64u * 1024u)
#define ARENA_SIZE (1024u * 1024u + 2u * CHUNK)

static unsigned char arena[ARENA_SIZE] __attribute__((aligned(16)));
static size_t arena_used;
static unsigned char element[PW_CATCHUP_ELEMENT_MAX];
static pw_catchup list;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);

void *
cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
	return cabi_bump(arena, ARENA_SIZE, &arena_used, old, old_size, align,
		new_size);
}

/* see http.h: forward.c takes its scratch here too */
char *
http_rest(size_t *cap)
{
	*cap = ARENA_SIZE - arena_used;
	return (char *)arena + arena_used;
}

/* see http.h */
void
http_take(size_t n)
{
	arena_used += n;
}

/* ------------------------------------------------------------------ */
/* The run's state                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
	pw_span api_key;         /* PANORA_API_KEY (required)             */
	pw_span api_url;         /* PANORA_API_URL                         */
	pw_span window_s;        /* PANORA_WEBHOOK_CATCHUP_WINDOW_S        */
	forward_config forward;
} config;

typedef struct {
	uint64_t listed, recovered, forwarded, skipped, outside;
} tally;

/* Why the run failed: a static sentence and, optionally, a static detail
   (a sentence of pw_catchup's or forward.c's). */
typedef struct {
	const char *reason;
	const char *detail;
} failure;

static const failure fine = { NULL, NULL };

static failure
fail(const char *reason, const char *detail)
{
	failure f;

	f.reason = reason;
	f.detail = detail;
	return f;
}

static pw_span
span_of(const char *p, size_t n)
{
	pw_span s;

	s.ptr = p;
	s.len = n;
	return s;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

static void
load_config(config *c)
{
	static const struct { const char *name; size_t off; } vars[] = {
		{ "PANORA_API_KEY", offsetof(config, api_key) },
		{ "PANORA_API_URL", offsetof(config, api_url) },
		{ "PANORA_WEBHOOK_CATCHUP_WINDOW_S", offsetof(config, window_s) },
		{ "PANORA_WEBHOOK_FORWARD_URL", offsetof(config, forward.url) },
		{ "PANORA_WEBHOOK_FORWARD_SECRET", offsetof(config, forward.secret) },
		{ "PANORA_WEBHOOK_FORWARD_TIMEOUT_MS", offsetof(config, forward.timeout_ms) },
	};
	struct { cabi_str *ptr; size_t len; } env;
	size_t i, j;

	memset(c, 0, sizeof *c);
	get_environment(&env);
	for (i = 0; i < env.len; i++) {
		const cabi_str *name = &env.ptr[2 * i], *value = name + 1;

		for (j = 0; j < sizeof vars / sizeof vars[0]; j++) {
			if (value->len > 0 && name->len == strlen(vars[j].name)
				&& memcmp(name->ptr, vars[j].name, name->len) == 0)
			{
				*(pw_span *)(void *)((char *)c + vars[j].off) =
					span_of(value->ptr, value->len);
			}
		}
	}
	if (c->api_url.ptr == NULL) {
		c->api_url = span_of(DEFAULT_API_URL, sizeof DEFAULT_API_URL - 1);
	}
}

/* Split `s` as pw_url_parse does; 1 when it is a URL. Judged by what the
   split filled in (pw_url_parse zeroes `u` on a refusal), not by its
   return value's convention. */
static int
url_split(pw_url *u, pw_span s)
{
	(void)pw_url_parse(u, s.ptr, s.len);
	return u->authority.ptr != NULL && u->authority.len > 0;
}

/* Is the authority's host (port and brackets aside) a loopback name? */
static int
is_loopback(pw_span authority)
{
	const char *p = authority.ptr;
	size_t n = authority.len, i;

	if (n > 0 && p[0] == '[') {
		return n >= 5 && memcmp(p, "[::1]", 5) == 0 && (n == 5 || p[5] == ':');
	}
	for (i = 0; i < n && p[i] != ':'; i++) {
	}
	if (cabi_name_is(p, i, "localhost")) {
		return 1;
	}
	if (i < 4 || memcmp(p, "127.", 4) != 0) {
		return 0;
	}
	for (n = 4; n < i; n++) {
		if (!((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) {
			return 0;
		}
	}
	return 1;
}

/* PANORA_API_URL's path and "/connections", into `path`. */
static size_t
list_path(char *path, size_t cap, pw_span base)
{
	static const char route[] = "/connections";
	size_t n = base.len;

	while (n > 0 && base.ptr[n - 1] == '/') {
		n--;
	}
	if (n + sizeof route > cap) {
		return 0;
	}
	memcpy(path, base.ptr, n);
	memcpy(path + n, route, sizeof route - 1);
	return n + sizeof route - 1;
}

/* Where the list comes from: the URL split, and its request path. */
typedef struct {
	pw_url url;
	char path[512];
	size_t path_len;
} api_target;

static failure
check_api(const config *c, api_target *api)
{
	if (c->api_key.ptr == NULL) {
		return fail("PANORA_API_KEY is not set", NULL);
	}
	if (!url_split(&api->url, c->api_url)
		|| memchr(api->url.path.ptr, '?', api->url.path.len) != NULL)
	{
		return fail("PANORA_API_URL is not an absolute http or https base URL "
			"without a query", NULL);
	}
	if (!api->url.https && !is_loopback(api->url.authority)) {
		return fail("PANORA_API_URL must be https (http only to a loopback "
			"address, for a self-hosted Panora)", NULL);
	}
	api->path_len = list_path(api->path, sizeof api->path, api->url.path);
	if (api->path_len == 0) {
		return fail("PANORA_API_URL's path is too long", NULL);
	}
	return fine;
}

/* The forward must be able to work before anything is listed. */
static failure
check_forward(const forward_config *f)
{
	pw_forward_key key;
	pw_url url;
	int ok;

	if (f->url.ptr == NULL) {
		return fail("PANORA_WEBHOOK_FORWARD_URL is not set: there is nowhere "
			"to forward the connections to", NULL);
	}
	if (!url_split(&url, f->url)) {
		return fail("PANORA_WEBHOOK_FORWARD_URL is not an absolute http or "
			"https URL", NULL);
	}
	ok = f->secret.ptr != NULL
		&& pw_forward_key_init(&key, f->secret.ptr, f->secret.len);
	pw_wipe(&key, sizeof key);
	if (!ok) {
		return fail("PANORA_WEBHOOK_FORWARD_SECRET is not whsec_ and the "
			"base64 of 16 to 64 bytes", NULL);
	}
	return fine;
}

/*
 * The oldest created_at (unix seconds) a forward is made for: `now` less
 * the window; 0 (everything) when the window is 0 or reaches before 1970.
 */
static failure
check_window(const config *c, uint64_t now, uint64_t *cutoff, int *all)
{
	size_t w = DEFAULT_WINDOW_S;

	if (c->window_s.ptr != NULL
		&& kit_parse_size(c->window_s.ptr, c->window_s.len, &w) != KIT_SIZE_OK)
	{
		return fail("PANORA_WEBHOOK_CATCHUP_WINDOW_S is not a number of "
			"seconds", NULL);
	}
	*cutoff = w == 0 || w >= now ? 0 : now - w;
	*all = w == 0;
	return fine;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

/* `n` decimal digits at p, or -1. */
static long
digits(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * An ISO-8601 UTC time as Panora serialises dates ("2026-11-30T10:00:00Z",
 * fractions of a second allowed), from 1970 on, in unix seconds; 0 when it
 * is not one.
 */
static uint64_t
iso_seconds(pw_span t)
{
	static const unsigned short before[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
	};
	const char *p = t.ptr;
	long y, mo, d, h, mi, s, days, k;
	size_t end;

	if (p == NULL || t.len < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T'
		|| p[13] != ':' || p[16] != ':' || p[t.len - 1] != 'Z')
	{
		return 0;
	}
	for (end = 19; end < t.len - 1; end++) {
		if (end == 19 ? p[end] != '.' : (p[end] < '0' || p[end] > '9')) {
			return 0;
		}
	}
	y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
	h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23
		|| mi < 0 || mi > 59 || s < 0 || s > 60)
	{
		return 0;
	}
	days = d - 1 + before[mo - 1] + (mo > 2 && is_leap(y));
	for (k = 1970; k < y; k++) {
		days += 365 + is_leap(k);
	}
	return (uint64_t)days * 86400u + (uint64_t)(h * 3600 + mi * 60 + s);
}

/* ------------------------------------------------------------------ */
/* State: the high-water mark                                           */
/* ------------------------------------------------------------------ */

/*
 * With a preopened directory (wasmtime run --dir), the command keeps there
 * the time of its last wholly successful run: MARK_FILE, decimal unix
 * seconds and a newline, replaced through MARK_TMP and a rename. A run then
 * forwards what was created since that mark (less MARK_SLACK_S, for clocks
 * that disagree and rows committed late), whatever the window says: an
 * outage of any length is caught up by the next successful run, and a run
 * after a successful one re-forwards only the slack. A failed run leaves
 * the mark where it was. Without a directory, the window alone decides.
 */
#define FS "wasi:filesystem/types@0.2.0"
#define MARK_FILE "panora-catchup.mark"
#define MARK_TMP  "panora-catchup.mark.tmp"
#define MARK_SLACK_S 900u

IMPORT("wasi:filesystem/preopens@0.2.0", "get-directories")
void fs_preopens(void *ret);
IMPORT(FS, "[method]descriptor.open-at")
void fs_open_at(int32_t d, int32_t path_flags, const char *p, size_t n,
	int32_t open_flags, int32_t flags, void *ret);
IMPORT(FS, "[method]descriptor.read")
void fs_read(int32_t d, int64_t len, int64_t offset, void *ret);
IMPORT(FS, "[method]descriptor.write")
void fs_write(int32_t d, const void *p, size_t n, int64_t offset, void *ret);
IMPORT(FS, "[method]descriptor.sync-data")
void fs_sync_data(int32_t d, void *ret);
IMPORT(FS, "[method]descriptor.rename-at")
void fs_rename_at(int32_t d, const char *from, size_t from_len, int32_t to_dir,
	const char *to, size_t to_len, void *ret);
IMPORT(FS, "[resource-drop]descriptor")
void fs_drop(int32_t d);

enum {
	FS_READ = 1, FS_WRITE = 2,                /* descriptor-flags     */
	FS_CREATE = 1, FS_TRUNCATE = 8,           /* open-flags           */
	FS_NO_ENTRY = 20                          /* error-code no-entry  */
};

typedef struct {      /* result<own<descriptor>, error-code>, result<_, ..> */
	uint8_t is_err;
	union { int32_t handle; uint8_t code; } u;
} fs_result;

typedef struct {      /* result<tuple<list<u8>, bool>, error-code>      */
	uint8_t is_err;
	union { struct { cabi_str data; uint8_t end; } ok; uint8_t code; } u;
} fs_read_result;

typedef struct {      /* result<filesize, error-code>                   */
	uint8_t is_err;
	uint8_t pad[7];
	union { uint64_t n; uint8_t code; } u;
} fs_write_result;

typedef struct {
	int32_t dir;          /* the state directory, or -1              */
	int has_mark;
	uint64_t mark;        /* unix seconds of the last good run        */
} state;

static failure
mark_unreadable(void)
{
	return fail("the high-water mark in the state directory is not readable "
		"(remove " MARK_FILE " to start again from the window)", NULL);
}

/* The first preopened directory, if any; others are let go. */
static void
open_state(state *s)
{
	struct { struct { int32_t dir; cabi_str path; } *ptr; size_t len; } dirs;
	size_t i;

	memset(s, 0, sizeof *s);
	fs_preopens(&dirs);
	for (i = 1; i < dirs.len; i++) {
		fs_drop(dirs.ptr[i].dir);
	}
	s->dir = dirs.len > 0 ? dirs.ptr[0].dir : -1;
}

/* Read the mark; no file is no mark. */
static failure
read_mark(state *s)
{
	fs_result o;
	fs_read_result rd;
	size_t v, n;

	if (s->dir < 0) {
		return fine;
	}
	fs_open_at(s->dir, 0, MARK_FILE, sizeof MARK_FILE - 1, 0, FS_READ, &o);
	if (o.is_err) {
		return o.u.code == FS_NO_ENTRY ? fine : mark_unreadable();
	}
	fs_read(o.u.handle, 32, 0, &rd);
	fs_drop(o.u.handle);
	if (rd.is_err) {
		return mark_unreadable();
	}
	n = rd.u.ok.data.len;
	if (n < 2 || rd.u.ok.data.ptr[n - 1] != '\n'
		|| kit_parse_size(rd.u.ok.data.ptr, n - 1, &v) != KIT_SIZE_OK)
	{
		return mark_unreadable();
	}
	s->has_mark = 1;
	s->mark = v;
	return fine;
}

/* Replace the mark with `at`, durably: write, sync, rename. */
static failure
write_mark(const state *s, uint64_t at)
{
	char text[21];
	size_t n = pw_u64_dec(text, at);
	fs_result o, r;
	fs_write_result w;
	int ok;

	if (s->dir < 0) {
		return fine;
	}
	text[n++] = '\n';
	fs_open_at(s->dir, 0, MARK_TMP, sizeof MARK_TMP - 1, FS_CREATE | FS_TRUNCATE,
		FS_WRITE, &o);
	if (o.is_err) {
		return fail("the high-water mark could not be written to the state "
			"directory", NULL);
	}
	fs_write(o.u.handle, text, n, 0, &w);
	ok = !w.is_err && w.u.n == n;
	if (ok) {
		fs_sync_data(o.u.handle, &r);
		ok = !r.is_err;
	}
	fs_drop(o.u.handle);
	if (ok) {
		fs_rename_at(s->dir, MARK_TMP, sizeof MARK_TMP - 1, s->dir, MARK_FILE,
			sizeof MARK_FILE - 1, &r);
		ok = !r.is_err;
	}
	return ok ? fine : fail("the high-water mark could not be written to the "
		"state directory", NULL);
}

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

/* Wait until `pollable` is ready or `ns` have passed; 1 when ready. Drops
   the pollable. */
static int
wait_ready(int32_t pollable, int64_t ns)
{
	og_ready ready;
	int32_t p[2];
	int hit = 0;
	size_t i;

	p[0] = pollable;
	p[1] = mono_subscribe(ns > 0 ? ns : 0);
	io_poll(p, 2, &ready);
	for (i = 0; i < ready.len; i++) {
		hit |= ready.ptr[i] == 0;
	}
	drop_pollable(p[1]);
	drop_pollable(p[0]);
	return hit;
}

/* ------------------------------------------------------------------ */
/* The list request                                                     */
/* ------------------------------------------------------------------ */

static cabi_entry
entry(const char *name, const char *value, size_t len)
{
	cabi_entry e;

	e.name.ptr = name;
	e.name.len = strlen(name);
	e.value.ptr = value;
	e.value.len = len;
	return e;
}

/* GET <path> with the API key; the outgoing request, or -1. */
static int32_t
list_request(const api_target *api, pw_span key)
{
	cabi_entry e[3];
	cabi_handle_result r;
	int32_t req;

	e[0] = entry("x-api-key", key.ptr, key.len);
	e[1] = entry("accept", "application/json", 16);
	e[2] = entry("user-agent", "panora-webhook/0.1", 18);
	http_fields_from_list(e, 3, &r);
	if (r.is_err) {
		return -1;
	}
	req = request_new(r.handle);
	if (request_set_method(req, OG_GET, NULL, 0) != 0
		|| request_set_scheme(req, 1, api->url.https ? OG_HTTPS : OG_HTTP,
			NULL, 0) != 0
		|| request_set_authority(req, 1, api->url.authority.ptr,
			api->url.authority.len) != 0
		|| request_set_path(req, 1, api->path, api->path_len) != 0)
	{
		drop_request(req);
		return -1;
	}
	return req;
}

/* Send the request with an empty body; its response future, or -1. */
static int32_t
send_request(int32_t req)
{
	const int64_t wait = API_WAIT_S * NS_PER_S;
	cabi_handle_result b;
	og_handle_result h;
	http_finish_result fin;
	int32_t opts;

	request_body(req, &b);
	if (b.is_err) {
		drop_request(req);
		return -1;
	}
	opts = options_new();
	options_connect(opts, 1, wait);
	options_first_byte(opts, 1, wait);
	options_between_bytes(opts, 1, wait);
	outgoing_handle(req, 1, opts, &h);    /* takes the request, options */
	if (h.is_err) {
		drop_outgoing_body(b.handle);
		return -1;
	}
	http_outbody_finish(b.handle, 0, 0, &fin);
	return h.handle;
}

/* What a wasi:http error-code (its variant tag) says went wrong. */
static const char *
request_error(unsigned tag)
{
	if (tag <= 6) {                       /* DNS, destination, refused */
		return "Panora's API could not be reached";
	}
	if ((tag >= 8 && tag <= 10) || tag == 33) {
		return "Panora's API did not answer in time";
	}
	if (tag >= 12 && tag <= 14) {
		return "the TLS connection to Panora's API failed";
	}
	return "the connection to Panora's API failed before its answer";
}

/* The response to the list request, status checked; its handle in `*resp`. */
static failure
list_response(const api_target *api, pw_span key, int32_t *resp)
{
	og_future_result fr;
	int32_t future, status;
	int32_t req = list_request(api, key);

	if (req < 0 || (future = send_request(req)) < 0) {
		return fail("the host refused the request to Panora's API", NULL);
	}
	if (!wait_ready(future_subscribe(future), API_WAIT_S * NS_PER_S)) {
		drop_future(future);
		return fail("Panora's API did not answer within 30 s", NULL);
	}
	memset(&fr, 0, sizeof fr);
	future_get(future, &fr);
	drop_future(future);
	if (!fr.is_some || fr.outer_is_err) {
		return fail("the connection to Panora's API failed before its answer", NULL);
	}
	if (fr.is_err) {
		return fail(request_error((unsigned)fr.handle & 0xffu), NULL);
	}
	status = response_status(fr.handle);
	if (status == 401 || status == 403) {
		drop_response(fr.handle);
		return fail("Panora refused the API key", NULL);
	}
	if (status < 200 || status > 299) {
		drop_response(fr.handle);
		return fail(status >= 500 ? "Panora's API failed (a 5xx answer)"
			: "Panora's API refused the list request (a non-2xx answer)", NULL);
	}
	*resp = fr.handle;
	return fine;
}

/* ------------------------------------------------------------------ */
/* Reading the list and forwarding                                      */
/* ------------------------------------------------------------------ */

typedef struct {
	const config *cfg;
	uint64_t cutoff;         /* oldest created_at forwarded, 0: all   */
	tally *t;
} run_ctx;

/* One recovered connection: forward it, unless it is outside the window.
   A created_at that cannot be read is forwarded: a token lost is the
   failure this command exists to prevent, a repeat is deduplicated. */
static failure
take(run_ctx *r, pw_result *res)
{
	uint64_t at = iso_seconds(res->record.created_at);

	r->t->recovered++;
	if (r->cutoff > 0 && at != 0 && at < r->cutoff) {
		r->t->outside++;
		return fine;
	}
	if (forward_record(res, &r->cfg->forward) != SINK_KEPT) {
		return fail("the backend did not accept a forward", res->message);
	}
	r->t->forwarded++;
	return fine;
}

/* Feed one chunk of the answer through the decoder. */
static failure
feed(run_ctx *r, const char *p, size_t n)
{
	static pw_result res;
	failure f = fine;

	while (n > 0 && f.reason == NULL) {
		size_t used = 0;
		pw_catchup_event ev = pw_catchup_feed(&list, p, n, &used, &res);

		p += used;
		n -= used;
		if (ev == PW_CATCHUP_RECORD) {
			f = take(r, &res);
		} else if (ev == PW_CATCHUP_ERROR) {
			f = fail("Panora's answer is not a list of connections", list.error);
		}
	}
	memset(&res, 0, sizeof res);
	return f;
}

/* Read the answer's body to its end, each chunk as it comes. */
static failure
read_list(run_ctx *r, int32_t stream, size_t mark)
{
	failure f = fine;

	while (f.reason == NULL) {
		og_read_result rd;

		if (!wait_ready(input_subscribe(stream), API_WAIT_S * NS_PER_S)) {
			return fail("Panora's API stopped sending its answer for 30 s", NULL);
		}
		input_read(stream, CHUNK, &rd);
		if (rd.is_err) {
			if (rd.u.err.tag != 1) {          /* last-operation-failed */
				drop_io_error(rd.u.err.error);
				return fail("the connection to Panora's API failed during "
					"its answer", NULL);
			}
			break;                         /* closed: the end */
		}
		f = feed(r, rd.u.ok.ptr, rd.u.ok.len);
		pw_wipe(arena + mark, arena_used - mark);
		arena_used = mark;
	}
	if (f.reason == NULL && pw_catchup_finish(&list) != PW_CATCHUP_DONE) {
		f = fail("Panora's answer is not a list of connections", list.error);
	}
	return f;
}

/* List, read and forward. */
static failure
catch_up(run_ctx *r, const api_target *api)
{
	cabi_handle_result b;
	int32_t resp = -1, body, stream;
	failure f = list_response(api, r->cfg->api_key, &resp);

	if (f.reason != NULL) {
		return f;
	}
	response_consume(resp, &b);
	if (b.is_err) {
		drop_response(resp);
		return fail("the host could not read Panora's answer", NULL);
	}
	body = b.handle;
	incoming_body_stream(body, &b);
	if (b.is_err) {
		drop_incoming_body(body);
		drop_response(resp);
		return fail("the host could not read Panora's answer", NULL);
	}
	stream = b.handle;
	pw_catchup_init(&list, element, sizeof element);
	f = read_list(r, stream, arena_used);
	r->t->listed = list.listed;
	r->t->skipped = list.skipped;
	drop_input_stream(stream);
	drop_incoming_body(body);
	drop_response(resp);
	return f;
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

static void
put_count(bufsink *o, const char *name, uint64_t v)
{
	char num[20];

	bufsink_puts(o, name);
	bufsink_put(o, num, pw_u64_dec(num, v));
}

/* The summary line on stdout. */
static void
summary(const tally *t, int ok)
{
	static char mem[512];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };

	o.target = get_stdout();
	bufsink_puts(&o, ok ? "{\"outcome\":\"catch-up\"" : "{\"outcome\":\"catch-up-failed\"");
	put_count(&o, ",\"listed\":", t->listed);
	put_count(&o, ",\"recovered\":", t->recovered);
	put_count(&o, ",\"forwarded\":", t->forwarded);
	put_count(&o, ",\"skipped\":", t->skipped);
	put_count(&o, ",\"outside_window\":", t->outside);
	bufsink_puts(&o, "}\n");
	bufsink_flush(&o);
	http_drop_output_stream(o.target);
}

/* The reason line on stderr: static sentences only. */
static void
reason(failure f)
{
	static char mem[512];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };

	o.target = get_stderr();
	bufsink_puts(&o, "catch-up failed: ");
	bufsink_puts(&o, f.reason);
	if (f.detail != NULL) {
		bufsink_puts(&o, ": ");
		bufsink_puts(&o, f.detail);
	}
	bufsink_puts(&o, "\n");
	bufsink_flush(&o);
	http_drop_output_stream(o.target);
}

/* ------------------------------------------------------------------ */
/* The export                                                           */
/* ------------------------------------------------------------------ */

static uint64_t
wall_seconds(void)
{
	struct { uint64_t seconds; uint32_t nanoseconds; } wall;

	wall_now(&wall);
	return wall.seconds;
}

/* Every check that needs no network, in order, and the cutoff: the
   window's, or the high-water mark's when there is one (a window of 0
   still means all). */
static failure
configure(const config *c, api_target *api, state *s, uint64_t *cutoff)
{
	failure f = check_api(c, api);
	int all = 0;

	if (f.reason == NULL) {
		f = check_forward(&c->forward);
	}
	if (f.reason == NULL) {
		f = check_window(c, wall_seconds(), cutoff, &all);
	}
	if (f.reason == NULL) {
		f = read_mark(s);
	}
	if (f.reason == NULL && s->has_mark && !all) {
		*cutoff = s->mark > MARK_SLACK_S ? s->mark - MARK_SLACK_S : 0;
	}
	return f;
}

EXPORT("wasi:cli/run@0.2.0#run")
int32_t run(void);

int32_t
run(void)
{
	static config cfg;
	static api_target api;
	static tally t;
	static state st;
	run_ctx r;
	failure f;
	uint64_t listed_at;

	arena_used = 0;
	memset(&t, 0, sizeof t);
	load_config(&cfg);
	r.cfg = &cfg;
	r.t = &t;
	r.cutoff = 0;
	open_state(&st);
	f = configure(&cfg, &api, &st, &r.cutoff);
	listed_at = wall_seconds();
	if (f.reason == NULL) {
		f = catch_up(&r, &api);
	}
	if (f.reason == NULL) {
		f = write_mark(&st, listed_at);   /* only after a wholly good run */
	}
	summary(&t, f.reason == NULL);
	if (f.reason != NULL) {
		reason(f);
	}
	/* the arena held the API key, the forward secret and the answer, the
	   element buffer a connection's token */
	if (st.dir >= 0) {
		fs_drop(st.dir);
	}
	pw_wipe(arena, sizeof arena);
	pw_wipe(element, sizeof element);
	memset(&list, 0, sizeof list);
	memset(&cfg, 0, sizeof cfg);
	if (f.reason != NULL) {
		cli_exit(1);
	}
	return 0;
}
