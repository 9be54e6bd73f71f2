/*
 * pw_catchup.h -- read Panora's GET /connections answer, one record at a
 * time, in bounded memory.
 *
 * Panora makes one delivery attempt of connection.created for six of its
 * seven verticals (PANORA_PROTOCOL.md): a receiver that is down or fails
 * at that moment loses the token unless it fetches it back. The way back
 * is GET /connections (x-api-key), which answers a JSON array of every
 * connection of the project, all columns, unpaginated: tens of MB for a
 * large project. This decoder takes that answer in chunks of any size,
 * as they arrive, and yields each element's token record through the same
 * strict Connection Object decoder a webhook's "data" goes through
 * (pw_handle), so the same row gives the same record on both paths.
 *
 * Memory is the caller's element buffer (the largest single connection
 * kept; PW_CATCHUP_ELEMENT_MAX is a good size) plus this context's token
 * array: never the list.
 *
 * Trust: these records are authenticated by TLS and the API key, not by
 * an HMAC; the list carries no signature.
 *
 * What an element is, and what becomes of it:
 *   - an object that decodes to a usable Connection Object: a record;
 *   - an object without a usable connection_token (null or missing), with
 *     a field of the wrong type, nested deeper or holding more values than
 *     the limits, or larger than the element buffer: skipped and counted,
 *     with the reason (an oversized element is skipped after a structural
 *     scan only: its bytes are never kept);
 *   - anything else (the list is not one JSON array of objects, is not
 *     valid JSON or UTF-8, or ends early): an error, and the run stops.
 *     Records yielded before it were complete, checked elements.
 *
 * access_token, refresh_token and token_type are skipped without being
 * decoded; the record never holds them.
 */
#ifndef PW_CATCHUP_H
#define PW_CATCHUP_H

#include "panora_webhook.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A good element buffer size: a connection row is well under 4 KiB. */
#ifndef PW_CATCHUP_ELEMENT_MAX
#define PW_CATCHUP_ELEMENT_MAX (64u * 1024u)
#endif

#if PW_CATCHUP_ELEMENT_MAX > 0x3fffffff
#error "PW_CATCHUP_ELEMENT_MAX must fit jsmn's int offsets"
#endif

/** What pw_catchup_feed or pw_catchup_finish stopped at. */
typedef enum {
	PW_CATCHUP_MORE = 0,      /* all the input was taken: feed more      */
	PW_CATCHUP_RECORD = 1,    /* an element decoded: res->record is set  */
	PW_CATCHUP_SKIPPED = 2,   /* an element skipped: res->message says why */
	PW_CATCHUP_DONE = 3,      /* the whole list was read                 */
	PW_CATCHUP_ERROR = -1     /* not a list of connections: see `error`  */
} pw_catchup_event;

/** The decoder's state. Treat the members as read-only but the counts. */
typedef struct {
	unsigned char *buf;       /* caller's element buffer                  */
	size_t cap;
	size_t len;               /* bytes of the current element kept       */
	unsigned state;           /* where in the array the scan is          */
	unsigned depth;           /* nesting inside the current element      */
	unsigned in_string, escaped, oversized;
	uint64_t listed;          /* elements read, records and skips        */
	uint64_t skipped;         /* elements that gave no record            */
	const char *error;        /* why the list was refused, else NULL     */
	pw_context ctx;           /* the Connection Object decoder's tokens  */
} pw_catchup;

/**
 * \brief Start reading one list into the element buffer `buf` of `cap`
 * bytes (the largest element kept; larger ones are skipped).
 */
void pw_catchup_init(pw_catchup *c, unsigned char *buf, size_t cap);

/**
 * \brief Take bytes of the answer, up to the next event.
 *
 * Reads from `data` until an element completes, the list ends, an error
 * is found, or the input runs out; `*used` says how many bytes were taken
 * (call again with the rest). `len` may be zero, then `data` may be NULL.
 *
 * \return PW_CATCHUP_RECORD: `res` holds a PW_CAPTURED result whose record
 *         points into the element buffer, valid until the next call;
 *         PW_CATCHUP_SKIPPED: `res` holds the refusal (status and message);
 *         PW_CATCHUP_MORE: `*used == len`, feed more or finish;
 *         PW_CATCHUP_DONE: the closing bracket was read (only white space
 *         may follow); PW_CATCHUP_ERROR: `c->error` says why, and every
 *         later call answers the same.
 */
pw_catchup_event pw_catchup_feed(pw_catchup *c, const char *data, size_t len,
	size_t *used, pw_result *res);

/**
 * \brief The answer has ended: PW_CATCHUP_DONE if the list was whole,
 * else PW_CATCHUP_ERROR (an answer cut short is an error, not a short
 * list).
 */
pw_catchup_event pw_catchup_finish(pw_catchup *c);

#ifdef __cplusplus
}
#endif

#endif
