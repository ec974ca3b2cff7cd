// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_rst: abort every established TCP connection of this machine on a
 * port, as `ss -K state established` does.
 *
 *   dsm_rst PORT [LOCAL_ADDR]
 *
 * Dumps the IPv4 TCP sockets over NETLINK_SOCK_DIAG (SOCK_DIAG_BY_FAMILY,
 * every state), keeps the connections whose local or remote port is PORT
 * (and, if given, whose local address is LOCAL_ADDR) and sends SOCK_DESTROY for each: the kernel sends the peer a RST and
 * fails the socket with ECONNABORTED. Only established connections are
 * aborted: the live links (see is_connection). Needs CAP_NET_ADMIN and a
 * kernel with CONFIG_INET_DIAG_DESTROY=y and inet_diag and tcp_diag loaded.
 *
 * Prints each connection aborted, then "dsm_rst: destroyed N connection(s)".
 * Exit status: 0 if N >= 1, 1 if none matched, 2 on error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* the TCP states of include/net/tcp_states.h that matter here */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_FIN_WAIT2,
	ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK, ST_LISTEN,
	ST_CLOSING, ST_NEW_SYN_RECV, ST_MAX
};

static const char *const state_names[ST_MAX] = {
	[ST_ESTABLISHED] = "ESTABLISHED", [ST_SYN_SENT] = "SYN_SENT",
	[ST_SYN_RECV] = "SYN_RECV", [ST_FIN_WAIT1] = "FIN_WAIT1",
	[ST_FIN_WAIT2] = "FIN_WAIT2", [ST_TIME_WAIT] = "TIME_WAIT",
	[ST_CLOSE] = "CLOSE", [ST_CLOSE_WAIT] = "CLOSE_WAIT",
	[ST_LAST_ACK] = "LAST_ACK", [ST_LISTEN] = "LISTEN",
	[ST_CLOSING] = "CLOSING", [ST_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

struct target {
	struct inet_diag_sockid id;
	unsigned int state;
};

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "dsm_rst: %s: %s\n", what, strerror(err));
	return 2;
}

/*
 * Only established connections: the live links. A closed link's socket
 * lingering in FIN_WAIT or CLOSE_WAIT is no link, and aborting only such
 * sockets would report success while every link stays up.
 */
static int is_connection(unsigned int state)
{
	return state == ST_ESTABLISHED;
}

static int send_req(int fd, __u16 type, __u16 flags, __u32 seq,
		    const struct inet_diag_sockid *id)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct diag_req req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | flags,
			.nlmsg_seq = seq,
		},
		.r = {
			.sdiag_family = AF_INET,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = ~0U,	/* every state */
		},
	};

	if (id)
		req.r.id = *id;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* One read of the netlink socket: its length, or a negative errno. */
static ssize_t recv_some(int fd, void *buf, size_t size)
{
	ssize_t len;

	do {
		len = recv(fd, buf, size, 0);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	return len ? len : -ENODATA;
}

/*
 * Dump the IPv4 TCP sockets and collect the connections on @port (from
 * address @local, if not 0) in *@out (*@n of them). Returns 0 or a
 * negative errno.
 */
static int collect(int fd, __u16 port, in_addr_t local, struct target **out,
		   size_t *n)
{
	static long buf[8192];	/* 64 KiB, aligned for nlmsghdr */
	size_t cap = 0;
	int err;

	err = send_req(fd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, 1, NULL);
	if (err)
		return err;
	for (;;) {
		ssize_t len = recv_some(fd, buf, sizeof(buf));
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0)
			return len;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);
			struct target *t;

			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			if (m->idiag_family != AF_INET ||
			    !is_connection(m->idiag_state) ||
			    (ntohs(m->id.idiag_sport) != port &&
			     ntohs(m->id.idiag_dport) != port) ||
			    (local && m->id.idiag_src[0] != local))
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				t = realloc(*out, cap * sizeof(*t));
				if (!t)
					return -ENOMEM;
				*out = t;
			}
			(*out)[*n].id = m->id;
			(*out)[*n].state = m->idiag_state;
			(*n)++;
		}
	}
}

/*
 * SOCK_DESTROY one socket and wait for the kernel's answer. Returns 0,
 * or a negative errno: -ENOENT or -ESTALE if the socket went away meanwhile
 * (the cookie makes sure that a listener on the same port is never hit).
 */
static int destroy(int fd, const struct inet_diag_sockid *id, __u32 seq)
{
	static long buf[1024];
	int err;

	err = send_req(fd, SOCK_DESTROY, NLM_F_ACK, seq, id);
	if (err)
		return err;
	for (;;) {
		ssize_t len = recv_some(fd, buf, sizeof(buf));
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0)
			return len;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error;
		}
	}
}

static void print_conn(const struct target *t)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, t->id.idiag_src, src, sizeof(src));
	inet_ntop(AF_INET, t->id.idiag_dst, dst, sizeof(dst));
	printf("dsm_rst: aborted %s:%u <-> %s:%u (%s)\n",
	       src, ntohs(t->id.idiag_sport), dst, ntohs(t->id.idiag_dport),
	       state_names[t->state] ? : "?");
}

int main(int argc, char **argv)
{
	struct target *targets = NULL;
	size_t n = 0, i, destroyed = 0;
	in_addr_t local = 0;
	unsigned long port;
	char *end;
	int fd, err;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: dsm_rst PORT [LOCAL_ADDR]\n");
		return 2;
	}
	if (argc == 3 && (local = inet_addr(argv[2])) == INADDR_NONE) {
		fprintf(stderr, "dsm_rst: bad address '%s'\n", argv[2]);
		return 2;
	}
	errno = 0;
	port = strtoul(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || port < 1 || port > 65535) {
		fprintf(stderr, "dsm_rst: bad port '%s' (1-65535)\n", argv[1]);
		return 2;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return fail("netlink socket (NETLINK_SOCK_DIAG)", errno);
	err = collect(fd, port, local, &targets, &n);
	if (err) {
		close(fd);
		return fail("dump of the TCP sockets (inet_diag, tcp_diag loaded?)", -err);
	}
	for (i = 0; i < n; i++) {
		err = destroy(fd, &targets[i].id, 2 + i);
		if (err == -ENOENT || err == -ESTALE)
			continue;	/* closed since the dump */
		if (err) {
			close(fd);
			return fail("SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY=y? CAP_NET_ADMIN?)",
				    -err);
		}
		print_conn(&targets[i]);
		destroyed++;
	}
	close(fd);
	free(targets);
	printf("dsm_rst: destroyed %zu connection(s)\n", destroyed);
	return destroyed ? 0 : 1;
}
