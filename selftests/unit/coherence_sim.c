// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised simulation of the coherence protocol (kernel/coherence).
 *
 * Many runs, each with 2..6 nodes and 1..3 pages: nodes load and store at
 * random, messages are delivered in random order across links but FIFO per
 * ordered pair (as TCP), with random delays. After every step: at most one
 * writable copy, no valid copy other than the writer's, every valid copy
 * holds the latest store, never two owners. At the end, with no new
 * accesses, every message is delivered: then every request has completed
 * (no deadlock), and the home's directory matches the nodes exactly.
 * A deterministic part checks the message counts of issue 5's R2.
 *
 * Usage: coherence_sim [RUNS [SEED]]
 * Built with -include kernel_types.h, like kernel/coherence/protocol.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/coherence/protocol.h"

#define MAX_N	6
#define MAX_P	3
#define QCAP	1024

struct link {
	struct { u32 page; struct dsm_coh_msg m; } q[QCAP];
	int head, len;
};

static int N, P;
static struct dsm_coh_node node[MAX_N][MAX_P];
static struct dsm_coh_dir dir[MAX_P];
static struct link links[MAX_N][MAX_N];
/* the caller's queues (DSM_COH_KEEP): a node's deferred, a home's waiting */
static struct dsm_coh_msg kept[MAX_N][MAX_P][2 * MAX_N];
static int nkept[MAX_N][MAX_P];
static struct dsm_coh_msg queued[MAX_P][2 * MAX_N];
static int nqueued[MAX_P];
static u64 truth[MAX_P];
static int want[MAX_N][MAX_P];	/* 0 none, 1 load, 2 store: waiting to retry */
static u32 cur_page;
static long network_msgs, data_msgs;
static unsigned long long seed;

static unsigned int rnd(unsigned int n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(seed >> 33) % n;
}

static u32 home_of(u32 page)
{
	return page % N;
}

static void fail(const char *what)
{
	fprintf(stderr, "coherence_sim: %s (seed %llu)\n", what, seed);
	exit(1);
}

static void sim_send(struct dsm_coh_env *env, u32 from, u32 to,
		     const struct dsm_coh_msg *m)
{
	struct link *l = &links[from][to];

	(void)env;
	if (l->len == QCAP)
		fail("link overflow");
	l->q[(l->head + l->len) % QCAP].page = cur_page;
	l->q[(l->head + l->len) % QCAP].m = *m;
	l->len++;
	if (from != to) {
		network_msgs++;
		data_msgs += m->type == DSM_COH_DATA || m->with_data;
	}
}

static struct dsm_coh_env env = { .send = sim_send };

/* A load or store by @n on @p; true if it was performed. */
static bool access_page(u32 n, u32 p, bool store)
{
	cur_page = p;
	if (!dsm_coh_fault(&env, &node[n][p], n, home_of(p), store)) {
		want[n][p] = store ? 2 : 1;
		return false;
	}
	if (store)
		truth[p] = ++node[n][p].value;
	else if (node[n][p].value != truth[p])
		fail("a load saw a stale value");
	want[n][p] = 0;
	return true;
}

static void keep(struct dsm_coh_msg *q, int *n, const struct dsm_coh_msg *m)
{
	if (*n == 2 * MAX_N)
		fail("a queue overflowed");
	q[(*n)++] = *m;
}

static struct dsm_coh_msg unkeep(struct dsm_coh_msg *q, int *n)
{
	struct dsm_coh_msg m = q[0];

	memmove(&q[0], &q[1], --(*n) * sizeof(q[0]));
	return m;
}

/* What the module does too: keep what the state machine asks to, replay it. */
static void node_feed(u32 to, u32 p, const struct dsm_coh_msg *m)
{
	struct dsm_coh_node *x = &node[to][p];
	int err = dsm_coh_node_receive(&env, x, to, home_of(p), m);

	if (err == DSM_COH_KEEP)
		keep(kept[to][p], &nkept[to][p], m);
	while (!err && !x->pending && nkept[to][p]) {
		struct dsm_coh_msg k = unkeep(kept[to][p], &nkept[to][p]);

		err = dsm_coh_node_receive(&env, x, to, home_of(p), &k);
	}
	if (err < 0)
		fail("the state machine refused a message the protocol sent");
}

static void dir_feed(u32 p, const struct dsm_coh_msg *m)
{
	int err = dsm_coh_dir_receive(&env, &dir[p], home_of(p), m);

	if (err == DSM_COH_KEEP)
		keep(queued[p], &nqueued[p], m);
	while (!err && !dir[p].busy && nqueued[p]) {
		struct dsm_coh_msg k = unkeep(queued[p], &nqueued[p]);

		err = dsm_coh_dir_receive(&env, &dir[p], home_of(p), &k);
	}
	if (err < 0)
		fail("the directory refused a message the protocol sent");
}

static bool deliver(u32 from, u32 to)
{
	struct link *l = &links[from][to];
	struct dsm_coh_msg m;
	u32 p;

	if (!l->len)
		return false;
	p = l->q[l->head].page;
	m = l->q[l->head].m;
	l->head = (l->head + 1) % QCAP;
	l->len--;
	cur_page = p;
	if (m.type == DSM_COH_REQ_READ || m.type == DSM_COH_REQ_WRITE ||
	    m.type == DSM_COH_INV_ACK) {
		if (to != home_of(p))
			fail("a directory message reached a node that is not home");
		dir_feed(p, &m);
	} else {
		node_feed(to, p, &m);
	}
	return true;
}

static void retry_waiting(void)
{
	for (int n = 0; n < N; n++)
		for (int p = 0; p < P; p++)
			if (want[n][p])
				access_page(n, p, want[n][p] == 2);
}

static void check_safety(void)
{
	for (int p = 0; p < P; p++) {
		int writers = 0, valid = 0, owners = 0;

		for (int n = 0; n < N; n++) {
			struct dsm_coh_node *x = &node[n][p];

			writers += x->state == DSM_COH_EXCLUSIVE;
			valid += x->state != DSM_COH_INVALID;
			owners += x->owner;
			if (x->state != DSM_COH_INVALID && x->value != truth[p])
				fail("a valid copy is stale");
		}
		if (writers > 1)
			fail("two writable copies");
		if (writers && valid > 1)
			fail("a reader kept a copy while a writer exists");
		if (owners > 1)
			fail("two owners");
	}
}

static bool links_empty(void)
{
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++)
			if (links[a][b].len)
				return false;
	return true;
}

static void check_quiet(void)
{
	for (int p = 0; p < P; p++) {
		u64 copyset = 0;
		int owner = -1;

		if (dir[p].busy || nqueued[p])
			fail("the directory is still busy");
		for (int n = 0; n < N; n++) {
			struct dsm_coh_node *x = &node[n][p];

			if (x->pending || nkept[n][p] || want[n][p])
				fail("a request never completed");
			if (x->owner)
				owner = n;
			else if (x->state == DSM_COH_SHARED)
				copyset |= 1ULL << n;
			if (x->owner && x->state == DSM_COH_INVALID)
				fail("an owner without the data");
		}
		if (owner != (int)dir[p].owner)
			fail("the directory names the wrong owner");
		if (copyset != dir[p].copyset)
			fail("the copyset does not match the copies");
	}
}

static void setup(int n, int p)
{
	N = n;
	P = p;
	memset(links, 0, sizeof(links));
	memset(want, 0, sizeof(want));
	memset(truth, 0, sizeof(truth));
	memset(nkept, 0, sizeof(nkept));
	memset(nqueued, 0, sizeof(nqueued));
	for (int i = 0; i < P; i++) {
		dsm_coh_dir_init(&dir[i], home_of(i));
		for (int j = 0; j < N; j++)
			dsm_coh_node_init(&node[j][i], (u32)j == home_of(i));
	}
}

static void one_run(int steps)
{
	setup(2 + rnd(MAX_N - 1), 1 + rnd(MAX_P));
	for (int s = 0; s < steps; s++) {
		if (rnd(3) == 0) {
			u32 n = rnd(N), p = rnd(P);

			if (!want[n][p])
				access_page(n, p, rnd(2));
		} else {
			deliver(rnd(N), rnd(N));	/* often an empty link: a delay */
		}
		retry_waiting();
		check_safety();
	}
	for (int guard = 0; !links_empty(); guard++) {
		if (guard > 1000000)
			fail("messages never drained (livelock)");
		deliver(rnd(N), rnd(N));
		retry_waiting();
		check_safety();
	}
	check_quiet();
}

/* Drain every link, lowest first (deterministic). */
static void drain(void)
{
	while (!links_empty())
		for (int a = 0; a < N; a++)
			for (int b = 0; b < N; b++)
				while (deliver(a, b))
					retry_waiting();
}

/* R2: a write with k readers costs 2 + 2k messages, 3 + 2k if owner != home. */
static void check_counts(void)
{
	for (int k = 0; k <= 3; k++) {
		for (int remote_owner = 0; remote_owner <= 1; remote_owner++) {
			long want_msgs = 2 + 2 * k + remote_owner;
			u32 writer = 1, owner = remote_owner ? 2 : 0;

			setup(6, 1);	/* page 0's home is node 0 */
			if (remote_owner) {
				access_page(owner, 0, true);
				drain();
			}
			for (int r = 0; r < k; r++) {
				access_page(3 + r, 0, false);
				drain();
			}
			network_msgs = 0;
			access_page(writer, 0, true);
			drain();
			if (network_msgs != want_msgs) {
				fprintf(stderr, "coherence_sim: write with %d readers%s: %ld messages, not %ld\n",
					k, remote_owner ? ", owner != home" : "",
					network_msgs, want_msgs);
				exit(1);
			}
		}
	}
	/*
	 * An upgrade moves no data: node 2 owns the page (home 0), node 1 reads
	 * it, then writes: request, invalidate node 2, its ack, a bare grant.
	 */
	setup(3, 1);
	access_page(2, 0, true);
	drain();
	access_page(1, 0, false);
	drain();
	network_msgs = data_msgs = 0;
	access_page(1, 0, true);
	drain();
	if (network_msgs != 4 || data_msgs)
		fail("an upgrade did not cost 2 + 2k messages without data");
}

/*
 * A reader dies while a write waits for its ack: the home forgets it and the
 * write completes. Node 2 reads page 0 (home 0), node 1 writes; node 2's
 * invalidation is lost with it.
 */
static void check_forget(void)
{
	setup(3, 1);
	access_page(2, 0, false);
	drain();
	access_page(1, 0, true);
	deliver(1, 0);			/* the write request reaches the home */
	memset(&links[0][2], 0, sizeof(links[0][2]));	/* node 2 is gone */
	if (!dir[0].busy)
		fail("the write did not wait for the dead reader");
	dsm_coh_dir_forget(&env, &dir[0], 0, 2);
	drain();
	if (want[1][0] || node[1][0].state != DSM_COH_EXCLUSIVE || dir[0].copyset)
		fail("forgetting a dead reader did not complete the write");
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20000;

	seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	check_counts();
	check_forget();
	for (int i = 0; i < runs; i++)
		one_run(400);
	printf("ok coherence_sim: %d random runs, seed %s, invariants held after every step\n",
	       runs, argc > 2 ? argv[2] : "1");
	return 0;
}
