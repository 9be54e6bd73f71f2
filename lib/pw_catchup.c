/*
 * pw_catchup.c -- the GET /connections answer as a stream of records.
 *
 * A small state machine frames the array: white space, '[', elements
 * separated by ',', ']'. Inside an element it follows only what framing
 * needs (strings, their escapes, and bracket depth) while copying the
 * bytes into the element buffer; the element's full check and decoding
 * are pw_connection_decode's, once its closing brace arrives. An element
 * larger than the buffer is followed to its end without being kept.
 *
 * Left out on purpose: a full grammar check of the framing's own bytes
 * beyond this (the elements are checked in full; between them only white
 * space, one comma and the brackets are accepted), and any reordering or
 * filtering of elements (the caller decides what to keep).
 */
#include <string.h>

#include "pw_catchup.h"
#include "pw_internal.h"

/* Where the scan is. */
enum {
	AT_START = 0,    /* before '['                                      */
	AT_FIRST,        /* after '[': an element or ']'                    */
	AT_ELEMENT,      /* inside an element                               */
	AT_AFTER,        /* after an element: ',' or ']'                    */
	AT_NEXT,         /* after ',': an element                           */
	AT_END,          /* after ']': white space only                     */
	AT_ERROR
};

static int
is_ws(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static pw_catchup_event
refuse(pw_catchup *c, const char *why)
{
	c->state = AT_ERROR;
	c->error = why;
	return PW_CATCHUP_ERROR;
}

/* see pw_catchup.h */
void
pw_catchup_init(pw_catchup *c, unsigned char *buf, size_t cap)
{
	memset(c, 0, sizeof *c);
	c->buf = buf;
	c->cap = buf != NULL ? cap : 0;
	c->state = AT_START;
	pw_context_init(&c->ctx, 0, NULL, 0);
}

static void
begin_element(pw_catchup *c)
{
	c->state = AT_ELEMENT;
	c->len = 0;
	c->depth = 0;
	c->in_string = c->escaped = c->oversized = 0;
}

/* A whole element has been read: decode it, or say why it is skipped. */
static pw_catchup_event
end_element(pw_catchup *c, pw_result *res)
{
	pw_status st;
	long j;

	c->state = AT_AFTER;
	c->listed++;
	memset(res, 0, sizeof *res);
	if (c->oversized) {
		c->skipped++;
		res->status = PW_ERR_UNUSABLE_DATA;
		res->message = "the connection is larger than the element limit";
		return PW_CATCHUP_SKIPPED;
	}
	st = pw__connection_decode(&c->ctx, c->buf, c->len, res, &j);
	if (st == PW_CAPTURED) {
		return PW_CATCHUP_RECORD;
	}
	/* Valid JSON that is not a usable connection is skipped; text that is
	   not JSON at all means the answer itself is broken. */
	if (j == PW_JSON_SYNTAX || j == PW_JSON_UTF8) {
		memset(res, 0, sizeof *res);
		return refuse(c, j == PW_JSON_UTF8
			? "the list holds an element that is not valid UTF-8"
			: "the list holds an element that is not valid JSON");
	}
	c->skipped++;
	return PW_CATCHUP_SKIPPED;
}

/*
 * Inside an element: copy and follow bytes until its closing brace.
 * Returns how many bytes of `p` it took; sets *done at the closing brace.
 */
static size_t
scan_element(pw_catchup *c, const unsigned char *p, size_t n, int *done)
{
	size_t i = 0;

	*done = 0;
	while (i < n) {
		unsigned ch = p[i++];

		if (c->in_string) {
			if (c->escaped) {
				c->escaped = 0;
			} else if (ch == '\\') {
				c->escaped = 1;
			} else if (ch == '"') {
				c->in_string = 0;
			}
		} else if (ch == '"') {
			c->in_string = 1;
		} else if (ch == '{' || ch == '[') {
			c->depth++;
		} else if (ch == '}' || ch == ']') {
			c->depth--;
		}
		if (!c->oversized) {
			if (c->len < c->cap) {
				c->buf[c->len++] = (unsigned char)ch;
			} else {
				c->oversized = 1;
			}
		}
		if (c->depth == 0) {
			*done = 1;
			break;
		}
		if (c->depth > PW_MAX_DEPTH) {
			c->oversized = 1;    /* deeper than any decoder goes: skip */
			if (c->depth > 0x10000) {
				break;           /* refused by the caller below */
			}
		}
	}
	return i;
}

/* see pw_catchup.h */
pw_catchup_event
pw_catchup_feed(pw_catchup *c, const char *data, size_t len, size_t *used,
	pw_result *res)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0;
	pw_catchup_event ev = PW_CATCHUP_MORE;

	memset(res, 0, sizeof *res);
	while (i < len && ev == PW_CATCHUP_MORE) {
		unsigned ch = p[i];
		int done;

		if (c->state == AT_ELEMENT) {
			i += scan_element(c, p + i, len - i, &done);
			if (done) {
				ev = end_element(c, res);
			} else if (c->depth > 0x10000) {
				ev = refuse(c, "the list nests deeper than any connection does");
			}
			continue;
		}
		if (c->state == AT_ERROR) {
			ev = PW_CATCHUP_ERROR;
			break;
		}
		if (is_ws(ch)) {
			i++;
			continue;
		}
		switch (c->state) {
		case AT_START:
			if (ch != '[') {
				ev = refuse(c, "the answer is not a JSON array");
				break;
			}
			c->state = AT_FIRST;
			i++;
			break;
		case AT_FIRST:
		case AT_NEXT:
			if (ch == ']' && c->state == AT_FIRST) {
				c->state = AT_END;
				i++;
				ev = PW_CATCHUP_DONE;
				break;
			}
			if (ch != '{') {
				ev = refuse(c, "the list holds an element that is not a JSON object");
				break;
			}
			begin_element(c);
			break;           /* the brace is the element's first byte */
		case AT_AFTER:
			if (ch == ',') {
				c->state = AT_NEXT;
			} else if (ch == ']') {
				c->state = AT_END;
				ev = PW_CATCHUP_DONE;
			} else {
				ev = refuse(c, "the list's elements are not separated by commas");
				break;
			}
			i++;
			break;
		default: /* AT_END */
			ev = refuse(c, "the answer goes on after the list's closing bracket");
			break;
		}
	}
	if (ev == PW_CATCHUP_MORE && c->state == AT_ERROR) {
		ev = PW_CATCHUP_ERROR;
	}
	*used = ev == PW_CATCHUP_ERROR ? len : i;
	return ev;
}

/* see pw_catchup.h */
pw_catchup_event
pw_catchup_finish(pw_catchup *c)
{
	switch (c->state) {
	case AT_END:
		return PW_CATCHUP_DONE;
	case AT_ERROR:
		return PW_CATCHUP_ERROR;
	case AT_START:
		return refuse(c, "the answer is empty");
	default:
		return refuse(c, "the answer ends before the list's closing bracket");
	}
}
