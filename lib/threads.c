// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libdsm: threads across nodes - run a function on another node, join it.
 *
 * Theory of operation. The same program runs on every member, each in
 * dsm_threads_run(): on the main node it runs the program's main function,
 * on every node (the main one too) a server thread runs the threads that
 * others create there. They meet in a table region (key LIBDSM_THREADS_KEY,
 * or DSM_THREADS_KEY): a header page and one page per thread slot.
 *
 *  - Functions travel as their offset in the program: a thread's function
 *    must be in the main executable, which every node maps at its own base
 *    (ASLR) but with the same layout, so base + offset is the same function
 *    everywhere. The main node writes the program's GNU build ID in the
 *    header; a server whose program differs serves nothing. Arguments and
 *    results are pointers, passed as they are: to be meaningful on another
 *    node, they point into a region every node maps at the same address
 *    (dsm_map_fixed(), in the setup function every node runs first).
 *  - dsm_thread_create() (on the main node only) claims a slot in the
 *    header's bitmap, writes the request in the slot's page, notes it in
 *    the header and bumps the target's wake word there; a thread for the
 *    main node itself starts at once, without a request. The target's server takes the request by
 *    changing the slot's state to RUNNING, runs the function in a new
 *    pthread, and stores the result and DONE. Creating waits until the
 *    request is taken: it fails if the target is not a member or stops
 *    being one (EHOSTDOWN), or if no server takes it within twice the dead
 *    timeout (ESRCH).
 *  - Only the main node writes the header; a server writes only the slots
 *    it runs: when it takes a request, and when the thread ends. In
 *    between, the creator has taken the slot's page back (the thread waits
 *    for that before it starts), so a node that dies while it runs threads
 *    takes no page of the table with it: the creator reads the slot here
 *    while it waits (dsm_wait() sleeps until another node's store), and
 *    asks the kernel for the members not lost (DSM_IOC_MEMBERS) between
 *    waits. Joining a thread whose node was lost fails with EHOSTDOWN once
 *    this node has declared it lost (the dead timeout), never hangs. Left
 *    open: a node lost after its thread stored the result and before the
 *    join read it (the page with the result is lost: SIGBUS), or within
 *    the round trip between its server taking a request and the creator
 *    taking the page back; and a node that restarts faster than a poll
 *    (100 ms) sees its lost state: the join then waits for good.
 *  - Runs have a random number in the header: a server serves the run the
 *    main node started, until the main node marks it stopped (its main
 *    function returned) and wakes every server, or another run begins;
 *    once they have unmapped the table, the main node removes it, so the
 *    next run starts from a fresh table (one a crashed run left is reused).
 *  - dsm_threads_host() (dsmrun host) on another node starts, for each run,
 *    the program and arguments the main node published in the header, with
 *    LIBDSM_RUN set: that process serves that run only.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libdsm.h"

#define DSM_EXPORT __attribute__((visibility("default")))

#define THREADS_SLOTS	64
#define THREADS_POLL_NS	(100 * 1000 * 1000L)	/* between membership checks */
#define THREADS_START_S	60	/* a server waits this long for a main node */
#define THREADS_CMD_MAX	2048	/* the main node's command line, published */

enum { SLOT_FREE, SLOT_REQUESTED, SLOT_RUNNING, SLOT_DONE, SLOT_FAILED };

/* Page 0 of the table: written by the main node only. */
struct threads_header {
	uint64_t prog;			/* the program's build ID, hashed */
	uint64_t used;			/* slots taken (bit i: slot i) */
	uint32_t run;			/* the main node's run: random, 0: none */
	uint32_t stopped;		/* the last run whose main function returned */
	uint32_t wake[DSM_MAX_NODES + 1];	/* per node: bumped per request */
	uint32_t running[DSM_MAX_NODES + 1];	/* per node: threads not joined */
	uint32_t req_node[THREADS_SLOTS];	/* slot i was asked of this node */
	uint32_t req_seq[THREADS_SLOTS];	/* ... as its request number */
	uint32_t main_node;
	uint32_t cmd_argc;		/* strings in @cmd, 0: no host can start it */
	char cmd[THREADS_CMD_MAX];	/* its program and arguments, each ended
					 * by a NUL (dsm_threads_host) */
};

_Static_assert(sizeof(struct threads_header) <= DSM_PAGE_SIZE, "one page");

/* Pages 1..THREADS_SLOTS: one thread each. */
struct threads_slot {
	uint32_t state;			/* SLOT_*: the creator, then the server */
	uint32_t seq;			/* request number, in the thread's id */
	uint32_t node;			/* where it runs */
	uint32_t creator;
	uint32_t seen;			/* the creator saw RUNNING: the thread may go */
	uint32_t pad;
	uint64_t fn;			/* offset in the program */
	uint64_t arg;
	uint64_t result;		/* what the function returned */
};

static struct {
	struct dsm_region region;
	char *base;
	uint64_t prog;
	uintptr_t text_lo, text_hi, bias;	/* the main executable, mapped */
	int self, main_node, dead_timeout_ms;
	uint32_t run;				/* the run served */
	int active;				/* our threads still running */
} tt;

static __thread dsm_thread_t tt_self;

static struct threads_header *header(void)
{
	return (struct threads_header *)tt.base;
}

static struct threads_slot *slot(unsigned int i)
{
	return (struct threads_slot *)(tt.base + (i + 1) * DSM_PAGE_SIZE);
}

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint64_t random_u64(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The members not lost (DSM_IOC_MEMBERS), or -errno. */
static int members_now(struct dsm_members *m)
{
	int fd = open(DSM_DEVICE_PATH, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, DSM_IOC_MEMBERS, m))
		err = -errno;
	close(fd);
	return err;
}

/* Is @node a member now? -errno if the kernel cannot say. */
static int is_member(int node)
{
	struct dsm_members m;
	int err = members_now(&m);

	return err ? err : !!(m.nodes & (1ULL << (node % 64)));
}

/* The main executable: its executable segment, load bias and build ID. */
static int find_program(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const ElfW(Nhdr) *n;
	const char *p, *end;
	int i;

	(void)size;
	(void)arg;
	tt.bias = info->dlpi_addr;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			tt.text_lo = info->dlpi_addr + ph->p_vaddr;
			tt.text_hi = tt.text_lo + ph->p_memsz;
		}
		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(*n) <= end) {
			n = (const ElfW(Nhdr) *)p;
			p += sizeof(*n) + ((n->n_namesz + 3) & ~3u);
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    p + n->n_descsz <= end) {
				for (unsigned int b = 0; b < n->n_descsz; b++)
					h = (h ^ (uint8_t)p[b]) * 0x100000001b3ULL;
				tt.prog = h;
			}
			p += (n->n_descsz + 3) & ~3u;
		}
	}
	return 1;	/* the first object is the main program */
}

/* Run one thread of ours: slot @arg (its index), taken by our server. */
static void *thread_main(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;
	struct threads_slot *s = slot(i);
	void *(*fn)(void *) = (void *(*)(void *))(tt.bias + s->fn);
	void *ret;

	tt_self = (dsm_thread_t)s->seq << 8 | i;
	/* until the creator took the slot's page back (see dsm_thread_create) */
	while (!load(&s->seen)) {
		if (is_member(s->creator) == 0) {	/* nobody will join it */
			__atomic_sub_fetch(&tt.active, 1, __ATOMIC_RELEASE);
			return NULL;
		}
		dsm_wait(&s->seen, 0, THREADS_POLL_NS);
	}
	ret = fn((void *)(uintptr_t)s->arg);
	s->result = (uint64_t)(uintptr_t)ret;
	__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&tt.active, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Run slot @i's thread here, detached: 0 or a pthread_create() error. */
static int spawn(unsigned int i)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	__atomic_add_fetch(&tt.active, 1, __ATOMIC_ACQUIRE);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, thread_main, (void *)(uintptr_t)i);
	pthread_attr_destroy(&attr);
	if (err)
		__atomic_sub_fetch(&tt.active, 1, __ATOMIC_RELEASE);
	return err;
}

/* Take the requests made of this node; each runs in a thread of its own. */
static void serve_requests(uint32_t *seen)
{
	struct threads_header *h = header();
	uint32_t expected = SLOT_REQUESTED, seq;
	unsigned int i;

	for (i = 0; i < THREADS_SLOTS; i++) {
		seq = load(&h->req_seq[i]);
		if (load(&h->req_node[i]) != (uint32_t)tt.self || seq == seen[i])
			continue;
		seen[i] = seq;
		expected = SLOT_REQUESTED;
		if (slot(i)->seq != seq ||
		    !__atomic_compare_exchange_n(&slot(i)->state, &expected, SLOT_RUNNING,
						 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;	/* cancelled, or an older request */
		if (spawn(i))	/* no thread: joining it fails */
			__atomic_store_n(&slot(i)->state, SLOT_FAILED, __ATOMIC_RELEASE);
	}
}

/* The run served is over: stopped, or another one began (its main crashed). */
static int stopping(void)
{
	return load(&header()->stopped) == tt.run || load(&header()->run) != tt.run;
}

/* The server: until the main node stops the run. */
static int serve(void)
{
	struct threads_header *h = header();
	uint32_t seen[THREADS_SLOTS] = { 0 }, wake;

	if (h->prog != tt.prog) {
		fprintf(stderr, "libdsm: threads: node %d runs another program than the main node: not serving\n",
			tt.self);
		return -ENOEXEC;
	}
	while (!stopping()) {
		if (is_member(tt.main_node) == 0)
			return -EHOSTDOWN;	/* its table is gone with it */
		wake = load(&h->wake[tt.self]);
		serve_requests(seen);
		if (load(&h->wake[tt.self]) == wake && !stopping())
			dsm_wait(&h->wake[tt.self], wake, THREADS_POLL_NS);
	}
	return 0;
}

static void *server_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)serve();
}

/* Give up on a request no server took: unless one takes it meanwhile. */
/* Slot @i, of a thread for @node, is free again. */
static void slot_release(unsigned int i, uint32_t node)
{
	__atomic_sub_fetch(&header()->running[node], 1, __ATOMIC_RELAXED);
	__atomic_and_fetch(&header()->used, ~(1ULL << i), __ATOMIC_RELEASE);
}

static int cancel(unsigned int i, int node)
{
	uint32_t expected = SLOT_REQUESTED;

	if (!__atomic_compare_exchange_n(&slot(i)->state, &expected, SLOT_FREE, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;	/* taken after all */
	slot_release(i, node);
	return -1;
}

/* The member running the fewest of the threads not joined yet. */
static int least_loaded(void)
{
	struct dsm_members m;
	int id, best = 0;

	if (members_now(&m))
		return tt.self;
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if ((m.nodes & (1ULL << (id % 64))) &&
		    (!best || load(&header()->running[id]) < load(&header()->running[best])))
			best = id;
	return best ? best : tt.self;
}

/* Start the thread of slot @i, filled in, on this node. */
static int start_here(unsigned int i, dsm_thread_t *tid)
{
	struct threads_slot *s = slot(i);

	s->state = SLOT_RUNNING;
	s->seen = 1;
	if (spawn(i)) {
		s->state = SLOT_FREE;
		slot_release(i, tt.self);
		return -EAGAIN;
	}
	*tid = (dsm_thread_t)s->seq << 8 | i;
	return 0;
}

/**
 * dsm_thread_create() - run @fn(@arg) in a new thread on a node
 * @node: the node, 1..DSM_MAX_NODES, or DSM_THREAD_ANY (the member running
 *        the fewest threads created and not joined yet, lowest id first)
 * @fn:   a function of the program's main executable
 * @arg:  passed as is (point into a region mapped at the same address on
 *        every node)
 * @tid:  the new thread's id, for dsm_thread_join()
 *
 * Only on the main node of a program running in dsm_threads_run(): a
 * creator writes the table's header, whose fate would otherwise follow a
 * node that may die. Returns once the node's server has taken the request
 * (at once for this node: the thread starts here directly).
 *
 * Return: 0; -EINVAL (bad node, @fn not in the main executable, not in
 * dsm_threads_run()), -EPERM (not on the main node), -EAGAIN (64 threads
 * not joined yet, or no thread could be started here), -EHOSTDOWN
 * (@node is not a member, or stopped being one), -ESRCH (no server on
 * @node took it within twice the dead timeout: the program does not run
 * there).
 */
DSM_EXPORT int dsm_thread_create(int node, void *(*fn)(void *), void *arg,
				 dsm_thread_t *tid)
{
	struct threads_header *h = header();
	struct threads_slot *s;
	uint64_t used, want;
	double deadline;
	unsigned int i;
	int member;

	if (!tt.base || node < 0 || node > DSM_MAX_NODES ||
	    (uintptr_t)fn < tt.text_lo || (uintptr_t)fn >= tt.text_hi)
		return -EINVAL;
	if (tt.self != tt.main_node)
		return -EPERM;
	if (node == DSM_THREAD_ANY)
		node = least_loaded();
	member = is_member(node);
	if (member <= 0)
		return member ? member : -EHOSTDOWN;
	used = __atomic_load_n(&h->used, __ATOMIC_ACQUIRE);
	do {
		if (!~used)
			return -EAGAIN;
		i = __builtin_ctzll(~used);
		want = used | 1ULL << i;
	} while (!__atomic_compare_exchange_n(&h->used, &used, want, 0,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	s = slot(i);
	s->seq++;
	if (!s->seq)
		s->seq = 1;	/* 0 means no request */
	s->node = node;
	s->creator = tt.self;
	s->seen = 0;
	s->fn = (uintptr_t)fn - tt.bias;
	s->arg = (uintptr_t)arg;
	s->result = 0;
	__atomic_add_fetch(&h->running[node], 1, __ATOMIC_RELAXED);
	if (node == tt.self)	/* no request: the page stays here */
		return start_here(i, tid);
	__atomic_store_n(&s->state, SLOT_REQUESTED, __ATOMIC_RELEASE);
	__atomic_store_n(&h->req_node[i], node, __ATOMIC_RELAXED);
	__atomic_store_n(&h->req_seq[i], s->seq, __ATOMIC_RELEASE);
	__atomic_add_fetch(&h->wake[node], 1, __ATOMIC_RELEASE);

	deadline = now_s() + 2 * tt.dead_timeout_ms / 1000.0;
	while (load(&s->state) == SLOT_REQUESTED) {
		member = is_member(node);
		if ((member <= 0 || now_s() > deadline) && cancel(i, node))
			return member <= 0 ? -EHOSTDOWN : -ESRCH;
		dsm_wait(&s->state, SLOT_REQUESTED, THREADS_POLL_NS);
	}
	/*
	 * Taking the slot, the server took its page. Take it back before the
	 * thread starts: if that node dies while the thread runs, the joiner
	 * still reads the slot here.
	 */
	__atomic_store_n(&s->seen, 1, __ATOMIC_RELEASE);
	*tid = (dsm_thread_t)s->seq << 8 | i;
	return 0;
}

/**
 * dsm_thread_join() - wait for a thread to end and take its result
 * @tid: from dsm_thread_create(); each thread is joined once
 * @ret: where its function's return value goes; may be NULL
 *
 * Return: 0; -EINVAL (no such thread, or joined already); -EAGAIN (its
 * node could not start a thread); -EHOSTDOWN (its node left or was lost
 * before the thread ended: once the cluster declares it lost, within the
 * dead timeout, never later).
 */
DSM_EXPORT int dsm_thread_join(dsm_thread_t tid, void **ret)
{
	struct threads_header *h = header();
	unsigned int i = tid & 0xff;
	struct threads_slot *s;
	uint32_t state;
	long poll_ns;
	int member, local;

	if (!tt.base || i >= THREADS_SLOTS ||
	    !(__atomic_load_n(&h->used, __ATOMIC_ACQUIRE) & 1ULL << i))
		return -EINVAL;
	s = slot(i);
	if (s->seq != (uint32_t)(tid >> 8) || s->creator != (uint32_t)tt.self)
		return -EINVAL;
	/*
	 * A store here wakes no dsm_wait(): a thread of this node is polled,
	 * from every 1 ms to every 100 ms (THREADS_POLL_NS) as it runs on.
	 */
	local = s->node == (uint32_t)tt.self;
	poll_ns = local ? 1000 * 1000 : THREADS_POLL_NS;
	while ((state = load(&s->state)) != SLOT_DONE && state != SLOT_FAILED) {
		member = local ? 1 : is_member(s->node);
		if (member <= 0)
			return member ? member : -EHOSTDOWN;	/* its slot stays taken */
		dsm_wait(&s->state, state, poll_ns);
		poll_ns = poll_ns * 2 > THREADS_POLL_NS ? THREADS_POLL_NS : poll_ns * 2;
	}
	if (!__atomic_compare_exchange_n(&s->state, &state, SLOT_FREE, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EINVAL;	/* another join took it */
	if (ret && state == SLOT_DONE)
		*ret = (void *)(uintptr_t)s->result;
	slot_release(i, s->node);
	return state == SLOT_DONE ? 0 : -EAGAIN;
}

/**
 * dsm_thread_self() - the id of the calling thread
 *
 * Return: its id if dsm_thread_create() made it, else 0.
 */
DSM_EXPORT dsm_thread_t dsm_thread_self(void)
{
	return tt_self;
}

/* The main node's program (this process's executable) and arguments. */
static void publish_cmd(struct threads_header *h, int argc, char **argv)
{
	size_t n = 0, len;
	ssize_t got;
	int i;

	h->cmd_argc = 0;
	memset(h->cmd, 0, sizeof(h->cmd));
	got = readlink("/proc/self/exe", h->cmd, sizeof(h->cmd) - 2);
	if (got <= 0)
		return;
	n = got + 1;
	for (i = 1; i < argc; i++) {
		len = strlen(argv[i]) + 1;
		if (n + len >= sizeof(h->cmd))
			return;		/* too long: no host can start it */
		memcpy(h->cmd + n, argv[i], len);
		n += len;
	}
	h->cmd_argc = argc > 0 ? argc : 1;
}

/*
 * Attach and map the table: the main node creates it, as the only home of
 * its pages (so the loss of another node never takes a page of the table
 * with it but the slots that node wrote); the others wait for it.
 */
static uint64_t threads_key(void)
{
	const char *env = getenv("LIBDSM_THREADS_KEY");

	return env ? strtoull(env, NULL, 0) : DSM_THREADS_KEY;
}

static int threads_open(int main_node, uint32_t hosted_run)
{
	uint64_t key = threads_key();
	size_t size = (THREADS_SLOTS + 1) * DSM_PAGE_SIZE;
	double until = now_s() + (hosted_run ? 0 : THREADS_START_S);
	struct dsm_info info;
	void *base;
	int err;

	err = dsm_info(&info);
	if (err)
		return err;
	if (!info.node_id || !info.members)
		return -ENOTCONN;
	tt.self = info.node_id;
	tt.dead_timeout_ms = info.dead_timeout_ms;
	tt.main_node = main_node;
	dl_iterate_phdr(find_program, NULL);
	for (;;) {	/* a table the last run is removing: the next one */
		err = dsm_attach(key, size, tt.self == main_node && !hosted_run ?
				 DSM_ATTACH_HOME_SELF : DSM_ATTACH_NOCREATE, &tt.region);
		if (!err) {
			err = dsm_map(&tt.region, &base);
			if (!err)
				break;
			dsm_detach(&tt.region);
		}
		if (err != -ENOENT && err != -EBUSY && err != -EIDRM)
			return err;
		if (hosted_run)
			return -ESTALE;	/* the run is over and its table gone */
		if (now_s() > until)
			return -ETIMEDOUT;
		usleep(20 * 1000);
	}
	tt.base = base;
	return 0;
}

/* Unmap the table, unless threads of ours still run (the process ends). */
static void threads_close(void)
{
	if (__atomic_load_n(&tt.active, __ATOMIC_ACQUIRE))
		return;
	dsm_unmap(&tt.region, tt.base);
	dsm_detach(&tt.region);
	tt.base = NULL;
}

/* The main node ended its run: stop the servers, then drop the table. */
static void threads_stop(pthread_t server)
{
	struct threads_header *h = header();
	uint64_t key = tt.region.key;
	double until;
	int id;

	__atomic_store_n(&h->stopped, tt.run, __ATOMIC_RELEASE);
	for (id = 1; id <= DSM_MAX_NODES; id++)
		__atomic_add_fetch(&h->wake[id], 1, __ATOMIC_RELEASE);
	pthread_join(server, NULL);
	threads_close();
	/* the servers unmap as they see stop: a few round trips */
	until = now_s() + 2 * tt.dead_timeout_ms / 1000.0;
	while (dsm_remove(key) == -EBUSY && now_s() < until)
		usleep(20 * 1000);
}

/* One look at the table: its live run and the command line, if any. */
static int host_peek(uint64_t key, uint32_t *run, uint32_t *main_node,
		     uint32_t *argc, char *cmd)
{
	struct threads_header *h;
	struct dsm_region r;
	void *base;
	int err = dsm_attach(key, 0, DSM_ATTACH_NOCREATE, &r);

	*run = 0;
	if (!err) {
		err = dsm_map(&r, &base);
		if (!err) {
			h = base;
			if (load(&h->run) != load(&h->stopped)) {
				*run = load(&h->run);
				*main_node = h->main_node;
				*argc = h->cmd_argc;
				memcpy(cmd, h->cmd, THREADS_CMD_MAX);
				cmd[THREADS_CMD_MAX - 1] = 0;
			}
			dsm_unmap(&r, base);
		}
		dsm_detach(&r);
	}
	/* none yet, or the last one's being removed */
	return err == -ENOENT || err == -EBUSY || err == -EIDRM ? 0 : err;
}

/**
 * dsm_threads_host() - start here the programs started on another node
 * @runs: how many to start before returning; 0: no end
 *
 * Watches the thread table; for each run that a main node other than this
 * one starts under dsm_threads_run(), runs the same program (the same
 * path, which must hold the same build here) with the same arguments, as
 * that run's server on this node, and waits for it. So a program is
 * started once, on its main node. `dsmrun host` calls it. Whoever may open
 * /dev/dsm on any node chooses what it runs, as this process's user.
 *
 * Return: 0 after @runs runs, or a negative errno (of attaching the
 * table, or of fork).
 */
DSM_EXPORT int dsm_threads_host(unsigned int runs)
{
	char cmd[THREADS_CMD_MAX], *argv[THREADS_CMD_MAX / 2 + 1], env[16];
	uint32_t run, main_node = 0, last = 0, argc = 0;
	unsigned int started = 0;
	int self = dsm_node_id(), err;
	size_t n, i;
	pid_t pid;

	if (self <= 0)
		return self ? self : -ENOTCONN;
	while (!runs || started < runs) {
		if (main_node && is_member(main_node) == 0) {
			usleep(100 * 1000);	/* its table is homed there: lost */
			continue;
		}
		err = host_peek(threads_key(), &run, &main_node, &argc, cmd);
		if (err)
			return err;
		if (!run || run == last || !argc || main_node == (uint32_t)self) {
			usleep(100 * 1000);
			continue;
		}
		last = run;	/* random: a new table's first run differs too */
		for (n = 0, i = 0; n < argc && i < THREADS_CMD_MAX - 1; i += strlen(cmd + i) + 1)
			argv[n++] = cmd + i;
		argv[n] = NULL;
		pid = fork();
		if (pid < 0)
			return -errno;
		if (!pid) {
			snprintf(env, sizeof(env), "%u", run);
			setenv("LIBDSM_RUN", env, 1);
			snprintf(env, sizeof(env), "%u", main_node);
			setenv("LIBDSM_MAIN_NODE", env, 1);
			execv(argv[0], argv);
			fprintf(stderr, "libdsm: cannot run %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		started++;
	}
	return 0;
}

/**
 * dsm_threads_run() - run a program whose threads may run on every node
 * @setup:   run first on every node, may be NULL: map the regions threads
 *           share at fixed addresses (dsm_map_fixed()); non-zero fails the
 *           run on that node
 * @main_fn: the program's main function, run on the main node only (node 1,
 *           or LIBDSM_MAIN_NODE, the same on every node)
 * @argc:    passed to @main_fn
 * @argv:    passed to @main_fn
 *
 * Start the same program on every member; each calls this from main(). On
 * the main node, it serves threads while @main_fn runs, then stops every
 * server; elsewhere it serves threads until then (at most 60 s waiting for
 * the main node to start).
 *
 * Return: what @main_fn returned on the main node, 0 on the others; or a
 * negative errno (-ENOTCONN outside a cluster, -ETIMEDOUT no main node
 * started, -ENOEXEC the main node runs another program, or from @setup).
 */
DSM_EXPORT int dsm_threads_run(int (*setup)(void),
			       int (*main_fn)(int argc, char **argv),
			       int argc, char **argv)
{
	const char *env = getenv("LIBDSM_MAIN_NODE"), *hosted = getenv("LIBDSM_RUN");
	int main_node = env ? atoi(env) : 1, ret;
	uint32_t hosted_run = hosted ? strtoul(hosted, NULL, 0) : 0;
	struct threads_header *h;
	uint32_t run;
	double until;
	pthread_t server;

	if (main_node < 1 || main_node > DSM_MAX_NODES)
		return -EINVAL;
	unsetenv("LIBDSM_RUN");	/* not for the programs it starts */
	ret = threads_open(main_node, hosted_run);
	if (ret == -ESTALE)
		return 0;	/* the run a host started us for is over */
	if (ret)
		return ret;
	ret = setup ? setup() : 0;
	if (ret)
		goto out;
	h = header();
	if (tt.self == main_node && !hosted_run) {
		/* a table a crashed run left: its requests are void */
		h->prog = tt.prog;
		h->used = 0;
		memset(h->running, 0, sizeof(h->running));
		memset(h->req_node, 0, sizeof(h->req_node));
		h->main_node = main_node;
		publish_cmd(h, argc, argv);
		do
			run = (uint32_t)random_u64();
		while (!run || run == h->run);
		tt.run = run;
		__atomic_store_n(&h->run, tt.run, __ATOMIC_RELEASE);
		ret = pthread_create(&server, NULL, server_thread, NULL);
		if (ret) {
			__atomic_store_n(&h->stopped, tt.run, __ATOMIC_RELEASE);
			ret = -ret;
			goto out;
		}
		ret = main_fn(argc, argv);
		threads_stop(server);
		return ret;
	}
	if (hosted_run) {	/* that run, unless it is over */
		tt.run = hosted_run;
		ret = load(&h->run) == hosted_run && !stopping() ? serve() : 0;
		goto out;
	}
	/* a run that the main node started and did not stop */
	until = now_s() + THREADS_START_S;
	while (!(tt.run = load(&h->run)) || stopping()) {
		if (now_s() > until) {
			ret = -ETIMEDOUT;
			goto out;
		}
		usleep(20 * 1000);
	}
	ret = serve();
out:
	threads_close();
	return ret;
}
