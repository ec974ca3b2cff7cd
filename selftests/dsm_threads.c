// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_threads: libdsm's threads across nodes, on a 3-node cluster.
 *
 *   cluster.sh --nodes 3 -- dsm_threads
 *
 * The same program starts on every node; dsm_threads_run() runs the test
 * (main_test) on node 1 only and serves threads everywhere. Node 1 creates
 * threads on nodes 2 and 3 over data every node maps at the same address:
 * a parallel sum and a parallel merge sort, checked against node 1's own
 * computation; DSM_THREAD_ANY spreads threads over the members; the
 * errors of bad calls and of a node that is not a member. Last, node 3 is
 * killed (SIGKILL to its QEMU) while it runs a thread of node 1: joining it
 * fails with EHOSTDOWN once the cluster declares node 3 lost. Prints TAP
 * on node 1; exits 0 if every check passed (node 3 counts as passed).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libdsm.h"

#define DATA_KEY	0xc0de0170ULL
#define SUM_N		(256 * 1024)	/* u64 values: 2 MiB */
#define SORT_N		(64 * 1024)	/* u32 keys */

/* The shared data: the same address on every node (dsm_map_fixed). */
struct part {
	uint64_t lo, hi, sum;
	dsm_thread_t self;
};

struct shared {
	struct part parts[4];
	uint64_t values[SUM_N];
	uint32_t keys[SORT_N];
	uint32_t merged[SORT_N];
};

static struct shared *sh;
static int tap_n, failed;

static void tap(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed += !ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every node, before anything: the data at its fixed address. */
static int setup(void)
{
	struct dsm_region r;
	void *addr;
	size_t size = (sizeof(*sh) + DSM_PAGE_SIZE - 1) / DSM_PAGE_SIZE * DSM_PAGE_SIZE;
	int err = dsm_attach(DATA_KEY, size, 0, &r);

	if (!err)
		err = dsm_map_fixed(&r, &addr);
	sh = addr;
	return err;
}

/* ---- what threads run (on any node) ---- */

static void *sum_part(void *arg)
{
	struct part *p = arg;
	uint64_t s = 0;

	for (uint64_t i = p->lo; i < p->hi; i++)
		s += sh->values[i];
	p->sum = s;
	p->self = dsm_thread_self();
	return (void *)(uintptr_t)dsm_node_id();
}

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void *sort_part(void *arg)
{
	struct part *p = arg;

	qsort(&sh->keys[p->lo], p->hi - p->lo, sizeof(uint32_t), by_value);
	return (void *)(uintptr_t)dsm_node_id();
}

static void *where(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)dsm_node_id();
}

/* A thread creating a thread: only the main node may. */
static void *nested(void *arg)
{
	dsm_thread_t t;

	(void)arg;
	return (void *)(intptr_t)dsm_thread_create(3, where, NULL, &t);
}

/* Asks cluster.sh to kill this node's guest, then waits for the end. */
static void *die(void *arg)
{
	(void)arg;
	printf("%s KILL\n", getenv("DSM_TOKEN") ? : "");
	fflush(stdout);
	for (;;)
		pause();
	return NULL;
}

/* ---- node 1 ---- */

static void test_sum(void)
{
	dsm_thread_t t[2];
	uint64_t want = 0;
	void *ret[2] = { 0 };
	int i, err[2];

	for (i = 0; i < SUM_N; i++) {
		sh->values[i] = (uint64_t)i * 2654435761u + 17;
		want += sh->values[i];
	}
	for (i = 0; i < 2; i++) {
		sh->parts[i] = (struct part){ .lo = i * SUM_N / 2, .hi = (i + 1) * SUM_N / 2 };
		err[i] = dsm_thread_create(i + 2, sum_part, &sh->parts[i], &t[i]);
	}
	tap(!err[0] && !err[1], "threads created on nodes 2 and 3 (%d, %d)", err[0], err[1]);
	for (i = 0; i < 2; i++)
		err[i] = err[i] ?: dsm_thread_join(t[i], &ret[i]);
	tap(!err[0] && !err[1] && (uintptr_t)ret[0] == 2 && (uintptr_t)ret[1] == 3,
	    "joined: they ran on nodes %lu and %lu (%d, %d)", (unsigned long)(uintptr_t)ret[0],
	    (unsigned long)(uintptr_t)ret[1], err[0], err[1]);
	tap(sh->parts[0].sum + sh->parts[1].sum == want,
	    "the parallel sum of %d values is exact (%llu)", SUM_N,
	    (unsigned long long)(sh->parts[0].sum + sh->parts[1].sum));
	tap(sh->parts[0].self == t[0] && sh->parts[1].self == t[1] && !dsm_thread_self(),
	    "dsm_thread_self() names each thread; main is not one");
	tap(dsm_thread_join(t[0], NULL) == -EINVAL, "a thread is joined once");
}

static void test_sort(void)
{
	uint64_t sum = 0, sum2 = 0, x = 1;
	dsm_thread_t t[2];
	int i, a, b, err = 0, sorted = 1;

	for (i = 0; i < SORT_N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sh->keys[i] = x >> 33;
		sum += sh->keys[i];
	}
	for (i = 0; i < 2; i++) {
		sh->parts[i] = (struct part){ .lo = i * SORT_N / 2, .hi = (i + 1) * SORT_N / 2 };
		err = err ?: dsm_thread_create(i + 2, sort_part, &sh->parts[i], &t[i]);
	}
	for (i = 0; i < 2 && !err; i++)
		err = dsm_thread_join(t[i], NULL);
	for (i = 0, a = 0, b = SORT_N / 2; i < SORT_N && !err; i++)
		sh->merged[i] = b == SORT_N || (a < SORT_N / 2 && sh->keys[a] <= sh->keys[b]) ?
				sh->keys[a++] : sh->keys[b++];
	for (i = 0; i < SORT_N && !err; i++) {
		sorted &= !i || sh->merged[i - 1] <= sh->merged[i];
		sum2 += sh->merged[i];
	}
	tap(!err && sorted && sum == sum2,
	    "merge sort of %d keys, halves sorted on nodes 2 and 3 (%d, sorted %d, same keys %d)",
	    SORT_N, err, sorted, sum == sum2);
}

static void test_any(void)
{
	dsm_thread_t t[3];
	uintptr_t on[3] = { 0 };
	int i, err = 0;

	for (i = 0; i < 3; i++)
		err = err ?: dsm_thread_create(DSM_THREAD_ANY, where, NULL, &t[i]);
	for (i = 0; i < 3 && !err; i++)
		err = dsm_thread_join(t[i], (void **)&on[i]);
	tap(!err && on[0] == 1 && on[1] == 2 && on[2] == 3,
	    "DSM_THREAD_ANY: three threads at once go to the least loaded members, nodes %lu %lu %lu (%d)",
	    (unsigned long)on[0], (unsigned long)on[1], (unsigned long)on[2], err);
}

static void test_errors(void)
{
	dsm_thread_t t;
	int local = 0, err;

	err = dsm_thread_create(7, where, NULL, &t);
	tap(err == -EHOSTDOWN, "a thread on node 7, not a member: EHOSTDOWN (%d)", err);
	err = dsm_thread_create(DSM_MAX_NODES + 1, where, NULL, &t);
	tap(err == -EINVAL, "on node %d: EINVAL (%d)", DSM_MAX_NODES + 1, err);
	err = dsm_thread_create(2, (void *(*)(void *))&local, NULL, &t);
	tap(err == -EINVAL, "a function that is not in the program: EINVAL (%d)", err);
	tap(dsm_thread_join(12345 << 8 | 70, NULL) == -EINVAL, "joining no thread: EINVAL");
	err = dsm_thread_create(2, nested, NULL, &t);
	if (!err) {
		void *ret = NULL;

		err = dsm_thread_join(t, &ret) ?: (int)(intptr_t)ret;
	}
	tap(err == -EPERM, "a thread on node 2 cannot create one: EPERM (%d)", err);
}

static void test_killed(void)
{
	dsm_thread_t t;
	double t0;
	int err;

	err = dsm_thread_create(3, die, NULL, &t);
	tap(!err, "a thread on node 3, which then dies (%d)", err);
	t0 = now();
	err = err ?: dsm_thread_join(t, NULL);
	tap(err == -EHOSTDOWN, "joining it fails with EHOSTDOWN once node 3 is declared lost (%d, after %.1f s)",
	    err, now() - t0);
}

static int main_test(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("TAP version 13\n1..14\n");
	test_sum();
	test_sort();
	test_any();
	test_errors();
	test_killed();
	printf("# %d failed\n", failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = dsm_threads_run(setup, main_test, argc, argv);
	if (ret < 0)
		fprintf(stderr, "dsm_threads: %s\n", strerror(-ret));
	return ret ? 1 : 0;
}
