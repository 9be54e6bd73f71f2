/*
 * catchup.c -- wasi:cli/run@0.2.0: one catch-up run, for cron. The run
 * itself, shared by both catch-up commands; what is flavour-specific
 * (settings, what becomes of a connection) is in catchup_env.c
 * (build/panora-webhook-catchup.wasm, wasmtime) and catchup_spin.c
 * (build/panora-webhook-catchup-spin.wasm, Spin's command trigger); see
 * catchup.h.
 *
 * Panora makes one delivery attempt of connection.created for six of its
 * seven verticals; a token whose delivery failed comes back only through
 * GET /connections. This command lists the project's connections from
 * the API URL with the API key, reads the answer as it arrives through
 * pw_catchup (bounded memory: one element buffer and one read chunk,
 * never the list), and hands each recovered connection to the flavour.
 *
 * Output: one summary line on stdout,
 *   {"outcome":"catch-up","listed":N,"recovered":K,"forwarded":F,
 *    "skipped":S,"outside_window":W}
 * (the Spin flavour adds "stored":X,"known":Y after "recovered";
 * "catch-up-failed" when the run failed), and, on failure, one reason
 * line on stderr. Exit 0 only when the flavour kept every connection; the
 * first one it could not keep ends the run (the rest wait for the next
 * one). No token, credential or secret is ever written.
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

#include "catchup.h"
#include "outgoing.h"
#include "pw_catchup.h"

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

/* ------------------------------------------------------------------ */
/* Memory                                                               */
/* ------------------------------------------------------------------ */

/* The environment (the process's, under some hosts: large), then one read
   chunk and the forwards' host lists, reset after each chunk. */
#define CHUNK (64u * 1024u)
#define ARENA_SIZE (1024u * 1024u + 2u * CHUNK)

HTTP_ARENA(ARENA_SIZE)              /* see arena.h: forward.c takes its scratch here too */

static unsigned char element[PW_CATCHUP_ELEMENT_MAX];
static pw_catchup list;

/* ------------------------------------------------------------------ */
/* The run's state                                                      */
/* ------------------------------------------------------------------ */


/* see catchup.h */
const catchup_failure catchup_fine = { NULL, NULL, NULL };

/* see catchup.h */
catchup_failure
catchup_fail(const char *reason, const char *detail)
{
	catchup_failure f;

	f.setting = NULL;
	f.reason = reason;
	f.detail = detail;
	return f;
}

/* see catchup.h */
catchup_failure
catchup_fail_at(size_t off, const char *reason)
{
	catchup_failure f = catchup_fail(reason, NULL);

	f.setting = catchup_this.naming.name(off);
	return f;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */


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

/* The API URL's path and "/connections", into `path`. */
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

static catchup_failure
check_api(const kit_settings *c, api_target *api)
{
	if (c->api_key.ptr == NULL) {
		return catchup_fail_setting(api_key, " is not set");
	}
	if (!url_split(&api->url, c->api_url)
		|| memchr(api->url.path.ptr, '?', api->url.path.len) != NULL)
	{
		return catchup_fail_setting(api_url,
			" is not an absolute http or https base URL without a query");
	}
	if (!api->url.https && !is_loopback(api->url.authority)) {
		return catchup_fail_setting(api_url, " must be https (http only to a "
			"loopback address, for a self-hosted Panora)");
	}
	api->path_len = list_path(api->path, sizeof api->path, api->url.path);
	if (api->path_len == 0) {
		return catchup_fail_setting(api_url, "'s path is too long");
	}
	return catchup_fine;
}

/* The forward, when there is one (the flavour may require it), must be
   able to work before anything is listed. */
static catchup_failure
check_forward(const forward_config *f)
{
	pw_forward_key key;
	pw_url url;
	int ok;

	if (f->url.ptr == NULL) {
		return !catchup_this.forward_required ? catchup_fine
			: catchup_fail_setting(forward.url,
			" is not set: there is nowhere to forward the connections to");
	}
	if (!url_split(&url, f->url)) {
		return catchup_fail_setting(forward.url,
			" is not an absolute http or https URL");
	}
	ok = f->secret.ptr != NULL
		&& pw_forward_key_init(&key, f->secret.ptr, f->secret.len) == PW_FORWARD_KEY_OK;
	pw_wipe(&key, sizeof key);
	if (!ok) {
		return catchup_fail_setting(forward.secret,
			" is not whsec_ and the base64 of 16 to 64 bytes");
	}
	return catchup_fine;
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

/* GET <path> with the API key; the outgoing request, or KIT_NO_HANDLE. */
static int32_t
list_request(const api_target *api, pw_span key)
{
	cabi_entry e[3];

	e[0] = entry("x-api-key", key.ptr, key.len);
	e[1] = entry("accept", "application/json", 16);
	e[2] = entry("user-agent", "panora-webhook/0.1", 18);
	return og_request(OG_GET, &api->url, api->path, api->path_len, e, 3);
}

/* Send the request with an empty body; its response future, or
   KIT_NO_HANDLE. */
static int32_t
send_request(int32_t req)
{
	og_handle_result h;
	http_finish_result fin;
	int32_t body;

	if (og_send(req, API_WAIT_S * NS_PER_S, &body, &h) != OG_SENT) {
		return KIT_NO_HANDLE;
	}
	http_outbody_finish(body, 0, 0, &fin);
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
static catchup_failure
list_response(const api_target *api, pw_span key, int32_t *resp)
{
	og_future_result fr;
	int32_t future, status;
	int32_t req = list_request(api, key);

	if (req == KIT_NO_HANDLE || (future = send_request(req)) == KIT_NO_HANDLE) {
		return catchup_fail("the host refused the request to Panora's API", NULL);
	}
	if (!wait_ready(future_subscribe(future), API_WAIT_S * NS_PER_S)) {
		drop_future(future);
		return catchup_fail("Panora's API did not answer within 30 s", NULL);
	}
	memset(&fr, 0, sizeof fr);
	future_get(future, &fr);
	drop_future(future);
	if (!fr.is_some || fr.outer_is_err) {
		return catchup_fail("the connection to Panora's API failed before "
			"its answer", NULL);
	}
	if (fr.is_err) {
		return catchup_fail(request_error((unsigned)fr.handle & 0xffu), NULL);
	}
	status = response_status(fr.handle);
	if (status == 401 || status == 403) {
		drop_response(fr.handle);
		return catchup_fail("Panora refused the API key", NULL);
	}
	if (status < 200 || status > 299) {
		drop_response(fr.handle);
		return catchup_fail(status >= 500 ? "Panora's API failed (a 5xx answer)"
			: "Panora's API refused the list request (a non-2xx answer)", NULL);
	}
	*resp = fr.handle;
	return catchup_fine;
}

/* ------------------------------------------------------------------ */
/* Reading the list and forwarding                                      */
/* ------------------------------------------------------------------ */

typedef struct {
	const kit_settings *cfg;
	catchup_tally *t;
} run_ctx;

/* Feed one chunk of the answer through the decoder. */
static catchup_failure
feed(run_ctx *r, const char *p, size_t n)
{
	static pw_result res;
	catchup_failure f = catchup_fine;

	while (n > 0 && f.reason == NULL) {
		size_t used = 0;
		pw_catchup_event ev = pw_catchup_feed(&list, p, n, &used, &res);

		p += used;
		n -= used;
		if (ev == PW_CATCHUP_RECORD) {
			size_t mark = arena_used;

			f = catchup_take(r->cfg, &res, r->t);
			pw_wipe(arena + mark, arena_used - mark);  /* the sinks' scratch */
			arena_used = mark;
		} else if (ev == PW_CATCHUP_ERROR) {
			f = catchup_fail("Panora's answer is not a list of connections",
				list.error);
		}
	}
	memset(&res, 0, sizeof res);
	return f;
}

/* Read the answer's body to its end, each chunk as it comes. */
static catchup_failure
read_list(run_ctx *r, int32_t stream, size_t mark)
{
	catchup_failure f = catchup_fine;

	while (f.reason == NULL) {
		og_read_result rd;

		if (!wait_ready(input_subscribe(stream), API_WAIT_S * NS_PER_S)) {
			return catchup_fail("Panora's API stopped sending its answer "
				"for 30 s", NULL);
		}
		input_read(stream, CHUNK, &rd);
		if (rd.is_err) {
			if (rd.u.err.tag != 1) {          /* last-operation-failed */
				drop_io_error(rd.u.err.error);
				return catchup_fail("the connection to Panora's API failed "
					"during its answer", NULL);
			}
			break;                         /* closed: the end */
		}
		f = feed(r, rd.u.ok.ptr, rd.u.ok.len);
		pw_wipe(arena + mark, arena_used - mark);
		arena_used = mark;
	}
	if (f.reason == NULL && pw_catchup_finish(&list) != PW_CATCHUP_DONE) {
		f = catchup_fail("Panora's answer is not a list of connections", list.error);
	}
	return f;
}

/* List, read and forward. */
static catchup_failure
catch_up(run_ctx *r, const api_target *api)
{
	cabi_handle_result b;
	int32_t resp = KIT_NO_HANDLE, body, stream;
	catchup_failure f = list_response(api, r->cfg->api_key, &resp);

	if (f.reason != NULL) {
		return f;
	}
	response_consume(resp, &b);
	if (b.is_err) {
		drop_response(resp);
		return catchup_fail("the host could not read Panora's answer", NULL);
	}
	body = b.handle;
	incoming_body_stream(body, &b);
	if (b.is_err) {
		drop_incoming_body(body);
		drop_response(resp);
		return catchup_fail("the host could not read Panora's answer", NULL);
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
summary(const catchup_tally *t, int ok)
{
	static char mem[512];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };

	o.target = get_stdout();
	bufsink_puts(&o, ok ? "{\"outcome\":\"catch-up\"" : "{\"outcome\":\"catch-up-failed\"");
	put_count(&o, ",\"listed\":", t->listed);
	put_count(&o, ",\"recovered\":", t->recovered);
	if (catchup_this.store) {
		put_count(&o, ",\"stored\":", t->stored);
		put_count(&o, ",\"known\":", t->known);
	}
	put_count(&o, ",\"forwarded\":", t->forwarded);
	put_count(&o, ",\"skipped\":", t->skipped);
	put_count(&o, ",\"outside_window\":", t->outside);
	bufsink_puts(&o, "}\n");
	bufsink_flush(&o);
	http_drop_output_stream(o.target);
}

/* The reason line on stderr: static sentences only. */
static void
reason(catchup_failure f)
{
	static char mem[512];
	bufsink o = { http_send_stream, 0, 0, sizeof mem, mem };

	o.target = get_stderr();
	bufsink_puts(&o, "catch-up failed: ");
	if (f.setting != NULL) {
		bufsink_puts(&o, catchup_this.naming.prefix);
		bufsink_puts(&o, f.setting);
	}
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

/* see catchup.h */
uint64_t
catchup_wall_seconds(void)
{
	struct { uint64_t seconds; uint32_t nanoseconds; } wall;

	wall_now(&wall);
	return wall.seconds;
}

/* Every check that needs no network, in order: the API, the forward, then
   the flavour's own. */
static catchup_failure
configure(kit_settings *c, api_target *api)
{
	catchup_failure f;

	if (c->api_url.ptr == NULL) {
		c->api_url = span_of(DEFAULT_API_URL, sizeof DEFAULT_API_URL - 1);
	}
	f = check_api(c, api);
	if (f.reason == NULL) {
		f = check_forward(&c->forward);
	}
	if (f.reason == NULL) {
		f = catchup_prepare(c, catchup_wall_seconds());
	}
	return f;
}

EXPORT("wasi:cli/run@0.2.0#run")
int32_t run(void);

/* A failed run ends through wasi:cli/exit with an error: every host
   reports that as a failure, while some (Spin's command trigger before
   0.6.0) drop an error that run() returns. A good run returns. */
int32_t
run(void)
{
	static kit_settings cfg;
	static api_target api;
	static catchup_tally t;
	run_ctx r;
	catchup_failure f;
	uint64_t listed_at;

	arena_used = 0;
	memset(&t, 0, sizeof t);
	memset(&cfg, 0, sizeof cfg);
	catchup_load(&cfg);
	r.cfg = &cfg;
	r.t = &t;
	f = configure(&cfg, &api);
	listed_at = catchup_wall_seconds();
	if (f.reason == NULL) {
		f = catch_up(&r, &api);
	}
	if (f.reason == NULL) {
		f = catchup_done(listed_at);      /* only after a wholly good run */
	}
	summary(&t, f.reason == NULL);
	if (f.reason != NULL) {
		reason(f);
	}
	catchup_end();
	/* the arena held the API key, the forward secret and the answer, the
	   element buffer a connection's token */
	pw_wipe(arena, sizeof arena);
	pw_wipe(element, sizeof element);
	memset(&list, 0, sizeof list);
	memset(&cfg, 0, sizeof cfg);
	if (f.reason != NULL) {
		cli_exit(1);
	}
	return 0;
}
