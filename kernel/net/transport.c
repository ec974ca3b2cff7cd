// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: start and stop the peer transport as a whole.
 */
#include "transport.h"

struct workqueue_struct *dsm_wq;
const struct dsm_net_ops *dsm_net_ops;

/**
 * dsm_net_init() - create the transport's workqueue and slots
 * @ops: the callbacks of the layers above (kept; static)
 *
 * Return: 0 or -ENOMEM.
 */
int dsm_net_init(const struct dsm_net_ops *ops)
{
	dsm_net_ops = ops;
	/* unbound: connects and sends may block; reclaim-safe for later use */
	dsm_wq = alloc_workqueue("dsm", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!dsm_wq)
		return -ENOMEM;
	if (dsm_out_init()) {
		destroy_workqueue(dsm_wq);
		return -ENOMEM;
	}
	dsm_out_new_incarnation();
	dsm_peers_init();
	dsm_quorum_init();
	dsm_listen_init();
	dsm_peers_heartbeat(true);
	return 0;
}

/**
 * dsm_net_exit() - close every socket and stop every work
 *
 * The caller has left the cluster, so no new link starts.
 */
void dsm_net_exit(void)
{
	dsm_listen_stop();
	dsm_quorum_exit();	/* first: nothing queues the heartbeat again */
	dsm_peers_heartbeat(false);
	dsm_net_peers_drop();
	drain_workqueue(dsm_wq);
	dsm_out_exit();
	dsm_conn_pending_expire(true);
	destroy_workqueue(dsm_wq);
	dsm_hs_set_key(NULL);
}
