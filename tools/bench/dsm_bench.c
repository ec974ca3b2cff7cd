// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_bench: dsm against the physical limit, run on every node of a 4-node
 * cluster at once (selftests/vm/bench.sh, `make bench`). Each measurement
 * prints "bench: NAME VALUE"; the host script turns them into the ratios:
 *
 *   R1 remote read fault (page homed and owned on node 1; and homed on 3,
 *      owned by 1) on node 2 / a 4 KiB request-response over TCP 2 <-> 1
 *   R2 write fault on node 2 with k = 0, 1, 2 read sharers (nodes 3, 4) of
 *      a page homed and owned on node 1 / k = 0; messages per fault
 *   R3 first touch of a page homed on this node (no network) / first touch
 *      of an anonymous page, both on node 1
 *   R4 cold sequential read of a 64 MiB region written by node 1, on node 2
 *      / a TCP stream 1 -> 2
 *   R5 dsm_lock acquire+release handed between nodes 2 and 3, and a 3-node
 *      dsm_barrier round / the round trip of R1
 *   FS false sharing: nodes 2 and 3 each store to their own word of one
 *      page for FS_SECONDS, with FS_WORK_US of work between stores; stores
 *      per second of each against node 2 alone, and messages per store
 *   PC a producer/consumer ring across nodes 2 and 3 (indices and slots on
 *      separate pages, waiting with dsm_wait): time and messages per item
 *   C  commit: node 1 writes COMMIT_PAGES pages of a region with 1 (then 2)
 *      copies and commits them (dsm_commit), COMMIT_ROUNDS times: time per
 *      page, and for a commit of one page / the round trip of R1
 *   REC recovery, last: node 4 fills and commits COMMIT_PAGES pages of a
 *      region with one copy and is killed; node 1 times from node 4
 *      leaving its live member set (declared lost here) to having read
 *      every one of those pages, made again from their replicas (a read
 *      that reaches a home before it declared the loss is served once
 *      that home has settled the page)
 *
 * `dsm_bench sealed`, on a cluster formed with a key (cluster.sh --key):
 * the round trip, R1 and R4 only, every link sealed (AES-256-GCM).
 *
 * With R1, every node also reports its context switches (/proc/stat ctxt)
 * per fault: what a remote read fault costs the requester (node 2) and the
 * home (node 1), against the idle nodes 3 and 4.
 *
 * Message counts come from each node's coh_msgs_sent counter (dsmctl -j
 * stats) around the phase; the host sums them. Timed sections contain only
 * the operation measured; phases are separated by dsm_barrier (plain TCP).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libdsm.h"
#include "../../kernel/coherence/homes.h"
#include "../node_stat.h"

#define PAGE		4096
#define PORT		9940
#define RTT_ROUNDS	2000
#define FAULT_PAGES	256
#define STREAM_MIB	64
#define LOCK_ROUNDS	200
#define BARRIER_ROUNDS	200
#define FS_SECONDS	3
#define FS_WORK_US	20
#define PC_SLOTS	64
#define PC_ITEMS	2000
#define COMMIT_PAGES	64
#define COMMIT_ROUNDS	20

static int me, nodes;
static struct dsm_homes table;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sync_all(const char *name)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "dsm_barrier %s 600", name);
	if (system(cmd)) {
		fprintf(stderr, "dsm_bench: barrier %s failed\n", name);
		exit(1);
	}
}

static void report(const char *name, double value)
{
	printf("bench: %s %.6g\n", name, value);
	fflush(stdout);
}

/* This node's coherence messages sent so far. */
static long long msgs_sent(void)
{
	return node_stat("coh_msgs_sent");
}

/*
 * This node's message count before a measured phase, once every node has
 * taken its own: a node still reading its count when the faults start
 * would miss their first messages.
 */
static long long msgs_mark(const char *name)
{
	long long m0 = msgs_sent();

	sync_all(name);
	return m0;
}

/* Context switches of this node so far (/proc/stat ctxt), or -1. */
static long long context_switches(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	long long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ctxt %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static void *map_key(uint64_t key, size_t size)
{
	struct dsm_region r;
	void *addr;
	int err = dsm_attach(key, size, 0, &r);

	if (!err)
		err = dsm_map(&r, &addr);
	if (err) {
		fprintf(stderr, "dsm_bench: region %#llx: %s\n",
			(unsigned long long)key, strerror(-err));
		exit(1);
	}
	return addr;
}

/*
 * Up to @max pages of region @key whose home is @home, no two adjacent (a
 * fault right after one on the previous page would start read-ahead).
 */
static int pages_homed(uint64_t key, int npages, int home, int *out, int max)
{
	int n = 0;

	for (int i = 0; i < npages && n < max; i++)
		if ((int)dsm_homes_node(&table, key, i) == home &&
		    (!n || out[n - 1] != i - 1))
			out[n++] = i;
	return n;
}

static int tcp_connect(int node)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char addr[32];
	int fd, one = 1;

	snprintf(addr, sizeof(addr), "10.0.0.%d", node);
	sin.sin_addr.s_addr = inet_addr(addr);
	for (int tries = 0; tries < 100; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		close(fd);
		usleep(100000);
	}
	exit(1);
}

static int tcp_accept_one(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1))
		exit(1);
	return l;
}

static int full(int fd, void *buf, size_t len, int writing)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = writing ? write(fd, (char *)buf + done, len - done) :
				      read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* The floors: a 4 KiB request-response, and a stream, between 2 and 1. */
static void bench_tcp(void)
{
	static char page[PAGE], *big;
	char req[16] = "";
	int l = -1, fd, one = 1;

	if (me == 1)
		l = tcp_accept_one();
	sync_all("tcp-listening");
	if (me == 1) {
		fd = accept(l, NULL, NULL);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (int i = 0; i < RTT_ROUNDS + 100; i++)
			if (full(fd, req, sizeof(req), 0) || full(fd, page, PAGE, 1))
				exit(1);
		big = malloc(1 << 20);
		memset(big, 1, 1 << 20);
		for (int i = 0; i < STREAM_MIB; i++)
			full(fd, big, 1 << 20, 1);
		full(fd, req, 1, 0);
		close(fd);
		close(l);
	} else if (me == 2) {
		double t0;

		fd = tcp_connect(1);
		for (int i = 0; i < 100; i++)	/* warm up */
			full(fd, req, sizeof(req), 1), full(fd, page, PAGE, 0);
		t0 = now();
		for (int i = 0; i < RTT_ROUNDS; i++)
			if (full(fd, req, sizeof(req), 1) || full(fd, page, PAGE, 0))
				exit(1);
		report("tcp_rtt_4k_us", (now() - t0) / RTT_ROUNDS * 1e6);
		big = malloc(1 << 20);
		t0 = now();
		for (int i = 0; i < STREAM_MIB; i++)
			full(fd, big, 1 << 20, 0);
		report("tcp_stream_mib_s", STREAM_MIB / (now() - t0));
		full(fd, req, 1, 1);
		close(fd);
	}
	sync_all("tcp-done");
}

/* Node 2 reads one word of each page in @idx; average fault time. */
static void time_reads(const char *name, volatile uint64_t *p, int *idx, int n)
{
	double total = 0, t0;
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		t0 = now();
		sum += p[idx[i] * 512];
		total += now() - t0;
	}
	report(name, total / n * 1e6);
	if (sum == 0)
		fprintf(stderr, "dsm_bench: %s read zeros\n", name);
}

static void bench_read_faults(void)
{
	const uint64_t key = 0xbe0c000000000001ULL;
	const int npages = 8 * FAULT_PAGES;
	volatile uint64_t *p = map_key(key, (size_t)npages * PAGE);
	int home1[FAULT_PAGES], home3[FAULT_PAGES];
	int n1 = pages_homed(key, npages, 1, home1, FAULT_PAGES);
	int n3 = pages_homed(key, npages, 3, home3, FAULT_PAGES);
	long long m0, cs;
	char name[32];

	if (me == 1) {	/* owns them all: home 1's stay owned by their home */
		for (int i = 0; i < n1; i++)
			p[home1[i] * 512] = 1;
		for (int i = 0; i < n3; i++)
			p[home3[i] * 512] = 3;
	}
	sync_all("rf-written");
	m0 = msgs_mark("rf-mark-1");
	cs = context_switches();
	if (me == 2)
		time_reads("read_fault_home_owner_us", p, home1, n1);
	sync_all("rf-1");
	snprintf(name, sizeof(name), "ctxt_read_node%d", me);
	report(name, (double)(context_switches() - cs) / n1);
	report("msgs_read_home_owner", (double)(msgs_sent() - m0) / n1);
	m0 = msgs_mark("rf-mark-3");
	if (me == 2)
		time_reads("read_fault_owner_not_home_us", p, home3, n3);
	sync_all("rf-3");
	report("msgs_read_owner_not_home", (double)(msgs_sent() - m0) / n3);
}

static void bench_write_faults(void)
{
	const uint64_t key = 0xbe0c000000000002ULL;
	const int npages = 8 * FAULT_PAGES, per = FAULT_PAGES / 3;
	volatile uint64_t *p = map_key(key, (size_t)npages * PAGE);
	int home1[FAULT_PAGES], n = pages_homed(key, npages, 1, home1, FAULT_PAGES);
	char name[64];

	for (int k = 0; k <= 2; k++) {
		int *set = home1 + k * per;
		long long m0;

		/* sharers: node 3 for k >= 1, node 4 for k = 2 */
		if ((me == 3 && k >= 1) || (me == 4 && k == 2))
			for (int i = 0; i < per && k * per + i < n; i++)
				(void)p[set[i] * 512];
		snprintf(name, sizeof(name), "wf-read-%d", k);
		sync_all(name);
		snprintf(name, sizeof(name), "wf-mark-%d", k);
		m0 = msgs_mark(name);
		if (me == 2) {
			double total = 0, t0;

			for (int i = 0; i < per; i++) {
				t0 = now();
				p[set[i] * 512] = 2;
				total += now() - t0;
			}
			snprintf(name, sizeof(name), "write_fault_k%d_us", k);
			report(name, total / per * 1e6);
		}
		snprintf(name, sizeof(name), "wf-write-%d", k);
		sync_all(name);
		snprintf(name, sizeof(name), "msgs_write_k%d", k);
		report(name, (double)(msgs_sent() - m0) / per);
	}
}

static void bench_local_faults(void)
{
	const uint64_t key = 0xbe0c000000000003ULL;
	const int npages = 8 * FAULT_PAGES;
	volatile uint64_t *p = map_key(key, (size_t)npages * PAGE);
	int mine[FAULT_PAGES], n = pages_homed(key, npages, 1, mine, FAULT_PAGES);

	if (me == 1) {
		volatile uint64_t *anon = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double total = 0, t0;

		for (int i = 0; i < n; i++) {
			t0 = now();
			p[mine[i] * 512] = 1;
			total += now() - t0;
		}
		report("local_home_fault_us", total / n * 1e6);
		total = 0;
		for (int i = 0; i < n; i++) {
			t0 = now();
			anon[i * 512] = 1;
			total += now() - t0;
		}
		report("anon_fault_us", total / n * 1e6);
	}
	sync_all("local-done");
}

static void bench_stream(void)
{
	const uint64_t key = 0xbe0c000000000004ULL;
	size_t size = (size_t)STREAM_MIB << 20;
	volatile uint64_t *p = map_key(key, size);
	uint64_t sum = 0;
	double t0;

	if (me == 1)
		for (size_t i = 0; i < size / 8; i += 512)
			p[i] = i;
	sync_all("stream-written");
	if (me == 2) {
		t0 = now();
		for (size_t i = 0; i < size / 8; i += 512)
			sum += p[i];
		report("dsm_stream_mib_s", STREAM_MIB / (now() - t0));
	}
	sync_all("stream-done");
	if (sum == 1)
		printf("#\n");
}

static void bench_sync(void)
{
	struct {
		struct dsm_lock lock;
		struct dsm_barrier barrier;
	} *s = map_key(0xbe0c000000000005ULL, PAGE);
	double t0;

	if (me == 1) {
		dsm_lock_init(&s->lock);
		dsm_barrier_init(&s->barrier, 3);
	}
	sync_all("sync-ready");
	if (me == 2 || me == 3) {
		t0 = now();
		for (int i = 0; i < LOCK_ROUNDS; i++) {
			dsm_lock_acquire(&s->lock);
			dsm_lock_release(&s->lock);
		}
		report(me == 2 ? "lock_pair_node2_us" : "lock_pair_node3_us",
		       (now() - t0) / LOCK_ROUNDS * 1e6);
	}
	sync_all("lock-done");
	if (me <= 3) {
		t0 = now();
		for (int i = 0; i < BARRIER_ROUNDS; i++)
			dsm_barrier_wait(&s->barrier);
		if (me == 1)
			report("barrier_3_nodes_us", (now() - t0) / BARRIER_ROUNDS * 1e6);
	}
	sync_all("barrier-done");
}

/*
 * Store to @word, with FS_WORK_US of work between stores, for FS_SECONDS.
 * Return: the stores made; @rate: per second.
 */
static long long store_loop(volatile uint64_t *word, double *rate)
{
	double t0 = now(), end = t0 + FS_SECONDS, t;
	long long stores = 0;

	while ((t = now()) < end) {
		*word = stores++;
		while (now() - t < FS_WORK_US / 1e6)
			;
	}
	*rate = stores / (t - t0);
	return stores;
}

static void bench_false_sharing(void)
{
	const uint64_t key = 0xbe0c000000000006ULL;
	volatile uint64_t *p = map_key(key, 64 * PAGE);
	long long m0, stores = 0;
	double rate;
	int page;

	if (pages_homed(key, 64, 1, &page, 1) != 1)
		exit(1);
	p += page * 512;
	if (me == 2) {
		store_loop(p, &rate);
		report("fs_alone_stores_s", rate);
	}
	sync_all("fs-alone");
	m0 = msgs_mark("fs-mark");
	if (me == 2 || me == 3) {
		stores = store_loop(p + (me == 2 ? 0 : 8), &rate);	/* 64 bytes apart */
		report(me == 2 ? "fs_node2_stores_s" : "fs_node3_stores_s", rate);
	}
	sync_all("fs-done");
	/* messages per store: the host divides the sum by both nodes' stores */
	report("msgs_fs_total", (double)(msgs_sent() - m0));
	report("sum_fs_stores", (double)stores);
}

/*
 * A ring of PC_SLOTS slots: node 2 produces PC_ITEMS items, node 3 checks
 * and consumes them; each side sleeps in dsm_wait() until the other's index
 * moves. head (written by the producer), tail (by the consumer) and the
 * slots are on three pages.
 */
static void bench_producer_consumer(void)
{
	const uint64_t key = 0xbe0c000000000007ULL;
	char *base = map_key(key, 3 * PAGE);
	volatile uint32_t *head = (uint32_t *)base, *tail = (uint32_t *)(base + PAGE);
	volatile uint64_t *slot = (uint64_t *)(base + 2 * PAGE);
	long long m0, wrong = 0;
	uint32_t seen;
	double t0;

	m0 = msgs_mark("pc-mark");
	t0 = now();
	if (me == 2) {
		for (uint32_t i = 0; i < PC_ITEMS; i++) {
			while (i - (seen = *tail) >= PC_SLOTS)
				dsm_wait((const uint32_t *)tail, seen, 1000000000L);
			slot[i % PC_SLOTS * 8] = 0x5eed0000ULL + i;
			__atomic_store_n(head, i + 1, __ATOMIC_RELEASE);
		}
	} else if (me == 3) {
		for (uint32_t i = 0; i < PC_ITEMS; i++) {
			while ((seen = __atomic_load_n(head, __ATOMIC_ACQUIRE)) == i)
				dsm_wait((const uint32_t *)head, seen, 1000000000L);
			wrong += slot[i % PC_SLOTS * 8] != 0x5eed0000ULL + i;
			*tail = i + 1;
		}
		report("pc_item_us", (now() - t0) / PC_ITEMS * 1e6);
		if (wrong)
			fprintf(stderr, "dsm_bench: the consumer saw %lld wrong items\n", wrong);
		report("pc_wrong_items", (double)wrong);
	}
	sync_all("pc-done");
	report("msgs_pc_item", (double)(msgs_sent() - m0) / PC_ITEMS);
}

/* Node 1: write @n pages of @r (mapped at @p), commit; seconds per commit. */
static double commit_rounds(volatile uint64_t *p, const struct dsm_region *r,
			    int n, int rounds)
{
	double t = 0, t0;
	int err;

	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < n; i++)
			p[i * 512] = k + 1;
		t0 = now();
		err = dsm_commit(r);
		t += now() - t0;
		if (err) {
			fprintf(stderr, "dsm_bench: commit: %s\n", strerror(-err));
			exit(1);
		}
	}
	return t / rounds;
}

static void *map_copies(uint64_t key, size_t size, unsigned int copies,
			struct dsm_region *r)
{
	void *addr;
	int err = dsm_attach(key, size, DSM_ATTACH_COPIES(copies), r);

	if (!err)
		err = dsm_map(r, &addr);
	if (err) {
		fprintf(stderr, "dsm_bench: region %#llx with %u copies: %s\n",
			(unsigned long long)key, copies, strerror(-err));
		exit(1);
	}
	return addr;
}

static void bench_commit(void)
{
	volatile uint64_t *p;
	struct dsm_region r;
	char name[48];

	for (unsigned int copies = 1; copies <= 2; copies++) {
		p = map_copies(0xbe0c000000000008ULL + copies, COMMIT_PAGES * PAGE,
			       copies, &r);
		snprintf(name, sizeof(name), "commit-ready-%u", copies);
		sync_all(name);
		if (me == 1) {
			snprintf(name, sizeof(name), "commit_c%u_page_us", copies);
			report(name, commit_rounds(p, &r, COMMIT_PAGES, COMMIT_ROUNDS) /
			       COMMIT_PAGES * 1e6);
			snprintf(name, sizeof(name), "commit_c%u_1page_us", copies);
			report(name, commit_rounds(p, &r, 1, 5 * COMMIT_ROUNDS) * 1e6);
		}
		snprintf(name, sizeof(name), "commit-done-%u", copies);
		sync_all(name);
	}
}

/* This node's live member set (DSM_IOC_MEMBERS), or 0. */
static uint64_t live_nodes(int fd)
{
	struct dsm_members m = { 0 };

	return ioctl(fd, DSM_IOC_MEMBERS, &m) ? 0 : m.nodes;
}

static void bench_recovery(void)
{
	int fd = open("/dev/dsm", O_RDWR), wrong = 0;
	volatile uint64_t *p;
	struct dsm_region r;
	double t0;

	p = map_copies(0xbe0c00000000000bULL, COMMIT_PAGES * PAGE, 1, &r);
	if (me == 4) {
		for (int i = 0; i < COMMIT_PAGES; i++)
			p[i * 512] = 0xcafe0000 + i;
		if (dsm_commit(&r)) {
			fprintf(stderr, "dsm_bench: commit before the kill failed\n");
			exit(1);
		}
	}
	sync_all("recovery-ready");
	if (me == 4) {
		printf("%s KILL\n", getenv("DSM_TOKEN") ? : "");
		fflush(stdout);
		pause();
	}
	while (fd >= 0 && live_nodes(fd) & 1ULL << 4)
		usleep(1000);
	t0 = now();
	/*
	 * A read that reaches a home which has not declared the loss yet is
	 * forwarded to the dead owner, and served again once that home has
	 * settled the page (census.c): counted in.
	 */
	if (me == 1) {
		for (int i = 0; i < COMMIT_PAGES; i++)
			wrong += p[i * 512] != 0xcafe0000ULL + i;
		report("recovery_ms", (now() - t0) * 1e3);
		report("recovery_wrong_pages", wrong);
	}
	/* nodes 2 and 3 stay members (a quorum) until node 1 has measured */
	if (system("DSM_NODES=3 dsm_barrier recovery-done 600"))
		fprintf(stderr, "dsm_bench: barrier recovery-done failed\n");
}

int main(int argc, char **argv)
{
	/* `dsm_bench sealed`: the costs of sealing (make bench's --key run) */
	bool sealed = argc == 2 && !strcmp(argv[1], "sealed");

	me = dsm_node_id();
	nodes = dsm_node_count();
	if (me < 1 || nodes != 4) {
		fprintf(stderr, "dsm_bench: needs a 4-node cluster (node %d of %d)\n",
			me, nodes);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dsm_homes_build(&table, 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4);
	bench_tcp();
	bench_read_faults();
	if (sealed) {
		bench_stream();
		return 0;
	}
	bench_write_faults();
	bench_local_faults();
	bench_stream();
	bench_sync();
	bench_false_sharing();
	bench_producer_consumer();
	bench_commit();
	bench_recovery();	/* last: node 4 is killed */
	return 0;
}
