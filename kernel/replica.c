// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: replicated regions - each page's committed data kept on other
 * nodes, and the pages a lost node held made again from it.
 *
 * Theory of operation. A region created with copies = n (1 or 2,
 * DSM_ATTACH_COPIES) keeps, for each page, its newest committed version
 * on n other nodes, its replica holders.
 *
 *  - Versions. Every copy of a page carries a version (dsm_coh_node.value,
 *    which the protocol moves with the data: DATA, GRANT and HANDOVER carry
 *    it on the wire). Only the node holding the page writable changes it,
 *    so the versions along the page's history only grow.
 *  - Dirty pages. A store mapped on a page of such a region marks the page
 *    DSM_PAGE_DIRTY in the region's page array (dsm_replica_written, in
 *    the fault path, under the page lock). A push clears the mark and
 *    unmaps the page here, so the next store faults and marks it again.
 *  - A push (dsm_replica_push, page locked) gives the page the next version
 *    and sends it (DSM_MSG_REPLICA PUSH, with the page) to the holders:
 *    the first n live homes of the region, in the page's rendezvous order
 *    (the order that names its home), leaving out the pusher. So the home
 *    holds every version others push; a home that pushes keeps its own
 *    version too. A holder keeps a version newer than the one it has, and
 *    answers ACK (version 0 if it could not keep it).
 *  - Commit (DSM_IOC_COMMIT, msync(MS_SYNC), fsync) pushes every dirty page
 *    this node holds, then waits until every push this node sent so far
 *    is acknowledged: pushes to one node are counted in the order they
 *    are queued for it (under dsm_replica_tx_lock), and it answers in
 *    that order. Anything that may have lost a push of a region (a holder
 *    lost or gone, one that kept nothing or stays silent, a page with too
 *    few live holders) bumps the region's replica_failures; its commit
 *    fails with EIO if that changed since its last commit (or is still
 *    waiting on a silent holder), and every page held here writable is
 *    marked dirty again.
 *  - A dirty page that leaves this node (its data sent to another node: a
 *    write request took it, a read shared it, a leave handed it over) is
 *    pushed first (dsm_pages_send): what a node wrote and committed is
 *    never only in the next holder's uncommitted copy. An owner that gives
 *    its page away or up to one of its holders keeps the version it gives
 *    as a replica (dsm_replica_give): the new owner may be the version's
 *    only other holder (the home, which keeps what others push), and one
 *    loss would take both.
 *  - A node that leaves gracefully hands the versions it keeps on to the
 *    nodes that keep them once it is gone (dsm_replicas_hand_over, from
 *    the handover, before the round trip that ends it).
 *  - Loss of an owner, its home alive (census.c, dsm_census_revive, from
 *    the state machine when nobody else holds a copy): the home holds the
 *    newest pushed version; it becomes the owner with it, rather than
 *    failing the page. A write the home forwarded waits there for its
 *    requester's confirmation (env.confirm, protocol.h), so the home sees
 *    a write's data die on its way too. Loss of a home: every survivor
 *    reports its replica's version next to its copy (REPORT); if no copy
 *    survived, the new home makes the holder of the newest replica the
 *    owner with it (OWN with DSM_WIRE_OWN_REPLICA). A copy made from a
 *    replica starts a new generation of versions (DSM_REPLICA_GENERATION):
 *    another holder may have a newer one the lost owner pushed.
 *
 * Memory: a node keeps at most one version per page of each region, and
 * keeps others' pushes only while all its versions take less than
 * replica_max_mib (a quarter of RAM by default): a member's pushes cannot
 * fill this node. A push not kept for the cap is counted
 * (replicas_refused) and fails the commit that pushed it (ACK with
 * version 0). Versions are freed with their region only.
 *
 * What this gives (Documentation/coherence.md, "Replicas"): data a commit
 * returned 0 for survive as long as one of the page's holder and its n
 * replica holders does; writes after the lost node's last push are lost;
 * a commit cut short by a crash leaves each page at its new or at an
 * earlier pushed version, whole (a push is one message).
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "coherence/homes.h"
#include "net/wire.h"
#include "pages.h"

static unsigned int dsm_replica_max_mib;
module_param_named(replica_max_mib, dsm_replica_max_mib, uint, 0644);
MODULE_PARM_DESC(replica_max_mib,
		 "memory for page versions kept for commits, MiB (0: a quarter of RAM)");

static atomic_long_t dsm_replica_pages;	/* kept, all regions */

/* Is there room for one more version under the cap? */
static bool dsm_replica_room(void)
{
	unsigned long mib = READ_ONCE(dsm_replica_max_mib);
	unsigned long max = mib ? mib << (20 - PAGE_SHIFT) : totalram_pages() / 4;

	return atomic_long_read(&dsm_replica_pages) < max;
}

/**
 * struct dsm_replica - a page version this node keeps for others
 * @version: the version
 * @page:    its data
 */
struct dsm_replica {
	u64 version;
	struct page *page;
};

/* A push's place on its link and its count agree (see the top). */
static DEFINE_MUTEX(dsm_replica_tx_lock);
static u64 dsm_replica_sent[DSM_MAX_NODES + 1];		/* under tx_lock */
static atomic64_t dsm_replica_acked[DSM_MAX_NODES + 1];

/*
 * A copy made again from a replica starts a new generation of versions:
 * another holder may keep a newer version that never reached this one.
 */
#define DSM_REPLICA_GENERATION	BIT_ULL(32)

/* Replicas change under this (pushes of one page from two senders race). */
static DEFINE_MUTEX(dsm_replica_store_lock);

/**
 * dsm_replica_written() - a store to the page is mapped now (page locked)
 * @r:     the region
 * @index: the page
 */
void dsm_replica_written(struct dsm_region *r, pgoff_t index)
{
	if (r->copies && !xa_get_mark(&r->pages, index, DSM_PAGE_DIRTY))
		xa_set_mark(&r->pages, index, DSM_PAGE_DIRTY);
}

/* The first @n nodes of @left in page @index's rendezvous order. */
static u64 dsm_replica_first(struct dsm_region *r, pgoff_t index, u64 left, u32 n)
{
	u64 first = 0;
	u32 id;

	for (; left && n; n--) {
		id = dsm_homes_node_of(left, r->key, index);
		left &= ~dsm_node_bit(id);
		first |= dsm_node_bit(id);
	}
	return first;
}

/* The nodes that keep page @index's versions that node @pusher pushes. */
static u64 dsm_replica_holders(struct dsm_region *r, pgoff_t index, u32 pusher)
{
	return dsm_replica_first(r, index, READ_ONCE(r->homes) & dsm_members_live_mask() &
				 ~dsm_node_bit(pusher), r->copies);
}

/*
 * Keep version @version of @r's page @index, if newer than the one kept;
 * for a peer's push (@pushed), not once this node handed its versions on
 * as it leaves (they went before: see dsm_replicas_hand_over).
 * Return: 0 (kept, or a newer one is), -ENOMEM, -ENOSPC (the cap),
 * -EAGAIN (handed).
 */
static int dsm_replica_keep(struct dsm_region *r, pgoff_t index, u64 version,
			    const void *data, bool pushed)
{
	struct dsm_replica *rp;
	int err = 0;

	mutex_lock(&dsm_replica_store_lock);
	if (pushed && dsm_pages_self_handed()) {
		err = -EAGAIN;
		goto out;
	}
	rp = xa_load(&r->replicas, index);
	if (rp && rp->version >= version)
		goto out;
	if (!rp && pushed && !dsm_replica_room()) {
		dsm_stat_inc(DSM_STAT_REPLICAS_REFUSED);
		pr_warn_ratelimited("region %#llx page %lu: version not kept, replica memory is full (replica_max_mib)\n",
				    r->key, index);
		err = -ENOSPC;
		goto out;
	}
	if (!rp) {
		rp = kmalloc(sizeof(*rp), GFP_KERNEL);
		if (rp)
			rp->page = alloc_page(GFP_HIGHUSER);
		if (!rp || !rp->page ||
		    xa_err(xa_store(&r->replicas, index, rp, GFP_KERNEL))) {
			if (rp && rp->page)
				__free_page(rp->page);
			kfree(rp);
			err = -ENOMEM;
			goto out;
		}
		WRITE_ONCE(r->nr_replicas, r->nr_replicas + 1);
		atomic_long_inc(&dsm_replica_pages);
	}
	memcpy_to_page(rp->page, 0, data, PAGE_SIZE);
	rp->version = version;
	dsm_stat_inc(DSM_STAT_REPLICAS_STORED);
out:
	mutex_unlock(&dsm_replica_store_lock);
	return err;
}

/**
 * dsm_replica_version() - the version of @r's page @index kept here
 * @r:     the region
 * @index: the page
 *
 * Return: it, or 0 for none.
 */
u64 dsm_replica_version(struct dsm_region *r, pgoff_t index)
{
	struct dsm_replica *rp;
	u64 version = 0;

	mutex_lock(&dsm_replica_store_lock);
	rp = xa_load(&r->replicas, index);
	if (rp)
		version = rp->version;
	mutex_unlock(&dsm_replica_store_lock);
	return version;
}

/**
 * dsm_replica_install() - make the replica kept here this node's copy of
 * the page, the owner's (page locked; the copy here is invalid, so not
 * mapped)
 * @ctx:       the page
 * @exclusive: writable (no other copy), else shared
 *
 * Return: false if no replica of the page is kept here.
 */
bool dsm_replica_install(struct dsm_pages_ctx *ctx, bool exclusive)
{
	struct dsm_cpage *cp = ctx->cp;
	struct dsm_replica *rp;

	mutex_lock(&dsm_replica_store_lock);
	rp = xa_load(&ctx->r->replicas, ctx->index);
	if (rp) {
		copy_highpage(cp->page, rp->page);
		cp->node.value = rp->version + DSM_REPLICA_GENERATION;
		xa_clear_mark(&ctx->r->pages, ctx->index, DSM_PAGE_DIRTY);
	}
	mutex_unlock(&dsm_replica_store_lock);
	if (!rp)
		return false;
	cp->node.state = exclusive ? DSM_COH_EXCLUSIVE : DSM_COH_SHARED;
	cp->node.owner = true;
	dsm_stat_inc(DSM_STAT_REPLICAS_RESTORED);
	pr_debug("region %#llx page %lu: made again from its replica (version %llu)\n",
		 ctx->r->key, ctx->index, cp->node.value - DSM_REPLICA_GENERATION);
	return true;
}

/* A PUSH of @r's page @index: the caller fills in the version and the data. */
static struct dsm_out *dsm_replica_out(struct dsm_region *r, pgoff_t index,
				       struct dsm_wire_replica **wp)
{
	struct dsm_out *out = dsm_out_alloc(sizeof(**wp) + PAGE_SIZE);
	struct dsm_wire_replica *w = (struct dsm_wire_replica *)out->payload;

	memset(w, 0, sizeof(*w));
	w->key = cpu_to_le64(r->key);
	w->npages = cpu_to_le64(r->npages);
	w->homes = cpu_to_le64(r->homes);
	w->index = cpu_to_le64(index);
	w->lost = cpu_to_le64(READ_ONCE(r->lost));
	w->op = DSM_WIRE_REPLICA_PUSH;
	w->copies = r->copies;
	*wp = w;
	return out;
}

/*
 * Queue a PUSH for @to, counted as sent to it (see the top); not counted
 * if @to is lost: the outbox drops it, and dsm_replica_node_lost, which
 * makes every counted push to it answered, may have run already.
 */
static void dsm_replica_queue(struct dsm_out *out, u32 to)
{
	mutex_lock(&dsm_replica_tx_lock);
	if (!dsm_node_lost(to))
		dsm_replica_sent[to]++;
	dsm_out_queue_type(to, DSM_MSG_REPLICA, out);
	mutex_unlock(&dsm_replica_tx_lock);
	dsm_stat_inc(DSM_STAT_REPLICAS_SENT);
}

/* Queue the page's version @version for holder @to (page locked). */
static void dsm_replica_send(struct dsm_pages_ctx *ctx, u32 to, u64 version)
{
	struct dsm_wire_replica *w;
	struct dsm_out *out = dsm_replica_out(ctx->r, ctx->index, &w);

	w->version = cpu_to_le64(version);
	memcpy_from_page((u8 *)(w + 1), ctx->cp->page, 0, PAGE_SIZE);
	dsm_replica_queue(out, to);
	ctx->dirty |= dsm_node_bit(to);
}

/**
 * dsm_replica_push() - if this node wrote the page since its last push,
 * push its next version to its holders (page locked; see the top)
 * @ctx:    the page
 * @giving: the owner's data is being sent away, or given up: current,
 *          whatever the state says (the protocol changes it first)
 */
void dsm_replica_push(struct dsm_pages_ctx *ctx, bool giving)
{
	struct dsm_region *r = ctx->r;
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id(), id;
	u64 holders, version;
	void *data;

	if (!r->copies || !xa_get_mark(&r->pages, ctx->index, DSM_PAGE_DIRTY))
		return;
	xa_clear_mark(&r->pages, ctx->index, DSM_PAGE_DIRTY);
	/* (only a writer's copy is marked; one that left otherwise: a loss) */
	if (!giving && cp->node.state != DSM_COH_EXCLUSIVE)
		return;
	dsm_pages_zap(r, ctx->index);	/* the next store marks it again */
	version = ++cp->node.value;
	if (cp->home == self) {
		data = kmap_local_page(cp->page);
		if (dsm_replica_keep(r, ctx->index, version, data, false))
			atomic64_inc(&r->replica_failures);
		kunmap_local(data);
	}
	holders = dsm_replica_holders(r, ctx->index, self);
	if (hweight64(holders) < r->copies)
		atomic64_inc(&r->replica_failures);	/* too few live homes */
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (holders & dsm_node_bit(id))
			dsm_replica_send(ctx, id, version);
}

/**
 * dsm_replica_give() - this node, the page's owner, gives the page away or
 * up (page locked, the data still here, pushed first if written): if the
 * new owner holds versions this node pushes, it keeps the version it
 * gives, as a replica (see the top)
 * @ctx: the page
 * @to:  the new owner
 */
void dsm_replica_give(struct dsm_pages_ctx *ctx, u32 to)
{
	struct dsm_region *r = ctx->r;
	void *data;

	if (!r->copies || !ctx->cp->node.value ||	/* (version 0: never pushed) */
	    !(dsm_replica_holders(r, ctx->index, dsm_self_id()) & dsm_node_bit(to)))
		return;
	data = kmap_local_page(ctx->cp->page);
	if (dsm_replica_keep(r, ctx->index, ctx->cp->node.value, data, false))
		atomic64_inc(&r->replica_failures);
	kunmap_local(data);
}

struct dsm_replica_wait {
	u64 target[DSM_MAX_NODES + 1];
};

/*
 * Is every push counted in @w answered? (A holder lost counts as answered
 * once dsm_replica_node_lost ran.) Also when one failed: the refusals
 * still on their way are this commit's, not the next one's.
 */
static bool dsm_replica_settled(const struct dsm_replica_wait *w)
{
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (atomic64_read(&dsm_replica_acked[id]) < w->target[id])
			return false;
	return true;
}

/* Answers received so far toward @w's targets. */
static u64 dsm_replica_answers(const struct dsm_replica_wait *w)
{
	u64 n = 0;
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		n += min_t(u64, atomic64_read(&dsm_replica_acked[id]), w->target[id]);
	return n;
}

/*
 * Wait until @w is settled; a holder that answers nothing for twice the
 * dead timeout (alive, but stuck) fails it. Return: 0, -EIO or -EINTR.
 */
static int dsm_replica_wait(struct dsm_replica_wait *w)
{
	unsigned long timeout = 2 * msecs_to_jiffies(dsm_dead_timeout_ms());
	u64 answers;
	long left;

	do {
		answers = dsm_replica_answers(w);
		left = wait_event_interruptible_timeout(dsm_pages_wq,
							dsm_replica_settled(w), timeout);
		if (left < 0)
			return -EINTR;
	} while (!left && dsm_replica_answers(w) != answers);
	return left ? 0 : -EIO;
}

/* This node may hold pages of @r written and not kept: all pushed again. */
static void dsm_replica_again(struct dsm_region *r)
{
	struct dsm_cpage *cp;
	unsigned long index;

	xa_for_each(&r->pages, index, cp) {
		lock_page(cp->page);
		if (cp->node.state == DSM_COH_EXCLUSIVE)
			xa_set_mark(&r->pages, index, DSM_PAGE_DIRTY);
		unlock_page(cp->page);
		cond_resched();
	}
}

/**
 * dsm_replica_commit() - push every page of @r from @first to @last this
 * node wrote since its last push, and wait until every holder has it (see
 * the top)
 * @r:     the region
 * @first: the first page
 * @last:  the last page (ULONG_MAX: to the end)
 *
 * Return: 0; -EIO if a push since @r's last commit may not be kept (a
 * holder was lost, kept nothing or answered nothing for twice the dead
 * timeout, or a page had fewer live holders than copies): every page held
 * here writable is pushed again by the next commit; -ENOMEM or -EINTR.
 */
int dsm_replica_commit(struct dsm_region *r, pgoff_t first, pgoff_t last)
{
	struct dsm_replica_wait *w;
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index = first;
	u64 dirty = 0, seen, now;
	int err, n = 0;
	u32 id;

	if (!r->cluster || !r->copies)
		return 0;
	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	/* failures since the last commit, and from now on, are this one's */
	seen = READ_ONCE(r->replica_failures_seen);
	for (cp = xa_find(&r->pages, &index, last, DSM_PAGE_DIRTY); cp;
	     cp = xa_find_after(&r->pages, &index, last, DSM_PAGE_DIRTY)) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		dsm_replica_push(&ctx, false);
		unlock_page(cp->page);
		dirty |= ctx.dirty;
		if (!(++n % 16)) {	/* the pages wait in messages: send them */
			dsm_out_flush_mask(dirty);
			dirty = 0;
		}
		cond_resched();
	}
	dsm_out_flush_mask(dirty);
	mutex_lock(&dsm_replica_tx_lock);
	for (id = 1; id <= DSM_MAX_NODES; id++)
		w->target[id] = dsm_replica_sent[id];
	mutex_unlock(&dsm_replica_tx_lock);
	err = dsm_replica_wait(w);
	kfree(w);
	smp_rmb();	/* the answers counted, then the failures they brought */
	now = atomic64_read(&r->replica_failures);
	if (!err && now != seen)
		err = -EIO;
	if (err != -EINTR)
		WRITE_ONCE(r->replica_failures_seen, now);
	if (err) {
		dsm_replica_again(r);
		return err;
	}
	dsm_stat_inc(DSM_STAT_COMMITS);
	return 0;
}

static void dsm_replica_lost_region(struct dsm_region *r, void *arg)
{
	if (r->copies)
		atomic64_inc(&r->replica_failures);
}

/**
 * dsm_replica_node_lost() - node @id is gone (lost, or left, with the
 * replicas it held): what was queued for it counts as answered, and every
 * replicated region's next commit fails (once)
 * @id: the node
 */
void dsm_replica_node_lost(u32 id)
{
	dsm_regions_for_each(dsm_replica_lost_region, NULL);
	mutex_lock(&dsm_replica_tx_lock);
	atomic64_set(&dsm_replica_acked[id], dsm_replica_sent[id]);
	mutex_unlock(&dsm_replica_tx_lock);
	wake_up_all(&dsm_pages_wq);
}

/* PUSH: keep the version, and answer. */
static u32 dsm_replica_on_push(const struct dsm_net_msg *m,
			       const struct dsm_wire_replica *w)
{
	struct dsm_wire_replica ack = *w;
	struct dsm_region *r;
	int err;

	/* holders are homes (and only they make a region for it) */
	if (!(le64_to_cpu(w->homes) & dsm_node_bit(dsm_self_id())) ||
	    (le64_to_cpu(w->homes) & le64_to_cpu(w->lost)))
		return DSM_REASON_PROTOCOL;
	r = dsm_region_shadow(le64_to_cpu(w->key), le64_to_cpu(w->npages),
			      le64_to_cpu(w->homes), w->copies,
			      /* a leaver's replicas are handed on: kept */
			      dsm_pages_home_leaving(m->from) ? DSM_SHADOW_KEEP :
			      DSM_SHADOW_ASK, m->epoch);
	if (IS_ERR(r) && PTR_ERR(r) != -ENOSPC)
		return DSM_REASON_PROTOCOL;
	err = -ENOSPC;		/* no room for peers' regions: not kept */
	if (!IS_ERR(r)) {
		dsm_region_learn_lost(r, le64_to_cpu(w->lost));	/* before its pages */
		err = dsm_replica_keep(r, le64_to_cpu(w->index),
				       le64_to_cpu(w->version), w + 1, true);
		dsm_region_put(r);
	}
	ack.op = DSM_WIRE_REPLICA_ACK;
	if (err)
		ack.version = 0;	/* kept nothing: the commit fails */
	while (dsm_net_send(m->from, DSM_MSG_REPLICA, 0, &ack, sizeof(ack)))
		msleep(20);	/* -ENOMEM: a commit waits for this answer */
	dsm_out_try_flush(dsm_node_bit(m->from));
	return 0;
}

/**
 * dsm_replica_on_msg() - DSM_MSG_REPLICA: a version to keep, or the answer
 * to one this node pushed
 * @m: the message (m->from checked by the transport; the rest untrusted)
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a malformed one (or an answer to
 * nothing).
 */
u32 dsm_replica_on_msg(const struct dsm_net_msg *m)
{
	const struct dsm_wire_replica *w = m->payload;
	struct dsm_region *r;
	u32 from = m->from;
	int i;

	for (i = 0; i < sizeof(w->pad); i++)
		if (w->pad[i])
			return DSM_REASON_PROTOCOL;
	if (!w->copies || w->copies > DSM_COPIES_MAX || !le64_to_cpu(w->npages) ||
	    le64_to_cpu(w->index) >= le64_to_cpu(w->npages) || from == dsm_self_id())
		return DSM_REASON_PROTOCOL;
	if (w->op == DSM_WIRE_REPLICA_PUSH) {
		if (m->len != sizeof(*w) + PAGE_SIZE || !le64_to_cpu(w->version))
			return DSM_REASON_PROTOCOL;
		return dsm_replica_on_push(m, w);
	}
	if (w->op != DSM_WIRE_REPLICA_ACK || m->len != sizeof(*w))
		return DSM_REASON_PROTOCOL;
	if (!w->version) {	/* kept nothing: the region's commit fails */
		r = dsm_region_shadow(le64_to_cpu(w->key), le64_to_cpu(w->npages),
				      le64_to_cpu(w->homes), w->copies, DSM_SHADOW_NO,
				      m->epoch);
		if (!IS_ERR(r)) {
			atomic64_inc(&r->replica_failures);
			/* seen by a commit that sees this answer counted */
			smp_mb__after_atomic();
			dsm_region_put(r);
		}
	}
	mutex_lock(&dsm_replica_tx_lock);
	if (atomic64_read(&dsm_replica_acked[from]) >= dsm_replica_sent[from]) {
		/* (a push to a lost node counts as answered: drop its late ack) */
		mutex_unlock(&dsm_replica_tx_lock);
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}
	atomic64_inc(&dsm_replica_acked[from]);
	mutex_unlock(&dsm_replica_tx_lock);
	wake_up_all(&dsm_pages_wq);
	return 0;
}

/* Hand version @rp of @r's page @index on to @to (see below). */
static void dsm_replica_hand(struct dsm_region *r, pgoff_t index,
			     const struct dsm_replica *rp, u32 to)
{
	struct dsm_wire_replica *w;
	struct dsm_out *out = dsm_replica_out(r, index, &w);

	mutex_lock(&dsm_replica_store_lock);	/* (a newer one may come) */
	w->version = cpu_to_le64(rp->version);
	memcpy_from_page((u8 *)(w + 1), rp->page, 0, PAGE_SIZE);
	mutex_unlock(&dsm_replica_store_lock);
	dsm_replica_queue(out, to);
}

/*
 * This node leaves: each version of @r it keeps goes to the first
 * copies + 1 of the others in the page's rendezvous order, the holders
 * once it is gone (one more: the page's owner, a pusher, may be among
 * them). A holder keeps it if newer. Pushes that come after this keep
 * nothing here (dsm_replica_keep): their commits fail, and push again.
 * A region homed only here has no other holder: its versions go with it.
 * Runs under dsm_regions_lock: the pushes are only queued here, and sent
 * after the walk (sending would take a link's tx_flush, under which this
 * node's own messages to itself take dsm_regions_lock).
 */
static void dsm_replica_hand_region(struct dsm_region *r, void *arg)
{
	u64 *dirty = arg, others, to;
	struct dsm_replica *rp;
	unsigned long index;
	u32 id;

	if (!r->cluster || !r->copies)
		return;
	others = READ_ONCE(r->homes) & dsm_members_live_mask() &
		 ~dsm_node_bit(dsm_self_id());
	/* (entries are freed only with the region: see dsm_replicas_free) */
	xa_for_each(&r->replicas, index, rp) {
		to = dsm_replica_first(r, index, others, r->copies + 1);
		for (id = 1; id <= DSM_MAX_NODES; id++) {
			if (!(to & dsm_node_bit(id)))
				continue;
			dsm_replica_hand(r, index, rp, id);
			*dirty |= dsm_node_bit(id);
		}
		if (others)
			dsm_stat_inc(DSM_STAT_REPLICAS_HANDED);
		cond_resched();
	}
}

/**
 * dsm_replicas_hand_over() - this node leaves gracefully, its pages are
 * handed over: the versions it keeps for others go to the nodes that keep
 * them without it (before the round trip that ends the handover)
 */
void dsm_replicas_hand_over(void)
{
	u64 dirty = 0;

	/* a push kept after this sees the leave phase HANDED: it keeps nothing */
	mutex_lock(&dsm_replica_store_lock);
	mutex_unlock(&dsm_replica_store_lock);
	dsm_regions_for_each(dsm_replica_hand_region, &dirty);
	dsm_out_flush_mask(dirty);
}

/**
 * dsm_replica_touch() - @r's pages homed at the lost nodes @gone that this
 * node keeps a replica of get an entry, so that the census walk reports
 * them (before the mapping table drops @gone)
 * @r:    a cluster region
 * @gone: node set
 */
void dsm_replica_touch(struct dsm_region *r, u64 gone)
{
	struct dsm_replica *rp;
	unsigned long index;

	xa_for_each(&r->replicas, index, rp)
		if (gone & dsm_node_bit(dsm_homes_node(r->table, r->key, index)))
			dsm_cpage_get(r, index);	/* (out of memory: not reported) */
}

/**
 * dsm_replicas_free() - free the replicas of a region being destroyed
 * @r: the region
 */
void dsm_replicas_free(struct dsm_region *r)
{
	struct dsm_replica *rp;
	unsigned long index;

	xa_for_each(&r->replicas, index, rp) {
		__free_page(rp->page);
		kfree(rp);
		atomic_long_dec(&dsm_replica_pages);
		cond_resched();
	}
	xa_destroy(&r->replicas);
}
