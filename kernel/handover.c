// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster regions when nodes leave gracefully.
 *
 * Theory of operation (lost nodes are census.c's).
 *  - This node leaves gracefully (dsm_pages_handover, before the leave is
 *    announced): the pages it owns go to their homes (YIELD); the pages it
 *    is home of are first taken exclusively, which completes every request
 *    it served, then handed, entry and data, to the home the mapping table
 *    names without it (HANDOVER); requests that reach it meanwhile wait,
 *    then are dropped, and so is every later one (see dsm_leave_phase);
 *    the page versions it keeps for others go to their next holders
 *    (replica.c); a round trip to every member confirms all of it was
 *    processed. A leaver
 *    never passes a request on: it may be gone, with its outbox, before the
 *    message is through, or the new home may have closed the link to it.
 *    Its own faults that need a request wait until the leave is over
 *    (dsm_pages_self_leaving), or they would take pages back as fast as
 *    they are given. If the pages cannot all be gathered in time (a member
 *    that does not answer), nothing is handed: the leave fails and the
 *    node goes on as before, home and owner of what it was; only a forced
 *    leave (module unload) hands over what it has.
 *  - Another node left gracefully (dsm_pages_node_left, when the epoch
 *    without it is applied, before it stops being a member, so that no
 *    fault finds its pages' home gone): every region's mapping table is
 *    rebuilt without it; only its slots move, to the nodes it handed them
 *    to. A request of this node that the leaver did not answer is sent
 *    again to the new home. A request that reaches a new home from a
 *    node that applied the leave first waits until this one has too
 *    (dsm_pages_behind: the epoch every message carries says so).
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "coherence/homes.h"
#include "pages.h"

/*
 * jiffies when each node announced it is leaving (LEAVING), 0 if it is not:
 * requests to it may be dropped until the leave is applied here, and sent
 * again to the new homes then.
 */
static unsigned long dsm_leaving_since[DSM_MAX_NODES + 1];

/**
 * dsm_pages_on_leaving() - DSM_MSG_LEAVING: the sender hands its pages over
 * @m: the message (no payload; m->from checked by the transport)
 *
 * Return: 0.
 */
u32 dsm_pages_on_leaving(const struct dsm_net_msg *m)
{
	/* once per leave: a leave that failed and is tried again starts anew */
	WRITE_ONCE(dsm_leaving_since[m->from], jiffies ?: 1);
	dsm_freezes_end();	/* its handover makes new owners */
	return 0;
}

/**
 * dsm_pages_changing() - is a leave (this node's or another's) or a census
 * under way here? A region freeze would end on the way (freeze.c).
 */
bool dsm_pages_changing(void)
{
	u32 id;

	if (dsm_pages_self_leaving() || dsm_census_waits())
		return true;
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (dsm_pages_home_leaving(id))
			return true;
	return false;
}

/* Node @id was lost: whatever it announced is over. */
void dsm_pages_leave_forget(u32 id)
{
	WRITE_ONCE(dsm_leaving_since[id], 0);
}

/**
 * dsm_pages_home_leaving() - may a fault wait longer for node @id?
 * @id: the home of the page
 *
 * A leave takes at most its gather (twice the dead timeout), a round trip
 * to every member (a dead timeout each), the leave request and the new
 * list's way here: a fault waits for a leaving home that long from its
 * announcement, and fails after that (the leave failed, and the requests
 * it dropped will never be answered).
 *
 * Return: true while @id is leaving, within that bound.
 */
bool dsm_pages_home_leaving(u32 id)
{
	unsigned long since = READ_ONCE(dsm_leaving_since[id]);
	u32 ms = (3 + dsm_members_count()) * dsm_dead_timeout_ms() +
		 DSM_JOIN_TIMEOUT_MS;

	return since && time_before(jiffies, since + msecs_to_jiffies(ms));
}

/* Serve the requests queued for a page homed here (locked), if it can. */
void dsm_pages_serve_queued(struct dsm_pages_ctx *ctx)
{
	if (dsm_pages_dir_drain(ctx))
		pr_warn_ratelimited("region %#llx page %lu: directory refused a queued request\n",
				    ctx->r->key, ctx->index);
}

/**
 * dsm_pages_drop_copy() - the page's directory is gone for this node (its
 * home was lost, or this node was evicted): what the home forwarded or
 * invalidated waits for nothing now, a request in flight fails, and the
 * copy here is dropped
 * @ctx: the page, locked
 */
void dsm_pages_drop_copy(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;

	dsm_pages_drop_kept(cp);
	if (cp->node.pending)
		cp->failed = true;
	if (cp->node.state != DSM_COH_INVALID) {
		cp->node.state = DSM_COH_INVALID;
		cp->node.owner = false;
		dsm_pages_zap(ctx->r, ctx->index);
		dsm_pages_copy_gone(ctx->r, cp);
	}
}

/*
 * The home set a region's pages move to when @gone leaves: the rest of its
 * home set, or, if @gone was its only home, the members that stay (not
 * those lost: census.c).
 */
static u64 dsm_pages_homes_without(const struct dsm_region *r, u64 gone,
				   u64 members)
{
	return (r->homes & ~gone) ?: members & ~gone & ~READ_ONCE(r->lost);
}

/*
 * The page's home left; @home is the new one. If that is this node and no
 * handover came, the old home never had an entry: nobody ever held the
 * page, and a request of ours in flight is answered. Requests of others
 * kept meanwhile are served. A request of ours that the old home did not
 * answer goes to the new home: the old home answered every request it
 * served before it handed the page over (it took the page exclusively
 * first) and dropped the rest. Requests kept for the page here were not
 * for this node after all if the page went elsewhere: dropped.
 */
static void dsm_pages_moved(struct dsm_pages_ctx *ctx, u32 home)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	struct dsm_coh_msg m;

	dsm_cpage_set_home(cp, home);
	if (home == self) {
		dsm_coh_dir_init(&cp->dir, self);
		dsm_coh_node_init(&cp->node, true);
		dsm_census_fresh(ctx->r, cp, ctx->index);	/* or lost before */
		cp->txn = 0;
		cp->speculative = false;
		cp->waiters = false;
		cp->failed = false;
		if (dsm_pages_dir_drain(ctx))
			pr_warn_ratelimited("region %#llx page %lu: directory refused a kept request\n",
					    ctx->r->key, ctx->index);
		return;
	}
	while (dsm_pages_unkeep(&cp->queued, &m))
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);	/* not for us after all */
	if (cp->node.pending) {
		cp->speculative = false;	/* asked in earnest now */
		dsm_pages_send_type(ctx, home, cp->node.pending, self);
		dsm_stat_inc(DSM_STAT_REQUESTS_RESENT);
		cp->req_time = jiffies;
		cp->wait_since = jiffies;	/* a new home: a new wait */
	}
}

struct dsm_left {
	u32 id;
	u64 dirty;
};

/* Rebuild @r's mapping table without @id; pages @id was home of move. */
static void dsm_pages_left_region(struct dsm_region *r, void *arg)
{
	struct dsm_left *left = arg;
	u32 id = left->id;
	u64 bit = dsm_node_bit(id), homes, *dirty = &left->dirty;
	struct dsm_pages_ctx ctx;
	struct dsm_homes *table;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster || !(r->homes & bit))
		return;
	homes = dsm_pages_homes_without(r, bit, dsm_members_live_mask());
	if (!homes)
		return;
	table = kvmalloc(sizeof(*table), GFP_KERNEL);
	if (!table)
		return;		/* its pages fail like a lost node's */
	dsm_homes_build(table, homes);
	down_write(&r->table_lock);	/* see dsm_cpage_get() */
	memcpy(r->table, table, sizeof(*table));
	WRITE_ONCE(r->homes, homes);
	up_write(&r->table_lock);
	kvfree(table);
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		if (cp->home == id)
			dsm_pages_moved(&ctx, dsm_homes_node(r->table, r->key, index));
		unlock_page(cp->page);
		*dirty |= ctx.dirty;
		cond_resched();
	}
}

/* Non-zero while a leave is applied here (see dsm_pages_behind) */
static atomic_t dsm_pages_moving_now = ATOMIC_INIT(0);

/**
 * dsm_pages_node_left() - a node left gracefully: its home pages moved
 * @id: the node
 *
 * Every member rebuilds each region's mapping table without it; the new
 * homes got the entries from it before it left (dsm_pages_handover).
 * Called with the epoch without it already in force, so that the requests
 * sent again to the new homes carry it.
 */
void dsm_pages_node_left(u32 id)
{
	struct dsm_left left = { .id = id };

	if (!id || id == dsm_self_id())
		return;
	dsm_regions_left(id, false, dsm_pages_left_region, &left);
	WRITE_ONCE(dsm_leaving_since[id], 0);
	dsm_out_kick(left.dirty);	/* may run in a receive handler */
	wake_up_all(&dsm_pages_wq);	/* requests answered by the move */
}

/**
 * dsm_pages_moving() - the membership layer is applying a leave
 * @begin: true before it puts the new epoch in force, false once
 *         dsm_pages_node_left() returned
 */
void dsm_pages_moving(bool begin)
{
	if (begin) {
		atomic_inc(&dsm_pages_moving_now);
		smp_mb__after_atomic();	/* before the new epoch: see behind() */
	} else {
		atomic_dec(&dsm_pages_moving_now);
	}
}

/**
 * dsm_pages_behind() - has a sender moved pages this node has not yet?
 * @epoch: the membership epoch the sender was at
 * @home:  the page's home as this node knows it
 *
 * Return: true if @home announced its leave, and this node is at an older
 * epoch than the sender, or applying the leave right now.
 */
bool dsm_pages_behind(u64 epoch, u32 home)
{
	u64 ours = dsm_members_epoch();

	if (!READ_ONCE(dsm_leaving_since[home]))
		return false;	/* only a leaving home's pages move */
	smp_rmb();	/* the epoch, then the flag: see dsm_pages_moving() */
	return epoch > ours || atomic_read(&dsm_pages_moving_now);
}

/*
 * Where this node is in its own graceful leave. From GATHER on, a page
 * homed here serves only this node's requests (others' wait, and are
 * dropped when the page is handed over); from HANDED on, every page homed
 * here belongs to its new home: requests are dropped, also for a page that
 * had no entry here (untouched: its new home starts it afresh). Back to
 * NONE once the cluster regions are dropped after the leave.
 */
enum { DSM_LEAVE_NONE, DSM_LEAVE_GATHER, DSM_LEAVE_HANDED };
static int dsm_leave_phase;
static u64 dsm_leave_others;	/* the members that stay */

/*
 * Fault injection for the selftests: pause after handing the entries over,
 * before the members learn of the leave, to widen the window in which
 * requests still come here.
 */
static unsigned int dsm_inject_leave_pause_ms;
module_param_named(inject_leave_pause_ms, dsm_inject_leave_pause_ms, uint, 0600);
MODULE_PARM_DESC(inject_leave_pause_ms,
		 "testing: pause a leave for this long after the handover");

/*
 * Fault injection for the selftests: give up gathering after this long
 * (instead of twice the dead timeout), to fail a leave on a slow member
 * without that member being declared lost.
 */
static unsigned int dsm_inject_gather_ms;
module_param_named(inject_gather_ms, dsm_inject_gather_ms, uint, 0600);
MODULE_PARM_DESC(inject_gather_ms,
		 "test only: give up gathering a leave's pages after this long, not twice the dead timeout");

/* The home of page @index of @r once this node is gone. */
static u32 dsm_pages_successor(const struct dsm_region *r, pgoff_t index)
{
	u64 homes = dsm_pages_homes_without(r, dsm_node_bit(dsm_self_id()),
					    READ_ONCE(dsm_leave_others));

	return dsm_homes_node_of(homes, r->key, index);
}

/**
 * dsm_pages_first_touch() - a page homed here was just made (inserted)
 * @r:     the region
 * @cp:    the page, in @r->pages, not locked
 * @index: its index
 *
 * Once this node handed its entries over, a page homed here that is
 * touched for the first time belongs to its successor already (untouched:
 * the successor starts it afresh), unless the handover saw it and handed
 * it itself.
 */
void dsm_pages_first_touch(struct dsm_region *r, struct dsm_cpage *cp,
			   pgoff_t index)
{
	smp_mb();	/* inserted, then the phase: see dsm_pages_handover() */
	if (smp_load_acquire(&dsm_leave_phase) != DSM_LEAVE_HANDED)
		return;
	lock_page(cp->page);
	if (cp->home == dsm_self_id() && !cp->handed) {
		dsm_cpage_set_home(cp, dsm_pages_successor(r, index));
		cp->handed = true;
		cp->node.state = DSM_COH_INVALID;
		cp->node.owner = false;
		/* a fault may have mapped it since it was published */
		dsm_pages_zap(r, index);
	}
	unlock_page(cp->page);
}

/* Hand the entry of a page homed here (locked) to its new home. */
static void dsm_pages_hand(struct dsm_pages_ctx *ctx)
{
	u32 self = dsm_self_id(), to = dsm_pages_successor(ctx->r, ctx->index);
	struct dsm_cpage *cp = ctx->cp;
	bool lost = cp->dir.orphan || cp->census;	/* (a forced leave) */
	struct dsm_coh_msg m;

	/*
	 * Not gathered (a forced leave whose gather timed out): a copy this
	 * node does not hold is not the page (its owner may be handing it to
	 * this node right now): handed as lost, the page fails rather than
	 * being served stale beside its owner. A shared copy is the page.
	 */
	if (cp->node.state != DSM_COH_EXCLUSIVE && !lost) {
		dsm_stat_inc(DSM_STAT_FAULT_FAILURES);
		lost = cp->node.state == DSM_COH_INVALID;
	}
	dsm_pages_send_type(ctx, to, lost ? DSM_PAGE_HANDOVER_LOST : DSM_PAGE_HANDOVER,
			    self);
	while (dsm_pages_unkeep(&cp->queued, &m))
		dsm_stat_inc(DSM_STAT_REQUESTS_MOVED);	/* asked again at the new home */
	cp->node.state = DSM_COH_INVALID;
	cp->node.owner = false;
	dsm_pages_copy_gone(ctx->r, cp);
	dsm_cpage_set_home(cp, to);
	cp->handed = true;
	cp->leaving = false;
}

/**
 * dsm_pages_leaving_page() - a request for a page homed here, while leaving
 * @ctx: the page, locked, with cp->home this node and not handed
 *
 * Called before the request is handled: it then waits for the handover
 * (and is dropped there), or is dropped now, once the entries are handed.
 *
 * Return: true to drop the request: its requester asks the new home.
 */
bool dsm_pages_leaving_page(struct dsm_pages_ctx *ctx)
{
	/* pairs with the releases in dsm_pages_handover() */
	switch (smp_load_acquire(&dsm_leave_phase)) {
	case DSM_LEAVE_GATHER:
		ctx->cp->leaving = true;
		return false;
	case DSM_LEAVE_HANDED:
		return true;
	}
	ctx->cp->leaving = false;	/* a leave that failed: everyone's again */
	return false;
}

/**
 * dsm_pages_self_handed() - has this node handed its pages over, leaving?
 * (replica.c: the versions it kept went with them)
 */
bool dsm_pages_self_handed(void)
{
	/* pairs with the release in dsm_pages_handover() */
	return smp_load_acquire(&dsm_leave_phase) == DSM_LEAVE_HANDED;
}

/**
 * dsm_pages_self_leaving() - is this node handing its pages over?
 *
 * Return: true from the start of dsm_pages_handover() until the leave is
 * over (dsm_pages_leave_end) or failed.
 */
bool dsm_pages_self_leaving(void)
{
	/* pairs with the releases in dsm_pages_handover() and leave_end() */
	return smp_load_acquire(&dsm_leave_phase) != DSM_LEAVE_NONE;
}

/**
 * dsm_pages_leave_end() - this node is no member any more: leaves are over
 */
void dsm_pages_leave_end(void)
{
	/* pairs with dsm_pages_leaving_page() */
	smp_store_release(&dsm_leave_phase, DSM_LEAVE_NONE);
	wake_up_all(&dsm_pages_wq);	/* faults that waited for the leave */
}

struct dsm_regions_list {
	struct dsm_region **r;
	u32 n;
};

static void dsm_pages_collect(struct dsm_region *r, void *arg)
{
	struct dsm_regions_list *list = arg;

	if (r->cluster && list->n < DSM_MAX_REGIONS) {
		kref_get(&r->ref);
		list->r[list->n++] = r;
	}
}

/*
 * Has this node given up what it must of the page before leaving? One it
 * is home of must be its alone, or lost (its data died with its owner:
 * nothing to gather, the new home fails it too). (lockless peek)
 */
static bool dsm_pages_gathered(const struct dsm_cpage *cp, u32 self)
{
	if (READ_ONCE(cp->home) != self)
		return !READ_ONCE(cp->node.owner) && !READ_ONCE(cp->node.pending);
	if (READ_ONCE(cp->dir.busy) || READ_ONCE(cp->node.pending))
		return false;
	return READ_ONCE(cp->dir.orphan) ||
	       (READ_ONCE(cp->node.state) == DSM_COH_EXCLUSIVE &&
		READ_ONCE(cp->dir.owner) == self && !READ_ONCE(cp->dir.copyset));
}

static bool dsm_pages_quiet(struct dsm_regions_list *list)
{
	u32 self = dsm_self_id(), i;
	struct dsm_cpage *cp;
	unsigned long index;

	for (i = 0; i < list->n; i++) {
		xa_for_each(&list->r[i]->pages, index, cp) {
			if (!dsm_pages_gathered(cp, self))
				return false;
			cond_resched();
		}
	}
	return true;
}

/*
 * Step 1 for one page: take what we are home of, yield what we own.
 * Repeated until done: a request of ours in flight (a read-ahead) or one
 * of the home's (which then ignores YIELD) can be in the way.
 */
static u64 dsm_pages_gather(struct dsm_region *r, pgoff_t index,
			    struct dsm_cpage *cp)
{
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;

	dsm_pages_ctx_init(&ctx, r, cp, index);
	lock_page(cp->page);
	if (cp->home == self) {
		cp->leaving = true;
		if (!cp->dir.orphan)	/* a lost page is handed over as lost */
			dsm_pages_take_home(&ctx);
	} else if (cp->node.owner) {
		dsm_pages_send_type(&ctx, cp->home, DSM_PAGE_YIELD, self);
	}
	unlock_page(cp->page);
	return ctx.dirty;
}

#define DSM_REGATHER_MS	250

/* Gather until quiet; Return: 0, or -ETIMEDOUT at @deadline. */
static int dsm_pages_gather_all(struct dsm_regions_list *list,
				unsigned long deadline)
{
	unsigned long until, index;
	struct dsm_cpage *cp;
	bool quiet;
	u32 i;

	do {
		for (i = 0; i < list->n; i++) {
			xa_for_each(&list->r[i]->pages, index, cp) {
				dsm_out_flush_mask(dsm_pages_gather(list->r[i], index, cp));
				cond_resched();
			}
		}
		until = jiffies + msecs_to_jiffies(DSM_REGATHER_MS);
		while (!(quiet = dsm_pages_quiet(list)) && time_before(jiffies, until))
			msleep(20);
		if (!quiet && time_after(jiffies, deadline))
			return -ETIMEDOUT;
	} while (!quiet);
	return 0;
}

/*
 * The gather failed: a page homed here serves everybody again, starting
 * with the requests that waited for the handover.
 */
static void dsm_pages_stay(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;

	if (!cp->leaving)
		return;
	cp->leaving = false;
	dsm_pages_serve_queued(ctx);
}

/* Step 2 for a page homed here: hand its entry over. */
static void dsm_pages_hand_once(struct dsm_pages_ctx *ctx)
{
	if (!ctx->cp->handed)
		dsm_pages_hand(ctx);
}

struct dsm_page_walk {
	void (*step)(struct dsm_pages_ctx *ctx);
	bool homes_only;
	u64 dirty;
};

static void dsm_pages_walk_region(struct dsm_region *r, void *arg)
{
	struct dsm_page_walk *walk = arg;
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		if (!walk->homes_only || cp->home == self)
			walk->step(&ctx);
		unlock_page(cp->page);
		walk->dirty |= ctx.dirty;
		cond_resched();
	}
}

/**
 * dsm_pages_walk() - one step for every page of every cluster region (or
 * only those homed here), under its page lock; then what the steps queued
 * is sent
 * @step:       the step
 * @homes_only: only the pages homed here
 *
 * Every region, also those first heard of meanwhile.
 */
void dsm_pages_walk(void (*step)(struct dsm_pages_ctx *ctx), bool homes_only)
{
	struct dsm_page_walk walk = { .step = step, .homes_only = homes_only };

	dsm_regions_for_each(dsm_pages_walk_region, &walk);
	dsm_out_flush_mask(walk.dirty);
}

/**
 * dsm_pages_handover() - before leaving: give away what only we hold
 * @force: hand the pages over even if they could not all be gathered
 *
 * For every cluster region: the pages this node owns go to their homes
 * (YIELD: the home takes them with a write request of its own), and the
 * pages this node is home of are first taken exclusively, then handed,
 * entry and data, to the home the mapping table names once this node is
 * gone (the members that stay, for a region homed only here). Requests
 * that arrive meanwhile are dropped (dsm_pages_leaving_page): their
 * requesters ask the new homes once they apply the leave. A final round trip to every
 * member (dsm_region_sync) makes sure all of it was processed before the
 * leave is announced.
 *
 * Return: 0, -ENOMEM, or -ETIMEDOUT if some page could not be gathered in
 * time: then nothing is handed and this node stays home and owner of what
 * it was, unless @force (it is handed over anyway: as lost where another
 * node owns it, see dsm_pages_hand; counted in fault_failures).
 */
int dsm_pages_handover(bool force)
{
	u64 others = dsm_members_live_mask() & ~dsm_node_bit(dsm_self_id());
	u32 gather_ms = READ_ONCE(dsm_inject_gather_ms) ?: 2 * dsm_dead_timeout_ms();
	unsigned long deadline = jiffies + msecs_to_jiffies(gather_ms);
	void (*step)(struct dsm_pages_ctx *ctx);
	struct dsm_regions_list list = {};
	u64 dirty = 0;
	bool stay;
	int err;
	u32 i, id;

	if (!others)
		return 0;
	list.r = kvmalloc_array(DSM_MAX_REGIONS, sizeof(*list.r), GFP_KERNEL);
	if (!list.r)
		return -ENOMEM;
	WRITE_ONCE(dsm_leave_others, others);
	/* pairs with dsm_pages_leaving_page(): the others are set first */
	smp_store_release(&dsm_leave_phase, DSM_LEAVE_GATHER);
	dsm_freezes_end();	/* this node's handover makes new owners */
	err = 0;
	for (id = 1; id <= DSM_MAX_NODES; id++) {	/* their requests may wait */
		if (!(others & dsm_node_bit(id)))
			continue;
		if (!dsm_net_send(id, DSM_MSG_LEAVING, 0, NULL, 0))
			dirty |= dsm_node_bit(id);
		else
			err = -ENOMEM;	/* it would refuse our handover */
	}
	dsm_out_flush_mask(dirty);
	dirty = 0;
	dsm_regions_for_each(dsm_pages_collect, &list);
	if (!err)
		err = dsm_pages_gather_all(&list, deadline);
	stay = err && !force;
	if (stay) {
		step = dsm_pages_stay;
		dsm_pages_leave_end();
	} else {
		step = dsm_pages_hand_once;
		/* pairs with dsm_pages_leaving_page() */
		smp_store_release(&dsm_leave_phase, DSM_LEAVE_HANDED);
	}
	smp_mb();	/* the phase, then the pages: see first_touch() */
	dsm_pages_walk(step, true);
	if (stay)
		goto out;
	dsm_replicas_hand_over();	/* replica.c */
	if (dsm_inject_leave_pause_ms)
		msleep(dsm_inject_leave_pause_ms);
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (others & dsm_node_bit(id))
			dsm_region_sync(id);
out:
	for (i = 0; i < list.n; i++)
		dsm_region_put(list.r[i]);
	kvfree(list.r);
	return err;
}
