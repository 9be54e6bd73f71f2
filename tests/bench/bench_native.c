/*
 * bench_native.c -- the native core's cost per delivery (make bench).
 *
 *   bench_native SECRET NAME BODY_FILE SIGNATURE [NAME BODY_FILE SIGNATURE ...]
 *
 * For each delivery: pw_handle warm (keyring set up once, as a long-lived
 * host would), and HMAC-SHA256 alone over the same signed span (the floor).
 * Each figure is `runs` timed loops of ITERS calls after a warm-up (runs:
 * BENCH_NATIVE_RUNS, 1 to 9, default 9); prints one JSON object with
 * median, min and max nanoseconds per call. bench.mjs calls it once per
 * round, between the other contenders.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "panora_webhook.h"

#define RUNS 9
#define MAX_DELIVERIES 8

static pw_context ctx;
static unsigned char scratch[PW_SCRATCH_FOR(PW_BODY_MAX)];
static char bodies[MAX_DELIVERIES][PW_BODY_MAX];
static volatile unsigned sink_;
static int runs = RUNS;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

typedef void op_fn(void *arg);

/* RUNS loops of iters calls; per-call ns, sorted into out[RUNS] */
static void
measure(op_fn *op, void *arg, long iters, double *out)
{
	long i;
	int r;

	for (i = 0; i < iters; i++) {
		op(arg);                      /* warm-up */
	}
	for (r = 0; r < RUNS; r++) {
		double t0 = now_ns();

		for (i = 0; i < iters; i++) {
			op(arg);
		}
		out[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(out, RUNS, sizeof out[0], cmp);
}

typedef struct {
	const pw_keyring *kr;
	pw_request req;
	const char *span;
	size_t span_len;
} delivery;

static void
op_handle(void *arg)
{
	delivery *d = (delivery *)arg;
	pw_result res;

	sink_ += (unsigned)pw_handle(&ctx, d->kr, &d->req, &res);
}

static void
op_hmac(void *arg)
{
	delivery *d = (delivery *)arg;
	br_hmac_context hc;
	unsigned char mac[32];

	br_hmac_init(&hc, &d->kr->keys[0], 0);
	br_hmac_update(&hc, d->span, d->span_len);
	br_hmac_out(&hc, mac);
	sink_ += mac[0];
}

static void
print_figure(const char *name, const double *t, int last)
{
	printf("  {\"name\": \"%s\", \"unit\": \"ns\", \"median\": %.1f, \"min\": %.1f, \"max\": %.1f}%s\n",
		name, t[runs / 2], t[0], t[runs - 1], last ? "" : ",");
}

int
main(int argc, char **argv)
{
	pw_keyring kr;
	int i, n;

	if (argc < 5 || (argc - 2) % 3 != 0 || (argc - 2) / 3 > MAX_DELIVERIES) {
		fprintf(stderr, "usage: bench_native SECRET NAME BODY_FILE SIGNATURE ...\n");
		return 2;
	}
	if (getenv("BENCH_NATIVE_RUNS") != NULL) {
		runs = atoi(getenv("BENCH_NATIVE_RUNS"));
		if (runs < 1 || runs > RUNS) {
			runs = RUNS;
		}
	}
	pw_context_init(&ctx, 0, scratch, sizeof scratch);
	pw_keyring_init(&kr);
	pw_keyring_add_list(&kr, argv[1], strlen(argv[1]));
	n = (argc - 2) / 3;
	printf("[\n");
	for (i = 0; i < n; i++) {
		const char *name = argv[2 + 3 * i];
		FILE *f = fopen(argv[3 + 3 * i], "rb");
		delivery d;
		pw_result res;
		double t[RUNS];
		char label[128];
		size_t len;
		long iters;

		if (f == NULL) {
			perror(argv[3 + 3 * i]);
			return 1;
		}
		len = fread(bodies[i], 1, sizeof bodies[i], f);
		fclose(f);
		memset(&d, 0, sizeof d);
		d.kr = &kr;
		d.req.body.ptr = bodies[i];
		d.req.body.len = len;
		d.req.signature.ptr = argv[4 + 3 * i];
		d.req.signature.len = strlen(argv[4 + 3 * i]);
		/* the signed span, found the way Panora writes bodies */
		d.span = strstr(bodies[i], ",\"data\":") + 8;
		d.span_len = (size_t)(strstr(d.span, ",\"type\":") - d.span);
		pw_handle(&ctx, &kr, &d.req, &res);
		fprintf(stderr, "bench_native: %s -> %s\n", name, pw_status_code(res.status));

		iters = len > 4096 ? 1000 : 10000;
		measure(op_handle, &d, iters, t);
		snprintf(label, sizeof label, "native handle %s", name);
		print_figure(label, t, 0);
		measure(op_hmac, &d, iters, t);
		snprintf(label, sizeof label, "native hmac %s", name);
		print_figure(label, t, i == n - 1);
	}
	printf("]\n");
	pw_keyring_wipe(&kr);
	return 0;
}
