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
 * Runs may lose a node (and bring it back), with the census of
 * kernel/census.c for the pages it was home of and the settling of the
 * pages it owned that others shared, or have one leave
 * gracefully, with the handover of kernel/handover.c (see "A graceful
 * leave" below). Half the runs replicate the region, as
 * kernel/replica.c does (see "A replicated region" below). Half the
 * losses are partitions (see "A partition" below).
 * A deterministic part checks the message counts of issue 5's R2, also in
 * a cluster of all 64 nodes.
 *
 * Nodes have real ids, 1..64 as in the module: a run's nodes are a random
 * set of ids, node 64 among them in at least half the runs, since its bit
 * in a node set is bit 0 (id % 64). The simulation indexes its nodes by
 * slot (0..N-1) and hands the state machine ids only; a message for an id
 * that is not in the run fails at once.
 *
 * Usage: coherence_sim [RUNS [SEED]]; coherence_sim 1 N run replays alone,
 * with a trace on stderr, the run a failure names ("run seed N").
 * Built with -include kernel_types.h, like kernel/coherence/protocol.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/coherence/protocol.h"

#define MAX_N	DSM_COH_MAX_NODES	/* ids 1..64 */
#define RUN_N	6	/* nodes in a random run, at most */
#define MAX_P	3
#define QCAP	1024
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct link {
	struct { u32 page; int epoch; struct dsm_coh_msg m; } q[QCAP];
	int head, len;
};

/* kernel/pages.h's messages beside the state machine's */
#define SIM_YIELD	17	/* leaving owner -> home: take the page */
#define SIM_HANDOVER	18	/* leaving home -> new home: entry and data */

static int N, P;
static u32 ids[MAX_N];		/* each slot's node id */
static int slot_of[MAX_N + 1];	/* each id's slot, -1 if not in the run */
static struct dsm_coh_node node[MAX_N][MAX_P];
static struct dsm_coh_dir dir[MAX_P];
static struct link *links;	/* N * N of them, see link_of() */
/* the caller's queues (DSM_COH_KEEP): a node's deferred, a home's waiting */
static struct dsm_coh_msg kept[MAX_N][MAX_P][2 * MAX_N];
static int nkept[MAX_N][MAX_P];
static struct dsm_coh_msg queued[MAX_P][2 * MAX_N];
static int nqueued[MAX_P];
static u64 truth[MAX_P];
static int want[MAX_N][MAX_P];	/* 0 none, 1 load, 2 store: waiting to retry */
static bool dead[MAX_N];	/* lost slots */
static bool was_lost[MAX_N];	/* lost at some point (maybe back since) */
static bool fwd_lost[MAX_N][MAX_P];	/* a forward for this requester went to a lost node */
static bool page_gone[MAX_P];	/* no survivor held it: it fails for good */
static bool recovered[MAX_P];	/* its home was lost: a census rebuilt it */
static u32 cur_page;
static long network_msgs, data_msgs;

/*
 * A graceful leave (kernel/handover.c), at most one per run: the leaver
 * gathers its home pages and yields what it owns, hands each entry to its
 * new home and drops requests from then on; once everything it sent is
 * through, the members apply the leave one by one, at random times (the
 * new epoch): each sends its unanswered requests again to the new home; a
 * new home keeps a request from a member that applied the leave first
 * until the entry is there; when all applied, the leaver is gone.
 */
enum { LV_NONE, LV_GATHER, LV_HANDED, LV_ANNOUNCED, LV_GONE };
static int lv = -1, lv_phase;		/* the leaver's slot, its phase */
static bool applied[MAX_N];		/* applied the leave (epoch 1) */
static int homev[MAX_N][MAX_P];		/* each slot's view of the home slot */
static int dir_at[MAX_P];		/* the live directory's slot, -1 moving */
static int new_home[MAX_P];		/* the leaver's pages go there */
static struct dsm_coh_msg defq[MAX_P][2 * MAX_N];	/* kept by a new home */
static int ndefq[MAX_P];
static long leaves, lv_dropped, lv_resent, lv_deferred, losses, pages_gone,
	    rejoins, wedged, holds_kept, removable, prefetches, declines,
	    stale_declines, censuses, census_resent, stale_answers, settles, rereads,
	    unwedged;
static bool spec[MAX_N][MAX_P];	/* the request in flight is a read-ahead */
static u64 txn[MAX_N][MAX_P];	/* its token (the module's are random) */
static u64 txns;
/*
 * A page granted to a waiting fault is held for it (kernel/pages.c): what
 * takes it away, kept before the grant or come since, waits until the hold
 * ends, at a random later step.
 */
static bool held[MAX_N][MAX_P];
static unsigned long long seed, run_seed;
static bool tracing;
#define trace(...)	do { if (tracing) fprintf(stderr, __VA_ARGS__); } while (0)

/*
 * A replicated region (kernel/replica.c), in half the runs without a
 * leave: @copies holders keep each page's pushed versions; the sim's data
 * (a copy's value) is the version too, as every store makes a new one.
 * A commit pushes the pages a node holds writable and wrote, and ends
 * when every push it sent so far is answered: if nothing could have lost
 * one since its last commit, its versions are @committed.
 */
#define SIM_PUSH	19	/* a version for a replica holder */
#define SIM_PUSH_ACK	20	/* the holder kept it, or a newer one */
#define GENERATION	(1ULL << 32)	/* a copy made again from a replica */
static int copies;
static u64 replica[MAX_N][MAX_P];	/* the newest version kept, 0 none */
static bool dirty[MAX_N][MAX_P];	/* stored to since its last push */
static int unacked[MAX_N][MAX_N];	/* pushes from a slot to a slot */
static bool committing[MAX_N], push_failed[MAX_N];
static u64 pushed[MAX_N][MAX_P];	/* the newest version pushed since the last commit */
static u64 committed[MAX_P];		/* the newest version a commit returned 0 for */
static long commits, commits_failed, pushes, restores, revives,
	    confirms, own_reads_ended;
static bool dying;	/* a node died, its loss not declared yet */

/*
 * A partition (net/quorum.c, fence.c): a node is cut off from the others
 * (both ways: what is on its links waits, as in TCP, and is dropped when
 * the others declare it lost) while it goes on with the copies it holds:
 * its loads, and its stores to a page it holds writable, which no other
 * node will ever see. Then it is fenced: its lease ran out, its copies are
 * unmapped and it does nothing more. Only then do the others, a quorum,
 * declare it lost (the lease guarantees that order; with two nodes the
 * lower id goes on, so the cut node is the higher). Checked after every
 * step, across the partition: never two writable copies, never a valid
 * copy beside a writable one, and a valid copy on the quorum's side holds
 * the latest store made there. Healed, it comes back as a new incarnation.
 * (Declaring it lost before its fence, as a broken lease would, fails:
 * "two owners", in the first partitioned runs.)
 */
static bool cut[MAX_N], fenced[MAX_N];
static bool cut_stored[MAX_N][MAX_P];	/* stored to while cut off */
static long partitions, cut_stores, heals;

/* A slot whose faults stop: lost, or fenced. */
static bool out(int n)
{
	return dead[n] || fenced[n];
}

static bool deliver(int from, int to);
static void push(int x, u32 p, u64 version);
static void give(int x, int to, u32 p, u64 version);

/* Slot @x keeps version @version of @p, if newer than the one it has. */
static void keep_replica(int x, u32 p, u64 version)
{
	if (replica[x][p] < version)
		replica[x][p] = version;
}

static unsigned int rnd(unsigned int n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(seed >> 33) % n;
}

/* The slot of the page's home at the start of a run. */
static int home_of(u32 page)
{
	return page % N;
}

/* The node id of the page's live directory, what the state machine is given. */
static u32 home_id(u32 page)
{
	return ids[dir_at[page]];
}

static u64 bit_of(u32 id)
{
	return 1ULL << (id % 64);
}

static struct link *link_of(int from, int to)
{
	return &links[from * N + to];
}

static void fail(const char *what)
{
	fprintf(stderr, "coherence_sim: %s (run seed %llu, nodes", what, run_seed);
	for (int i = 0; i < N; i++)
		fprintf(stderr, " %u", ids[i]);
	fprintf(stderr, ")\n");
	exit(1);
}

static int slot(u32 id)
{
	return id && id <= MAX_N ? slot_of[id] : -1;
}

static void sim_send(struct dsm_coh_env *env, u32 from, u32 to,
		     const struct dsm_coh_msg *m)
{
	struct link *l;
	char what[128];

	(void)env;
	if (slot(from) < 0 || slot(to) < 0) {
		snprintf(what, sizeof(what),
			 "message type %u from node %u to node %u, not in the run",
			 m->type, from, to);
		fail(what);
	}
	if (dead[slot(from)])
		fail("a lost node sent a message");
	/* (kernel/pages.c dsm_pages_check_role refuses it) */
	if ((m->type == DSM_COH_FWD_READ || m->type == DSM_COH_FWD_WRITE) &&
	    m->requester == to)
		fail("a node was forwarded its own request");
	/* what only the directory sends: a forward, or a grant without data */
	if (dead[slot(m->requester)] && !dying &&
	    (m->type == DSM_COH_FWD_READ || m->type == DSM_COH_FWD_WRITE ||
	     (m->type == DSM_COH_GRANT && !m->with_data)))
		fail("the home served a request of a lost node");
	/*
	 * A written page leaving its writer is pushed first, and an owner
	 * that gives its page away keeps it as a replica (dsm_pages_send).
	 */
	if ((m->type == DSM_COH_DATA || (m->type == DSM_COH_GRANT && m->with_data)) &&
	    dirty[slot(from)][cur_page])
		push(slot(from), cur_page, m->value);
	if (copies && m->type == DSM_COH_GRANT && m->with_data)
		give(slot(from), slot(m->requester), cur_page, m->value);
	if (dead[slot(to)]) {
		if (m->type == DSM_COH_FWD_READ || m->type == DSM_COH_FWD_WRITE) {
			if (!dying)
				fail("the home forwarded a request to a lost owner");
			fwd_lost[slot(m->requester)][cur_page] = true;
		}
		return;		/* the outbox drops it */
	}
	l = link_of(slot(from), slot(to));
	if (l->len == QCAP)
		fail("link overflow");
	l->q[(l->head + l->len) % QCAP].page = cur_page;
	l->q[(l->head + l->len) % QCAP].epoch = applied[slot(from)];
	l->q[(l->head + l->len) % QCAP].m = *m;
	if ((m->type == DSM_COH_INV || m->type == DSM_COH_INV_ACK) && m->txn)
		fail("an invalidation tells a holder the writer's token");
	if ((m->type == DSM_COH_REQ_READ || m->type == DSM_COH_REQ_WRITE) &&
	    m->requester == from) {	/* a request, or its resend: as pages.c */
		u64 *t = &txn[slot(from)][cur_page];

		if (!*t)
			*t = ++txns;
		l->q[(l->head + l->len) % QCAP].m.txn = *t;
	}
	l->len++;
	if (from != to) {
		network_msgs++;
		data_msgs += m->type == DSM_COH_DATA || m->with_data;
	}
}

/* The home's policy for a read-ahead of an exclusively held page: at random. */
static bool sim_spare(struct dsm_coh_env *env, const struct dsm_coh_dir *d,
		      const struct dsm_coh_msg *m)
{
	(void)env;
	if (!m->speculative || d->copyset || d->owner == m->requester)
		fail("asked to spare a page that is not held exclusively by another");
	return rnd(2);
}

static bool sim_revive(struct dsm_coh_env *e, bool exclusive);
static struct dsm_coh_env env = { .send = sim_send, .spare = sim_spare,
				  .revive = sim_revive };

/*
 * The slots that keep the versions slot @x pushes of @p: the first
 * @copies live ones from its home on, leaving out @x (dsm_replica_holders).
 */
static u64 holders(int x, u32 p)
{
	u64 set = 0;
	int n = 0;

	for (int i = 0; i < N && n < copies; i++) {
		int y = (dir_at[p] + i) % N;

		if ((!dead[y] || dying) && y != x) {	/* (not declared lost yet) */
			set |= 1ULL << y;
			n++;
		}
	}
	return set;
}

/*
 * Slot @x, the owner of @p, gives it to slot @to, one of the holders of
 * what @x pushes: it keeps version @version (dsm_replica_give).
 */
static void give(int x, int to, u32 p, u64 version)
{
	if (version && (holders(x, p) & (1ULL << to)))
		keep_replica(x, p, version);
}

/* Slot @x pushes version @version of @p (dsm_replica_push). */
static void push(int x, u32 p, u64 version)
{
	struct dsm_coh_msg m = { .type = SIM_PUSH, .from = ids[x],
				 .requester = ids[x], .value = version };
	u64 set = holders(x, p);

	if (__builtin_popcountll(set) < copies)
		push_failed[x] = true;	/* too few live holders */
	trace("slot %d pushes page %u version %llu\n", x, p, (unsigned long long)version);
	dirty[x][p] = false;
	pushes++;
	if (dir_at[p] == x)	/* a home keeps its own */
		keep_replica(x, p, version);
	if (pushed[x][p] < version)
		pushed[x][p] = version;
	for (int y = 0; y < N; y++) {
		if (set & (1ULL << y)) {
			unacked[x][y]++;
			sim_send(&env, ids[x], ids[y], &m);
		}
	}
}

/* Slot @x commits (DSM_IOC_COMMIT): it pushes what it wrote and holds writable. */
static void commit(int x)
{
	for (int p = 0; p < P; p++) {
		if (dirty[x][p] && node[x][p].state == DSM_COH_EXCLUSIVE) {
			cur_page = p;
			push(x, p, node[x][p].value);
		}
	}
	committing[x] = true;
	trace("slot %d commits\n", x);
}

/*
 * A commit returns once every push its node sent so far is answered: 0
 * if nothing could have lost one since its last commit (then its versions
 * are committed), else EIO, and every page it holds writable is pushed
 * again at the next.
 */
static void commits_end(void)
{
	for (int x = 0; x < N; x++) {
		int out = 0;

		for (int y = 0; y < N; y++)
			out += unacked[x][y];
		if (dead[x] || !committing[x] || out)
			continue;
		committing[x] = false;
		for (int p = 0; p < P; p++) {
			if (!push_failed[x] && committed[p] < pushed[x][p])
				committed[p] = pushed[x][p];
			pushed[x][p] = 0;
			dirty[x][p] |= push_failed[x] &&
				       node[x][p].state == DSM_COH_EXCLUSIVE;
		}
		trace("slot %d commit returns %s\n", x, push_failed[x] ? "EIO" : "0");
		commits += !push_failed[x];
		commits_failed += push_failed[x];
		push_failed[x] = false;
	}
}

/*
 * Slot @x's replica of @p becomes its copy, the owner's, @exclusive or
 * shared (dsm_replica_install), in a new generation of versions: never
 * older than the last commit, and no other copy is left.
 */
static bool install(int x, u32 p, bool exclusive)
{
	struct dsm_coh_node *y = &node[x][p];

	if (!replica[x][p])
		return false;
	trace("slot %d page %u made again from its replica %llu (committed %llu)\n",
	      x, p, (unsigned long long)replica[x][p], (unsigned long long)committed[p]);
	if (replica[x][p] < committed[p])
		fail("a page was made again from a version older than its last commit");
	y->state = exclusive ? DSM_COH_EXCLUSIVE : DSM_COH_SHARED;
	y->owner = true;
	y->value = replica[x][p] + GENERATION;
	dirty[x][p] = false;
	truth[p] = y->value;
	restores++;
	for (int z = 0; z < N; z++)
		if (z != x && !dead[z] && node[z][p].state != DSM_COH_INVALID)
			fail("a copy survives next to one made again from a replica");
	return true;
}

/* Slot @x's read of @p ends: its copy answers it (dsm_pages_end_request). */
static void end_read(int x, u32 p)
{
	node[x][p].pending = 0;
	txn[x][p] = 0;
	spec[x][p] = false;
	fwd_lost[x][p] = false;
	own_reads_ended++;
}

/* Is slot @x's read of @p queued at its home? */
static bool read_queued(int x, u32 p)
{
	for (int i = 0; i < nqueued[p]; i++)
		if (queued[p][i].requester == ids[x] && queued[p][i].type == DSM_COH_REQ_READ)
			return true;
	return false;
}

/*
 * The owner of the page died with its data (struct dsm_coh_env @revive,
 * as kernel/census.c's dsm_census_revive): the home's copy, if it holds
 * one, else its replica becomes the owner's, and its own read that went
 * to the dead owner ends (one still queued is declined when served).
 */
static bool sim_revive(struct dsm_coh_env *e, bool exclusive)
{
	u32 p = cur_page;
	int h = dir_at[p];
	struct dsm_coh_node *y = &node[h][p];

	(void)e;
	if (!copies)
		return false;
	if (y->owner && dir[p].owner != ids[h])
		fail("a page made again while a forward of it was on its way to its home's copy");
	if (y->state != DSM_COH_INVALID)
		y->owner = true;	/* a copy as new as the owner's */
	else if (!install(h, p, exclusive))
		return false;
	revives++;
	if (y->pending == DSM_COH_REQ_READ && !read_queued(h, p))
		end_read(h, p);
	return true;
}

/* A read-ahead by the node in slot @n of @p (kernel: dsm_pages_readahead). */
static void prefetch_page(u32 n, u32 p)
{
	cur_page = p;
	if (!page_gone[p] &&
	    dsm_coh_prefetch(&env, &node[n][p], ids[n], ids[homev[n][p]])) {
		spec[n][p] = true;
		prefetches++;
	}
}

/* A load or store by the node in slot @n on @p; true if it was performed. */
static bool access_page(u32 n, u32 p, bool store)
{
	cur_page = p;
	if (page_gone[p]) {	/* SIGBUS */
		want[n][p] = 0;
		return false;
	}
	if (!dsm_coh_fault(&env, &node[n][p], ids[n], ids[homev[n][p]], store)) {
		want[n][p] = store ? 2 : 1;
		return false;
	}
	trace("slot %u page %u %s\n", n, p, store ? "store" : "load");
	if (store && cut[n]) {	/* the others never see it */
		node[n][p].value++;
		cut_stored[n][p] = true;
		cut_stores++;
	} else if (store) {
		truth[p] = ++node[n][p].value;
		dirty[n][p] = copies > 0;
	} else if (node[n][p].value != truth[p] && !cut_stored[n][p]) {
		fail("a load saw a stale value");
	}
	want[n][p] = 0;
	return true;
}

static void keep(struct dsm_coh_msg *q, int *n, const struct dsm_coh_msg *m)
{
	if (*n == 2 * MAX_N)
		fail("a queue overflowed");
	q[(*n)++] = *m;
}

static struct dsm_coh_msg take(struct dsm_coh_msg *q, int *n, int i)
{
	struct dsm_coh_msg m = q[i];

	memmove(&q[i], &q[i + 1], (--(*n) - i) * sizeof(q[0]));
	return m;
}

static struct dsm_coh_msg unkeep(struct dsm_coh_msg *q, int *n)
{
	return take(q, n, 0);
}

/*
 * Slot @to's state machine takes @m for @p (dsm_pages_node_receive): an
 * owner an invalidation takes the page from gives it up.
 */
static int node_receive(u32 to, u32 p, const struct dsm_coh_msg *m)
{
	struct dsm_coh_node *x = &node[to][p];
	bool owned = x->owner && x->state != DSM_COH_INVALID;
	int err;

	/* the home's forward to itself of a write it no longer serves: dropped */
	if (m->type == DSM_COH_FWD_WRITE && env.confirm && dir_at[p] == (int)to &&
	    m->from == ids[to] && !(dir[p].busy && dir[p].cur.requester == m->requester &&
				    dir[p].cur.txn == m->txn))
		return 0;
	err = dsm_coh_node_receive(&env, x, ids[to], ids[homev[to][p]], m);

	if (copies && m->type == DSM_COH_INV && !err && owned)
		give(to, slot(m->requester), p, x->value);
	return err;
}

/* Feed what slot @to kept for @p again, in order, up to one that must wait. */
static void replay(u32 to, u32 p)
{
	while (nkept[to][p]) {
		int err = node_receive(to, p, &kept[to][p][0]);

		trace("replay at %u page %u type %u requester slot %d: %d\n", to, p,
		      kept[to][p][0].type, slot(kept[to][p][0].requester), err);
		if (err == DSM_COH_KEEP)
			return;
		if (err < 0)
			fail("the state machine refused a kept message");
		unkeep(kept[to][p], &nkept[to][p]);
	}
}

/*
 * What the module does too: keep what the state machine asks to, and what
 * takes the page away while something is kept, and replay it, unless the
 * page is held for a fault.
 */
static void node_feed(u32 to, u32 p, const struct dsm_coh_msg *m)
{
	struct dsm_coh_node *x = &node[to][p];
	u8 was = x->pending;
	int err = DSM_COH_KEEP;

	if (m->type == DSM_COH_FAIL) {
		if (x->pending) {	/* the fault fails with SIGBUS */
			x->pending = 0;
			want[to][p] = 0;
			txn[to][p] = 0;
		}
		spec[to][p] = false;
		return;
	}
	if (m->type == DSM_COH_DECLINE) {
		if (!spec[to][p] || m->from != ids[homev[to][p]]) {
			/* its request was sent again to a new home: dropped */
			stale_declines++;
			return;
		}
		if (dsm_coh_node_receive(&env, x, ids[to], ids[homev[to][p]], m) || x->state != DSM_COH_INVALID)
			fail("a declined read-ahead changed the page or was refused");
		spec[to][p] = false;
		txn[to][p] = 0;
		declines++;
		return;		/* a fault that joined it asks again (retry_waiting) */
	}
	/*
	 * The module takes an owner's answer only with its request's token;
	 * after a census, one for a request asked again of the new home is
	 * dropped (kernel/pages.c dsm_pages_check_role).
	 */
	if ((m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT) &&
	    (!txn[to][p] || m->txn != txn[to][p])) {
		if (!recovered[p])
			fail("an answer without the token of the request it answers");
		stale_answers++;
		return;
	}
	if (!nkept[to][p] || m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT)
		err = node_receive(to, p, m);
	if (err == DSM_COH_KEEP)
		keep(kept[to][p], &nkept[to][p], m);
	else if (err < 0)
		fail("the state machine refused a message the protocol sent");
	if (was && !x->pending) {
		spec[to][p] = false;
		txn[to][p] = 0;
	}
	if (was && !x->pending && want[to][p]) {
		held[to][p] = true;
		holds_kept += nkept[to][p] > 0;
	}
	if (!held[to][p])
		replay(to, p);
}

static bool any_held(void)
{
	for (int n = 0; n < N; n++)
		for (int p = 0; p < P; p++)
			if (held[n][p])
				return true;
	return false;
}

/* Holds end (each at random, or @all): what waited for them is replayed. */
static bool end_holds(bool all)
{
	bool any = false;

	for (int n = 0; n < N; n++)
		for (int p = 0; p < P; p++)
			if (held[n][p] && (all || !rnd(4))) {
				held[n][p] = false;
				cur_page = p;
				if (!dead[n])
					replay(n, p);
				any = true;
			}
	return any;
}

/* Serve the queued requests while the directory is free (dsm_pages_dir_drain). */
static void dir_drain(u32 p)
{
	int err = 0;

	/* a fenced home grants nothing (fence.c): its requests wait */
	while (!err && !dir[p].busy && nqueued[p] && !(dir_at[p] >= 0 && fenced[dir_at[p]])) {
		struct dsm_coh_msg k, f;
		int i = 0;

		/* a leaving home serves only its own requests; others wait */
		if (dir_at[p] == lv && lv_phase == LV_GATHER)
			while (i < nqueued[p] && queued[p][i].requester != ids[lv])
				i++;
		if (i == nqueued[p])
			break;
		k = take(queued[p], &nqueued[p], i);
		f = (struct dsm_coh_msg){ .type = DSM_COH_FAIL, .from = home_id(p),
					  .requester = k.requester };

		if (k.requester == home_id(p) &&
		    (k.type != node[dir_at[p]][p].pending || k.txn != txn[dir_at[p]][p])) {
			continue;	/* its own, answered meanwhile (a revive) */
		} else if (copies && k.type == DSM_COH_REQ_READ && k.requester == dir[p].owner &&
			   !dir[p].orphan) {
			/* a read crossing the restore that made its node the owner */
			int x = slot(k.requester);

			if (node[x][p].pending == DSM_COH_REQ_READ && txn[x][p] == k.txn)
				end_read(x, p);
		} else if (dir[p].orphan) {	/* its data died with its owner */
			sim_send(&env, f.from, k.requester, &f);
		} else {
			err = dsm_coh_dir_receive(&env, &dir[p], home_id(p), &k);
		}
	}
	if (err < 0)
		fail("the directory refused a message the protocol sent");
}

static void dir_feed(u32 p, const struct dsm_coh_msg *m)
{
	if (m->type == DSM_COH_INV_ACK || m->type == DSM_COH_CONFIRM) {
		confirms += m->type == DSM_COH_CONFIRM;
		if (m->type == DSM_COH_CONFIRM && m->txn != dir[p].cur.txn)
			fail("a confirmation with another write's token");
		if (dsm_coh_dir_receive(&env, &dir[p], home_id(p), m) < 0)
			fail("the directory refused an ack the protocol sent");
	} else {
		keep(queued[p], &nqueued[p], m);	/* served in order */
	}
	dir_drain(p);
}

/* Is a message of the lost node's old transactions still on its way? */
static bool old_traffic(u32 id)
{
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++)
			for (int i = 0; i < link_of(a, b)->len; i++)
				if (link_of(a, b)->q[(link_of(a, b)->head + i) % QCAP].m.requester == id)
					return true;
	for (int n = 0; n < N; n++)
		for (int p = 0; p < P; p++)
			for (int i = 0; i < nkept[n][p]; i++)
				if (kept[n][p][i].requester == id)
					return true;
	return false;
}

/*
 * A lost node comes back, a new incarnation with nothing: it starts from
 * scratch, as the module's node does when it rejoins. Only once nothing of
 * its old transactions is on its way (a rejoin takes seconds, a message
 * milliseconds): an answer to the old incarnation would reach the new one.
 * Return: whether it came back.
 */
static bool rejoin(int n)
{
	if (old_traffic(ids[n]))
		return false;
	rejoins++;
	dead[n] = false;
	cut[n] = false;
	fenced[n] = false;
	for (int p = 0; p < P; p++) {
		cut_stored[n][p] = false;
		dsm_coh_node_init(&node[n][p], false);
		nkept[n][p] = 0;
		want[n][p] = 0;
		held[n][p] = false;
		spec[n][p] = false;
		txn[n][p] = 0;
		homev[n][p] = dir_at[p];	/* the region's homes, as it learns them */
	}
	return true;
}

/*
 * The census of page @p, whose home is lost, as kernel/census.c
 * does it, here at one instant on every survivor: the new home builds the
 * entry from the survivors' copies (an exclusive copy is the owner's; a
 * shared one keeps its owner, or the new home names one: OWN), messages
 * kept for the lost home's transactions are dropped, and requests in
 * flight are asked again of the new home with new tokens. With no copy
 * left, the page fails for good.
 */
static void census(u32 p)
{
	int h = -1, owner = -1;
	u64 copyset = 0;

	for (int x = 0; x < N; x++)
		if (!dead[x] && (h < 0 || !rnd(3)))
			h = x;
	recovered[p] = true;
	censuses++;
	nqueued[p] = 0;		/* died with it; asked again below */
	for (int x = 0; x < N; x++) {
		struct dsm_coh_node *y = &node[x][p];

		if (dead[x])
			continue;
		nkept[x][p] = 0;	/* the lost home's forwards and invalidations */
		homev[x][p] = h;
		trace("census page %u: slot %d state %u owner %d pending %u value %llu\n", p, x,
		      y->state, y->owner, y->pending, (unsigned long long)y->value);
		if (y->owner || y->state == DSM_COH_EXCLUSIVE) {
			if (owner >= 0 || (y->state == DSM_COH_EXCLUSIVE && copyset))
				fail("a census found two owners, or a writer next to a copy");
			owner = x;
		} else if (y->state == DSM_COH_SHARED) {
			if (owner >= 0 && node[owner][p].state == DSM_COH_EXCLUSIVE)
				fail("a census found a copy next to a writer");
			copyset |= bit_of(ids[x]);
		}
	}
	dir_at[p] = h;
	dsm_coh_dir_init(&dir[p], ids[h]);
	if (owner < 0 && copyset) {	/* the new home names an owner */
		for (int x = 0; x < N && owner < 0; x++)
			if (!dead[x] && (copyset & bit_of(ids[x])))
				owner = x;
		node[owner][p].owner = true;
		copyset &= ~bit_of(ids[owner]);
	}
	if (owner < 0 && copies) {	/* no copy: the newest replica's holder (OWN) */
		int best = -1;

		for (int x = 0; x < N; x++)
			if (!dead[x] && replica[x][p] &&
			    (best < 0 || replica[x][p] > replica[best][p]))
				best = x;
		if (best >= 0 && install(best, p, true))
			owner = best;
	}
	if (owner < 0) {
		page_gone[p] = true;	/* its only copy died with it */
		pages_gone++;
		for (int x = 0; x < N; x++) {
			if (node[x][p].state != DSM_COH_INVALID && !dead[x])
				fail("a page a survivor holds was failed");
			dsm_coh_node_init(&node[x][p], false);
			want[x][p] = 0;
			held[x][p] = false;
		}
		return;
	}
	dir[p].owner = ids[owner];
	dir[p].copyset = copyset;
	for (int x = 0; x < N; x++) {
		struct dsm_coh_msg r = { .type = node[x][p].pending, .from = ids[x],
					 .requester = ids[x] };

		if (dead[x] || !r.type)
			continue;
		txn[x][p] = 0;		/* a new token */
		spec[x][p] = false;
		sim_send(&env, ids[x], ids[h], &r);
		census_resent++;
	}
}

/* Queue again, with its token, the read of slot @x that went to a lost owner. */
static void reread(u32 p, int x)
{
	struct dsm_coh_msg r = { .type = DSM_COH_REQ_READ, .from = ids[x],
				 .requester = ids[x], .txn = txn[x][p] };

	keep(queued[p], &nqueued[p], &r);
	fwd_lost[x][p] = false;
}

/*
 * Settle page @p, whose owner (slot @n) was lost while others shared it,
 * at its live home, as kernel/census.c does (dsm_census_settle): here at
 * one instant, after every survivor's walk (nothing of @n's is on its way
 * any more). The home counts the copies of the copyset's nodes, names an
 * owner among them (itself first, else the lowest slot: OWN), and queues
 * again, with their tokens, the reads that went to @n; with no copy the
 * page fails. Return: false if the page is not settled (its home serves
 * a write, or nobody else was in the copyset).
 */
static bool settle(u32 p, int n)
{
	u64 sharers = dir[p].copyset & ~bit_of(ids[n]), copyset = 0;
	int h = dir_at[p], owner = -1;

	if (dir[p].busy || dir[p].owner != ids[n] || !sharers)
		return false;
	settles++;
	for (int x = 0; x < N; x++) {
		struct dsm_coh_node *y = &node[x][p];

		if (dead[x] || !(sharers & bit_of(ids[x])))
			continue;
		if (y->owner || y->state == DSM_COH_EXCLUSIVE)
			fail("a lost owner's copyset names an owner or a writer");
		if (y->state == DSM_COH_SHARED) {
			copyset |= bit_of(ids[x]);
		} else if (y->pending == DSM_COH_REQ_READ) {
			reread(p, x);	/* its read went to @n */
			rereads++;
		}
	}
	dsm_coh_dir_init(&dir[p], ids[h]);
	if (copyset & bit_of(ids[h]))
		owner = h;
	for (int x = 0; x < N && owner < 0; x++)
		if (!dead[x] && (copyset & bit_of(ids[x])))
			owner = x;
	if (owner < 0 && install(h, p, true))	/* no copy: the home's replica */
		owner = h;
	if (owner < 0) {	/* the lost owner held it alone: it fails */
		dir[p].owner = ids[n];
		dir[p].orphan = true;
	} else {
		node[owner][p].owner = true;
		dir[p].owner = ids[owner];
		dir[p].copyset = copyset & ~bit_of(ids[owner]);
	}
	return true;
}

/*
 * The home of page @p serves a write, and its owner was lost: a node the
 * write waits for whose read went to the lost owner kept the invalidation;
 * as kernel/census.c does it (dsm_census_unwedge), at one instant: it
 * drops the invalidation, which counts as acked, and its read is queued
 * again with its token.
 */
static void unwedge(u32 p)
{
	for (int x = 0; x < N; x++) {
		struct dsm_coh_node *y = &node[x][p];
		struct dsm_coh_msg ack = { .type = DSM_COH_INV_ACK, .from = ids[x],
					   .requester = dir[p].cur.requester };
		int k = 0;

		if (dead[x] || !dir[p].busy || !(dir[p].waiting & bit_of(ids[x])) ||
		    y->pending != DSM_COH_REQ_READ || y->state != DSM_COH_INVALID)
			continue;
		for (int i = 0; i < nkept[x][p]; i++)
			if (kept[x][p][i].type != DSM_COH_INV)
				kept[x][p][k++] = kept[x][p][i];
		if (k == nkept[x][p])
			continue;	/* its invalidation is still on its way */
		nkept[x][p] = k;
		reread(p, x);
		unwedged++;
		if (dsm_coh_dir_receive(&env, &dir[p], home_id(p), &ack))
			fail("the directory refused a reader's ack");
	}
}

/* The node in slot @n is lost: what kernel/census.c does on every survivor. */
static void lose(int n)
{
	if (cut[n] && !fenced[n])
		fail("a node was declared lost before it was fenced");
	trace("slot %d lost\n", n);
	losses++;
	dead[n] = true;
	was_lost[n] = true;
	for (int a = 0; a < N; a++) {
		struct link *to = link_of(a, n), *from = link_of(n, a);

		/* a page on its way from or through it is gone with it */
		for (int i = 0; i < to->len; i++) {
			struct dsm_coh_msg *m = &to->q[(to->head + i) % QCAP].m;

			if (m->type == DSM_COH_FWD_READ || m->type == DSM_COH_FWD_WRITE)
				fwd_lost[slot(m->requester)][to->q[(to->head + i) % QCAP].page] = true;
		}
		for (int i = 0; i < from->len; i++) {
			struct dsm_coh_msg *m = &from->q[(from->head + i) % QCAP].m;

			if (m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT)
				fwd_lost[slot(m->requester)][from->q[(from->head + i) % QCAP].page] = true;
		}
		memset(to, 0, sizeof(*to));
		memset(from, 0, sizeof(*from));
	}
	/*
	 * A loss is declared a dead timeout after the death (net/quorum.c):
	 * by then what live nodes had on its way to each other is through (a
	 * message takes milliseconds; only one a node keeps waits longer).
	 * In a replicated run the home may make a page of the lost owner
	 * again (dsm_coh_revive), which needs that: a forward still on its way
	 * to the page's last owner would leave its copy beside the new one.
	 */
	dying = true;
	for (bool any = copies > 0; any;) {
		any = end_holds(true);
		for (int a = 0; a < N; a++)
			for (int b = 0; b < N; b++)
				while (deliver(a, b))
					any = true;
	}
	dying = false;
	for (int x = 0; x < N; x++) {	/* its pushes, and those to it, are lost */
		push_failed[x] = true;	/* (the region's failure count moved) */
		unacked[x][n] = 0;
		unacked[n][x] = 0;
	}
	committing[n] = false;
	for (int p = 0; p < P; p++) {
		replica[n][p] = 0;
		dirty[n][p] = false;
		pushed[n][p] = 0;
	}
	for (int p = 0; p < P; p++) {
		bool writing;
		int k = 0;

		if (dir_at[p] == n && !page_gone[p]) {
			for (int x = 0; x < N; x++)
				fwd_lost[x][p] = false;	/* asked again of the new home */
			cur_page = p;
			census(p);
			continue;
		}
		if (page_gone[p])
			continue;
		for (int i = 0; i < nkept[n][p]; i++)	/* forwards it kept */
			fwd_lost[slot(kept[n][p][i].requester)][p] |=
				kept[n][p][i].type != DSM_COH_INV;
		want[n][p] = 0;
		cur_page = p;
		for (int i = 0; i < nqueued[p]; i++)	/* its queued requests */
			if (queued[p][i].requester != ids[n])
				queued[p][k++] = queued[p][i];
		nqueued[p] = k;
		writing = dir[p].busy && dir[p].owner == ids[n];
		if (!settle(p, n))
			dsm_coh_dir_forget(&env, &dir[p], home_id(p), ids[n], true);
		if (writing)
			unwedge(p);
		dir_drain(p);
	}
}

/* A new home gets the leaver's entry: it owns the page, nobody else holds it. */
static void take_over(int to, u32 p, const struct dsm_coh_msg *m)
{
	struct dsm_coh_node *x = &node[to][p];

	if (to != new_home[p] || dir_at[p] != -1)
		fail("a handover reached a node that is not the new home");
	dsm_coh_dir_init(&dir[p], ids[to]);
	dir_at[p] = to;
	homev[to][p] = to;
	x->state = DSM_COH_EXCLUSIVE;
	x->owner = true;
	x->value = m->value;
	x->pending = 0;		/* a request of its own is answered */
	txn[to][p] = 0;
	nkept[to][p] = 0;	/* about the old home's transactions, all done */
	while (ndefq[p])	/* requests of members that applied the leave */
		keep(queued[p], &nqueued[p], &defq[p][--ndefq[p]]);
	dir_drain(p);
}

/*
 * A directory message (request, ack, yield) for @p reached slot @to, which
 * may not be the live home: what kernel/pages.c's dsm_pages_not_home() does.
 */
static void dir_message(int to, u32 p, const struct dsm_coh_msg *m, int epoch)
{
	struct dsm_coh_node *x = &node[to][p];

	if (to == lv && lv_phase >= LV_HANDED && dir_at[p] != lv) {
		lv_dropped += m->type != DSM_COH_INV_ACK;
		return;		/* handed: the requester asks the new home */
	}
	if (dir_at[p] != to) {
		if (m->type == SIM_YIELD)
			return;	/* repeated to the right home */
		if (m->type == DSM_COH_INV_ACK || m->type == DSM_COH_CONFIRM ||
		    lv < 0 || new_home[p] != to ||
		    epoch <= applied[to])
			fail("a directory message reached a node that is not home");
		if (ndefq[p] == 2 * MAX_N)
			fail("a new home's queue overflowed");
		defq[p][ndefq[p]++] = *m;	/* ahead of us in the leave */
		lv_deferred++;
		return;
	}
	if (m->type == SIM_YIELD) {	/* take the page: a write "fault" here */
		if (x->state != DSM_COH_EXCLUSIVE && !x->pending)
			dsm_coh_fault(&env, x, ids[to], ids[to], true);
		return;
	}
	dir_feed(p, m);
}

/* Deliver the next message from slot @from to slot @to, if any. */
static bool deliver(int from, int to)
{
	struct link *l = link_of(from, to);
	struct dsm_coh_msg m;
	int epoch;
	u32 p;

	if (!l->len || (from != to && (cut[from] || cut[to])))
		return false;	/* (a cut link's messages wait) */
	p = l->q[l->head].page;
	epoch = l->q[l->head].epoch;
	m = l->q[l->head].m;
	l->head = (l->head + 1) % QCAP;
	l->len--;
	cur_page = p;
	trace("deliver %d->%d page %u type %u requester slot %d value %llu txn %llu%s\n",
	      from, to, p, m.type, slot(m.requester), (unsigned long long)m.value,
	      (unsigned long long)m.txn, m.with_data ? " with data" : "");
	if (m.type == SIM_PUSH) {	/* a holder keeps it if newer, and answers */
		struct dsm_coh_msg a = { .type = SIM_PUSH_ACK, .from = ids[to],
					 .requester = m.requester };

		keep_replica(to, p, m.value);
		sim_send(&env, ids[to], ids[from], &a);
		return true;
	}
	if (m.type == SIM_PUSH_ACK) {
		if (!unacked[to][from])
			fail("an answer to no push");
		unacked[to][from]--;
		return true;
	}
	if (page_gone[p])
		return true;	/* late traffic of a page that failed */
	if (m.type == DSM_COH_REQ_READ || m.type == DSM_COH_REQ_WRITE ||
	    m.type == DSM_COH_INV_ACK || m.type == DSM_COH_CONFIRM || m.type == SIM_YIELD)
		dir_message(to, p, &m, epoch);
	else if (m.type == SIM_HANDOVER)
		take_over(to, p, &m);
	else
		node_feed(to, p, &m);
	return true;
}

static void retry_waiting(void)
{
	for (int n = 0; n < N; n++)
		if (!out(n))
			for (int p = 0; p < P; p++)
				if (want[n][p])
					access_page(n, p, want[n][p] == 2);
}

/*
 * What lets a region's removal go on (kernel/region.c: a member answers
 * PREPARE with EAGAIN while its own requests about the region are on
 * their way): once no live node waits for an answer about @p, nothing
 * about @p is on its way for a live node, queued or kept, and its
 * directory is idle. (What is still on its way for a lost requester is
 * dropped as late traffic of a removed region; a leave's own messages are
 * not requests: not checked during one.)
 */
static void check_removable(u32 p)
{
	for (int n = 0; n < N; n++)
		if ((!dead[n] && node[n][p].pending) || (lv >= 0 && lv_phase != LV_GONE))
			return;
	removable++;
	/* (a forwarded write's requester has the page: its CONFIRM is on its way) */
	if ((dir[p].busy && !dead[slot(dir[p].cur.requester)] &&
	     dir[p].waiting != bit_of(dir[p].cur.requester)) || nqueued[p])
		fail("nobody asks, yet the directory is busy");
	for (int n = 0; n < N; n++)
		for (int i = 0; !dead[n] && i < nkept[n][p]; i++)
			if (!dead[slot(kept[n][p][i].requester)])
				fail("nobody asks, yet a message is kept");
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++) {
			struct link *l = link_of(a, b);

			for (int i = 0; i < l->len; i++) {
				const struct dsm_coh_msg *m = &l->q[(l->head + i) % QCAP].m;

				if (l->q[(l->head + i) % QCAP].page != p ||
				    dead[slot(m->requester)] ||
				    m->type == SIM_PUSH || m->type == SIM_PUSH_ACK ||
				    m->type == DSM_COH_CONFIRM)
					continue;	/* (no request waits for these) */
				/* an answer to a token a census replaced: dropped */
				if ((m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT) &&
				    recovered[p] && m->txn != txn[slot(m->requester)][p])
					continue;
				fail("nobody asks, yet a message is on its way");
			}
		}
}

static void check_safety(void)
{
	for (int p = 0; p < P; p++) {
		int writers = 0, valid = 0, owners = 0;

		if (page_gone[p])
			continue;
		check_removable(p);
		for (int n = 0; n < N; n++) {
			struct dsm_coh_node *x = &node[n][p];

			/*
			 * A fenced node's copies are unmapped; a cut-off node
			 * that is not fenced counts, declared lost or not.
			 */
			if (fenced[n] || (dead[n] && !cut[n]))
				continue;
			writers += x->state == DSM_COH_EXCLUSIVE;
			valid += x->state != DSM_COH_INVALID;
			owners += x->owner;
			if (x->state != DSM_COH_INVALID && x->value != truth[p] &&
			    !cut_stored[n][p])
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
			if (link_of(a, b)->len)
				return false;
	return true;
}

/* The slot that takes page @p from the leaver: its pages spread over the others. */
static int heir(u32 p)
{
	int k = p % (N - 1);

	return k < lv ? k : k + 1;
}

static void leave_start(int n)
{
	lv = n;
	lv_phase = LV_GATHER;
	leaves++;
	for (int p = 0; p < P; p++) {
		new_home[p] = dir_at[p] == lv ? heir(p) : -1;
		want[lv][p] = 0;	/* its processes stop using the pages */
	}
}

/* Has the leaver given up what it must? (the kernel's dsm_pages_quiet) */
static bool leave_quiet(void)
{
	for (int p = 0; p < P; p++) {
		struct dsm_coh_node *x = &node[lv][p];

		if (dir_at[p] == lv ? x->state != DSM_COH_EXCLUSIVE || x->pending ||
				      dir[p].busy || dir[p].owner != ids[lv] || dir[p].copyset :
				      x->owner || x->pending)
			return false;
	}
	return true;
}

/* Is a message of @type about @p on its way from slot @a to slot @b? */
static bool in_flight(int a, int b, u8 type, u32 p)
{
	struct link *l = link_of(a, b);

	for (int i = 0; i < l->len; i++)
		if (l->q[(l->head + i) % QCAP].page == p &&
		    l->q[(l->head + i) % QCAP].m.type == type)
			return true;
	return false;
}

/*
 * Take the home pages exclusively, yield the owned ones. Repeated, like the
 * kernel's every 250 ms: far apart next to a message's way, so a yield is
 * not sent again while one is on its way.
 */
static void leave_gather(void)
{
	for (int p = 0; p < P; p++) {
		struct dsm_coh_node *x = &node[lv][p];
		struct dsm_coh_msg y = { .type = SIM_YIELD, .from = ids[lv],
					 .requester = ids[lv] };

		cur_page = p;
		if (dir_at[p] == lv) {
			if (x->state != DSM_COH_EXCLUSIVE && !x->pending)
				dsm_coh_fault(&env, x, ids[lv], ids[lv], true);
		} else if (x->owner && !in_flight(lv, homev[lv][p], SIM_YIELD, p)) {
			sim_send(&env, ids[lv], ids[homev[lv][p]], &y);
		}
	}
}

/* Hand each home page over, entry and data; drop the requests kept. */
static void leave_hand(void)
{
	for (int p = 0; p < P; p++) {
		struct dsm_coh_msg h = { .type = SIM_HANDOVER, .from = ids[lv],
					 .requester = ids[lv], .value = node[lv][p].value };

		if (dir_at[p] != lv)
			continue;
		cur_page = p;
		/*
		 * A page never written may have had no entry at the leaver
		 * (nobody asked for it): then none is handed, and the new
		 * home starts it afresh when it applies the leave.
		 */
		if (truth[p] || rnd(2))
			sim_send(&env, ids[lv], ids[new_home[p]], &h);
		lv_dropped += nqueued[p];
		nqueued[p] = 0;
		node[lv][p].state = DSM_COH_INVALID;
		node[lv][p].owner = false;
		homev[lv][p] = new_home[p];
		dir_at[p] = -1;
	}
	lv_phase = LV_HANDED;
}

/* Slot @n applies the leave: its unanswered requests go to the new homes. */
static void leave_apply(int n)
{
	applied[n] = true;
	for (int p = 0; p < P; p++) {
		struct dsm_coh_msg r = { .type = node[n][p].pending, .from = ids[n],
					 .requester = ids[n] };

		if (homev[n][p] != lv)
			continue;
		homev[n][p] = new_home[p];
		cur_page = p;
		if (new_home[p] == n && dir_at[p] == -1) {	/* no entry came */
			struct dsm_coh_msg none = { .value = 0 };

			take_over(n, p, &none);
		} else if (new_home[p] != n && r.type) {
			spec[n][p] = false;	/* asked in earnest now */
			sim_send(&env, ids[n], ids[new_home[p]], &r);
			lv_resent++;
		}
	}
}

/* Every member applied the leave: the leaver is gone, the homes forget it. */
static void leave_gone(void)
{
	lv_phase = LV_GONE;
	dead[lv] = true;
	for (int a = 0; a < N; a++) {
		memset(link_of(a, lv), 0, sizeof(struct link));
		memset(link_of(lv, a), 0, sizeof(struct link));
	}
	for (int p = 0; p < P; p++) {
		int k = 0;

		cur_page = p;
		for (int i = 0; i < nqueued[p]; i++)
			if (queued[p][i].requester != ids[lv])
				queued[p][k++] = queued[p][i];
		nqueued[p] = k;
		env.revive = NULL;	/* a leave is no loss (census.c) */
		dsm_coh_dir_forget(&env, &dir[p], home_id(p), ids[lv], false);
		env.revive = sim_revive;
		dir_drain(p);
	}
}

/* One random step of the leave, if one is under way. */
static void leave_step(void)
{
	bool sent = false;
	int n = rnd(N);

	switch (lv < 0 ? LV_NONE : lv_phase) {
	case LV_GATHER:
		if (!rnd(4))
			leave_gather();
		if (leave_quiet())
			leave_hand();
		break;
	case LV_HANDED:	/* the round trip to every member */
		for (int a = 0; a < N; a++)
			sent |= link_of(lv, a)->len > 0;
		if (!sent)
			lv_phase = LV_ANNOUNCED;
		break;
	case LV_ANNOUNCED:
		if (n != lv && !applied[n] && !rnd(3))
			leave_apply(n);
		for (n = 0; n < N && (n == lv || applied[n]); n++)
			;
		if (n == N)
			leave_gone();
		break;
	}
}

static void check_quiet(void)
{
	for (int p = 0; p < P; p++) {
		u64 copyset = 0;
		int owner = -1;
		bool lost = was_lost[slot(dir[p].owner)], stuck = false;

		/*
		 * A page the lost node was to send on (a forward it had not
		 * served, data it had not delivered) wedges: its requester
		 * waits (the module's fault gets SIGBUS after the dead
		 * timeout), and so does everything queued behind it; unless
		 * it was a read that settling asked again (settle()): what
		 * is left is a write's data (its home had served the write).
		 * Not in a replicated region: its home waits for a forwarded
		 * write's CONFIRM, so it knows the data died.
		 */
		for (int n = 0; n < N; n++)
			stuck |= !dead[n] && node[n][p].pending && fwd_lost[n][p];
		wedged += stuck && !page_gone[p];
		if (copies && stuck)
			fail("a request wedged in a replicated region");
		/* one node lost: fewer than copies + 1 holders of its versions */
		if (copies && committed[p] && (page_gone[p] || dir[p].orphan))
			fail("a committed page failed");
		if (stuck || page_gone[p])
			continue;
		if (dir[p].busy || nqueued[p])
			fail("the directory is still busy");
		if (dir[p].orphan && !lost)
			fail("an orphan whose owner was never lost");
		for (int n = 0; n < N; n++) {
			struct dsm_coh_node *x = &node[n][p];

			if (dead[n])
				continue;
			if (x->pending || nkept[n][p] || want[n][p]) {
				trace("slot %d page %d: pending %u, %d kept, want %d\n",
				      n, p, x->pending, nkept[n][p], want[n][p]);
				fail("a request never completed");
			}
			if (x->owner)
				owner = n;
			else if (x->state == DSM_COH_SHARED)
				copyset |= bit_of(ids[n]);
			if (x->owner && x->state == DSM_COH_INVALID)
				fail("an owner without the data");
		}
		if (dir[p].orphan ? owner >= 0 : owner < 0 || ids[owner] != dir[p].owner)
			fail("the directory names the wrong owner");
		if (copyset != dir[p].copyset)
			fail("the copyset does not match the copies");
	}
}

/* @n random ids from 1..64, node 64 among them in at least half the runs. */
static void pick_ids(int n)
{
	u32 pool[MAX_N];
	bool has64 = false;

	for (int i = 0; i < MAX_N; i++)
		pool[i] = i + 1;
	for (int i = 0; i < n; i++) {
		int j = i + rnd(MAX_N - i);
		u32 t = pool[i];

		pool[i] = pool[j];
		pool[j] = t;
		ids[i] = pool[i];
		has64 |= ids[i] == MAX_N;
	}
	if (!has64 && rnd(2))
		ids[rnd(n)] = MAX_N;
}

/*
 * A fresh run of @n nodes and @p pages. The nodes' ids are @use[0..n-1], or
 * random if @use is NULL; page p's home is the node in slot p % n.
 */
static void setup(int n, int p, const u32 *use)
{
	N = n;
	P = p;
	if (use)
		memcpy(ids, use, n * sizeof(ids[0]));
	else
		pick_ids(n);
	memset(slot_of, -1, sizeof(slot_of));
	for (int i = 0; i < N; i++) {
		if (!ids[i] || ids[i] > MAX_N || slot_of[ids[i]] >= 0)
			fail("bad node ids for a run");
		slot_of[ids[i]] = i;
	}
	free(links);
	links = calloc(N * N, sizeof(*links));
	if (!links)
		fail("out of memory");
	memset(want, 0, sizeof(want));
	memset(spec, 0, sizeof(spec));
	memset(truth, 0, sizeof(truth));
	memset(nkept, 0, sizeof(nkept));
	memset(held, 0, sizeof(held));
	memset(nqueued, 0, sizeof(nqueued));
	memset(dead, 0, sizeof(dead));
	memset(cut, 0, sizeof(cut));
	memset(fenced, 0, sizeof(fenced));
	memset(cut_stored, 0, sizeof(cut_stored));
	memset(was_lost, 0, sizeof(was_lost));
	memset(fwd_lost, 0, sizeof(fwd_lost));
	memset(page_gone, 0, sizeof(page_gone));
	memset(recovered, 0, sizeof(recovered));
	memset(applied, 0, sizeof(applied));
	memset(ndefq, 0, sizeof(ndefq));
	memset(replica, 0, sizeof(replica));
	memset(dirty, 0, sizeof(dirty));
	memset(unacked, 0, sizeof(unacked));
	memset(committing, 0, sizeof(committing));
	memset(push_failed, 0, sizeof(push_failed));
	memset(pushed, 0, sizeof(pushed));
	memset(committed, 0, sizeof(committed));
	copies = 0;
	env.confirm = false;
	lv = -1;
	lv_phase = LV_NONE;
	for (int i = 0; i < P; i++) {
		dir_at[i] = home_of(i);
		dsm_coh_dir_init(&dir[i], home_id(i));
		for (int j = 0; j < N; j++) {
			dsm_coh_node_init(&node[j][i], j == home_of(i));
			homev[j][i] = home_of(i);
		}
	}
}

/* Cut slot @n off (see "A partition"). */
static void partition(int n)
{
	trace("slot %d cut off\n", n);
	partitions++;
	cut[n] = true;
}

/*
 * The partition heals before the others declared slot @n lost: the fence is
 * lifted, its directories serve what waited (fence.c), what waited on its
 * links flows, and what it stored meanwhile stands.
 */
static void heal(int n)
{
	trace("slot %d healed\n", n);
	heals++;
	cut[n] = false;
	fenced[n] = false;
	for (int p = 0; p < P; p++) {
		if (cut_stored[n][p]) {	/* it held the page writable throughout */
			truth[p] = node[n][p].value;
			dirty[n][p] = copies > 0;
			cut_stored[n][p] = false;
		}
		if (dir_at[p] == n) {
			cur_page = p;
			dir_drain(p);
		}
	}
}

/* The slot the quorum goes on without: any of 3 or more, the higher of 2. */
static int cut_slot(void)
{
	if (N == 2)
		return ids[0] > ids[1] ? 0 : 1;
	return rnd(N);
}

static void one_run(int steps)
{
	int loss_at, back_at, leave_at, lost = -1, fence_at = -1, declare_at = -1, heal_at = -1;

	run_seed = seed;
	setup(2 + rnd(RUN_N - 1), 1 + rnd(MAX_P), NULL);
	/* a replicated region: 1 or 2 copies, fewer than the nodes */
	copies = rnd(2) ? 1 + (int)rnd(N > 2 ? 2 : 1) : 0;
	env.confirm = copies > 0;
	/* any node may be lost (a home too: its pages fail), and return */
	loss_at = rnd(2) ? (int)rnd(steps) : -1;
	back_at = loss_at >= 0 && rnd(2) ? loss_at + (int)rnd(steps - loss_at) : -1;
	/*
	 * else any node may leave gracefully, a home too (replicas do not
	 * follow: a leave is no loss, and forwarded writes go on)
	 */
	leave_at = loss_at < 0 && N >= 3 && rnd(2) ? (int)rnd(steps / 2) : -1;
	/* half the losses are partitions: cut off, fenced later, then declared */
	if (loss_at >= 0 && rnd(2)) {
		fence_at = loss_at + (int)rnd(steps / 4 + 1);
		declare_at = fence_at + 1 + (int)rnd(steps / 4 + 1);
		/* half of them heal first (before or after the fence) */
		heal_at = rnd(2) ? loss_at + (int)rnd(declare_at - loss_at) : -1;
	}
	for (int s = 0; s < steps; s++) {
		if (s == leave_at)
			leave_start(rnd(N));
		leave_step();
		if (s == loss_at && fence_at >= 0)
			partition(lost = cut_slot());
		else if (s == loss_at)
			lose(lost = rnd(N));
		if (s == fence_at && cut[lost])
			fenced[lost] = true;
		if (s == heal_at)
			heal(lost);
		if (s == declare_at && cut[lost])
			lose(lost);
		if (s >= back_at && back_at > loss_at && dead[lost] && !rejoin(lost))
			back_at++;	/* later */
		if (copies && !rnd(16)) {
			int n = rnd(N);

			if (!out(n) && !cut[n] && !committing[n])
				commit(n);
		} else if (rnd(3) == 0) {
			u32 n = rnd(N), p = rnd(P);

			if (!want[n][p] && !out(n) && (int)n != lv && !rnd(4))
				prefetch_page(n, p);
			else if (!want[n][p] && !out(n) && (int)n != lv)
				access_page(n, p, rnd(2));
		} else {
			deliver(rnd(N), rnd(N));	/* often an empty link: a delay */
		}
		retry_waiting();
		end_holds(false);
		commits_end();
		check_safety();
	}
	if (fence_at >= 0 && cut[lost] && !dead[lost]) {	/* it outlasted the run */
		fenced[lost] = true;
		lose(lost);
		retry_waiting();	/* what waited for it asks again */
		check_safety();
	}
	for (int guard = 0; !links_empty() || (lv >= 0 && lv_phase != LV_GONE) ||
			    any_held(); guard++) {
		if (guard > 1000000)
			fail("messages never drained (livelock)");
		leave_step();
		deliver(rnd(N), rnd(N));
		retry_waiting();
		end_holds(false);
		commits_end();
		check_safety();
	}
	check_quiet();
}

/* Drain every link, lowest first (deterministic). */
static void drain(void)
{
	while (!links_empty() || end_holds(true))
		for (int a = 0; a < N; a++)
			for (int b = 0; b < N; b++)
				while (deliver(a, b)) {
					retry_waiting();
					end_holds(true);
				}
}

/*
 * The deterministic checks below name nodes by slot: slot 0 is page 0's
 * home, 1 the writer, 2 a remote owner, 3.. readers. Each runs with these
 * ids, so that node 64 takes every role once.
 */
static const u32 layouts[][6] = {
	{ 1, 2, 3, 4, 5, 6 },
	{ 64, 1, 2, 3, 4, 5 },	/* the home */
	{ 1, 64, 2, 3, 4, 5 },	/* the writer */
	{ 1, 2, 64, 3, 4, 5 },	/* the remote owner, invalidated by an upgrade */
	{ 1, 2, 3, 64, 4, 5 },	/* a reader, invalidated by the write */
};

/* R2: a write with k readers costs 2 + 2k messages, 3 + 2k if owner != home. */
static void check_counts(const u32 *use)
{
	for (int k = 0; k <= 3; k++) {
		for (int remote_owner = 0; remote_owner <= 1; remote_owner++) {
			long want_msgs = 2 + 2 * k + remote_owner;
			u32 writer = 1, owner = remote_owner ? 2 : 0;

			setup(6, 1, use);	/* page 0's home is slot 0 */
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
			check_quiet();
			if (network_msgs != want_msgs) {
				fprintf(stderr, "coherence_sim: write with %d readers%s: %ld messages, not %ld\n",
					k, remote_owner ? ", owner != home" : "",
					network_msgs, want_msgs);
				fail("wrong message count");
			}
		}
	}
	/*
	 * An upgrade moves no data: slot 2 owns the page (home slot 0), slot 1
	 * reads it, then writes: request, invalidate slot 2, its ack, a bare
	 * grant.
	 */
	setup(3, 1, use);
	access_page(2, 0, true);
	drain();
	access_page(1, 0, false);
	drain();
	network_msgs = data_msgs = 0;
	access_page(1, 0, true);
	drain();
	check_quiet();
	if (network_msgs != 4 || data_msgs)
		fail("an upgrade did not cost 2 + 2k messages without data");
}

/*
 * A reader dies while a write waits for its ack: the home forgets it and the
 * write completes. Slot 2 reads page 0 (home slot 0), slot 1 writes; slot
 * 2's invalidation is lost with it.
 */
static void check_forget(const u32 *use)
{
	setup(3, 1, use);
	access_page(2, 0, false);
	drain();
	access_page(1, 0, true);
	deliver(1, 0);			/* the write request reaches the home */
	memset(link_of(0, 2), 0, sizeof(struct link));	/* slot 2 is gone */
	if (!dir[0].busy)
		fail("the write did not wait for the dead reader");
	dsm_coh_dir_forget(&env, &dir[0], home_id(0), ids[2], true);
	drain();
	if (want[1][0] || node[1][0].state != DSM_COH_EXCLUSIVE || dir[0].copyset)
		fail("forgetting a dead reader did not complete the write");
}

/*
 * An invalidation is acknowledged to the node that sent it, not to the home
 * the node knows: during a handover the new home (here slot 1) invalidates
 * a reader (slot 2) that still names the old one (slot 0).
 */
static void check_ack_to_sender(const u32 *use)
{
	struct dsm_coh_msg inv = { .type = DSM_COH_INV, .from = use[1],
				   .requester = use[1] };

	setup(3, 1, use);
	access_page(2, 0, false);
	drain();
	node_feed(2, 0, &inv);
	if (!link_of(2, 1)->len || link_of(2, 0)->len ||
	    link_of(2, 1)->q[link_of(2, 1)->head].m.type != DSM_COH_INV_ACK)
		fail("an invalidation was acknowledged to another node than its sender");
}

/*
 * All 64 nodes, in id order (page 0's home is node 1): node 64 writes, nodes
 * 2..63 read, then node 2 writes. Its upgrade invalidates the 61 other
 * readers and node 64, the owner: 2 + 2 * 62 messages, no data.
 */
static void check_full(void)
{
	u32 all[MAX_N];

	for (int i = 0; i < MAX_N; i++)
		all[i] = i + 1;
	setup(MAX_N, 1, all);
	access_page(63, 0, true);
	drain();
	for (int n = 1; n <= 62; n++) {
		access_page(n, 0, false);
		drain();
	}
	network_msgs = data_msgs = 0;
	access_page(1, 0, true);
	drain();
	check_quiet();
	if (node[1][0].state != DSM_COH_EXCLUSIVE || node[63][0].state != DSM_COH_INVALID)
		fail("a write in a 64-node cluster did not take the page");
	if (network_msgs != 2 + 2 * 62 || data_msgs)
		fail("a write in a 64-node cluster did not cost 2 + 2k messages");
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20000;

	seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	/* "coherence_sim 1 SEED run": the run a failure named, alone, traced */
	tracing = argc > 3;
	for (size_t i = 0; i < ARRAY_SIZE(layouts) && !tracing; i++) {
		check_counts(layouts[i]);
		check_forget(layouts[i]);
		check_ack_to_sender(layouts[i]);
	}
	if (!tracing)
		check_full();
	for (int i = 0; i < runs; i++)
		one_run(400);
	printf("ok coherence_sim: %d random runs, seed %s, invariants held after every step\n",
	       runs, argc > 2 ? argv[2] : "1");
	printf("# %ld partitions: the cut-off node stored %ld times to pages it held writable; %ld healed before the others declared it lost, the rest were fenced, then declared lost\n",
	       partitions, cut_stores, heals);
	printf("# %ld nodes lost (%ld came back); %ld entries of a lost home rebuilt by census, %ld pages failed (no survivor held them), %ld requests asked again of a new home, %ld answers to their old tokens dropped; %ld pages of a lost owner settled, %ld reads that went to it asked again, %ld of them behind a write; %ld pages wedged by a forward or data lost with them\n",
	       losses, rejoins, censuses, pages_gone, census_resent, stale_answers, settles, rereads + unwedged, unwedged, wedged);
	printf("# replicated runs: %ld commits returned 0, %ld EIO, %ld pushes; %ld pages made again from a replica, %ld revived at a live home (its copy or replica), %ld home's reads ended by that; %ld forwarded writes confirmed\n",
	       commits, commits_failed, pushes, restores, revives, own_reads_ended,
	       confirms);
	printf("# %ld graceful leaves: %ld requests dropped by the leaver, %ld sent again, %ld kept by a new home\n",
	       leaves, lv_dropped, lv_resent, lv_deferred);
	printf("# %ld grants held for their fault with a forward or invalidation kept behind them\n",
	       holds_kept);
	printf("# %ld read-aheads, %ld declined by their home, %ld declines of a read-ahead sent again\n",
	       prefetches, declines, stale_declines);
	printf("# %ld steps where nobody asked about a page: nothing about it on its way (a removal may go on)\n",
	       removable);
	return 0;
}
