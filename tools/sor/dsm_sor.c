// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_sor: red-black successive over-relaxation on a grid in a dsm region,
 * computed by a thread on every node of the cluster, checked against a run
 * of the same computation on one node.
 *
 *   dsm_sor [N [ITERATIONS]]     (N: interior points per side; default 510)
 *
 * Written with libdsm's threads across nodes: started once on node 1 (with
 * `dsmrun host` on the others, which starts it there as their thread
 * server), or on every node at once (cluster.sh --nodes 3 -- dsm_sor); its
 * main function runs on node 1 and creates one thread per node, each of
 * which relaxes its band of rows, then joins them. The grid, with its
 * boundary, is (N + 2) x (N + 2) doubles; with N = 510 each row is one
 * 4 KiB page, so nodes share only the rows at the edges of their bands.
 * Every thread sets its band of the grid up (top edge 1.0, the rest 0), so
 * that its pages start on its node (first touch), then relaxes it: all red
 * points ((i + j) even), a barrier, all black points, a barrier,
 * ITERATIONS times. Red-black ordering makes the result independent of
 * how the rows are split, so node 1 then repeats the computation alone in
 * private memory and the two grids must be equal to the last bit.
 *
 * The region is mapped at the same address on every node (dsm_map_fixed,
 * in the setup every node runs), the threads meet at a dsm_barrier, and
 * the control block sits on its own page.
 *
 * When a row is a page (N = 510), node 1 also prints the page transfers
 * per phase of the steady state (iterations 2 and later: the first also
 * fetches each neighbour's row for the first time) against the minimum,
 * one row per neighbour per phase: 2 (nodes - 1). Each node's
 * pages_received counter is read (dsmctl -j stats) between the first
 * iteration and the rest, outside the timing.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libdsm.h"
#include "../node_stat.h"

#define SOR_KEY		0x5052000000000001ULL
#define OMEGA		1.5
#define PAGE		4096

struct control {
	struct dsm_barrier barrier;	/* its own line */
	uint32_t nodes;
	uint32_t n, iterations;
	double seconds[65];		/* each node's compute time */
	long long transfers[65];	/* pages each received after iteration 1 */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Set rows [from, to) of the grid up: the top edge (row 0) 1, the rest 0. */
static void init_rows(double *g, int n, int from, int to)
{
	int w = n + 2;

	memset(g + (size_t)from * w, 0, sizeof(double) * w * (to - from));
	for (int j = 0; !from && j < w; j++)
		g[j] = 1.0;		/* the top edge is held at 1 */
}

/* Relax rows [from, to) of one color. */
static void sweep(double *g, int n, int from, int to, int color)
{
	int w = n + 2;

	for (int i = from; i < to; i++)
		for (int j = 1 + (i + color + 1) % 2; j <= n; j += 2)
			g[i * w + j] = (1 - OMEGA) * g[i * w + j] + OMEGA / 4 *
				       (g[(i - 1) * w + j] + g[(i + 1) * w + j] +
					g[i * w + j - 1] + g[i * w + j + 1]);
}

/* Both colours of one iteration over rows [from, to), each ended by a barrier. */
static void iterate(struct control *c, double *g, int n, int from, int to)
{
	for (int color = 0; color < 2; color++) {
		sweep(g, n, from, to, color);
		dsm_barrier_wait(&c->barrier);
	}
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "dsm_sor: %s: %s\n", what, strerror(-err));
	return 1;
}

/* The same on every node (the same arguments): the grid at a fixed address. */
static int n, iterations;
static struct control *c;
static double *g;

static size_t grid_bytes(void)
{
	return (size_t)(n + 2) * (n + 2) * sizeof(double);
}

static int setup(void)
{
	struct dsm_region region;
	void *base;
	int err;

	err = dsm_attach(SOR_KEY, PAGE + (grid_bytes() + PAGE - 1) / PAGE * PAGE, 0,
			 &region);
	if (!err)
		err = dsm_map_fixed(&region, &base);
	if (err) {
		fail("attach and map the grid", err);
		return err;
	}
	c = base;
	g = (double *)((char *)base + PAGE);
	return 0;
}

/* The thread of node @arg (1..nodes): its band of interior rows 1..n. */
static void *band(void *arg)
{
	int me = (int)(uintptr_t)arg, nodes = c->nodes;
	int from = 1 + (me - 1) * n / nodes, to = 1 + me * n / nodes;
	long long received;
	double t0, mine;

	/* each sets its own band up (and the edge next to it): first touch */
	init_rows(g, n, me == 1 ? 0 : from, me == nodes ? n + 2 : to);
	dsm_barrier_wait(&c->barrier);
	t0 = now();
	iterate(c, g, n, from, to);
	mine = now() - t0;
	received = node_stat("pages_received");	/* every node, then on together */
	dsm_barrier_wait(&c->barrier);
	t0 = now();
	for (int it = 1; it < iterations; it++)
		iterate(c, g, n, from, to);
	mine += now() - t0;
	c->transfers[me] = received < 0 ? -1 : node_stat("pages_received") - received;
	c->seconds[me] = mine;
	printf("node %d: rows %d-%d, %d iterations in %.2f s; %lld pages received after the first\n",
	       me, from, to - 1, iterations, mine, c->transfers[me]);
	fflush(stdout);
	return NULL;
}

/* Node 1: a thread per node, then the check against one node alone. */
static int sor_main(int argc, char **argv)
{
	int nodes = dsm_node_count(), w = n + 2, err = 0, i;
	double *alone, t1, slowest = 0, diff = 0, sum = 0;
	dsm_thread_t t[65];
	long long transfers = 0;
	size_t differ = 0;

	(void)argc;
	(void)argv;
	if (nodes < 1 || nodes > 64)
		return fail("the cluster's size", nodes < 0 ? nodes : -EINVAL);
	c->nodes = nodes;
	c->n = n;
	c->iterations = iterations;
	dsm_barrier_init(&c->barrier, nodes);
	for (i = 1; i <= nodes && !err; i++)
		err = dsm_thread_create(i, band, (void *)(uintptr_t)i, &t[i]);
	if (err)
		return fail("create a thread", err);	/* those made wait at the barrier */
	for (i = 1; i <= nodes && !err; i++)
		err = dsm_thread_join(t[i], NULL);
	if (err)
		return fail("join a thread", err);

	alone = malloc(grid_bytes());
	if (!alone)
		return fail("memory for the one-node run", -ENOMEM);
	init_rows(alone, n, 0, n + 2);
	t1 = now();
	for (int it = 0; it < iterations; it++)
		for (int color = 0; color < 2; color++)
			sweep(alone, n, 1, n + 1, color);
	t1 = now() - t1;
	for (size_t k = 0; k < (size_t)w * w; k++) {
		if (alone[k] != g[k])
			differ++;
		diff = fmax(diff, fabs(alone[k] - g[k]));
		sum += g[k];
	}
	for (i = 1; i <= nodes; i++) {
		slowest = fmax(slowest, c->seconds[i]);
		transfers = transfers < 0 || c->transfers[i] < 0 ? -1 :
			    transfers + c->transfers[i];
	}
	printf("grid %dx%d, %d iterations, %d nodes: %.2f s; one node alone: %.2f s\n",
	       n, n, iterations, nodes, slowest, t1);
	if (iterations > 1 && nodes > 1 && transfers >= 0 &&
	    (n + 2) * sizeof(double) == PAGE) {	/* a row is a page */
		double per_phase = transfers / (2.0 * (iterations - 1));

		printf("page transfers per phase after the first iteration: %.2f; minimum %d (one row per neighbour): %.2f times\n",
		       per_phase, 2 * (nodes - 1), per_phase / (2 * (nodes - 1)));
	}
	printf("check: %s (%zu of %zu values differ, largest difference %g; sum of the grid %.12f)\n",
	       differ ? "FAILED" : "OK, identical to the one-node run", differ,
	       (size_t)w * w, diff, sum);
	free(alone);
	return differ ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ret;

	n = argc > 1 ? atoi(argv[1]) : 510;
	iterations = argc > 2 ? atoi(argv[2]) : 40;
	if (n < 2 || n > 8190 || iterations < 1)
		return fprintf(stderr, "usage: dsm_sor [N [ITERATIONS]]\n"), 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = dsm_threads_run(setup, sor_main, argc, argv);
	if (ret < 0)
		return fail("threads across nodes", ret);
	return ret ? 1 : 0;
}
