/*
 * store.c -- the Spin flavour's store sink: captured records in the
 * key-value store "default" (wasi:keyvalue/store@0.2.0-draft2).
 *
 *   connection/<id_connection>   the record as JSON, written once: a retry
 *                                or a replay finds it and changes nothing
 *   linked-user/<id_linked_user> the JSON array of that user's
 *                                id_connections
 *
 * The index is written before the record, so a record is only ever
 * reported as kept once both are there. The index is read-modify-write: two
 * concurrent first deliveries for one user can lose an index entry, never
 * a record. The catch-up command (catchup_spin.c) writes what it recovers
 * through the same store_record, under the same keys and in the same JSON
 * (its id_event null: a listed connection has no delivery).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

#define KV "wasi:keyvalue/store@0.2.0-draft2"

IMPORT(KV, "open")
void kv_open(const char *id, size_t len, void *ret);
IMPORT(KV, "[method]bucket.get")
void kv_get(int32_t b, const char *key, size_t len, void *ret);
IMPORT(KV, "[method]bucket.set")
void kv_set(int32_t b, const char *key, size_t klen, const void *v, size_t vlen,
	void *ret);
IMPORT(KV, "[method]bucket.exists")
void kv_exists(int32_t b, const char *key, size_t len, void *ret);
IMPORT(KV, "[resource-drop]bucket")
void drop_bucket(int32_t h);

/* Spin's store refuses keys over 256 bytes */
#define KEY_MAX 256

/* `prefix` and `id` into `dst` (KEY_MAX bytes); its length, or 0 if the
   key would be too long. */
static size_t
key_of(char *dst, const char *prefix, pw_span id)
{
	size_t n = strlen(prefix);

	if (id.len > KEY_MAX - n) {
		return 0;
	}
	memcpy(dst, prefix, n);
	memcpy(dst + n, id.ptr, id.len);
	return n + id.len;
}

/* A memory bufsink over what is left of the arena, not yet claimed: what
   does not fit is counted, so len > cap shows it. */
static void
rest_sink(bufsink *m)
{
	m->send = NULL;
	m->target = 0;
	m->len = 0;
	m->buf = http_rest(&m->cap);
}

/* Does the index `ix` (as index_with writes it) hold the element `el`, a
   JSON string with its quotes? */
static int
index_holds(cabi_str ix, const char *el, size_t n)
{
	size_t i;

	for (i = 1; n > 0 && i + n < ix.len; i++) {
		if ((ix.ptr[i - 1] == '[' || ix.ptr[i - 1] == ',')
			&& memcmp(ix.ptr + i, el, n) == 0
			&& (ix.ptr[i + n] == ',' || ix.ptr[i + n] == ']'))
		{
			return 1;
		}
	}
	return 0;
}

/* How making the user's new index ended. */
typedef enum {
	INDEX_MADE = 0,       /* `list` is the index to write             */
	INDEX_HOLDS = 1,      /* it holds the connection already: a run
	                         that failed between index and record     */
	INDEX_FAILED = -1     /* the store could not be read, or no room  */
} index_result;

/* The user's index with `rec`'s id_connection appended, into `list`
   (not made on INDEX_HOLDS). */
static index_result
index_with(int32_t bucket, const char *key, size_t klen, const pw_record *rec,
	bufsink *list)
{
	cabi_result got;

	kv_get(bucket, key, klen, &got);
	if (got.is_err) {
		return INDEX_FAILED;
	}
	rest_sink(list);
	pw_json_write_string(bufsink_write, list, rec->id_connection.ptr,
		rec->id_connection.len);
	if (list->len <= list->cap && got.u.opt.is_some
		&& index_holds(got.u.opt.s, list->buf, list->len))
	{
		return INDEX_HOLDS;
	}
	list->len = 0;
	if (got.u.opt.is_some && got.u.opt.s.len >= 2) {      /* ["a","b"] */
		bufsink_put(list, got.u.opt.s.ptr, got.u.opt.s.len - 1);
		bufsink_puts(list, ",");
	} else {
		bufsink_puts(list, "[");
	}
	pw_json_write_string(bufsink_write, list, rec->id_connection.ptr,
		rec->id_connection.len);
	bufsink_puts(list, "]");
	return list->len <= list->cap ? INDEX_MADE : INDEX_FAILED;
}

/* see http.h */
sink_result
store_lookup(pw_result *res)
{
	const pw_record *rec = &res->record;
	char key[KEY_MAX], key2[KEY_MAX];
	size_t klen = key_of(key, "connection/", rec->id_connection);
	cabi_result r, w;
	sink_result rc = SINK_FAILED;

	/* store_record's keys: one it could not make, nothing is forwarded */
	if (klen == 0 || key_of(key2, "linked-user/", rec->id_linked_user) == 0) {
		kit_refuse(res, PW_ERR_STORAGE_FAILED,
			"id_connection or id_linked_user is too long for a store key");
		return SINK_FAILED;
	}
	kv_open("default", 7, &r);
	if (!r.is_err) {
		kv_exists(r.u.handle, key, klen, &w);
		if (!w.is_err) {
			rc = w.u.flag ? SINK_KNOWN : SINK_NONE;
		}
		drop_bucket(r.u.handle);
	}
	if (rc == SINK_FAILED) {
		kit_refuse(res, PW_ERR_STORAGE_FAILED, NULL);
	}
	return rc;
}

/* see http.h */
sink_result
store_record(pw_result *res)
{
	const pw_record *rec = &res->record;
	char key[KEY_MAX], key2[KEY_MAX];
	size_t klen, k2len;
	cabi_result r, w;
	bufsink json, list;
	int32_t bucket;
	sink_result rc = SINK_FAILED;

	klen = key_of(key, "connection/", rec->id_connection);
	k2len = key_of(key2, "linked-user/", rec->id_linked_user);
	if (klen == 0 || k2len == 0) {
		kit_refuse(res, PW_ERR_STORAGE_FAILED,
			"id_connection or id_linked_user is too long for a store key");
		return SINK_FAILED;
	}
	kv_open("default", 7, &r);
	if (r.is_err) {
		kit_refuse(res, PW_ERR_STORAGE_FAILED, NULL);
		return SINK_FAILED;
	}
	bucket = r.u.handle;
	kv_exists(bucket, key, klen, &w);
	if (w.is_err) {
		goto done;
	}
	if (w.u.flag) {
		rc = SINK_KNOWN;
		goto done;
	}
	rest_sink(&json);
	pw_write_response(res, bufsink_write, &json);
	if (json.len > json.cap) {
		goto done;
	}
	http_take(json.len);
	/* the index goes after what the host hands over for it */
	switch (index_with(bucket, key2, k2len, rec, &list)) {
	case INDEX_MADE:
		http_take(list.len);
		kv_set(bucket, key2, k2len, list.buf, list.len, &w);
		if (w.is_err) {
			goto done;
		}
		break;
	case INDEX_HOLDS:
		break;
	default:
		goto done;
	}
	kv_set(bucket, key, klen, json.buf, json.len, &w);
	if (w.is_err) {
		goto done;
	}
	rc = SINK_KEPT;
done:
	drop_bucket(bucket);
	if (rc == SINK_FAILED) {
		kit_refuse(res, PW_ERR_STORAGE_FAILED, NULL);
	}
	return rc;
}
