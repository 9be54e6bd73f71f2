/*
 * panora_webhook.h -- verify and decode one Panora webhook delivery.
 *
 * Panora signs a delivery with
 *
 *     hex(HMAC-SHA256(endpoint secret, JSON.stringify(event.data)))
 *
 * and, since the body is itself JSON.stringify({id_event, data, type}),
 * the signed bytes are exactly the raw text of the top-level "data" value
 * in the body, quotes included. This library finds that span, MACs it with
 * BearSSL, compares in constant time, and only then decodes "data" (a JSON
 * string holding the Connection Object, or an object) into a token record.
 *
 * Design:
 *   - No heap, no I/O, no WASI calls. The caller owns every buffer: a
 *     pw_context (the token array, and a decode scratch buffer at least
 *     as long as the body) and a pw_keyring (precomputed HMAC key states).
 *   - Inputs are (pointer, length) pairs. Outputs are spans: a record field
 *     points either into the caller's body or into ctx->scratch, so the
 *     record is valid as long as both are left untouched.
 *   - One error enum, pw_status, mapped to HTTP statuses and stable
 *     machine-readable codes by one table (pw_status_http, pw_status_code).
 *   - One return convention below it, as jsmn's: a count (>= 0) or a
 *     negative named error (pw_decode_error, pw_json_error, PW_KEY_FULL);
 *     a call with nothing to count returns its _OK (0) or a negative
 *     named error (pw_url_result, pw_forward_key_result); a call with
 *     more than one success names each (pw_key_result); a question
 *     returns 1 or 0.
 *   - JSON is checked against the full RFC 8259 grammar and UTF-8 by a
 *     non-recursive scanner before jsmn tokenises it; depth, token count
 *     and member count are bounded.
 *
 * Deliberately left out: timestamps and replay windows (Panora signs
 * none), re-serialisation of "data" (the raw span is what was signed),
 * and anything that would copy access_token, refresh_token or token_type
 * (they are never read).
 */
#ifndef PW_PANORA_WEBHOOK_H
#define PW_PANORA_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl_hmac.h"
#include "pw_jsmn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Compile-time limits                                                  */
/* ------------------------------------------------------------------ */

/** Largest body accepted, in bytes (override with -DPW_BODY_MAX=...). */
#ifndef PW_BODY_MAX
#define PW_BODY_MAX (1024u * 1024u)
#endif

/** Most JSON tokens (values and keys) in the envelope or in "data". */
#ifndef PW_MAX_TOKENS
#define PW_MAX_TOKENS 512
#endif

/** Deepest nesting of objects and arrays accepted (1..64). */
#ifndef PW_MAX_DEPTH
#define PW_MAX_DEPTH 32
#endif

/** Most secrets in a keyring (rotation keeps two or three). */
#ifndef PW_MAX_SECRETS
#define PW_MAX_SECRETS 8
#endif

/** Most members in the top-level envelope object. */
#ifndef PW_MAX_MEMBERS
#define PW_MAX_MEMBERS 32
#endif

/**
 * Decode scratch needed for a body of `len` bytes: the decoded id_event,
 * type and data are never longer than their escaped forms, and the
 * Connection Object's fields are decoded in place inside the decoded data,
 * so the body's own length is always enough.
 */
#define PW_SCRATCH_FOR(len) ((size_t)(len))

/** Most bytes of one value a receipt or a log line carries (clipped on a
 * character boundary). */
#define PW_TEXT_CLIP 128u

/** Length of a Panora-Signature value: 64 hex digits. */
#define PW_SIGNATURE_HEX_LEN 64

/** The decimal text of a limit macro, for messages that name it. */
#define PW_STR(x) PW_STR_(x)
#define PW_STR_(x) #x

#if PW_MAX_DEPTH < 1 || PW_MAX_DEPTH > 64
#error "PW_MAX_DEPTH must be between 1 and 64"
#endif
#if PW_BODY_MAX > 0x3fffffff
#error "PW_BODY_MAX must fit jsmn's int offsets"
#endif

/* ------------------------------------------------------------------ */
/* Status                                                               */
/* ------------------------------------------------------------------ */

/**
 * The outcome of a request. PW_CAPTURED and PW_IGNORED are successes;
 * everything else is an error with one HTTP status and one stable code.
 */
typedef enum {
	PW_CAPTURED = 0,            /* 200 token record decoded            */
	PW_IGNORED,                 /* 200 verified, other event type      */
	PW_ERR_METHOD_NOT_ALLOWED,  /* 405 method_not_allowed              */
	PW_ERR_PAYLOAD_TOO_LARGE,   /* 413 payload_too_large               */
	PW_ERR_MALFORMED_REQUEST,   /* 400 malformed_request               */
	PW_ERR_MISSING_SIGNATURE,   /* 400 missing_signature (or ill-formed) */
	PW_ERR_BAD_SIGNATURE,       /* 401 bad_signature                   */
	PW_ERR_UNUSABLE_DATA,       /* 422 unusable_data                   */
	PW_ERR_NO_SECRET,           /* 500 no_secret                       */
	/* Never from pw_handle: the caller's verdict on the record:       */
	PW_ERR_NO_SINK,             /* 500 no_sink: nothing keeps it       */
	PW_ERR_SINK_FAILED,         /* 503 sink_failed: not forwarded      */
	PW_ERR_STORAGE_FAILED,      /* 503 storage_failed: not stored      */
	PW_STATUS_COUNT
} pw_status;

/** \brief HTTP status for `st` (500 for an out-of-range value). */
unsigned pw_status_http(pw_status st);

/** \brief HTTP reason phrase for `st`, e.g. "Unauthorized". */
const char *pw_status_reason(pw_status st);

/**
 * \brief Stable machine-readable code: "captured", "ignored" or one of
 * the error codes listed above. Never NULL.
 */
const char *pw_status_code(pw_status st);

/**
 * \brief The table's own English sentence for `st`, for a caller that
 * refuses a request without a more precise one. Never NULL.
 */
const char *pw_status_message(pw_status st);

/**
 * \brief A 2xx status? (PW_CAPTURED and PW_IGNORED; only then does the
 * sender get a receipt rather than a JSON error.)
 */
int pw_status_ok(pw_status st);

/* ------------------------------------------------------------------ */
/* Spans and the token record                                           */
/* ------------------------------------------------------------------ */

/** A byte string. `ptr == NULL` means absent or JSON null. */
typedef struct {
	const char *ptr;
	size_t len;
} pw_span;

/** What a record field may hold (PW_RECORD_FIELDS). */
enum {
	PW_FIELD_META,      /* delivery metadata, not read from data          */
	PW_FIELD_REQUIRED,  /* a non-empty string, else the data is unusable  */
	PW_FIELD_TEXT,      /* a string, or null when null or absent          */
	PW_FIELD_OPTION     /* the same; in the WIT an option<string>         */
};

/**
 * The token record's fields, in their one order: X(name, kind). Names are
 * Panora's. The record struct, the decoder's table, the JSON writer, the
 * component's ABI copy and the tests' field walk are all generated from
 * this list, and so is build/fields.json (lib/pw_fields.json.in), which
 * the JavaScript side reads: the test generator, the reference host and
 * its SQLite schema. Only the WIT (wit/catcher.wit) names the fields
 * again; the component's layout asserts and the tests check that it
 * agrees.
 *
 * Adding a field: one line here, one in the WIT's token-record, the docs.
 */
#define PW_RECORD_FIELDS(X) \
	X(id_event,             PW_FIELD_META)     /* unsigned delivery id   */ \
	X(id_connection,        PW_FIELD_REQUIRED) /* signed; idempotency key */ \
	X(connection_token,     PW_FIELD_REQUIRED) /* the secret to keep     */ \
	X(id_linked_user,       PW_FIELD_REQUIRED)                             \
	X(id_project,           PW_FIELD_TEXT)                                 \
	X(provider_slug,        PW_FIELD_TEXT)                                 \
	X(vertical,             PW_FIELD_TEXT)                                 \
	X(status,               PW_FIELD_TEXT)                                 \
	X(account_url,          PW_FIELD_OPTION)                               \
	X(created_at,           PW_FIELD_TEXT)                                 \
	X(expiration_timestamp, PW_FIELD_OPTION)

/**
 * The token record of a connection.created delivery, one pw_span per
 * PW_RECORD_FIELDS entry. id_connection, connection_token and
 * id_linked_user are always non-empty; the other fields are null (ptr
 * NULL) when Panora sent null or left them out. Every field is valid UTF-8
 * without NUL bytes.
 */
typedef struct {
#define PW_X_SPAN(name, kind) pw_span name;
	PW_RECORD_FIELDS(PW_X_SPAN)
#undef PW_X_SPAN
} pw_record;

/** The result of pw_handle. */
typedef struct {
	pw_status status;
	const char *message; /* static English sentence; never input bytes */
	pw_span id_event;    /* set once the signature matched (delivery    */
	pw_span type;        /*   metadata for logs), else NULL             */
	pw_record record;    /* filled only for PW_CAPTURED, else all NULL  */
	const char *cause;   /* static word for the log: why the record     */
	                     /*   was not kept, else NULL                   */
} pw_result;

/* ------------------------------------------------------------------ */
/* Keyring                                                              */
/* ------------------------------------------------------------------ */

/**
 * Precomputed HMAC-SHA256 key states for the endpoint secrets. Holds key
 * material: wipe it with pw_keyring_wipe when done.
 */
typedef struct {
	br_hmac_key_context keys[PW_MAX_SECRETS];
	size_t count;
	int overflow;     /* more secrets were offered than PW_MAX_SECRETS */
} pw_keyring;

/** \brief Empty keyring. */
void pw_keyring_init(pw_keyring *kr);

/** What pw_keyring_add did. */
typedef enum {
	PW_KEY_ADDED = 1,   /* the secret is now a key                         */
	PW_KEY_EMPTY = 0,   /* `len` was zero: an empty secret is never a key  */
	PW_KEY_FULL = -1    /* the keyring was full; `overflow` is now set     */
} pw_key_result;

/** \brief Add one secret (UTF-8 bytes, used as-is as the HMAC key). */
pw_key_result pw_keyring_add(pw_keyring *kr, const void *secret, size_t len);

/**
 * \brief Add a comma-separated secret list, as the adapters' secret
 * setting holds.
 *
 * Spaces and tabs around each entry are trimmed; empty entries are
 * skipped (",," adds nothing). A secret therefore cannot contain a comma
 * or start or end with white space; Panora's secrets (UUIDs, whsec_...)
 * never do.
 *
 * \return the number of secrets added, or PW_KEY_FULL if there are more
 *         than PW_MAX_SECRETS in the keyring: the keys are then wiped and
 *         `overflow` is set, so pw_handle answers PW_ERR_NO_SECRET.
 */
int pw_keyring_add_list(pw_keyring *kr, const char *list, size_t len);

/** \brief Zero all key material. The keyring is empty afterwards. */
void pw_keyring_wipe(pw_keyring *kr);

/* ------------------------------------------------------------------ */
/* Request handling                                                     */
/* ------------------------------------------------------------------ */

/** The parts of the HTTP request that matter. */
typedef struct {
	pw_span method;       /* "POST"; NULL means POST (direct invocation) */
	pw_span signature;    /* Panora-Signature value; NULL if absent      */
	pw_span content_type; /* NULL if absent                              */
	pw_span body;         /* raw body; ptr may be NULL when len is 0     */
	unsigned repeated;    /* PW_REPEATED_* bits, if the caller can tell  */
} pw_request;

/** pw_request.repeated: the header came more than once (refused). */
#define PW_REPEATED_SIGNATURE    1u
#define PW_REPEATED_CONTENT_TYPE 2u

/**
 * Working memory for one request: the token array (about 10 KiB) and the
 * caller's decode scratch. The record returned by pw_handle may point into
 * the scratch.
 */
typedef struct {
	size_t body_max;                 /* runtime limit, <= PW_BODY_MAX */
	unsigned char *scratch;          /* caller's, >= PW_SCRATCH_FOR(body) */
	size_t scratch_cap;
	jsmntok_t toks[PW_MAX_TOKENS];
} pw_context;

/**
 * \brief Prepare `ctx` with a runtime body limit and a scratch buffer. A
 * `body_max` of 0 or above PW_BODY_MAX means PW_BODY_MAX. A body longer
 * than `scratch_cap` is refused with PW_ERR_PAYLOAD_TOO_LARGE, so give at
 * least PW_SCRATCH_FOR(body_max) bytes, or size it per request.
 */
void pw_context_init(pw_context *ctx, size_t body_max, unsigned char *scratch,
	size_t scratch_cap);

/**
 * \brief Verify and decode one delivery.
 *
 * Checks, in this order, and stops at the first failure: method (POST),
 * body size, keyring not empty and not overflowed, signature header given
 * once, present and 64 hex digits, content type (given at most once;
 * absent or application/json), the envelope (one
 * JSON object; "id_event" and "type" strings; "data" a string or object;
 * no duplicated or escaped top-level key), the HMAC of the raw "data"
 * span against every secret (constant time, all secrets tried), then, for
 * type "connection.created" only, the decoded Connection Object.
 *
 * Nothing in "data" is decoded before the signature matches.
 *
 * \param ctx  working memory (see pw_context_init).
 * \param kr   the endpoint secrets.
 * \param req  the request; its body MUST stay untouched while `res` is used.
 * \param res  receives the status, a message and, for PW_CAPTURED, the
 *             record. On any error the record is all-NULL.
 * \return res->status.
 */
pw_status pw_handle(pw_context *ctx, const pw_keyring *kr,
	const pw_request *req, pw_result *res);

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/** A byte sink: receives the output in pieces, in order. */
typedef void pw_sink(void *arg, const char *data, size_t len);

/**
 * \brief Write the JSON response body for `res`:
 *
 *   captured: {"outcome":"captured","id_event":..,"id_connection":..,
 *              "connection_token":..,"id_linked_user":..,"id_project":..,
 *              "provider_slug":..,"vertical":..,"status":..,
 *              "account_url":..,"created_at":..,"expiration_timestamp":..}
 *   ignored:  {"outcome":"ignored","type":..,"message":..}
 *   error:    {"outcome":"rejected","error":<code>,"message":..}
 *
 * Strings are escaped (quote, backslash, control characters); UTF-8 passes
 * through. Error bodies hold no input bytes.
 */
void pw_write_response(const pw_result *res, pw_sink *sink, void *arg);

/**
 * \brief Write the receipt for a 2xx answer to the sender: one line of
 * plain text, never a record field but the signed id_connection:
 *
 *   captured: "captured <id_connection> <kept>\n"  (kept: what kept the
 *             record, in the caller's words: "new", "known", "forwarded",
 *             "new forwarded", ...; NULL writes the word "kept")
 *   ignored:  "ignored <type>\n"
 *
 * Panora stores whatever a 2xx carries in a text column, and counts an
 * answer that parses as a JSON object, array, number or boolean as a
 * failed delivery (PANORA_PROTOCOL.md): a line that starts with a letter
 * other than t, f or n never parses as JSON. Values are clipped to
 * PW_TEXT_CLIP bytes on a character boundary; control bytes, space, DEL,
 * backslash and each byte of a C1 control (U+0080..U+009F), U+2028,
 * U+2029 or a bidirectional override or isolate (U+202A..U+202E,
 * U+2066..U+2069) are written as \xHH. For other statuses this writes
 * nothing: use pw_write_response.
 */
void pw_write_receipt(const pw_result *res, const char *kept, pw_sink *sink,
	void *arg);

/**
 * \brief Write one JSON log line (newline-terminated) for `res`: outcome,
 * HTTP status, error code, and for verified requests id_event, type,
 * provider_slug and vertical, each clipped to PW_TEXT_CLIP bytes, and
 * `cause` when set. The characters the receipt escapes are written as
 * \uXXXX escapes there too. Never tokens or secrets.
 */
void pw_write_log(const pw_result *res, pw_sink *sink, void *arg);

/* ------------------------------------------------------------------ */
/* Building blocks (exposed for tests, fuzzing and other callers)       */
/* ------------------------------------------------------------------ */

/** Why a decoder (hex, base64, a JSON string's inside) refused its input. */
typedef enum {
	PW_DECODE_INVALID = -1, /* not that encoding: a character, escape or   */
	                        /*   length no encoder makes                   */
	PW_DECODE_CAP     = -2  /* well formed so far, but `out` is too small  */
} pw_decode_error;

/**
 * \brief Decode hex (upper or lower case) into `out`.
 * \return the number of bytes written; else PW_DECODE_INVALID if `hex_len`
 *         is odd, else PW_DECODE_CAP if the result would exceed `cap`,
 *         else PW_DECODE_INVALID if a digit is not hex (on any error `out`
 *         is zeroed up to `cap`). Runs in time that depends only on lengths.
 */
long pw_hex_decode(unsigned char *out, size_t cap, const char *hex,
	size_t hex_len);

/**
 * \brief Constant-time equality of two `len`-byte buffers.
 * \return 1 if equal, 0 if not. No early exit.
 */
int pw_ct_equal(const void *a, const void *b, size_t len);

/**
 * \brief The signature check alone, branch-free on secret and signature:
 * HMAC-SHA256 of `msg` under every key in `kr`, each compared with the
 * 64-hex-digit `sig_hex`.
 * \return 1 if any key matches, 0 otherwise (also for an empty keyring or
 *         a `sig_hex` that is not 64 hex digits).
 */
int pw_verify(const pw_keyring *kr, const char *sig_hex, size_t sig_len,
	const void *msg, size_t msg_len);

/**
 * \brief The one ASCII case-insensitive compare: does (p, len) start with
 * `lower`, in any ASCII case? `lower` is a NUL-terminated string that MUST
 * be lower-case ASCII; only 'A'..'Z' in (p, len) are folded. With
 * `len == strlen(lower)` this is equality (a header name, a media type,
 * a URL scheme). `p` may be NULL when `len` is 0.
 * \return 1 if it does, 0 if not (also when `len` is shorter than `lower`).
 */
int pw_prefix_nocase(const char *p, size_t len, const char *lower);

/** \brief Overwrite `len` bytes with zeros in a way the compiler keeps. */
void pw_wipe(void *p, size_t len);

/** Why a JSON text was refused by pw_json_check (negative values). */
typedef enum {
	PW_JSON_SYNTAX  = -1, /* not RFC 8259 JSON                        */
	PW_JSON_UTF8    = -2, /* invalid UTF-8 or a NUL byte              */
	PW_JSON_DEPTH   = -3, /* nesting deeper than PW_MAX_DEPTH         */
	PW_JSON_TOKENS  = -4, /* more than PW_MAX_TOKENS tokens           */
	PW_JSON_NOT_OBJ = -5  /* valid, but the top level is not an object */
} pw_json_error;

/**
 * \brief Check that `js` is exactly one JSON object (surrounding white
 * space allowed), strictly per RFC 8259, in valid UTF-8 with no NUL byte,
 * within the depth and token limits. Non-recursive, one pass.
 * \return the number of jsmn tokens it holds (>= 1), or a pw_json_error.
 */
long pw_json_check(const char *js, size_t len);

/**
 * \brief Decode the inside of a JSON string literal (no quotes) into
 * UTF-8: the two-character escapes, \uXXXX and surrogate pairs. Rejects a
 * lone surrogate, a bad escape, an unescaped quote or control character,
 * and invalid UTF-8. `out` may equal `in` (decoding in place: the output
 * never overtakes the input); otherwise they MUST NOT overlap. `cap >= len`
 * is always enough.
 * \return the number of bytes written, PW_DECODE_INVALID, or PW_DECODE_CAP
 *         when the decoded text would exceed `cap`, whichever comes first
 *         (after an error nothing useful is in `out`).
 */
long pw_json_unescape(unsigned char *out, size_t cap, const char *in,
	size_t len);

/**
 * \brief Write `s` as a JSON string literal, quotes included.
 * Quote, backslash and bytes below 0x20 are escaped; other bytes pass.
 */
void pw_json_write_string(pw_sink *sink, void *arg, const char *s,
	size_t len);

#ifdef __cplusplus
}
#endif

#endif
