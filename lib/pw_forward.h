/*
 * pw_forward.h -- the captured record as a Standard Webhooks message, for
 * a sink that POSTs it to the user's backend.
 *
 *   webhook-id:        pw_forward_id(): "msg_" and 32 hex digits of
 *                      SHA-256(id_connection), the same for every delivery
 *                      of one connection, so the backend can deduplicate
 *   webhook-timestamp: unix seconds
 *   webhook-signature: "v1," base64(HMAC-SHA256(key, id "." ts "." body))
 *   body:              pw_forward_write_body()
 *
 * The key is the forward secret "whsec_<base64>", decoded. The target is
 * an http or https URL (pw_url_parse). Everything here is in pw_forward.c;
 * the verify side (panora_webhook.h) needs none of it.
 *
 * Like the rest of lib/: no heap, no I/O, the caller owns every buffer.
 */
#ifndef PW_FORWARD_H
#define PW_FORWARD_H

#include "panora_webhook.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Length of a webhook-id from pw_forward_id. */
#define PW_FORWARD_ID_LEN 36
/** Length of a webhook-signature from pw_forward_sign_end: "v1," + 44. */
#define PW_FORWARD_SIG_LEN 47
/** Decoded forward-secret lengths accepted (Standard Webhooks: 24..64). */
#define PW_FORWARD_KEY_MIN 16
#define PW_FORWARD_KEY_MAX 64

/** The forward secret, decoded and ready for HMAC. Wipe with pw_wipe. */
typedef struct {
	br_hmac_key_context key;
} pw_forward_key;

/** Why pw_forward_key_init refused a secret (negative values). */
typedef enum {
	PW_FORWARD_KEY_OK     =  0,
	PW_FORWARD_KEY_PREFIX = -1, /* it does not start with "whsec_"        */
	PW_FORWARD_KEY_BASE64 = -2, /* the rest is not base64                 */
	PW_FORWARD_KEY_LENGTH = -3  /* it decodes to fewer than               */
	                            /*   PW_FORWARD_KEY_MIN or more than      */
	                            /*   PW_FORWARD_KEY_MAX bytes             */
} pw_forward_key_result;

/**
 * \brief Set up `k` from a "whsec_<base64>" secret (standard alphabet,
 * padding optional; the prefix is required, in lower case).
 * \return PW_FORWARD_KEY_OK, or the reason the secret is unusable (then
 *         `k` is zeroed).
 */
pw_forward_key_result pw_forward_key_init(pw_forward_key *k,
	const char *secret, size_t len);

/** \brief The webhook-id of `rec` (not NUL-terminated). */
void pw_forward_id(char out[PW_FORWARD_ID_LEN], const pw_record *rec);

/**
 * \brief Write the message body for a captured `res`:
 * {"type":"connection.created","timestamp":"<ISO-8601 UTC of unix_seconds>",
 *  "data":{"id_event":..,"id_connection":..,...}} with the record's fields
 * in the order of pw_write_response, absent ones as null. Deterministic:
 * the same input gives the same bytes (it is written twice: once to sign,
 * once to send).
 */
void pw_forward_write_body(const pw_result *res, uint64_t unix_seconds,
	pw_sink *sink, void *arg);

/** Signing state for one message. */
typedef struct {
	br_hmac_context mac;
	size_t body_len;       /* body bytes seen so far */
} pw_forward_signer;

/** \brief Start signing: MACs "<id>.<unix_seconds>." under `k`. */
void pw_forward_sign_begin(pw_forward_signer *s, const pw_forward_key *k,
	const char *id, size_t id_len, uint64_t unix_seconds);

/** \brief A pw_sink: `arg` is the pw_forward_signer; MACs the body. */
void pw_forward_sign_update(void *arg, const char *data, size_t len);

/** \brief Finish: "v1,<base64 MAC>" into `out`; wipes the state. */
void pw_forward_sign_end(pw_forward_signer *s, char out[PW_FORWARD_SIG_LEN]);

/** Where a forward goes: spans into the configured URL. */
typedef struct {
	int https;             /* 1 for https, 0 for http                 */
	pw_span authority;     /* host[:port], checked as below           */
	pw_span path;          /* path and query as written; see below    */
} pw_url;

/** Why pw_url_parse refused a URL (negative values; PW_URL_OK is 0). */
typedef enum {
	PW_URL_OK       =  0,
	PW_URL_SCHEME   = -1, /* not http:// or https://, in any case      */
	PW_URL_CHAR     = -2, /* a byte no URL holds as it is: white space, */
	                      /*   a control, non-ASCII, "<>\^`{|}[], or a  */
	                      /*   '%' not followed by two hex digits        */
	PW_URL_FRAGMENT = -3, /* a '#' fragment                            */
	PW_URL_USERINFO = -4, /* user information (user@host)              */
	PW_URL_HOST     = -5, /* an empty host, or one that is not a name  */
	                      /*   or an IPv4 address (letters, digits,    */
	                      /*   '-', '.', '_')                          */
	PW_URL_IPV6     = -6, /* an IPv6 literal ([...]): not supported    */
	PW_URL_PORT     = -7  /* a port that is not a number 1..65535      */
} pw_url_result;

/**
 * \brief Split an absolute http or https URL: scheme (matched in any
 * case), then host[:port], then the path and query. `path` is "/" when
 * the URL ends after the authority; when the URL has a query and no path
 * (`http://h:8080?x=1`), `path` starts with '?' and the request target is
 * "/" followed by it. IPv6 literals are refused: HTTP clients differ in
 * how they take one, so a forward names its backend by host name or IPv4
 * address.
 * \return PW_URL_OK, or the first reason the URL is unusable (then `u` is
 *         zeroed).
 */
pw_url_result pw_url_parse(pw_url *u, const char *url, size_t len);

/** \brief Decimal digits of `v` into `out`; returns how many (1..20). */
size_t pw_u64_dec(char out[20], uint64_t v);

/* ------------------------------------------------------------------ */
/* Building blocks (exposed for tests and fuzzing)                      */
/* ------------------------------------------------------------------ */

/**
 * \brief Decode base64 (standard alphabet; '=' padding optional, but only
 * at the end) into `out`.
 * \return the number of bytes written; PW_DECODE_INVALID for a length no
 *         encoder makes or any other character; PW_DECODE_CAP for more
 *         than `cap` bytes (checked before any character).
 */
long pw_base64_decode(unsigned char *out, size_t cap, const char *in,
	size_t len);

/**
 * \brief Encode `len` bytes as padded base64 into `out`, which MUST hold
 * 4 * ((len + 2) / 3) bytes. \return that length.
 */
size_t pw_base64_encode(char *out, const unsigned char *in, size_t len);

#ifdef __cplusplus
}
#endif

#endif
