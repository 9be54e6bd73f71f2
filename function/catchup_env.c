/*
 * catchup_env.c -- the catch-up command's wasmtime flavour
 * (build/panora-webhook-catchup.wasm, wit/http/catchup.wit): settings from
 * the environment, each recovered connection forwarded. The run itself is
 * catchup.c (catchup.h says who does what).
 *
 *   wasmtime run -S http --env PANORA_API_KEY --env PANORA_WEBHOOK_FORWARD_URL \
 *       --env PANORA_WEBHOOK_FORWARD_SECRET build/panora-webhook-catchup.wasm
 *
 * A connection created within PANORA_WEBHOOK_CATCHUP_WINDOW_S (default a
 * day; 0: all) is forwarded through forward.c: the same Standard Webhooks
 * message, under the same webhook-id, as the wasi:http component sends for
 * the same connection. The forward is required: it is the only place a
 * recovered token can go. The first forward the backend does not accept
 * ends the run (the rest wait for the next one).
 *
 * With a preopened state directory (`--dir`), a high-water mark there
 * replaces the window, so that an outage of any length is caught up by the
 * next successful run without re-forwarding everything (see "State").
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "catchup.h"

#define DEFAULT_WINDOW_S 86400u


/* see catchup.h: the forward is required */
const catchup_flavour catchup_this = { KIT_ENV_NAMING, 1, 0 };

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
	int32_t dir;          /* the state directory, or KIT_NO_HANDLE   */
	int has_mark;
	uint64_t mark;        /* unix seconds of the last good run        */
} state;

static catchup_failure
mark_unreadable(void)
{
	return catchup_fail("the high-water mark in the state directory is not readable "
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
	s->dir = dirs.len > 0 ? dirs.ptr[0].dir : KIT_NO_HANDLE;
}

/* Read the mark; no file is no mark. */
static catchup_failure
read_mark(state *s)
{
	fs_result o;
	fs_read_result rd;
	size_t v, n;

	if (s->dir == KIT_NO_HANDLE) {
		return catchup_fine;
	}
	fs_open_at(s->dir, 0, MARK_FILE, sizeof MARK_FILE - 1, 0, FS_READ, &o);
	if (o.is_err) {
		return o.u.code == FS_NO_ENTRY ? catchup_fine : mark_unreadable();
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
	return catchup_fine;
}

/* Replace the mark with `at`, durably: write, sync, rename. */
static catchup_failure
write_mark(const state *s, uint64_t at)
{
	char text[21];
	size_t n = pw_u64_dec(text, at);
	fs_result o, r;
	fs_write_result w;
	int ok;

	if (s->dir == KIT_NO_HANDLE) {
		return catchup_fine;
	}
	text[n++] = '\n';
	fs_open_at(s->dir, 0, MARK_TMP, sizeof MARK_TMP - 1, FS_CREATE | FS_TRUNCATE,
		FS_WRITE, &o);
	if (o.is_err) {
		return catchup_fail("the high-water mark could not be written to the state "
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
	return ok ? catchup_fine : catchup_fail("the high-water mark could not "
		"be written to the state directory", NULL);
}

static state st;
static uint64_t cutoff;        /* oldest created_at forwarded, 0: all   */

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

/* see catchup.h: the environment, and the state directory if any */
void
catchup_load(kit_settings *s)
{
	kit_env_load(s, READ_CATCHUP);
	open_state(&st);
}

/*
 * The oldest created_at (unix seconds) a forward is made for: `now` less
 * the window; 0 (everything) when the window is 0 or reaches before 1970.
 */
static catchup_failure
check_window(pw_span window_s, uint64_t now, uint64_t *oldest, int *all)
{
	size_t w = DEFAULT_WINDOW_S;

	if (window_s.ptr != NULL
		&& kit_parse_size(window_s.ptr, window_s.len, &w) != KIT_SIZE_OK)
	{
		return catchup_fail_setting(window_s,
			" is not a number of seconds");
	}
	*oldest = w == 0 || w >= now ? 0 : now - w;
	*all = w == 0;
	return catchup_fine;
}

/* see catchup.h: the cutoff is the window's, or the high-water mark's
   when there is one (a window of 0 still means all) */
catchup_failure
catchup_prepare(const kit_settings *s, uint64_t now)
{
	int all = 0;
	catchup_failure f = check_window(s->window_s, now, &cutoff, &all);

	if (f.reason == NULL) {
		f = read_mark(&st);
	}
	if (f.reason == NULL && st.has_mark && !all) {
		cutoff = st.mark > MARK_SLACK_S ? st.mark - MARK_SLACK_S : 0;
	}
	return f;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

/* What digits() returns when a byte is not a digit: below every date
   field's range, so that iso_seconds' range checks refuse it. */
#define NOT_DIGITS (-1L)

/* The value of the `n` decimal digits at p, or NOT_DIGITS. */
static long
digits(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return NOT_DIGITS;
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
/* What becomes of a connection                                         */
/* ------------------------------------------------------------------ */

/* see catchup.h: forward it, unless it is outside the window. A
   created_at that cannot be read is forwarded: a token lost is the
   failure this command exists to prevent, a repeat is deduplicated. */
catchup_failure
catchup_take(const kit_settings *s, pw_result *res, catchup_tally *t)
{
	uint64_t at = iso_seconds(res->record.created_at);

	t->recovered++;
	if (cutoff > 0 && at != 0 && at < cutoff) {
		t->outside++;
		return catchup_fine;
	}
	if (forward_record(res, &s->forward) != SINK_KEPT) {
		return catchup_fail("the backend did not accept a forward", res->message);
	}
	t->forwarded++;
	return catchup_fine;
}

/* see catchup.h: the mark moves only after a wholly good run */
catchup_failure
catchup_done(uint64_t listed_at)
{
	return write_mark(&st, listed_at);
}

/* see catchup.h */
void
catchup_end(void)
{
	if (st.dir != KIT_NO_HANDLE) {
		fs_drop(st.dir);
	}
	memset(&st, 0, sizeof st);
	cutoff = 0;
}
