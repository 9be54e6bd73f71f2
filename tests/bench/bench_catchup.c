/*
 * bench_catchup.c -- the native catch-up decoder's throughput (make bench).
 *
 *   bench_catchup LIST_FILE RECORDS
 *
 * Reads a GET /connections answer (made by bench.mjs with the stand-in
 * API's rows) into memory once, then runs pw_catchup over it in 64 KiB
 * chunks, as the hosts feed it, `runs` times (BENCH_NATIVE_RUNS, 1 to 9,
 * default 9). Every run must yield exactly RECORDS records and end DONE.
 * Prints one JSON object: connections per second (median, min, max over
 * the runs) and the decoder's whole memory (its context and element
 * buffer: static, whatever the list's length).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pw_catchup.h"

#define RUNS 9
#define CHUNK (64u * 1024u)

static unsigned char element[PW_CATCHUP_ELEMENT_MAX];
static pw_catchup cu;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One pass over the list; the number of records, or -1 if it did not end
   DONE. */
static long
one_pass(const char *list, size_t len, unsigned long long *listed)
{
	size_t off = 0;
	long records = 0;
	pw_result res;

	pw_catchup_init(&cu, element, sizeof element);
	while (off < len) {
		size_t n = len - off < CHUNK ? len - off : CHUNK, at = 0;

		while (at < n) {
			size_t used = 0;
			pw_catchup_event ev = pw_catchup_feed(&cu, list + off + at, n - at, &used, &res);

			at += used;
			if (ev == PW_CATCHUP_ERROR) {
				return -1;
			}
			records += ev == PW_CATCHUP_RECORD;
		}
		off += n;
	}
	*listed = cu.listed;
	return pw_catchup_finish(&cu) == PW_CATCHUP_DONE ? records : -1;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char *list;
	long size, want, got;
	unsigned long long listed = 0;
	double per_s[RUNS];
	int r, runs = RUNS;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_catchup LIST_FILE RECORDS\n");
		return 2;
	}
	if (getenv("BENCH_NATIVE_RUNS") != NULL) {
		runs = atoi(getenv("BENCH_NATIVE_RUNS"));
		if (runs < 1 || runs > RUNS) {
			runs = RUNS;
		}
	}
	want = atol(argv[2]);
	f = fopen(argv[1], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
		perror(argv[1]);
		return 1;
	}
	rewind(f);
	list = malloc((size_t)size + 1);
	if (list == NULL || fread(list, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "bench_catchup: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	for (r = 0; r < runs; r++) {
		double t0 = now_s();

		got = one_pass(list, (size_t)size, &listed);
		if (got != want) {
			fprintf(stderr, "bench_catchup: %ld records, want %ld\n", got, want);
			return 1;
		}
		per_s[r] = (double)listed / (now_s() - t0);
	}
	qsort(per_s, (size_t)runs, sizeof per_s[0], cmp);
	printf("{\"name\": \"native catch-up\", \"unit\": \"connections/s\", \"median\": %.0f, "
		"\"min\": %.0f, \"max\": %.0f, \"listed\": %llu, \"bytes\": %ld, \"decoder_bytes\": %zu}\n",
		per_s[runs / 2], per_s[0], per_s[runs - 1], listed, size,
		sizeof cu + sizeof element);
	free(list);
	return 0;
}
