// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: freezing a cluster region for a consistent copy (DSM_IOC_FREEZE,
 * DSM_IOC_THAW; dsmctl region save).
 *
 * Theory of operation. A copy of a region that others write meanwhile is a
 * cut only if no page changes after it was copied. A freeze gives that
 * without a state of its own in the protocol: while a region is frozen,
 * its homes grant no write access (write requests stay queued; read
 * requests pass them, dsm_pages_next_request). A node that holds a page
 * exclusively may still write it until the copier's read takes a shared
 * copy from it; from then on a store needs a write grant, which waits. So
 * each page stays as it was copied until the thaw, and the copy is the
 * region's contents at the moment the last page was read: one point in the
 * sequential order of all accesses. The copier's own node is the exception
 * (its reads of pages it holds exclusively are local), so there the freeze
 * holds every store of the region's mappings: its PTEs are taken, stores
 * fault and wait (dsm_freeze_local, pages.c), and the freeze goes out to
 * the others once no write request of this node is in flight (one that a
 * home held would keep the copier's read of that page waiting).
 *
 * The freezer records the freeze here, then asks every other live member
 * (FREEZE, a call): a node holds writes once it has answered, and the
 * copier's reads follow on the same links. THAW asks every member again:
 * each answers whether the freeze held there all along, and serves what it
 * held. What could hand out write access past a home's queue ends every
 * freeze on the node that sees it: a new membership epoch, a member lost
 * (its census), a leave (a handover makes the new home owner), this node
 * leaving. THAW then finds no freeze and the copy is refused with EAGAIN
 * (dsmctl copies again); and a FREEZE is refused with EAGAIN while a leave
 * or a census is under way. A freeze also ends on each node freeze_max_ms
 * after that node was told; the freezer's own deadline counts from before
 * it told anyone, an eighth shorter, so a THAW within it means the freeze
 * held everywhere (with that much room for the nodes' clocks).
 * Faults whose request a home holds wait as long as a freeze lasts
 * (pages.c); no freeze outlives its freezer's membership or its file.
 *
 * A member may hold DSM_FREEZES_PER_NODE freezes on a node at once, so no
 * member can take every slot; every freeze is counted (`freezes`).
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "pages.h"
#include "net/wire.h"

static unsigned int dsm_freeze_max_ms = 60000;
module_param_named(freeze_max_ms, dsm_freeze_max_ms, uint, 0644);
MODULE_PARM_DESC(freeze_max_ms, "longest a region freeze holds writes (ms)");

/**
 * struct dsm_freeze - a freeze this node holds writes for
 * @key:     the region
 * @id:      the freezer's token (0: the slot is free)
 * @by:      the freezer's node
 * @armed:   this node's homes hold write requests (the freezer's own
 *           entry holds only its node's stores until it tells the others)
 * @expires: jiffies when it ends by itself
 */
struct dsm_freeze {
	u64 key;
	u64 id;
	u32 by;
	bool armed;
	unsigned long expires;
};

#define DSM_FREEZES_PER_NODE	4	/* freezes of one freezer a node holds */

static struct dsm_freeze dsm_freezes[DSM_FREEZES_MAX];
static unsigned int dsm_freezes_used;	/* slots in use: the fast path */
static unsigned long dsm_freezes_gen;	/* dsm_freezes_end() calls */
static unsigned long dsm_freezes_last_end;	/* jiffies a freeze last ended, 0: never */
static bool dsm_freezes_stopped;	/* module exit: no work queued */
static DEFINE_SPINLOCK(dsm_freezes_lock);

static void dsm_freeze_expire_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dsm_freeze_expire_work, dsm_freeze_expire_fn);
static void dsm_freeze_serve_fn(struct work_struct *work);
static DECLARE_WORK(dsm_freeze_serve_work, dsm_freeze_serve_fn);

static bool dsm_freeze_expired(const struct dsm_freeze *f)
{
	return time_after_eq(jiffies, f->expires);
}

/* Is a freeze of region @key (by node @by, or armed) held here? */
static bool dsm_freeze_held(u64 key, u32 by)
{
	bool held = false;
	int i;

	if (!READ_ONCE(dsm_freezes_used))
		return false;
	spin_lock(&dsm_freezes_lock);
	for (i = 0; i < DSM_FREEZES_MAX && !held; i++)
		held = dsm_freezes[i].id && dsm_freezes[i].key == key &&
		       (by ? dsm_freezes[i].by == by : dsm_freezes[i].armed) &&
		       !dsm_freeze_expired(&dsm_freezes[i]);
	spin_unlock(&dsm_freezes_lock);
	return held;
}

/**
 * dsm_freeze_holds() - are write grants for region @key held here?
 * @key: the region
 */
bool dsm_freeze_holds(u64 key)
{
	return dsm_freeze_held(key, 0);
}

/**
 * dsm_freeze_waits() - may a request for a page of region @key be held at
 * its home? While a freeze holds here, and for a dead timeout after one
 * ended here (the home's may end later: it was told later, or thawed
 * after this node).
 * @key: the region
 */
bool dsm_freeze_waits(u64 key)
{
	unsigned long last = READ_ONCE(dsm_freezes_last_end);

	return dsm_freeze_holds(key) ||
	       (last && time_before(jiffies, last + msecs_to_jiffies(dsm_dead_timeout_ms())));
}

/**
 * dsm_freeze_local() - does this node copy region @key: do the stores of
 * its own mappings of it wait?
 * @key: the region
 */
bool dsm_freeze_local(u64 key)
{
	smp_mb();	/* the caller's new page, then the freezes (pairs below) */
	return dsm_freeze_held(key, dsm_self_id());
}

/* When the first freeze held here runs out (locked); 0 if none is held. */
static unsigned long dsm_freeze_next(void)
{
	unsigned long next = 0;
	int i;

	for (i = 0; i < DSM_FREEZES_MAX; i++)
		if (dsm_freezes[i].id &&
		    (!next || time_before(dsm_freezes[i].expires, next)))
			next = dsm_freezes[i].expires;
	return next;
}

/*
 * (Locked) end the first freeze to run out when it does: called whenever
 * the set changes, so that the timer is never late.
 */
static void dsm_freeze_expire_at_next(void)
{
	unsigned long next = dsm_freeze_next();

	if (next && !dsm_freezes_stopped)
		mod_delayed_work(system_wq, &dsm_freeze_expire_work,
				 max_t(long, (long)(next - jiffies), 0));
}

/* (Locked) serve what the freezes ended held, and wake waiting stores. */
static void dsm_freeze_serve_soon(void)
{
	if (!dsm_freezes_stopped)
		queue_work(system_wq, &dsm_freeze_serve_work);
}

/*
 * A freeze begins here, unless freezes were ended since @gen (the cluster
 * changed meanwhile). Return: 0, -EAGAIN, -EBUSY (that one exists),
 * -ENOSPC (no slot, or its freezer holds DSM_FREEZES_PER_NODE).
 */
static int dsm_freeze_add(u64 key, u64 id, u32 by, unsigned long gen, bool armed)
{
	struct dsm_freeze *slot = NULL;
	int i, err = 0, of_by = 0;

	spin_lock(&dsm_freezes_lock);
	for (i = 0; i < DSM_FREEZES_MAX; i++) {
		if (!dsm_freezes[i].id) {
			slot = slot ?: &dsm_freezes[i];
			continue;
		}
		if (dsm_freezes[i].by != by)
			continue;
		of_by++;
		if (dsm_freezes[i].id == id)
			err = -EBUSY;
	}
	if (gen != dsm_freezes_gen || dsm_freezes_stopped)
		err = -EAGAIN;
	else if (!err && (!slot || of_by >= DSM_FREEZES_PER_NODE))
		err = -ENOSPC;
	if (!err) {
		slot->key = key;
		slot->id = id;
		slot->by = by;
		slot->armed = armed;
		slot->expires = jiffies + msecs_to_jiffies(READ_ONCE(dsm_freeze_max_ms));
		dsm_freezes_used++;
		dsm_freeze_expire_at_next();	/* it ends by itself */
	}
	spin_unlock(&dsm_freezes_lock);
	if (!err)
		dsm_stat_inc(DSM_STAT_FREEZES);
	return err;
}

/* Sample the generation, before looking at what would end a freeze. */
static unsigned long dsm_freezes_gen_now(void)
{
	unsigned long gen = READ_ONCE(dsm_freezes_gen);

	smp_rmb();	/* pairs with dsm_freezes_end() */
	return gen;
}

/* The freezer's own freeze @id holds this node's homes' grants too. */
static void dsm_freeze_arm(u64 id)
{
	int i;

	spin_lock(&dsm_freezes_lock);
	for (i = 0; i < DSM_FREEZES_MAX; i++)
		if (dsm_freezes[i].id == id && dsm_freezes[i].by == dsm_self_id())
			dsm_freezes[i].armed = true;
	spin_unlock(&dsm_freezes_lock);
}

/* Free slot @f (locked); its held requests are served by the work. */
static void dsm_freeze_free(struct dsm_freeze *f)
{
	f->id = 0;
	dsm_freezes_used--;
	WRITE_ONCE(dsm_freezes_last_end, jiffies ?: 1);
}

/*
 * A freeze ends here. Return: 0 if it held until now, -ETIME if it ran
 * out, -EAGAIN if it is unknown (ended early, or never began here).
 */
static int dsm_freeze_end(u64 key, u64 id, u32 by)
{
	int i, err = -EAGAIN;

	spin_lock(&dsm_freezes_lock);
	for (i = 0; i < DSM_FREEZES_MAX; i++) {
		struct dsm_freeze *f = &dsm_freezes[i];

		if (f->id != id || f->by != by || f->key != key)
			continue;
		err = dsm_freeze_expired(f) ? -ETIME : 0;
		dsm_freeze_free(f);
		dsm_freeze_serve_soon();
	}
	spin_unlock(&dsm_freezes_lock);
	return err;
}

/**
 * dsm_freezes_end() - the cluster changes: every freeze held here ends
 * (its THAW then fails with EAGAIN), and the write requests it held are
 * served. Any context that may sleep.
 */
void dsm_freezes_end(void)
{
	int i, ended = 0;

	smp_mb();	/* what ends it is seen by whoever sees the new generation */
	spin_lock(&dsm_freezes_lock);
	dsm_freezes_gen++;	/* a freeze being added now is refused */
	for (i = 0; i < DSM_FREEZES_MAX; i++) {
		if (!dsm_freezes[i].id)
			continue;
		dsm_freeze_free(&dsm_freezes[i]);
		ended++;
	}
	if (ended)
		dsm_freeze_serve_soon();
	spin_unlock(&dsm_freezes_lock);
	atomic64_add(ended, &dsm_stats[DSM_STAT_FREEZES_BROKEN]);
}

/* Serve the requests a freeze held at this home (the page is locked). */
static void dsm_freeze_serve(struct dsm_pages_ctx *ctx)
{
	if (!list_empty(&ctx->cp->queued))
		dsm_pages_serve_queued(ctx);
}

/* Serve what no freeze holds any more, and wake the stores that waited. */
static void dsm_freeze_serve_fn(struct work_struct *work)
{
	dsm_pages_walk(dsm_freeze_serve, true);
	wake_up_all(&dsm_pages_wq);
}

/* End the freezes that ran out; come back when the next one does. */
static void dsm_freeze_expire_fn(struct work_struct *work)
{
	int i, expired = 0;

	spin_lock(&dsm_freezes_lock);
	for (i = 0; i < DSM_FREEZES_MAX; i++) {
		if (dsm_freezes[i].id && dsm_freeze_expired(&dsm_freezes[i])) {
			dsm_freeze_free(&dsm_freezes[i]);
			expired++;
		}
	}
	if (expired)
		dsm_freeze_serve_soon();
	dsm_freeze_expire_at_next();
	spin_unlock(&dsm_freezes_lock);
	atomic64_add(expired, &dsm_stats[DSM_STAT_FREEZES_BROKEN]);
}

/**
 * dsm_freeze_on_msg() - DSM_MSG_FREEZE: @m->from freezes a region, or ends
 * its freeze; answered with REPLY (0, or a negative errno)
 * @m: the message
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a malformed one.
 */
u32 dsm_freeze_on_msg(const struct dsm_net_msg *m)
{
	const struct dsm_wire_freeze *wf = m->payload;
	struct dsm_wire_reply rep = {};
	u64 key = le64_to_cpu(wf->key), id = le64_to_cpu(wf->id);
	unsigned long gen = dsm_freezes_gen_now();	/* before the checks */
	int err;

	if (memchr_inv(wf->pad, 0, sizeof(wf->pad)) || !id ||
	    (wf->op != DSM_WIRE_FREEZE_BEGIN && wf->op != DSM_WIRE_FREEZE_END))
		return DSM_REASON_PROTOCOL;
	if (wf->op == DSM_WIRE_FREEZE_END)
		err = dsm_freeze_end(key, id, m->from);
	else if (m->epoch != dsm_members_epoch() || dsm_pages_changing())
		err = -EAGAIN;	/* the cluster is changing: it would end anyway */
	else
		err = dsm_freeze_add(key, id, m->from, gen, true);
	rep.status = cpu_to_le32((u32)err);
	dsm_net_reply(m, DSM_MSG_REPLY, &rep, sizeof(rep));
	return 0;
}

/* Ask member @id to begin or end freeze @fid of @key. Return: its status. */
static int dsm_freeze_call(u32 id, u64 key, u64 fid, u8 op)
{
	struct dsm_wire_freeze wf = {
		.key = cpu_to_le64(key),
		.id = cpu_to_le64(fid),
		.op = op,
	};
	struct dsm_wire_reply rep;
	int n;

	n = dsm_net_call(id, DSM_MSG_FREEZE, &wf, sizeof(wf), &rep, sizeof(rep),
			 dsm_dead_timeout_ms(), NULL);
	if (n == -ECONNRESET)
		return -ENOTCONN;	/* lost meanwhile */
	if (n == -ETIMEDOUT)
		return -EAGAIN;		/* slow, or about to be lost: try again */
	if (n < 0)
		return n;
	n = n >= sizeof(rep.status) ? (int)le32_to_cpu(rep.status) : -EPROTO;
	switch (n) {	/* what a peer says reaches the caller only if it can mean something */
	case 0:
	case -EAGAIN:
	case -EBUSY:
	case -ENOSPC:
	case -ETIME:
		return n;
	default:
		return -EPROTO;
	}
}

/*
 * End freeze @fid of @key on the nodes of @nodes, this node last (its
 * homes held the others' requests last). Return: the first error.
 */
static int dsm_freeze_end_on(u64 nodes, u64 key, u64 fid)
{
	u32 self = dsm_self_id(), id;
	int err = 0, e;

	for (id = 1; id <= DSM_MAX_NODES; id++) {
		if (id == self || !(nodes & dsm_node_bit(id)))
			continue;
		e = dsm_freeze_call(id, key, fid, DSM_WIRE_FREEZE_END);
		err = err ?: e;
	}
	if (nodes & dsm_node_bit(self)) {
		e = dsm_freeze_end(key, fid, self);
		err = err ?: e;
	}
	return err;
}

/**
 * dsm_freeze_region() - freeze cluster region @r on every live member
 * @r:  the region
 * @st: filled in: the freeze, for dsm_thaw_region()
 *
 * Return: 0 or a negative errno (see DSM_IOC_FREEZE).
 */
int dsm_freeze_region(struct dsm_region *r, struct dsm_freeze_state *st)
{
	u64 epoch = dsm_members_epoch(), members, done = 0;
	unsigned long gen = dsm_freezes_gen_now();
	u32 self = dsm_self_id(), id;
	unsigned int max_ms;
	int err;

	if (!r->cluster)
		return -EOPNOTSUPP;
	if (!epoch)
		return -ENOTCONN;
	if (dsm_pages_changing())
		return -EAGAIN;
	st->id = get_random_u64() | 1;
	st->epoch = epoch;
	/*
	 * Before anyone is told, and an eighth short: no node's freeze ends
	 * before this, whatever the granularity of its clock.
	 */
	max_ms = READ_ONCE(dsm_freeze_max_ms);
	st->deadline = jiffies + msecs_to_jiffies(max_ms - max_ms / 8);
	members = dsm_members_live_mask();
	err = dsm_freeze_add(r->key, st->id, self, gen, false);
	smp_mb();	/* the freeze, then the pages (pairs with dsm_freeze_local) */
	if (!err) {
		done |= dsm_node_bit(self);
		/*
		 * This node's stores wait from now on; once none is in flight,
		 * its homes hold the others' (who are told next: a home that
		 * held them earlier would keep them waiting unawares).
		 */
		dsm_pages_unmap_region(r);
		err = dsm_pages_wait_writes(r, dsm_dead_timeout_ms()) ? -EAGAIN : 0;
	}
	if (!err && gen != dsm_freezes_gen_now())
		err = -EAGAIN;	/* ended meanwhile: tell nobody */
	if (!err)
		dsm_freeze_arm(st->id);
	for (id = 1; !err && id <= DSM_MAX_NODES; id++) {
		if (id == self || !(members & dsm_node_bit(id)))
			continue;
		/* ended below even if it fails: it may have begun there */
		done |= dsm_node_bit(id);
		err = dsm_freeze_call(id, r->key, st->id, DSM_WIRE_FREEZE_BEGIN);
		if (fatal_signal_pending(current))
			err = err ?: -EINTR;
	}
	if (!err && dsm_members_epoch() != epoch)
		err = -EAGAIN;
	if (err == -EBUSY)	/* a token collision: as if the cluster changed */
		err = -EAGAIN;
	if (err)
		dsm_freeze_end_on(done, r->key, st->id);
	st->nodes = done;
	return err;
}

/**
 * dsm_thaw_region() - end the freeze @st of region @r on every member
 * @r:  the region
 * @st: the freeze, from dsm_freeze_region()
 *
 * Return: 0 if it held on every member until now (a copy made meanwhile
 * is a cut), -EAGAIN if it ended early somewhere (or a member is gone),
 * -ETIME if it ran out.
 */
int dsm_thaw_region(struct dsm_region *r, struct dsm_freeze_state *st)
{
	bool late = time_after_eq(jiffies, st->deadline);
	int err;

	err = dsm_freeze_end_on(st->nodes, r->key, st->id);
	if (err == -ENOTCONN || err == -EBUSY || err == -ENOSPC)
		err = -EAGAIN;
	if (!err && (dsm_members_epoch() != st->epoch ||
		     (dsm_members_live_mask() & ~st->nodes)))
		err = -EAGAIN;	/* a node froze nothing: it may have written */
	if (late)
		err = -ETIME;
	return err;
}

/**
 * dsm_freezes_stop() - at module exit, before the links go: no freeze
 * begins, and no work of this file runs, any more
 */
void dsm_freezes_stop(void)
{
	spin_lock(&dsm_freezes_lock);
	dsm_freezes_stopped = true;
	spin_unlock(&dsm_freezes_lock);
	cancel_delayed_work_sync(&dsm_freeze_expire_work);
	cancel_work_sync(&dsm_freeze_serve_work);
}
