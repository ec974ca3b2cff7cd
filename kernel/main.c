// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: module init and exit.
 *
 * Init brings up the parts in dependency order and registers the netlink
 * family last, so userspace never sees a half-initialised module; exit undoes
 * them in reverse.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "dsm.h"

/*
 * Fault injection for the selftests: unload without leaving the cluster,
 * as a node that crashes would vanish (its links just close).
 */
static bool dsm_inject_crash;
module_param_named(inject_crash, dsm_inject_crash, bool, 0600);
MODULE_PARM_DESC(inject_crash, "testing: unload without leaving the cluster, like a crash");

static int __init dsm_init(void)
{
	int err;

	/* the transport names none of the layers above: they register here */
	err = dsm_net_init(&dsm_members_net_ops);
	if (err)
		return err;
	dsm_net_set_handler(DSM_MSG_JOIN, dsm_members_on_join);
	dsm_net_set_handler(DSM_MSG_LEAVE, dsm_members_on_leave);
	dsm_net_set_handler(DSM_MSG_MEMBERS, dsm_members_on_members);
	dsm_net_set_handler(DSM_MSG_LOG, dsm_members_on_log);
	dsm_net_set_handler(DSM_MSG_REGION, dsm_region_on_request);
	dsm_net_set_handler(DSM_MSG_PAGE, dsm_pages_on_msg);
	dsm_net_set_handler(DSM_MSG_PAGES, dsm_pages_on_pack);
	dsm_net_set_handler(DSM_MSG_LEAVING, dsm_pages_on_leaving);
	dsm_net_set_handler(DSM_MSG_CENSUS, dsm_pages_on_census);
	dsm_net_set_handler(DSM_MSG_REPLICA, dsm_replica_on_msg);
	dsm_net_set_handler(DSM_MSG_BARRIER, dsm_barrier_on_msg);
	dsm_net_set_handler(DSM_MSG_FREEZE, dsm_freeze_on_msg);
	err = dsm_dev_init();
	if (err)
		goto err_net;
	err = dsm_netlink_init();
	if (err)
		goto err_dev;
	pr_info("loaded, version " DSM_VERSION "\n");
	return 0;

err_dev:
	dsm_dev_exit();
err_net:
	dsm_net_exit();
	return err;
}

static void __exit dsm_exit(void)
{
	dsm_netlink_exit();
	if (dsm_members_epoch() && !dsm_inject_crash)	/* peers see us leave */
		dsm_cluster_leave(true, NULL);
	dsm_members_exit();
	dsm_freezes_stop();	/* its work sends: before the links go */
	dsm_net_exit();
	dsm_dev_exit();
	dsm_barriers_destroy();
	dsm_regions_destroy();
	pr_info("unloaded\n");
}

module_init(dsm_init);
module_exit(dsm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Page-based distributed shared memory");
MODULE_AUTHOR("The dsm developers");
MODULE_VERSION(DSM_VERSION);
MODULE_ALIAS_GENL_FAMILY(DSM_GENL_NAME);
