/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A rogue peer speaking dsm's wire protocol, for the tests that attack a
 * node's port (dsm_rogue_test, dsm_fuzz): connections, framing, a join in
 * a rogue node's name and the peer link the node then opens to it, with
 * the sequence numbers a reliable message needs; and this node's counters
 * over netlink. Runs on a guest of the test cluster (DSM_NODE_ID), against
 * its own dsm port.
 */
#ifndef _DSM_SELFTEST_ROGUE_H
#define _DSM_SELFTEST_ROGUE_H

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/dsm.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#define __packed __attribute__((packed))
#include "../kernel/net/wire.h"

static inline uint32_t self_id(void)
{
	const char *id = getenv("DSM_NODE_ID");

	return id ? atoi(id) : 1;
}

static inline int rogue_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(DSM_DEFAULT_PORT) };
	char addr[32];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	snprintf(addr, sizeof(addr), "10.0.0.%u", self_id());
	sin.sin_addr.s_addr = inet_addr(addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline struct dsm_wire_hdr hdr_of(uint8_t type, uint32_t len, uint32_t src)
{
	struct dsm_wire_hdr h = {
		.magic = htole32(DSM_WIRE_MAGIC),
		.version = DSM_WIRE_VERSION,
		.type = type,
		.len = htole32(len),
		.src = htole32(src),
		.dst = htole32(self_id()),
	};
	return h;
}

static inline struct dsm_wire_hello hello_of(uint64_t cluster, uint16_t flags)
{
	struct dsm_wire_hello h = {
		.cluster_id = htole64(cluster),
		.dead_timeout_ms = htole32(DSM_DEAD_TIMEOUT_DEFAULT),
		.flags = htole16(flags),
		.port = htole16(DSM_DEFAULT_PORT),
		.addr = inet_addr("10.0.0.99"),
	};
	return h;
}

static inline int send_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static inline int send_msg(int fd, struct dsm_wire_hdr h, const void *payload,
		    size_t len)
{
	return send_all(fd, &h, sizeof(h)) || (len && send_all(fd, payload, len));
}

/*
 * Read until the server closes; return 1 if it did within @secs. A REFUSE
 * on the way is stored in *refused.
 */
static inline int closed_within(int fd, int secs, uint32_t *refused)
{
	time_t end = time(NULL) + secs;
	uint8_t buf[4096];
	size_t have = 0;
	ssize_t n;

	while (time(NULL) <= end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			return 1;
		have += n;
		if (refused && have >= sizeof(struct dsm_wire_hdr) + 4 &&
		    ((struct dsm_wire_hdr *)buf)->type == DSM_MSG_REFUSE)
			memcpy(refused, buf + sizeof(struct dsm_wire_hdr), 4);
		if (have == sizeof(buf))
			have = 0;
	}
	return 0;
}

struct stat_req {
	int which;
	uint64_t v;
};

static inline int stat_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *st[DSM_STAT_MAX + 1];
	struct stat_req *req = arg;

	if (tb[DSM_A_STATS] &&
	    !nla_parse_nested(st, DSM_STAT_MAX, tb[DSM_A_STATS], NULL) &&
	    st[req->which])
		req->v = nla_get_u64(st[req->which]);
	return 0;
}

/* This node's status (DSM_CMD_GET), read by @fn; nothing if it cannot ask. */
static inline void node_get(dsm_nl_reply_fn fn, void *arg)
{
	struct dsm_nl nl;

	if (dsm_nl_open(&nl))
		return;
	dsm_nl_request(&nl, dsm_nl_msg(&nl, DSM_CMD_GET), fn, arg);
	dsm_nl_close(&nl);
}

/* One of this node's counters, read over netlink. */
static inline uint64_t node_stat(int which)
{
	struct stat_req req = { .which = which, .v = ~0ULL };

	node_get(stat_reply, &req);
	return req.v;
}

static inline int regions_reply(struct nlattr **tb, void *arg)
{
	if (tb[DSM_A_REGIONS])
		*(uint32_t *)arg = nla_get_u32(tb[DSM_A_REGIONS]);
	return 0;
}

/* The number of regions this node knows. */
static inline uint32_t node_regions(void)
{
	uint32_t n = ~0U;

	node_get(regions_reply, &n);
	return n;
}

static inline int count_up(struct nlattr **tb, void *arg)
{
	struct nlattr *p[DSM_PEER_A_MAX + 1];

	if (tb[DSM_A_PEER] &&
	    !nla_parse_nested(p, DSM_PEER_A_MAX, tb[DSM_A_PEER], NULL) &&
	    p[DSM_PEER_A_STATE] && nla_get_u32(p[DSM_PEER_A_STATE]) == DSM_PEER_UP)
		(*(int *)arg)++;
	return 0;
}

static inline int peers_up(void)
{
	struct dsm_nl nl;
	int up = 0;

	if (dsm_nl_open(&nl))
		return -1;
	dsm_nl_request(&nl, dsm_nl_msg_flags(&nl, DSM_CMD_PEER_GET, NLM_F_DUMP),
		       count_up, &up);
	dsm_nl_close(&nl);
	return up;
}

/* Set this node's dsm module parameter @name (a fault-injection hook). */
static inline int set_param(const char *name, const char *value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/dsm/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	if (fputs(value, f) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}


/*
 * A rogue member: joins the cluster as node 9 (listening on port 7979 of
 * this node's address), takes the peer link this node opens to it, and
 * sends malformed coherence and region messages on it. Each must close the
 * link and count one bad message; then it leaves the cluster properly.
 */
#define ROGUE_ID	9
#define ROGUE_PORT	7979

#define ROGUE_INC	0x5eed5eed5eed5eedULL	/* its incarnation */

/* A rogue member: its identity, and its link's delivery state. */
struct rogue {
	uint32_t id;
	uint16_t port;
	uint64_t epoch;
	uint64_t seq;	/* the next reliable message's sequence number */
};

/* The rogue the helpers below act as (a test may use a second one). */
static struct rogue rogue_9 = { .id = ROGUE_ID, .port = ROGUE_PORT }, *rogue = &rogue_9;

static inline int read_full(int fd, void *buf, size_t len, int secs)
{
	time_t end = time(NULL) + secs;
	size_t got = 0;
	ssize_t n;

	while (got < len && time(NULL) <= end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return got == len ? 0 : -1;
}

/*
 * Join as the rogue through this node's join handshake, claiming to listen
 * at @addr. Return: -1 if the exchange failed, else the JOIN's status
 * (0: a member now).
 */
static inline int rogue_join_as(in_addr_t addr)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello),
				       rogue->id);
	struct dsm_wire_hello hello = hello_of(1, DSM_HELLO_JOIN);
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_hello hello;
	} __packed back;
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_reply r;
	} __packed reply;
	int fd = rogue_connect();

	hello.addr = addr;
	hello.port = htole16(rogue->port);
	h.dst = 0;
	if (fd < 0 || send_msg(fd, h, &hello, sizeof(hello)) ||
	    read_full(fd, &back, sizeof(back), 10) || back.h.type != DSM_MSG_HELLO)
		return -1;
	h = hdr_of(DSM_MSG_JOIN, 0, rogue->id);
	h.req_id = htole64(1);
	if (send_msg(fd, h, NULL, 0) ||
	    read_full(fd, &reply, sizeof(reply), 10) ||
	    reply.h.type != DSM_MSG_REPLY)
		return -1;
	rogue->epoch = le64toh(reply.r.epoch);
	close(fd);	/* the rest of the reply (the member list) is not needed */
	return (int32_t)le32toh(reply.r.status);
}

/* Join as the rogue from, and at, this node's address. */
static inline int rogue_join(void)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "10.0.0.%u", self_id());
	return rogue_join_as(inet_addr(addr));
}

static inline int rogue_listen(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(rogue->port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 8))
		return -1;
	return fd;
}

/* Take this node's peer link to the rogue; others' attempts are closed. */
static inline int rogue_accept(int lfd)
{
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_hello hello;
	} __packed in;
	time_t end = time(NULL) + 20;

	while (time(NULL) <= end) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct dsm_wire_hdr h;
		struct dsm_wire_hello hello;
		int fd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (read_full(fd, &in, sizeof(in), 5) || in.h.type != DSM_MSG_HELLO ||
		    le32toh(in.h.src) != self_id()) {
			close(fd);
			continue;
		}
		h = hdr_of(DSM_MSG_HELLO, sizeof(hello), rogue->id);
		h.epoch = htole64(rogue->epoch);
		hello = hello_of(1, 0);
		hello.port = htole16(rogue->port);
		/*
		 * Delivery state as the node announces it: continue where it
		 * is (it knows us), or start afresh; the next message is the
		 * one after the last it received from us.
		 */
		hello.incarnation = htole64(ROGUE_INC + rogue->id);
		if (in.hello.peer_incarnation)
			hello.peer_incarnation = in.hello.incarnation;
		rogue->seq = le64toh(in.hello.rx_seq) + 1;
		if (send_msg(fd, h, &hello, sizeof(hello))) {
			close(fd);
			continue;
		}
		return fd;
	}
	return -1;
}

/* Join as the rogue and take the node's link to it; @lfd: the listener. */
static inline int rogue_member(int *lfd)
{
	*lfd = rogue_listen();
	if (*lfd < 0 || rogue_join())
		return -1;
	return rogue_accept(*lfd);
}

/* A reliable message on the rogue's peer link: the next sequence number. */
static inline struct dsm_wire_hdr rogue_hdr(uint8_t type, uint32_t len)
{
	struct dsm_wire_hdr h = hdr_of(type, len, rogue->id);

	h.epoch = htole64(rogue->epoch);
	h.seq = htole64(rogue->seq++);
	return h;
}

/* A PAGE message; @data_len bytes of page follow. */
static inline int send_page(int fd, struct dsm_wire_page w, size_t data_len)
{
	static uint8_t page[DSM_WIRE_PAGE_SIZE];

	return send_msg(fd, rogue_hdr(DSM_MSG_PAGE, sizeof(w) + data_len), &w,
			sizeof(w)) ||
	       (data_len && send_all(fd, page, data_len));
}

/* Leave properly, so the cluster is 3 nodes again; 1 if the link then closed. */
static inline int rogue_leave(int fd)
{
	struct dsm_wire_hdr h = rogue_hdr(DSM_MSG_LEAVE, 0);

	h.req_id = htole64(2);
	return !send_msg(fd, h, NULL, 0) && closed_within(fd, 10, NULL);
}

/* Send a PAGE message with the page @data (DSM_WIRE_PAGE_SIZE bytes). */
static inline int send_page_with(int fd, struct dsm_wire_page w, const void *data)
{
	return send_msg(fd, rogue_hdr(DSM_MSG_PAGE, sizeof(w) + DSM_WIRE_PAGE_SIZE),
			&w, sizeof(w)) || send_all(fd, data, DSM_WIRE_PAGE_SIZE);
}

/*
 * Read what the node sends on the rogue's link until a PAGE of @type for
 * @w's region and page arrives (into @w); other messages are skipped.
 */
static inline int expect_page(int fd, uint8_t type, struct dsm_wire_page *w, int secs)
{
	uint8_t buf[DSM_WIRE_MAX_PAYLOAD];
	time_t end = time(NULL) + secs;
	struct dsm_wire_hdr h;
	uint32_t len;

	while (time(NULL) <= end) {
		const struct dsm_wire_page *in = (void *)buf;

		if (read_full(fd, &h, sizeof(h), 1))
			continue;
		len = le32toh(h.len);
		if (len > sizeof(buf) || (len && read_full(fd, buf, len, 5)))
			return -1;
		if (h.type != DSM_MSG_PAGE && h.type != DSM_MSG_PAGES)
			continue;
		/* a pack (DSM_MSG_PAGES) is records without data, in order */
		for (; len >= sizeof(*in); in++, len -= sizeof(*in)) {
			if (in->type == type && in->key == w->key &&
			    in->index == w->index) {
				*w = *in;
				return 0;
			}
			if (h.type == DSM_MSG_PAGE)
				break;
		}
	}
	return -1;
}

#endif /* _DSM_SELFTEST_ROGUE_H */
