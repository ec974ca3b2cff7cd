// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: barriers across the cluster (DSM_IOC_BARRIER).
 *
 * Theory of operation. A barrier is named by a word of a region: (key,
 * byte offset). One node counts its arrivals, the coordinator: the member
 * that would be the home of the word's page if the region were homed on
 * every member (dsm_homes_node_of over the member set), so every node of
 * an epoch names the same coordinator with no message, and barriers spread
 * over the members. A party on another node sends BARRIER to it as a call
 * and sleeps; a party on the coordinator's node joins the count directly.
 * At the last arrival the coordinator answers every call (REPLY, status 0)
 * and wakes its own parties: n parties on n nodes cost n - 1 requests and
 * n - 1 replies, and everyone is released about one one-way latency after
 * the last arrival reached the coordinator. The memory is sequentially
 * consistent, so what a party stored before arriving is seen after the
 * barrier by all: nothing else is needed.
 *
 * Membership changes. An arrival carries its sender's epoch; the
 * coordinator refuses one from another epoch with EAGAIN. When the
 * coordinator applies a new epoch, it ends every barrier it counts: with
 * ENOLINK if a node whose party arrived there (in this generation or the
 * last) is no longer a member, since that party cannot arrive again; else
 * with EAGAIN (and all of them when this node stops being a member). A
 * call refused with EAGAIN, or not sent (ENOTCONN: the coordinator is
 * gone), is sent again once this node is in an epoch whose coordinator may
 * differ: the new coordinator counts the generation afresh, and as no
 * party was released, nobody is counted twice. Callers do not see it
 * (barrier_retries counts it). A loss ends what is uncertain with ENOLINK:
 * a call in flight to a coordinator that is lost (its count is lost too),
 * and, at the coordinator, every barrier a lost node's party arrived at
 * (that party would be counted twice if it asked again).
 *
 * What a peer says is checked: a malformed arrival closes the link; one
 * with another party count than the generation's is refused with EINVAL
 * and counted; answers other than the statuses an arrival can get reach
 * the caller as EPROTO. The table is bounded: DSM_BARRIERS_MAX barriers
 * (idle ones reused), DSM_BARRIER_NODE_MAX waiting arrivals from any one
 * node (ENOSPC beyond).
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dsm.h"
#include "coherence/homes.h"
#include "net/wire.h"

#define DSM_BARRIERS_MAX	1024
#define DSM_BARRIER_NODE_MAX	256	/* waiting arrivals from one node */
#define DSM_BARRIER_RETRY_MS	10

/**
 * struct dsm_barrier - a barrier this node coordinates
 * @list:     in dsm_barriers
 * @key:      the region of its word
 * @offset:   the word's byte offset in the region
 * @cluster:  a cluster region's (else a local region's: no epochs)
 * @parties:  arrivals that release a generation (0 while idle)
 * @arrived:  arrivals of this generation
 * @nodes:    the nodes whose parties arrived in this generation
 * @last:     ... in the generation before
 * @waiters:  struct dsm_barrier_waiter, in arrival order
 */
struct dsm_barrier {
	struct list_head list;
	u64 key, offset;
	bool cluster;
	u32 parties, arrived;
	u64 nodes, last;
	struct list_head waiters;
};

/**
 * struct dsm_barrier_waiter - one arrival waiting for its release
 * @list:   in dsm_barrier.waiters
 * @node:   its node
 * @req_id: a remote party's call, answered at the release
 * @done:   a local party's wake-up
 * @local:  a party of this node (on its stack), else a remote one (freed
 *          once answered)
 * @status: a local party's result
 * @barrier: the barrier it arrived at (not reused while it is counted)
 */
struct dsm_barrier_waiter {
	struct list_head list;
	u32 node;
	u64 req_id;
	struct completion done;
	bool local;
	int status;
	struct dsm_barrier *barrier;
};

static LIST_HEAD(dsm_barriers);
static DEFINE_MUTEX(dsm_barriers_lock);
static u32 dsm_barriers_count;
static u16 dsm_barriers_waiting[DSM_MAX_NODES + 1];	/* remote, per node */

/* The coordinator of (@key, @offset) among @members. */
static u32 dsm_barrier_coordinator(u64 members, u64 key, u64 offset)
{
	return dsm_homes_node_of(members, key, offset >> PAGE_SHIFT);
}

/* End a waiter with @status: answer its call, or wake it. */
static void dsm_barrier_end(struct dsm_barrier_waiter *w, int status, u64 *dirty)
{
	struct dsm_wire_reply rep = { .status = cpu_to_le32((u32)status) };

	list_del_init(&w->list);
	if (w->local) {
		w->status = status;
		complete(&w->done);
		return;
	}
	dsm_barriers_waiting[w->node]--;
	/* (fails only out of memory: that party waits until it is killed) */
	if (!dsm_net_send(w->node, DSM_MSG_REPLY, w->req_id, &rep, sizeof(rep)))
		*dirty |= dsm_node_bit(w->node);
	kfree(w);
}

/*
 * End the generation of @b with @status for every waiter; a release (0)
 * tells the last arrival so (1), as pthread_barrier_wait() tells one.
 */
static u64 dsm_barrier_end_all(struct dsm_barrier *b, int status)
{
	struct dsm_barrier_waiter *w, *tmp;
	u64 dirty = 0;

	lockdep_assert_held(&dsm_barriers_lock);
	list_for_each_entry_safe(w, tmp, &b->waiters, list)
		dsm_barrier_end(w, !status && list_is_last(&w->list, &b->waiters) ?
				1 : status, &dirty);
	b->last = b->nodes;
	b->nodes = 0;
	b->arrived = 0;
	b->parties = 0;
	return dirty;
}

/* The barrier (@key, @offset), made if need be; NULL if the table is full. */
static struct dsm_barrier *dsm_barrier_get(u64 key, u64 offset, bool cluster)
{
	struct dsm_barrier *b, *idle = NULL;

	lockdep_assert_held(&dsm_barriers_lock);
	list_for_each_entry(b, &dsm_barriers, list) {
		if (b->key == key && b->offset == offset && b->cluster == cluster)
			return b;
		if (!b->arrived)
			idle = b;
	}
	if (dsm_barriers_count >= DSM_BARRIERS_MAX) {
		if (!idle)
			return NULL;
		b = idle;	/* forgets who arrived last time: harmless */
		list_move(&b->list, &dsm_barriers);
	} else {
		b = kzalloc(sizeof(*b), GFP_KERNEL);
		if (!b)
			return NULL;
		INIT_LIST_HEAD(&b->waiters);
		list_add(&b->list, &dsm_barriers);
		dsm_barriers_count++;
	}
	b->key = key;
	b->offset = offset;
	b->cluster = cluster;
	b->nodes = 0;
	b->last = 0;
	return b;
}

/*
 * Count the arrival @w at (@key, @offset) of @parties; release the
 * generation if it was the last. Takes @w (a remote one is freed at its
 * release). Return: 0, or a negative errno (@w not taken).
 */
static int dsm_barrier_arrive(u64 key, u64 offset, bool cluster, u32 parties,
			      struct dsm_barrier_waiter *w, u64 *dirty)
{
	struct dsm_barrier *b;

	lockdep_assert_held(&dsm_barriers_lock);
	b = dsm_barrier_get(key, offset, cluster);
	if (!b)
		return -ENOSPC;
	if (b->arrived && b->parties != parties)
		return -EINVAL;
	b->parties = parties;
	b->arrived++;
	b->nodes |= dsm_node_bit(w->node);
	w->barrier = b;
	list_add_tail(&w->list, &b->waiters);
	if (b->arrived == parties) {
		dsm_stat_inc(DSM_STAT_BARRIERS);
		*dirty |= dsm_barrier_end_all(b, 0);
	}
	return 0;
}

/* Is (@key, @offset) ours to count in @epoch? */
static bool dsm_barrier_ours(u64 epoch, u64 key, u64 offset)
{
	return epoch == dsm_members_epoch() &&
	       dsm_barrier_coordinator(dsm_members_mask(), key, offset) ==
	       dsm_self_id();
}

/**
 * dsm_barrier_on_msg() - DSM_MSG_BARRIER: a party on @m->from arrives
 * @m: the message, struct dsm_wire_barrier
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a malformed one.
 */
u32 dsm_barrier_on_msg(const struct dsm_net_msg *m)
{
	const struct dsm_wire_barrier *wb = m->payload;
	u64 key = le64_to_cpu(wb->key), offset = le64_to_cpu(wb->offset);
	u32 parties = le32_to_cpu(wb->parties);
	struct dsm_wire_reply rep = {};
	struct dsm_barrier_waiter *w;
	u64 dirty = 0;
	int err;

	if (wb->pad || offset % sizeof(u32) || !parties ||
	    parties > DSM_BARRIER_MAX_PARTIES)
		return DSM_REASON_PROTOCOL;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		err = -ENOMEM;
		goto refuse;
	}
	w->node = m->from;
	w->req_id = m->req_id;
	mutex_lock(&dsm_barriers_lock);
	/*
	 * Under the lock: an epoch applied after this ends what it counted.
	 * Not ours: the member set is being changed (its bits and the epoch
	 * do not move at once), so the sender asks again.
	 */
	if (!dsm_barrier_ours(m->epoch, key, offset)) {
		err = -EAGAIN;
	} else if (dsm_barriers_waiting[m->from] >= DSM_BARRIER_NODE_MAX) {
		err = -ENOSPC;
	} else {
		dsm_barriers_waiting[m->from]++;	/* its release takes it back */
		err = dsm_barrier_arrive(key, offset, true, parties, w, &dirty);
		if (err)
			dsm_barriers_waiting[m->from]--;
	}
	mutex_unlock(&dsm_barriers_lock);
	dsm_out_try_flush(dirty);
	if (!err)
		return 0;
	kfree(w);
refuse:
	if (err != -EAGAIN)
		dsm_stat_inc(DSM_STAT_BARRIER_REFUSED);
	rep.status = cpu_to_le32((u32)err);
	dsm_net_reply(m, DSM_MSG_REPLY, &rep, sizeof(rep));
	return 0;
}

/* A party of this node arrives at a barrier this node coordinates. */
static int dsm_barrier_wait_here(u64 key, u64 offset, bool cluster,
				 u64 epoch, u32 parties)
{
	struct dsm_barrier_waiter w = { .node = dsm_self_id(), .local = true };
	u64 dirty = 0;
	int err;

	init_completion(&w.done);
	INIT_LIST_HEAD(&w.list);
	mutex_lock(&dsm_barriers_lock);
	if (cluster && !dsm_barrier_ours(epoch, key, offset))
		err = -EAGAIN;
	else
		err = dsm_barrier_arrive(key, offset, cluster, parties, &w, &dirty);
	mutex_unlock(&dsm_barriers_lock);
	dsm_out_try_flush(dirty);
	if (err)
		return err;
	if (!wait_for_completion_killable(&w.done))
		return w.status;
	/* killed: take the arrival back unless it was released meanwhile */
	mutex_lock(&dsm_barriers_lock);
	if (!list_empty(&w.list)) {
		list_del(&w.list);
		w.barrier->arrived--;
		err = -EINTR;
	} else {
		err = w.status;
	}
	mutex_unlock(&dsm_barriers_lock);
	return err;
}

/* A party of this node arrives at a barrier @coord coordinates. */
static int dsm_barrier_call(u32 coord, u64 key, u64 offset, u32 parties)
{
	struct dsm_wire_barrier wb = {
		.key = cpu_to_le64(key),
		.offset = cpu_to_le64(offset),
		.parties = cpu_to_le32(parties),
	};
	struct dsm_wire_reply rep;
	int n;

	n = dsm_net_call(coord, DSM_MSG_BARRIER, &wb, sizeof(wb), &rep,
			 sizeof(rep), UINT_MAX, NULL);
	if (n == -ECONNRESET)
		return -ENOLINK;	/* the coordinator was lost: so was the count */
	if (n < 0)
		return n;
	n = n >= sizeof(rep.status) ? (int)le32_to_cpu(rep.status) : -EPROTO;
	/* what a peer says reaches the caller only if it can mean something */
	switch (n) {
	case 0:
	case 1:
	case -EAGAIN:
	case -EINVAL:
	case -ENOSPC:
	case -ENOLINK:
	case -ENOMEM:
		return n;
	default:
		return -EPROTO;
	}
}

/**
 * dsm_barrier_wait() - arrive at the barrier named by a word of @r, and
 * wait for the other parties
 * @r:       the region
 * @offset:  the word's byte offset in @r (4-byte aligned, inside @r)
 * @parties: arrivals that release it (1..DSM_BARRIER_MAX_PARTIES, checked
 *           by the caller)
 *
 * Return: 1 for the last arrival, 0 for the others, or -EINVAL, -ENOLINK,
 * -ENOSPC, -ENOTCONN, -EINTR (see DSM_IOC_BARRIER).
 */
int dsm_barrier_wait(struct dsm_region *r, u64 offset, u32 parties)
{
	u32 self = dsm_self_id(), coord;
	u64 epoch;
	int err;

	if (!r->cluster)
		return dsm_barrier_wait_here(r->key, offset, false, 0, parties);
	for (;;) {
		epoch = dsm_members_epoch();
		if (!epoch)
			return -ENOTCONN;
		coord = dsm_barrier_coordinator(dsm_members_mask(), r->key, offset);
		if (!coord)
			return -ENOTCONN;	/* leaving: the member set is empty */
		if (coord == self)
			err = dsm_barrier_wait_here(r->key, offset, true, epoch,
						    parties);
		else
			err = dsm_barrier_call(coord, r->key, offset, parties);
		if (err != -EAGAIN && err != -ENOTCONN)
			return err;
		dsm_stat_inc(DSM_STAT_BARRIER_RETRIES);
		/* until this node's epoch, or the coordinator's, moves on */
		schedule_timeout_killable(msecs_to_jiffies(DSM_BARRIER_RETRY_MS));
		if (fatal_signal_pending(current))
			return -EINTR;
	}
}

/*
 * End the cluster barriers being counted: with ENOLINK those that a party
 * of a node in @gone arrived at (in this generation or the last); the
 * others with EAGAIN if @others_again (their parties ask again).
 */
static void dsm_barriers_end(u64 gone, bool others_again)
{
	struct dsm_barrier *b;
	u64 dirty = 0;

	mutex_lock(&dsm_barriers_lock);
	list_for_each_entry(b, &dsm_barriers, list) {
		if (!b->cluster || !b->arrived)
			continue;
		if ((b->nodes | b->last) & gone) {
			dsm_stat_inc(DSM_STAT_BARRIER_REFUSED);
			dirty |= dsm_barrier_end_all(b, -ENOLINK);
		} else if (others_again) {
			dirty |= dsm_barrier_end_all(b, -EAGAIN);
		}
	}
	mutex_unlock(&dsm_barriers_lock);
	dsm_out_try_flush(dirty & ~gone);
}

/**
 * dsm_barriers_new_epoch() - the membership changed: end what is counted
 * @members: the new member set (dsm_node_bit per member); 0 when this node
 *           is no longer a member
 *
 * Called by the membership layer once the new epoch is in force.
 */
void dsm_barriers_new_epoch(u64 members)
{
	dsm_barriers_end(members ? ~members : 0, true);
}

/**
 * dsm_barriers_node_lost() - member @id is lost: it still counts as a
 * member until it is removed, but its parties cannot be counted on (one
 * that asks again after its call failed would be counted twice): end every
 * barrier it arrived at with ENOLINK
 * @id: the node
 */
void dsm_barriers_node_lost(u32 id)
{
	dsm_barriers_end(dsm_node_bit(id), false);
}

/**
 * dsm_barriers_destroy() - free the table at module exit, once the links
 * are gone; only remote arrivals can be left (a local party holds a file
 * of /dev/dsm open, which holds the module)
 */
void dsm_barriers_destroy(void)
{
	struct dsm_barrier_waiter *w, *wtmp;
	struct dsm_barrier *b, *tmp;

	list_for_each_entry_safe(b, tmp, &dsm_barriers, list) {
		list_for_each_entry_safe(w, wtmp, &b->waiters, list)
			if (!WARN_ON_ONCE(w->local))
				kfree(w);
		kfree(b);
	}
	INIT_LIST_HEAD(&dsm_barriers);
	dsm_barriers_count = 0;
	memset(dsm_barriers_waiting, 0, sizeof(dsm_barriers_waiting));
}
