/*
 * component.c -- the panora:webhook/handler@0.1.0 and
 * panora:webhook/catchup@0.1.0 exports (wit/catcher.wit), in hand-written
 * canonical-ABI glue.
 *
 * The core module imports nothing. `jco embed` + `jco new` wrap it into the
 * component build/panora-webhook.component.wasm.
 *
 * Canonical ABI, as used here (wasm32, string-encoding utf8):
 *   handle(req: request, secrets: list<string>) flattens to eight i32:
 *     method (ptr, len), headers (ptr, len), body (ptr, len),
 *     secrets (ptr, len)
 *   headers are 16-byte {name ptr, name len, value ptr, value len} elements,
 *   secrets 8-byte {ptr, len} elements. The result is too wide to flatten,
 *   so the export returns a pointer to it (layout in `struct ret` below).
 *
 * Memory: the arguments arrive through cabi_realloc, a bump arena over
 * static memory. The arena is reset by the first allocation after a call
 * has returned (the host has lifted the result by then) and by the
 * post-return function, so an instance used for any number of calls never
 * grows. There is no malloc and no memory.grow.
 */
#include <stdint.h>
#include <string.h>

#include "panora_webhook.h"
#include "pw_catchup.h"
#include "kit.h"

#define HANDLE_NAME "panora:webhook/handler@0.1.0#handle"

/* Room for a body of twice the limit (so an oversized one still gets a
   413), the method, headers and secrets beside it, and, after them, the
   decode scratch (as long as the body) for any body within the limit. */
#define ARENA_SIZE (2u * (size_t)PW_BODY_MAX + 256u * 1024u)

/* ------------------------------------------------------------------ */
/* Canonical ABI layouts (wasm32)                                       */
/* ------------------------------------------------------------------ */

typedef struct {
	cabi_str name, value;
} cabi_header;                            /* tuple<string, string>     */

typedef struct {
	uint8_t is_some;
	cabi_str value;
} cabi_option_string;                     /* option<string>: 12 bytes  */

/* token-record: one member per PW_RECORD_FIELDS entry, a string for
   each kind but PW_FIELD_OPTION, which the WIT makes an option<string> */
typedef cabi_str cabi_PW_FIELD_META, cabi_PW_FIELD_REQUIRED, cabi_PW_FIELD_TEXT;
typedef cabi_option_string cabi_PW_FIELD_OPTION;

typedef struct {
#define PW_X_ABI(name, kind) cabi_##kind name;
	PW_RECORD_FIELDS(PW_X_ABI)
#undef PW_X_ABI
} cabi_token_record;                      /* members unpadded, 4-aligned */

typedef struct {                          /* variant outcome           */
	uint8_t tag;                          /* 0 captured, 1 ignored     */
	union {
		cabi_token_record captured;
		cabi_str ignored;
	} u;
} cabi_outcome;

struct ret {                              /* result<outcome, failure>  */
	uint8_t is_err;
	union {
		cabi_outcome ok;
		struct {                          /* record failure            */
			uint8_t code;                 /* enum error-code           */
			uint16_t http_status;
			cabi_str message;
		} err;
	} u;
};

_Static_assert(sizeof(cabi_str) == 8, "string is two i32");
_Static_assert(sizeof(cabi_option_string) == 12, "option<string> layout");
#define PW_X_ABI_SIZE(name, kind) + sizeof(cabi_##kind)
_Static_assert(sizeof(cabi_token_record) == 0 PW_RECORD_FIELDS(PW_X_ABI_SIZE),
	"token-record layout");
_Static_assert(offsetof(cabi_token_record, created_at) == 76, "created-at offset");
_Static_assert(offsetof(struct ret, u) == 4, "result payload at 4");
_Static_assert(offsetof(struct ret, u.ok.u) == 8, "outcome payload at 4");
_Static_assert(offsetof(struct ret, u.err.http_status) == 6, "failure.http-status");
_Static_assert(offsetof(struct ret, u.err.message) == 8, "failure.message");
_Static_assert(sizeof(cabi_outcome) == 4 + sizeof(cabi_token_record), "outcome layout");

/* enum error-code lists the errors in pw_status order, from the first. */
_Static_assert(PW_ERR_NO_SECRET - PW_ERR_METHOD_NOT_ALLOWED == 6,
	"error-code has seven cases");

/* ------------------------------------------------------------------ */
/* Memory                                                               */
/* ------------------------------------------------------------------ */

static unsigned char arena[ARENA_SIZE] __attribute__((aligned(16)));
static size_t arena_used;
static int call_returned;
static pw_context ctx;
static pw_result res;
static struct ret ret_area;

/* Once a call has returned, the host has lifted its result: the next
   allocation or call with no arguments to lower starts a new call, and
   the post-return function forgets the memory straight away. */
static void
new_call(void)
{
	if (call_returned) {
		arena_used = 0;
		call_returned = 0;
	}
}

/* The post-return export `fn` of the export `name`. */
#define POST_RETURN(fn, name)                                               \
	EXPORT("cabi_post_" name) void fn(void *result);                        \
	void fn(void *result) { (void)result; new_call(); }

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);

void *
cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
	new_call();                           /* arguments of a new call */
	return cabi_bump(arena, ARENA_SIZE, &arena_used, old, old_size, align,
		new_size);
}

/* ------------------------------------------------------------------ */
/* The export                                                           */
/* ------------------------------------------------------------------ */

static cabi_str
str(pw_span s)
{
	cabi_str c;

	c.ptr = s.ptr ? s.ptr : "";
	c.len = s.ptr ? s.len : 0;
	return c;
}

static cabi_option_string
opt(pw_span s)
{
	cabi_option_string o;

	memset(&o, 0, sizeof o);
	o.is_some = s.ptr != NULL;
	o.value = str(s);
	return o;
}

/* How each kind of record field crosses: as a string, or an option. */
#define copy_PW_FIELD_META     str
#define copy_PW_FIELD_REQUIRED str
#define copy_PW_FIELD_TEXT     str
#define copy_PW_FIELD_OPTION   opt

EXPORT(HANDLE_NAME)
struct ret *handle(const char *method, size_t method_len,
	const cabi_header *headers, size_t nheaders,
	const char *body, size_t body_len,
	const cabi_str *secrets, size_t nsecrets);

struct ret *
handle(const char *method, size_t method_len,
	const cabi_header *headers, size_t nheaders,
	const char *body, size_t body_len,
	const cabi_str *secrets, size_t nsecrets)
{
	pw_request req;
	unsigned seen = 0;
	size_t i;

	memset(&req, 0, sizeof req);
	req.method.ptr = method;
	req.method.len = method_len;
	req.body.ptr = body;
	req.body.len = body_len;
	for (i = 0; i < nheaders; i++) {
		cabi_note_header(&req, &seen, headers[i].name.ptr, headers[i].name.len,
			headers[i].value.ptr, headers[i].value.len);
	}
	{
		/* the decode scratch comes from the arena, after the arguments */
		size_t at = (arena_used + 15) & ~(size_t)15;
		size_t room = at < ARENA_SIZE ? ARENA_SIZE - at : 0;

		pw_context_init(&ctx, 0, arena + at, room);
		kit_verify(&ctx, secrets, nsecrets, &req, &res);
	}

	memset(&ret_area, 0, sizeof ret_area);
	if (res.status == PW_CAPTURED) {
		const pw_record *r = &res.record;
		cabi_token_record *t = &ret_area.u.ok.u.captured;

		ret_area.u.ok.tag = 0;
#define PW_X_COPY(name, kind) t->name = copy_##kind(r->name);
		PW_RECORD_FIELDS(PW_X_COPY)
#undef PW_X_COPY
	} else if (res.status == PW_IGNORED) {
		ret_area.u.ok.tag = 1;
		ret_area.u.ok.u.ignored = str(res.type);
	} else {
		ret_area.is_err = 1;
		ret_area.u.err.code = (uint8_t)(res.status - PW_ERR_METHOD_NOT_ALLOWED);
		ret_area.u.err.http_status = (uint16_t)pw_status_http(res.status);
		ret_area.u.err.message.ptr = res.message;
		ret_area.u.err.message.len = strlen(res.message);
	}
	call_returned = 1;
	return &ret_area;
}

POST_RETURN(post_handle, HANDLE_NAME)

/* ------------------------------------------------------------------ */
/* The receipt                                                          */
/* ------------------------------------------------------------------ */

/*
 * receipt(outcome, kept) is pw_write_receipt over what handle returned,
 * so a host answers a 2xx with the same line as every other adapter and
 * never writes one itself. Its parameters are too wide to flatten: they
 * arrive as one pointer to a {outcome, kept} tuple in the arena. The line
 * is written into static memory sized for its longest form: each byte of
 * a value of at most PW_TEXT_CLIP bytes as \xHH, then `kept` (the NUL
 * that sizeof counts in "captured " pays for the newline).
 */
#define RECEIPT_NAME "panora:webhook/handler@0.1.0#receipt"
#define KEPT_MAX 32u

typedef struct {
	cabi_outcome outcome;
	cabi_str kept;
} receipt_args;                           /* tuple<outcome, string>    */

_Static_assert(offsetof(receipt_args, kept) == 4 + sizeof(cabi_token_record),
	"receipt's kept follows the outcome");

static char kept_word[KEPT_MAX + 1];
static char receipt_text[sizeof "captured " + 4u * PW_TEXT_CLIP + 1u + KEPT_MAX];
static cabi_str receipt_ret;

/* `kept` as a C string for pw_write_receipt, NULL when empty. Anything
   but up to KEPT_MAX bytes of printable ASCII other than backslash
   traps: the receipt stays one line whatever a host passes. */
static const char *
kept_of(cabi_str kept)
{
	size_t i;

	if (kept.len > KEPT_MAX) {
		__builtin_trap();
	}
	for (i = 0; i < kept.len; i++) {
		unsigned char c = (unsigned char)kept.ptr[i];

		if (c < 0x20 || c > 0x7e || c == '\\') {
			__builtin_trap();
		}
		kept_word[i] = (char)c;
	}
	kept_word[kept.len] = 0;
	return kept.len > 0 ? kept_word : NULL;
}

EXPORT(RECEIPT_NAME)
cabi_str *receipt(const receipt_args *a);

cabi_str *
receipt(const receipt_args *a)
{
	pw_result r;
	bufsink out = { NULL, 0, 0, sizeof receipt_text, receipt_text };

	memset(&r, 0, sizeof r);
	if (a->outcome.tag == 0) {
		r.status = PW_CAPTURED;
		r.record.id_connection = a->outcome.u.captured.id_connection;
	} else {
		r.status = PW_IGNORED;
		r.type = a->outcome.u.ignored;
	}
	pw_write_receipt(&r, kept_of(a->kept), bufsink_write, &out);
	if (out.len > out.cap) {
		__builtin_trap();                 /* the size above says never */
	}
	receipt_ret.ptr = receipt_text;
	receipt_ret.len = out.len;
	call_returned = 1;
	return &receipt_ret;
}

POST_RETURN(post_receipt, RECEIPT_NAME)

/* ------------------------------------------------------------------ */
/* The catch-up reader                                                  */
/* ------------------------------------------------------------------ */

/*
 * begin() starts a pw_catchup over a static element buffer; feed(chunk)
 * runs it over one chunk and returns copies of what completed; finish()
 * says whether the list was whole. Between calls only the decoder and the
 * element it is in the middle of are kept (static, PW_CATCHUP_ELEMENT_MAX).
 *
 * A feed's output lives in the arena after the chunk, in three areas whose
 * sizes follow from the chunk's length, so they can never overflow:
 *   text       the records' strings: each record's strings are bytes of
 *              its own element, and the elements completed by one call
 *              are the chunk plus at most one element carried from before;
 *   recovered  a record's element is at least RECORD_MIN bytes (the three
 *              required members with one-byte values);
 *   skipped    every element but the carried one takes at least two bytes
 *              of the chunk ("{}").
 * The skip reasons are the decoder's static sentences: nothing to copy.
 */
#define CATCHUP_NAME(f) "panora:webhook/catchup@0.1.0#" f
#define CATCHUP_CHUNK_MAX (64u * 1024u)
#define RECORD_MIN (sizeof "{\"id_connection\":\"a\",\"connection_token\":\"b\",\"id_linked_user\":\"c\"}" - 1)

_Static_assert(ARENA_SIZE >= CATCHUP_CHUNK_MAX + 16u
	+ (CATCHUP_CHUNK_MAX + PW_CATCHUP_ELEMENT_MAX) + 16u
	+ ((CATCHUP_CHUNK_MAX + PW_CATCHUP_ELEMENT_MAX) / RECORD_MIN + 1u) * sizeof(cabi_token_record) + 16u
	+ (CATCHUP_CHUNK_MAX / 2u + 2u) * sizeof(cabi_str),
	"the arena holds a feed's largest output");

typedef struct {
	const void *ptr;
	size_t len;
} cabi_list;                              /* list<T>: two i32          */

struct feed_ret {                         /* result<listed, string>    */
	uint8_t is_err;
	union {
		struct {
			cabi_list recovered;          /* list<token-record>        */
			cabi_list skipped;            /* list<string>              */
		} ok;
		cabi_str err;
	} u;
};

struct finish_ret {                       /* result<tuple<u64,u64>, string> */
	uint8_t is_err;
	union {
		struct {
			uint64_t listed, skipped;
		} ok;
		cabi_str err;
	} u;
};

_Static_assert(offsetof(struct feed_ret, u) == 4 && sizeof(struct feed_ret) == 20,
	"result<listed, string> layout");
_Static_assert(offsetof(struct finish_ret, u) == 8 && sizeof(struct finish_ret) == 24,
	"result<tuple<u64, u64>, string> layout");

static unsigned char element[PW_CATCHUP_ELEMENT_MAX];
static pw_catchup cu;
static int cu_begun;
static pw_result cu_res;
static struct feed_ret feed_area;
static struct finish_ret finish_area;

/* Where one feed's output goes, carved from the arena after the chunk. */
typedef struct {
	char *text;
	size_t text_cap, text_len;
	cabi_token_record *rec;
	size_t rec_cap, nrec;
	cabi_str *skip;
	size_t skip_cap, nskip;
} out_area;

/* Take `n` bytes aligned to 16 from the arena, or NULL. */
static void *
arena_take(size_t n)
{
	size_t at = (arena_used + 15) & ~(size_t)15;

	if (at > ARENA_SIZE || n > ARENA_SIZE - at) {
		return NULL;
	}
	arena_used = at + n;
	return arena + at;
}

static int
out_init(out_area *o, size_t chunk_len)
{
	memset(o, 0, sizeof *o);
	o->text_cap = chunk_len + PW_CATCHUP_ELEMENT_MAX;
	o->rec_cap = o->text_cap / RECORD_MIN + 1;
	o->skip_cap = chunk_len / 2 + 2;
	o->text = arena_take(o->text_cap);
	o->rec = arena_take(o->rec_cap * sizeof *o->rec);
	o->skip = arena_take(o->skip_cap * sizeof *o->skip);
	return o->text != NULL && o->rec != NULL && o->skip != NULL;
}

/* A copy of `s` in the text area (room is checked by the caller). */
static cabi_str
keep_str(out_area *o, pw_span s)
{
	cabi_str c;

	c.ptr = o->text + o->text_len;
	c.len = s.ptr != NULL ? s.len : 0;
	if (c.len > 0) {
		memcpy(o->text + o->text_len, s.ptr, c.len);
	}
	o->text_len += c.len;
	return c;
}

static cabi_option_string
keep_opt(out_area *o, pw_span s)
{
	cabi_option_string v;

	memset(&v, 0, sizeof v);
	v.is_some = s.ptr != NULL;
	v.value = keep_str(o, s);
	return v;
}

#define keep_PW_FIELD_META     keep_str
#define keep_PW_FIELD_REQUIRED keep_str
#define keep_PW_FIELD_TEXT     keep_str
#define keep_PW_FIELD_OPTION   keep_opt

/* Copy one record out; 0 if the areas are full (the bounds above say
   they cannot be). */
static int
out_record(out_area *o, const pw_record *r)
{
	size_t need = 0;
	cabi_token_record *t;

#define PW_X_LEN(name, kind) need += r->name.ptr != NULL ? r->name.len : 0;
	PW_RECORD_FIELDS(PW_X_LEN)
#undef PW_X_LEN
	if (o->nrec == o->rec_cap || need > o->text_cap - o->text_len) {
		return 0;
	}
	t = &o->rec[o->nrec++];
	memset(t, 0, sizeof *t);
#define PW_X_KEEP(name, kind) t->name = keep_##kind(o, r->name);
	PW_RECORD_FIELDS(PW_X_KEEP)
#undef PW_X_KEEP
	return 1;
}

static int
out_skip(out_area *o, const pw_result *r)
{
	const char *why = r->message != NULL ? r->message : pw_status_message(r->status);

	if (o->nskip == o->skip_cap) {
		return 0;
	}
	o->skip[o->nskip].ptr = why;
	o->skip[o->nskip].len = strlen(why);
	o->nskip++;
	return 1;
}

EXPORT(CATCHUP_NAME("begin"))
void catchup_begin(void);

void
catchup_begin(void)
{
	pw_catchup_init(&cu, element, sizeof element);
	cu_begun = 1;
}

static struct feed_ret *
feed_fail(const char *why)
{
	memset(&feed_area, 0, sizeof feed_area);
	feed_area.is_err = 1;
	feed_area.u.err.ptr = why;
	feed_area.u.err.len = strlen(why);
	call_returned = 1;
	return &feed_area;
}

/* Run the decoder over the whole chunk, copying out what completes. */
static const char *
feed_chunk(out_area *o, const char *chunk, size_t len)
{
	size_t off = 0;

	for (;;) {
		size_t used = 0;
		pw_catchup_event ev = pw_catchup_feed(&cu, chunk + off, len - off,
			&used, &cu_res);

		off += used;
		if (ev == PW_CATCHUP_ERROR) {
			return cu.error;
		}
		if ((ev == PW_CATCHUP_RECORD && !out_record(o, &cu_res.record))
			|| (ev == PW_CATCHUP_SKIPPED && !out_skip(o, &cu_res)))
		{
			return "the catch-up output area is full";
		}
		if ((ev == PW_CATCHUP_MORE || ev == PW_CATCHUP_DONE) && off >= len) {
			return NULL;
		}
	}
}

EXPORT(CATCHUP_NAME("feed"))
struct feed_ret *catchup_feed(const char *chunk, size_t len);

struct feed_ret *
catchup_feed(const char *chunk, size_t len)
{
	out_area o;
	const char *why;

	new_call();
	if (!cu_begun) {
		return feed_fail("begin was not called");
	}
	if (len > CATCHUP_CHUNK_MAX) {
		return feed_fail("a chunk is larger than 64 KiB");
	}
	if (!out_init(&o, len)) {
		return feed_fail("the catch-up output area is full");
	}
	why = feed_chunk(&o, chunk != NULL ? chunk : "", len);
	if (why != NULL) {
		return feed_fail(why);
	}
	memset(&feed_area, 0, sizeof feed_area);
	feed_area.u.ok.recovered.ptr = o.rec;
	feed_area.u.ok.recovered.len = o.nrec;
	feed_area.u.ok.skipped.ptr = o.skip;
	feed_area.u.ok.skipped.len = o.nskip;
	call_returned = 1;
	return &feed_area;
}

POST_RETURN(post_feed, CATCHUP_NAME("feed"))

EXPORT(CATCHUP_NAME("finish"))
struct finish_ret *catchup_finish(void);

struct finish_ret *
catchup_finish(void)
{
	const char *why = "begin was not called";

	new_call();
	memset(&finish_area, 0, sizeof finish_area);
	if (cu_begun && pw_catchup_finish(&cu) == PW_CATCHUP_DONE) {
		finish_area.u.ok.listed = cu.listed;
		finish_area.u.ok.skipped = cu.skipped;
		return &finish_area;
	}
	if (cu_begun) {
		why = cu.error;
	}
	finish_area.is_err = 1;
	finish_area.u.err.ptr = why;
	finish_area.u.err.len = strlen(why);
	return &finish_area;
}
