// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: page state, and the coherence protocol at work on cluster regions.
 *
 * Theory of operation. Each touched page of a region has a struct
 * dsm_cpage: a struct page holding this node's copy, this node's protocol
 * state for it (struct dsm_coh_node), and, if this node is the page's home,
 * its directory entry (struct dsm_coh_dir). The state machine itself is
 * kernel/coherence/protocol.c; this file feeds it faults and messages and
 * carries out what it decides.
 *
 * Locking: the page lock of the copy serialises everything about that page:
 * the protocol state, the directory, the kept and queued messages, and the
 * installation of a PTE by the core MM (a fault returns VM_FAULT_LOCKED and
 * the core maps the page before unlocking it). So an invalidation, which
 * takes the page lock, either runs before a fault checks the state, or after
 * the PTE is in place and then unmaps it.
 *
 *  - A fault on a page this node holds well enough is mapped at once. Else
 *    it starts a request (or joins the one in flight), drops mmap_lock when
 *    the core allows, sends, waits for the answer and returns
 *    VM_FAULT_RETRY; the retried fault finds the page present. A write to a
 *    page mapped read-only (page_mkwrite) that is not held exclusively
 *    asks for it, unmaps it and returns: the store faults again through
 *    the path that may wait. While this node's write request is in flight,
 *    read faults wait for it too: a CPU may report the load of a
 *    read-modify-write instruction first (QEMU's TCG does), and mapping the
 *    old read-only copy for it would repeat forever.
 *  - Before this node sends its data, or acknowledges an invalidation, it
 *    unmaps the page from every process mapping the region on this node
 *    (unmap_mapping_range on the region's mapping): no store can follow the
 *    copy, and no reader keeps a stale one.
 *  - Messages leave through the outbox (net/outbox.c): queued in order
 *    under the page lock, sent once it is dropped.
 *  - A page that arrives for a waiting fault is held for that fault: a
 *    forward or invalidation that comes meanwhile, or came before the page
 *    and was kept for this later transaction, waits, at most
 *    DSM_HOLD_NS; once the fault has mapped the page for the access it
 *    asked for, DSM_HOLD_GRACE_NS more, so that the faulting instruction
 *    runs before the page can go. Every grant is used at least once and
 *    contended pages cannot ping-pong without progress.
 *  - A fault waits for a page at most the dead timeout, counted from the
 *    first fault that waited for the request in flight (a read-ahead
 *    request may be old; a home that is alive but busy has not lost it);
 *    a fault on a page whose request ran out, or whose home is gone, gets
 *    SIGBUS. What happens when nodes are lost or leave is in handover.c.
 *
 * Local regions use only @page: zero-filled on first touch, never moved.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>

#include "coherence/homes.h"
#include "compat.h"
#include "net/wire.h"
#include "pages.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static_assert(PAGE_SIZE == DSM_WIRE_PAGE_SIZE);
/* one kmalloc-192 object per page: a field more must take one's place */
static_assert(sizeof(struct dsm_cpage) <= 192);

/*
 * How long a page granted to a waiting fault is kept from other nodes, at
 * most: without it, the page can be forwarded away before the woken fault
 * maps it, again and again (a livelock under contention). Once mapped, the
 * grace lets the faulting instruction run: releasing at once woke the
 * forward, which could unmap the page before the instruction ran.
 */
#define DSM_HOLD_NS		(2 * NSEC_PER_MSEC)
#define DSM_HOLD_GRACE_NS	(250 * NSEC_PER_USEC)

/* Read-ahead: the widest window, in pages, and how many are asked at once. */
#define DSM_READAHEAD		1024
#define DSM_READAHEAD_STEP	64
#define DSM_MAP_AROUND		15	/* pages a read fault maps after its own */

static unsigned int dsm_inject_hold_ms;
module_param_named(inject_hold_ms, dsm_inject_hold_ms, uint, 0600);
MODULE_PARM_DESC(inject_hold_ms,
		 "test only: hold a page granted to a waiting fault this long, not 2 ms");

static unsigned int dsm_inject_forward_delay_ms;
module_param_named(inject_forward_delay_ms, dsm_inject_forward_delay_ms, uint, 0600);
MODULE_PARM_DESC(inject_forward_delay_ms,
		 "test only: answer the next forwarded request this much later");

static unsigned int dsm_prefetch_spare_ms = 2000;
module_param_named(prefetch_spare_ms, dsm_prefetch_spare_ms, uint, 0644);
MODULE_PARM_DESC(prefetch_spare_ms,
		 "a read-ahead does not take a page whose owner was given write access this recently (ms; 0: never spared)");

static unsigned int dsm_inject_request_delay_ms;
module_param_named(inject_request_delay_ms, dsm_inject_request_delay_ms, uint, 0600);
MODULE_PARM_DESC(inject_request_delay_ms,
		 "test only: take the next page request of a peer this much later");

DECLARE_WAIT_QUEUE_HEAD(dsm_pages_wq);
static atomic64_t dsm_nr_pages = ATOMIC64_INIT(0);

/*
 * The cap on cluster region memory (dsmctl node limit mem): a page this
 * node does not hold yet is not taken for a peer's request or a fault here
 * once its cluster pages reach it. Pages that keep data (a leaver's
 * handover, a census, a replica made a page again) are taken regardless:
 * refusing them would lose what they hold. Checked before allocating, not
 * under a lock: concurrent receive works and faults may each take one
 * page past it.
 */
static atomic64_t dsm_nr_cluster_pages = ATOMIC64_INIT(0);
static unsigned long dsm_mem_max_pages;		/* 0: no cap */

void dsm_pages_set_mem_max(u32 mib)
{
	WRITE_ONCE(dsm_mem_max_pages, (unsigned long)mib << (20 - PAGE_SHIFT));
}

u32 dsm_pages_mem_max(void)
{
	return READ_ONCE(dsm_mem_max_pages) >> (20 - PAGE_SHIFT);
}

u64 dsm_pages_cluster_count(void)
{
	return atomic64_read(&dsm_nr_cluster_pages);
}

/* The home of @r's page @index in this node's table. */
static u32 dsm_pages_home_of(struct dsm_region *r, pgoff_t index)
{
	u32 home;

	down_read(&r->table_lock);
	home = dsm_homes_node(r->table, r->key, index);
	up_read(&r->table_lock);
	return home;
}

/* A new page of @r at @index would pass the cap (the caller counts it). */
static bool dsm_pages_over_cap(struct dsm_region *r, pgoff_t index)
{
	unsigned long max = READ_ONCE(dsm_mem_max_pages);

	return max && r->cluster && !xa_load(&r->pages, index) &&
	       atomic64_read(&dsm_nr_cluster_pages) >= max;
}

struct dsm_cpage *dsm_cpage_get(struct dsm_region *r, pgoff_t index)
{
	struct dsm_cpage *cp, *old;
	u32 self = dsm_self_id();

	cp = xa_load(&r->pages, index);
	if (cp)
		return cp;
	/*
	 * Charged to the memory cgroup of the process whose fault needs the
	 * page (over its limit, the fault is out of memory, as for any page
	 * it maps). A page a peer's request makes this node allocate, in a
	 * receive work, is charged to nobody: failing it would fail the peer.
	 */
	cp = kzalloc(sizeof(*cp), GFP_KERNEL_ACCOUNT);
	if (cp)
		cp->page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
	if (!cp || !cp->page) {
		kfree(cp);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&cp->kept);
	INIT_LIST_HEAD(&cp->queued);
	if (r->cluster) {
		down_read(&r->table_lock);	/* until it is in r->pages */
		cp->home = dsm_homes_node(r->table, r->key, index);
		dsm_coh_node_init(&cp->node, cp->home == self);
		if (cp->home == self) {
			dsm_coh_dir_init(&cp->dir, self);
			dsm_census_fresh(r, cp, index);	/* or homed at a lost node */
		}
	}
	old = xa_cmpxchg(&r->pages, index, NULL, cp, GFP_KERNEL);
	if (r->cluster)
		up_read(&r->table_lock);
	if (old) {
		/* lost a race with another fault, or out of memory */
		__free_page(cp->page);
		kfree(cp);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic64_inc(&dsm_nr_pages);
	if (r->cluster)
		atomic64_inc(&dsm_nr_cluster_pages);
	dsm_stat_inc(DSM_STAT_ZERO_FILLS);
	if (r->cluster && cp->home == self)
		dsm_pages_first_touch(r, cp, index);	/* if this node leaves */
	return cp;
}

/**
 * dsm_pages_local() - a local region's page, allocated zeroed on first touch
 * @r:     the region
 * @index: page index, below @r->npages
 *
 * Return: the page (the region keeps it; take a reference to keep it) or an
 * ERR_PTR().
 */
struct page *dsm_pages_local(struct dsm_region *r, pgoff_t index)
{
	struct dsm_cpage *cp = dsm_cpage_get(r, index);

	return IS_ERR(cp) ? ERR_CAST(cp) : cp->page;
}

/* Unmap the page from every process of this node. */
void dsm_pages_zap(struct dsm_region *r, pgoff_t index)
{
	unmap_mapping_range(&r->mapping, (loff_t)index << PAGE_SHIFT, PAGE_SIZE, 1);
}

/*
 * Queue the PAGE message @out (@len bytes of payload, with a page if
 * @data) for @to; counted as sent if it leaves this node (@remote).
 */
static void dsm_pages_queue_out(u32 to, struct dsm_out *out, size_t len, bool data,
				bool remote, u64 *dirty)
{
	if (remote) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_SENT);
		atomic64_add(len + sizeof(struct dsm_wire_hdr),
			     &dsm_stats[DSM_STAT_BYTES_SENT]);
		if (data)
			dsm_stat_inc(DSM_STAT_PAGES_SENT);
	}
	dsm_out_queue(to, out);
	*dirty |= dsm_node_bit(to);
}

static void dsm_pages_send(struct dsm_coh_env *env, u32 from, u32 to,
			   const struct dsm_coh_msg *m)
{
	struct dsm_pages_ctx *ctx = env->ctx;
	bool data = dsm_pages_has_data(m->type, m->with_data);
	size_t len = sizeof(struct dsm_wire_page) + (data ? PAGE_SIZE : 0);
	struct dsm_wire_page *w;
	struct dsm_out *out;

	/* this node gives its copy away or up: no store may follow */
	if (data || m->type == DSM_COH_INV_ACK) {
		dsm_pages_zap(ctx->r, ctx->index);
		dsm_replica_push(ctx, true);	/* what it wrote, first (replica.c) */
		/* the owner's page leaves (a write took it, or an upgrade) */
		if (ctx->owned && (m->type == DSM_COH_GRANT || m->type == DSM_COH_INV_ACK))
			dsm_replica_give(ctx, m->requester);
	}
	out = dsm_out_alloc(len);
	w = (struct dsm_wire_page *)out->payload;
	w->key = cpu_to_le64(ctx->r->key);
	w->npages = cpu_to_le64(ctx->r->npages);
	w->homes = cpu_to_le64(ctx->r->homes);
	w->lost = cpu_to_le64(READ_ONCE(ctx->r->lost));
	w->index = cpu_to_le64(ctx->index);
	w->type = m->type;
	w->with_data = m->with_data;
	w->flags = m->speculative ? DSM_WIRE_PAGE_SPECULATIVE : 0;
	w->copies = ctx->r->copies;
	w->requester = cpu_to_le32(m->requester);
	w->txn = cpu_to_le64(m->txn);
	/* the data's version moves with it; a report's is its replica's */
	w->version = cpu_to_le64(data ? ctx->cp->node.value : m->value);
	if ((m->type == DSM_COH_REQ_READ || m->type == DSM_COH_REQ_WRITE) &&
	    m->requester == from) {
		/* this node's request (or its resend): one token per request */
		if (!ctx->cp->txn)
			ctx->cp->txn = get_random_u64() | 1;
		w->txn = cpu_to_le64(ctx->cp->txn);
	}
	if (data)
		memcpy_from_page((u8 *)(w + 1), ctx->cp->page, 0, PAGE_SIZE);
	if (m->type == DSM_COH_INV)
		dsm_stat_inc(DSM_STAT_INV_SENT);
	dsm_pages_queue_out(to, out, len, data, to != from, &ctx->dirty);
}

/* The home notes that the page's owner was given write access now. */
static void dsm_pages_written(struct dsm_cpage *cp)
{
	cp->written = jiffies ?: 1;
}

/*
 * The home's policy for a read-ahead of a page its owner holds exclusively:
 * declined while the owner was given write access lately (it is likely
 * still writing: taking a copy would cost it an upgrade, and the copy
 * would be invalidated unused), served once the page has been left alone
 * that long (a cold page written once and now read, as a stream).
 */
static bool dsm_pages_spare(struct dsm_coh_env *env, const struct dsm_coh_dir *dir,
			    const struct dsm_coh_msg *m)
{
	struct dsm_pages_ctx *ctx = env->ctx;
	unsigned long written = ctx->cp->written;

	return written && time_before(jiffies, written +
				      msecs_to_jiffies(READ_ONCE(dsm_prefetch_spare_ms)));
}

void dsm_pages_ctx_init(struct dsm_pages_ctx *ctx, struct dsm_region *r,
			struct dsm_cpage *cp, pgoff_t index)
{
	ctx->env.send = dsm_pages_send;
	ctx->env.spare = dsm_pages_spare;
	ctx->env.revive = dsm_census_revive;
	ctx->env.confirm = r->copies;	/* (revive makes a page again) */
	ctx->env.ctx = ctx;
	ctx->r = r;
	ctx->cp = cp;
	ctx->index = index;
	ctx->dirty = 0;
	ctx->owned = false;
}

static void dsm_pages_keep(struct list_head *list, const struct dsm_coh_msg *m)
{
	struct dsm_kept *k = kmalloc(sizeof(*k), GFP_KERNEL | __GFP_NOFAIL);

	k->m = *m;
	list_add_tail(&k->node, list);
}

/* Take @k (may be NULL) off its list into @m. Return: false for NULL. */
static bool dsm_pages_take(struct dsm_kept *k, struct dsm_coh_msg *m)
{
	if (!k)
		return false;
	*m = k->m;
	list_del(&k->node);
	kfree(k);
	return true;
}

bool dsm_pages_unkeep(struct list_head *list, struct dsm_coh_msg *m)
{
	return dsm_pages_take(list_first_entry_or_null(list, struct dsm_kept, node), m);
}

/* Forget the messages kept for later transactions: those ended otherwise. */
void dsm_pages_drop_kept(struct dsm_cpage *cp)
{
	struct dsm_coh_msg m;

	while (dsm_pages_unkeep(&cp->kept, &m))
		;
}

/*
 * The next queued request to serve: a leaving home serves only its own; a
 * home of a frozen region no write request (freeze.c).
 */
static bool dsm_pages_next_request(struct dsm_pages_ctx *ctx, struct dsm_coh_msg *m)
{
	struct dsm_cpage *cp = ctx->cp;
	bool frozen = dsm_freeze_holds(ctx->r->key);
	struct dsm_kept *k;

	if (!cp->leaving && !frozen)
		return dsm_pages_unkeep(&cp->queued, m);
	list_for_each_entry(k, &cp->queued, node) {
		if (cp->leaving && k->m.requester != dsm_self_id())
			continue;
		if (frozen && k->m.type == DSM_COH_REQ_WRITE)
			continue;	/* until the thaw */
		return dsm_pages_take(k, m);
	}
	return false;
}

void dsm_pages_send_type(struct dsm_pages_ctx *ctx, u32 to, u8 type,
			 u32 requester)
{
	struct dsm_coh_msg m = {
		.type = type,
		.from = dsm_self_id(),
		.requester = requester,
	};

	dsm_pages_send(&ctx->env, m.from, to, &m);
}

/* Serve the queued requests while the directory is free. */
int dsm_pages_dir_drain(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	struct dsm_coh_msg m;
	bool moved;
	int err = 0;

	/*
	 * A fenced node grants nothing (fence.c): they wait for the lease; an
	 * entry a census rebuilds is not complete yet (census.c).
	 */
	while (!err && !cp->dir.busy && !cp->census && !dsm_net_fenced() &&
	       dsm_pages_next_request(ctx, &m)) {
		if (m.requester == self &&
		    (m.type != cp->node.pending || m.txn != cp->txn))
			continue;	/* answered meanwhile (a handover, a revive) */
		if (m.type == DSM_PAGE_REPORT) {
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);	/* no census */
			continue;
		}
		if (m.type == DSM_COH_REQ_READ && m.requester == cp->dir.owner &&
		    !cp->dir.orphan) {
			/*
			 * A replica made the reader's copy the owner's
			 * (census.c) while its read was on its way: declined,
			 * it reads its own.
			 */
			m.type = DSM_COH_DECLINE;
			m.from = self;
			ctx->env.send(&ctx->env, self, m.requester, &m);
			continue;
		}
		if (cp->dir.orphan) {
			/* its only up-to-date copy died with its owner */
			dsm_pages_send_type(ctx, m.requester, DSM_COH_FAIL, m.requester);
			continue;
		}
		dsm_stat_inc(DSM_STAT_REQUESTS_SERVED);
		trace_dsm_request(ctx->r->key, ctx->index, m.type, m.requester,
				  cp->dir.owner);
		moved = m.type == DSM_COH_REQ_WRITE && m.requester != cp->dir.owner;
		if (m.type == DSM_COH_REQ_WRITE)
			dsm_pages_written(cp);
		err = dsm_coh_dir_receive(&ctx->env, &cp->dir, cp->home, &m);
		if (err)
			break;
		WRITE_ONCE(cp->askers, cp->askers | BIT_ULL(m.requester % 64));
		if (moved)
			WRITE_ONCE(cp->moves, cp->moves + 1);
	}
	return err;
}

static bool dsm_pages_dir_msg(u8 type)
{
	return type == DSM_COH_REQ_READ || type == DSM_COH_REQ_WRITE ||
	       type == DSM_COH_INV_ACK || type == DSM_COH_CONFIRM ||
	       type == DSM_PAGE_REPORT;
}

/*
 * The request in flight ends without a grant: answered by a handover, or
 * failed by the home. Its waiters wake; nobody waits for the page any more.
 */
void dsm_pages_end_request(struct dsm_cpage *cp, bool failed)
{
	cp->node.pending = 0;
	cp->txn = 0;
	cp->speculative = false;
	cp->failed = failed;
	cp->waiters = false;
	wake_up_all(&dsm_pages_wq);
}

/*
 * A leaving home hands us the page's entry: we own it, nobody else holds
 * it; or, without @data, its data is lost (it died with its owner): every
 * request fails here as it did there.
 */
static void dsm_pages_take_over(struct dsm_pages_ctx *ctx, const void *data)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();

	dsm_cpage_set_home(cp, self);
	cp->handed = false;
	cp->leaving = false;
	dsm_coh_dir_init(&cp->dir, self);
	if (data) {
		memcpy_to_page(cp->page, 0, data, PAGE_SIZE);
		xa_clear_mark(&ctx->r->pages, ctx->index, DSM_PAGE_DIRTY);
		dsm_stat_inc(DSM_STAT_PAGES_RECEIVED);
		cp->node.state = DSM_COH_EXCLUSIVE;
		cp->node.owner = true;
	} else {
		cp->dir.orphan = true;
		cp->node.owner = false;
		if (cp->node.state == DSM_COH_EXCLUSIVE) {	/* not with an orphan */
			cp->node.state = DSM_COH_INVALID;
			dsm_pages_zap(ctx->r, ctx->index);
		}
	}
	dsm_pages_drop_kept(cp);	/* about the old home's transactions, all done */
	if (cp->node.pending)
		dsm_pages_end_request(cp, !data);
}

/*
 * Queue a request for the directory. A node has at most one request per
 * page in flight, and reports its copy to a census once: a second one
 * from the same requester while the first waits is a broken or hostile
 * peer, which would grow the queue without bound. Return: 0 or -EPROTO.
 */
int dsm_pages_queue(struct dsm_cpage *cp, const struct dsm_coh_msg *m)
{
	bool report = m->type == DSM_PAGE_REPORT, kept_report;
	struct dsm_kept *k;

	list_for_each_entry(k, &cp->queued, node) {
		kept_report = k->m.type == DSM_PAGE_REPORT;
		if (k->m.requester == m->requester && kept_report == report)
			return -EPROTO;
	}
	dsm_pages_keep(&cp->queued, m);
	return 0;
}

/*
 * Messages a node keeps for later transactions of the home, at most: a
 * forward or an invalidation per other node is all a correct home sends
 * while this node's own request completes.
 */
#define DSM_KEPT_MAX	(2 * DSM_MAX_NODES)

static int dsm_pages_keep_later(struct dsm_cpage *cp, const struct dsm_coh_msg *m)
{
	struct dsm_kept *k;
	u32 n = 0;

	list_for_each_entry(k, &cp->kept, node)
		if (++n >= DSM_KEPT_MAX)
			return -EPROTO;
	dsm_pages_keep(&cp->kept, m);
	return 0;
}

/*
 * A directory message for a page this node is not the home of, or is
 * handing over while it leaves (@moved). A leaver never passes a request
 * on: its outbox, or the link to the new home, may be gone before the
 * message is through; the requester sends it again to the new home once it
 * learns of the leave (dsm_pages_node_left). A request for a page of a
 * leaving home, from a node that applied the leave before this node (see
 * dsm_pages_behind), waits in @queued until this node is the home too;
 * so does a request or report of a node that moved the page off a lost
 * home (its home set, @homes, no longer names it) before this node did
 * (census.c). An ack for an invalidation sent before a handover is
 * dropped. Return: 0, or -EPROTO for what no race explains.
 */
static int dsm_pages_not_home(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m,
			      u64 epoch, u64 homes, bool moved)
{
	struct dsm_cpage *cp = ctx->cp;

	if (m->type == DSM_COH_INV_ACK)
		return cp->handed ? 0 : -EPROTO;
	if (m->type == DSM_COH_CONFIRM) {	/* late, for a home handed or lost */
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}
	if (moved || cp->handed) {
		dsm_stat_inc(DSM_STAT_REQUESTS_MOVED);
		return 0;
	}
	if (cp->home == m->from)
		return -EPROTO;	/* a home asks nobody else for its pages */
	if (m->type != DSM_PAGE_YIELD &&
	    (dsm_pages_behind(epoch, cp->home) ||
	     (!(homes & dsm_node_bit(cp->home)) && dsm_census_open_for(cp->home)))) {
		dsm_stat_inc(DSM_STAT_REQUESTS_DEFERRED);
		return dsm_pages_queue(cp, m);
	}
	/* a yield is repeated to the right home; a request, no race explains */
	dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
	return 0;
}

/* Messages that take this node's copy away, or its write access. */
static bool dsm_pages_takes_away(u8 type)
{
	return type == DSM_COH_FWD_READ || type == DSM_COH_FWD_WRITE ||
	       type == DSM_COH_INV;
}

/*
 * Read-ahead accuracy, per region: a page read ahead that an access then
 * uses (DSM_STAT_PREFETCH_USED) widens the region's window by a page; one
 * invalidated unused (_WASTED) or declined by its home (_DECLINED) halves
 * it. So the window grows while read-ahead pays and shrinks to nothing
 * when it steals or wastes. Updates of two pages at once may lose one: the
 * window is a hint.
 */
static void dsm_pages_prefetch_count(struct dsm_region *r, enum dsm_stat what)
{
	int w = READ_ONCE(r->ra_window);

	dsm_stat_inc(what);
	WRITE_ONCE(r->ra_window, what == DSM_STAT_PREFETCH_USED ?
				 min(w + 1, DSM_READAHEAD) : w / 2);
}

/* An access maps the page (locked): a copy read ahead for it was used. */
static void dsm_pages_prefetch_hit(struct dsm_region *r, struct dsm_cpage *cp)
{
	if (cp->prefetched) {
		cp->prefetched = false;
		dsm_pages_prefetch_count(r, DSM_STAT_PREFETCH_USED);
	}
}

/* Can a read of the page (locked) be served from this node's copy? */
static bool dsm_pages_readable(const struct dsm_cpage *cp)
{
	return cp->node.state != DSM_COH_INVALID &&
	       cp->node.pending != DSM_COH_REQ_WRITE;
}

/**
 * dsm_pages_copy_gone() - this node's copy of the page was just invalidated
 * @r:  the region
 * @cp: the page, locked
 *
 * A copy that came by read-ahead and was never used was wasted; sleepers
 * of DSM_IOC_WAIT on the page wake (they compare under the page lock, and
 * this runs under it: none is missed).
 */
void dsm_pages_copy_gone(struct dsm_region *r, struct dsm_cpage *cp)
{
	if (cp->prefetched) {
		cp->prefetched = false;
		dsm_pages_prefetch_count(r, DSM_STAT_PREFETCH_WASTED);
	}
	WRITE_ONCE(cp->changes, cp->changes + 1);
	smp_mb();	/* the count, then the check for sleepers */
	wake_up_var(&cp->changes);	/* keyed: the hashed queue is shared */
}

/*
 * A message for this node's side of the page, through the state machine;
 * a copy it invalidates is noted (dsm_pages_copy_gone).
 */
static int dsm_pages_node_receive(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m)
{
	struct dsm_cpage *cp = ctx->cp;
	bool valid = cp->node.state != DSM_COH_INVALID;
	int err;

	/*
	 * The home's forward of a write to its own copy, once it no longer
	 * waits for that write's confirmation (protocol.h: its requester was
	 * lost meanwhile, and the home kept the page): the page stays here.
	 */
	if (m->type == DSM_COH_FWD_WRITE && ctx->env.confirm && cp->home == dsm_self_id() &&
	    m->from == cp->home && !(cp->dir.busy && cp->dir.cur.requester == m->requester &&
				     cp->dir.cur.txn == m->txn)) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}

	ctx->owned = valid && cp->node.owner;	/* (dsm_pages_send) */
	err = dsm_coh_node_receive(&ctx->env, &cp->node, dsm_self_id(), cp->home, m);
	ctx->owned = false;
	if (valid && cp->node.state == DSM_COH_INVALID)
		dsm_pages_copy_gone(ctx->r, cp);
	return err;
}

/*
 * Feed the messages kept for later transactions again, in order, up to the
 * first that must still wait. One that no longer fits (the page's state
 * changed meanwhile, e.g. its home was lost) is dropped and counted: it is
 * not from the link whose message runs this.
 */
static void dsm_pages_replay(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	struct dsm_kept *k;
	int err;

	while ((k = list_first_entry_or_null(&cp->kept, struct dsm_kept, node))) {
		err = dsm_pages_node_receive(ctx, &k->m);
		if (err == DSM_COH_KEEP)
			return;
		if (err) {
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
			pr_warn_ratelimited("region %#llx page %lu: kept message %u from node %u no longer fits: dropped\n",
					    ctx->r->key, ctx->index, k->m.type, k->m.from);
		}
		list_del(&k->node);
		kfree(k);
	}
}

/**
 * dsm_pages_take_home() - the home takes its page back, exclusively (a write
 * "fault" of its own), unless it has it or asked already
 * @ctx: the page, locked; this node is its home
 */
void dsm_pages_take_home(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();

	if (cp->node.state != DSM_COH_EXCLUSIVE && !cp->node.pending) {
		dsm_coh_fault(&ctx->env, &cp->node, self, self, true);
		cp->req_time = jiffies;
	}
}

/* The home declined our read-ahead: a writer has the page. */
static int dsm_pages_declined(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m)
{
	struct dsm_cpage *cp = ctx->cp;
	int err;

	if (!cp->speculative && (!cp->node.pending || m->txn != cp->txn)) {
		/* it answers a read-ahead we since sent again to a new home */
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}
	err = dsm_pages_node_receive(ctx, m);
	if (err)
		return err;
	if (cp->speculative)
		dsm_pages_prefetch_count(ctx->r, DSM_STAT_PREFETCH_DECLINED);
	cp->speculative = false;
	cp->txn = 0;
	if (cp->node.state != DSM_COH_INVALID) {
		/* its copy became the owner's meanwhile (census.c): use it */
		cp->waiters = false;
		wake_up_all(&dsm_pages_wq);
	} else if (cp->waiters) {	/* a fault joined it meanwhile: ask in earnest */
		dsm_coh_fault(&ctx->env, &cp->node, dsm_self_id(), cp->home, false);
		cp->req_time = jiffies;
	} else {
		dsm_pages_replay(ctx);	/* nothing can be kept: dropped if so */
	}
	return 0;
}

/*
 * Who may send what; a member that breaks these roles is broken or hostile.
 * DATA, GRANT, FAIL and DECLINE answer this node's own request; forwards
 * and invalidations serve another node's. Forwards, invalidations, FAIL,
 * DECLINE and a grant without data come only from the page's home, as
 * this node names it. DATA and a grant with data may come from the owner,
 * which only the home knows: from any node but the home they must carry
 * the token of the request waiting here, which only the home and the
 * owner it forwarded to have seen. During a leave two races are allowed: this
 * node still names the leaver while its successor already serves the page
 * (taken), or a late message of a leaver this node no longer names
 * (dropped and counted). Return: 0 to take @m, 1 if dropped, -EPROTO.
 */
static int dsm_pages_check_role(const struct dsm_cpage *cp, const struct dsm_coh_msg *m)
{
	bool answer = m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT ||
		      m->type == DSM_COH_FAIL || m->type == DSM_COH_DECLINE ||
		      m->type == DSM_PAGE_OWN;
	bool ours = m->requester == dsm_self_id();

	/*
	 * A query from the home as this node names it (itself, too: census.c).
	 * Unlike the messages below, not one from a leaver's successor while
	 * this node still names the leaver: a home asks only the nodes of its
	 * copyset, and a new home's copyset holds only nodes that name it.
	 */
	if (m->type == DSM_PAGE_QUERY) {
		if (m->from == cp->home)
			return 0;
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);	/* the page moved since */
		return 1;
	}
	if (answer != ours || (m->type == DSM_PAGE_OWN && m->from != cp->home))
		return -EPROTO;
	/*
	 * Data and grants echo the request's token, also from the home: one
	 * may still come for a request asked since of a lost home's successor
	 */
	if (m->type == DSM_COH_DATA || m->type == DSM_COH_GRANT) {
		if (cp->node.pending && m->txn == cp->txn) {
			if (m->from == cp->home || m->type == DSM_COH_DATA || m->with_data)
				return 0;
		} else if (dsm_census_late_answer(cp, m->txn)) {
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
			return 1;
		} else if (m->from != cp->home) {
			return -EPROTO;
		}
	}
	if (m->from == cp->home)
		return 0;
	if (dsm_pages_home_leaving(cp->home))
		return 0;
	/* late from a leaver: its leave may be applied here (flag cleared) */
	if (dsm_pages_home_leaving(m->from) || dsm_regions_node_gone(m->from)) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 1;
	}
	return -EPROTO;
}

/*
 * A peer's request this node has no memory for: the page is new here and
 * the memory cap is reached, or the region is new here and the peers'
 * share of the region table is full. Answered FAIL (why: no memory),
 * built from the request itself, without allocating a page or a region:
 * the requester's fault gets SIGBUS, its read-ahead is forgotten.
 */
static void dsm_pages_refuse(const struct dsm_wire_page *req, u32 to, u64 *dirty,
			     const char *why)
{
	struct dsm_out *out = dsm_out_alloc(sizeof(*req));
	struct dsm_wire_page *w = (struct dsm_wire_page *)out->payload;

	pr_warn_ratelimited("region %#llx page %llu: node %u's request refused, %s\n",
			    le64_to_cpu(req->key), le64_to_cpu(req->index), to, why);
	*w = *req;
	w->type = DSM_COH_FAIL;
	w->with_data = 0;
	w->flags = 0;
	w->version = cpu_to_le64(DSM_WIRE_FAIL_NO_MEMORY);
	dsm_pages_queue_out(to, out, sizeof(*w), false, true, dirty);
}

/*
 * One message for this page, under its lock; @epoch and @homes are the
 * sender's. Return: 0 or -EPROTO.
 */
static int dsm_pages_feed(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m,
			  const void *data, u64 epoch, u64 homes)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	u8 was = cp->node.pending;
	bool moved = false;
	int err;

	if (dsm_pages_dir_msg(m->type) || m->type == DSM_PAGE_YIELD) {
		if (cp->home == self && !cp->handed)
			moved = dsm_pages_leaving_page(ctx);	/* if this node leaves */
		if (cp->home != self || moved)
			return dsm_pages_not_home(ctx, m, epoch, homes, moved);
		if (m->type == DSM_PAGE_REPORT)
			return dsm_census_report(ctx, m);
		if (m->type == DSM_PAGE_YIELD) {
			if (cp->dir.owner == m->from)
				dsm_pages_take_home(ctx);
			else	/* it moved since: the leaver yields again if need be */
				dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
			return 0;
		}
		if (m->type == DSM_COH_CONFIRM &&
		    !(cp->dir.busy && (cp->dir.waiting & dsm_node_bit(m->from)) &&
		      m->requester == cp->dir.cur.requester && m->txn == cp->dir.cur.txn)) {
			/* late: the home gave the write up (a node was lost) */
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
			return 0;
		}
		if (m->type == DSM_COH_INV_ACK || m->type == DSM_COH_CONFIRM) {
			/* an ack is for the write being served, nothing else */
			if (!cp->dir.busy || m->requester != cp->dir.cur.requester)
				return -EPROTO;
			err = dsm_coh_dir_receive(&ctx->env, &cp->dir, self, m);
			if (err)
				return err;
		} else {
			err = dsm_pages_queue(cp, m);	/* served in order */
			if (err)
				return err;
		}
		return dsm_pages_dir_drain(ctx);
	}

	if (!dsm_pages_is_handover(m->type)) {
		err = dsm_pages_check_role(cp, m);
		if (err)
			return err < 0 ? err : 0;
	}
	switch (m->type) {
	case DSM_COH_FAIL:
		if (!was) {
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);	/* asked nothing */
		} else if (m->value == DSM_WIRE_FAIL_NO_MEMORY) {
			/*
			 * The home's cap (it echoes the request's token): a
			 * fault fails, a read-ahead is forgotten.
			 */
			bool waited = cp->waiters;

			if (m->txn != cp->txn) {	/* not for this request */
				dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
				return 0;
			}
			dsm_pages_end_request(cp, waited);
			if (waited) {
				cp->failed = DSM_CPAGE_NO_MEMORY;
				cp->req_time = jiffies;	/* for a fault in time */
			}
		} else {
			dsm_pages_end_request(cp, true);
		}
		return 0;
	case DSM_PAGE_HANDOVER:
	case DSM_PAGE_HANDOVER_LOST:
		if (cp->home == self && !cp->handed) {
			/* the entry here is the live one: no race explains it */
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
			return 0;
		}
		if (data)
			cp->node.value = m->value;	/* its version */
		dsm_pages_take_over(ctx, data);
		return dsm_pages_dir_drain(ctx);	/* requests kept meanwhile */
	case DSM_COH_DECLINE:
		return dsm_pages_declined(ctx, m);
	case DSM_PAGE_OWN:
		return dsm_census_own(ctx, m);
	case DSM_PAGE_QUERY:
		dsm_census_query(ctx, m);
		return 0;
	case DSM_COH_INV:
		dsm_stat_inc(DSM_STAT_INV_RECEIVED);
		trace_dsm_invalidate(ctx->r->key, ctx->index, m->from, m->requester);
		break;
	}
	/* the data is wanted only by a request waiting for it */
	if (data && ((m->type == DSM_COH_DATA && was == DSM_COH_REQ_READ) ||
		     (m->type == DSM_COH_GRANT && was == DSM_COH_REQ_WRITE &&
		      cp->node.state == DSM_COH_INVALID))) {
		memcpy_to_page(cp->page, 0, data, PAGE_SIZE);
		/* (a mark left on a copy dropped without a push is stale) */
		xa_clear_mark(&ctx->r->pages, ctx->index, DSM_PAGE_DIRTY);
		dsm_stat_inc(DSM_STAT_PAGES_RECEIVED);
	}
	/* after the messages kept before it, in order */
	if (!list_empty(&cp->kept) && dsm_pages_takes_away(m->type))
		err = DSM_COH_KEEP;
	else
		err = dsm_pages_node_receive(ctx, m);
	if (err == DSM_COH_KEEP)
		err = dsm_pages_keep_later(cp, m);
	if (was && !cp->node.pending) {
		cp->prefetched = cp->speculative && !cp->waiters;
		cp->speculative = false;
		cp->txn = 0;
		/*
		 * Let a waiting fault use the page before others take it:
		 * what was kept for later transactions waits for the hold.
		 */
		if (cp->waiters) {
			WRITE_ONCE(cp->hold_until, ktime_get_ns() +
				   (dsm_inject_hold_ms ?
				    (u64)dsm_inject_hold_ms * NSEC_PER_MSEC : DSM_HOLD_NS));
			cp->hold_write = was == DSM_COH_REQ_WRITE;
			cp->waiters = false;
		}
		trace_dsm_grant(ctx->r->key, ctx->index, m->from,
				was == DSM_COH_REQ_WRITE, !!data,
				jiffies_to_usecs(jiffies - cp->req_time));
		cp->failed = false;
		wake_up_all(&dsm_pages_wq);
	}
	if (!err && !cp->hold_until)
		dsm_pages_replay(ctx);
	return err;
}

/*
 * Wait, page locked, until the page's hold ends (it may be shortened
 * meanwhile, never extended), then end it. Like a short network delay on
 * the link the message came by: the order of messages is kept.
 */
static void dsm_pages_wait_hold(struct dsm_cpage *cp)
{
	u64 end = cp->hold_until, seen, now;

	while ((seen = min(READ_ONCE(cp->hold_until), end)) > (now = ktime_get_ns())) {
		unlock_page(cp->page);
		wait_event_hrtimeout(dsm_pages_wq, READ_ONCE(cp->hold_until) < seen,
				     ns_to_ktime(seen - now));
		lock_page(cp->page);
	}
	WRITE_ONCE(cp->hold_until, 0);
}

/* The held page was mapped for the access its grant was for. */
static void dsm_pages_hold_used(struct dsm_cpage *cp)
{
	u64 end = ktime_get_ns() + DSM_HOLD_GRACE_NS;

	if (end < cp->hold_until) {
		WRITE_ONCE(cp->hold_until, end);
		wake_up_all(&dsm_pages_wq);
	}
}

/* Can a request for the page be answered? (its home is us, or reachable) */
static bool dsm_pages_home_reachable(const struct dsm_cpage *cp)
{
	return cp->home == dsm_self_id() || !dsm_node_gone(cp->home);
}

/*
 * A handover comes from one of the region's homes: a leaver's home set
 * shrinks here only once its handovers are in. When every home the region
 * has here is leaving, its set grows to the other members (see
 * dsm_pages_homes_without()), and one that applied that leave first may
 * already hand pages on.
 */
static bool dsm_pages_may_hand_over(struct dsm_region *r, u32 from)
{
	u64 homes = READ_ONCE(r->homes);
	u32 id;

	if (homes & dsm_node_bit(from))
		return true;
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if ((homes & dsm_node_bit(id)) && !dsm_pages_home_leaving(id))
			return false;
	return dsm_members_has(from);
}

/* A copy as a report names it: shared, or exclusive and the owner's. */
static bool dsm_pages_report_copy_ok(u64 copy)
{
	return !(copy & ~(u64)(DSM_WIRE_REPORT_STATE | DSM_WIRE_REPORT_OWNER)) &&
	       ((copy & DSM_WIRE_REPORT_STATE) == DSM_COH_SHARED ||
		copy == (DSM_COH_EXCLUSIVE | DSM_WIRE_REPORT_OWNER));
}

/*
 * A census report names a copy, a replica (with its version), or both;
 * an answer to QUERY (SETTLE) a copy, or nothing, or a read in flight
 * (PENDING, with its token).
 */
static bool dsm_pages_report_ok(u64 txn, u64 version)
{
	u64 copy;

	if (txn & DSM_WIRE_REPORT_SETTLE) {
		copy = txn & ~(u64)DSM_WIRE_REPORT_SETTLE;
		if (copy == DSM_WIRE_REPORT_PENDING ||	/* a token is odd */
		    copy == (DSM_WIRE_REPORT_PENDING | DSM_WIRE_REPORT_ACKED))
			return version & 1;
		return !version && (!copy || dsm_pages_report_copy_ok(copy));
	}
	copy = txn & ~(u64)DSM_WIRE_REPORT_REPLICA;
	if (!(txn & DSM_WIRE_REPORT_REPLICA) != !version)
		return false;
	if (!copy)
		return version;
	return dsm_pages_report_copy_ok(copy);
}

/* A coherence message; Return: 0, or -EPROTO to close the link over. */
static int dsm_pages_receive(u32 from, u64 epoch, const void *payload, size_t len,
			     u64 *dirty)
{
	const struct dsm_wire_page *w = payload;
	struct dsm_pages_ctx ctx;
	struct dsm_coh_msg m = {};
	struct dsm_region *r;
	struct dsm_cpage *cp;
	bool data, request, ask, homed;
	u64 index;
	int err;

	if (len < sizeof(*w) || w->with_data > 1 || w->copies > DSM_COPIES_MAX ||
	    (w->with_data && w->type != DSM_COH_GRANT) ||
	    (w->flags && (w->flags != DSM_WIRE_PAGE_SPECULATIVE ||
			  w->type != DSM_COH_REQ_READ)))
		return -EPROTO;
	if ((w->type < DSM_COH_REQ_READ || w->type > DSM_COH_CONFIRM) &&
	    w->type != DSM_COH_FAIL && w->type != DSM_PAGE_YIELD &&
	    w->type != DSM_PAGE_REPORT && w->type != DSM_PAGE_OWN &&
	    w->type != DSM_PAGE_QUERY &&
	    !dsm_pages_is_handover(w->type))
		return -EPROTO;
	if (le64_to_cpu(w->lost) & le64_to_cpu(w->homes))
		return -EPROTO;	/* a lost node is no home */
	data = dsm_pages_has_data(w->type, w->with_data);
	if (len != sizeof(*w) + (data ? PAGE_SIZE : 0))
		return -EPROTO;
	if (unlikely(READ_ONCE(dsm_inject_request_delay_ms)) && from != dsm_self_id() &&
	    (w->type == DSM_COH_REQ_READ || w->type == DSM_COH_REQ_WRITE))
		msleep(xchg(&dsm_inject_request_delay_ms, 0));
	m.type = w->type;
	m.from = from;
	m.requester = le32_to_cpu(w->requester);
	m.with_data = w->with_data;
	m.speculative = w->flags & DSM_WIRE_PAGE_SPECULATIVE;
	m.txn = le64_to_cpu(w->txn);
	m.value = le64_to_cpu(w->version);
	if (!m.requester || m.requester > DSM_MAX_NODES)
		return -EPROTO;
	/* nobody passes requests on: they come from their requester */
	if ((m.type == DSM_COH_REQ_READ || m.type == DSM_COH_REQ_WRITE ||
	     m.type == DSM_COH_CONFIRM ||
	     m.type == DSM_PAGE_YIELD || m.type == DSM_PAGE_REPORT ||
	     dsm_pages_is_handover(m.type)) && m.requester != from)
		return -EPROTO;
	/*
	 * A report names a copy (shared, or exclusive and the owner's), a
	 * replica (its version), or both.
	 */
	if (m.type == DSM_PAGE_REPORT && !dsm_pages_report_ok(m.txn, m.value))
		return -EPROTO;
	if (m.type == DSM_PAGE_OWN && m.txn & ~(u64)DSM_WIRE_OWN_REPLICA)
		return -EPROTO;
	/* a query names a lost owner: neither its sender nor this node */
	if (m.type == DSM_PAGE_QUERY &&
	    (m.requester != from || !m.txn || m.txn > DSM_MAX_NODES ||
	     m.txn == from || m.txn == dsm_self_id()))
		return -EPROTO;
	index = le64_to_cpu(w->index);
	if (index >= le64_to_cpu(w->npages))
		return -EPROTO;
	/*
	 * Only a leaving node yields pages or hands them over: it announced
	 * its leave (LEAVING, on the same link, before either); a handover
	 * comes from one of the region's homes (below). Which pages it hands
	 * to whom is not checked against the table: a leaver that took pages
	 * over from another leaver (two leaves at once) hands them on by a
	 * table the message's home set does not explain (the CI run of
	 * 3262f81 closed such a link on the debug kernel, and the leave failed).
	 */
	if ((m.type == DSM_PAGE_YIELD || dsm_pages_is_handover(m.type)) &&
	    !dsm_pages_home_leaving(from))
		return -EPROTO;
	/* (before a region is made for it: its own home set names it) */
	if (dsm_pages_is_handover(m.type) && !(le64_to_cpu(w->homes) & dsm_node_bit(from)))
		return -EPROTO;
	/*
	 * Only a request or a census report (to the page's home, as the
	 * message's home set says) or a handover (to a new home) can be the first this node
	 * hears of a region; a request to a node that is not the home is
	 * nonsense, and anything else about a region it does not know is late
	 * traffic of a removed one, or nonsense: dropped before anything is
	 * allocated for it.
	 */
	request = m.type == DSM_COH_REQ_READ || m.type == DSM_COH_REQ_WRITE ||
		  m.type == DSM_PAGE_REPORT;
	/*
	 * A peer's request may be refused for want of memory only where this
	 * node is a settled home: a leaver passes requests on, and a lost
	 * home's successor may hold data a census report has yet to name.
	 */
	ask = m.type != DSM_PAGE_REPORT && request && from != dsm_self_id() &&
	      !dsm_pages_self_leaving() && !dsm_census_settling();
	homed = request && dsm_homes_node_of(le64_to_cpu(w->homes), le64_to_cpu(w->key),
					     index) == dsm_self_id();
	r = dsm_region_shadow(le64_to_cpu(w->key), le64_to_cpu(w->npages),
			      le64_to_cpu(w->homes), w->copies,
			      dsm_pages_is_handover(m.type) || (homed && !ask) ?
			      DSM_SHADOW_KEEP : homed ? DSM_SHADOW_ASK : DSM_SHADOW_NO,
			      epoch);
	if (PTR_ERR_OR_ZERO(r) == -ENOENT && !request) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}
	if (PTR_ERR_OR_ZERO(r) == -ENOSPC && ask) {
		dsm_pages_refuse(w, from, dirty, "the region table has no room for peers' regions");
		return 0;
	}
	if (IS_ERR(r))
		return -EPROTO;
	if (dsm_pages_is_handover(m.type) && !dsm_pages_may_hand_over(r, from)) {
		dsm_region_put(r);
		return -EPROTO;
	}
	dsm_region_learn_lost(r, le64_to_cpu(w->lost));	/* before its pages */
	if (ask && index < r->npages && dsm_pages_over_cap(r, index) &&
	    dsm_pages_home_of(r, index) == dsm_self_id()) {
		dsm_stat_inc(DSM_STAT_MEM_CAP_REFUSED);
		dsm_pages_refuse(w, from, dirty,
				 "this node's cluster region memory is at its cap (dsmctl node limit)");
		dsm_region_put(r);
		return 0;
	}
	cp = index < r->npages ? dsm_cpage_get(r, index) : ERR_PTR(-EPROTO);
	if (IS_ERR(cp)) {
		dsm_region_put(r);
		return -EPROTO;
	}
	if (from != dsm_self_id()) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_RECEIVED);
		atomic64_add(len + sizeof(struct dsm_wire_hdr),
			     &dsm_stats[DSM_STAT_BYTES_RECEIVED]);
	}
	if (unlikely(dsm_inject_forward_delay_ms) &&
	    (m.type == DSM_COH_FWD_READ || m.type == DSM_COH_FWD_WRITE))
		msleep(xchg(&dsm_inject_forward_delay_ms, 0));
	dsm_pages_ctx_init(&ctx, r, cp, index);
	lock_page(cp->page);
	if (cp->hold_until && dsm_pages_takes_away(m.type))
		dsm_pages_wait_hold(cp);
	err = dsm_pages_feed(&ctx, &m, data ? (const void *)(w + 1) : NULL, epoch,
			     le64_to_cpu(w->homes));
	if (!err && cp->hold_until && !list_empty(&cp->kept)) {
		/* a grant came after what takes it away: that waits its hold */
		dsm_pages_wait_hold(cp);
		dsm_pages_replay(&ctx);
	}
	unlock_page(cp->page);
	*dirty |= ctx.dirty;
	dsm_region_put(r);
	return err < 0 ? -EPROTO : 0;
}

/**
 * dsm_pages_on_msg() - DSM_MSG_PAGE, from a peer or this node
 * @m: the message: struct dsm_wire_page, and the page for messages with
 *     data; m->from checked by the transport
 *
 * Everything in the payload is untrusted and checked before use.
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a message to close the link over.
 */
u32 dsm_pages_on_msg(const struct dsm_net_msg *m)
{
	u64 dirty = 0;
	int err = dsm_pages_receive(m->from, m->epoch, m->payload, m->len, &dirty);

	dsm_out_try_flush(dirty);	/* a receive handler: must not wait */
	return err ? DSM_REASON_PROTOCOL : 0;
}

/**
 * dsm_pages_on_pack() - DSM_MSG_PAGES, from a peer: page messages without
 * data, each handled as a DSM_MSG_PAGE, in order
 * @m: the message
 *
 * What their handling sends is flushed once, after the last: so the
 * forwards a home makes for a pack of requests go out packed too.
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a message to close the link over
 * (the records before the bad one are handled).
 */
u32 dsm_pages_on_pack(const struct dsm_net_msg *m)
{
	const size_t rec = sizeof(struct dsm_wire_page);
	u64 dirty = 0;
	int err = m->len % rec ? -EPROTO : 0;
	size_t off;

	for (off = 0; !err && off < m->len; off += rec)
		err = dsm_pages_receive(m->from, m->epoch, m->payload + off, rec,
					&dirty);
	dsm_out_try_flush(dirty);
	return err ? DSM_REASON_PROTOCOL : 0;
}

/*
 * Read-ahead: a read fault that follows a fault on the previous page asks
 * for the next pages this node does not hold and has not asked for, up to
 * the region's window (r->ra_window) ahead of the fault, DSM_READAHEAD_STEP
 * at a time (a fault served locally holds a page lock: its messages are
 * sent by a work item). Consecutive pages have different homes (the mapping
 * table spreads them), so these are separate requests, pipelined: the
 * faults that follow find the pages arrived or in flight. The requests are
 * speculative: a home declines one for a page a writer holds (see
 * dsm_pages_spare), so read-ahead never steals a page being written. The
 * window adapts (dsm_pages_prefetch_count), up to DSM_READAHEAD: wide,
 * because under emulation a page costs ~0.1 ms of CPU at each end while a
 * round trip is ~1.5 ms (16 pages gave 4.5 MiB/s, 1024 give 30-35). Once it
 * is closed, a fault that had to ask, right after a fault on the previous
 * page, opens it a page wide again. Pages whose lock is busy are skipped.
 */
static u64 dsm_pages_readahead(struct dsm_region *r, pgoff_t index, bool hit)
{
	pgoff_t last = READ_ONCE(r->ra_last), ra_end, end, step, i;
	int win = READ_ONCE(r->ra_window);
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	u64 dirty = 0;

	if (dsm_pages_self_leaving())
		return 0;	/* nothing new while the pages are handed over */
	if (last != index)
		WRITE_ONCE(r->ra_last, index);
	if (index != last + 1) {
		WRITE_ONCE(r->ra_end, index);	/* a new run starts here */
		return 0;
	}
	if (win <= 0) {
		if (hit)
			return 0;
		win = 1;	/* a sequential run of misses: try again */
		WRITE_ONCE(r->ra_window, win);
	}
	ra_end = READ_ONCE(r->ra_end);
	if (ra_end < index || ra_end > index + DSM_READAHEAD)
		ra_end = index;
	step = min_t(pgoff_t, win, DSM_READAHEAD_STEP);
	/* on a hit, only once a step of the window is consumed */
	if (hit && index + win - step < ra_end)
		return 0;
	end = min3(index + win, ra_end + step, r->npages - 1);
	for (i = ra_end + 1; i <= end; i++) {
		if (dsm_pages_over_cap(r, i)) {
			dsm_stat_inc(DSM_STAT_MEM_CAP_REFUSED);
			break;
		}
		cp = dsm_cpage_get(r, i);
		if (IS_ERR(cp) || !trylock_page(cp->page))
			continue;
		dsm_pages_ctx_init(&ctx, r, cp, i);
		if (!cp->failed && dsm_pages_home_reachable(cp) &&
		    dsm_coh_prefetch(&ctx.env, &cp->node, self, cp->home)) {
			cp->req_time = jiffies;
			cp->speculative = true;
			dsm_stat_inc(DSM_STAT_READAHEAD);
		}
		unlock_page(cp->page);
		dirty |= ctx.dirty;
	}
	if (end > ra_end)
		WRITE_ONCE(r->ra_end, end);
	return dirty;
}

/*
 * Fault-around of our own: a read fault served from this node's copy, right
 * after a fault on the previous page, also maps the pages that follow it in
 * the VMA, up to DSM_MAP_AROUND, while this node holds them readable
 * (read-ahead brought them, typically), so a sequential reader faults once
 * per run instead of once per page; a fault that is no such run's maps
 * only its own page, and moves no read-ahead. The pages are mapped with
 * the VMA's protection, read-only (write notify): a store still goes
 * through page_mkwrite, and an invalidation unmaps them as it unmaps any
 * mapping of the page. The run ends at a page not readable here, held
 * for a waiting fault, or whose lock is busy (the faulting page's is
 * held: no waiting for a second). Each page of the run counts
 * for read-ahead as the sequential fault it saves. Measured on 2 guests,
 * a local read fault costs ~9 us a page, a remote one ~110 (R4).
 */
static void dsm_pages_map_around(struct dsm_region *r, struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address & PAGE_MASK;
	pgoff_t index = vmf->pgoff;
	struct dsm_cpage *cp;
	u64 dirty = 0;
	bool ok;
	int n, err;

	for (n = 0; n < DSM_MAP_AROUND; n++) {
		addr += PAGE_SIZE;
		index++;
		if (addr >= vma->vm_end || index >= r->npages)
			break;
		cp = xa_load(&r->pages, index);
		if (!cp || !trylock_page(cp->page))
			break;
		ok = dsm_pages_readable(cp) && !cp->hold_until && !dsm_net_fenced();
		if (ok) {
			err = vm_insert_page(vma, addr, cp->page);
			ok = !err || err == -EBUSY;	/* -EBUSY: mapped already */
			if (!err)
				dsm_stat_inc(DSM_STAT_FAULTS_AROUND);
		}
		if (ok)
			dsm_pages_prefetch_hit(r, cp);
		unlock_page(cp->page);
		if (!ok)
			break;
		dirty |= dsm_pages_readahead(r, index, true);
	}
	dsm_out_kick(dirty);
}

/* Start a request for a fault on the page, whose lock is held. */
static void dsm_pages_request(struct dsm_pages_ctx *ctx, bool write)
{
	struct dsm_cpage *cp = ctx->cp;

	dsm_coh_fault(&ctx->env, &cp->node, dsm_self_id(), cp->home, write);
	cp->req_time = jiffies;
	cp->failed = false;
	WRITE_ONCE(cp->faults, cp->faults + 1);
	dsm_stat_inc(write ? DSM_STAT_WRITE_FAULTS_REMOTE :
			     DSM_STAT_READ_FAULTS_REMOTE);
	trace_dsm_fault(ctx->r->key, ctx->index, write, DSM_TRACE_REQUEST);
}

/*
 * A fault waits for the request in flight. The time a page may take counts
 * from the first fault that waits for it, not from the request: a
 * read-ahead request may have been sent long before, and a busy home that
 * is alive is not a lost page.
 */
static void dsm_pages_add_waiter(struct dsm_region *r, struct dsm_cpage *cp)
{
	if (!cp->waiters) {
		if (cp->speculative)	/* a read-ahead in time, if not early */
			dsm_pages_prefetch_count(r, DSM_STAT_PREFETCH_USED);
		cp->waiters = true;
		cp->wait_since = jiffies;
	}
}

/* Wait for the page's request, at most until @deadline. */
static void dsm_pages_wait(struct dsm_cpage *cp, unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	if (left > 0)
		wait_event_killable_timeout(dsm_pages_wq,
					    !READ_ONCE(cp->node.pending) ||
					    READ_ONCE(cp->failed), left);
}

/*
 * Wait for this node's leave to end (or fail), or for the pages of lost
 * node @home to move, at most until @deadline.
 */
static void dsm_pages_wait_leave(u32 home, unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	if (left > 0)
		wait_event_killable_timeout(dsm_pages_wq, !dsm_pages_self_leaving() &&
					    !dsm_census_moving(home), left);
}

/* Why a request for the page cannot be sent, or NULL if it can. */
static const char *dsm_pages_cannot_ask(const struct dsm_cpage *cp)
{
	if (!dsm_members_epoch())
		return "this node is no cluster member";
	if (!dsm_pages_home_reachable(cp))
		return "its home is lost";
	return NULL;
}

/* What a fault waits out before it may ask (dsm_pages_held_wait). */
static bool dsm_pages_held(struct dsm_region *r, bool fenced)
{
	return fenced ? dsm_net_fenced() : dsm_freeze_local(r->key);
}

/*
 * A fault while this node is fenced (fence.c), once the fence has lasted
 * less than three dead timeouts, or a store while this node copies the
 * region (freeze.c): it waits for the lease, or the thaw, up to a second
 * at a time. Return: VM_FAULT_RETRY or SIGBUS, or 0 to fault again (no
 * retry allowed: it waited holding mmap_lock).
 */
static vm_fault_t dsm_pages_held_wait(struct dsm_region *r, struct vm_fault *vmf,
				      bool may_drop, bool fenced)
{
	if (fenced)
		dsm_stat_inc(DSM_STAT_FENCED_WAITS);
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	kref_get(&r->ref);	/* the VMA may go once mmap_lock is dropped */
	if (may_drop)
		release_fault_lock(vmf);
	wait_event_killable_timeout(dsm_pages_wq, !dsm_pages_held(r, fenced), HZ);
	dsm_region_put(r);
	if (may_drop)
		return VM_FAULT_RETRY;
	return fatal_signal_pending(current) ? VM_FAULT_SIGBUS : 0;
}

/**
 * dsm_pages_fault() - a fault, or page_mkwrite, on a cluster region
 * @r:       the region
 * @vmf:     the fault
 * @write:   the access is a store
 * @mkwrite: called from page_mkwrite (vmf->page is mapped read-only)
 *
 * Return: VM_FAULT_LOCKED with the page locked (and, for a fault, in
 * vmf->page with a reference); VM_FAULT_RETRY after waiting without
 * mmap_lock; VM_FAULT_NOPAGE from page_mkwrite to fault again; SIGBUS when
 * the page cannot be had; OOM.
 */
vm_fault_t dsm_pages_fault(struct dsm_region *r, struct vm_fault *vmf,
			   bool write, bool mkwrite)
{
	struct dsm_cpage *cp;
	unsigned long timeout;
	struct dsm_pages_ctx ctx;
	unsigned long deadline;
	bool may_drop, leaving, fenced;
	const char *why;
	vm_fault_t ret;

	if (dsm_pages_over_cap(r, vmf->pgoff)) {
		dsm_stat_inc(DSM_STAT_MEM_CAP_REFUSED);
		pr_warn_ratelimited("region %#llx page %lu: not fetched, this node's cluster region memory is at its cap (%u MiB, dsmctl node limit)\n",
				    r->key, vmf->pgoff, dsm_pages_mem_max());
		return VM_FAULT_SIGBUS;
	}
	cp = dsm_cpage_get(r, vmf->pgoff);
	if (IS_ERR(cp))
		return VM_FAULT_OOM;
	may_drop = (vmf->flags & FAULT_FLAG_ALLOW_RETRY) &&
		   !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
again:
	leaving = false;
	dsm_pages_ctx_init(&ctx, r, cp, vmf->pgoff);
	lock_page(cp->page);
	fenced = dsm_net_fenced();
	if (fenced || (write && dsm_freeze_local(r->key))) {
		why = "no quorum for three dead timeouts (fenced)";
		if (fenced && dsm_net_fenced_ms() > 3 * dsm_dead_timeout_ms())
			goto sigbus;
		if (mkwrite)	/* the store faults again, and waits there */
			dsm_pages_zap(r, vmf->pgoff);
		unlock_page(cp->page);
		if (mkwrite)
			return VM_FAULT_NOPAGE;
		ret = dsm_pages_held_wait(r, vmf, may_drop, fenced);
		if (ret)
			return ret;
		goto again;
	}
	dsm_pages_prefetch_hit(r, cp);
	if (write && cp->node.state == DSM_COH_EXCLUSIVE) {
		if (cp->home == dsm_self_id())
			dsm_pages_written(cp);	/* the home writes its own copy */
		dsm_replica_written(r, vmf->pgoff);	/* to push (replica.c) */
	}
	if (write ? cp->node.state == DSM_COH_EXCLUSIVE : dsm_pages_readable(cp)) {
		dsm_stat_inc(write ? DSM_STAT_WRITE_FAULTS_LOCAL :
				     DSM_STAT_READ_FAULTS_LOCAL);
		trace_dsm_fault(r->key, vmf->pgoff, write, DSM_TRACE_LOCAL);
		/*
		 * The held grant is used once the page is mapped for what it
		 * was asked for; a store's .fault is followed by page_mkwrite.
		 */
		if (cp->hold_until && (mkwrite || (!write && !cp->hold_write)))
			dsm_pages_hold_used(cp);
		if (!write) {	/* keep a sequential reader's window ahead */
			bool run = READ_ONCE(r->ra_last) + 1 == vmf->pgoff;

			dsm_out_kick(dsm_pages_readahead(r, vmf->pgoff, true));
			if (run)
				dsm_pages_map_around(r, vmf);
		}
		if (!mkwrite) {
			get_page(cp->page);
			vmf->page = cp->page;
		}
		return VM_FAULT_LOCKED;
	}
	if (mkwrite) {
		/*
		 * page_mkwrite cannot drop mmap_lock: ask for the page, and
		 * fault again without a PTE; that fault waits for the request.
		 */
		if (!cp->node.pending) {
			why = dsm_pages_cannot_ask(cp);
			if (why && !dsm_census_moving(cp->home))
				goto sigbus;
			if (why || dsm_pages_self_leaving())
				goto refault;	/* that fault waits for the move */
			dsm_pages_request(&ctx, true);
		}
		dsm_pages_add_waiter(r, cp);
refault:
		trace_dsm_fault(r->key, vmf->pgoff, write, DSM_TRACE_REFAULT);
		dsm_pages_zap(r, vmf->pgoff);
		unlock_page(cp->page);
		dsm_out_kick(ctx.dirty);	/* mmap_lock is held: no sending here */
		return VM_FAULT_NOPAGE;
	}
	/*
	 * A quorum decides on a suspect first, and the survivors then recover
	 * what it held: faults that wait on it meanwhile wait longer.
	 */
	timeout = msecs_to_jiffies(dsm_dead_timeout_ms()) *
		  (dsm_net_suspecting() || dsm_census_settling() ? 2 : 1);
	why = cp->failed == DSM_CPAGE_NO_MEMORY ?
	      "its home is at its memory cap (dsmctl node limit)" :
	      "its home answered that its data is lost";
	/* a refusal its fault did not take (killed meanwhile): ask again */
	if (cp->failed == DSM_CPAGE_NO_MEMORY && time_after(jiffies, cp->req_time + timeout))
		cp->failed = false;
	if (cp->failed && !cp->node.pending) {
		cp->failed = false;
		goto sigbus;
	}
	if (cp->node.pending) {
		why = "its home is lost";
		if (cp->failed)
			goto sigbus;
		if (cp->waiters && time_after(jiffies, cp->wait_since + timeout) &&
		    (dsm_pages_home_leaving(cp->home) || dsm_census_waits() ||
		     dsm_freeze_waits(r->key))) {
			/* answered once the leave is applied, the census is over, or the thaw */
			cp->wait_since = jiffies;
		} else if (cp->waiters && time_after(jiffies, cp->wait_since + timeout)) {
			pr_warn_ratelimited("region %#llx page %lu: no answer for %u ms (home %u, state %u, asked for %s)\n",
					    r->key, vmf->pgoff,
					    jiffies_to_msecs(jiffies - cp->wait_since),
					    cp->home, cp->node.state,
					    cp->node.pending == DSM_COH_REQ_WRITE ?
					    "write" : "read");
			why = NULL;	/* said above */
			goto sigbus;
		}
		dsm_stat_inc(DSM_STAT_FAULTS_JOINED);
		trace_dsm_fault(r->key, vmf->pgoff, write, DSM_TRACE_JOINED);
	} else {
		why = dsm_pages_cannot_ask(cp);
		if (why && !dsm_census_moving(cp->home))
			goto sigbus;
		/*
		 * This node hands its pages over: a request now would take one
		 * back as soon as it is given. Wait for the leave to end (the
		 * page is then gone) or fail (ask then). Or the page's home
		 * was lost, and its pages move to new homes (census.c): wait
		 * for that.
		 */
		leaving = why || dsm_pages_self_leaving();
		if (!leaving)
			dsm_pages_request(&ctx, write);
	}
	if (leaving) {
		deadline = jiffies + timeout;
	} else {
		dsm_pages_add_waiter(r, cp);
		deadline = cp->wait_since + timeout;
	}
	unlock_page(cp->page);
	if (!write)	/* none while this node leaves */
		ctx.dirty |= dsm_pages_readahead(r, vmf->pgoff, false);

	kref_get(&r->ref);	/* the VMA may go once mmap_lock is dropped */
	if (may_drop) {
		release_fault_lock(vmf);
		dsm_out_flush_mask(ctx.dirty);
	} else {
		dsm_out_kick(ctx.dirty);	/* no flushing under mmap_lock */
	}
	if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT)) {
		if (leaving)
			dsm_pages_wait_leave(cp->home, deadline);
		else
			dsm_pages_wait(cp, deadline);
	}
	dsm_region_put(r);
	if (may_drop || (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)) {
		dsm_stat_inc(DSM_STAT_FAULT_RETRIES);
		return VM_FAULT_RETRY;
	}
	/* no retry allowed (e.g. get_user_pages): waited holding mmap_lock */
	if (fatal_signal_pending(current))
		return VM_FAULT_SIGBUS;
	goto again;

sigbus:
	unlock_page(cp->page);
	if (why)
		pr_warn_ratelimited("region %#llx page %lu: SIGBUS: %s (home %u)\n",
				    r->key, vmf->pgoff, why, cp->home);
	dsm_stat_inc(DSM_STAT_FAULT_FAILURES);
	trace_dsm_fault(r->key, vmf->pgoff, write, DSM_TRACE_SIGBUS);
	return VM_FAULT_SIGBUS;
}

/**
 * dsm_pages_tally() - count what this node holds of a region, for dsmctl
 * @r:    the region
 * @info: its held, owned and homed counts, added to (lockless: a snapshot)
 */
void dsm_pages_tally(struct dsm_region *r, struct dsm_region_info *info)
{
	u32 self = dsm_self_id();
	struct dsm_cpage *cp;
	unsigned long index, n = 0;

	xa_for_each(&r->pages, index, cp) {
		if (!r->cluster) {
			info->held++;
			info->owned++;
			info->homed++;
		} else {
			info->held += READ_ONCE(cp->node.state) != DSM_COH_INVALID;
			info->owned += READ_ONCE(cp->node.owner);
			info->homed += READ_ONCE(cp->home) == self && !READ_ONCE(cp->handed);
		}
		if (!(++n % 1024))
			cond_resched();
	}
}

/**
 * dsm_pages_hot_next() - the next page of a region with a dsmctl hot count
 * @r:     a cluster region (a local one has none)
 * @index: where to look from; on success, the page found
 * @hot:   its counts (lockless: a snapshot)
 *
 * Return: true if a page at or after @index has a count that is not 0.
 */
bool dsm_pages_hot_next(struct dsm_region *r, unsigned long *index,
			struct dsm_page_hot *hot)
{
	struct dsm_cpage *cp;
	unsigned long n = 0;

	if (!r->cluster)
		return false;
	xa_for_each_start(&r->pages, *index, cp, *index) {
		hot->home = READ_ONCE(cp->home);
		hot->faults = READ_ONCE(cp->faults);
		hot->lost = READ_ONCE(cp->changes);
		hot->moves = READ_ONCE(cp->moves);
		hot->nodes = READ_ONCE(cp->askers);
		if (hot->faults || hot->lost || hot->moves || hot->nodes)
			return true;
		if (!(++n % 1024))
			cond_resched();
	}
	return false;
}

/**
 * dsm_pages_free() - free every page of a region being destroyed
 * @r: the region, no longer mapped or reachable
 */
void dsm_pages_free(struct dsm_region *r)
{
	struct dsm_cpage *cp;
	struct dsm_coh_msg m;
	unsigned long index;
	u64 freed = 0;

	xa_for_each(&r->pages, index, cp) {
		while (dsm_pages_unkeep(&cp->kept, &m) ||
		       dsm_pages_unkeep(&cp->queued, &m))
			;
		put_page(cp->page);
		kfree(cp);
		freed++;
		cond_resched();
	}
	xa_destroy(&r->pages);
	atomic64_sub(freed, &dsm_nr_pages);
	if (r->cluster)
		atomic64_sub(freed, &dsm_nr_cluster_pages);
}

/**
 * dsm_pages_asking() - can a request of this node about @r still reach its
 * home?
 * @r: the region, not mapped on this node (so no request starts meanwhile)
 *
 * Return: true while one may.
 */
bool dsm_pages_asking(struct dsm_region *r)
{
	unsigned long index, old = msecs_to_jiffies(dsm_dead_timeout_ms());
	struct dsm_cpage *cp;

	xa_for_each(&r->pages, index, cp) {
		/*
		 * One older than the dead timeout reached its home long ago,
		 * or its home is lost: it cannot come late; nor can one to a
		 * lost home. (Such a request is never answered: its page fails.)
		 */
		if (READ_ONCE(cp->node.pending) && !READ_ONCE(cp->failed) &&
		    dsm_pages_home_reachable(cp) &&
		    time_before(jiffies, READ_ONCE(cp->req_time) + old))
			return true;
		if (!(index % 1024))
			cond_resched();
	}
	return false;
}

/**
 * dsm_pages_unmap_region() - take every PTE of cluster region @r on this
 * node, each under its page lock: a fault that checked what it may do
 * before holds that lock until its PTE is in, so that PTE goes too
 * @r: the region
 */
void dsm_pages_unmap_region(struct dsm_region *r)
{
	struct dsm_cpage *cp;
	unsigned long index;

	xa_for_each(&r->pages, index, cp) {
		lock_page(cp->page);
		dsm_pages_zap(r, index);
		unlock_page(cp->page);
		if (!(index % 1024))
			cond_resched();
	}
}

/* A write request of this node for a page of @r is in flight. */
static bool dsm_pages_writing(struct dsm_region *r)
{
	struct dsm_cpage *cp;
	unsigned long index;

	xa_for_each(&r->pages, index, cp)
		if (READ_ONCE(cp->node.pending) == DSM_COH_REQ_WRITE &&
		    !READ_ONCE(cp->failed))
			return true;
	return false;
}

/**
 * dsm_pages_wait_writes() - wait up to @ms for this node's write requests
 * for pages of @r to end
 * @r:  the region
 * @ms: the longest wait
 *
 * Return: true if one is still in flight (or the caller was killed).
 */
bool dsm_pages_wait_writes(struct dsm_region *r, unsigned int ms)
{
	return !wait_event_killable_timeout(dsm_pages_wq, !dsm_pages_writing(r),
					    msecs_to_jiffies(ms)) ||
	       fatal_signal_pending(current);
}

/**
 * dsm_pages_wait_word() - DSM_IOC_WAIT: sleep while a word of this node's
 * copy holds @expected, until the copy is invalidated
 * @r:          the region, with a reference
 * @index:      the page
 * @offset:     the word's offset in the page, 4-byte aligned
 * @expected:   the value to sleep on
 * @timeout_ns: the longest sleep
 *
 * The word is compared under the page lock, which an invalidation takes
 * before it counts @changes: a store by another node between the caller's
 * load and this sleep is never missed.
 *
 * Return: 0 (the word differs, no valid copy is here, or it was
 * invalidated: re-read), -ETIMEDOUT, -EINTR, -ENOMEM.
 */
int dsm_pages_wait_word(struct dsm_region *r, pgoff_t index, unsigned int offset,
			u32 expected, u64 timeout_ns)
{
	struct dsm_cpage *cp;
	u32 seen, *page, value;
	long left;

	if (dsm_pages_over_cap(r, index))
		return 0;	/* the caller's load faults, and fails (counted) */
	cp = dsm_cpage_get(r, index);
	if (IS_ERR(cp))
		return PTR_ERR(cp);
	lock_page(cp->page);
	if (r->cluster && cp->node.state == DSM_COH_INVALID) {
		unlock_page(cp->page);
		return 0;	/* the caller's load fetches the page */
	}
	page = kmap_local_page(cp->page);
	value = READ_ONCE(page[offset / sizeof(u32)]);
	kunmap_local(page);
	seen = cp->changes;
	unlock_page(cp->page);
	if (value != expected)
		return 0;
	if (!timeout_ns)
		return -ETIMEDOUT;
	left = wait_event_interruptible_hrtimeout(*__var_waitqueue(&cp->changes),
						  READ_ONCE(cp->changes) != seen,
						  ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX)));
	if (left == -ERESTARTSYS)
		return -EINTR;
	return left == -ETIME ? -ETIMEDOUT : 0;
}

/**
 * dsm_pages_count() - pages held by all regions of this node
 *
 * Return: the number of pages.
 */
u64 dsm_pages_count(void)
{
	return atomic64_read(&dsm_nr_pages);
}
