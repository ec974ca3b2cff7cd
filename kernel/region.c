// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: regions, the shared address ranges of this node.
 *
 * Theory of operation. A region is named by a 64-bit key and lives in a
 * hash table until it is removed or the module is unloaded. The table holds
 * one reference, and every file attached to the region holds another, so a
 * removed region stays alive, unmappable, until its last file is closed.
 * Mappings are counted separately (mapcount) because removal must fail with
 * EBUSY while any VMA still maps the region. A mapping pins its file and the
 * file pins the region, so the region outlives every VMA.
 *
 * A region created while this node is a cluster member is a cluster region:
 * every member agrees on its size and home set (region_home.c finds them),
 * and its pages are kept coherent by pages.c. A member that is home for
 * some of its pages but never attached it holds it as a "shadow": in the
 * table, without files, created by the first coherence message. Other
 * regions are local to this node.
 *
 * Page state lives in a per-region xarray (pages.c) until the region is
 * destroyed; munmap does not drop it, which is what makes data persist
 * across munmap/mmap.
 */
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "coherence/homes.h"
#include "dsm.h"

#define DSM_REGION_HASH_BITS 8

static DEFINE_MUTEX(dsm_regions_lock);
static DEFINE_HASHTABLE(dsm_regions, DSM_REGION_HASH_BITS);
static u32 dsm_nr_regions;

static unsigned int dsm_peer_regions_max = DSM_MAX_REGIONS - DSM_MAX_REGIONS / 4;
module_param_named(peer_regions_max, dsm_peer_regions_max, uint, 0644);
MODULE_PARM_DESC(peer_regions_max,
		 "peers' requests and replicas make no new region here once this node has this many (the rest of the table is kept for its own attaches and for handovers)");

static struct dsm_region *dsm_region_lookup(u64 key)
{
	struct dsm_region *r;

	lockdep_assert_held(&dsm_regions_lock);
	hash_for_each_possible(dsm_regions, r, hash, key)
		if (r->key == key)
			return r;
	return NULL;
}

/*
 * Nodes that left gracefully and have not joined again, as this node
 * knows (dsm_node_bit), under dsm_regions_lock. A region inserted later,
 * from what a node that had not applied the leave yet said, must not keep
 * them among its homes: the walk that took them out of every region
 * (dsm_regions_left) did not see it.
 */
static u64 dsm_regions_gone;

/* Of those, the nodes that were lost (their pages moved by census.c). */
static u64 dsm_regions_lost;

/**
 * dsm_regions_node_gone() - has node @id left since it last joined?
 * @id: the node
 *
 * Return: true from the start of the walk that moves its pages (lockless).
 */
bool dsm_regions_node_gone(u32 id)
{
	return READ_ONCE(dsm_regions_gone) & dsm_node_bit(id);
}

static struct dsm_region *dsm_region_alloc(u64 key, u64 size, u64 homes,
					   u32 copies)
{
	struct dsm_region *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	if (homes) {
		r->table = kvmalloc(sizeof(*r->table), GFP_KERNEL);
		if (!r->table) {
			kfree(r);
			return NULL;
		}
		dsm_homes_build(r->table, homes);
		r->cluster = true;
		r->homes = homes;
	}
	r->key = key;
	r->size = size;
	r->npages = size >> PAGE_SHIFT;
	r->copies = copies;
	kref_init(&r->ref);
	mutex_init(&r->lock);
	init_rwsem(&r->table_lock);
	atomic_set(&r->mapcount, 0);
	xa_init(&r->pages);
	xa_init(&r->replicas);
	address_space_init_once(&r->mapping);
	return r;
}

static void dsm_region_free(struct dsm_region *r)
{
	dsm_pages_free(r);
	dsm_replicas_free(r);
	kvfree(r->table);
	iput(r->mapping.host);
	kfree(r);
}

static void dsm_region_release(struct kref *ref)
{
	struct dsm_region *r = container_of(ref, struct dsm_region, ref);

	WARN_ON_ONCE(atomic_read(&r->mapcount));
	pr_debug("region %#llx destroyed\n", r->key);
	dsm_stat_inc(DSM_STAT_REGIONS_DESTROYED);
	dsm_region_free(r);
}

/**
 * dsm_region_put() - drop a reference to a region
 * @r: the region
 */
void dsm_region_put(struct dsm_region *r)
{
	kref_put(&r->ref, dsm_region_release);
}

/**
 * dsm_attach_check() - is an attach request well-formed?
 * @req: the request
 *
 * Return: 0 or -EINVAL.
 */
int dsm_attach_check(const struct dsm_attach *req)
{
	if (req->flags & ~DSM_ATTACH_FLAGS || req->pad ||
	    DSM_ATTACH_COPIES_OF(req->flags) > DSM_COPIES_MAX)
		return -EINVAL;
	if ((req->flags & DSM_ATTACH_EXCL) && (req->flags & DSM_ATTACH_NOCREATE))
		return -EINVAL;
	if (req->size % PAGE_SIZE || req->size > DSM_REGION_MAX_SIZE)
		return -EINVAL;
	if (!req->size && (req->flags & DSM_ATTACH_EXCL))
		return -EINVAL;
	/* a region homed at one node has no other to keep copies */
	if ((req->flags & DSM_ATTACH_HOME_SELF) && DSM_ATTACH_COPIES_OF(req->flags))
		return -EINVAL;
	return 0;
}

/**
 * dsm_region_find() - find or create a region in this node's table
 * @key:    the region's key
 * @size:   its size in bytes, or 0 to accept any existing size
 * @flags:  DSM_ATTACH_EXCL: fail if it exists; DSM_ATTACH_COPIES(n): a
 *          new region's copies, an existing one's unless 0
 * @create: create it if it does not exist
 * @homes:  0 for a local region, else the home set of a cluster region
 * @epoch:  the membership epoch @homes was told at (0: this node's)
 * @out:    the region, with a reference for the caller
 *
 * A cluster region created here leaves out of @homes the nodes that left
 * gracefully, unless @epoch is newer than this node's (they may be back),
 * or none of @homes is left (then its pages fail here: better than serving
 * them from a home set others may not share).
 *
 * Return: 0, -EEXIST (EXCL; or the key names a region of the other kind),
 * -EINVAL (size or copies differ), -ENOENT, -ENOSPC or -ENOMEM.
 */
int dsm_region_find(u64 key, u64 size, u32 flags, bool create, u64 homes,
		    u64 epoch, struct dsm_region **out)
{
	struct dsm_region *r, *fresh = NULL;
	u64 gone, dropped = 0;
	int err = 0;

again:
	if (create) {
		fresh = dsm_region_alloc(key, size, homes,
					 DSM_ATTACH_COPIES_OF(flags));
		if (!fresh)
			return -ENOMEM;
	}
	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	gone = homes & dsm_regions_gone;
	/* (the epoch is read under the lock the leave's walk holds) */
	if (!r && fresh && gone && gone != homes && epoch <= dsm_members_epoch()) {
		mutex_unlock(&dsm_regions_lock);
		dsm_region_free(fresh);
		pr_debug("region %#llx: homes %#llx without %#llx, which left\n",
			 key, homes, gone);
		homes &= ~gone;
		dropped |= gone;
		goto again;
	}
	if (!r && fresh)	/* the lost homes dropped above */
		fresh->lost = dropped & dsm_regions_lost;
	if (r) {
		if (flags & DSM_ATTACH_EXCL || r->cluster != !!homes)
			err = -EEXIST;
		else if (r->removing)
			err = -EBUSY;
		else if ((size && size != r->size) ||
			 (DSM_ATTACH_COPIES_OF(flags) &&
			  DSM_ATTACH_COPIES_OF(flags) != r->copies))
			err = -EINVAL;
		else
			kref_get(&r->ref);
	} else if (!fresh) {
		err = -ENOENT;
	} else if (dsm_nr_regions >= DSM_MAX_REGIONS) {
		err = -ENOSPC;
	} else {
		r = fresh;
		fresh = NULL;
		hash_add(dsm_regions, &r->hash, r->key);
		dsm_nr_regions++;
		kref_get(&r->ref);
		dsm_stat_inc(DSM_STAT_REGIONS_CREATED);
		pr_debug("region %#llx created (%llu bytes)\n", r->key, r->size);
	}
	mutex_unlock(&dsm_regions_lock);
	if (fresh)	/* never published, holds no pages */
		dsm_region_free(fresh);
	if (err)
		return err;
	*out = r;
	return 0;
}

/**
 * dsm_region_known() - what this node knows of a region
 * @key:   the region's key
 * @size:  its size, if known
 * @homes: its home set, if known
 * @lost:  the nodes its home set lost, if known
 * @copies: its replica count, if known
 *
 * Return: 0 for a cluster region, -EEXIST for a local one, -ENOENT.
 */
int dsm_region_known(u64 key, u64 *size, u64 *homes, u64 *lost, u32 *copies)
{
	struct dsm_region *r;
	int err = -ENOENT;

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	if (r) {
		err = r->cluster ? 0 : -EEXIST;
		*size = r->size;
		*homes = r->homes;
		*lost = READ_ONCE(r->lost);
		*copies = r->copies;
	}
	mutex_unlock(&dsm_regions_lock);
	return err;
}

/**
 * dsm_region_learn_lost() - another node says @r's home set lost @lost
 * (its pages that were homed there are lost unless a census found a copy)
 * @r:    a cluster region
 * @lost: node set, bit id % 64
 */
void dsm_region_learn_lost(struct dsm_region *r, u64 lost)
{
	/* a home here is lost once this node's walk took it out (census.c) */
	if (!r->cluster || !(lost & ~READ_ONCE(r->homes) & ~READ_ONCE(r->lost)))
		return;
	down_write(&r->table_lock);	/* see dsm_cpage_get() */
	WRITE_ONCE(r->lost, r->lost | (lost & ~r->homes));
	up_write(&r->table_lock);
}

/**
 * dsm_region_shadow() - the cluster region a coherence message names,
 * created if this node does not know it yet and @create
 * @key:    the region's key
 * @npages: its size in pages, as the message says
 * @homes:  its home set, as the message says
 * @copies: its replica count, as the message says
 * @create: DSM_SHADOW_NO: the message cannot be the first this node hears
 *          of the region; DSM_SHADOW_KEEP: it may be, and holds what must
 *          be kept (a handover, a census report, this node's own request);
 *          DSM_SHADOW_ASK: it may be, a peer's request or replica: refused
 *          once this node has peer_regions_max regions, so that peers
 *          cannot fill the table (this node's attaches would fail)
 * @epoch:  the sender's membership epoch
 *
 * Return: the region with a reference; ERR_PTR(-ENOENT) if it is unknown
 * and not to be created; ERR_PTR(-ENOSPC) if it is refused; ERR_PTR(-EPROTO)
 * if it disagrees with what this node knows or cannot be created.
 */
struct dsm_region *dsm_region_shadow(u64 key, u64 npages, u64 homes, u32 copies,
				     enum dsm_shadow create, u64 epoch)
{
	struct dsm_region *r;

	if (!npages || npages > DSM_REGION_MAX_SIZE >> PAGE_SHIFT || !homes ||
	    copies > DSM_COPIES_MAX)
		return ERR_PTR(-EPROTO);
	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	/* the home set may have shrunk since (a node left): not compared */
	if (r && r->cluster && r->npages == npages && r->copies == copies)
		kref_get(&r->ref);
	else if (r)
		r = ERR_PTR(-EPROTO);
	mutex_unlock(&dsm_regions_lock);
	if (r)
		return r;
	if (create == DSM_SHADOW_NO)
		return ERR_PTR(-ENOENT);
	if (create == DSM_SHADOW_ASK &&
	    READ_ONCE(dsm_nr_regions) >= READ_ONCE(dsm_peer_regions_max)) {
		dsm_stat_inc(DSM_STAT_SHADOWS_REFUSED);
		return ERR_PTR(-ENOSPC);
	}
	if (dsm_region_find(key, npages << PAGE_SHIFT, DSM_ATTACH_COPIES(copies),
			    true, homes, epoch, &r))
		return ERR_PTR(-EPROTO);
	return r;
}

/**
 * dsm_region_attach() - find or create the region a request names
 * @req:  the user's request; on success @req->size is the region's size
 * @file: the file being attached
 * @out:  the region, with a reference for the caller
 *
 * While this node is a cluster member the region is a cluster region.
 *
 * Return: 0 or a negative errno, as documented for DSM_IOC_ATTACH.
 */
int dsm_region_attach(struct dsm_attach *req, struct file *file,
		      struct dsm_region **out)
{
	struct dsm_region *r;
	int err;

	err = dsm_attach_check(req);
	if (err)
		return err;
	if (dsm_members_epoch())
		err = dsm_region_cluster_attach(req, &r);
	else if (DSM_ATTACH_COPIES_OF(req->flags))
		err = -EINVAL;	/* a local region has nowhere to keep copies */
	else
		err = dsm_region_find(req->key, req->size, req->flags,
				      req->size && !(req->flags & DSM_ATTACH_NOCREATE),
				      0, 0, &r);
	if (err)
		return err;
	mutex_lock(&r->lock);
	if (!r->mapping.host)	/* the core checks the host's flags */
		r->mapping.host = igrab(file_inode(file));
	mutex_unlock(&r->lock);
	req->size = r->size;
	*out = r;
	return 0;
}

/**
 * dsm_regions_left() - node @id left gracefully, or was lost: call @fn for
 * every region (to take @id out of its homes), and keep @id out of the
 * homes of every region created here until it joins again
 * @id:   the node
 * @lost: it was lost (a region created here without it notes it in
 *        dsm_region.lost)
 * @fn:   called under the table's lock; may sleep and take page locks
 * @arg:  passed on
 */
void dsm_regions_left(u32 id, bool lost,
		      void (*fn)(struct dsm_region *r, void *arg), void *arg)
{
	struct dsm_region *r;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	dsm_regions_gone |= dsm_node_bit(id);
	if (lost)
		dsm_regions_lost |= dsm_node_bit(id);
	hash_for_each(dsm_regions, bkt, r, hash)
		fn(r, arg);
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_regions_joined() - node @id is a member (again): regions may be homed
 * at it
 * @id: the node
 */
void dsm_regions_joined(u32 id)
{
	mutex_lock(&dsm_regions_lock);
	dsm_regions_gone &= ~dsm_node_bit(id);
	dsm_regions_lost &= ~dsm_node_bit(id);
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_regions_back() - lost node @id is linked again (a new incarnation,
 * a member again): regions may be homed at it
 * @id: the node
 */
void dsm_regions_back(u32 id)
{
	mutex_lock(&dsm_regions_lock);
	if (dsm_regions_lost & dsm_node_bit(id)) {
		dsm_regions_lost &= ~dsm_node_bit(id);
		dsm_regions_gone &= ~dsm_node_bit(id);
	}
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_regions_for_each() - call @fn for every region in the table
 * @fn:  called under the table's lock; may sleep and take page locks
 * @arg: passed on
 */
void dsm_regions_for_each(void (*fn)(struct dsm_region *r, void *arg),
			  void *arg)
{
	struct dsm_region *r;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each(dsm_regions, bkt, r, hash)
		fn(r, arg);
	mutex_unlock(&dsm_regions_lock);
}

static void dsm_region_unlink(struct dsm_region *r)
{
	lockdep_assert_held(&dsm_regions_lock);
	hash_del(&r->hash);
	dsm_nr_regions--;
}

/**
 * dsm_region_remove() - remove a region (DSM_IOC_REMOVE)
 * @key: the region's key
 *
 * A cluster region is removed from every member (region_home.c).
 *
 * Return: 0, -ENOENT if there is no such region, -EBUSY while it is mapped
 * (on any node, for a cluster region), -EHOSTUNREACH if a member cannot
 * confirm.
 */
int dsm_region_remove(u64 key)
{
	struct dsm_region *r;
	bool cluster = false;
	int err = 0;

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	if (!r) {
		err = -ENOENT;
		goto out_unlock;
	}
	mutex_lock(&r->lock);
	if (r->cluster) {
		cluster = true;
	} else if (atomic_read(&r->mapcount)) {
		err = -EBUSY;
	} else {
		r->removed = true;
		dsm_region_unlink(r);
	}
	mutex_unlock(&r->lock);
	if (!err && !cluster)
		dsm_region_put(r);
out_unlock:
	mutex_unlock(&dsm_regions_lock);
	return cluster ? dsm_region_cluster_remove(key) : err;
}

/**
 * dsm_region_remove_prepare() - first phase of a cluster-wide removal
 * @key:  the region's key
 * @from: the node removing it (removals by several nodes may overlap)
 * @asking: can a request of this node about @r's pages still arrive?
 *          (called under the region's lock, with no mapping: no request
 *          can start)
 *
 * Return: 0 (also when this node does not know the region), -EBUSY if it
 * is mapped here, or -EAGAIN while requests of this node about it are on
 * their way (a request that reached its home after the removal would
 * bring the region back there). On 0 the region takes no new mappings
 * until every node that prepared it finished (dsm_region_remove_finish()).
 */
int dsm_region_remove_prepare(u64 key, u32 from,
			      bool (*asking)(struct dsm_region *r))
{
	struct dsm_region *r;
	int err = 0;

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	if (r && r->cluster) {
		mutex_lock(&r->lock);
		if (atomic_read(&r->mapcount))
			err = -EBUSY;
		else if (asking(r))
			err = -EAGAIN;
		else
			r->removing |= dsm_node_bit(from);
		mutex_unlock(&r->lock);
	}
	mutex_unlock(&dsm_regions_lock);
	return err;
}

/**
 * dsm_region_remove_finish() - second phase: remove, or take mappings again
 * @key:    the region's key
 * @commit: every member agreed: remove it from this node
 * @from:   the node whose removal this is
 *
 * Only @from's own preparation counts: another node's abort does not undo
 * it, so an overlapping removal that every member agreed to removes the
 * region everywhere.
 */
void dsm_region_remove_finish(u64 key, bool commit, u32 from)
{
	struct dsm_region *r;

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	if (r && r->cluster && (r->removing & dsm_node_bit(from))) {
		mutex_lock(&r->lock);
		r->removing &= ~dsm_node_bit(from);
		r->removed = commit;
		mutex_unlock(&r->lock);
		if (commit) {
			dsm_region_unlink(r);
			dsm_region_put(r);
		}
	}
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_regions_forget_remover() - a node is lost: its removals never finish
 * @id: the node
 */
void dsm_regions_forget_remover(u32 id)
{
	struct dsm_region *r;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each(dsm_regions, bkt, r, hash) {
		mutex_lock(&r->lock);
		r->removing &= ~dsm_node_bit(id);
		mutex_unlock(&r->lock);
	}
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_region_map() - count a new mapping of a region
 * @r: the region
 *
 * Return: 0, or -EIDRM if the region was removed (or is being removed).
 */
int dsm_region_map(struct dsm_region *r)
{
	int err = 0;

	mutex_lock(&r->lock);
	if (r->removed || r->removing)
		err = -EIDRM;
	else
		atomic_inc(&r->mapcount);
	mutex_unlock(&r->lock);
	return err;
}

/**
 * dsm_region_unmap() - forget a mapping counted by dsm_region_map()
 * @r: the region
 *
 * Also used for VMAs copied from a counted one (fork, split), which are
 * counted with a plain increment: the region cannot be removed meanwhile.
 */
void dsm_region_unmap(struct dsm_region *r)
{
	WARN_ON_ONCE(atomic_dec_return(&r->mapcount) < 0);
}

/**
 * dsm_regions_count() - regions currently in the table
 *
 * Return: the number of regions.
 */
u32 dsm_regions_count(void)
{
	u32 n;

	mutex_lock(&dsm_regions_lock);
	n = dsm_nr_regions;
	mutex_unlock(&dsm_regions_lock);
	return n;
}

/**
 * dsm_region_get_nth() - the @n-th region of the table, with a reference
 * @n: 0, 1, ... in the table's order (a dump's cursor: a region added or
 *     removed meanwhile may make a dump skip or repeat one)
 *
 * Return: the region (dsm_region_put() it), or NULL past the last one.
 */
struct dsm_region *dsm_region_get_nth(u64 n)
{
	struct dsm_region *r, *found = NULL;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each(dsm_regions, bkt, r, hash) {
		if (!n--) {
			kref_get(&r->ref);
			found = r;
			break;
		}
	}
	mutex_unlock(&dsm_regions_lock);
	return found;
}

/**
 * dsm_region_info() - describe a region
 * @r:    the region, with a reference the caller holds
 * @info: filled in; its page counts walk the region's pages
 */
void dsm_region_info(struct dsm_region *r, struct dsm_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->key = r->key;
	info->size = r->size;
	info->cluster = r->cluster;
	info->homes = r->cluster ? r->homes : 0;
	info->mappings = atomic_read(&r->mapcount);
	info->files = atomic_read(&r->files);
	info->copies = r->copies;
	info->replicas = READ_ONCE(r->nr_replicas);
	dsm_pages_tally(r, info);
}

/**
 * dsm_regions_drop_cluster() - this node left: forget its cluster regions
 *
 * They leave the table like removed regions: files attached to them keep
 * them alive, existing mappings get SIGBUS for pages not held here, new
 * mappings EIDRM.
 */
void dsm_regions_drop_cluster(void)
{
	struct dsm_region *r;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each_safe(dsm_regions, bkt, tmp, r, hash) {
		if (!r->cluster)
			continue;
		mutex_lock(&r->lock);
		r->removed = true;
		mutex_unlock(&r->lock);
		dsm_region_unlink(r);
		dsm_region_put(r);
	}
	dsm_regions_gone = 0;	/* ids of another membership */
	dsm_regions_lost = 0;
	mutex_unlock(&dsm_regions_lock);
}

/**
 * dsm_regions_destroy() - drop every region at module unload
 *
 * No file can be open at this point (each holds a module reference), so the
 * table's references are the last ones.
 */
void dsm_regions_destroy(void)
{
	struct dsm_region *r;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each_safe(dsm_regions, bkt, tmp, r, hash) {
		dsm_region_unlink(r);
		dsm_region_put(r);
	}
	mutex_unlock(&dsm_regions_lock);
	WARN_ON(dsm_pages_count());
}
