/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: internal interfaces shared by the module's files.
 *
 * Lock order (outermost first):
 *   dsm_file.lock -> mmap_lock (attach copies to user memory under it)
 *   mmap_lock -> dsm_regions_lock -> dsm_region.lock
 * The mmap path takes no dsm_file.lock.
 */
#ifndef _DSM_H
#define _DSM_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <linux/dsm.h>

struct dsm_homes;
struct dsm_wire_page;
struct netlink_ext_ack;
struct sk_buff;
struct vm_fault;

/**
 * struct dsm_region - a shared address range known on this node
 * @hash:     link in the region table, under dsm_regions_lock
 * @key:      the user's 64-bit name for the region
 * @size:     size in bytes, a multiple of PAGE_SIZE
 * @npages:   @size in pages
 * @ref:      one reference for the region table, one per attached file
 * @lock:     serialises removal against new mappings
 * @removed:  unlinked from the table; no new mappings
 * @removing: a cluster-wide removal is deciding; no new mappings
 * @mapcount: VMAs currently mapping the region
 * @pages:    page index -> struct dsm_cpage (pages.c), filled on first use
 * @cluster:  coherent across the cluster (created while a member); else
 *            local to this node
 * @homes:    cluster regions: the home set (bit id % 64 per node), fixed at
 *            creation, and @table, the mapping table derived from it
 * @mapping:  what every attached file's f_mapping points to, so that
 *            invalidating a page unmaps it from every process of this node
 * @ra_last, @ra_end: read-ahead: the last read fault that sent a request,
 *            and the last page read ahead (pages.c; a heuristic, racy)
 */
struct dsm_region {
	struct hlist_node hash;
	u64 key;
	u64 size;
	pgoff_t npages;
	struct kref ref;
	struct mutex lock;	/* removal vs. new mappings */
	bool removed;
	bool removing;
	atomic_t mapcount;
	struct xarray pages;
	bool cluster;
	u64 homes;
	struct dsm_homes *table;
	struct address_space mapping;
	pgoff_t ra_last, ra_end;
};

/* region.c */
int dsm_region_attach(struct dsm_attach *req, struct file *file,
		      struct dsm_region **out);
int dsm_region_find(u64 key, u64 size, u32 flags, bool create, u64 homes,
		    struct dsm_region **out);
struct dsm_region *dsm_region_shadow(u64 key, u64 npages, u64 homes);
int dsm_region_known(u64 key, u64 *size, u64 *homes);
int dsm_attach_check(const struct dsm_attach *req);
void dsm_regions_for_each(void (*fn)(struct dsm_region *r, void *arg),
			  void *arg);
int dsm_region_remove(u64 key);
void dsm_region_put(struct dsm_region *r);
int dsm_region_map(struct dsm_region *r);
void dsm_region_unmap(struct dsm_region *r);
u32 dsm_regions_count(void);
void dsm_regions_destroy(void);
void dsm_regions_drop_cluster(void);

/* pages.c: per-page state; runs the coherence protocol for cluster regions */
struct page *dsm_pages_local(struct dsm_region *r, pgoff_t index);
vm_fault_t dsm_pages_fault(struct dsm_region *r, struct vm_fault *vmf,
			   bool write, bool mkwrite);
int dsm_pages_receive(u32 from, const void *payload, size_t len);
void dsm_pages_node_lost(u32 id);
void dsm_pages_node_left(u32 id);
int dsm_pages_handover(void);
void dsm_pages_free(struct dsm_region *r);
u64 dsm_pages_count(void);

/* region_home.c: cluster-wide attach */
int dsm_region_cluster_attach(struct dsm_attach *req, struct dsm_region **out);
void dsm_region_sync(u32 id);
int dsm_region_cluster_remove(u64 key);
int dsm_region_remove_prepare(u64 key);
void dsm_region_remove_finish(u64 key, bool commit);

/* vm.c */
int dsm_vm_mmap(struct dsm_region *r, struct vm_area_struct *vma);

/* dev.c */
int dsm_dev_init(void);
void dsm_dev_exit(void);

/* node.c */
/**
 * struct dsm_node_config - this node's identity in the cluster
 * @id:              node id, 1..DSM_MAX_NODES; 0 while not configured
 * @addr:            IPv4 address peers reach this node at
 * @port:            TCP port peers reach this node at
 * @cluster_id:      the cluster this node belongs to
 * @dead_timeout_ms: a peer silent this long is down
 */
struct dsm_node_config {
	u32 id;
	__be32 addr;
	u16 port;
	u64 cluster_id;
	u32 dead_timeout_ms;
};

void dsm_node_get(struct dsm_node_config *out);
void dsm_node_set(const struct dsm_node_config *cfg);
u32 dsm_self_id(void);
u64 dsm_cluster_id(void);
u32 dsm_dead_timeout_ms(void);

/* membership.c */
int dsm_cluster_configure(const struct dsm_node_config *cfg, const u8 *key,
			  bool clear_key, struct netlink_ext_ack *extack);
int dsm_cluster_form(struct netlink_ext_ack *extack);
int dsm_cluster_join(__be32 addr, u16 port, struct netlink_ext_ack *extack);
int dsm_cluster_leave(bool force, struct netlink_ext_ack *extack);
bool dsm_members_has(u32 id);
u64 dsm_members_mask(void);
u64 dsm_members_epoch(void);
u32 dsm_members_count(void);
u32 dsm_members_coordinator(void);

/* net/: the peer transport */
int dsm_net_init(void);
void dsm_net_exit(void);
int dsm_listen_start(__be32 addr, u16 port);
void dsm_listen_stop(void);
int dsm_hs_set_key(const u8 *key);
bool dsm_hs_keyed(void);
int dsm_peer_fill(struct sk_buff *skb, u32 id);
bool dsm_node_lost(u32 id);

/*
 * Node sets of the coherence layer are u64 masks, bit (id % 64) per node id
 * (ids are 1..64), the convention of kernel/coherence.
 */
static inline u64 dsm_node_bit(u32 id)
{
	return 1ULL << (id % 64);
}

/* A node requests cannot reach: not a member, or lost. */
static inline bool dsm_node_gone(u32 id)
{
	return !dsm_members_has(id) || dsm_node_lost(id);
}

/**
 * struct dsm_out - a queued message (net/outbox.c)
 * @node:    on the destination's queue
 * @seq:     its sequence number (0 for this node itself)
 * @epoch:   the membership epoch when it was queued (a MEMBERS list's own)
 * @req_id:  request id, or the request's for a reply
 * @type:    DSM_MSG_* (DSM_MSG_PAGE for dsm_out_queue)
 * @sent:    written to a link once: writing it again is a resend
 * @len:     payload bytes
 * @payload: for DSM_MSG_PAGE, struct dsm_wire_page and the page for
 *           messages with data
 */
struct dsm_out {
	struct list_head node;
	u64 seq;
	u64 epoch;
	u64 req_id;
	u8 type;
	bool sent;
	size_t len;
	u8 payload[];
};

/*
 * net/outbox.c: reliable, ordered sending. Everything for a node goes
 * through its queue; it is resent on a new link until acknowledged, and
 * dropped only when the node is lost.
 */
void dsm_out_queue(u32 dst, struct dsm_out *out);
void dsm_out_flush(u32 dst);
void dsm_out_flush_mask(u64 mask);
void dsm_out_try_flush(u64 mask);
void dsm_out_kick(u64 mask);
int dsm_net_send(u32 dst, u8 type, u64 req_id, const void *payload,
		 size_t len);
int dsm_net_call(u32 dst, u8 type, const void *payload, size_t len,
		 void *reply, size_t reply_max, unsigned int timeout_ms);

/* stats.c */
extern atomic64_t dsm_stats[__DSM_STAT_MAX];

static inline void dsm_stat_inc(enum dsm_stat stat)
{
	atomic64_inc(&dsm_stats[stat]);
}

int dsm_stats_put(struct sk_buff *skb);
void dsm_stats_reset(void);

/* netlink.c */
int dsm_netlink_init(void);
void dsm_netlink_exit(void);
void dsm_nl_event(u32 event, u32 node, u32 reason);

#endif /* _DSM_H */
