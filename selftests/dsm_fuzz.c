// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_fuzz SECONDS KEY: a rogue member fuzzes this node for SECONDS while
 * the cluster's own workload counts in region KEY (dsm_coherence counted).
 *
 * Once KEY exists (so the rogue is none of its homes), the rogue joins as
 * node 9 and, on the peer link this node opens to it, sends well-framed
 * messages of every type a member sends, with random field values: region
 * keys (KEY, three of its own, random ones), sizes, home sets, page
 * indices, types, flags, requesters, tokens, pages, region operations,
 * barrier words, epochs, sequence numbers and acks; valid messages in the
 * wrong role among them. When the node closes the link over one, the
 * rogue takes the next link the node opens. Every half second it sends a
 * valid heartbeat, so it is never declared lost. At the end it leaves.
 *
 * Left out, because a member in its own role is trusted (see "Key" in
 * Documentation/protocol.md): requests for KEY's pages in its own name (it
 * would own a page of the workload and never answer), region removal and
 * barrier arrivals on KEY, MEMBERS, LOG, JOIN and LEAVE (membership messages
 * are not checked against their sender), and requests that make this node
 * the home of regions other than the rogue's three (each would be a new
 * shadow region: there is no per-peer cap on them yet).
 *
 * Checks, as KTAP: the rogue left; this node's links to the other members
 * are up after; every link it closed was counted in bad_wire; MemAvailable
 * after the rogue left (caches dropped) within DSM_FUZZ_MARGIN_MIB (16;
 * more on a KASAN kernel, whose quarantine holds freed memory) of before.
 * That the node
 * survives, with KASAN, lockdep and kmemleak quiet, is the runner's check;
 * that the workload's count is exact, the workload's.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "rogue.h"

#define OWN_KEY(i)	(0xf0220000000000a0ULL + (i))
#define OWN_PAGES	64
#define REPLICA_KEY(i)	(0xf0220000000000b0ULL + (i))

static uint64_t work_key;
static uint64_t work_homes;	/* the members when KEY was made: its homes */
static unsigned long sent[__DSM_MSG_MAX + 1], closes;

static uint64_t rnd64(void)
{
	return (uint64_t)random() << 42 ^ (uint64_t)random() << 21 ^ random();
}

/* true with probability @pct percent */
static bool chance(int pct)
{
	return random() % 100 < pct;
}

static uint64_t pick_key(void)
{
	int r = random() % 10;

	return r < 4 ? work_key : r < 9 ? OWN_KEY(random() % 3) : rnd64();
}

static bool is_request(uint8_t type)
{
	return type == 1 || type == 2;	/* REQ_READ, REQ_WRITE */
}

/* A PAGE payload; returns its length (the page, if any, follows @w). */
static size_t fuzz_page(struct dsm_wire_page *w)
{
	uint64_t key = pick_key(), npages;
	bool data;

	npages = key == work_key ? 1 : key >> 32 == OWN_KEY(0) >> 32 ? OWN_PAGES :
		 1 + random() % 1024;
	if (chance(5))
		npages = chance(50) ? rnd64() : 0;
	memset(w, 0, sizeof(*w));
	w->key = htole64(key);
	w->npages = htole64(npages);
	w->homes = htole64(key == work_key && chance(80) ? work_homes :
			   chance(70) ? (1ULL << self_id() | 1ULL << ROGUE_ID) : rnd64());
	w->index = htole64(chance(90) && npages ? rnd64() % npages : rnd64());
	w->type = chance(95) ? 1 + random() % 22 : random() % 256;
	w->with_data = chance(80) ? w->type == 8 && chance(50) : random() % 3;
	w->flags = chance(85) ? 0 : chance(50) ? DSM_WIRE_PAGE_SPECULATIVE : random() % 256;
	w->copies = chance(97) ? 0 : random() % 4;
	w->version = htole64(chance(90) ? 0 : rnd64());
	w->requester = htole32(chance(60) ? ROGUE_ID : chance(50) ? self_id() :
			       chance(80) ? 1 + random() % 3 : random());
	w->txn = htole64(chance(50) ? 0 : rnd64());
	/* a request in its own name: only for the rogue's regions (above) */
	if (is_request(w->type) && le32toh(w->requester) == ROGUE_ID &&
	    key != OWN_KEY(0) && key != OWN_KEY(1) && key != OWN_KEY(2))
		w->requester = htole32(self_id());
	data = w->type == 7 || w->type == 18 || (w->type == 8 && w->with_data);
	if (chance(5))
		data = !data;
	return sizeof(*w) + (data ? DSM_WIRE_PAGE_SIZE : 0);
}

static size_t fuzz_region(struct dsm_wire_region *w)
{
	uint64_t key = pick_key();
	uint32_t op = chance(95) ? 1 + random() % 6 : random();

	if (key == work_key && op >= DSM_REGION_PREPARE && op <= DSM_REGION_ABORT)
		key = OWN_KEY(random() % 3);
	w->key = htole64(key);
	w->size = htole64(chance(80) ? OWN_PAGES * 4096ULL : rnd64());
	w->flags = htole32(chance(80) ? 0 : random() % 16);
	w->op = htole32(op);
	return sizeof(*w);
}

static size_t fuzz_barrier(struct dsm_wire_barrier *w)
{
	w->key = htole64(OWN_KEY(random() % 3));
	w->offset = htole64(chance(90) ? (random() % (OWN_PAGES * 1024)) * 4 : rnd64());
	w->parties = htole32(chance(90) ? 2 + random() % 3 : random());
	w->pad = htole32(chance(95) ? 0 : 1);
	return sizeof(*w);
}

/* A REPLICA payload (a push with its page, or an ack); returns its length. */
static size_t fuzz_replica(struct dsm_wire_replica *w)
{
	/* mostly regions of its own, which a push may make with copies */
	uint64_t key = chance(80) ? REPLICA_KEY(random() % 2) : pick_key();
	uint64_t npages = key == work_key ? 1 : OWN_PAGES;
	bool push = chance(70);
	size_t i, len;

	memset(w, 0, sizeof(*w));
	w->key = htole64(key);
	w->npages = htole64(chance(95) ? npages : rnd64());
	w->homes = htole64(chance(80) ? (1ULL << (self_id() % 64) | 1ULL << ROGUE_ID) : rnd64());
	w->lost = htole64(chance(95) ? 0 : rnd64());
	w->index = htole64(chance(90) ? random() % npages : rnd64());
	w->version = htole64(chance(95) ? 1 + random() % 100 : 0);
	w->op = chance(95) ? (push ? DSM_WIRE_REPLICA_PUSH : DSM_WIRE_REPLICA_ACK) :
		random() % 256;
	w->copies = chance(95) ? 1 + random() % 2 : random() % 256;
	if (chance(3))
		w->pad[random() % sizeof(w->pad)] = 1;
	len = sizeof(*w) + (push == chance(95) ? DSM_WIRE_PAGE_SIZE : 0);
	for (i = sizeof(*w); i < len; i += 8)
		*(uint64_t *)((uint8_t *)w + i) = rnd64();
	return len;
}

static bool reliable(uint8_t type)
{
	return type == DSM_MSG_LEAVE || type == DSM_MSG_REPLY ||
	       type == DSM_MSG_MEMBERS || type == DSM_MSG_PAGE ||
	       type == DSM_MSG_REGION || type == DSM_MSG_REGION_REPLY ||
	       type == DSM_MSG_LEAVING || type == DSM_MSG_BARRIER ||
	       type == DSM_MSG_PAGES || type == DSM_MSG_REPLICA ||
	       type == DSM_MSG_LOG;
}

/* One random, well-framed message on @fd. Return: -1 if the send failed. */
static int fuzz_one(int fd)
{
	static const uint8_t types[] = {
		DSM_MSG_PAGE, DSM_MSG_PAGE, DSM_MSG_PAGE, DSM_MSG_PAGE, DSM_MSG_PAGE,
		DSM_MSG_PAGE, DSM_MSG_PAGE, DSM_MSG_REGION, DSM_MSG_REGION,
		DSM_MSG_REGION_REPLY, DSM_MSG_REPLY, DSM_MSG_ACK, DSM_MSG_PING,
		DSM_MSG_PONG, DSM_MSG_BARRIER, DSM_MSG_HELLO, DSM_MSG_AUTH,
		DSM_MSG_REFUSE, DSM_MSG_LEAVING, DSM_MSG_PAGES, DSM_MSG_PAGES,
		DSM_MSG_REPLICA,
	};
	uint8_t buf[sizeof(struct dsm_wire_hdr) + DSM_WIRE_MAX_PAYLOAD];
	struct dsm_wire_hdr *h = (void *)buf;
	uint8_t *p = buf + sizeof(*h);
	uint8_t type = chance(98) ? types[random() % sizeof(types)] : random() % 256;
	size_t len, i;

	if (type == DSM_MSG_JOIN || type == DSM_MSG_LEAVE || type == DSM_MSG_MEMBERS ||
	    type == DSM_MSG_LOG)
		type = DSM_MSG_PAGE;	/* membership: left out (above) */
	if (type == DSM_MSG_LEAVING && chance(90))
		type = DSM_MSG_PAGE;	/* rare: it changes how the node waits */
	switch (type) {
	case DSM_MSG_PAGE:
		len = fuzz_page((struct dsm_wire_page *)p);
		break;
	case DSM_MSG_PAGES:	/* a pack: records of a type with data are bad */
		for (len = 0, i = 1 + random() % DSM_WIRE_PAGES_MAX; i; i--)
			len += fuzz_page((struct dsm_wire_page *)(p + len)) ?
			       sizeof(struct dsm_wire_page) : 0;
		if (chance(5))
			len += 8;	/* not a whole record */
		break;
	case DSM_MSG_REGION:
		len = fuzz_region((struct dsm_wire_region *)p);
		break;
	case DSM_MSG_BARRIER:
		len = fuzz_barrier((struct dsm_wire_barrier *)p);
		break;
	case DSM_MSG_REPLICA:
		len = fuzz_replica((struct dsm_wire_replica *)p);
		break;
	case DSM_MSG_LEAVING:
		len = 0;
		break;
	default:	/* replies, acks, heartbeats, handshake messages */
		len = chance(70) ? (type == DSM_MSG_PING || type == DSM_MSG_PONG ?
				    sizeof(struct dsm_wire_ping) :
				    type == DSM_MSG_REGION_REPLY ? 24 : 0) :
		      random() % 128;
		for (i = 0; i < len; i++)
			p[i] = chance(70) ? 0 : random();
		break;
	}
	if (type == DSM_MSG_PAGE && len > sizeof(struct dsm_wire_page))	/* the page */
		for (i = sizeof(struct dsm_wire_page); i < len; i += 8)
			*(uint64_t *)(p + i) = rnd64();
	*h = rogue_hdr(type, len);
	if (!reliable(type)) {
		rogue->seq--;
		h->seq = chance(95) ? 0 : htole64(rnd64());
	} else if (chance(2)) {
		h->seq = htole64(rnd64());
	}
	if (chance(3))
		h->epoch = htole64(rnd64());
	h->ack = chance(90) ? 0 : htole64(chance(50) ? rnd64() : random() % 8);
	h->req_id = htole64(rnd64());
	if (chance(2))
		h->flags = htole16(random());
	sent[type < __DSM_MSG_MAX ? type : __DSM_MSG_MAX]++;
	return send_all(fd, buf, sizeof(*h) + len);
}

/* A valid heartbeat. */
static int ping(int fd)
{
	struct dsm_wire_ping ping = { .stamp_ns = htole64(rnd64()) };
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_PING, sizeof(ping), ROGUE_ID);

	h.epoch = htole64(rogue->epoch);
	return send_msg(fd, h, &ping, sizeof(ping));
}

static int peer_9(struct nlattr **tb, void *arg)
{
	struct nlattr *p[DSM_PEER_A_MAX + 1];

	if (tb[DSM_A_PEER] &&
	    !nla_parse_nested(p, DSM_PEER_A_MAX, tb[DSM_A_PEER], NULL) &&
	    p[DSM_PEER_A_ID] && nla_get_u32(p[DSM_PEER_A_ID]) == ROGUE_ID)
		*(bool *)arg = true;
	return 0;
}

/* Is the rogue still one of this node's peers (a member)? */
static bool rogue_listed(void)
{
	struct dsm_nl nl;
	bool listed = false;

	if (dsm_nl_open(&nl))
		return true;
	dsm_nl_request(&nl, dsm_nl_msg_flags(&nl, DSM_CMD_PEER_GET, NLM_F_DUMP),
		       peer_9, &listed);
	dsm_nl_close(&nl);
	return listed;
}

/*
 * Leave properly: on a fresh link (what is still on its way on the last one
 * may make the node close it before it reads the LEAVE), until the node no
 * longer lists the rogue.
 */
static void leave(int lfd)
{
	for (int tries = 0; tries < 3 && rogue_listed(); tries++) {
		int fd = rogue_accept(lfd);

		if (fd < 0)
			break;
		rogue_leave(fd);
		close(fd);
	}
}

/* Read and drop what the node sent; return: -1 once it closed the link. */
static int drain(int fd)
{
	uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN) ? -1 : 0;
}

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3", f);
		fclose(f);
	}
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for region @key to exist (made by the workload); its homes are the members then. */
static int wait_for_region(uint64_t key)
{
	struct dsm_attach req = { .key = key, .flags = DSM_ATTACH_NOCREATE };
	int dev = open("/dev/dsm", O_RDWR), tries;

	for (tries = 0; dev >= 0 && tries < 600; tries++) {
		if (!ioctl(dev, DSM_IOC_ATTACH, &req))
			return dev;	/* kept open: the region stays */
		usleep(100 * 1000);
	}
	return -1;
}

static int tap_no;

static bool tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - node %u: ", ok ? "ok" : "not ok", ++tap_no, self_id());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok;
}

int main(int argc, char **argv)
{
	long margin = atol(getenv("DSM_FUZZ_MARGIN_MIB") ? : "16") * 1024, mem0, mem;
	uint64_t bad0, dropped0, bad, dropped;
	double secs, end, next_ping = 0;
	bool ok;
	int lfd, fd, dev, up0, up = -1, i;
	unsigned long msgs = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: dsm_fuzz SECONDS KEY\n");
		return 2;
	}
	secs = atof(argv[1]);
	work_key = strtoull(argv[2], NULL, 0);
	for (i = 1; i <= atoi(getenv("DSM_NODES") ? : "3"); i++)
		work_homes |= 1ULL << i;
	srandom(getpid() ^ time(NULL));
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..4\n");
	dev = wait_for_region(work_key);
	if (dev < 0) {
		printf("Bail out! region %#llx never appeared\n", (unsigned long long)work_key);
		return 1;
	}
	up0 = peers_up();
	mem0 = mem_available_kib();
	bad0 = node_stat(DSM_STAT_BAD_WIRE);
	dropped0 = node_stat(DSM_STAT_COH_MSGS_DROPPED);
	fd = rogue_member(&lfd);
	if (fd < 0) {
		printf("Bail out! the rogue could not join\n");
		return 1;
	}
	for (end = now() + secs; now() < end; msgs++) {
		if (now() >= next_ping) {
			ping(fd);
			next_ping = now() + 0.5;
		}
		if ((fuzz_one(fd) || drain(fd)) && (usleep(20 * 1000), drain(fd))) {
			closes++;
			close(fd);
			fd = rogue_accept(lfd);	/* the node links to its member again */
			if (fd < 0)
				break;
		}
	}
	bad = node_stat(DSM_STAT_BAD_WIRE) - bad0;
	dropped = node_stat(DSM_STAT_COH_MSGS_DROPPED) - dropped0;
	printf("# %lu messages in %.0f s (PAGE %lu, PAGES %lu, REGION %lu, BARRIER %lu, REPLICA %lu), %lu links closed; bad_wire +%llu, coh_msgs_dropped +%llu\n",
	       msgs, secs, sent[DSM_MSG_PAGE], sent[DSM_MSG_PAGES], sent[DSM_MSG_REGION],
	       sent[DSM_MSG_BARRIER], sent[DSM_MSG_REPLICA],
	       closes, (unsigned long long)bad, (unsigned long long)dropped);
	close(fd);
	leave(lfd);
	close(lfd);
	close(dev);
	for (i = 0; i < 200 && (up = peers_up()) < up0; i++)
		usleep(100 * 1000);
	ok = tap(!rogue_listed(), "the rogue left");
	ok &= tap(up >= up0, "%d of its %d links up after the fuzzing", up, up0);
	ok &= tap(closes > 0 && bad >= closes, "%lu links closed, bad_wire counted %llu",
		  closes, (unsigned long long)bad);
	sleep(1);
	mem = mem_available_kib();
	ok &= tap(mem0 > 0 && mem > mem0 - margin,
		  "MemAvailable %ld kB after, %ld kB before (margin %ld kB)", mem, mem0, margin);
	return ok ? 0 : 1;
}
