/*
 * component.c -- the panora:webhook/handler@0.1.0 export (wit/catcher.wit),
 * in hand-written canonical-ABI glue.
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
} cabi_token_record;                      /* 96 bytes                  */

struct ret {                              /* result<outcome, failure>  */
	uint8_t is_err;
	union {
		struct {                          /* variant outcome           */
			uint8_t tag;                  /* 0 captured, 1 ignored     */
			union {
				cabi_token_record captured;
				cabi_str ignored;
			} u;
		} ok;
		struct {                          /* record failure            */
			uint8_t code;                 /* enum error-code           */
			uint16_t http_status;
			cabi_str message;
		} err;
	} u;
};

_Static_assert(sizeof(cabi_str) == 8, "string is two i32");
_Static_assert(sizeof(cabi_option_string) == 12, "option<string> layout");
_Static_assert(sizeof(cabi_token_record) == 96, "token-record layout");
_Static_assert(offsetof(cabi_token_record, created_at) == 76, "created-at offset");
_Static_assert(offsetof(struct ret, u) == 4, "result payload at 4");
_Static_assert(offsetof(struct ret, u.ok.u) == 8, "outcome payload at 4");
_Static_assert(offsetof(struct ret, u.err.http_status) == 6, "failure.http-status");
_Static_assert(offsetof(struct ret, u.err.message) == 8, "failure.message");

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
static pw_keyring kr;
static pw_result res;
static struct ret ret_area;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);

void *
cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
	if (call_returned) {                  /* arguments of a new call */
		arena_used = 0;
		call_returned = 0;
	}
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
	pw_keyring_init(&kr);
	for (i = 0; i < nsecrets && !kr.overflow; i++) {
		pw_keyring_add_list(&kr, secrets[i].ptr, secrets[i].len);
	}

	{
		/* the decode scratch comes from the arena, after the arguments */
		size_t at = (arena_used + 15) & ~(size_t)15;
		size_t room = at < ARENA_SIZE ? ARENA_SIZE - at : 0;

		pw_context_init(&ctx, 0, arena + at, room);
		pw_handle(&ctx, &kr, &req, &res);
	}
	pw_keyring_wipe(&kr);

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

EXPORT("cabi_post_" HANDLE_NAME)
void post_handle(struct ret *r);

/* After the host has lifted the result: forget this call's memory. */
void
post_handle(struct ret *r)
{
	(void)r;
	arena_used = 0;
	call_returned = 0;
}
