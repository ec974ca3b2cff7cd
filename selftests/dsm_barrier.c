// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_barrier: wait until every node of a test reaches the same point.
 *
 *   dsm_barrier NAME [TIMEOUT_S]
 *
 * Uses DSM_NODE_ID and DSM_NODES. Node 1 listens on 10.0.0.1:DSM_BARRIER_PORT,
 * collects one connection per other node (each sends NAME), then answers
 * "go" to all. Plain TCP on the test's private network, independent of dsm,
 * so it works while nodes leave and join. Exit 0 on success, 1 on timeout
 * or a mismatched NAME.
 *
 * A follower whose connection is reset before any answer connects again:
 * it reached the listening socket of node 1's previous barrier between
 * that one's last accept and its close (the kernel completes connections
 * into a listener's backlog), so node 1 never read its NAME.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DSM_BARRIER_PORT 9931
#define MAX_NODES 64

static time_t deadline;

static int fail(const char *what, const char *name)
{
	fprintf(stderr, "dsm_barrier %s: %s\n", name, what);
	return 1;
}

static int leader(int nodes, const char *name)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(DSM_BARRIER_PORT) };
	int fds[MAX_NODES], lfd, n = 0, one = 1, i;
	char buf[128];
	ssize_t len;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, MAX_NODES))
		return fail("cannot listen", name);
	while (n < nodes - 1) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		if (time(NULL) > deadline)
			return fail("timeout waiting for the other nodes", name);
		if (poll(&p, 1, 200) <= 0)
			continue;
		fds[n] = accept(lfd, NULL, NULL);
		if (fds[n] < 0)
			continue;
		len = read(fds[n], buf, sizeof(buf) - 1);
		buf[len > 0 ? len : 0] = '\0';
		if (strcmp(buf, name))
			return fail("another barrier's name arrived", name);
		n++;
	}
	for (i = 0; i < n; i++) {
		if (write(fds[i], "go", 2) != 2)
			return fail("lost a node", name);
		close(fds[i]);
	}
	close(lfd);
	return 0;
}

static int follower(const char *name)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(DSM_BARRIER_PORT) };
	char buf[8];
	int fd;

	ssize_t n;
	int err;

	sin.sin_addr.s_addr = inet_addr("10.0.0.1");
	for (;;) {
		if (time(NULL) > deadline)
			return fail("timeout reaching node 1", name);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			close(fd);
			usleep(100000);
			continue;
		}
		n = write(fd, name, strlen(name)) == (ssize_t)strlen(name) ?
		    read(fd, buf, sizeof(buf)) : -1;
		err = errno;
		close(fd);
		if (n == 2)
			return 0;
		if (n >= 0 || (err != ECONNRESET && err != EPIPE) ||
		    time(NULL) > deadline)
			return fail("node 1 gave up", name);
		usleep(100000);	/* reset unread: a previous barrier's socket */
	}
}

int main(int argc, char **argv)
{
	const char *id = getenv("DSM_NODE_ID"), *nodes = getenv("DSM_NODES");

	if (argc < 2 || !id || !nodes || strlen(argv[1]) > 100) {
		fputs("usage: dsm_barrier NAME [TIMEOUT_S] (with DSM_NODE_ID, DSM_NODES)\n",
		      stderr);
		return 2;
	}
	deadline = time(NULL) + (argc > 2 ? atoi(argv[2]) : 120);
	signal(SIGPIPE, SIG_IGN);	/* a reset connection: its write fails */
	if (atoi(nodes) > MAX_NODES)
		return fail("too many nodes", argv[1]);
	return atoi(id) == 1 ? leader(atoi(nodes), argv[1]) : follower(argv[1]);
}
