/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: differences between the kernels we build for (6.1 .. 6.12).
 *
 * Each difference is detected by a feature probe in Kbuild (a grep of the
 * target's headers), never by comparing version numbers: distributions
 * backport interfaces.
 */
#ifndef _DSM_COMPAT_H
#define _DSM_COMPAT_H

#include <linux/mm.h>

#ifndef DSM_HAVE_VM_FLAGS_SET
/* vm_flags became read-only behind helpers in 6.3. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

#ifndef DSM_HAVE_RELEASE_FAULT_LOCK
/* Faults may run under a per-VMA lock since 6.4; before, mmap_lock only. */
static inline void release_fault_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->vma->vm_mm);
}
#endif

#endif /* _DSM_COMPAT_H */
