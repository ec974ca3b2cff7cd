// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster membership - form, join, leave, and the member list.
 *
 * Theory of operation. The member list has an epoch that only grows. One
 * member sequences all changes: the coordinator, the lowest node id among
 * the members this node sees up (itself included). Because changes are made
 * by one node, one at a time under dsm_members_lock, each epoch names exactly
 * one list.
 *
 *  - form: a configured node makes a cluster of itself, epoch 1.
 *  - join: the new node opens a join connection to any member (a handshake
 *    flagged JOIN) and sends JOIN. A member that is not the coordinator
 *    answers -EAGAIN naming the coordinator, and the joiner asks it instead.
 *    The coordinator adds the node, bumps the epoch, answers with the new
 *    list and sends it (MEMBERS) to every member whose link is up.
 *  - leave: the node sends LEAVE to the coordinator over its peer link; the
 *    coordinator removes it, bumps the epoch and sends the list to the rest.
 *    A coordinator that leaves does this itself. Unloading the module leaves.
 *  - a member applies a MEMBERS list only if its epoch is newer than its own,
 *    and whenever a link comes up the side with the newer epoch sends its
 *    list: members that missed a change catch up as soon as they reconnect.
 *
 * Limits (see Documentation/membership.md): a node that dies stays a member
 * (down) until it rejoins or leaves; during a partition each side computes its
 * own coordinator and both may change the list: epochs then diverge, and the
 * sides do not merge on their own. A join or leave in flight when the
 * coordinator dies fails and must be retried.
 */
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "dsm.h"

#define DSM_JOIN_HOPS		4
#define DSM_REPLY_MAX \
	(sizeof(struct dsm_wire_reply) + DSM_MAX_NODES * sizeof(struct dsm_wire_member))

static DEFINE_MUTEX(dsm_members_lock);
static DECLARE_BITMAP(dsm_members, DSM_MAX_NODES + 1);	/* read locklessly */
static u64 dsm_epoch;					/* 0: not a member */

static void dsm_extack(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;	/* msg is a string literal */
}

/**
 * dsm_members_has() - is @id a member? (lockless)
 * @id: node id
 *
 * Return: true if @id is in the current list.
 */
bool dsm_members_has(u32 id)
{
	return id && id <= DSM_MAX_NODES && test_bit(id, dsm_members);
}

/**
 * dsm_members_mask() - the current members as a coherence node set
 *
 * Return: bit (id % 64) per member, the convention of kernel/coherence.
 */
u64 dsm_members_mask(void)
{
	u64 mask = 0;
	u32 id;

	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1)
		mask |= dsm_node_bit(id);
	return mask;
}

/**
 * dsm_members_live_mask() - the members not lost here (lockless)
 *
 * Return: a coherence node set: what a new region's homes are.
 */
u64 dsm_members_live_mask(void)
{
	u64 mask = 0;
	u32 id;

	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1)
		if (id == dsm_self_id() || !dsm_node_lost(id))
			mask |= dsm_node_bit(id);
	return mask;
}

/**
 * dsm_members_epoch() - the current epoch, 0 while not a member (lockless)
 *
 * Return: the epoch.
 */
u64 dsm_members_epoch(void)
{
	return READ_ONCE(dsm_epoch);
}

/**
 * dsm_members_count() - members, this node included
 *
 * Return: the count.
 */
u32 dsm_members_count(void)
{
	return bitmap_weight(dsm_members, DSM_MAX_NODES + 1);
}

/**
 * dsm_members_coordinator() - the lowest member this node sees up, or itself
 *
 * Return: a node id, 0 while not a member.
 */
u32 dsm_members_coordinator(void)
{
	u32 self = dsm_self_id(), id;

	if (!dsm_members_epoch())
		return 0;
	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1)
		if (id == self || dsm_net_peer_up(id))
			return id;
	return self;
}

/* The list as sent on the wire; returns its length. */
static size_t dsm_members_snapshot(struct dsm_wire_members *w)
{
	u32 self = dsm_self_id(), id, n = 0;
	struct dsm_node_config cfg;

	lockdep_assert_held(&dsm_members_lock);
	dsm_node_get(&cfg);
	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1) {
		__be32 addr = cfg.addr;
		u16 port = cfg.port;

		if (id != self)
			dsm_net_peer_addr(id, &addr, &port);
		w->m[n].id = cpu_to_le32(id);
		w->m[n].addr = addr;
		w->m[n].port = cpu_to_le16(port);
		w->m[n].pad = 0;
		n++;
	}
	w->count = cpu_to_le32(n);
	w->pad = 0;
	w->cluster = cpu_to_le64(cfg.cluster_id);
	return sizeof(*w) + n * sizeof(w->m[0]);
}

/*
 * Send the current list to member @only, or (@only 0) to every member but
 * @except. Queued like every message to a member: a member whose link is
 * down gets it when the link is up again. May run in a receive handler, so
 * it does not wait for room in a socket.
 */
static void dsm_members_send(u32 only, u32 except)
{
	struct dsm_wire_members *w = kmalloc(DSM_REPLY_MAX, GFP_KERNEL);
	u64 dirty = 0;
	size_t len;
	u32 id;

	lockdep_assert_held(&dsm_members_lock);
	if (!w)
		return;	/* members catch up when their links next come up */
	len = dsm_members_snapshot(w);
	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1) {
		if (id == dsm_self_id() || id == except || (only && id != only))
			continue;
		if (!dsm_net_send(id, DSM_MSG_MEMBERS, 0, w, len))
			dirty |= dsm_node_bit(id);
	}
	kfree(w);
	dsm_out_try_flush(dirty);
}

static void dsm_members_new_epoch(u64 epoch)
{
	lockdep_assert_held(&dsm_members_lock);
	WRITE_ONCE(dsm_epoch, epoch);
	dsm_stat_inc(DSM_STAT_EPOCH_CHANGES);
	dsm_barriers_new_epoch(dsm_members_mask());
	dsm_freezes_end();
	pr_info("membership epoch %llu: %u members\n", epoch, dsm_members_count());
	dsm_nl_event(DSM_EVENT_EPOCH, dsm_self_id(), 0);
	dsm_net_quorum_update(true);
}

/* Drop every link and cluster region: one teardown at a time. */
static void dsm_members_drop(void)
{
	static DEFINE_MUTEX(drop_lock);

	mutex_lock(&drop_lock);
	dsm_net_peers_drop();
	dsm_regions_drop_cluster();	/* their state meant this membership */
	dsm_census_reset();
	dsm_pages_leave_end();
	mutex_unlock(&drop_lock);
}

static void dsm_members_drop_fn(struct work_struct *work)
{
	dsm_members_drop();
}

/*
 * The teardown after a removal that a receive handler learnt of: it waits
 * for the peers' lost_work, which waits for the handlers to finish.
 */
static DECLARE_WORK(dsm_members_drop_work, dsm_members_drop_fn);

static void dsm_members_forget(void)
{
	lockdep_assert_held(&dsm_members_lock);
	bitmap_zero(dsm_members, DSM_MAX_NODES + 1);
	WRITE_ONCE(dsm_epoch, 0);
	dsm_barriers_new_epoch(0);
	dsm_freezes_end();
	dsm_net_quorum_update(false);	/* no cluster, no fence */
}

/* Forget the cluster: no members, no links. Called unlocked; may wait. */
static void dsm_members_reset(void)
{
	mutex_lock(&dsm_members_lock);
	dsm_members_forget();
	mutex_unlock(&dsm_members_lock);
	flush_work(&dsm_members_drop_work);
	dsm_members_drop();
}

/* Check a member list from the wire; 0 or DSM_REASON_PROTOCOL. */
static u32 dsm_members_check(const struct dsm_wire_members *w, size_t len,
			     unsigned long *set)
{
	u32 n = le32_to_cpu(w->count), i, id;

	if (n > DSM_MAX_NODES || len != sizeof(*w) + n * sizeof(w->m[0]) || w->pad)
		return DSM_REASON_PROTOCOL;
	bitmap_zero(set, DSM_MAX_NODES + 1);
	for (i = 0; i < n; i++) {
		id = le32_to_cpu(w->m[i].id);
		if (!id || id > DSM_MAX_NODES || test_bit(id, set) ||
		    !w->m[i].port || w->m[i].pad)
			return DSM_REASON_PROTOCOL;
		set_bit(id, set);
	}
	return 0;
}

/*
 * Member @id left; @epoch, without it, is in force from now on. Its pages
 * move first, with the new epoch, so that a request sent again to a new
 * home tells it to wait until it has moved them too (dsm_pages_behind);
 * then it stops being a member: no fault finds its pages' home gone.
 */
static void dsm_members_remove(u32 id, u64 epoch)
{
	lockdep_assert_held(&dsm_members_lock);
	dsm_pages_moving(true);
	WRITE_ONCE(dsm_epoch, epoch);
	dsm_pages_node_left(id);
	dsm_pages_moving(false);
	clear_bit(id, dsm_members);
	dsm_nl_event(DSM_EVENT_LEAVE, id, 0);
}

/* Adopt a list (already checked) of @epoch. */
static void dsm_members_apply(const struct dsm_wire_members *w, u64 epoch)
{
	DECLARE_BITMAP(next, DSM_MAX_NODES + 1);
	u32 self = dsm_self_id(), n = le32_to_cpu(w->count), i, id;

	lockdep_assert_held(&dsm_members_lock);
	bitmap_zero(next, DSM_MAX_NODES + 1);
	for (i = 0; i < n; i++)
		set_bit(le32_to_cpu(w->m[i].id), next);
	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1) {
		if (id != self && !test_bit(id, next)) {
			dsm_members_remove(id, epoch);
			dsm_net_peer_remove(id, DSM_REASON_LEFT);
		}
	}
	for (i = 0; i < n; i++) {
		__be32 addr;
		u16 port;

		id = le32_to_cpu(w->m[i].id);
		if (id == self)
			continue;
		dsm_net_peer_addr(id, &addr, &port);
		if (!test_bit(id, dsm_members) || addr != w->m[i].addr ||
		    port != le16_to_cpu(w->m[i].port)) {
			set_bit(id, dsm_members);
			dsm_regions_joined(id);
			dsm_net_peer_add(id, w->m[i].addr, le16_to_cpu(w->m[i].port));
			dsm_nl_event(DSM_EVENT_JOIN, id, 0);
		}
	}
	set_bit(self, dsm_members);
	dsm_members_new_epoch(epoch);
}

/* Adopt a checked list of @epoch if it is newer than ours. */
static void dsm_members_adopt(const struct dsm_wire_members *w, u64 epoch)
{
	u32 n = le32_to_cpu(w->count), self = dsm_self_id(), i;
	bool listed = false, removed = false;

	for (i = 0; i < n; i++)
		listed |= le32_to_cpu(w->m[i].id) == self;
	mutex_lock(&dsm_members_lock);
	if (dsm_epoch && epoch > dsm_epoch) {
		if (listed) {
			dsm_members_apply(w, epoch);
		} else {
			dsm_members_forget();
			removed = true;
		}
	}
	mutex_unlock(&dsm_members_lock);
	if (removed) {
		pr_info("removed from the cluster at epoch %llu\n", epoch);
		schedule_work(&dsm_members_drop_work);	/* it may not wait here */
	}
}

/*
 * Fault injection for the selftests: a member that is slow to learn of a
 * change. MEMBERS lists are adopted this much later, from a work item,
 * while the link goes on being read (the latest list waits, older ones
 * are dropped).
 */
static unsigned int dsm_inject_members_delay_ms;
module_param_named(inject_members_delay_ms, dsm_inject_members_delay_ms, uint, 0600);
MODULE_PARM_DESC(inject_members_delay_ms,
		 "testing: adopt member lists this much later");

static struct dsm_wire_members *dsm_members_late;	/* dsm_members_lock */
static u64 dsm_members_late_epoch;

static void dsm_members_late_fn(struct work_struct *work)
{
	struct dsm_wire_members *w;
	u64 epoch;

	mutex_lock(&dsm_members_lock);
	w = dsm_members_late;
	epoch = dsm_members_late_epoch;
	dsm_members_late = NULL;
	mutex_unlock(&dsm_members_lock);
	if (w)
		dsm_members_adopt(w, epoch);
	kfree(w);
}

static DECLARE_DELAYED_WORK(dsm_members_late_work, dsm_members_late_fn);

/* Keep @w to adopt later; false if it cannot be kept (adopt it now). */
static bool dsm_members_delay(const struct dsm_wire_members *w, size_t len,
			      u64 epoch)
{
	unsigned int ms = READ_ONCE(dsm_inject_members_delay_ms);
	struct dsm_wire_members *copy;

	if (!ms)
		return false;
	copy = kmemdup(w, len, GFP_KERNEL);
	if (!copy)
		return false;
	mutex_lock(&dsm_members_lock);
	kfree(dsm_members_late);
	dsm_members_late = copy;
	dsm_members_late_epoch = epoch;
	mutex_unlock(&dsm_members_lock);
	schedule_delayed_work(&dsm_members_late_work, msecs_to_jiffies(ms));
	return true;
}

/**
 * dsm_members_on_members() - MEMBERS: a newer list, maybe
 * @m: the message; m->epoch is the list's epoch, the payload a struct
 *     dsm_wire_members
 *
 * Return: 0 or DSM_REASON_PROTOCOL for a malformed list.
 */
u32 dsm_members_on_members(const struct dsm_net_msg *m)
{
	DECLARE_BITMAP(set, DSM_MAX_NODES + 1);
	const struct dsm_wire_members *w = m->payload;
	u32 reason;

	reason = dsm_members_check(w, m->len, set);
	if (reason)
		return reason;
	if (le64_to_cpu(w->cluster) != dsm_cluster_id())
		return DSM_REASON_PROTOCOL;
	if (!dsm_members_delay(w, m->len, m->epoch))
		dsm_members_adopt(w, m->epoch);
	return 0;
}

/**
 * dsm_members_exit() - at unload: no teardown may still be running
 */
void dsm_members_exit(void)
{
	cancel_delayed_work_sync(&dsm_members_late_work);
	kfree(dsm_members_late);
	flush_work(&dsm_members_drop_work);
}

/*
 * A link came up: the newer list wins. A member that was lost is back as a
 * new incarnation (the old one was forgotten first).
 */
static void dsm_members_on_link_up(u32 id, u64 peer_epoch)
{
	dsm_regions_back(id);
	dsm_census_rejoined(id);
	if (dsm_members_epoch() <= peer_epoch)
		return;
	mutex_lock(&dsm_members_lock);
	dsm_members_send(id, 0);
	mutex_unlock(&dsm_members_lock);
}

/*
 * A member is gone: the page layer stops counting on it. (One that left
 * had its pages' homes moved before it stopped being a member: a fault
 * in between would have found the old home gone.)
 */
static void dsm_members_on_lost(u32 id, u32 reason)
{
	dsm_barriers_node_lost(id);
	/* a member that died, not one that left (or this node leaving) */
	dsm_pages_node_lost(id, (reason == DSM_REASON_HEARTBEAT ||
				 reason == DSM_REASON_INCARNATION ||
				 reason == DSM_REASON_DECLARED) &&
			    dsm_members_epoch() && dsm_members_has(id));
	dsm_freezes_end();	/* once the census is open: a census moves homes */
	dsm_regions_forget_remover(id);
}

/**
 * dsm_members_quorum() - is @mask a quorum of the members?
 * @mask: node ids, bit id % 64
 *
 * More than half of the members, or exactly half with the lowest member
 * id among them (so that one side of an even split, and the lower node of
 * two, goes on). Any two quorums share a member. (Lockless: a list that
 * changes meanwhile is counted as either.)
 *
 * Return: true if it is one.
 */
static bool dsm_members_quorum(u64 mask)
{
	u32 lowest = find_first_bit(dsm_members, DSM_MAX_NODES + 1);
	u64 list = dsm_members_mask();
	u32 n = hweight64(list), in = hweight64(mask & list);

	return 2 * in > n || (2 * in == n && in && (mask & dsm_node_bit(lowest)));
}

/* The lease ran out (@on), or came back: see net/quorum.c. */
static void dsm_members_on_fenced(bool on)
{
	dsm_pages_fence(on);
}

/*
 * Member @by no longer knows this incarnation: a quorum declared this node
 * lost while it was cut off, and has gone on without it. Its copies mean
 * nothing now: it leaves the cluster as a removed node does, dropping them.
 */
static void dsm_members_on_evicted(u32 by)
{
	bool was;

	if (!dsm_members_epoch())
		return;
	dsm_pages_evicted();	/* first: forgetting lifts the fence */
	mutex_lock(&dsm_members_lock);
	was = dsm_epoch;
	if (was)
		dsm_members_forget();
	mutex_unlock(&dsm_members_lock);
	if (!was)
		return;
	pr_warn("node %u no longer knows this node: the cluster declared it lost while it was cut off; it is no member now and must join again\n",
		by);
	dsm_nl_event(DSM_EVENT_LEAVE, dsm_self_id(), 0);
	schedule_work(&dsm_members_drop_work);	/* it may not wait here */
}

/* What the transport asks of and tells this layer (main.c passes it). */
const struct dsm_net_ops dsm_members_net_ops = {
	.is_member = dsm_members_has,
	.epoch = dsm_members_epoch,
	.link_up = dsm_members_on_link_up,
	.lost = dsm_members_on_lost,
	.event = dsm_nl_event,
	.quorum = dsm_members_quorum,
	.fenced = dsm_members_on_fenced,
	.evicted = dsm_members_on_evicted,
};

/**
 * dsm_members_on_join() - JOIN on a join connection: add the sender
 * @m: the request; m->from, m->addr and m->port are the joiner's, from its
 *     HELLO
 *
 * Return: 0.
 */
u32 dsm_members_on_join(const struct dsm_net_msg *m)
{
	struct dsm_wire_reply *r = kzalloc(DSM_REPLY_MAX, GFP_KERNEL);
	u32 id = m->from, coord, self = dsm_self_id();
	size_t len = sizeof(*r);
	__be32 addr;
	u16 port;
	int status = 0;

	if (!r)
		return DSM_REASON_CLOSED;
	mutex_lock(&dsm_members_lock);
	coord = dsm_members_coordinator();
	dsm_net_peer_addr(id, &addr, &port);
	if (!dsm_epoch) {
		status = -ENOTCONN;
	} else if (coord == self && dsm_net_fenced()) {
		status = -ENOLINK;	/* no change without a quorum */
	} else if (coord != self) {
		status = -EAGAIN;
		r->redirect_id = cpu_to_le32(coord);
		dsm_net_peer_addr(coord, &r->redirect_addr, &port);
		r->redirect_port = cpu_to_le16(port);
	} else if (!m->addr || !m->port) {
		status = -EINVAL;
	} else if (test_bit(id, dsm_members) &&
		   (addr != m->addr || port != m->port) && dsm_net_peer_up(id)) {
		status = -EADDRINUSE;	/* another live node has that id */
	} else {
		set_bit(id, dsm_members);
		dsm_regions_joined(id);
		dsm_net_peer_add(id, m->addr, m->port);
		dsm_nl_event(DSM_EVENT_JOIN, id, 0);
		dsm_members_new_epoch(dsm_epoch + 1);
		pr_info("node %u joined at %pI4:%u\n", id, &m->addr, m->port);
		r->epoch = cpu_to_le64(dsm_epoch);
		len = offsetof(struct dsm_wire_reply, members) +
		      dsm_members_snapshot(&r->members);
		dsm_members_send(0, id);
	}
	r->status = cpu_to_le32(status);
	mutex_unlock(&dsm_members_lock);
	dsm_net_reply(m, DSM_MSG_REPLY, r, len);
	kfree(r);
	return 0;
}

/**
 * dsm_members_on_leave() - LEAVE on a peer link: remove the sender
 * @m: the request
 *
 * Return: 0.
 */
u32 dsm_members_on_leave(const struct dsm_net_msg *m)
{
	struct dsm_wire_reply r = {};
	u32 id = m->from;
	bool removed = false;

	mutex_lock(&dsm_members_lock);
	if (dsm_members_coordinator() != dsm_self_id() || dsm_net_fenced()) {
		r.status = cpu_to_le32(-EAGAIN);
	} else if (test_bit(id, dsm_members)) {
		dsm_members_remove(id, dsm_epoch + 1);
		dsm_members_new_epoch(dsm_epoch);
		pr_info("node %u left\n", id);
		dsm_members_send(0, 0);	/* the leaver too: it may miss the reply */
		removed = true;
	}
	mutex_unlock(&dsm_members_lock);
	/* after the list; removing it sends both before closing its link */
	dsm_net_reply(m, DSM_MSG_REPLY, &r, sizeof(r));
	if (removed)
		dsm_net_peer_remove(id, DSM_REASON_LEFT);
	return 0;
}

/**
 * dsm_cluster_configure() - set this node's identity and options
 * @cfg:    the new configuration
 * @key:    the cluster key to set (DSM_KEY_LEN bytes), or NULL
 * @clear_key: forget the cluster key
 * @extack: for the reason of a refusal
 *
 * Binds the listening socket to the new address.
 *
 * Return: 0 or a negative errno.
 */
int dsm_cluster_configure(const struct dsm_node_config *cfg, const u8 *key,
			  bool clear_key, struct netlink_ext_ack *extack)
{
	struct dsm_node_config old;
	int err = 0;

	mutex_lock(&dsm_members_lock);
	if (dsm_epoch) {
		dsm_extack(extack, "leave the cluster before changing this node's configuration");
		err = -EBUSY;
		goto out_unlock;
	}
	dsm_node_get(&old);
	if (!old.id || old.addr != cfg->addr || old.port != cfg->port) {
		err = dsm_listen_start(cfg->addr, cfg->port);
		if (err) {
			dsm_extack(extack, err == -EADDRNOTAVAIL ?
				   "node address is not an address of this machine" :
				   err == -EADDRINUSE ? "node port is already in use" :
				   "cannot listen on the node address");
			if (old.id)
				dsm_listen_start(old.addr, old.port);
			goto out_unlock;
		}
	}
	if (key || clear_key) {
		err = dsm_hs_set_key(key);
		if (err) {
			dsm_extack(extack, "cannot set up HMAC-SHA256 and gcm(aes) for the key");
			goto out_unlock;
		}
	}
	dsm_node_set(cfg);
out_unlock:
	mutex_unlock(&dsm_members_lock);
	return err;
}

/**
 * dsm_cluster_form() - make a new cluster of this node alone
 * @extack: for the reason of a refusal
 *
 * Return: 0 or a negative errno.
 */
int dsm_cluster_form(struct netlink_ext_ack *extack)
{
	u32 self = dsm_self_id();
	int err = 0;

	flush_work(&dsm_members_drop_work);	/* the last cluster is gone */
	mutex_lock(&dsm_members_lock);
	if (!self) {
		dsm_extack(extack, "configure this node first (dsmctl node set)");
		err = -EINVAL;
	} else if (dsm_epoch) {
		dsm_extack(extack, "already a member of a cluster");
		err = -EBUSY;
	} else {
		bitmap_zero(dsm_members, DSM_MAX_NODES + 1);
		set_bit(self, dsm_members);
		dsm_members_new_epoch(1);
	}
	mutex_unlock(&dsm_members_lock);
	return err;
}

/**
 * dsm_cluster_join() - join the cluster that @addr:@port belongs to
 * @addr:   any member's address
 * @port:   its port
 * @extack: for the reason of a refusal
 *
 * Return: 0 or a negative errno.
 */
int dsm_cluster_join(__be32 addr, u16 port, struct netlink_ext_ack *extack)
{
	DECLARE_BITMAP(set, DSM_MAX_NODES + 1);
	const char *why = NULL;
	struct dsm_wire_reply *r;
	int hop, err = 0, n = 0;

	r = kzalloc(DSM_REPLY_MAX, GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	flush_work(&dsm_members_drop_work);	/* the last cluster is gone */
	mutex_lock(&dsm_members_lock);
	if (!dsm_self_id()) {
		dsm_extack(extack, "configure this node first (dsmctl node set)");
		err = -EINVAL;
		goto out;
	}
	if (dsm_epoch) {
		dsm_extack(extack, "already a member of a cluster");
		err = -EBUSY;
		goto out;
	}
	for (hop = 0; hop < DSM_JOIN_HOPS; hop++) {
		memset(r, 0, DSM_REPLY_MAX);
		n = dsm_net_join(addr, port, r, DSM_REPLY_MAX, &why);
		if (n >= 0 && n < (int)sizeof(*r)) {
			why = "the contact sent a malformed reply";
			n = -EPROTO;
		}
		if (n < 0) {
			dsm_extack(extack, why);
			err = n;
			goto out;
		}
		err = (int)le32_to_cpu(r->status);
		if (err != -EAGAIN || !r->redirect_addr)
			break;
		addr = r->redirect_addr;	/* ask the coordinator */
		port = le16_to_cpu(r->redirect_port);
	}
	if (err == -EAGAIN)
		dsm_extack(extack, "membership is changing; try again");
	else if (err == -ENOTCONN)
		dsm_extack(extack, "the contact node is not a cluster member");
	else if (err == -EADDRINUSE)
		dsm_extack(extack, "another live node of the cluster has this node id");
	else if (err == -ENOLINK)
		dsm_extack(extack, "the cluster has no quorum now (cut off?); try again");
	else if (err)
		dsm_extack(extack, "the coordinator refused the join");
	if (err)
		goto out;

	if (dsm_members_check(&r->members, n - offsetof(struct dsm_wire_reply, members),
			      set) || !test_bit(dsm_self_id(), set) || !r->epoch ||
	    le64_to_cpu(r->members.cluster) != dsm_cluster_id()) {
		dsm_extack(extack, "the coordinator sent a malformed member list");
		err = -EPROTO;
		goto out;
	}
	bitmap_zero(dsm_members, DSM_MAX_NODES + 1);
	dsm_members_apply(&r->members, le64_to_cpu(r->epoch));
out:
	mutex_unlock(&dsm_members_lock);
	kfree(r);
	return err;
}

/* dsm_cluster_leave() without the lock that serialises leaves */
static int dsm_cluster_leave_locked(bool force, struct netlink_ext_ack *extack)
{
	unsigned long deadline;
	u32 self = dsm_self_id(), coord;
	struct dsm_wire_reply r;
	bool first = true;
	int n;

	/* what only this node holds goes to the others first */
	if (dsm_members_epoch()) {
		n = dsm_pages_handover(force);
		if (n && !force) {
			pr_warn("leave failed: its pages could not be handed over (%d)\n", n);
			dsm_extack(extack, n == -ETIMEDOUT ?
				   "a member did not give the pages back in time: still a member" :
				   "no memory to hand the pages over: still a member");
			return n;
		}
		if (n)
			pr_warn("handover before leaving incomplete (%d)\n", n);
	}
	deadline = jiffies + msecs_to_jiffies(DSM_JOIN_TIMEOUT_MS);
	for (;; first = false) {
		mutex_lock(&dsm_members_lock);
		if (!dsm_epoch) {	/* never a member, or removed meanwhile */
			mutex_unlock(&dsm_members_lock);
			if (!first)
				break;
			dsm_extack(extack, "not a member of a cluster");
			return -ENOTCONN;
		}
		coord = dsm_members_coordinator();
		if (coord == self) {
			clear_bit(self, dsm_members);
			if (!bitmap_empty(dsm_members, DSM_MAX_NODES + 1)) {
				dsm_members_new_epoch(dsm_epoch + 1);
				dsm_members_send(0, 0);
			}
			mutex_unlock(&dsm_members_lock);
			break;
		}
		mutex_unlock(&dsm_members_lock);

		n = dsm_net_call(coord, DSM_MSG_LEAVE, NULL, 0, &r, sizeof(r),
				 DSM_JOIN_TIMEOUT_MS, NULL);
		if (n >= (int)sizeof(r))
			n = (int)le32_to_cpu(r.status);
		else if (n >= 0)
			n = -EPROTO;
		if (!n || n == -EINTR)
			break;
		if (time_after(jiffies, deadline)) {
			if (force)
				break;
			dsm_extack(extack, "no coordinator confirmed the leave");
			/* its entries are handed: its faults ask the new homes */
			dsm_pages_leave_end();
			return n;
		}
		msleep(100);	/* the coordinator may be changing */
	}
	pr_info("left the cluster\n");
	dsm_members_reset();
	dsm_nl_event(DSM_EVENT_LEAVE, self, 0);
	return 0;
}

/**
 * dsm_cluster_leave() - leave the cluster
 * @force:  leave even if the pages cannot all be handed over, and locally
 *          if no coordinator confirms
 * @extack: for the reason of a refusal
 *
 * First hands this node's pages and directory entries over to the others
 * (dsm_pages_handover; if that fails, so does the leave), then asks the
 * coordinator to remove this node, retrying with whoever is coordinator
 * then (it may be leaving too) until DSM_JOIN_TIMEOUT_MS. The members lock
 * is not held across the network, so the new list can arrive meanwhile;
 * receiving a list without this node also completes the leave.
 *
 * Return: 0 or a negative errno.
 */
int dsm_cluster_leave(bool force, struct netlink_ext_ack *extack)
{
	static DEFINE_MUTEX(leave_lock);	/* one leave at a time */
	int err;

	mutex_lock(&leave_lock);
	err = dsm_cluster_leave_locked(force, extack);
	mutex_unlock(&leave_lock);
	return err;
}
