// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_coherence: coherence checks run on every node of a cluster at once.
 *
 *   dsm_coherence TEST [ARG]
 *
 * Each TEST is one phase; the nodes meet at dsm_barrier points inside it.
 * Uses DSM_NODE_ID and DSM_NODES (1..N). Prints TAP lines ("ok N - ...",
 * "not ok N - ..."), exits 0 if all passed. Tests:
 *   regions     one key, same size everywhere; size mismatch EINVAL, EXCL
 *               EEXIST, size 0 attaches any size; removal EBUSY while a
 *               node maps it, then cluster-wide
 *   pingpong    node 1 writes, the others read it; then a token passed
 *               round the nodes by writes (ownership moves every turn)
 *   atomic      2 threads per node add 1 with atomic instructions, ARG times
 *               each; the total is exact
 *   mp-2pages N message passing, data and flag on two pages, N writes: a
 *               reader that sees flag i sees data >= i (what SC promises)
 *   mp-1page N  the same, data and flag on one page
 *   sb N        store buffering with a fence, N iterations in lockstep:
 *               r1 = r2 = 0 never happens
 *   halves      two nodes write different halves of one page: both kept
 *   rmw         each node in turn adds 1 with one add instruction to a word
 *               of a page that every node holds read-only
 *   fill MIB    a MIB-MiB region filled with a per-node pattern by slices,
 *               verified whole by every node
 *   slowlink KIB node 2 owns every page of a KIB-KiB region and throttles its
 *               link to 1 Mbit/s; node 1 reads the region in order: slow
 *               pages from a live node are not lost pages (no SIGBUS)
 *   leave       node 3 owns every page of a region and is home of some,
 *               then leaves: nodes 1 and 2 read all its data; it rejoins
 *   libdsm      dsm_lock around a plain counter, dsm_barrier rounds, and a
 *               shared heap at a fixed address: every node allocates and
 *               links items with plain pointers, every node walks them all
 *   cleanup     node 1 removes every region the phases above made
 *   hold KEY    (kill phase, before) node 3 reads page A of KEY (a page
 *               whose home is not node 3) and writes page B; then it is
 *               killed
 *   after-kill KEY DEAD_MS  (kill phase, after, nodes 1 and 2) writing page
 *               A works; a load from page B, whose only copy died, gets
 *               SIGBUS within the dead timeout; page A still works
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/libdsm.h"
#include "../kernel/coherence/homes.h"	/* which node is a page's home */

#define PAGE		4096

static int me, nodes, tap_n, failed;

static void tap(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d - node %d: ", ok ? "" : "not ", ++tap_n, me);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	failed |= !ok;
}

static void barrier(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "dsm_barrier %s 300", name);
	if (system(cmd)) {
		tap(0, "barrier %s", name);
		exit(1);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *map_key(uint64_t key, size_t size)
{
	struct dsm_region r;
	void *addr;
	int err;

	err = dsm_attach(key, size, 0, &r);
	if (!err)
		err = dsm_map(&r, &addr);
	if (err) {
		tap(0, "attach+map %#llx (%zu bytes): %s",
		    (unsigned long long)key, size, strerror(-err));
		exit(1);
	}
	return addr;
}

static void test_regions(void)
{
	struct dsm_region r, held;
	void *addr = NULL;
	int err;

	if (me == 1) {
		err = dsm_attach(0xc0de0001, 1 << 20, DSM_ATTACH_EXCL, &held);
		tap(!err, "creates a 1 MiB cluster region (%d)", err);
	}
	barrier("regions-made");
	if (me != 1) {
		err = dsm_attach(0xc0de0001, 2 << 20, 0, &r);
		tap(err == -EINVAL, "another size is EINVAL (%d)", err);
		err = dsm_attach(0xc0de0001, 1 << 20, DSM_ATTACH_EXCL, &r);
		tap(err == -EEXIST, "EXCL on an existing region is EEXIST (%d)", err);
		err = dsm_attach(0xc0de0001, 0, 0, &held);
		tap(!err && held.size == 1 << 20, "size 0 finds it, 1 MiB (%d)", err);
		err = dsm_attach(0xc0de0002, 0, 0, &r);
		tap(err == -ENOENT, "size 0 on an unknown key is ENOENT (%d)", err);
	}
	if (me == 2) {
		err = dsm_map(&held, &addr);
		tap(!err, "maps it (%d)", err);
	}
	barrier("regions-mapped");
	if (me == 3) {
		err = dsm_remove(0xc0de0001);
		tap(err == -EBUSY, "removal while node 2 maps it is EBUSY (%d)", err);
	}
	barrier("regions-busy");
	if (me == 2) {
		err = dsm_unmap(&held, addr);
		tap(!err, "unmaps it (%d)", err);
	}
	barrier("regions-unmapped");
	if (me == 3) {
		err = dsm_remove(0xc0de0001);
		tap(!err, "removal once no node maps it (%d)", err);
	}
	barrier("regions-removed");
	err = dsm_map(&held, &addr);
	tap(err == -EIDRM, "the removed region cannot be mapped on any node (%d)", err);
	dsm_detach(&held);
	barrier("regions-checked");
	if (me == 1) {
		err = dsm_attach(0xc0de0001, 2 << 20, DSM_ATTACH_EXCL, &r);
		tap(!err && r.size == 2 << 20, "the key is free again: a 2 MiB region (%d)", err);
		dsm_detach(&r);
	}
	barrier("regions-done");
}

static void test_pingpong(void)
{
	volatile uint64_t *p = map_key(0xc0de0010, 4 * PAGE);
	const uint64_t turns = 60 * nodes;
	uint64_t t, bad = 0;
	double t0;

	if (me == 1)
		for (t = 0; t < PAGE / 8; t++)
			p[512 + t] = 0xabcd0000 + t;
	barrier("pp-written");
	for (t = 0; t < PAGE / 8; t++)
		bad += p[512 + t] != 0xabcd0000 + t;
	tap(!bad, "reads node 1's write of a whole page (%llu words differ)",
	    (unsigned long long)bad);
	barrier("pp-read");

	/* the token: p[0] = turn; node (turn % nodes) + 1 moves it on */
	t0 = now();
	for (t = 0; t < turns; t++) {
		if ((int)(t % nodes) + 1 != me)
			continue;
		while (p[0] != t)
			usleep(50);
		p[0] = t + 1;
	}
	while (p[0] < turns)
		usleep(100);
	tap(p[0] == turns, "token passed %llu times round %d nodes (%.1f ms per turn)",
	    (unsigned long long)turns, nodes, (now() - t0) * 1e3 / turns);
	barrier("pp-done");
}

static uint64_t *counter;
static long adds;

static void *adder(void *arg)
{
	for (long i = 0; i < adds; i++)
		__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
	return arg;
}

static void test_atomic(long n)
{
	pthread_t th[2];
	uint64_t want = 2ULL * nodes * n;
	double t0;

	counter = map_key(0xc0de0020, PAGE);
	adds = n;
	barrier("atomic-start");
	t0 = now();
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, adder, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# node %d: its adds took %.2f s\n", me, now() - t0);
	barrier("atomic-end");
	tap(__atomic_load_n(counter, __ATOMIC_SEQ_CST) == want,
	    "atomic counter is %llu, expected %llu",
	    (unsigned long long)*counter, (unsigned long long)want);
	barrier("atomic-checked");
}

/* Message passing: node 1 writes data then flag; the others read. */
static void test_mp(uint64_t key, size_t flag_off, uint64_t iters)
{
	volatile uint64_t *p = map_key(key, 2 * PAGE);
	volatile uint64_t *data = p, *flag = p + flag_off / 8;
	uint64_t seen = 0, checks = 0, bad = 0, f, d;
	char name[32];

	snprintf(name, sizeof(name), "mp-%llx", (unsigned long long)key);
	barrier(name);
	if (me == 1) {
		for (uint64_t i = 1; i <= iters; i++) {
			*data = i;
			*flag = i;
		}
		tap(1, "wrote %llu data/flag pairs", (unsigned long long)iters);
	} else {
		while (seen < iters) {
			f = *flag;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			d = *data;
			checks++;
			if (d < f)
				bad++;
			seen = f;
		}
		tap(!bad, "message passing (%s): %llu checks, %llu saw the flag before the data",
		    flag_off >= PAGE ? "two pages" : "one page",
		    (unsigned long long)checks, (unsigned long long)bad);
	}
	strcat(name, "-end");
	barrier(name);
}

/*
 * Store buffering: x[i] and y[i] on different pages, results shared.
 * Nodes 1 and 2 start each iteration together: both add 1 to a counter on
 * its own page and wait for it to reach 2 * (i + 1).
 */
static void test_sb(long iters)
{
	/* pages: x 0-3, y 4-7, r1 8-11, r2 12-15, the counter 16 */
	volatile uint64_t *p = map_key(0xc0de0040, 17 * PAGE);
	volatile uint64_t *x = p, *y = p + 2048, *r1 = p + 4096, *r2 = p + 6144;
	uint64_t *go = (uint64_t *)p + 8192, both = 0;
	double t0;

	if (iters > 2048)
		iters = 2048;
	barrier("sb-start");
	t0 = now();
	if (me <= 2) {
		volatile uint64_t *mine = me == 1 ? x : y, *other = me == 1 ? y : x;
		volatile uint64_t *res = me == 1 ? r1 : r2;

		for (long i = 0; i < iters; i++) {
			__atomic_fetch_add(go, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(go, __ATOMIC_SEQ_CST) < 2 * (uint64_t)(i + 1))
				;
			mine[i] = 1;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			res[i] = other[i] + 1;	/* +1: 0 means not yet run */
		}
		printf("# node %d: %ld iterations in %.1f s\n", me, iters, now() - t0);
	}
	barrier("sb-end");
	if (me == 1) {
		uint64_t seen[2][2] = {};

		for (long i = 0; i < iters; i++) {
			both += r1[i] == 1 && r2[i] == 1;
			if (r1[i] && r2[i])
				seen[r1[i] - 1][r2[i] - 1]++;
		}
		printf("# sb outcomes (r1,r2): 00=%llu 01=%llu 10=%llu 11=%llu\n",
		       (unsigned long long)seen[0][0], (unsigned long long)seen[0][1],
		       (unsigned long long)seen[1][0], (unsigned long long)seen[1][1]);
		tap(!both, "store buffering: %ld iterations in lockstep, r1 = r2 = 0 seen %llu times",
		    iters, (unsigned long long)both);
	}
	barrier("sb-checked");
}

/* Nodes 1 and 2 write one half each of one page, many times. */
static void test_halves(void)
{
	volatile uint64_t *p = map_key(0xc0de0050, PAGE);
	const int words = PAGE / 16, rounds = 40;
	uint64_t bad = 0;

	barrier("halves-start");
	if (me <= 2) {
		volatile uint64_t *half = p + (me - 1) * words;

		for (int r = 1; r <= rounds; r++)
			for (int i = 0; i < words; i++)
				half[i] = (uint64_t)me << 32 | r << 16 | i;
	}
	barrier("halves-end");
	for (int h = 0; h < 2; h++)
		for (int i = 0; i < words; i++)
			bad += p[h * words + i] != ((uint64_t)(h + 1) << 32 | rounds << 16 | i);
	tap(!bad, "both halves kept their writer's last values (%llu words differ)",
	    (unsigned long long)bad);
	barrier("halves-checked");
}

/*
 * A read-modify-write instruction on a page every node holds read-only: a
 * CPU may report its load first (QEMU's TCG does), so the fault is a read
 * of a page this node has, and the write must still be had. The add runs
 * in a child that an alarm ends if it never completes (it once did not).
 */
static void test_rmw(void)
{
	volatile uint64_t *p = map_key(0xc0de00a0, PAGE);
	char name[32];
	int status;

	for (int turn = 1; turn <= nodes; turn++) {
		(void)p[0];	/* a read: every node holds a copy */
		snprintf(name, sizeof(name), "rmw-read-%d", turn);
		barrier(name);
		if (me == turn) {
			pid_t pid = fork();

			if (!pid) {
				alarm(60);
#ifdef __x86_64__
				__asm__ volatile("addq $1, %0" : "+m" (p[0]));
#else
				p[0]++;
#endif
				_exit(0);
			}
			waitpid(pid, &status, 0);
			tap(WIFEXITED(status) && !WEXITSTATUS(status),
			    "an add instruction on a page every node holds read-only completes (status %#x)",
			    status);
		}
		snprintf(name, sizeof(name), "rmw-added-%d", turn);
		barrier(name);
	}
	tap(p[0] == (uint64_t)nodes, "the word is %llu after %d adds",
	    (unsigned long long)p[0], nodes);
	barrier("rmw-checked");
}

static void test_fill(long mib)
{
	size_t size = (size_t)mib << 20, words = size / 8, slice = words / nodes;
	volatile uint64_t *p = map_key(0xc0de0060, size);
	size_t from = (me - 1) * slice, to = me == nodes ? words : from + slice;
	uint64_t bad = 0;
	double t0;

	barrier("fill-start");
	t0 = now();
	for (size_t i = from; i < to; i++)
		p[i] = (uint64_t)me << 56 | i;
	printf("# node %d: filled its %zu MiB in %.2f s\n", me,
	       (to - from) * 8 >> 20, now() - t0);
	barrier("fill-end");
	t0 = now();
	for (size_t i = 0; i < words; i++) {
		uint64_t owner = i / slice + 1;

		if (owner > (uint64_t)nodes)
			owner = nodes;

		bad += p[i] != (owner << 56 | i);
	}
	tap(!bad, "%ld MiB verified in %.2f s (%llu words differ)", mib,
	    now() - t0, (unsigned long long)bad);
	barrier("fill-checked");
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, sig);
}

/*
 * Read-ahead asks for pages long before a slow link can bring them all:
 * a page that takes long, from a node that is alive, must not be taken for
 * lost. Node 2 keeps the only copy of every page, and its egress is
 * throttled. The queue holds 150 packets, about 1.8 s: short enough that
 * its heartbeats to node 3 are not held up for the dead timeout, long
 * enough that TCP rarely loses a packet (with 20, repeated losses once
 * stalled the stream for over 5 s, and a link that stalls that long is
 * rightly taken for dead).
 */
static void test_slowlink(long kib)
{
	size_t words = (size_t)kib << 7, pages = words / 512;
	volatile uint64_t *p = map_key(0xc0de00b0, words * 8);
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile size_t i;
	uint64_t bad = 0;
	double t0;

	if (me == 2) {
		for (i = 0; i < words; i += 512)
			p[i] = 0xb000000 + i;
		tap(!system("/usr/sbin/tc qdisc add dev eth0 root netem rate 1mbit limit 150"),
		    "owns %zu pages; its link is throttled to 1 Mbit/s", pages);
	}
	barrier("slow-ready");
	if (me == 1) {
		sigaction(SIGBUS, &sa, NULL);
		t0 = now();
		i = 0;
		if (!sigsetjmp(bus_jmp, 1)) {
			for (i = 0; i < words; i += 512)
				bad += p[i] != 0xb000000 + i;
			tap(!bad, "reads %zu pages over the slow link in %.1f s (%llu differ)",
			    pages, now() - t0, (unsigned long long)bad);
		} else {
			tap(0, "SIGBUS on page %zu after %.1f s from live node 2",
			    i / 512, now() - t0);
		}
		signal(SIGBUS, SIG_DFL);
	}
	barrier("slow-read");
	if (me == 2)
		tap(!system("/usr/sbin/tc qdisc del dev eth0 root"), "its link is fast again");
	barrier("slow-done");
}

#define KILL_PAGES	8
#define LEAVE_PAGES	64

/* Node 3 owns every page of a region, homes some, and leaves. */
static void test_leave(void)
{
	volatile uint64_t *p = map_key(0xc0de0080, LEAVE_PAGES * PAGE);
	static struct dsm_homes table;
	int homed = 0, i;
	uint64_t bad = 0;

	dsm_homes_build(&table, 1 << 1 | 1 << 2 | 1 << 3);
	for (i = 0; i < LEAVE_PAGES; i++)
		homed += dsm_homes_node(&table, 0xc0de0080, i) == 3;
	barrier("leave-start");
	if (me == 3) {
		for (i = 0; i < LEAVE_PAGES; i++)
			p[i * 512 + 7] = 0x3300 + i;
		tap(system("dsmctl leave") == 0,
		    "leaves owning %d pages, home of %d of them", LEAVE_PAGES, homed);
	}
	barrier("leave-left");
	if (me != 3) {
		for (i = 0; i < LEAVE_PAGES; i++)
			bad += p[i * 512 + 7] != 0x3300 + (uint64_t)i;
		tap(!bad, "the %d pages node 3 owned survived its leave (%llu differ)",
		    LEAVE_PAGES, (unsigned long long)bad);
		p[7] = 0x1100 + me;	/* and they can be written */
		tap(1, "writes a page node 3 was home of or owned");
	}
	barrier("leave-checked");
	if (me == 3)
		tap(system("dsmctl join 10.0.0.1") == 0, "joins again");
	barrier("leave-rejoined");
}

/* Page A: the first page of @key whose home (homes {1,2,3}) is not 3. */
static int page_a(uint64_t key)
{
	static struct dsm_homes table;
	int i;

	dsm_homes_build(&table, 1 << 1 | 1 << 2 | 1 << 3);
	for (i = 0; i < KILL_PAGES - 1; i++)
		if (dsm_homes_node(&table, key, i) != 3)
			break;
	return i;
}

static void test_hold(uint64_t key)
{
	volatile uint64_t *p = map_key(key, KILL_PAGES * PAGE);
	int a = page_a(key), b = (a + 1) % KILL_PAGES;

	if (me == 3) {
		tap(p[a * 512] == 0, "reads page %d (a copy the others must forget)", a);
		p[b * 512] = 33;	/* its only copy is here */
		tap(1, "owns page %d", b);
	}
	barrier("held");
}

static void test_after_kill(uint64_t key, long dead_ms)
{
	volatile uint64_t *p = map_key(key, KILL_PAGES * PAGE);
	struct sigaction sa = { .sa_handler = on_sigbus };
	int a = page_a(key), b = (a + 1) % KILL_PAGES;
	volatile double t0;

	p[a * 512 + me] = me;	/* waits for no one: node 3 was forgotten */
	tap(p[a * 512 + me] == (uint64_t)me,
	    "writes page %d, which dead node 3 had read", a);
	sigaction(SIGBUS, &sa, NULL);
	t0 = now();
	if (!sigsetjmp(bus_jmp, 1)) {
		uint64_t v = p[b * 512];

		tap(0, "read page %d of dead node 3 without error (%llu)", b,
		    (unsigned long long)v);
	} else {
		double ms = (now() - t0) * 1e3;

		tap(ms <= dead_ms + 1000, "a load from dead node 3's page %d gets SIGBUS after %.0f ms (dead timeout %ld ms)",
		    b, ms, dead_ms);
	}
	p[a * 512 + 8 + me] = me;	/* the rest still works */
	tap(p[a * 512 + 8 + me] == (uint64_t)me, "page %d still works after the SIGBUS", a);
}

/*
 * libdsm across nodes: a dsm_lock protecting a plain (non-atomic) counter,
 * dsm_barrier rounds, and a shared heap in a region mapped at the same
 * address everywhere, where every node allocates list nodes, links them
 * under the lock with plain pointers, and every node walks the whole list.
 */
struct lib_shared {
	struct dsm_lock lock;
	struct dsm_barrier barrier;
	uint64_t counter;
	uint64_t pad[7];
	struct lib_item *head;
	uint32_t ready;
};

struct lib_item {
	struct lib_item *next;
	uint64_t node, seq;
};

#define LIB_ADDS	300
#define LIB_ITEMS	50

static void test_libdsm(void)
{
	struct dsm_region r, hr;
	struct lib_shared *s;
	void *heap;
	uint64_t count[65] = { 0 }, total = 0;
	int err, rounds_last = 0;

	err = dsm_attach(0xc0de0090, PAGE, 0, &r);
	if (!err)
		err = dsm_map_fixed(&r, (void **)&s);
	if (!err)
		err = dsm_attach(0xc0de0091, 64 * PAGE, 0, &hr);
	if (!err)
		err = dsm_map_fixed(&hr, &heap);
	tap(!err, "maps two regions at their fixed addresses (%d)", err);
	if (err)
		exit(1);
	tap(dsm_node_id() == me && dsm_node_count() == nodes,
	    "dsm_node_id %d and dsm_node_count %d", dsm_node_id(), dsm_node_count());
	if (me == 1) {
		dsm_lock_init(&s->lock);
		dsm_barrier_init(&s->barrier, nodes);
		tap(!dsm_heap_init(heap, 64 * PAGE), "makes a heap");
		__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (int i = 0; i < LIB_ADDS; i++) {
		dsm_lock_acquire(&s->lock);
		s->counter++;			/* plain: the lock protects it */
		dsm_lock_release(&s->lock);
	}
	for (int i = 0; i < LIB_ITEMS; i++) {
		struct lib_item *it;

		if (dsm_heap_alloc(heap, sizeof(*it), (void **)&it))
			break;
		it->node = me;
		it->seq = i;
		dsm_lock_acquire(&s->lock);
		it->next = s->head;
		s->head = it;
		dsm_lock_release(&s->lock);
	}
	for (int round = 0; round < 20; round++)
		rounds_last += dsm_barrier_wait(&s->barrier) == 1;
	tap(s->counter == (uint64_t)LIB_ADDS * nodes,
	    "lock-protected counter is %llu, expected %d", (unsigned long long)s->counter,
	    LIB_ADDS * nodes);
	for (struct lib_item *it = s->head; it; it = it->next)
		if (it->node >= 1 && it->node <= 64 && it->seq < LIB_ITEMS)
			count[it->node]++, total++;
	tap(total == (uint64_t)LIB_ITEMS * nodes,
	    "walks %llu heap items linked by %d nodes with plain pointers",
	    (unsigned long long)total, nodes);
	printf("# node %d: last to arrive in %d of 20 barrier rounds\n", me, rounds_last);
	dsm_barrier_wait(&s->barrier);
	/* every node frees what it allocated; then the heap is whole again */
	for (struct lib_item *it = s->head; it; ) {
		struct lib_item *next = it->next;

		if (it->node == (uint64_t)me && dsm_heap_free(heap, it))
			tap(0, "free of a heap item");
		it = next;
	}
	dsm_barrier_wait(&s->barrier);
	if (me == 1) {
		void *all;

		err = dsm_heap_alloc(heap, 60 * PAGE, &all);
		tap(!err, "after every node freed its items the heap is whole (%d)", err);
	}
	dsm_unmap(&r, s);
	dsm_unmap(&hr, heap);
	dsm_detach(&r);
	dsm_detach(&hr);
	barrier("libdsm-done");
}

/* Remove every region the phases made, so that later leaves are quick. */
static void test_cleanup(void)
{
	static const uint64_t keys[] = { 0xc0de0001, 0xc0de0010, 0xc0de0020,
		0xc0de0030, 0xc0de0031, 0xc0de0040, 0xc0de0050, 0xc0de0060,
		0xc0de0080, 0xc0de0090, 0xc0de0091, 0xc0de00a0, 0xc0de00b0,
		0x5052000000000001ULL /* dsm_sor's */ };
	int removed = 0, err;

	barrier("cleanup-start");
	if (me == 1) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			err = dsm_remove(keys[i]);
			if (err && err != -ENOENT)
				tap(0, "remove %#llx: %s", (unsigned long long)keys[i],
				    strerror(-err));
			removed += !err;
		}
		tap(1, "removed the %d regions of the coherence phases", removed);
	}
	barrier("cleanup-done");
}

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "0";

	me = atoi(getenv("DSM_NODE_ID") ? : "0");
	nodes = atoi(getenv("DSM_NODES") ? : "0");
	if (me < 1 || nodes < 2 || me > nodes) {
		fprintf(stderr, "dsm_coherence: needs DSM_NODE_ID and DSM_NODES >= 2\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(t, "regions"))
		test_regions();
	else if (!strcmp(t, "pingpong"))
		test_pingpong();
	else if (!strcmp(t, "atomic"))
		test_atomic(atol(arg));
	else if (!strcmp(t, "mp-2pages"))
		test_mp(0xc0de0030, PAGE, atol(arg));
	else if (!strcmp(t, "mp-1page"))
		test_mp(0xc0de0031, 2048, atol(arg));
	else if (!strcmp(t, "sb"))
		test_sb(atol(arg));
	else if (!strcmp(t, "halves"))
		test_halves();
	else if (!strcmp(t, "rmw"))
		test_rmw();
	else if (!strcmp(t, "fill"))
		test_fill(atol(arg));
	else if (!strcmp(t, "slowlink"))
		test_slowlink(atol(arg));
	else if (!strcmp(t, "leave"))
		test_leave();
	else if (!strcmp(t, "libdsm"))
		test_libdsm();
	else if (!strcmp(t, "cleanup"))
		test_cleanup();
	else if (!strcmp(t, "hold"))
		test_hold(strtoull(arg, NULL, 0));
	else if (!strcmp(t, "after-kill"))
		test_after_kill(strtoull(arg, NULL, 0), argc > 3 ? atol(argv[3]) : 5000);
	else {
		fprintf(stderr, "dsm_coherence: unknown test '%s'\n", t);
		return 2;
	}
	return failed;
}
