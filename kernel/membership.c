// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster membership - form, join, leave, and the member list.
 *
 * Theory of operation. The member list has an epoch that only grows. A
 * change is proposed by the coordinator, the lowest node id among the
 * members this node sees up (itself included), and made once a quorum of
 * the list accepted it (membership_log.h): each epoch names exactly one
 * list, also when two nodes both take themselves for the coordinator.
 *
 *  - form: a configured node makes a cluster of itself, epoch 1.
 *  - join: the new node opens a join connection to any member (a handshake
 *    flagged JOIN) and sends JOIN. A member that is not the coordinator
 *    answers -EAGAIN naming the coordinator, and the joiner asks it instead.
 *    The coordinator proposes the join; once committed it adds the node,
 *    answers with the new list and sends it (MEMBERS) to every member.
 *  - leave: the node sends LEAVE to the coordinator over its peer link; the
 *    coordinator proposes the removal; once committed it answers and sends
 *    the list to the rest. A coordinator that leaves proposes its own
 *    removal. Unloading the module leaves.
 *  - a member applies a MEMBERS list only if its epoch is newer than its own,
 *    and whenever a link comes up the side with the newer epoch sends its
 *    list: members that missed a change catch up as soon as they reconnect.
 *
 * Limits (see Documentation/membership.md): a node that dies stays a member
 * (down) until it rejoins or leaves, and is declared lost by a quorum of
 * suspicions (net/quorum.c), not by the log. A join or leave in flight when
 * the coordinator dies fails and must be retried.
 */
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "dsm.h"
#include "membership_log.h"

#define DSM_JOIN_HOPS		4
#define DSM_LEAVE_ALONE_MS	2000	/* others silent this long: leave alone */
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

/*
 * Are all other members silent: their links down, nothing heard from them
 * for DSM_LEAVE_ALONE_MS (longer than a link takes to come back)?
 */
static bool dsm_members_others_silent(void)
{
	u32 self = dsm_self_id(), id;

	for_each_set_bit(id, dsm_members, DSM_MAX_NODES + 1)
		if (id != self && !dsm_net_peer_silent(id, DSM_LEAVE_ALONE_MS))
			return false;
	return true;
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
 * Send the current list to the members in @to (bit id % 64; not this
 * node). Queued like every message to a member: a member whose link is
 * down gets it when the link is up again. May run in a receive handler, so
 * it does not wait for room in a socket.
 */
static void dsm_members_send(u64 to)
{
	struct dsm_wire_members *w = kmalloc(DSM_REPLY_MAX, GFP_KERNEL);
	u64 dirty = 0;
	size_t len;
	u32 id;

	lockdep_assert_held(&dsm_members_lock);
	if (!w)
		return;	/* members catch up when their links next come up */
	len = dsm_members_snapshot(w);
	for (id = 1; id <= DSM_MAX_NODES; id++) {
		if (id == dsm_self_id() || !(to & dsm_node_bit(id)))
			continue;
		if (!dsm_net_send(id, DSM_MSG_MEMBERS, 0, w, len))
			dirty |= dsm_node_bit(id);
	}
	kfree(w);
	dsm_out_try_flush(dirty);
}

/*
 * The member list's log (membership_log.h): a change is made by the
 * coordinator's proposal once a quorum of the list accepted it; dsm_epoch
 * and dsm_members are what it committed. Members are named by id here
 * (incarnation 0): a node that is no member adopts only its join's reply.
 * Its messages to this node are handled at once, in order (@self); its
 * COMMIT goes as MEMBERS, built once the change is applied (@commit_to).
 * Under dsm_members_lock.
 */
#define DSM_LOG_TIMEOUT_MS	2000	/* a proposal without a quorum gives up */
#define DSM_LOG_ROUND_MAX	BIT_ULL(48)	/* a term's round above: bogus */
#define DSM_LOG_SELF_MAX	8

enum dsm_log_req_kind { DSM_LOG_NONE, DSM_LOG_JOIN, DSM_LOG_LEAVE, DSM_LOG_LOCAL };

static struct {
	struct dsm_mlog log;
	struct dsm_mlog_msg self[DSM_LOG_SELF_MAX];
	unsigned int nself;
	u64 commit_to;
	u64 dirty;
	u8 kind;			/* who waits for the open proposal */
	struct dsm_net_req req;
	unsigned long deadline;
	int result;			/* DSM_LOG_LOCAL's */
	bool stopping;			/* module unload: no more proposals */
	struct dsm_mlog_msg scratch;	/* dsm_log_sync's COMMIT */
} dsm_log;

/* (it runs the teardown of a node removed from the list) */
static struct work_struct dsm_members_drop_work;

/* A proposal waits this long for a quorum (a joiner waits less than a dead timeout) */
static unsigned long dsm_log_timeout(void)
{
	return msecs_to_jiffies(min(DSM_LOG_TIMEOUT_MS, dsm_dead_timeout_ms() / 2));
}

static DECLARE_WAIT_QUEUE_HEAD(dsm_log_wq);

/*
 * What a call into the log leaves to do once dsm_members_lock is dropped:
 * the answer to a request, a member that left to drop the link of, or
 * this node's own removal to tear down.
 */
struct dsm_log_out {
	struct dsm_net_req req;
	struct dsm_wire_reply *reply;
	size_t len;
	u32 removed;
	bool forgotten;
};

static void dsm_log_send(struct dsm_mlog_env *env, u32 to,
			 const struct dsm_mlog_msg *m)
{
	struct dsm_wire_log w = {
		.type = m->type,
		.op = m->change.op,
		.port = cpu_to_le16(m->change.port),
		.node = cpu_to_le32(m->change.node),
		.addr = (__force __be32)m->change.addr,
		.epoch = cpu_to_le64(m->epoch),
		.term = cpu_to_le64(m->term),
		.acc_term = cpu_to_le64(m->acc_term),
	};

	if (m->type == DSM_MLOG_COMMIT && m->epoch > dsm_epoch) {
		dsm_log.commit_to |= dsm_node_bit(to);	/* MEMBERS, once applied */
	} else if (m->type == DSM_MLOG_COMMIT) {
		dsm_members_send(dsm_node_bit(to));	/* the list we have */
	} else if (to == dsm_self_id()) {
		if (m->type == DSM_MLOG_ACCEPT && dsm_log.log.best_term)
			pr_info("epoch %llu: proposing again the change a quorum may have accepted from node %llu (%s of node %u)\n",
				m->epoch, dsm_log.log.best_term & (BIT(DSM_MLOG_TERM_SHIFT) - 1),
				m->change.op == DSM_MLOG_JOIN ? "join" : "leave",
				m->change.node);
		if (!WARN_ON_ONCE(dsm_log.nself == DSM_LOG_SELF_MAX))
			dsm_log.self[dsm_log.nself++] = *m;
	} else if (!dsm_net_send(to, DSM_MSG_LOG, 0, &w, sizeof(w))) {
		dsm_log.dirty |= dsm_node_bit(to);
	}
}

static struct dsm_mlog_env dsm_log_env = { .send = dsm_log_send };

/* The log as this node's: nothing open, the committed list (or none). */
static void dsm_log_reset(void)
{
	dsm_mlog_init(&dsm_log.log, dsm_self_id(), 0);
	dsm_log.nself = 0;
}

/*
 * Answer whoever waits for the open proposal: @status 0 (done), -EAGAIN
 * (another change came first) or -ENOLINK (no quorum accepted it).
 */
static void dsm_log_answer(struct dsm_log_out *out, int status)
{
	u8 kind = dsm_log.kind;

	lockdep_assert_held(&dsm_members_lock);
	dsm_log.kind = DSM_LOG_NONE;
	if (status)
		dsm_stat_inc(DSM_STAT_MEMBERSHIP_REFUSED);
	if (kind == DSM_LOG_LOCAL) {
		dsm_log.result = status;
		wake_up_all(&dsm_log_wq);
		return;
	}
	if (kind == DSM_LOG_NONE)
		return;
	out->req = dsm_log.req;
	dsm_log.req.conn = NULL;	/* out's now */
	out->reply = kzalloc(DSM_REPLY_MAX, GFP_KERNEL);
	if (!out->reply)
		return;		/* the requester times out and asks again */
	out->reply->status = cpu_to_le32(status);
	out->len = sizeof(*out->reply);
	if (kind == DSM_LOG_JOIN && !status) {
		out->reply->epoch = cpu_to_le64(dsm_epoch);
		out->len = offsetof(struct dsm_wire_reply, members) +
			   dsm_members_snapshot(&out->reply->members);
	}
}

/* No member any more: the open proposal ends, unanswered. */
static void dsm_log_drop(void)
{
	if (dsm_log.kind == DSM_LOG_LOCAL) {
		dsm_log.result = -EAGAIN;
		wake_up_all(&dsm_log_wq);
	} else if (dsm_log.kind) {
		dsm_net_release(&dsm_log.req);	/* its requester asks again */
	}
	dsm_log.kind = DSM_LOG_NONE;
	dsm_log_reset();
}

/* Drop dsm_members_lock first: send the answer, drop a leaver's link. */
static void dsm_log_finish(struct dsm_log_out *out)
{
	if (out->reply)
		dsm_net_answer(&out->req, DSM_MSG_REPLY, out->reply, out->len);
	else
		dsm_net_release(&out->req);
	kfree(out->reply);
	if (out->removed)
		dsm_net_peer_remove(out->removed, DSM_REASON_LEFT);
	if (out->forgotten) {
		pr_info("removed from the cluster: a quorum committed this node's leave\n");
		schedule_work(&dsm_members_drop_work);
	}
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
	dsm_log_drop();
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

/*
 * The log committed this node's proposal: make its change here (as
 * dsm_members_apply would from the list) and send the list to the
 * members, and to a node that left. This node's own leave: the leave path
 * forgets the cluster if it waits (@local), else it is forgotten here.
 */
static void dsm_log_apply_own(struct dsm_log_out *out, bool local)
{
	const struct dsm_mlog_change *c = &dsm_log.log.last;
	u64 epoch = dsm_epoch + 1;
	u32 self = dsm_self_id(), id = c->node;

	lockdep_assert_held(&dsm_members_lock);
	dsm_log.commit_to = 0;
	if (c->op == DSM_MLOG_LEAVE && id == self) {
		clear_bit(self, dsm_members);
		dsm_members_new_epoch(epoch);
		dsm_members_send(dsm_members_mask());	/* the others */
		if (!local) {
			dsm_members_forget();
			out->forgotten = true;
		}
		return;
	}
	if (c->op == DSM_MLOG_LEAVE && test_bit(id, dsm_members)) {
		dsm_members_remove(id, epoch);
		pr_info("node %u left\n", id);
		out->removed = id;	/* its link, once it has the list and the answer */
	} else if (c->op == DSM_MLOG_JOIN) {
		set_bit(id, dsm_members);
		dsm_regions_joined(id);
		dsm_net_peer_add(id, (__force __be32)c->addr, c->port);
		dsm_nl_event(DSM_EVENT_JOIN, id, 0);
		pr_info("node %u joined at %pI4:%u\n", id, &c->addr, c->port);
	}
	dsm_members_new_epoch(epoch);
	/* (a joiner has its list in the answer; a leaver may have none) */
	dsm_members_send(c->op == DSM_MLOG_JOIN ?
			 dsm_members_mask() & ~dsm_node_bit(id) :
			 dsm_members_mask() | dsm_node_bit(id));
}

/*
 * Feed the log @m (NULL: only what it sent this node), then what it sent
 * this node, in order; apply what it committed, answer the request its
 * proposal ends, send the list to members behind.
 */
static void dsm_log_feed(struct dsm_log_out *out, const struct dsm_mlog_msg *m)
{
	const struct dsm_mlog_change *c = &dsm_log.log.last;
	bool local = dsm_log.kind == DSM_LOG_LOCAL;
	struct dsm_mlog_msg *s;
	int ret = 0;

	lockdep_assert_held(&dsm_members_lock);
	if (m)
		ret |= dsm_mlog_receive(&dsm_log.log, &dsm_log_env, m);
	while (dsm_log.nself) {
		s = &dsm_log.scratch;
		*s = dsm_log.self[0];
		memmove(&dsm_log.self[0], &dsm_log.self[1],
			--dsm_log.nself * sizeof(dsm_log.self[0]));
		ret |= dsm_mlog_receive(&dsm_log.log, &dsm_log_env, s);
	}
	/* (this node applies only its own commits here: see dsm_log_sync) */
	if ((ret & DSM_MLOG_DONE) && c->op == DSM_MLOG_LEAVE) {
		dsm_log_answer(out, 0);		/* before the leaver is removed */
		ret &= ~DSM_MLOG_DONE;
	}
	if ((ret & DSM_MLOG_GAVE_UP) && c->op == DSM_MLOG_LEAVE &&
	    c->node == dsm_self_id()) {
		dsm_log_answer(out, -EAGAIN);	/* before this node is forgotten */
		ret &= ~DSM_MLOG_GAVE_UP;
	}
	if (ret & DSM_MLOG_APPLIED)
		dsm_log_apply_own(out, local);
	if (ret & (DSM_MLOG_DONE | DSM_MLOG_GAVE_UP))
		dsm_log_answer(out, ret & DSM_MLOG_DONE ? 0 : -EAGAIN);
	if (dsm_log.commit_to)		/* members behind this node */
		dsm_members_send(dsm_log.commit_to);
	dsm_log.commit_to = 0;
	dsm_out_try_flush(dsm_log.dirty);
	dsm_log.dirty = 0;
}

/*
 * This node's list changed other than by its own proposal (MEMBERS, the
 * join's reply, or none): the log takes it as committed, and a proposal
 * of this node still open gives up.
 */
static void dsm_log_sync(struct dsm_log_out *out)
{
	struct dsm_mlog_msg *c = &dsm_log.scratch;
	int ret;

	lockdep_assert_held(&dsm_members_lock);
	if (!dsm_epoch) {
		dsm_log_drop();
		return;
	}
	memset(c, 0, sizeof(*c));
	c->type = DSM_MLOG_COMMIT;
	c->from = dsm_self_id();
	c->epoch = dsm_epoch;
	c->list.members = dsm_members_mask();
	ret = dsm_mlog_receive(&dsm_log.log, &dsm_log_env, c);
	if (ret & (DSM_MLOG_DONE | DSM_MLOG_GAVE_UP))
		dsm_log_answer(out, -EAGAIN);
}

/* A proposal open too long: no quorum answered; its requester hears so. */
static void dsm_log_timeout_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dsm_log_timeout_work, dsm_log_timeout_fn);

static void dsm_log_timeout_fn(struct work_struct *work)
{
	struct dsm_log_out out = {};

	mutex_lock(&dsm_members_lock);
	if (dsm_log.log.phase != DSM_MLOG_IDLE) {
		if (time_before(jiffies, dsm_log.deadline)) {	/* a later one */
			schedule_delayed_work(&dsm_log_timeout_work,
					      dsm_log.deadline - jiffies);
		} else {
			dsm_mlog_abandon(&dsm_log.log);
			pr_info("membership change not accepted by a quorum in %u ms\n",
				jiffies_to_msecs(dsm_log_timeout()));
			dsm_log_answer(&out, -ENOLINK);
		}
	}
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
}

/*
 * Propose @c for a requester of @kind (held in @req, unless LOCAL): its
 * answer comes when the log commits it or gives up. Return: 0, or -EAGAIN
 * while another proposal of this node is open.
 */
static int dsm_log_propose(struct dsm_log_out *out, const struct dsm_mlog_change *c,
			   u8 kind, const struct dsm_net_msg *req)
{
	lockdep_assert_held(&dsm_members_lock);
	if (dsm_log.kind || dsm_log.stopping ||
	    dsm_mlog_propose(&dsm_log.log, &dsm_log_env, c))
		return -EAGAIN;
	dsm_log.kind = kind;
	if (req)
		dsm_net_hold(&dsm_log.req, req);
	dsm_log.deadline = jiffies + dsm_log_timeout();
	schedule_delayed_work(&dsm_log_timeout_work, dsm_log_timeout());
	dsm_log_feed(out, NULL);
	return 0;
}

/*
 * A LOG message from member @from as it may come: a known type, a term
 * whose round a proposer can reach (and, in a proposal, the sender's own),
 * a change that names a node 1..64 (a join with where it listens), or none.
 */
static bool dsm_members_log_valid(const struct dsm_wire_log *w, u32 from)
{
	u64 term = le64_to_cpu(w->term), acc = le64_to_cpu(w->acc_term);
	u32 node = le32_to_cpu(w->node);
	bool join = w->op == DSM_MLOG_JOIN;

	if (w->type < DSM_MLOG_PREPARE || w->type > DSM_MLOG_NACK ||
	    w->type == DSM_MLOG_COMMIT || w->op > DSM_MLOG_LEAVE || w->pad ||
	    node > DSM_MAX_NODES || !w->op != !node ||
	    (join ? !w->addr || !w->port : w->addr || w->port))
		return false;
	if ((term >> DSM_MLOG_TERM_SHIFT) >= DSM_LOG_ROUND_MAX ||
	    (acc >> DSM_MLOG_TERM_SHIFT) >= DSM_LOG_ROUND_MAX)
		return false;
	if ((w->type == DSM_MLOG_PREPARE || w->type == DSM_MLOG_ACCEPT) &&
	    (term & (BIT(DSM_MLOG_TERM_SHIFT) - 1)) != from % BIT(DSM_MLOG_TERM_SHIFT))
		return false;
	return true;
}

/*
 * Fault injection for the selftests: a coordinator that dies between a
 * quorum's acceptance and its commit. While set, the ACCEPTED answers to
 * this node's proposals are dropped (and it reads 2 once one was).
 */
static unsigned int dsm_inject_log_hold;
module_param_named(inject_log_hold, dsm_inject_log_hold, uint, 0600);
MODULE_PARM_DESC(inject_log_hold,
		 "testing: drop the acceptances of this node's proposals");

/**
 * dsm_members_on_log() - LOG: a proposal of the member list, or a vote
 * @m: the message; the payload a struct dsm_wire_log
 *
 * Return: 0 or DSM_REASON_PROTOCOL for a malformed one.
 */
u32 dsm_members_on_log(const struct dsm_net_msg *m)
{
	const struct dsm_wire_log *w = m->payload;
	struct dsm_log_out out = {};
	struct dsm_mlog_msg *msg;

	if (!dsm_members_log_valid(w, m->from))
		return DSM_REASON_PROTOCOL;
	if (w->type == DSM_MLOG_ACCEPTED && READ_ONCE(dsm_inject_log_hold)) {
		WRITE_ONCE(dsm_inject_log_hold, 2);
		return 0;
	}
	msg = kzalloc(sizeof(*msg), GFP_KERNEL);
	if (!msg)
		return DSM_REASON_CLOSED;
	msg->type = w->type;
	msg->from = m->from;
	msg->epoch = le64_to_cpu(w->epoch);
	msg->term = le64_to_cpu(w->term);
	msg->acc_term = le64_to_cpu(w->acc_term);
	msg->change.op = w->op;
	msg->change.node = le32_to_cpu(w->node);
	msg->change.addr = (__force u32)w->addr;
	msg->change.port = le16_to_cpu(w->port);
	mutex_lock(&dsm_members_lock);
	if (dsm_epoch)
		dsm_log_feed(&out, msg);
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
	kfree(msg);
	return 0;
}

/* Adopt a checked list of @epoch if it is newer than ours. */
static void dsm_members_adopt(const struct dsm_wire_members *w, u64 epoch)
{
	u32 n = le32_to_cpu(w->count), self = dsm_self_id(), i;
	bool listed = false, removed = false;
	struct dsm_log_out out = {};

	for (i = 0; i < n; i++)
		listed |= le32_to_cpu(w->m[i].id) == self;
	mutex_lock(&dsm_members_lock);
	if (dsm_epoch && epoch > dsm_epoch) {
		if (listed) {
			dsm_members_apply(w, epoch);
			dsm_log_sync(&out);
		} else {
			dsm_members_forget();
			removed = true;
		}
	}
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
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
	mutex_lock(&dsm_members_lock);
	dsm_log.stopping = true;	/* (handlers run until the transport stops) */
	dsm_log_drop();
	mutex_unlock(&dsm_members_lock);
	cancel_delayed_work_sync(&dsm_log_timeout_work);
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
	dsm_members_send(dsm_node_bit(id));
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
	return dsm_mlog_quorum(dsm_members_mask(), mask);	/* the log's rule */
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
	struct dsm_log_out out = {};
	size_t len = sizeof(*r);
	bool answered = false;
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
		struct dsm_mlog_change c = {
			.op = DSM_MLOG_JOIN,
			.node = id,
			.addr = (__force u32)m->addr,
			.port = m->port,
		};

		status = dsm_log_propose(&out, &c, DSM_LOG_JOIN, m);
		answered = !status;	/* once a quorum accepted it, or not */
	}
	r->status = cpu_to_le32(status);
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
	if (!answered)
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
	struct dsm_mlog_change c = { .op = DSM_MLOG_LEAVE, .node = m->from };
	struct dsm_wire_reply r = {};
	struct dsm_log_out out = {};
	int status = 0;

	mutex_lock(&dsm_members_lock);
	if (dsm_members_coordinator() != dsm_self_id() || dsm_net_fenced())
		status = -EAGAIN;
	else if (test_bit(m->from, dsm_members))	/* (else it is out already) */
		status = dsm_log_propose(&out, &c, DSM_LOG_LEAVE, m) ?: 1;
	mutex_unlock(&dsm_members_lock);
	/* the answer first: removing the leaver sends it before closing its link */
	dsm_log_finish(&out);
	if (status <= 0) {
		r.status = cpu_to_le32(status);
		dsm_net_reply(m, DSM_MSG_REPLY, &r, sizeof(r));
	}
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
		dsm_log_reset();
		dsm_mlog_form(&dsm_log.log);
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
	struct dsm_log_out out = {};
	const char *why = NULL;
	struct dsm_wire_reply *r;
	unsigned long deadline;
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
	deadline = jiffies + msecs_to_jiffies(DSM_JOIN_TIMEOUT_MS);
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
		/* another change first, or no quorum yet (maybe it is in): again */
		if (((err == -EAGAIN && !r->redirect_addr) || err == -ENOLINK) &&
		    time_before(jiffies, deadline)) {
			msleep(200);
			hop--;
			continue;
		}
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
	dsm_log_reset();
	dsm_log_sync(&out);
out:
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
	kfree(r);
	return err;
}

/*
 * The coordinator leaves: it proposes its own removal and waits for the
 * log's answer. Called with dsm_members_lock, which it drops. Return: 0
 * or a negative errno (as a coordinator's answer to LEAVE).
 */
static int dsm_members_leave_self(void)
{
	struct dsm_mlog_change c = { .op = DSM_MLOG_LEAVE, .node = dsm_self_id() };
	u64 others = dsm_members_mask() & ~dsm_node_bit(dsm_self_id());
	struct dsm_log_out out = {};
	int err;

	lockdep_assert_held(&dsm_members_lock);
	dsm_log.result = 1;
	err = dsm_log_propose(&out, &c, DSM_LOG_LOCAL, NULL);
	mutex_unlock(&dsm_members_lock);
	dsm_log_finish(&out);
	if (err)
		return err;
	/* answered by the commit, the timeout or a removal (dsm_log_answer) */
	wait_event_timeout(dsm_log_wq, READ_ONCE(dsm_log.result) <= 0,
			   msecs_to_jiffies(3 * DSM_LOG_TIMEOUT_MS));
	mutex_lock(&dsm_members_lock);	/* (the commit is applied: its list queued) */
	err = dsm_log.result;
	if (err > 0) {		/* not answered: nobody waits for it now */
		dsm_mlog_abandon(&dsm_log.log);
		dsm_log.kind = DSM_LOG_NONE;
		err = -ETIMEDOUT;
	}
	mutex_unlock(&dsm_members_lock);
	/*
	 * The list without this node is delivered before the links go (as
	 * long as they stay up, for two heartbeats at most): a member left
	 * alone with another that is gone could not commit its own leave (no
	 * quorum), where this list lets it see itself alone, and a member that
	 * stays would otherwise keep this node in its list until it loses it.
	 */
	if (!err)
		dsm_out_settle(others, 2 * dsm_dead_timeout_ms() / 5);
	return err;
}

/* dsm_cluster_leave() without the lock that serialises leaves */
static int dsm_cluster_leave_locked(bool force, struct netlink_ext_ack *extack)
{
	unsigned long deadline;
	u32 self = dsm_self_id(), coord;
	struct dsm_wire_reply r;
	bool first = true;
	int n = -ETIMEDOUT;

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
		/*
		 * The last member, or the others are silent (they left, and
		 * their last list never came, or died): nobody to tell, and
		 * nobody could accept the change. The others, if any, lose
		 * this node. (This node is then its own coordinator.)
		 */
		if (dsm_members_others_silent()) {
			if (dsm_members_count() > 1)
				pr_warn("leaving alone: no other member heard for %u ms\n",
					DSM_LEAVE_ALONE_MS);
			mutex_unlock(&dsm_members_lock);
			break;
		}
		if (!first && time_after(jiffies, deadline)) {
			mutex_unlock(&dsm_members_lock);
			if (force)
				break;
			dsm_extack(extack, "no coordinator confirmed the leave");
			/* its entries are handed: its faults ask the new homes */
			dsm_pages_leave_end();
			return n;
		}
		if (coord == self) {
			n = dsm_members_leave_self();
		} else {
			mutex_unlock(&dsm_members_lock);
			n = dsm_net_call(coord, DSM_MSG_LEAVE, NULL, 0, &r, sizeof(r),
					 jiffies_to_msecs(max_t(long, deadline - jiffies, 1)),
					 NULL);
			if (n >= (int)sizeof(r))
				n = (int)le32_to_cpu(r.status);
			if (n > 0)	/* short, or a status that is no errno */
				n = -EPROTO;
		}
		if (!n || n == -EINTR)
			break;
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
 * receiving a list without this node also completes the leave. A node
 * that has not heard another member for DSM_LEAVE_ALONE_MS, all links
 * down, leaves alone: the others, if any, lose it.
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
