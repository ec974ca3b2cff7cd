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
 *    unmaps it and returns, so that the write faults again through the
 *    path that may wait.
 *  - Before this node sends its data, or acknowledges an invalidation, it
 *    unmaps the page from every process mapping the region on this node
 *    (unmap_mapping_range on the region's mapping): no store can follow the
 *    copy, and no reader keeps a stale one.
 *  - Messages leave through the outbox (net/outbox.c): queued in order
 *    under the page lock, sent once it is dropped.
 *  - A request waits at most the dead timeout; a fault on a page whose
 *    request ran out, or whose home is gone, gets SIGBUS. When a node is
 *    lost, the pages it is home of stop being trusted here (read copies are
 *    dropped, requests fail), and the pages this node is home of forget it
 *    (dsm_coh_dir_forget), so a dead reader never blocks a writer.
 *
 * Local regions use only @page: zero-filled on first touch, never moved.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "coherence/homes.h"
#include "coherence/protocol.h"
#include "compat.h"
#include "dsm.h"
#include "net/wire.h"

static_assert(PAGE_SIZE == DSM_WIRE_PAGE_SIZE);

/**
 * struct dsm_cpage - one page of a region on this node
 * @page:     this node's copy
 * @home:     the page's home node (cluster regions)
 * @failed:   the request in flight cannot complete: its home is gone
 * @req_time: jiffies when the request in flight was sent
 * @node:     this node's protocol state
 * @dir:      the directory entry, if this node is @home
 * @kept:     messages the state machine asked to keep until our data
 * @queued:   requests waiting for the directory (home only)
 */
struct dsm_cpage {
	struct page *page;
	u32 home;
	bool failed;
	unsigned long req_time;
	struct dsm_coh_node node;
	struct dsm_coh_dir dir;
	struct list_head kept;
	struct list_head queued;
};

struct dsm_kept {
	struct list_head node;
	struct dsm_coh_msg m;
};

/* What a protocol step runs with; @dirty collects the outbox destinations. */
struct dsm_pages_ctx {
	struct dsm_coh_env env;
	struct dsm_region *r;
	struct dsm_cpage *cp;
	pgoff_t index;
	u64 dirty;
};

static DECLARE_WAIT_QUEUE_HEAD(dsm_pages_wq);
static atomic64_t dsm_nr_pages = ATOMIC64_INIT(0);

static struct dsm_cpage *dsm_cpage_get(struct dsm_region *r, pgoff_t index)
{
	struct dsm_cpage *cp, *old;
	u32 self = dsm_self_id();

	cp = xa_load(&r->pages, index);
	if (cp)
		return cp;
	cp = kzalloc(sizeof(*cp), GFP_KERNEL);
	if (!cp)
		return ERR_PTR(-ENOMEM);
	cp->page = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	if (!cp->page) {
		kfree(cp);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&cp->kept);
	INIT_LIST_HEAD(&cp->queued);
	if (r->cluster) {
		cp->home = dsm_homes_node(r->table, r->key, index);
		dsm_coh_node_init(&cp->node, cp->home == self);
		if (cp->home == self)
			dsm_coh_dir_init(&cp->dir, self);
	}
	old = xa_cmpxchg(&r->pages, index, NULL, cp, GFP_KERNEL);
	if (old) {
		/* lost a race with another fault, or out of memory */
		__free_page(cp->page);
		kfree(cp);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic64_inc(&dsm_nr_pages);
	dsm_stat_inc(DSM_STAT_ZERO_FILLS);
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
static void dsm_pages_zap(struct dsm_region *r, pgoff_t index)
{
	unmap_mapping_range(&r->mapping, (loff_t)index << PAGE_SHIFT, PAGE_SIZE, 1);
}

static void dsm_pages_send(struct dsm_coh_env *env, u32 from, u32 to,
			   const struct dsm_coh_msg *m)
{
	struct dsm_pages_ctx *ctx = env->ctx;
	bool data = m->type == DSM_COH_DATA || m->with_data;
	size_t len = sizeof(struct dsm_wire_page) + (data ? PAGE_SIZE : 0);
	struct dsm_wire_page *w;
	struct dsm_out *out;

	/* this node gives its copy away or up: no store may follow */
	if (data || m->type == DSM_COH_INV_ACK)
		dsm_pages_zap(ctx->r, ctx->index);
	out = kmalloc(sizeof(*out) + len, GFP_KERNEL | __GFP_NOFAIL);
	out->len = len;
	w = (struct dsm_wire_page *)out->payload;
	w->key = cpu_to_le64(ctx->r->key);
	w->npages = cpu_to_le64(ctx->r->npages);
	w->homes = cpu_to_le64(ctx->r->homes);
	w->index = cpu_to_le64(ctx->index);
	w->type = m->type;
	w->with_data = m->with_data;
	w->pad = 0;
	w->requester = cpu_to_le32(m->requester);
	if (data)
		memcpy_from_page((u8 *)(w + 1), ctx->cp->page, 0, PAGE_SIZE);
	if (m->type == DSM_COH_INV)
		dsm_stat_inc(DSM_STAT_INV_SENT);
	if (to != from) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_SENT);
		atomic64_add(len + sizeof(struct dsm_wire_hdr),
			     &dsm_stats[DSM_STAT_BYTES_SENT]);
		if (data)
			dsm_stat_inc(DSM_STAT_PAGES_SENT);
	}
	dsm_out_queue(to, out);
	ctx->dirty |= 1ULL << (to % 64);
}

static void dsm_pages_ctx_init(struct dsm_pages_ctx *ctx, struct dsm_region *r,
			       struct dsm_cpage *cp, pgoff_t index)
{
	ctx->env.send = dsm_pages_send;
	ctx->env.ctx = ctx;
	ctx->r = r;
	ctx->cp = cp;
	ctx->index = index;
	ctx->dirty = 0;
}

static void dsm_pages_keep(struct list_head *list, const struct dsm_coh_msg *m)
{
	struct dsm_kept *k = kmalloc(sizeof(*k), GFP_KERNEL | __GFP_NOFAIL);

	k->m = *m;
	list_add_tail(&k->node, list);
}

static bool dsm_pages_unkeep(struct list_head *list, struct dsm_coh_msg *m)
{
	struct dsm_kept *k = list_first_entry_or_null(list, struct dsm_kept, node);

	if (!k)
		return false;
	*m = k->m;
	list_del(&k->node);
	kfree(k);
	return true;
}

/* Serve the queued requests while the directory is free. */
static int dsm_pages_dir_drain(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	struct dsm_coh_msg m;
	int err = 0;

	while (!err && !cp->dir.busy && dsm_pages_unkeep(&cp->queued, &m)) {
		dsm_stat_inc(DSM_STAT_REQUESTS_SERVED);
		err = dsm_coh_dir_receive(&ctx->env, &cp->dir, cp->home, &m);
	}
	return err;
}

static bool dsm_pages_dir_msg(u8 type)
{
	return type == DSM_COH_REQ_READ || type == DSM_COH_REQ_WRITE ||
	       type == DSM_COH_INV_ACK;
}

/* One message for this page, under its lock. Return: 0 or -EPROTO. */
static int dsm_pages_feed(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m,
			  const void *data)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	u8 was = cp->node.pending;
	struct dsm_coh_msg k;
	int err;

	if (dsm_pages_dir_msg(m->type)) {
		if (cp->home != self)
			return -EPROTO;
		if (m->type == DSM_COH_INV_ACK) {
			err = dsm_coh_dir_receive(&ctx->env, &cp->dir, self, m);
			if (err)
				return err;
		} else {
			dsm_pages_keep(&cp->queued, m);	/* served in order */
		}
		return dsm_pages_dir_drain(ctx);
	}

	if (m->type == DSM_COH_INV)
		dsm_stat_inc(DSM_STAT_INV_RECEIVED);
	/* the data is wanted only by a request waiting for it */
	if (data && ((m->type == DSM_COH_DATA && was == DSM_COH_REQ_READ) ||
		     (m->type == DSM_COH_GRANT && was == DSM_COH_REQ_WRITE &&
		      cp->node.state == DSM_COH_INVALID))) {
		memcpy_to_page(cp->page, 0, data, PAGE_SIZE);
		dsm_stat_inc(DSM_STAT_PAGES_RECEIVED);
	}
	err = dsm_coh_node_receive(&ctx->env, &cp->node, self, cp->home, m);
	if (err == DSM_COH_KEEP) {
		dsm_pages_keep(&cp->kept, m);
		err = 0;
	}
	while (!err && !cp->node.pending && dsm_pages_unkeep(&cp->kept, &k))
		err = dsm_coh_node_receive(&ctx->env, &cp->node, self, cp->home, &k);
	if (was && !cp->node.pending) {
		cp->failed = false;
		wake_up_all(&dsm_pages_wq);
	}
	return err;
}

/**
 * dsm_pages_receive() - a coherence message, from a peer or this node
 * @from:    the sender (checked by the transport)
 * @payload: struct dsm_wire_page, and the page for messages with data
 * @len:     payload length (at most DSM_WIRE_MAX_PAYLOAD)
 *
 * Everything in @payload is untrusted and checked before use.
 *
 * Return: 0, or -EPROTO for a message to close the link over.
 */
int dsm_pages_receive(u32 from, const void *payload, size_t len)
{
	const struct dsm_wire_page *w = payload;
	struct dsm_pages_ctx ctx;
	struct dsm_coh_msg m = {};
	struct dsm_region *r;
	struct dsm_cpage *cp;
	bool data;
	u64 index;
	int err;

	if (len < sizeof(*w) || w->type < DSM_COH_REQ_READ ||
	    w->type > DSM_COH_GRANT || w->with_data > 1 || w->pad ||
	    (w->with_data && w->type != DSM_COH_GRANT))
		return -EPROTO;
	data = w->type == DSM_COH_DATA || w->with_data;
	if (len != sizeof(*w) + (data ? PAGE_SIZE : 0))
		return -EPROTO;
	m.type = w->type;
	m.from = from;
	m.requester = le32_to_cpu(w->requester);
	m.with_data = w->with_data;
	if (!m.requester || m.requester > DSM_MAX_NODES)
		return -EPROTO;
	r = dsm_region_shadow(le64_to_cpu(w->key), le64_to_cpu(w->npages),
			      le64_to_cpu(w->homes));
	if (!r)
		return -EPROTO;
	index = le64_to_cpu(w->index);
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
	dsm_pages_ctx_init(&ctx, r, cp, index);
	lock_page(cp->page);
	err = dsm_pages_feed(&ctx, &m, data ? (const void *)(w + 1) : NULL);
	unlock_page(cp->page);
	dsm_out_flush_mask(ctx.dirty);
	dsm_region_put(r);
	return err < 0 ? -EPROTO : 0;
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
	unsigned long timeout = msecs_to_jiffies(dsm_dead_timeout_ms());
	struct dsm_cpage *cp = dsm_cpage_get(r, vmf->pgoff);
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	unsigned long deadline;
	bool may_drop;

	if (IS_ERR(cp))
		return VM_FAULT_OOM;
	may_drop = (vmf->flags & FAULT_FLAG_ALLOW_RETRY) &&
		   !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
again:
	dsm_pages_ctx_init(&ctx, r, cp, vmf->pgoff);
	lock_page(cp->page);
	if (write ? cp->node.state == DSM_COH_EXCLUSIVE :
		    cp->node.state != DSM_COH_INVALID) {
		dsm_stat_inc(write ? DSM_STAT_WRITE_FAULTS_LOCAL :
				     DSM_STAT_READ_FAULTS_LOCAL);
		if (!mkwrite) {
			get_page(cp->page);
			vmf->page = cp->page;
		}
		return VM_FAULT_LOCKED;
	}
	if (mkwrite) {
		/* page_mkwrite cannot drop mmap_lock: fault again without a PTE */
		dsm_pages_zap(r, vmf->pgoff);
		unlock_page(cp->page);
		return VM_FAULT_NOPAGE;
	}
	if (cp->node.pending) {
		if (cp->failed || time_after(jiffies, cp->req_time + timeout))
			goto sigbus;
		dsm_stat_inc(DSM_STAT_FAULTS_JOINED);
	} else {
		if (cp->home != self && (!dsm_members_has(cp->home) ||
					 dsm_node_lost(cp->home)))
			goto sigbus;
		dsm_coh_fault(&ctx.env, &cp->node, self, cp->home, write);
		cp->req_time = jiffies;
		cp->failed = false;
		dsm_stat_inc(write ? DSM_STAT_WRITE_FAULTS_REMOTE :
				     DSM_STAT_READ_FAULTS_REMOTE);
	}
	deadline = cp->req_time + timeout;
	unlock_page(cp->page);

	kref_get(&r->ref);	/* the VMA may go once mmap_lock is dropped */
	if (may_drop)
		release_fault_lock(vmf);
	dsm_out_flush_mask(ctx.dirty);
	if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		dsm_pages_wait(cp, deadline);
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
	dsm_stat_inc(DSM_STAT_FAULT_FAILURES);
	return VM_FAULT_SIGBUS;
}

struct dsm_lost {
	u32 id;
	u64 dirty;
};

static void dsm_pages_lost_region(struct dsm_region *r, void *arg)
{
	struct dsm_lost *lost = arg;
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		if (cp->home == self) {
			dsm_coh_dir_forget(&ctx.env, &cp->dir, self, lost->id);
			if (dsm_pages_dir_drain(&ctx))
				pr_warn_ratelimited("region %#llx page %lu: directory refused a queued request\n",
						    r->key, index);
		} else if (cp->home == lost->id) {
			if (cp->node.pending) {
				cp->failed = true;
			} else if (cp->node.state == DSM_COH_SHARED &&
				   !cp->node.owner) {
				/* nobody would invalidate it any more */
				cp->node.state = DSM_COH_INVALID;
				dsm_pages_zap(r, index);
			}
		}
		unlock_page(cp->page);
		lost->dirty |= ctx.dirty;
	}
}

/**
 * dsm_pages_node_lost() - a node is gone: stop counting on it
 * @id: the node
 */
void dsm_pages_node_lost(u32 id)
{
	struct dsm_lost lost = { .id = id };

	if (!id || id == dsm_self_id())
		return;
	dsm_regions_for_each(dsm_pages_lost_region, &lost);
	dsm_out_flush_mask(lost.dirty);
	wake_up_all(&dsm_pages_wq);
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
	}
	xa_destroy(&r->pages);
	atomic64_sub(freed, &dsm_nr_pages);
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
