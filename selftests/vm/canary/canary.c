// SPDX-License-Identifier: GPL-2.0
/*
 * canary: a test-only module that commits one deliberate kernel bug on load,
 * so the debug lane can prove it notices (make check, step debug-detects).
 * Never loaded outside that test.
 *
 *   insmod canary.ko bug=leak|uaf|lockdep|warn
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static char *bug = "";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "leak, uaf, lockdep or warn");

static DEFINE_MUTEX(canary_a);
static DEFINE_MUTEX(canary_b);
static void *canary_lost;

static int __init canary_init(void)
{
	if (!strcmp(bug, "leak")) {
		canary_lost = kmalloc(128, GFP_KERNEL);
		canary_lost = NULL;		/* the only pointer, dropped */
	} else if (!strcmp(bug, "uaf")) {
		char *p = kmalloc(32, GFP_KERNEL);

		kfree(p);
		pr_info("canary: read %d\n", READ_ONCE(p[3]));
	} else if (!strcmp(bug, "lockdep")) {
		mutex_lock(&canary_a);		/* a then b ... */
		mutex_lock(&canary_b);
		mutex_unlock(&canary_b);
		mutex_unlock(&canary_a);
		mutex_lock(&canary_b);		/* ... then b then a */
		mutex_lock(&canary_a);
		mutex_unlock(&canary_a);
		mutex_unlock(&canary_b);
	} else if (!strcmp(bug, "warn")) {
		WARN_ON(1);
	} else {
		return -EINVAL;
	}
	return 0;
}

static void __exit canary_exit(void)
{
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dsm test canary: deliberate kernel bugs for the debug lane");
