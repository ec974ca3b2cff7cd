// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised simulation of the member list's log (kernel/membership_log.c).
 *
 * Each run has 2..7 nodes with random ids in 1..64 (node 64, bit 0 of a
 * node set, in half the runs); one forms the cluster, the others ask to
 * join. At random: any member proposes a change (a join of a node that
 * asked, or any member's leave), messages are delivered in any order, lost
 * or delivered twice, links between two sides of a partition drop what
 * they carry, a node crashes (its messages die with it; it comes back as
 * a new incarnation that knows nothing and asks to join again), a link
 * comes up and the side with the newer epoch sends its list, a proposal
 * that takes too long is given up. Several proposers compete all the time.
 *
 * Invariants, after every step: each epoch has one list, whoever applied it
 * (also nodes that crashed since); epoch e + 1's list is epoch e's with
 * one change that somebody proposed at epoch e; a node's epochs only grow
 * (as one incarnation, until it is no member). At the end of a run the
 * partition heals and nothing is lost any more: the members that are up
 * agree on one epoch and list, and if they are a quorum of it, one
 * proposer's change commits.
 *
 * Usage: epoch_sim [RUNS [SEED]]; epoch_sim 1 SEED trace replays the run a
 * failure names, with a trace on stderr.
 * Built with -include kernel_types.h, like kernel/membership_log.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/membership_log.h"

#define RUN_N		7
#define NET_MAX		4096
#define MAX_EPOCH	4096
#define STEPS		3000
#define PATIENCE	400	/* steps before a proposer gives up */

struct flight {
	int from, to;		/* slots */
	struct dsm_mlog_msg m;
};

static int N;
static u32 ids[RUN_N];
static struct dsm_mlog logs[RUN_N];
static bool down[RUN_N];
static int down_until[RUN_N];
static int side[RUN_N];		/* a partition: 0 or 1 */
static bool cut;
static int proposed_at[RUN_N];	/* step of the open proposal */
static struct flight net[NET_MAX];
static int nnet, step;
static u64 seed, run_seed;
static bool tracing;

/* what each epoch was, as first applied anywhere */
static bool known[MAX_EPOCH];
static struct dsm_mlog_list list_at[MAX_EPOCH];
static struct dsm_mlog_change change_at[MAX_EPOCH];
/* changes proposed at each epoch (to check validity) */
static struct { u64 epoch; struct dsm_mlog_change c; } proposed[MAX_EPOCH];
static int nproposed;

static long runs_done, commits, gave_up, crashes, partitions, catch_ups,
	    dropped, duplicated, joins, leaves, rejoins, max_epoch, live_checks;

static u64 rnd64(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static int rnd(int n)
{
	return (int)(rnd64() % (u64)n);
}

static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!tracing)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%5d ", step);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void fail(const char *why)
{
	printf("not ok epoch_sim: %s (run seed %llu, step %d)\n", why,
	       (unsigned long long)run_seed, step);
	for (int n = 0; n < N; n++)
		printf("#  node %u%s: epoch %llu list %#llx promised %llu accepted %llu phase %u\n",
		       ids[n], down[n] ? " (down)" : "",
		       (unsigned long long)logs[n].epoch,
		       (unsigned long long)logs[n].list.members,
		       (unsigned long long)logs[n].promised,
		       (unsigned long long)logs[n].acc_term, logs[n].phase);
	exit(1);
}

static int slot_of(u32 id)
{
	for (int n = 0; n < N; n++)
		if (ids[n] == id)
			return n;
	fail("a message for a node that is not in the run");
	return -1;
}

static void sim_send(struct dsm_mlog_env *env, u32 to, const struct dsm_mlog_msg *m)
{
	int from = (int)(long)env->ctx, t = slot_of(to);

	if (down[t] || nnet == NET_MAX) {
		dropped++;
		return;
	}
	trace("%u -> %u: type %u epoch %llu term %llu\n", m->from, to, m->type,
	      (unsigned long long)m->epoch, (unsigned long long)m->term);
	net[nnet++] = (struct flight){ .from = from, .to = t, .m = *m };
}

static struct dsm_mlog_env env_of(int n)
{
	return (struct dsm_mlog_env){ .send = sim_send, .ctx = (void *)(long)n };
}

static bool same(const struct dsm_mlog_change *a, const struct dsm_mlog_change *b)
{
	return a->op == b->op && a->node == b->node && a->inc == b->inc;
}

/*
 * Node @n's log after a call (@ret; its newest epoch was @floor before):
 * a list it applied is the one of its epoch.
 */
static void check_applied(int n, u64 floor, int ret)
{
	struct dsm_mlog *log = &logs[n];
	bool named = dsm_mlog_names(&log->list, ids[n], log->inc);
	u64 e = log->floor;

	if (e < floor)
		fail("a node's epoch went back");
	if (log->epoch && (log->epoch != e || !named))
		fail("a member whose newest list does not name it as this incarnation");
	if (!log->epoch && e && named)
		fail("a node out of a list that names it");
	if (!(ret & DSM_MLOG_APPLIED))
		return;
	if (e >= MAX_EPOCH)
		fail("too many epochs for the simulation");
	if (e > (u64)max_epoch)
		max_epoch = (long)e;
	if (known[e]) {
		if (memcmp(&list_at[e], &log->list, sizeof(log->list)) ||
		    !same(&change_at[e], &log->last))
			fail("two lists committed at one epoch");
		return;
	}
	known[e] = true;
	list_at[e] = log->list;
	change_at[e] = log->last;
	commits++;
	if (e == 1)
		return;
	/* a change somebody proposed at epoch e - 1, applied to its list */
	for (int i = 0; i < nproposed; i++) {
		if (proposed[i].epoch == e - 1 && same(&proposed[i].c, &log->last)) {
			struct dsm_mlog_list l = list_at[e - 1];

			dsm_mlog_apply(&l, &log->last);
			if (known[e - 1] && memcmp(&l, &log->list, sizeof(l)))
				fail("an epoch's list is not the last one with its change");
			return;
		}
	}
	fail("a change nobody proposed at the epoch before");
}

static void outcome(int n, int ret)
{
	if (ret & DSM_MLOG_GAVE_UP)
		gave_up++;
	if (ret & (DSM_MLOG_DONE | DSM_MLOG_GAVE_UP))
		proposed_at[n] = -1;
}

static void propose(int n, const struct dsm_mlog_change *c)
{
	struct dsm_mlog_env env = env_of(n);
	u64 epoch = logs[n].epoch;

	if (down[n] || logs[n].phase != DSM_MLOG_IDLE)
		return;
	if (dsm_mlog_propose(&logs[n], &env, c))
		return;
	trace("node %u proposes op %u node %u inc %llu at epoch %llu\n", ids[n],
	      c->op, c->node, (unsigned long long)c->inc, (unsigned long long)epoch);
	if (nproposed == MAX_EPOCH)
		fail("too many proposals for the simulation");
	proposed[nproposed].epoch = epoch;
	proposed[nproposed++].c = *c;
	proposed_at[n] = step;
}

/* A node that is up and no member asks member @to to add it. */
static void ask_join(int n, int to)
{
	struct dsm_mlog_change c = {
		.op = DSM_MLOG_JOIN, .node = ids[n], .inc = logs[n].inc,
	};

	if (!down[n] && !logs[n].epoch && logs[to].epoch && n != to) {
		joins++;
		propose(to, &c);
	}
}

static void propose_leave(int n)
{
	u32 id = ids[rnd(N)];
	struct dsm_mlog_change c = { .op = DSM_MLOG_LEAVE, .node = id };
	u64 list = logs[n].list.members;

	/* (not the last member: the cluster would end) */
	if ((list & dsm_mlog_bit(id)) && (list & ~dsm_mlog_bit(id))) {
		leaves++;
		propose(n, &c);
	}
}

static void deliver(int i, bool keep)
{
	struct flight f = net[i];
	struct dsm_mlog_env env = env_of(f.to);
	u64 floor = logs[f.to].floor;
	int ret;

	if (!keep)
		net[i] = net[--nnet];
	if (down[f.to])
		return;
	if (cut && side[f.from] != side[f.to]) {
		dropped++;
		return;
	}
	ret = dsm_mlog_receive(&logs[f.to], &env, &f.m);
	outcome(f.to, ret);
	check_applied(f.to, floor, ret);
}

static void crash(int n)
{
	down[n] = true;
	down_until[n] = step + 20 + rnd(300);
	for (int i = 0; i < nnet; i++)		/* its links die */
		if (net[i].from == n || net[i].to == n)
			net[i--] = net[--nnet];
	proposed_at[n] = -1;
	crashes++;
	trace("node %u crashes\n", ids[n]);
}

static void restart(int n)
{
	dsm_mlog_init(&logs[n], ids[n], logs[n].inc + 1);	/* knows nothing */
	down[n] = false;
	rejoins++;
}

/* A link between @a and @b comes up: the newer list goes to the other. */
static void link_up(int a, int b)
{
	struct dsm_mlog_env env;

	if (down[a] || down[b] || (cut && side[a] != side[b]) || a == b)
		return;
	if (logs[a].floor < logs[b].floor) {
		int t = a;

		a = b;
		b = t;
	}
	if (logs[a].floor > logs[b].floor) {	/* (either may be no member) */
		env = env_of(a);
		dsm_mlog_catch_up(&logs[a], &env, ids[b]);
		catch_ups++;
	}
}

static void random_step(void)
{
	int r = rnd(100), n = rnd(N);

	for (int i = 0; i < N; i++) {
		if (down[i] && step >= down_until[i])
			restart(i);
		if (!down[i] && proposed_at[i] >= 0 && step - proposed_at[i] > PATIENCE)
			outcome(i, dsm_mlog_abandon(&logs[i]));
	}
	if (r < 70 && nnet) {
		int i = rnd(nnet), how = rnd(100);

		if (how < 3) {
			net[i] = net[--nnet];
			dropped++;
		} else {
			if (how < 5)
				duplicated++;
			deliver(i, how < 5);
		}
	} else if (r < 73) {
		propose_leave(n);
	} else if (r < 88) {
		ask_join(n, rnd(N));
	} else if (r < 89) {
		if (!down[n] && !rnd(40))
			crash(n);
	} else if (r < 91) {
		cut = !cut;
		if (cut) {
			for (int i = 0; i < N; i++)
				side[i] = rnd(2);
			partitions++;
		}
	} else {
		link_up(n, rnd(N));
	}
}

static void deliver_all(void)
{
	for (int guard = 0; nnet; guard++) {
		if (guard > 1000000)
			fail("messages never stop");
		deliver(rnd(nnet), false);
	}
}

/* Healed, nothing lost: the members agree, and a quorum makes progress. */
static void check_live(void)
{
	u64 top = 0, up = 0;
	struct dsm_mlog_list list = { 0 };
	int proposer = -1;

	cut = false;
	for (int n = 0; n < N; n++) {
		if (down[n])
			restart(n);
		outcome(n, dsm_mlog_abandon(&logs[n]));
	}
	deliver_all();
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++)
			link_up(a, b);
	deliver_all();
	for (int n = 0; n < N; n++) {
		if (logs[n].epoch > top) {
			top = logs[n].epoch;
			list = logs[n].list;
		}
	}
	for (int n = 0; n < N; n++) {
		if (!logs[n].epoch)
			continue;
		if (logs[n].epoch != top || memcmp(&logs[n].list, &list, sizeof(list)))
			fail("members that are up disagree after the heal");
		up |= dsm_mlog_bit(ids[n]);
		if (proposer < 0)
			proposer = n;
	}
	if (proposer < 0 || !dsm_mlog_quorum(list.members, up))
		return;		/* no quorum of the list up: not checked further */
	live_checks++;
	for (int tries = 0; tries < 8; tries++) {
		struct dsm_mlog_change c = {
			.op = DSM_MLOG_JOIN, .node = ids[proposer],
			.inc = logs[proposer].inc,
		};

		propose(proposer, &c);
		deliver_all();
		/* (maybe a change accepted before: this proposer's leave) */
		if (known[top + 1])
			return;
		outcome(proposer, dsm_mlog_abandon(&logs[proposer]));
	}
	fail("a quorum that is up and hears everything made no change");
}

static void one_run(void)
{
	run_seed = seed;
	N = 2 + rnd(RUN_N - 1);
	for (int n = 0; n < N; n++) {
		u32 id;
		bool dup;

		do {
			id = (n == 0 && rnd(2)) ? 64 : 1 + (u32)rnd(64);
			dup = false;
			for (int i = 0; i < n; i++)
				dup |= ids[i] == id;
		} while (dup);
		ids[n] = id;
		dsm_mlog_init(&logs[n], id, 1);
		down[n] = false;
		proposed_at[n] = -1;
	}
	memset(known, 0, sizeof(known));
	nproposed = 0;
	nnet = 0;
	cut = false;
	dsm_mlog_form(&logs[0]);
	check_applied(0, 0, DSM_MLOG_APPLIED);
	for (step = 0; step < STEPS; step++)
		random_step();
	check_live();
	runs_done++;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 2000;

	seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	tracing = argc > 3;
	if (!seed)
		seed = 1;
	for (int i = 0; i < runs; i++)
		one_run();
	printf("ok epoch_sim: %ld random runs, seed %s, one list per epoch after every step\n",
	       runs_done, argc > 2 ? argv[2] : "1");
	printf("# %ld epochs committed (up to %ld in a run), %ld proposals given up; %ld joins and %ld leaves asked; %ld crashes (each back as a new incarnation), %ld partitions; %ld lists sent on link-up; %ld messages lost, %ld delivered twice; %ld runs ended with a quorum up that then made a change\n",
	       commits, max_epoch, gave_up, joins, leaves, crashes, partitions,
	       catch_ups, dropped, duplicated, live_checks);
	return 0;
}
