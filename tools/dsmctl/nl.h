/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsmctl: a small client for the "dsm" generic netlink family (libnl-3),
 * with the kernel's extended-ack messages kept for the caller to print.
 * Shared by dsmctl and the netlink selftest.
 */
#ifndef DSMCTL_NL_H
#define DSMCTL_NL_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdint.h>

/**
 * struct dsm_nl - a connection to the dsm family
 * @sk:        the libnl socket
 * @family:    the family's id
 * @errmsg:    extended-ack text of the last refused request, or ""
 * @miss_type: attribute the kernel reported missing, or -1
 */
struct dsm_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];
	int miss_type;
};

/* Called once per reply message with its parsed top-level attributes. */
typedef int (*dsm_nl_reply_fn)(struct nlattr **tb, void *arg);

int dsm_nl_open(struct dsm_nl *nl);
void dsm_nl_close(struct dsm_nl *nl);
struct nl_msg *dsm_nl_msg(struct dsm_nl *nl, uint8_t cmd);
struct nl_msg *dsm_nl_msg_flags(struct dsm_nl *nl, uint8_t cmd, int flags);
int dsm_nl_monitor(struct dsm_nl *nl, dsm_nl_reply_fn fn, void *arg);
int dsm_nl_request(struct dsm_nl *nl, struct nl_msg *msg,
		   dsm_nl_reply_fn fn, void *arg);

#endif
