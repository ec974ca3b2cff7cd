// SPDX-License-Identifier: GPL-2.0
/*
 * dsmctl: generic netlink client for the dsm family.
 *
 * libnl-3 neither asks for nor parses extended acks, so this file turns on
 * NETLINK_EXT_ACK (and NETLINK_CAP_ACK, so errors do not echo our request)
 * and reads NLMSGERR_ATTR_MSG / NLMSGERR_ATTR_MISS_TYPE from each error.
 */
#include <errno.h>
#include <linux/dsm.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct dsm_nl_req {
	struct dsm_nl *nl;
	dsm_nl_reply_fn fn;
	void *arg;
	int err;
	int done;
};

/**
 * dsm_nl_open() - connect to the dsm family
 * @nl: the connection to set up
 *
 * Return: 0, -ENOENT if the family is not registered (module not loaded),
 * or another negative errno.
 */
int dsm_nl_open(struct dsm_nl *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk))
		goto fail;
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, DSM_GENL_NAME);
	if (nl->family < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -ENOENT;
	}
	return 0;
fail:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return -EIO;
}

void dsm_nl_close(struct dsm_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

/**
 * dsm_nl_msg() - a new request for a dsm command
 * @nl: the connection
 * @cmd: a DSM_CMD_* value
 *
 * Return: the message (free with nlmsg_free() unless sent), or NULL.
 */
struct nl_msg *dsm_nl_msg(struct dsm_nl *nl, uint8_t cmd)
{
	return dsm_nl_msg_flags(nl, cmd, 0);
}

/**
 * dsm_nl_msg_flags() - a new request with netlink flags (e.g. NLM_F_DUMP)
 * @nl: the connection
 * @cmd: a DSM_CMD_* value
 * @flags: NLM_F_* flags
 *
 * Return: the message, or NULL.
 */
struct nl_msg *dsm_nl_msg_flags(struct dsm_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				flags, cmd, DSM_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int dsm_nl_on_valid(struct nl_msg *msg, void *arg)
{
	struct dsm_nl_req *req = arg;
	struct nlattr *tb[DSM_A_MAX + 1];
	int err;

	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, DSM_A_MAX, NULL);
	if (err) {
		req->err = -EPROTO;
		return NL_STOP;
	}
	if (req->fn) {
		err = req->fn(tb, req->arg);
		if (err) {
			req->err = err;
			return NL_STOP;
		}
	}
	return NL_OK;
}

static int dsm_nl_on_ack(struct nl_msg *msg, void *arg)
{
	struct dsm_nl_req *req = arg;

	(void)msg;
	req->done = 1;
	return NL_STOP;
}

/* Keep an extended ack's message and missing-attribute type (@tlvs). */
static void dsm_nl_keep_ack(struct dsm_nl *nl, void *tlvs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, tlvs, len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		nl->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
}

static int dsm_nl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e,
			   void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct dsm_nl_req *req = arg;
	int off = sizeof(*e);

	(void)who;
	req->err = e->error;
	req->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	dsm_nl_keep_ack(req->nl, (char *)e + off,
			(int)nlh->nlmsg_len - NLMSG_HDRLEN - off);
	return NL_STOP;
}

/* The end of a dump: its errno (a refused dump) and extended ack, if any. */
static int dsm_nl_on_done(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dsm_nl_req *req = arg;
	int err, off = NLMSG_ALIGN(sizeof(err));

	req->done = 1;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(err))
		return NL_STOP;
	memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0)
		req->err = err;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		dsm_nl_keep_ack(req->nl, (char *)nlmsg_data(nlh) + off,
				(int)nlh->nlmsg_len - NLMSG_HDRLEN - off);
	return NL_STOP;
}

/**
 * dsm_nl_request() - send a request and wait for its acknowledgement
 * @nl: the connection
 * @msg: the request, consumed
 * @fn: called for each reply message, may be NULL
 * @arg: passed to @fn
 *
 * Return: 0, the kernel's negative errno (with @nl->errmsg set when the
 * kernel explained), or the first non-zero value @fn returned.
 */
int dsm_nl_request(struct dsm_nl *nl, struct nl_msg *msg,
		   dsm_nl_reply_fn fn, void *arg)
{
	struct dsm_nl_req req = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int err;

	nl->errmsg[0] = '\0';
	nl->miss_type = -1;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dsm_nl_on_valid, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, dsm_nl_on_ack, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, dsm_nl_on_done, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, dsm_nl_on_error, &req);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(cb);
		return -EIO;
	}
	while (!req.done && !req.err) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !req.err)
			req.err = -EIO;
	}
	nl_cb_put(cb);
	return req.err;
}

/**
 * dsm_nl_monitor() - call @fn for every event until it returns non-zero
 * @nl: the connection, used for events only from now on
 * @fn: called with each event's attributes
 * @arg: passed to @fn
 *
 * Return: what @fn returned, -EPERM without CAP_NET_ADMIN, or -EIO.
 */
int dsm_nl_monitor(struct dsm_nl *nl, dsm_nl_reply_fn fn, void *arg)
{
	struct dsm_nl_req req = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int grp, err;

	grp = genl_ctrl_resolve_grp(nl->sk, DSM_GENL_NAME, DSM_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return -ENOENT;
	nl_socket_disable_seq_check(nl->sk);
	if (nl_socket_add_membership(nl->sk, grp))
		return -EPERM;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dsm_nl_on_valid, &req);
	while (!req.err) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !req.err)
			req.err = -EIO;
	}
	nl_cb_put(cb);
	return req.err;
}
