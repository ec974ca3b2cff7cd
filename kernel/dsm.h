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
#include <linux/rwsem.h>
#include <linux/xarray.h>
#include <linux/dsm.h>

#include "net/net.h"
#include "node.h"
#include "stats.h"

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
 * @removing: the nodes (bit id % 64) whose cluster-wide removal of it is
 *            deciding; no new mappings meanwhile
 * @mapcount: VMAs currently mapping the region
 * @pages:    page index -> struct dsm_cpage (pages.c), filled on first use
 * @cluster:  coherent across the cluster (created while a member); else
 *            local to this node
 * @homes:    cluster regions: the home set (bit id % 64 per node), fixed at
 *            creation, and @table, the mapping table derived from it
 * @lost:     nodes lost from @homes: a page that was homed at one of them
 *            has the entry a census rebuilt, or is lost (census.c)
 * @copies:   replica holders of each page's committed data (replica.c)
 * @replicas: page index -> the newest version of it stored here for others
 *            (replica.c); @pages marks the pages written here since their
 *            last push (DSM_PAGE_DIRTY)
 * @nr_replicas: entries in @replicas
 * @replica_failures: pushes of it that may not have been kept (replica.c)
 * @replica_failures_seen: @replica_failures when its last commit ended
 * @table_lock: a new page's home is looked up and its state inserted under
 *            read; a leave rewrites @table under write, then walks the
 *            pages: none is made from the old table after the walk
 * @mapping:  what every attached file's f_mapping points to, so that
 *            invalidating a page unmaps it from every process of this node
 * @files:    files attached to it (DSM_IOC_ATTACH), for dsmctl region
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
	u64 removing;
	atomic_t mapcount;
	atomic_t files;
	struct xarray pages;
	bool cluster;
	u64 homes;
	u64 lost;
	u32 copies;
	struct xarray replicas;
	u64 nr_replicas;
	atomic64_t replica_failures;
	u64 replica_failures_seen;
	struct dsm_homes *table;
	struct rw_semaphore table_lock;
	struct address_space mapping;
	pgoff_t ra_last, ra_end;
	int ra_window;
};

/**
 * struct dsm_region_info - what dsmctl region shows of a region
 * @held:  pages this node holds a copy of (local regions: every page made)
 * @owned: pages this node owns (local regions: the same)
 * @homed: pages homed here that this node has an entry for (local: the same)
 * @copies: replica holders per page; @replicas: page versions kept here
 */
struct dsm_region_info {
	u64 key, size, homes;
	bool cluster;
	u32 mappings, files;
	u64 held, owned, homed;
	u32 copies;
	u64 replicas;
};

/* What dsmctl hot shows of a page: the DSM_HOT_A_* counts. */
struct dsm_page_hot {
	u32 home, faults, lost, moves;
	u64 nodes;
};

/* region.c */
int dsm_region_attach(struct dsm_attach *req, struct file *file,
		      struct dsm_region **out);
int dsm_region_find(u64 key, u64 size, u32 flags, bool create, u64 homes,
		    u64 epoch, struct dsm_region **out);
/* what a peer's message may make here (dsm_region_shadow) */
enum dsm_shadow { DSM_SHADOW_NO, DSM_SHADOW_KEEP, DSM_SHADOW_ASK };
struct dsm_region *dsm_region_shadow(u64 key, u64 npages, u64 homes, u32 copies,
				     enum dsm_shadow create, u64 epoch);
int dsm_region_known(u64 key, u64 *size, u64 *homes, u64 *lost, u32 *copies);
void dsm_region_learn_lost(struct dsm_region *r, u64 lost);
int dsm_attach_check(const struct dsm_attach *req);
void dsm_regions_for_each(void (*fn)(struct dsm_region *r, void *arg),
			  void *arg);
void dsm_regions_left(u32 id, bool lost,
		      void (*fn)(struct dsm_region *r, void *arg), void *arg);
void dsm_regions_joined(u32 id);
void dsm_regions_back(u32 id);
bool dsm_regions_node_gone(u32 id);
int dsm_region_remove(u64 key);
void dsm_region_put(struct dsm_region *r);
int dsm_region_map(struct dsm_region *r);
void dsm_region_unmap(struct dsm_region *r);
u32 dsm_regions_count(void);
void dsm_region_info(struct dsm_region *r, struct dsm_region_info *info);
struct dsm_region *dsm_region_get_nth(u64 n);
void dsm_regions_destroy(void);
void dsm_regions_drop_cluster(void);

/* barrier.c: barriers across the cluster */
int dsm_barrier_wait(struct dsm_region *r, u64 offset, u32 parties);
u32 dsm_barrier_on_msg(const struct dsm_net_msg *m);
void dsm_barriers_new_epoch(u64 members);
void dsm_barriers_node_lost(u32 id);
void dsm_barriers_destroy(void);

/* replica.c: replicated regions (pages.h has the rest) */
int dsm_replica_commit(struct dsm_region *r, pgoff_t first, pgoff_t last);
u32 dsm_replica_on_msg(const struct dsm_net_msg *m);
void dsm_replicas_free(struct dsm_region *r);

/* freeze.c: a region frozen for a consistent copy */
struct dsm_freeze_state {
	u64 id, epoch, nodes;
	unsigned long deadline;
};

int dsm_freeze_region(struct dsm_region *r, struct dsm_freeze_state *st);
int dsm_thaw_region(struct dsm_region *r, struct dsm_freeze_state *st);
bool dsm_freeze_holds(u64 key);
bool dsm_freeze_local(u64 key);
bool dsm_freeze_waits(u64 key);
void dsm_freezes_end(void);
u32 dsm_freeze_on_msg(const struct dsm_net_msg *m);
void dsm_freezes_stop(void);

/* pages.c: per-page state; runs the coherence protocol for cluster regions */
struct page *dsm_pages_local(struct dsm_region *r, pgoff_t index);
void dsm_pages_tally(struct dsm_region *r, struct dsm_region_info *info);
bool dsm_pages_hot_next(struct dsm_region *r, unsigned long *index,
			struct dsm_page_hot *hot);
vm_fault_t dsm_pages_fault(struct dsm_region *r, struct vm_fault *vmf,
			   bool write, bool mkwrite);
u32 dsm_pages_on_msg(const struct dsm_net_msg *m);
u32 dsm_pages_on_pack(const struct dsm_net_msg *m);
void dsm_pages_node_lost(u32 id, bool died);
void dsm_pages_fence(bool on);
void dsm_pages_evicted(void);
void dsm_pages_node_left(u32 id);
void dsm_pages_moving(bool begin);
bool dsm_pages_changing(void);
u32 dsm_pages_on_leaving(const struct dsm_net_msg *m);
u32 dsm_pages_on_census(const struct dsm_net_msg *m);
void dsm_census_reset(void);
void dsm_census_rejoined(u32 id);
int dsm_pages_handover(bool force);
void dsm_pages_leave_end(void);
void dsm_pages_free(struct dsm_region *r);
bool dsm_pages_asking(struct dsm_region *r);
void dsm_pages_unmap_region(struct dsm_region *r);
bool dsm_pages_wait_writes(struct dsm_region *r, unsigned int ms);
int dsm_pages_wait_word(struct dsm_region *r, pgoff_t index, unsigned int offset,
			u32 expected, u64 timeout_ns);
u64 dsm_pages_count(void);
u64 dsm_pages_cluster_count(void);
void dsm_pages_set_mem_max(u32 mib);
u32 dsm_pages_mem_max(void);

/* region_home.c: cluster-wide attach */
int dsm_region_cluster_attach(struct dsm_attach *req, struct dsm_region **out);
void dsm_region_sync(u32 id);
int dsm_region_cluster_remove(u64 key);
int dsm_region_remove_prepare(u64 key, u32 from,
			      bool (*asking)(struct dsm_region *r));
void dsm_region_remove_finish(u64 key, bool commit, u32 from);
void dsm_regions_forget_remover(u32 id);
u32 dsm_region_on_request(const struct dsm_net_msg *m);

/* vm.c */
int dsm_vm_mmap(struct dsm_region *r, struct vm_area_struct *vma);
struct dsm_region *dsm_vm_region_at(unsigned long addr, pgoff_t *pgoff);

/* dev.c */
int dsm_dev_init(void);
void dsm_dev_exit(void);

/* membership.c */
#define DSM_JOIN_TIMEOUT_MS	5000	/* a join or leave request, at most */
int dsm_cluster_configure(const struct dsm_node_config *cfg, const u8 *key,
			  bool clear_key, struct netlink_ext_ack *extack);
int dsm_cluster_form(struct netlink_ext_ack *extack);
int dsm_cluster_join(__be32 addr, u16 port, struct netlink_ext_ack *extack);
int dsm_cluster_leave(bool force, struct netlink_ext_ack *extack);
bool dsm_members_has(u32 id);
u64 dsm_members_mask(void);
u64 dsm_members_live_mask(void);
u64 dsm_members_epoch(void);
u32 dsm_members_count(void);
u32 dsm_members_coordinator(void);
extern const struct dsm_net_ops dsm_members_net_ops;
void dsm_members_exit(void);
u32 dsm_members_on_join(const struct dsm_net_msg *m);
u32 dsm_members_on_leave(const struct dsm_net_msg *m);
u32 dsm_members_on_members(const struct dsm_net_msg *m);
u32 dsm_members_on_log(const struct dsm_net_msg *m);

/* A node requests cannot reach: not a member, or lost. */
static inline bool dsm_node_gone(u32 id)
{
	return !dsm_members_has(id) || dsm_node_lost(id);
}

/* netlink.c */
int dsm_netlink_init(void);
void dsm_netlink_exit(void);
void dsm_nl_event(u32 event, u32 node, u32 reason);

#endif /* _DSM_H */
