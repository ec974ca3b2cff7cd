// SPDX-License-Identifier: GPL-2.0
/*
 * A rogue client against this node's dsm port (10.0.0.<DSM_NODE_ID>:7878):
 * garbage, wrong magic, wrong version, truncated header, oversized length,
 * unknown type, bad node ids, a wrong cluster, malformed messages after a
 * valid (join) handshake, a flood of half-open connections (also one that
 * holds node 2's slots while this node's links are reset: they must come
 * back), and a rogue member sending malformed coherence messages or
 * messages only a page's home may send (a forward, an invalidation, a
 * FAIL) or only a leaving node (a YIELD, a HANDOVER: from one of the
 * region's homes), an answer in the place of the owner a read was
 * forwarded to, a second request for a page while its first waits, a gap in its sequence numbers, an ack of
 * what was never sent and a sequenced heartbeat on a real peer link, and
 * an answer to a region lookup that no region could have. Each must be
 * refused, closed or ignored, and counted, and the node's real links must
 * stay up.
 * Runs on a node that is a member of a cluster without a key.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rogue.h"
#include "../kernel/coherence/homes.h"

/* Send @data as the whole conversation; the server must close and count. */
#define EXPECT_CLOSED_AND_COUNTED(data, len) do {			\
	uint64_t before = node_stat(DSM_STAT_BAD_WIRE);			\
	int fd = rogue_connect();					\
									\
	ASSERT_LE(0, fd);						\
	ASSERT_EQ(0, send_all(fd, data, len));				\
	EXPECT_TRUE(closed_within(fd, 10, NULL));			\
	close(fd);							\
	EXPECT_EQ(before + 1, node_stat(DSM_STAT_BAD_WIRE));			\
} while (0)

TEST(garbage)
{
	uint8_t junk[64];

	memset(junk, 0xab, sizeof(junk));
	EXPECT_CLOSED_AND_COUNTED(junk, sizeof(junk));
}

TEST(wrong_magic)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, 0, 9);

	h.magic = htole32(0xdeadbeef);
	EXPECT_CLOSED_AND_COUNTED(&h, sizeof(h));
}

TEST(oversized_length)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, 0x7fffffff, 9);

	EXPECT_CLOSED_AND_COUNTED(&h, sizeof(h));
}

TEST(unknown_type)
{
	struct dsm_wire_hdr h = hdr_of(200, 0, 9);

	EXPECT_CLOSED_AND_COUNTED(&h, sizeof(h));
}

TEST(nonzero_reserved_fields)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, 0, 9);

	h.flags = htole16(1);
	EXPECT_CLOSED_AND_COUNTED(&h, sizeof(h));
}

TEST(bad_node_ids)
{
	uint32_t ids[] = { 0, DSM_MAX_NODES + 1, 0xffffffff, self_id() };
	unsigned int i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, 0, ids[i]);

		EXPECT_CLOSED_AND_COUNTED(&h, sizeof(h));
	}
}

/*
 * Send one HELLO (from node 9, a join) as the whole conversation: the node
 * must answer REFUSE with @want, close, and count one refused handshake.
 */
#define EXPECT_REFUSED(ver, cid, want) do {			\
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO,			\
				       sizeof(struct dsm_wire_hello), 9); \
	struct dsm_wire_hello hello = hello_of(cid, DSM_HELLO_JOIN);	\
	uint64_t refused = node_stat(DSM_STAT_HANDSHAKE_REFUSED);	\
	uint32_t reason = 0;						\
	int fd = rogue_connect();					\
									\
	ASSERT_LE(0, fd);						\
	h.version = ver;						\
	ASSERT_EQ(0, send_msg(fd, h, &hello, sizeof(hello)));		\
	EXPECT_TRUE(closed_within(fd, 10, &reason));			\
	EXPECT_EQ(want, le32toh(reason));				\
	close(fd);							\
	EXPECT_EQ(refused + 1, node_stat(DSM_STAT_HANDSHAKE_REFUSED));	\
} while (0)

TEST(wrong_version_is_refused)
{
	EXPECT_REFUSED(99, 1, DSM_REASON_VERSION);
}

TEST(wrong_cluster_is_refused)
{
	EXPECT_REFUSED(DSM_WIRE_VERSION, 42, DSM_REASON_CLUSTER);
}

TEST(stranger_link_is_refused)
{
	/* a peer link (not a join) from a node that is not a member */
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello),
				       DSM_MAX_NODES);
	struct dsm_wire_hello hello = hello_of(1, 0);
	uint32_t reason = 0;
	int fd = rogue_connect();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_msg(fd, h, &hello, sizeof(hello)));
	EXPECT_TRUE(closed_within(fd, 10, &reason));
	/* the higher id never initiates; a lower stranger is not a member */
	EXPECT_TRUE(le32toh(reason) == DSM_REASON_NODE ||
		    le32toh(reason) == DSM_REASON_NOT_MEMBER);
	close(fd);
}

TEST(truncated_header_times_out)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello), 9);
	int fd = rogue_connect();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_all(fd, &h, 20));
	/* pending connections live until their handshake deadline */
	EXPECT_TRUE(closed_within(fd, DSM_DEAD_TIMEOUT_DEFAULT / 1000 + 10, NULL));
	close(fd);
}

/* A join handshake is open to strangers; what follows must be well formed. */
static int joined_conn(void)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello), 9);
	struct dsm_wire_hello hello = hello_of(1, DSM_HELLO_JOIN);
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_hello hello;
	} __packed reply;
	int fd = rogue_connect();
	size_t got = 0;
	ssize_t n;

	h.dst = 0;
	if (fd < 0 || send_msg(fd, h, &hello, sizeof(hello)))
		return -1;
	while (got < sizeof(reply)) {
		n = read(fd, (char *)&reply + got, sizeof(reply) - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return reply.h.type == DSM_MSG_HELLO ? fd : -1;
}

TEST(malformed_after_handshake)
{
	struct dsm_wire_ping ping = { 0 };
	uint8_t four[sizeof(struct dsm_wire_page)] = { 0 };
	struct {
		uint8_t type;
		uint32_t len, src;
		const void *payload;
	} cases[] = {
		{ DSM_MSG_PING, sizeof(ping), 9, &ping },	/* not on a join link */
		{ DSM_MSG_JOIN, 4, 9, four },			/* JOIN has no payload */
		{ DSM_MSG_JOIN, 0, 8, NULL },			/* another sender */
		{ DSM_MSG_HELLO, 0, 9, NULL },			/* handshake is over */
		{ DSM_MSG_PAGE, sizeof(four), 9, four },			/* members only */
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t before = node_stat(DSM_STAT_BAD_WIRE);
		struct dsm_wire_hdr h = hdr_of(cases[i].type, cases[i].len,
					       cases[i].src);
		int fd = joined_conn();

		ASSERT_LE(0, fd);
		h.epoch = htole64(1);
		ASSERT_EQ(0, send_msg(fd, h, cases[i].payload, cases[i].len));
		EXPECT_TRUE(closed_within(fd, 10, NULL));
		close(fd);
		EXPECT_EQ(before + 1, node_stat(DSM_STAT_BAD_WIRE));
	}
}

TEST(half_open_flood)
{
	uint64_t rejected = node_stat(DSM_STAT_CONN_REJECTED);
	int fds[40], i, up = peers_up(), closed = 0, tries;
	bool gone[40] = { false };

	for (i = 0; i < 40; i++)
		fds[i] = rogue_connect();
	/*
	 * At most 16 wait for a handshake; the rest are closed at once (looked
	 * for during up to 20 s: a slow guest may take a while to get there).
	 */
	for (tries = 0; tries < 200 && closed < 24; tries++) {
		usleep(100 * 1000);
		for (i = 0; i < 40; i++) {
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			char c;

			if (!gone[i] && fds[i] >= 0 && poll(&p, 1, 0) == 1 &&
			    read(fds[i], &c, 1) <= 0) {
				gone[i] = true;
				closed++;
			}
		}
	}
	EXPECT_LE(24, closed);
	EXPECT_LE(rejected + 24, node_stat(DSM_STAT_CONN_REJECTED));
	/* and the node's real links did not notice */
	EXPECT_EQ(up, peers_up());
	for (i = 0; i < 40; i++)
		close(fds[i]);
}

/*
 * A connection that ends at once, closed by its receive work before the
 * accept listed it as pending (the accept waits 1 s in between here). It
 * must not be listed: on 8885f0f it was, dead, and once its deadline
 * passed the heartbeat work closed it again and again without end (a soft
 * lockup: no more heartbeats, so the peers lost this node).
 */
TEST(closed_before_listed)
{
	uint64_t down = node_stat(DSM_STAT_PEER_DOWN);
	int fd, up = peers_up();

	ASSERT_EQ(0, set_param("inject_accept_delay_ms", "1000"));
	fd = rogue_connect();
	ASSERT_LE(0, fd);
	close(fd);
	sleep(2);
	set_param("inject_accept_delay_ms", "0");
	/* past its deadline (the dead timeout), and one more for the peers */
	sleep(2 * DSM_DEAD_TIMEOUT_DEFAULT / 1000 + 2);
	EXPECT_EQ(up, peers_up());
	EXPECT_EQ(down, node_stat(DSM_STAT_PEER_DOWN));
}
/*
 * A peer link to node 3 claiming to be node 2, from this node's address:
 * without a cluster key the id is all it proves, so the address the member
 * list records for node 2 must match. (Run on node 1 of 3.)
 */
TEST(impostor_is_refused)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(DSM_DEFAULT_PORT),
				   .sin_addr.s_addr = inet_addr("10.0.0.3") };
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello), 2);
	struct dsm_wire_hello hello = hello_of(1, 0);
	uint32_t reason = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (self_id() != 1 || !getenv("DSM_NODES") || atoi(getenv("DSM_NODES")) < 3)
		SKIP(return, "needs to run on node 1 of at least 3");
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	h.dst = htole32(3);
	hello.addr = inet_addr("10.0.0.2");	/* claimed; the socket says otherwise */
	ASSERT_EQ(0, send_msg(fd, h, &hello, sizeof(hello)));
	EXPECT_TRUE(closed_within(fd, 10, &reason));
	EXPECT_EQ(DSM_REASON_ADDRESS, le32toh(reason));
	close(fd);
}

/* Nobody joins in another host's name (every member would take it for it). */
TEST(join_in_another_name_is_refused)
{
	EXPECT_EQ(-EINVAL, rogue_join_as(inet_addr("10.0.0.99")));
}

/* A half-open connection to node 2 from 10.0.0.99 (no member's address). */
static int stranger_connect(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(DSM_DEFAULT_PORT) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	to.sin_addr.s_addr = inet_addr("10.0.0.2");
	from.sin_addr.s_addr = inet_addr("10.0.0.99");
	if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Replace every flood connection node 2 closed (or that failed). */
static void stranger_refill(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		char c;

		if (fds[i] >= 0 && (poll(&p, 1, 0) != 1 ||
				    (!(p.revents & (POLLERR | POLLHUP)) &&
				     read(fds[i], &c, 1) > 0)))
			continue;	/* still open (and silent) */
		close(fds[i]);
		fds[i] = stranger_connect();
	}
}

/*
 * Strangers holding every pending slot of a node cannot keep its members
 * from linking to it again: a member's connection takes the place of a
 * stranger's. From a second address of this guest, 10.0.0.99 (no
 * member's), 40 half-open connections to node 2 are kept going (16 wait
 * there at any time, the rest are refused); meanwhile this node's links
 * are reset: its link to node 2 must come back while the flood goes on.
 */
TEST(members_link_through_a_flood)
{
	int fds[40], i, up0 = peers_up(), up = -1;
	time_t end;

	if (self_id() != 1)
		SKIP(return, "node 1 links to node 2");
	ASSERT_EQ(0, system("ip addr add 10.0.0.99/24 dev eth0"));
	for (i = 0; i < 40; i++)
		fds[i] = -1;
	for (end = time(NULL) + 2; time(NULL) < end;) {	/* the slots fill */
		stranger_refill(fds, 40);
		usleep(20 * 1000);
	}
	ASSERT_EQ(0, system("dsm_rst 7878 10.0.0.1 > /dev/null"));
	for (end = time(NULL) + 20; time(NULL) < end && (up = peers_up()) != up0;) {
		stranger_refill(fds, 40);
		usleep(20 * 1000);
	}
	EXPECT_EQ(up0, up);
	for (i = 0; i < 40; i++)
		close(fds[i]);
	system("ip addr del 10.0.0.99/24 dev eth0");
}

TEST(rogue_member_messages)
{
	struct dsm_wire_page base = {
		.key = htole64(0xbad0000000000001ULL),
		.npages = htole64(4),
		.homes = htole64(1ULL << self_id()),
		.index = 0,
		.type = 1,		/* request a read copy */
		.requester = htole32(ROGUE_ID),
	};
	struct {
		const char *what;
		struct dsm_wire_page w;
		size_t data;
	} cases[] = {
		{ "unknown page message type", {}, 0 },
		{ "data without its page", {}, 0 },
		{ "page index past the region", {}, 0 },
		{ "region of zero pages", {}, 0 },
		{ "request to a node that is not the page's home, from its home", {}, 0 },
		{ "more copies than a region can have", {}, 0 },
		{ "ack with no write waiting for it", {}, 0 },
		{ "with-data flag on a request", {}, 0 },
		{ "requester id 0", {}, 0 },
		{ "page sent with a request", {}, 0 },
		{ "request in another node's name", {}, 0 },
		{ "read-ahead flag on a write request", {}, 0 },
		{ "unknown page flag", {}, 0 },
		{ "forward from a node that is not the page's home", {}, 0 },
		{ "invalidation from a node that is not the page's home", {}, 0 },
		{ "FAIL from a node that is not the page's home", {}, 0 },
		{ "page handed over by a node that is not leaving", {}, 0 },
		{ "page yielded by a node that is not leaving", {}, 0 },
	};
	struct dsm_wire_region bad_op = { .op = htole32(99) };
	int lfd, fd, n = sizeof(cases) / sizeof(cases[0]), i;
	uint64_t made, dropped, bad;
	struct dsm_wire_page fail;
	struct dsm_wire_hdr h;

	for (i = 0; i < n; i++)
		cases[i].w = base;
	cases[0].w.type = 40;
	cases[1].w.type = 7;			/* DATA */
	cases[2].w.index = htole64(4);
	cases[3].w.npages = 0;
	cases[4].w.key = htole64(0xbad0000000000002ULL);	/* a region new here */
	cases[4].w.homes = htole64(1ULL << ROGUE_ID);	/* not passed back to it */
	cases[5].w.copies = 3;
	cases[6].w.type = 6;			/* INV_ACK */
	cases[7].w.with_data = 1;
	cases[8].w.requester = 0;
	cases[9].data = DSM_WIRE_PAGE_SIZE;
	cases[10].w.requester = htole32(63);	/* not the sender, nor a member */
	cases[11].w.type = 2;			/* REQ_WRITE */
	cases[11].w.flags = DSM_WIRE_PAGE_SPECULATIVE;
	cases[12].w.flags = 0x80;
	/* this node is page 0's home and owner: only it may say these */
	cases[13].w.type = 3;			/* FWD_READ, for the rogue */
	cases[14].w.type = 5;			/* INV, for the rogue's write */
	cases[15].w.type = 16;			/* FAIL of this node's request */
	cases[15].w.requester = htole32(self_id());
	/* only a leaver, which announced it, hands pages over or yields them */
	cases[16].w.type = 18;			/* HANDOVER: a second home */
	cases[16].w.key = htole64(0xbad0000000000004ULL);
	cases[16].w.homes = htole64(1ULL << ROGUE_ID | 1ULL << self_id());
	cases[16].data = DSM_WIRE_PAGE_SIZE;
	cases[17].w.type = 17;			/* YIELD */

	lfd = rogue_listen();
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, rogue_join());
	made = node_stat(DSM_STAT_REGIONS_CREATED);
	for (i = 0; i <= n + 7; i++) {
		uint64_t before = node_stat(DSM_STAT_BAD_WIRE);
		struct dsm_wire_log log = { .type = 1, .term = htole64(1 << 7 | ROGUE_ID) };
		struct dsm_wire_ping ping = {};

		fd = rogue_accept(lfd);
		ASSERT_LE(0, fd);
		if (!i)	/* a valid request: its region is there for the ack case */
			ASSERT_EQ(0, send_page(fd, base, 0));
		if (i < n) {
			TH_LOG("%s", cases[i].what);
			ASSERT_EQ(0, send_page(fd, cases[i].w, cases[i].data));
		} else if (i == n) {
			TH_LOG("unknown region operation");
			ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_REGION, sizeof(bad_op)),
					      &bad_op, sizeof(bad_op)));
		} else if (i == n + 1) {
			TH_LOG("a gap in the sequence numbers");
			h = rogue_hdr(DSM_MSG_PAGE, sizeof(base));
			h.seq = htole64(le64toh(h.seq) + 5);
			ASSERT_EQ(0, send_msg(fd, h, &base, sizeof(base)));
		} else if (i == n + 2) {
			TH_LOG("an ack of messages never sent");
			h = hdr_of(DSM_MSG_PING, sizeof(ping), ROGUE_ID);
			h.epoch = htole64(rogue->epoch);
			h.ack = htole64(1ULL << 40);
			ASSERT_EQ(0, send_msg(fd, h, &ping, sizeof(ping)));
		} else if (i == n + 3) {
			struct dsm_wire_barrier none = { .key = base.key };

			TH_LOG("a barrier arrival for no parties");
			ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_BARRIER, sizeof(none)),
					      &none, sizeof(none)));
		} else if (i <= n + 6) {
			if (i == n + 4) {
				TH_LOG("a member list proposal in another node's term");
				log.term = htole64(1 << 7 | 1);
			} else if (i == n + 5) {
				TH_LOG("a member list term past any round (it would freeze the list)");
				log.type = 6;	/* NACK */
				log.term = htole64(~0ULL);
			} else {
				TH_LOG("a member list join without an address");
				log.type = 3;	/* ACCEPT */
				log.op = 1;	/* JOIN */
				log.node = htole32(63);
			}
			ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_LOG, sizeof(log)),
					      &log, sizeof(log)));
		} else {
			TH_LOG("a sequence number on a heartbeat");
			h = rogue_hdr(DSM_MSG_PING, sizeof(ping));
			ASSERT_EQ(0, send_msg(fd, h, &ping, sizeof(ping)));
		}
		EXPECT_TRUE(closed_within(fd, 10, NULL));
		close(fd);
		EXPECT_EQ(before + 1, node_stat(DSM_STAT_BAD_WIRE));
	}
	/* checked before anything is allocated: no region was made for them */
	EXPECT_EQ(made + 1, node_stat(DSM_STAT_REGIONS_CREATED));
	/*
	 * A FAIL about a region the node never heard of: dropped and counted,
	 * nothing allocated for it (it made a shadow region before), the
	 * link stays.
	 */
	fd = rogue_accept(lfd);
	ASSERT_LE(0, fd);
	TH_LOG("a FAIL for a region unknown here");
	made = node_stat(DSM_STAT_REGIONS_CREATED);
	dropped = node_stat(DSM_STAT_COH_MSGS_DROPPED);
	bad = node_stat(DSM_STAT_BAD_WIRE);
	fail = base;
	fail.key = htole64(0xbad0000000000003ULL);
	fail.type = 16;			/* FAIL */
	ASSERT_EQ(0, send_page(fd, fail, 0));
	EXPECT_FALSE(closed_within(fd, 2, NULL));
	EXPECT_EQ(made, node_stat(DSM_STAT_REGIONS_CREATED));
	EXPECT_EQ(dropped + 1, node_stat(DSM_STAT_COH_MSGS_DROPPED));
	EXPECT_EQ(bad, node_stat(DSM_STAT_BAD_WIRE));
	EXPECT_TRUE(rogue_leave(fd));
	close(fd);
	close(lfd);
}

/*
 * A node has one request per page in flight: a second one from the same
 * member while the first waits in the home's queue closes the link (on
 * ab587f8 both were queued: a member could grow a home's queue without
 * bound). The rogue reads page 0 of a region homed here, a process here
 * writes it (the write waits for the rogue's ack, which never comes),
 * then the rogue asks for the page twice.
 */
TEST(second_request_in_flight)
{
	struct dsm_wire_page read = {
		.key = htole64(0xbad0000000000020ULL),
		.npages = htole64(4),
		.homes = htole64(1ULL << self_id()),
		.type = 1,		/* REQ_READ */
		.requester = htole32(ROGUE_ID),
	};
	struct dsm_attach req = { .key = 0xbad0000000000020ULL, .size = 4 * 4096 };
	uint64_t bad;
	int lfd, fd;
	pid_t pid;

	fd = rogue_member(&lfd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_page(fd, read, 0));	/* the rogue holds a copy */
	usleep(300 * 1000);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {	/* the region is known here now: no lookup */
		int dev = open("/dev/dsm", O_RDWR);
		volatile uint64_t *p;

		if (dev < 0 || ioctl(dev, DSM_IOC_ATTACH, &req))
			_exit(1);
		p = mmap(NULL, req.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0);
		if (p == MAP_FAILED)
			_exit(2);
		p[0] = 1;	/* waits for the rogue's ack */
		_exit(0);
	}
	usleep(500 * 1000);
	bad = node_stat(DSM_STAT_BAD_WIRE);
	ASSERT_EQ(0, send_page(fd, read, 0));	/* queued behind the write */
	ASSERT_EQ(0, send_page(fd, read, 0));	/* a second one in flight */
	EXPECT_TRUE(closed_within(fd, 10, NULL));
	close(fd);
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));
	fd = rogue_accept(lfd);		/* the node links to its member again */
	ASSERT_LE(0, fd);
	EXPECT_TRUE(rogue_leave(fd));	/* then the write completes */
	close(fd);
	close(lfd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A member's requests make regions here only up to peer_regions_max (3/4
 * of DSM_MAX_REGIONS by default; lowered here, once the rogue's first two
 * requests made two, to what the node then holds): past it, a request for
 * a region new here is answered FAIL with version 1 (no memory) and the
 * request's token, counted (shadows_refused), and the link stays. The
 * node still makes regions of its own. Before (0244ff7), every request
 * for a region homed here made one, until the table was full: then the
 * link closed (bad_wire), and this node's own attaches failed with ENOSPC.
 */
TEST(peer_regions_are_bounded)
{
	struct dsm_wire_page req = {
		.npages = htole64(4),
		.homes = htole64(1ULL << self_id()),
		.type = 1,		/* REQ_READ */
		.requester = htole32(ROGUE_ID),
		.txn = htole64(0x7e57),
	}, w;
	struct dsm_attach own = { .key = 0xbad0000000000078ULL, .size = 4096 };
	uint64_t refused = node_stat(DSM_STAT_SHADOWS_REFUSED);
	uint64_t bad = node_stat(DSM_STAT_BAD_WIRE);
	char max[16], saved[16] = "3072";
	int lfd, fd, dev, k;
	FILE *f = fopen("/sys/module/dsm/parameters/peer_regions_max", "r");

	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(saved, sizeof(saved), f));
	fclose(f);
	fd = rogue_member(&lfd);
	EXPECT_LE(0, fd);
	for (k = 0; fd >= 0 && k < 3; k++) {
		if (k == 2) {	/* the table is "full" now */
			snprintf(max, sizeof(max), "%u", node_regions());
			EXPECT_EQ(0, set_param("peer_regions_max", max));
		}
		req.key = htole64(0xbad0000000000070ULL + k);
		w = req;
		EXPECT_EQ(0, send_page(fd, req, 0));
		TH_LOG("a read of a region new here, %d of 3", k + 1);
		EXPECT_EQ(0, expect_page(fd, k < 2 ? 7 : 16, &w, 10));	/* DATA, FAIL */
	}
	EXPECT_EQ(1, le64toh(w.version));	/* why: no memory */
	EXPECT_EQ(0x7e57, le64toh(w.txn));
	EXPECT_EQ(refused + 1, node_stat(DSM_STAT_SHADOWS_REFUSED));
	EXPECT_EQ(bad, node_stat(DSM_STAT_BAD_WIRE));
	EXPECT_TRUE(fd >= 0 && rogue_leave(fd));	/* the link was still up */
	close(fd);
	close(lfd);
	dev = open("/dev/dsm", O_RDWR);
	EXPECT_LE(0, dev);
	EXPECT_EQ(0, ioctl(dev, DSM_IOC_ATTACH, &own));	/* past peer_regions_max */
	close(dev);
	EXPECT_EQ(0, set_param("peer_regions_max", saved));
	for (k = 0; k < 3; k++) {	/* the rogue's two, and this node's own */
		struct dsm_remove rm = { .key = k < 2 ? 0xbad0000000000070ULL + k : own.key };

		dev = open("/dev/dsm", O_RDWR);
		EXPECT_EQ(0, ioctl(dev, DSM_IOC_REMOVE, &rm));
		close(dev);
	}
}

/*
 * A pack (DSM_MSG_PAGES) is its records handled in order, as that many
 * PAGE messages: three read requests get three copies. A pack that holds
 * a record of a type with data, or part of a record, closes the link; the
 * records before the bad one were handled.
 */
TEST(pack_of_page_messages)
{
	struct dsm_wire_page pack[3], w;
	uint64_t bad;
	int lfd, fd, i;

	for (i = 0; i < 3; i++)
		pack[i] = (struct dsm_wire_page){
			.key = htole64(0xbad0000000000060ULL),
			.npages = htole64(4),
			.homes = htole64(1ULL << self_id()),
			.index = htole64(i),
			.type = 1,		/* REQ_READ */
			.requester = htole32(ROGUE_ID),
		};
	fd = rogue_member(&lfd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_PAGES, sizeof(pack)), pack,
			      sizeof(pack)));
	for (i = 0; i < 3; i++) {
		w = pack[i];
		EXPECT_EQ(0, expect_page(fd, 7, &w, 10));	/* DATA */
	}
	bad = node_stat(DSM_STAT_BAD_WIRE);
	pack[0].index = htole64(3);
	pack[1].type = 7;	/* DATA, without its page */
	ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_PAGES, 2 * sizeof(w)), pack,
			      2 * sizeof(w)));
	w = pack[0];
	EXPECT_EQ(0, expect_page(fd, 7, &w, 10));	/* the record before it */
	EXPECT_TRUE(closed_within(fd, 10, NULL));
	close(fd);
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));

	fd = rogue_accept(lfd);		/* the node links to its member again */
	ASSERT_LE(0, fd);
	pack[0].index = 0;
	ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_PAGES, sizeof(w) + 8), pack,
			      sizeof(w) + 8));	/* part of a second record */
	EXPECT_TRUE(closed_within(fd, 10, NULL));
	close(fd);
	EXPECT_EQ(bad + 2, node_stat(DSM_STAT_BAD_WIRE));
	fd = rogue_accept(lfd);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(rogue_leave(fd));
	close(fd);
	close(lfd);
}

/* A region the rogue tests below make before a rogue joins: 8 pages, homed at nodes 1-3. */
#define THREE_HOMES	(1ULL << 1 | 1ULL << 2 | 1ULL << 3)
#define THREE_PAGES	8
#define THREE_SIZE	(THREE_PAGES * 4096)

/*
 * Attach region @key here (node 1 of 3), made before any rogue joins: its
 * homes are the three nodes. Return: the attached /dev/dsm, or -1; *@w
 * gets a message of @type from the rogue about a page node @home is home
 * of (le64toh(w->index)).
 */
static int three_homed_region(uint64_t key, uint32_t home, uint8_t type,
			      struct dsm_wire_page *w)
{
	struct dsm_attach req = { .key = key, .size = THREE_SIZE };
	int dev = open("/dev/dsm", O_RDWR);
	uint32_t i;

	if (dev < 0 || ioctl(dev, DSM_IOC_ATTACH, &req)) {
		close(dev);
		return -1;
	}
	for (i = 0; i < THREE_PAGES && dsm_homes_node_of(THREE_HOMES, key, i) != home; i++)
		;
	memset(w, 0, sizeof(*w));
	w->key = htole64(key);
	w->npages = htole64(THREE_PAGES);
	w->homes = htole64(THREE_HOMES);
	w->index = htole64(i);
	w->type = type;
	w->requester = htole32(ROGUE_ID);
	if (i < THREE_PAGES)
		return dev;
	close(dev);
	return -1;
}

static bool node_1_of_3(void)
{
	return self_id() == 1 && getenv("DSM_NODES") && atoi(getenv("DSM_NODES")) == 3;
}

/*
 * Data for a read comes from the page's home or from the owner the home
 * forwarded the read to, nobody else (on 8f6f08f any member could answer
 * in the owner's place, and the reader took its page). Node 1 is home of
 * page P of a region homed at nodes 1-3; rogue 9 takes P for writing, so
 * node 1 forwards a read of P to it; meanwhile rogue 10, which nobody
 * asked, sends node 1 the page: its link closes, counted; then 9 answers
 * with the forward's token and the reader sees 9's page.
 */
TEST(data_from_a_node_not_forwarded_to)
{
	static struct rogue rogue_10 = { .id = ROGUE_ID + 1, .port = ROGUE_PORT + 1 };
	uint64_t page[DSM_WIRE_PAGE_SIZE / 8] = { 0 }, bad, seen = 0;
	int dev, lfd9, lfd10, fd9, fd10, pipefd[2];
	struct dsm_wire_page fwd, w;
	pid_t pid;
	uint32_t i;

	if (!node_1_of_3())
		SKIP(return, "needs to run on node 1 of 3");
	/* before the rogues join; 9 will ask for the page for writing */
	dev = three_homed_region(0xbad0000000000030ULL, 1, 2 /* REQ_WRITE */, &w);
	ASSERT_LE(0, dev);
	i = le64toh(w.index);
	fd9 = rogue_member(&lfd9);
	ASSERT_LE(0, fd9);
	rogue = &rogue_10;
	fd10 = rogue_member(&lfd10);
	rogue = &rogue_9;
	ASSERT_LE(0, fd10);
	/* 9 takes the page for writing */
	ASSERT_EQ(0, send_page(fd9, w, 0));
	ASSERT_EQ(0, expect_page(fd9, 8, &w, 10));	/* GRANT */
	/* a reader here: node 1 forwards its read to 9 */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile uint64_t *p = mmap(NULL, THREE_SIZE, PROT_READ, MAP_SHARED, dev, 0);
		uint64_t v = p == MAP_FAILED ? 0 : p[i * 512];

		_exit(write(pipefd[1], &v, sizeof(v)) != sizeof(v));
	}
	ASSERT_EQ(0, expect_page(fd9, 3, &w, 10));	/* FWD_READ, with the token */
	fwd = w;
	/* 10 answers in 9's place */
	rogue = &rogue_10;
	bad = node_stat(DSM_STAT_BAD_WIRE);
	page[0] = 0xbadbadbadULL;
	w.type = 7;			/* DATA */
	w.requester = htole32(self_id());
	w.txn = htole64((uint64_t)random() << 32 | random() | 1);	/* a guess */
	ASSERT_EQ(0, send_page_with(fd10, w, page));
	EXPECT_TRUE(closed_within(fd10, 10, NULL));
	close(fd10);
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));
	/* 9, the owner, answers with the forward's token */
	rogue = &rogue_9;
	page[0] = 42;
	w = fwd;
	w.type = 7;
	ASSERT_EQ(0, send_page_with(fd9, w, page));
	EXPECT_EQ(sizeof(seen), read(pipefd[0], &seen, sizeof(seen)));
	EXPECT_EQ(42, seen);
	waitpid(pid, NULL, 0);
	/* both leave properly, so the cluster is 3 nodes again */
	rogue = &rogue_10;
	fd10 = rogue_accept(lfd10);	/* the node links to its member again */
	EXPECT_LE(0, fd10);
	EXPECT_TRUE(fd10 >= 0 && rogue_leave(fd10));
	rogue = &rogue_9;
	EXPECT_TRUE(rogue_leave(fd9));
	close(fd9);
	close(fd10);
	close(lfd9);
	close(lfd10);
	close(dev);
}

/*
 * An invalidation does not tell a holder the writer's token (on 4f5d206 it
 * did: a node that held a copy could answer the write in the owner's
 * place). Node 1 is home of page P; rogue 9 reads P; a process on node 1
 * writes P, so node 1 invalidates 9's copy; 9 answers the write with a
 * grant and the token the invalidation carried: the link closes, counted;
 * then 9 acks properly and the writer's page is its own.
 */
TEST(grant_from_a_holder_with_the_invalidations_token)
{
	uint64_t page[DSM_WIRE_PAGE_SIZE / 8] = { 0xbadbadbadULL }, bad, seen = 1;
	int dev, lfd, fd, pipefd[2];
	struct dsm_wire_page inv, w;
	pid_t pid;
	uint32_t i;

	if (!node_1_of_3())
		SKIP(return, "needs to run on node 1 of 3");
	/* before the rogue joins; it will ask for a read copy */
	dev = three_homed_region(0xbad0000000000050ULL, 1, 1 /* REQ_READ */, &w);
	ASSERT_LE(0, dev);
	i = le64toh(w.index);
	fd = rogue_member(&lfd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_page(fd, w, 0));
	ASSERT_EQ(0, expect_page(fd, 7, &w, 10));	/* DATA: 9 holds a copy */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {	/* the writer */
		volatile uint64_t *p = mmap(NULL, THREE_SIZE, PROT_READ | PROT_WRITE,
					    MAP_SHARED, dev, 0);
		uint64_t v = 1;

		if (p != MAP_FAILED) {
			p[i * 512 + 1] = 7;
			v = p[i * 512];
		}
		_exit(write(pipefd[1], &v, sizeof(v)) != sizeof(v));
	}
	inv = w;
	ASSERT_EQ(0, expect_page(fd, 5, &inv, 10));	/* INV */
	bad = node_stat(DSM_STAT_BAD_WIRE);
	w = inv;
	w.type = 8;			/* GRANT, with the page */
	w.with_data = 1;
	ASSERT_EQ(0, send_page_with(fd, w, page));
	EXPECT_TRUE(closed_within(fd, 10, NULL));
	close(fd);
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));
	fd = rogue_accept(lfd);		/* then 9 acks, on the next link */
	ASSERT_LE(0, fd);
	w = inv;
	w.type = 6;			/* INV_ACK */
	ASSERT_EQ(0, send_page(fd, w, 0));
	EXPECT_EQ(sizeof(seen), read(pipefd[0], &seen, sizeof(seen)));
	EXPECT_EQ(0, seen);		/* the page as it was, not 9's */
	waitpid(pid, NULL, 0);
	EXPECT_TRUE(rogue_leave(fd));
	close(fd);
	close(lfd);
	close(dev);
}

/*
 * A leaving node hands over only pages of regions it is a home of (on
 * 8f6f08f any member that announced a leave could make a node the second
 * home of any page, with the page it sent: a process there then read it).
 * Node 1 knows a region homed at nodes 1-3; rogue 9 announces its leave
 * and hands node 1 a page of it that node 2 is home of: the link closes,
 * counted, and a reader on node 1 still gets the page from node 2.
 */
TEST(handover_from_a_node_not_home)
{
	uint64_t page[DSM_WIRE_PAGE_SIZE / 8] = { 0xbadbadbadULL }, bad;
	struct dsm_wire_page w;
	volatile uint64_t *p;
	int dev, lfd, fd;
	uint32_t i;

	if (!node_1_of_3())
		SKIP(return, "needs to run on node 1 of 3");
	/* before the rogue joins; it will hand node 2's page over */
	dev = three_homed_region(0xbad0000000000040ULL, 2, 18 /* HANDOVER */, &w);
	ASSERT_LE(0, dev);
	i = le64toh(w.index);
	w.homes |= htole64(1ULL << ROGUE_ID);	/* it claims to be a home */
	fd = rogue_member(&lfd);
	ASSERT_LE(0, fd);
	bad = node_stat(DSM_STAT_BAD_WIRE);
	ASSERT_EQ(0, send_msg(fd, rogue_hdr(DSM_MSG_LEAVING, 0), NULL, 0));
	ASSERT_EQ(0, send_page_with(fd, w, page));
	EXPECT_TRUE(closed_within(fd, 10, NULL));
	close(fd);
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));
	p = mmap(NULL, THREE_SIZE, PROT_READ, MAP_SHARED, dev, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, p[i * 512]);	/* node 2's page, never written */
	munmap((void *)p, THREE_SIZE);
	fd = rogue_accept(lfd);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(rogue_leave(fd));
	close(fd);
	close(lfd);
	close(dev);
}

/*
 * A member's answer to a region lookup is checked: status 0 with size 0 and
 * no home set (on 224b36e adopted: the attach failed with EINVAL) is
 * ignored, counted in bad_wire, and the attach goes on to create the
 * region. The rogue answers the lookup with that, and the create (if it
 * is the region's metadata home) properly.
 */
TEST(rogue_region_reply)
{
	struct dsm_attach req = { .key = 0xbad0000000000010ULL, .size = 1 << 20 };
	struct dsm_wire_hdr h, back;
	struct dsm_wire_region ask;
	struct dsm_wire_region_reply rep;
	uint64_t bad = node_stat(DSM_STAT_BAD_WIRE);
	int lfd, fd, status = -1, lookups = 0;
	time_t end;
	pid_t pid;

	fd = rogue_member(&lfd);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {	/* attach from this node: it asks every member */
		int dev = open("/dev/dsm", O_RDWR);

		_exit(dev < 0 || ioctl(dev, DSM_IOC_ATTACH, &req) ? errno & 0x7f :
		      req.size == 1 << 20 ? 0 : 0x7f);
	}
	for (end = time(NULL) + 30; time(NULL) <= end;) {
		uint8_t skip[DSM_WIRE_PAGE_SIZE + 128];
		uint32_t len;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (read_full(fd, &h, sizeof(h), 1))
			continue;	/* nothing for a second */
		len = le32toh(h.len);
		if (h.type != DSM_MSG_REGION || len != sizeof(ask)) {
			ASSERT_GE(sizeof(skip), len);
			ASSERT_EQ(0, len ? read_full(fd, skip, len, 5) : 0);
			continue;
		}
		ASSERT_EQ(0, read_full(fd, &ask, sizeof(ask), 5));
		memset(&rep, 0, sizeof(rep));
		if (le32toh(ask.op) == DSM_REGION_LOOKUP) {
			lookups++;	/* "found", of no size, with no homes */
		} else {
			rep.status = htole32(le32toh(ask.op) == DSM_REGION_CREATE ? 0 : -ENOENT);
			rep.size = ask.size;
			rep.homes = htole64(1ULL << self_id());
		}
		back = rogue_hdr(DSM_MSG_REGION_REPLY, sizeof(rep));
		back.req_id = h.req_id;
		ASSERT_EQ(0, send_msg(fd, back, &rep, sizeof(rep)));
	}
	if (status == -1)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(1, lookups);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));	/* else the errno */
	EXPECT_EQ(bad + 1, node_stat(DSM_STAT_BAD_WIRE));
	EXPECT_TRUE(rogue_leave(fd));
	close(fd);
	close(lfd);
}

TEST_HARNESS_MAIN
