// SPDX-License-Identifier: GPL-2.0
/*
 * The dsm generic netlink family: node configuration, status, counters, and
 * the rejection (errno + extended-ack message) of every malformed request,
 * also of random ones from a privileged and an unprivileged user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dsm.h>
#include <netlink/genl/genl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "nl.h"

struct status {
	uint32_t id, addr, dead_timeout_ms, mem_max_mib;
	uint64_t epoch, cluster_id;
	uint16_t port;
	bool keyed;
	char version[32];
	uint64_t stats[DSM_STAT_MAX + 1];
};

static int status_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *st[DSM_STAT_MAX + 1];
	struct status *s = arg;
	int i;

	memset(s, 0, sizeof(*s));
	if (!tb[DSM_A_NODE_ID] || !tb[DSM_A_VERSION] || !tb[DSM_A_STATS])
		return -EPROTO;
	s->id = nla_get_u32(tb[DSM_A_NODE_ID]);
	snprintf(s->version, sizeof(s->version), "%s",
		 nla_get_string(tb[DSM_A_VERSION]));
	if (tb[DSM_A_NODE_ADDR])
		s->addr = nla_get_u32(tb[DSM_A_NODE_ADDR]);
	if (tb[DSM_A_NODE_PORT])
		s->port = nla_get_u16(tb[DSM_A_NODE_PORT]);
	if (tb[DSM_A_EPOCH])
		s->epoch = nla_get_u64(tb[DSM_A_EPOCH]);
	if (tb[DSM_A_CLUSTER_ID])
		s->cluster_id = nla_get_u64(tb[DSM_A_CLUSTER_ID]);
	if (tb[DSM_A_DEAD_TIMEOUT_MS])
		s->dead_timeout_ms = nla_get_u32(tb[DSM_A_DEAD_TIMEOUT_MS]);
	if (tb[DSM_A_KEYED])
		s->keyed = nla_get_u8(tb[DSM_A_KEYED]);
	if (!tb[DSM_A_MEM_MAX_MIB] || !tb[DSM_A_CLUSTER_PAGES])
		return -EPROTO;
	s->mem_max_mib = nla_get_u32(tb[DSM_A_MEM_MAX_MIB]);
	if (nla_parse_nested(st, DSM_STAT_MAX, tb[DSM_A_STATS], NULL))
		return -EPROTO;
	for (i = 0; i <= DSM_STAT_MAX; i++)
		if (st[i])
			s->stats[i] = nla_get_u64(st[i]);
	return 0;
}

static int get_status(struct dsm_nl *nl, struct status *s)
{
	return dsm_nl_request(nl, dsm_nl_msg(nl, DSM_CMD_GET), status_reply, s);
}

/* NODE_SET with each attribute given (>= 0) or left out (-1). */
static int node_set(struct dsm_nl *nl, long long id, const char *addr,
		    long long port)
{
	struct nl_msg *msg = dsm_nl_msg(nl, DSM_CMD_NODE_SET);

	if (id >= 0)
		nla_put_u32(msg, DSM_A_NODE_ID, (uint32_t)id);
	if (addr)
		nla_put_u32(msg, DSM_A_NODE_ADDR, inet_addr(addr));
	if (port >= 0)
		nla_put_u16(msg, DSM_A_NODE_PORT, (uint16_t)port);
	return dsm_nl_request(nl, msg, NULL, NULL);
}

/* NODE_SET carrying one raw attribute after a valid id and address. */
static int node_set_raw(struct dsm_nl *nl, int type, const void *data, int len)
{
	struct nl_msg *msg = dsm_nl_msg(nl, DSM_CMD_NODE_SET);

	nla_put_u32(msg, DSM_A_NODE_ID, 5);
	nla_put_u32(msg, DSM_A_NODE_ADDR, inet_addr("10.1.2.3"));
	nla_put(msg, type, len, data);
	return dsm_nl_request(nl, msg, NULL, NULL);
}

/* LIMIT_SET with the cap (>= 0) or without it (-1). */
static int limit_set(struct dsm_nl *nl, long long mib)
{
	struct nl_msg *msg = dsm_nl_msg(nl, DSM_CMD_LIMIT_SET);

	if (mib >= 0)
		nla_put_u32(msg, DSM_A_MEM_MAX_MIB, (uint32_t)mib);
	return dsm_nl_request(nl, msg, NULL, NULL);
}

FIXTURE(nl) {
	struct dsm_nl nl;
	struct status saved;
};

static int simple(struct dsm_nl *nl, uint8_t cmd)
{
	return dsm_nl_request(nl, dsm_nl_msg(nl, cmd), NULL, NULL);
}

/*
 * These tests reconfigure the node, which needs it out of the cluster: run
 * them on a single node; the fixture leaves and re-forms around each test.
 */
FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, dsm_nl_open(&self->nl));
	ASSERT_EQ(0, get_status(&self->nl, &self->saved));
	if (self->saved.epoch)
		ASSERT_EQ(0, simple(&self->nl, DSM_CMD_LEAVE));
}

/*
 * The node's configuration as @saved had it: id, address, port, cluster id,
 * dead timeout, and no key if it had none (a key itself cannot be read back).
 */
static int node_restore(struct dsm_nl *nl, const struct status *saved)
{
	struct nl_msg *msg = dsm_nl_msg(nl, DSM_CMD_NODE_SET);

	nla_put_u32(msg, DSM_A_NODE_ID, saved->id);
	nla_put_u32(msg, DSM_A_NODE_ADDR, saved->addr);
	if (saved->port)
		nla_put_u16(msg, DSM_A_NODE_PORT, saved->port);
	if (saved->cluster_id)
		nla_put_u64(msg, DSM_A_CLUSTER_ID, saved->cluster_id);
	if (saved->dead_timeout_ms)
		nla_put_u32(msg, DSM_A_DEAD_TIMEOUT_MS, saved->dead_timeout_ms);
	if (!saved->keyed)
		nla_put(msg, DSM_A_CLUSTER_KEY, 0, NULL);
	return dsm_nl_request(nl, msg, NULL, NULL);
}

FIXTURE_TEARDOWN(nl)
{
	struct status s;

	if (!get_status(&self->nl, &s) && s.epoch)
		simple(&self->nl, DSM_CMD_LEAVE);
	if (self->saved.id)
		EXPECT_EQ(0, node_restore(&self->nl, &self->saved));
	if (self->saved.epoch)
		simple(&self->nl, DSM_CMD_JOIN);
	EXPECT_EQ(0, limit_set(&self->nl, self->saved.mem_max_mib));
	dsm_nl_close(&self->nl);
}

TEST_F(nl, status)
{
	struct status s;

	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_STREQ(DSM_VERSION, s.version);
}

/* This guest's own address, which the node must be configured with. */
static const char *own_addr(struct status *saved)
{
	static char buf[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = saved->addr };

	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

TEST_F(nl, node_set_then_get)
{
	struct status s;

	ASSERT_NE(0, self->saved.id);	/* the runner configured the node */
	ASSERT_EQ(0, node_set(&self->nl, 7, own_addr(&self->saved), 4242));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(7, s.id);
	EXPECT_EQ(self->saved.addr, s.addr);
	EXPECT_EQ(4242, s.port);

	/* optional attributes keep their values */
	ASSERT_EQ(0, node_set(&self->nl, 64, own_addr(&self->saved), -1));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(64, s.id);
	EXPECT_EQ(4242, s.port);
}

TEST_F(nl, node_set_binds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(4343),
				   .sin_addr.s_addr = self->saved.addr };
	int fd;

	EXPECT_EQ(-EADDRNOTAVAIL, node_set(&self->nl, 2, "10.9.8.7", -1));
	EXPECT_STREQ("node address is not an address of this machine",
		     self->nl.errmsg);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(fd, 1));
	EXPECT_EQ(-EADDRINUSE, node_set(&self->nl, 2, own_addr(&self->saved), 4343));
	EXPECT_STREQ("node port is already in use", self->nl.errmsg);
	close(fd);
	EXPECT_EQ(0, node_set(&self->nl, 2, own_addr(&self->saved), 4343));
}

TEST_F(nl, cluster_options)
{
	struct nl_msg *msg;
	uint8_t key[DSM_KEY_LEN] = { 1, 2, 3 };
	struct status s;

	msg = dsm_nl_msg(&self->nl, DSM_CMD_NODE_SET);
	nla_put_u32(msg, DSM_A_NODE_ID, 3);
	nla_put_u32(msg, DSM_A_NODE_ADDR, self->saved.addr);
	nla_put_u64(msg, DSM_A_CLUSTER_ID, 99);
	nla_put_u32(msg, DSM_A_DEAD_TIMEOUT_MS, 2500);
	nla_put(msg, DSM_A_CLUSTER_KEY, DSM_KEY_LEN, key);
	ASSERT_EQ(0, dsm_nl_request(&self->nl, msg, NULL, NULL));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(3, s.id);

	/* a short key, an out-of-range timeout, a zero cluster id */
	EXPECT_EQ(-EINVAL, node_set_raw(&self->nl, DSM_A_CLUSTER_KEY, key, 16));
	EXPECT_NE(NULL, strstr(self->nl.errmsg, "32 bytes"));
	EXPECT_EQ(-ERANGE, node_set_raw(&self->nl, DSM_A_DEAD_TIMEOUT_MS,
					&(uint32_t){ 999 }, 4));
	EXPECT_EQ(-ERANGE, node_set_raw(&self->nl, DSM_A_DEAD_TIMEOUT_MS,
					&(uint32_t){ 60001 }, 4));
	EXPECT_EQ(-ERANGE, node_set_raw(&self->nl, DSM_A_CLUSTER_ID,
					&(uint64_t){ 0 }, 8));
	/* clear the key again, back to the defaults */
	msg = dsm_nl_msg(&self->nl, DSM_CMD_NODE_SET);
	nla_put_u32(msg, DSM_A_NODE_ID, 3);
	nla_put_u32(msg, DSM_A_NODE_ADDR, self->saved.addr);
	nla_put_u64(msg, DSM_A_CLUSTER_ID, 1);
	nla_put_u32(msg, DSM_A_DEAD_TIMEOUT_MS, DSM_DEAD_TIMEOUT_DEFAULT);
	nla_put(msg, DSM_A_CLUSTER_KEY, 0, NULL);
	ASSERT_EQ(0, dsm_nl_request(&self->nl, msg, NULL, NULL));
}

TEST_F(nl, membership_commands)
{
	struct status s;

	/* the fixture left the cluster */
	EXPECT_EQ(-ENOTCONN, simple(&self->nl, DSM_CMD_LEAVE));
	EXPECT_STREQ("not a member of a cluster", self->nl.errmsg);
	ASSERT_EQ(0, simple(&self->nl, DSM_CMD_JOIN));	/* form */
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(1, s.epoch);
	EXPECT_EQ(-EBUSY, simple(&self->nl, DSM_CMD_JOIN));
	EXPECT_STREQ("already a member of a cluster", self->nl.errmsg);
	EXPECT_EQ(-EBUSY, node_set(&self->nl, 1, own_addr(&self->saved), -1));
	EXPECT_NE(NULL, strstr(self->nl.errmsg, "leave the cluster"));
	ASSERT_EQ(0, simple(&self->nl, DSM_CMD_LEAVE));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(0, s.epoch);
}

TEST_F(nl, pending_connection_expires_outside_a_cluster)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(self->saved.port),
				   .sin_addr.s_addr = self->saved.addr };
	struct pollfd p;
	time_t end;
	char c;
	int fd;

	/* the fixture left the cluster; the listener is still up */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	/* silent: the node must close it at the handshake deadline */
	end = time(NULL) + DSM_DEAD_TIMEOUT_DEFAULT / 1000 + 10;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (time(NULL) <= end && poll(&p, 1, 200) == 0)
		;
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_GE(0, recv(fd, &c, 1, MSG_DONTWAIT));	/* end of stream or reset */
	close(fd);
}

TEST_F(nl, join_errors)
{
	struct nl_msg *msg = dsm_nl_msg(&self->nl, DSM_CMD_JOIN);

	/* nobody listens on this port of our own address */
	nla_put_u32(msg, DSM_A_CONTACT_ADDR, self->saved.addr);
	nla_put_u16(msg, DSM_A_CONTACT_PORT, 1);
	EXPECT_EQ(-ECONNREFUSED, dsm_nl_request(&self->nl, msg, NULL, NULL));
	EXPECT_STREQ("cannot connect to the contact node", self->nl.errmsg);

	msg = dsm_nl_msg(&self->nl, DSM_CMD_JOIN);
	nla_put_u32(msg, DSM_A_CONTACT_ADDR, inet_addr("224.1.1.1"));
	EXPECT_EQ(-EINVAL, dsm_nl_request(&self->nl, msg, NULL, NULL));
	EXPECT_NE(NULL, strstr(self->nl.errmsg, "unicast"));
}

TEST_F(nl, missing_attributes_are_named)
{
	EXPECT_EQ(-EINVAL, node_set(&self->nl, -1, "10.0.0.9", -1));
	EXPECT_STREQ("node id is required", self->nl.errmsg);
	EXPECT_EQ(DSM_A_NODE_ID, self->nl.miss_type);

	EXPECT_EQ(-EINVAL, node_set(&self->nl, 3, NULL, -1));
	EXPECT_STREQ("node address is required", self->nl.errmsg);
	EXPECT_EQ(DSM_A_NODE_ADDR, self->nl.miss_type);
}

TEST_F(nl, out_of_range_values)
{
	static const char *const bad_addrs[] = {
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "127.0.0.1",
	};
	unsigned int i;

	EXPECT_EQ(-ERANGE, node_set(&self->nl, 0, "10.0.0.9", -1));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	EXPECT_EQ(-ERANGE, node_set(&self->nl, DSM_MAX_NODES + 1, "10.0.0.9", -1));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	EXPECT_EQ(-ERANGE, node_set(&self->nl, 1, "10.0.0.9", 0));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		EXPECT_EQ(-EINVAL, node_set(&self->nl, 1, bad_addrs[i], -1));
		EXPECT_NE(NULL, strstr(self->nl.errmsg, "unicast"));
	}
}

TEST_F(nl, memory_cap)
{
	struct status s;

	EXPECT_EQ(-EINVAL, limit_set(&self->nl, -1));
	EXPECT_STREQ("the memory cap (MiB, 0 for none) is required", self->nl.errmsg);
	EXPECT_EQ(DSM_A_MEM_MAX_MIB, self->nl.miss_type);
	EXPECT_EQ(-ERANGE, limit_set(&self->nl, DSM_MEM_MAX_MIB_MAX + 1ULL));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	ASSERT_EQ(0, limit_set(&self->nl, 7));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(7, s.mem_max_mib);
	ASSERT_EQ(0, limit_set(&self->nl, 0));
	ASSERT_EQ(0, get_status(&self->nl, &s));
	EXPECT_EQ(0, s.mem_max_mib);
}

TEST_F(nl, malformed_attributes)
{
	uint8_t one = 1;
	uint64_t big = 1;

	/* a u32 attribute one byte long */
	EXPECT_EQ(-EINVAL, node_set_raw(&self->nl, DSM_A_NODE_ID, &one, 1));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	/* a u16 port eight bytes long */
	EXPECT_EQ(-EINVAL, node_set_raw(&self->nl, DSM_A_NODE_PORT, &big, 8));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	/* an attribute type the family does not know */
	EXPECT_EQ(-EINVAL, node_set_raw(&self->nl, 200, &big, 8));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	/* an output-only attribute in a request */
	EXPECT_EQ(-EINVAL, node_set_raw(&self->nl, DSM_A_REGIONS, &big, 4));
	EXPECT_NE(0, strlen(self->nl.errmsg));
}

TEST_F(nl, reserved_header_field)
{
	struct nl_msg *msg = dsm_nl_msg(&self->nl, DSM_CMD_GET);
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));

	g->reserved = 1;
	EXPECT_EQ(-EINVAL, dsm_nl_request(&self->nl, msg, NULL, NULL));
	EXPECT_NE(0, strlen(self->nl.errmsg));
}

static int count_reply(struct nlattr **tb, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* A dump of @cmd with one raw attribute (@len < 0: none); @n counts replies. */
static int dump_raw(struct dsm_nl *nl, uint8_t cmd, int type, const void *data,
		    int len, int *n)
{
	struct nl_msg *msg = dsm_nl_msg_flags(nl, cmd, NLM_F_DUMP);

	if (len >= 0)
		nla_put(msg, type, len, data);
	*n = 0;
	return dsm_nl_request(nl, msg, count_reply, n);
}

/*
 * The dumps parse their requests as strictly as the other commands: a bad
 * one ends with the errno and a message in NLMSG_DONE, and is counted.
 */
TEST_F(nl, dump_requests_are_checked)
{
	uint64_t key = 0x0dd0c0de;
	struct status before, after;
	struct nl_msg *msg;
	int n;

	ASSERT_EQ(0, get_status(&self->nl, &before));
	EXPECT_EQ(0, dump_raw(&self->nl, DSM_CMD_HOT_GET, DSM_A_REGION_KEY, &key, 8, &n));
	EXPECT_EQ(0, n);	/* no such region: nothing */
	EXPECT_EQ(0, dump_raw(&self->nl, DSM_CMD_HOT_GET, 0, NULL, -1, &n));
	EXPECT_EQ(0, dump_raw(&self->nl, DSM_CMD_REGION_GET, DSM_A_REGION_KEY, &key, 8, &n));
	EXPECT_EQ(0, n);

	EXPECT_EQ(-EINVAL, dump_raw(&self->nl, DSM_CMD_HOT_GET, DSM_A_REGION_KEY,
				    &key, 4, &n));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	EXPECT_EQ(-EINVAL, dump_raw(&self->nl, DSM_CMD_HOT_GET, 200, &key, 8, &n));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	EXPECT_EQ(-EINVAL, dump_raw(&self->nl, DSM_CMD_REGION_GET, 200, &key, 8, &n));
	EXPECT_NE(0, strlen(self->nl.errmsg));
	msg = dsm_nl_msg_flags(&self->nl, DSM_CMD_HOT_GET, NLM_F_DUMP);
	((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->reserved = 1;
	EXPECT_EQ(-EINVAL, dsm_nl_request(&self->nl, msg, count_reply, &n));
	EXPECT_STREQ("reserved header field must be zero", self->nl.errmsg);

	ASSERT_EQ(0, get_status(&self->nl, &after));
	EXPECT_EQ(before.stats[DSM_STAT_BAD_NETLINK] + 4,
		  after.stats[DSM_STAT_BAD_NETLINK]);
}

TEST_F(nl, unknown_command)
{
	EXPECT_EQ(-EOPNOTSUPP, dsm_nl_request(&self->nl,
					      dsm_nl_msg(&self->nl, 77), NULL, NULL));
}

TEST_F(nl, unprivileged)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct dsm_nl nl;
		struct status s;

		/* nobody, with no capabilities */
		if (setgid(65534) || setuid(65534) || dsm_nl_open(&nl))
			_exit(10);
		if (get_status(&nl, &s))	/* reading is allowed */
			_exit(11);
		if (node_set(&nl, 2, "10.0.0.2", -1) != -EPERM)
			_exit(12);
		if (dsm_nl_request(&nl, dsm_nl_msg_flags(&nl, DSM_CMD_HOT_GET, NLM_F_DUMP),
				   NULL, NULL) != -EPERM)
			_exit(13);	/* it names region keys */
		if (limit_set(&nl, 1) != -EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(nl, rejections_are_counted)
{
	struct status before, after;
	int fd;
	void *p;

	ASSERT_EQ(0, get_status(&self->nl, &before));
	node_set(&self->nl, -1, NULL, -1);
	node_set(&self->nl, 0, "10.0.0.1", -1);

	fd = open(DSM_DEVICE_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO(DSM_IOC_MAGIC, 99)));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);	/* unattached */
	EXPECT_EQ(MAP_FAILED, p);
	close(fd);

	ASSERT_EQ(0, get_status(&self->nl, &after));
	EXPECT_EQ(before.stats[DSM_STAT_BAD_NETLINK] + 2,
		  after.stats[DSM_STAT_BAD_NETLINK]);
	EXPECT_EQ(before.stats[DSM_STAT_BAD_IOCTL] + 1,
		  after.stats[DSM_STAT_BAD_IOCTL]);
	EXPECT_EQ(before.stats[DSM_STAT_BAD_MMAP] + 1,
		  after.stats[DSM_STAT_BAD_MMAP]);
}

TEST_F(nl, faults_are_counted)
{
	struct dsm_attach a = { .key = 0xd5d5feed, .size = 3 * 4096 };
	struct status before, after;
	struct dsm_remove rm = { .key = a.key };
	volatile char *p;
	int fd = open(DSM_DEVICE_PATH, O_RDWR);

	ASSERT_LE(0, fd);
	ioctl(fd, DSM_IOC_REMOVE, &rm);
	ASSERT_EQ(0, get_status(&self->nl, &before));
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_ATTACH, &a));
	p = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	p[8192] = 1;
	munmap((void *)p, a.size);
	close(fd);
	ASSERT_EQ(0, get_status(&self->nl, &after));
	EXPECT_EQ(before.stats[DSM_STAT_ZERO_FILLS] + 2,
		  after.stats[DSM_STAT_ZERO_FILLS]);
	EXPECT_LE(before.stats[DSM_STAT_FAULTS] + 2, after.stats[DSM_STAT_FAULTS]);
	EXPECT_EQ(before.stats[DSM_STAT_REGIONS_CREATED] + 1,
		  after.stats[DSM_STAT_REGIONS_CREATED]);

	fd = open(DSM_DEVICE_PATH, O_RDWR);
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_REMOVE, &rm));
	close(fd);
	ASSERT_EQ(0, get_status(&self->nl, &after));
	EXPECT_EQ(before.stats[DSM_STAT_REGIONS_DESTROYED] + 1,
		  after.stats[DSM_STAT_REGIONS_DESTROYED]);
}

/*
 * @n requests of random commands (all but JOIN, which would dial out, and
 * STATS_RESET, which would hide the count, for a privileged caller) with
 * up to five attributes of random types (nested
 * flag too), lengths and bytes. Each must be answered; a refusal for bad
 * input (EINVAL, ERANGE) must say why. Return: refusals without a message.
 */
static int random_requests(struct dsm_nl *nl, int n, bool privileged)
{
	int i, silent = 0;

	for (i = 0; i < n; i++) {
		uint8_t cmd = random() % (DSM_CMD_MAX + 2), data[48];
		struct nl_msg *msg;
		int a, err;

		if (privileged && (cmd == DSM_CMD_JOIN || cmd == DSM_CMD_STATS_RESET))
			cmd = DSM_CMD_GET;
		msg = dsm_nl_msg_flags(nl, cmd, random() % 4 ? 0 : NLM_F_DUMP);
		for (a = random() % 6; a > 0; a--) {
			int len = random() % sizeof(data), type = random() % 32;

			for (int b = 0; b < len; b++)
				data[b] = random() % 3 ? random() : 0;
			if (random() % 8 == 0)
				type |= NLA_F_NESTED;
			nla_put(msg, type, len, data);
		}
		err = dsm_nl_request(nl, msg, NULL, NULL);
		if ((err == -EINVAL || err == -ERANGE) && !nl->errmsg[0]) {
			if (silent++ < 5)
				fprintf(stderr, "# command %u refused (%d) without a message\n", cmd, err);
		}
	}
	return silent;
}

TEST_F(nl, random_requests)
{
	struct status before, after;
	pid_t pid;
	int status;

	srandom(getpid());
	ASSERT_EQ(0, get_status(&self->nl, &before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {	/* nobody, with no capabilities */
		struct dsm_nl nl;

		if (setgid(65534) || setuid(65534) || dsm_nl_open(&nl))
			_exit(100);
		_exit(random_requests(&nl, 3000, false) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, random_requests(&self->nl, 3000, true));
	ASSERT_EQ(0, get_status(&self->nl, &after));
	EXPECT_LT(before.stats[DSM_STAT_BAD_NETLINK], after.stats[DSM_STAT_BAD_NETLINK]);
	/* what a random NODE_SET changed, the fixture's teardown restores */
}

TEST_HARNESS_MAIN
