// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the write-invalidate coherence protocol (see protocol.h for the
 * theory of operation). Pure C: compiled into the module and into the
 * userspace simulation.
 */
#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "protocol.h"

/*
 * Node sets are u64 masks, bit (id % 64) per node id. Ids are 1..64, so
 * node 64 is bit 0: walk a set by id, 1..DSM_COH_MAX_NODES, not by bit.
 */
static u64 dsm_coh_bit(u32 node)
{
	return 1ULL << (node % DSM_COH_MAX_NODES);
}

/* A message of the transaction @t (its requester and token). */
static void dsm_coh_send(struct dsm_coh_env *env, u32 from, u32 to, u8 type,
			 const struct dsm_coh_msg *t, bool with_data, u64 value)
{
	struct dsm_coh_msg m = {
		.type = type,
		.from = from,
		.requester = t->requester,
		.with_data = with_data,
		.value = value,
		.txn = t->txn,
	};

	env->send(env, from, to, &m);
}

/* Ask the home for the page: a read (maybe @speculative) or a write. */
static void dsm_coh_ask(struct dsm_coh_env *env, struct dsm_coh_node *n,
			u32 self, u32 home, u8 type, bool speculative)
{
	struct dsm_coh_msg m = {
		.type = type,
		.from = self,
		.requester = self,
		.speculative = speculative,
	};

	n->pending = type;
	env->send(env, self, home, &m);
}

/**
 * dsm_coh_dir_init() - a page nobody has touched: the home owns it
 * @dir:  the directory entry
 * @home: the page's home
 */
void dsm_coh_dir_init(struct dsm_coh_dir *dir, u32 home)
{
	memset(dir, 0, sizeof(*dir));
	dir->owner = home;
}

/**
 * dsm_coh_node_init() - a node's initial view of a page
 * @n:    the node's state
 * @home: this node is the page's home, which starts with it writable
 */
void dsm_coh_node_init(struct dsm_coh_node *n, bool home)
{
	memset(n, 0, sizeof(*n));
	if (home) {
		n->state = DSM_COH_EXCLUSIVE;
		n->owner = true;
	}
}

/**
 * dsm_coh_fault() - a local access to the page
 * @env:   the caller
 * @n:     this node's state
 * @self:  this node
 * @home:  the page's home
 * @write: a store (else a load)
 *
 * Return: true if the access may go ahead now; false if it must wait for
 * the request this node has in flight (sent now, or earlier) and retry.
 */
bool dsm_coh_fault(struct dsm_coh_env *env, struct dsm_coh_node *n, u32 self,
		   u32 home, bool write)
{
	if (write ? n->state == DSM_COH_EXCLUSIVE : n->state != DSM_COH_INVALID)
		return true;
	if (n->pending)
		return false;	/* join the request in flight, then retry */
	dsm_coh_ask(env, n, self, home,
		    write ? DSM_COH_REQ_WRITE : DSM_COH_REQ_READ, false);
	return false;
}

/**
 * dsm_coh_prefetch() - ask for a read copy ahead of any access
 * @env:  the caller
 * @n:    this node's state
 * @self: this node
 * @home: the page's home
 *
 * Return: true if a speculative read was sent (the page is invalid here and
 * nothing is in flight); it ends in DATA, or in DECLINE.
 */
bool dsm_coh_prefetch(struct dsm_coh_env *env, struct dsm_coh_node *n, u32 self,
		      u32 home)
{
	if (n->state != DSM_COH_INVALID || n->pending)
		return false;
	dsm_coh_ask(env, n, self, home, DSM_COH_REQ_READ, true);
	return true;
}

/* A message for a later transaction: the caller keeps it until our data. */
static int dsm_coh_node_defer(const struct dsm_coh_node *n)
{
	return n->pending ? DSM_COH_KEEP : -EPROTO;
}

/**
 * dsm_coh_node_receive() - a message for this node's side of the page
 * @env:  the caller
 * @n:    this node's state
 * @self: this node
 * @home: the page's home, as this node names it
 * @m:    DATA, GRANT, DECLINE, FWD_READ, FWD_WRITE or INV
 *
 * Return: 0; DSM_COH_KEEP to feed @m again, in order with any other kept
 * message, once @n->pending is 0; or -EPROTO for a message the protocol
 * cannot produce here.
 */
int dsm_coh_node_receive(struct dsm_coh_env *env, struct dsm_coh_node *n,
			 u32 self, u32 home, const struct dsm_coh_msg *m)
{
	switch (m->type) {
	case DSM_COH_DATA:
		if (n->pending != DSM_COH_REQ_READ)
			return -EPROTO;
		n->state = DSM_COH_SHARED;
		n->value = m->value;
		n->pending = 0;
		return 0;
	case DSM_COH_DECLINE:	/* our speculative read: nothing changed */
		if (n->pending != DSM_COH_REQ_READ)
			return -EPROTO;
		n->pending = 0;
		return 0;
	case DSM_COH_GRANT:
		if (n->pending != DSM_COH_REQ_WRITE ||
		    (!m->with_data && n->state == DSM_COH_INVALID))
			return -EPROTO;
		if (m->with_data)
			n->value = m->value;
		n->state = DSM_COH_EXCLUSIVE;
		n->owner = true;
		n->pending = 0;
		if (m->with_data && env->confirm)	/* a forward: see the top */
			dsm_coh_send(env, self, home, DSM_COH_CONFIRM, m, false, 0);
		return 0;
	case DSM_COH_FWD_READ:
	case DSM_COH_FWD_WRITE:
		if (!n->owner || n->state == DSM_COH_INVALID)
			return dsm_coh_node_defer(n);	/* a later transaction */
		if (m->type == DSM_COH_FWD_READ) {
			n->state = DSM_COH_SHARED;	/* keep ownership */
			dsm_coh_send(env, self, m->requester, DSM_COH_DATA,
				     m, false, n->value);
		} else {
			n->state = DSM_COH_INVALID;
			n->owner = false;
			dsm_coh_send(env, self, m->requester, DSM_COH_GRANT,
				     m, true, n->value);
		}
		return 0;
	case DSM_COH_INV:
		if (n->state == DSM_COH_INVALID)	/* our read's data is on its way */
			return n->pending == DSM_COH_REQ_READ ? DSM_COH_KEEP : -EPROTO;
		n->state = DSM_COH_INVALID;
		n->owner = false;
		/*
		 * To the node that asked, not to @home: during a handover the
		 * new home invalidates nodes that still name the old one.
		 */
		dsm_coh_send(env, self, m->from, DSM_COH_INV_ACK, m, false, 0);
		return 0;
	}
	return -EPROTO;
}

/*
 * The page's data died with its owner and no other node holds a copy:
 * the home's copy becomes the owner's if the caller can make one (see
 * struct dsm_coh_env).
 */
static bool dsm_coh_revive(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			   u32 home, bool exclusive)
{
	if (!env->revive || !env->revive(env, exclusive))
		return false;
	dir->owner = home;
	dir->copyset = 0;
	dir->lost = false;
	return true;
}

/*
 * The invalidations of dir->cur are all acknowledged: hand over the page.
 * A write whose requester died meanwhile (@aborted) ends here without a
 * grant: if the requester held no copy, the owner still has the data and
 * keeps it (unless it died too, @lost); else every other copy was
 * invalidated for the dead node, which becomes the owner, with the data
 * lost. A write whose data died with the owner (@lost) fails; the dead
 * node stays the owner. Where the data died, the home may make the page
 * again (dsm_coh_revive): it owns it then, and serves a live requester.
 */
static void dsm_coh_dir_grant(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			      u32 home)
{
	u32 r = dir->cur.requester;

	if (dir->aborted && (dir->lost || !dir->cur.with_data) &&
	    dsm_coh_revive(env, dir, home, true)) {
		dir->busy = false;	/* nothing to grant: the home keeps it */
		dir->aborted = false;
		return;
	}
	if (dir->lost && !dir->aborted && dsm_coh_revive(env, dir, home, false) &&
	    r == home)
		dir->cur.with_data = false;	/* its own write: it holds the copy */
	if (dir->aborted) {
		if (!dir->cur.with_data) {
			dir->owner = r;	/* the copies left were all its */
			dir->orphan = true;
		} else if (dir->lost) {
			dir->owner = r;		/* the data died, with the owner too */
			dir->orphan = true;
		}
	} else if (dir->lost) {
		dsm_coh_send(env, home, r, DSM_COH_FAIL, &dir->cur, false, 0);
		dir->orphan = true;
	} else {
		if (dir->cur.with_data) {	/* "the requester holds no copy" */
			dsm_coh_send(env, home, dir->owner, DSM_COH_FWD_WRITE,
				     &dir->cur, false, 0);
			if (env->confirm) {	/* busy until r has it */
				dir->copyset = 0;
				dir->waiting = dsm_coh_bit(r);
				return;
			}
		} else {
			dsm_coh_send(env, home, r, DSM_COH_GRANT, &dir->cur, false, 0);
		}
		dir->owner = r;
	}
	dir->copyset = 0;
	dir->busy = false;
	dir->aborted = false;
	dir->lost = false;
}

static int dsm_coh_dir_serve(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			     u32 home, const struct dsm_coh_msg *m)
{
	const struct dsm_coh_msg untokened = { .requester = m->requester };
	u32 r = m->requester, i;
	u64 holders, inv;
	bool valid;

	if (m->type == DSM_COH_REQ_READ) {
		if (r == dir->owner)	/* an owner always holds the data */
			return -EPROTO;
		if (m->speculative && !dir->copyset && env->spare &&
		    env->spare(env, dir, m)) {
			dsm_coh_send(env, home, r, DSM_COH_DECLINE, m, false, 0);
			return 0;
		}
		dir->copyset |= dsm_coh_bit(r);
		dsm_coh_send(env, home, dir->owner, DSM_COH_FWD_READ, m, false, 0);
		return 0;
	}
	holders = dir->copyset | dsm_coh_bit(dir->owner);
	valid = holders & dsm_coh_bit(r);
	inv = holders & ~dsm_coh_bit(r);
	if (!valid)
		inv &= ~dsm_coh_bit(dir->owner);	/* it hands the data over */
	dir->cur = *m;
	dir->cur.with_data = !valid;
	dir->waiting = inv;
	dir->busy = true;
	for (i = 1; i <= DSM_COH_MAX_NODES; i++)	/* ids, not bits */
		if (inv & dsm_coh_bit(i))	/* no token: holders are not on the path */
			dsm_coh_send(env, home, i, DSM_COH_INV, &untokened, false, 0);
	if (!dir->waiting)
		dsm_coh_dir_grant(env, dir, home);
	return 0;
}

/**
 * dsm_coh_dir_receive() - a message for the page's home
 * @env:  the caller
 * @dir:  the directory entry
 * @home: this node, the page's home
 * @m:    REQ_READ, REQ_WRITE, INV_ACK or CONFIRM
 *
 * Return: 0; DSM_COH_KEEP for a request that arrived while @dir is busy, to
 * feed again, in order, once it is not; or -EPROTO for a message the
 * protocol cannot produce.
 */
int dsm_coh_dir_receive(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			u32 home, const struct dsm_coh_msg *m)
{
	switch (m->type) {
	case DSM_COH_REQ_READ:
	case DSM_COH_REQ_WRITE:
		if (dir->busy)
			return DSM_COH_KEEP;
		return dsm_coh_dir_serve(env, dir, home, m);
	case DSM_COH_INV_ACK:
		if (!dir->busy || !(dir->waiting & dsm_coh_bit(m->from)) ||
		    m->from == dir->cur.requester)
			return -EPROTO;
		dir->waiting &= ~dsm_coh_bit(m->from);
		if (!dir->waiting)
			dsm_coh_dir_grant(env, dir, home);
		return 0;
	case DSM_COH_CONFIRM:	/* the forwarded write is done: r owns the page */
		if (!dir->busy || !(dir->waiting & dsm_coh_bit(m->from)) ||
		    m->from != dir->cur.requester)
			return -EPROTO;
		dir->owner = m->from;
		dir->waiting = 0;
		dir->busy = false;
		return 0;
	}
	return -EPROTO;
}

/**
 * dsm_coh_dir_forget() - a node died or left: stop counting on it
 * @env:  the caller
 * @dir:  the directory entry
 * @home: this node, the page's home
 * @node: the node
 * @died: it died; else it left, having served what it was sent
 *
 * The node leaves the copyset, and an ack expected from it counts as
 * received. A write it asked for is aborted: nothing is granted or
 * forwarded to it. If it owned the page, the data is lost: the entry still
 * names it, and is an @orphan once no write is under way (the caller fails
 * every request for it), unless the home can make the page again
 * (dsm_coh_revive) and no other node holds a copy (one may wait for data
 * the dead owner never sent). A forwarded write not confirmed yet
 * (@confirm) lost its data if the node died and was its owner or its
 * requester: the home makes the page again or fails it (one that left
 * sent the data, or confirmed, first). Requests of the node still
 * queued by the caller are the caller's to drop.
 */
void dsm_coh_dir_forget(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			u32 home, u32 node, bool died)
{
	dir->copyset &= ~dsm_coh_bit(node);
	if (!dir->busy) {
		if (dir->owner == node && !dir->orphan &&
		    !(dir->copyset & ~dsm_coh_bit(home)) &&
		    dsm_coh_revive(env, dir, home, true))
			return;
		dir->orphan |= dir->owner == node;
		return;
	}
	if (dir->waiting & dsm_coh_bit(dir->cur.requester)) {
		/* a forwarded write not confirmed: its data died (see the top) */
		if (!died)
			return;
		if (node == dir->cur.requester) {
			dir->aborted = true;
			/* it had, or was sent, the data; unless the home still has it */
			if (dir->owner != home)
				dir->owner = node;
		} else if (node != dir->owner) {
			return;		/* not on the write's path */
		}
		dir->lost = true;
		dir->waiting = 0;
		dsm_coh_dir_grant(env, dir, home);
		return;
	}
	if (dir->cur.requester == node)
		dir->aborted = true;
	else if (dir->owner == node && dir->cur.with_data)
		dir->lost = true;	/* it was to hand the data over */
	dir->waiting &= ~dsm_coh_bit(node);
	if (!dir->waiting)
		dsm_coh_dir_grant(env, dir, home);
}
