// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the /dev/dsm character device.
 *
 * An open file starts unattached; DSM_IOC_ATTACH binds it to one region for
 * the rest of its life, and mmap maps that region. Any open file can also
 * wait on a word of a dsm mapping (DSM_IOC_WAIT) or arrive at a barrier
 * named by one (DSM_IOC_BARRIER). A file attached to a cluster region can
 * freeze it for a consistent copy (DSM_IOC_FREEZE, DSM_IOC_THAW; closing
 * the file thaws it), and commit what this node wrote to it to the
 * region's replicas (DSM_IOC_COMMIT; fsync, so msync(MS_SYNC) on a
 * mapping, does the same). Every rejected call is
 * counted (DSM_STAT_BAD_IOCTL, DSM_STAT_BAD_MMAP).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dsm.h"

/**
 * struct dsm_file - per open file of /dev/dsm
 * @lock:   serialises attach, freeze and thaw
 * @region: the attached region, or NULL; set once, under @lock, and read
 *          locklessly (acquire) by mmap, which runs under mmap_lock: attach
 *          copies to user memory under @lock, so mmap must not take it.
 * @frozen: the file holds @freeze of @region (under @lock)
 * @freeze: the freeze, for the thaw
 */
struct dsm_file {
	struct mutex lock;	/* serialises attach, freeze and thaw */
	struct dsm_region *region;
	bool frozen;
	struct dsm_freeze_state freeze;
};

static int dsm_dev_open(struct inode *inode, struct file *file)
{
	struct dsm_file *df = kzalloc(sizeof(*df), GFP_KERNEL);

	if (!df)
		return -ENOMEM;
	mutex_init(&df->lock);
	file->private_data = df;
	return nonseekable_open(inode, file);
}

static int dsm_dev_release(struct inode *inode, struct file *file)
{
	struct dsm_file *df = file->private_data;

	if (df->frozen)	/* the copy is abandoned: only the writers matter */
		dsm_thaw_region(df->region, &df->freeze);
	if (df->region) {
		atomic_dec(&df->region->files);
		dsm_region_put(df->region);
	}
	kfree(df);
	return 0;
}

static int dsm_dev_attach(struct file *file, void __user *argp)
{
	struct dsm_file *df = file->private_data;
	struct dsm_attach req;
	struct dsm_region *r;
	int err;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;

	mutex_lock(&df->lock);
	if (df->region) {
		err = -EBUSY;
		goto out_unlock;
	}
	err = dsm_region_attach(&req, file, &r);
	if (err)
		goto out_unlock;
	if (copy_to_user(argp, &req, sizeof(req))) {
		dsm_region_put(r);
		err = -EFAULT;
		goto out_unlock;
	}
	/* VMAs link into the region's mapping, so invalidation finds them */
	file->f_mapping = &r->mapping;
	atomic_inc(&r->files);
	/* pairs with dsm_dev_mmap(): the region is complete when seen */
	smp_store_release(&df->region, r);
out_unlock:
	mutex_unlock(&df->lock);
	return err;
}

static int dsm_dev_remove(void __user *argp)
{
	struct dsm_remove req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	return dsm_region_remove(req.key);
}

static int dsm_dev_info(void __user *argp)
{
	struct dsm_info info = {
		.node_id = dsm_self_id(),
		.epoch = dsm_members_epoch(),
		.dead_timeout_ms = dsm_dead_timeout_ms(),
	};

	if (info.epoch)
		info.members = dsm_members_count();
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * The members that are not lost, and their epoch, read as one (again if an
 * epoch began meanwhile). A lost node stays in the member list until it
 * comes back or is dropped; requests stop counting on it at once.
 */
static int dsm_dev_members(void __user *argp)
{
	struct dsm_members m;
	u32 id;

	do {
		m.epoch = dsm_members_epoch();
		m.nodes = 0;
		for (id = 1; m.epoch && id <= DSM_MAX_NODES; id++)
			if (!dsm_node_gone(id))
				m.nodes |= dsm_node_bit(id);
	} while (m.epoch != dsm_members_epoch());
	return copy_to_user(argp, &m, sizeof(m)) ? -EFAULT : 0;
}

/*
 * The region the calling process maps at @addr, a 4-byte aligned word
 * inside it; @pgoff set to the word's page. Return: the region, with a
 * reference, or -EINVAL, -EFAULT, -EINTR.
 */
static struct dsm_region *dsm_dev_word_at(u64 addr, pgoff_t *pgoff)
{
	struct dsm_region *r;

	if (addr % sizeof(u32) || addr > TASK_SIZE_MAX)
		return ERR_PTR(-EINVAL);
	r = dsm_vm_region_at(addr, pgoff);
	if (!IS_ERR(r) && *pgoff >= r->npages) {
		dsm_region_put(r);
		return ERR_PTR(-EINVAL);
	}
	return r;
}

static int dsm_dev_wait(void __user *argp)
{
	struct dsm_region *r;
	struct dsm_wait req;
	pgoff_t pgoff;
	int err;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.pad)
		return -EINVAL;
	r = dsm_dev_word_at(req.addr, &pgoff);
	if (IS_ERR(r))
		return PTR_ERR(r);
	err = dsm_pages_wait_word(r, pgoff, offset_in_page(req.addr),
				  req.expected, req.timeout_ns);
	dsm_region_put(r);
	return err;
}

static int dsm_dev_barrier(void __user *argp)
{
	struct dsm_barrier_arrive req;
	struct dsm_region *r;
	pgoff_t pgoff;
	int err;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.pad || !req.parties || req.parties > DSM_BARRIER_MAX_PARTIES)
		return -EINVAL;
	r = dsm_dev_word_at(req.addr, &pgoff);
	if (IS_ERR(r))
		return PTR_ERR(r);
	err = dsm_barrier_wait(r, ((u64)pgoff << PAGE_SHIFT) +
			       offset_in_page(req.addr), req.parties);
	dsm_region_put(r);
	return err;
}

/* DSM_IOC_FREEZE (@freeze) or DSM_IOC_THAW on the file's region. */
static int dsm_dev_freeze(struct file *file, bool freeze)
{
	struct dsm_file *df = file->private_data;
	int err;

	if (mutex_lock_killable(&df->lock))
		return -EINTR;
	if (!df->region) {
		err = freeze ? -ENXIO : -EINVAL;
	} else if (freeze == df->frozen) {
		err = freeze ? -EBUSY : -EINVAL;
	} else if (freeze) {
		err = dsm_freeze_region(df->region, &df->freeze);
		df->frozen = !err;
	} else {
		err = dsm_thaw_region(df->region, &df->freeze);
		df->frozen = false;	/* ended, whatever it says */
	}
	mutex_unlock(&df->lock);
	return err;
}

/*
 * DSM_IOC_COMMIT (the whole region), fsync, and msync(MS_SYNC) (the bytes
 * @start to @end of the file's region).
 */
static int dsm_dev_commit(struct file *file, loff_t start, loff_t end)
{
	struct dsm_file *df = file->private_data;
	/* pairs with dsm_dev_attach() */
	struct dsm_region *r = smp_load_acquire(&df->region);

	if (!r)
		return -ENXIO;
	return dsm_replica_commit(r, start >> PAGE_SHIFT,
				  end >= (loff_t)r->size ? ULONG_MAX : end >> PAGE_SHIFT);
}

static int dsm_dev_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	return dsm_dev_commit(file, start, end);
}

static long dsm_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	long err;

	switch (cmd) {
	case DSM_IOC_ATTACH:
		err = dsm_dev_attach(file, argp);
		break;
	case DSM_IOC_REMOVE:
		err = dsm_dev_remove(argp);
		break;
	case DSM_IOC_INFO:
		err = dsm_dev_info(argp);
		break;
	case DSM_IOC_MEMBERS:
		err = dsm_dev_members(argp);
		break;
	case DSM_IOC_WAIT:
		err = dsm_dev_wait(argp);
		if (err == -ETIMEDOUT || err == -EINTR)
			return err;	/* how a wait ends, not a bad call */
		break;
	case DSM_IOC_BARRIER:
		err = dsm_dev_barrier(argp);
		if (err >= 0 || err == -EINTR || err == -ENOLINK ||
		    err == -ENOTCONN)
			return err;	/* 1: the last arrival; errors the cluster's */
		break;
	case DSM_IOC_FREEZE:
	case DSM_IOC_THAW:
		err = dsm_dev_freeze(file, cmd == DSM_IOC_FREEZE);
		if (err == -EAGAIN || err == -ETIME || err == -ENOTCONN ||
		    err == -EINTR || err == -ENOSPC || err == -EPROTO ||
		    err == -ENOMEM)
			return err;	/* the cluster's doing, not a bad call */
		break;
	case DSM_IOC_COMMIT:
		err = dsm_dev_commit(file, 0, LLONG_MAX);
		if (err == -EIO || err == -EINTR || err == -ENOMEM)
			return err;	/* the cluster's doing, not a bad call */
		break;
	default:
		err = -ENOTTY;
	}
	if (err)
		dsm_stat_inc(DSM_STAT_BAD_IOCTL);
	return err;
}

static int dsm_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dsm_file *df = file->private_data;
	/* pairs with dsm_dev_attach() */
	struct dsm_region *r = smp_load_acquire(&df->region);
	int err = r ? dsm_vm_mmap(r, vma) : -ENXIO;	/* no region attached */

	if (err)
		dsm_stat_inc(DSM_STAT_BAD_MMAP);
	return err;
}

static const struct file_operations dsm_dev_fops = {
	.owner = THIS_MODULE,
	.open = dsm_dev_open,
	.release = dsm_dev_release,
	.unlocked_ioctl = dsm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = dsm_dev_mmap,
	.fsync = dsm_dev_fsync,
};

static struct miscdevice dsm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dsm",
	.fops = &dsm_dev_fops,
	.mode = 0660,
};

/**
 * dsm_dev_init() - create /dev/dsm
 *
 * Return: 0 or a negative errno.
 */
int dsm_dev_init(void)
{
	return misc_register(&dsm_miscdev);
}

/**
 * dsm_dev_exit() - remove /dev/dsm
 */
void dsm_dev_exit(void)
{
	misc_deregister(&dsm_miscdev);
}
