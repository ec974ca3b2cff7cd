// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster-wide attach - every member agrees on a region's size and
 * home set.
 *
 * Theory of operation. A region's metadata lives at its metadata home, a
 * member chosen from the key (rendezvous hashing over the members,
 * dsm_homes_pick), which serialises creation: two nodes creating the same
 * key at once get one region. The home set of a new region is the member
 * set its metadata home sees; it is fixed for the region's life, so a node
 * that joins later is not a home of existing regions' pages.
 *
 * Attaching key K on a member:
 *  1. if this node knows K (attached before, or a shadow made by coherence
 *     traffic), that is the answer;
 *  2. else every other member that is up is asked (LOOKUP): after a
 *     membership change, K's metadata home may be a node that never heard
 *     of K, so the members that might have are asked first;
 *  3. else K's metadata home is asked to find or create it (CREATE).
 * The flags and size of the request are then checked against the answer
 * exactly as for a local region, and this node makes its own copy.
 *
 * Removal is cluster-wide and two-phase (dsm_region_cluster_remove): it
 * happens only if no member maps the region. Each member remembers which
 * nodes prepared a removal, so that one node's abort does not undo
 * another's preparation when two nodes remove a key at once.
 */
#include <linux/delay.h>
#include <linux/moduleparam.h>

#include "coherence/homes.h"
#include "dsm.h"

/*
 * The answer for @req of node @from from what this node knows; creates at
 * the home, with every member as a home of its pages, or @from alone
 * (DSM_ATTACH_HOME_SELF). Status EEXIST is for DSM_ATTACH_EXCL; EADDRINUSE
 * says that this node holds the key as a local region (made before it
 * joined).
 */
static int dsm_region_answer(u32 from, const struct dsm_wire_region *req,
			     struct dsm_wire_region_reply *rep)
{
	u64 key = le64_to_cpu(req->key), size = le64_to_cpu(req->size);
	u32 flags = le32_to_cpu(req->flags);
	struct dsm_region *r;
	u64 homes = 0, lost = 0;
	u32 copies = 0;
	int err;

	err = dsm_region_known(key, &size, &homes, &lost, &copies);
	if (err == -EEXIST) {
		err = -EADDRINUSE;
	} else if (err == -ENOENT && le32_to_cpu(req->op) == DSM_REGION_CREATE &&
		   size && !(flags & DSM_ATTACH_NOCREATE)) {
		homes = flags & DSM_ATTACH_HOME_SELF ? dsm_node_bit(from) :
						       dsm_members_live_mask();
		/* each page's copies are kept on homes other than its writer */
		err = from != dsm_self_id() && dsm_node_gone(from) ? -EHOSTUNREACH :
		      DSM_ATTACH_COPIES_OF(flags) >= hweight64(homes) ? -EINVAL :
		      dsm_region_find(key, size, flags & DSM_ATTACH_COPIES_MASK,
				      true, homes, 0, &r);
		if (!err) {
			size = r->size;
			homes = r->homes;	/* what the table holds */
			copies = r->copies;
			dsm_region_put(r);	/* the table keeps it */
		}
	} else if (!err && (flags & DSM_ATTACH_EXCL)) {
		err = -EEXIST;
	}
	rep->status = cpu_to_le32(err);
	rep->copies = cpu_to_le32(err ? 0 : copies);
	rep->size = cpu_to_le64(err ? 0 : size);
	rep->homes = cpu_to_le64(err ? 0 : homes);
	rep->lost = cpu_to_le64(err ? 0 : lost);
	return err;
}

/*
 * Serve a region request from node @from (a peer or this node itself); @rep
 * gets the answer. Return: its status, or -EPROTO for a malformed request.
 */
static int dsm_region_serve(u32 from, const struct dsm_wire_region *req,
			    struct dsm_wire_region_reply *rep)
{
	struct dsm_attach check = {
		.key = le64_to_cpu(req->key),
		.size = le64_to_cpu(req->size),
		.flags = le32_to_cpu(req->flags),
	};
	int err = 0;

	memset(rep, 0, sizeof(*rep));
	switch (le32_to_cpu(req->op)) {
	case DSM_REGION_LOOKUP:
	case DSM_REGION_CREATE:
		if (dsm_attach_check(&check))
			return -EPROTO;
		return dsm_region_answer(from, req, rep);
	case DSM_REGION_SYNC:	/* only needs an answer */
		break;
	case DSM_REGION_PREPARE:
		err = dsm_region_remove_prepare(check.key, from, dsm_pages_asking);
		break;
	case DSM_REGION_COMMIT:
	case DSM_REGION_ABORT:
		dsm_region_remove_finish(check.key,
					 le32_to_cpu(req->op) == DSM_REGION_COMMIT, from);
		break;
	default:
		return -EPROTO;
	}
	rep->status = cpu_to_le32(err);
	return err;
}

/**
 * dsm_region_on_request() - DSM_MSG_REGION from a member
 * @m: the request, a struct dsm_wire_region (its req_id goes back in the
 *     reply)
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a malformed request.
 */
u32 dsm_region_on_request(const struct dsm_net_msg *m)
{
	struct dsm_wire_region_reply rep;

	if (dsm_region_serve(m->from, m->payload, &rep) == -EPROTO)
		return DSM_REASON_PROTOCOL;
	dsm_net_reply(m, DSM_MSG_REGION_REPLY, &rep, sizeof(rep));
	return 0;
}

/*
 * Is a peer's answer to @req one that could be? A status that is 0 or an
 * errno, and for a region it names (a lookup or create that succeeded), a
 * size a region can have and a home set.
 */
static bool dsm_region_reply_ok(const struct dsm_wire_region *req,
				const struct dsm_wire_region_reply *rep)
{
	int status = (int)le32_to_cpu(rep->status);
	u32 op = le32_to_cpu(req->op);
	u64 size = le64_to_cpu(rep->size);

	if (status > 0 || status < -MAX_ERRNO ||
	    le32_to_cpu(rep->copies) > DSM_COPIES_MAX)
		return false;
	if ((op != DSM_REGION_LOOKUP && op != DSM_REGION_CREATE) || status)
		return true;	/* (EEXIST, for an exclusive attach, names none) */
	return size && size <= DSM_REGION_MAX_SIZE && IS_ALIGNED(size, PAGE_SIZE) &&
	       rep->homes && !(rep->homes & rep->lost);
}

/*
 * Ask node @id; return its status, or -ENOTCONN if it cannot answer.
 * @epoch, if not NULL, gets the epoch it answered at (0: this node's).
 */
static int dsm_region_ask(u32 id, const struct dsm_wire_region *req,
			  struct dsm_wire_region_reply *rep, u64 *epoch)
{
	int n;

	if (epoch)
		*epoch = 0;
	if (id == dsm_self_id())
		return dsm_region_serve(id, req, rep);
	if (dsm_node_gone(id))
		return -ENOTCONN;
	/*
	 * Delivered even across link resets; the call fails when the node is
	 * lost. A member that is up but busy gets as long as a silent one.
	 */
	n = dsm_net_call(id, DSM_MSG_REGION, req, sizeof(*req), rep, sizeof(*rep),
			 2 * dsm_dead_timeout_ms(), epoch);
	if (n < 0)
		return n == -EINTR ? n : -ENOTCONN;
	if (n != sizeof(*rep) || !dsm_region_reply_ok(req, rep)) {
		dsm_stat_inc(DSM_STAT_BAD_WIRE);
		pr_warn_ratelimited("node %u: malformed region reply (status %d, size %llu, homes %#llx): ignored\n",
				    id, (int)le32_to_cpu(rep->status),
				    le64_to_cpu(rep->size), le64_to_cpu(rep->homes));
		return -EPROTO;
	}
	return (int)le32_to_cpu(rep->status);
}

/**
 * dsm_region_sync() - a round trip to node @id: what this node sent it
 * before has been processed when this returns (the link is FIFO and one
 * worker reads it); gives up after the dead timeout
 * @id: the node
 *
 * The request goes after every message queued for @id before it (one
 * ordered queue per node), so the round trip comes after them.
 */
void dsm_region_sync(u32 id)
{
	struct dsm_wire_region req = { .op = cpu_to_le32(DSM_REGION_SYNC) };
	struct dsm_wire_region_reply rep;

	if (dsm_region_ask(id, &req, &rep, NULL))
		pr_warn("node %u did not confirm the handover\n", id);
}

/**
 * dsm_region_cluster_attach() - attach a cluster region (see the top)
 * @req: the checked request; size and flags as for DSM_IOC_ATTACH
 * @out: the region, with a reference for the caller
 *
 * Return: 0 or a negative errno, as documented for DSM_IOC_ATTACH, and
 * EHOSTUNREACH when the region's metadata home cannot be reached.
 */
int dsm_region_cluster_attach(struct dsm_attach *req, struct dsm_region **out)
{
	struct dsm_wire_region ask = {
		.key = cpu_to_le64(req->key),
		.size = cpu_to_le64(req->size),
		.flags = cpu_to_le32(req->flags),
		.op = cpu_to_le32(DSM_REGION_LOOKUP),
	};
	struct dsm_wire_region_reply rep;
	u32 self = dsm_self_id(), id, copies = 0;
	u64 size, homes, lost = 0, epoch = 0;
	int err;

	err = dsm_region_known(req->key, &size, &homes, &lost, &copies);
	for (id = 1; err == -ENOENT && id <= DSM_MAX_NODES; id++) {
		if (id == self || !dsm_members_has(id))
			continue;
		err = dsm_region_ask(id, &ask, &rep, &epoch);
		if (err == -ENOTCONN || err == -EPROTO)
			err = -ENOENT;	/* it cannot tell; ask on */
		if (err == -EINTR || err == -EADDRINUSE)
			break;
		if (!err || err == -EEXIST) {	/* EXCL: it exists */
			size = le64_to_cpu(rep.size);
			homes = le64_to_cpu(rep.homes);
			lost = le64_to_cpu(rep.lost);
			copies = le32_to_cpu(rep.copies);
			err = 0;
		}
	}
	if (!err && (req->flags & DSM_ATTACH_EXCL))
		return -EEXIST;
	if (err == -ENOENT) {
		ask.op = cpu_to_le32(DSM_REGION_CREATE);
		err = dsm_region_ask(dsm_homes_pick(dsm_members_mask(), req->key),
				     &ask, &rep, &epoch);
		if (err == -ENOTCONN || err == -EPROTO)
			return -EHOSTUNREACH;
		size = le64_to_cpu(rep.size);
		homes = le64_to_cpu(rep.homes);
		copies = le32_to_cpu(rep.copies);
	}
	if (err == -EADDRINUSE)
		return -EEXIST;	/* a member holds the key as a local region */
	if (err)
		return err;
	if ((req->size && req->size != size) ||
	    (DSM_ATTACH_COPIES_OF(req->flags) &&
	     DSM_ATTACH_COPIES_OF(req->flags) != copies))
		return -EINVAL;
	err = dsm_region_find(req->key, size, DSM_ATTACH_COPIES(copies), true,
			      homes, epoch, out);
	if (!err)
		dsm_region_learn_lost(*out, lost & ~homes);
	return err;
}

/*
 * Fault injection for the selftests: pause a removal between its two
 * phases, so that removals of one key by two nodes overlap on demand.
 */
static unsigned int dsm_inject_remove_pause_ms;
module_param_named(inject_remove_pause_ms, dsm_inject_remove_pause_ms, uint, 0600);
MODULE_PARM_DESC(inject_remove_pause_ms,
		 "testing: pause a cluster-wide removal between its phases");

#define DSM_REMOVE_RETRY_MS	20

/* One round of dsm_region_cluster_remove(). */
static int dsm_region_remove_round(u64 key)
{
	struct dsm_wire_region req = {
		.key = cpu_to_le64(key),
		.op = cpu_to_le32(DSM_REGION_PREPARE),
	};
	struct dsm_wire_region_reply rep;
	DECLARE_BITMAP(prepared, DSM_MAX_NODES + 1);
	int err = 0;
	u32 id;

	bitmap_zero(prepared, DSM_MAX_NODES + 1);
	for (id = 1; id <= DSM_MAX_NODES && !err; id++) {
		if (!dsm_members_has(id) && id != dsm_self_id())
			continue;
		err = dsm_region_ask(id, &req, &rep, NULL);
		if (err == -ENOTCONN || err == -EPROTO)
			err = -EHOSTUNREACH;
		if (!err)
			set_bit(id, prepared);
	}
	if (dsm_inject_remove_pause_ms)
		msleep(dsm_inject_remove_pause_ms);
	req.op = cpu_to_le32(err ? DSM_REGION_ABORT : DSM_REGION_COMMIT);
	for_each_set_bit(id, prepared, DSM_MAX_NODES + 1)
		if (dsm_region_ask(id, &req, &rep, NULL) && !err)
			pr_warn("node %u did not confirm the removal of region %#llx\n",
				id, key);
	return err;
}

/**
 * dsm_region_cluster_remove() - remove a cluster region from every member
 * @key: the region's key
 *
 * Two phases: every member (this node too) is asked to PREPARE: it refuses
 * with EBUSY while the region is mapped there, else it takes no new
 * mappings. If all agreed, every member removes it (COMMIT); else the
 * prepared ones take mappings again (ABORT).
 *
 * A member whose requests about the region are still on their way answers
 * EAGAIN: the round is aborted and tried again a little later, for at most
 * twice the dead timeout (a request is answered or its node lost by then).
 *
 * Return: 0, -EBUSY if some node maps it, -EHOSTUNREACH if a member cannot
 * answer, -EAGAIN if requests stayed on their way, -EINTR.
 */
int dsm_region_cluster_remove(u64 key)
{
	unsigned long end = jiffies + 2 * msecs_to_jiffies(dsm_dead_timeout_ms());
	int err;

	while ((err = dsm_region_remove_round(key)) == -EAGAIN &&
	       time_before(jiffies, end)) {
		if (msleep_interruptible(DSM_REMOVE_RETRY_MS))
			return -EINTR;
	}
	return err;
}
