// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/dsm on one node: attach, map, share, persist, remove, and every bad
 * input the device must refuse with a clear errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libdsm.h"

#define PAGE 4096UL
#define KEY(n) (0xd5d5000000000000ULL | (n))

static int open_dev(void)
{
	return open(DSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* DSM_IOC_ATTACH on @fd with every field chosen: 0 or -errno. */
static int attach_raw(int fd, uint64_t key, uint64_t size, uint32_t flags,
		      uint32_t pad)
{
	struct dsm_attach a = { .key = key, .size = size, .flags = flags,
				.pad = pad };

	return ioctl(fd, DSM_IOC_ATTACH, &a) ? -errno : 0;
}

static void *map(int fd, size_t len, int prot, int flags, off_t off)
{
	return mmap(NULL, len, prot, flags, fd, off);
}

static void fill(unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int check(const unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(DSM_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 07777);
}

TEST(attach_creates_then_finds)
{
	struct dsm_region a, b, c;

	dsm_remove(KEY(1));
	ASSERT_EQ(0, dsm_attach(KEY(1), 4 * PAGE, 0, &a));
	EXPECT_EQ(4 * PAGE, a.size);
	ASSERT_EQ(0, dsm_attach(KEY(1), 4 * PAGE, 0, &b));
	ASSERT_EQ(0, dsm_attach(KEY(1), 0, 0, &c));	/* any size */
	EXPECT_EQ(4 * PAGE, c.size);
	EXPECT_EQ(-EINVAL, dsm_attach(KEY(1), 8 * PAGE, 0, &c));
	EXPECT_EQ(-EEXIST, dsm_attach(KEY(1), 4 * PAGE, DSM_ATTACH_EXCL, &c));
	dsm_detach(&a);
	dsm_detach(&b);
	dsm_detach(&c);
	EXPECT_EQ(0, dsm_remove(KEY(1)));
	EXPECT_EQ(-ENOENT, dsm_remove(KEY(1)));
}

TEST(attach_bad_arguments)
{
	int fd = open_dev();

	ASSERT_LE(0, fd);
	dsm_remove(KEY(2));
	EXPECT_EQ(-ENOENT, attach_raw(fd, KEY(2), 0, 0, 0));
	EXPECT_EQ(-ENOENT, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_NOCREATE, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE + 1, 0, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), 100, 0, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), DSM_REGION_MAX_SIZE + PAGE, 0, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), UINT64_MAX & ~(PAGE - 1), 0, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, 0x80, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, 0, 1));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE,
				      DSM_ATTACH_EXCL | DSM_ATTACH_NOCREATE, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_EXCL |
				      DSM_ATTACH_NOCREATE | DSM_ATTACH_HOME_SELF, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_FLAGS + 1, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), 0, DSM_ATTACH_EXCL, 0));
	/* copies: at most DSM_COPIES_MAX, never on one home, never local */
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_COPIES(3), 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_COPIES(1) |
				      DSM_ATTACH_HOME_SELF, 0));
	EXPECT_EQ(-EINVAL, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_COPIES(1), 0));
	EXPECT_EQ(-EFAULT, ioctl(fd, DSM_IOC_ATTACH, (void *)16) ? -errno : 0);
	/* none of the above created anything */
	EXPECT_EQ(-ENOENT, dsm_remove(KEY(2)));

	ASSERT_EQ(0, attach_raw(fd, KEY(2), PAGE, DSM_ATTACH_HOME_SELF, 0));
	EXPECT_EQ(-EBUSY, attach_raw(fd, KEY(2), PAGE, 0, 0));
	close(fd);
	EXPECT_EQ(0, dsm_remove(KEY(2)));
}

TEST(members)
{
	struct dsm_members m;
	struct dsm_info info;
	int fd = open_dev();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_INFO, &info));
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_MEMBERS, &m));
	EXPECT_EQ(info.epoch, m.epoch);
	if (info.epoch) {	/* this node among as many as DSM_IOC_INFO says */
		EXPECT_EQ(info.members, __builtin_popcountll(m.nodes));
		EXPECT_TRUE(m.nodes & 1ULL << (info.node_id % 64));
	} else {
		EXPECT_EQ(0, m.nodes);
	}
	EXPECT_EQ(-1, ioctl(fd, DSM_IOC_MEMBERS, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

TEST(unknown_ioctls)
{
	int fd = open_dev();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO(DSM_IOC_MAGIC, 99)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOW(DSM_IOC_MAGIC, 1, uint32_t), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, FIONREAD, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, DSM_IOC_REMOVE, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

/*
 * Commit (DSM_IOC_COMMIT, fsync, msync(MS_SYNC)) needs an attached file;
 * a region without copies (every local one) has nothing to commit.
 */
TEST(commit_without_copies)
{
	int fd = open_dev();
	void *p;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, DSM_IOC_COMMIT));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, fsync(fd));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ(0, attach_raw(fd, KEY(30), PAGE, 0, 0));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, PAGE);
	EXPECT_EQ(0, ioctl(fd, DSM_IOC_COMMIT));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, msync(p, PAGE, MS_SYNC));
	munmap(p, PAGE);
	close(fd);
	EXPECT_EQ(0, dsm_remove(KEY(30)));
}

/* DSM_IOC_WAIT with every field chosen: 0 or -errno. */
static int wait_raw(int fd, const void *addr, uint32_t expected, uint32_t pad,
		    uint64_t timeout_ns)
{
	struct dsm_wait w = { .addr = (uintptr_t)addr, .expected = expected,
			      .pad = pad, .timeout_ns = timeout_ns };

	return ioctl(fd, DSM_IOC_WAIT, &w) ? -errno : 0;
}

static uint64_t bad_ioctls(void)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = popen("dsmctl stats", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " bad_ioctl %lu", &v) == 1)
			break;
	if (f)
		pclose(f);
	return v;
}

/*
 * A wait on a word of a local region (no other node can store to it):
 * returns at once when the word differs, times out when it does not, and
 * refuses what is not a 4-byte aligned word of a dsm mapping, counted.
 */
TEST(wait_on_a_word)
{
	int fd = open_dev(), other = open_dev();
	uint64_t bad;
	uint32_t *w, local = 7;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, attach_raw(fd, KEY(20), 2 * PAGE, 0, 0));
	w = map(fd, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, w);
	w[1024 + 3] = 5;
	/* any open file of /dev/dsm waits on any dsm mapping of the process */
	EXPECT_EQ(0, wait_raw(other, &w[1024 + 3], 4, 0, 1000000000));
	EXPECT_EQ(-ETIMEDOUT, wait_raw(other, &w[1024 + 3], 5, 0, 20000000));
	EXPECT_EQ(-ETIMEDOUT, wait_raw(other, &w[1024 + 3], 5, 0, 0));
	EXPECT_EQ(-ETIMEDOUT, dsm_wait(&w[1024 + 3], 5, 1000));
	EXPECT_EQ(0, dsm_wait(&w[0], 1, 1000));

	bad = bad_ioctls();
	EXPECT_EQ(-EINVAL, wait_raw(other, (char *)&w[3] + 1, 0, 0, 1000));
	EXPECT_EQ(-EINVAL, wait_raw(other, &w[3], 0, 1, 1000));
	EXPECT_EQ(-EINVAL, wait_raw(other, &local, 7, 0, 1000));	/* the stack */
	EXPECT_EQ(-EFAULT, wait_raw(other, (void *)16, 0, 0, 1000));
	EXPECT_EQ(-EINVAL, wait_raw(other, (void *)-4096L, 0, 0, 1000));
	EXPECT_EQ(-EFAULT, ioctl(other, DSM_IOC_WAIT, (void *)16) ? -errno : 0);
	EXPECT_EQ(bad + 6, bad_ioctls());

	munmap(w, 2 * PAGE);
	EXPECT_EQ(-EFAULT, wait_raw(other, &w[3], 0, 0, 1000));
	close(fd);
	close(other);
	EXPECT_EQ(0, dsm_remove(KEY(20)));
}

/* DSM_IOC_BARRIER with every field chosen: 1 (last), 0, or -errno. */
static int arrive_raw(int fd, const void *addr, uint32_t parties, uint32_t pad)
{
	struct dsm_barrier_arrive b = { .addr = (uintptr_t)addr,
					.parties = parties, .pad = pad };
	int ret = ioctl(fd, DSM_IOC_BARRIER, &b);

	return ret < 0 ? -errno : ret;
}

/* A child that arrives at the barrier and exits with what it returned. */
static pid_t arrive_child(int fd, const void *addr, uint32_t parties)
{
	pid_t pid = fork();

	if (!pid)
		_exit(arrive_raw(fd, addr, parties, 0) & 0xff);
	return pid;
}

/*
 * A barrier on a word of a local region: this node counts it. One party
 * goes through and is the last; of two, exactly one is told it was last;
 * a party killed while it waits is taken back (the next two parties meet
 * each other, not the dead one); bad arguments are refused and counted.
 */
TEST(barrier_on_a_word)
{
	int fd = open_dev(), st, ret;
	uint32_t *w, local = 0;
	uint64_t bad;
	pid_t a, b;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_raw(fd, KEY(21), 2 * PAGE, 0, 0));
	w = map(fd, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, w);
	EXPECT_EQ(1, arrive_raw(fd, &w[1024 + 5], 1, 0));

	a = arrive_child(fd, &w[7], 2);
	ASSERT_LT(0, a);
	usleep(100 * 1000);
	ret = arrive_raw(fd, &w[7], 2, 0);
	ASSERT_EQ(a, waitpid(a, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, ret + WEXITSTATUS(st));

	a = arrive_child(fd, &w[8], 2);
	ASSERT_LT(0, a);
	usleep(300 * 1000);
	kill(a, SIGKILL);
	ASSERT_EQ(a, waitpid(a, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	b = arrive_child(fd, &w[8], 2);
	ASSERT_LT(0, b);
	sleep(1);
	/* had the dead party still counted, b would be out already */
	EXPECT_EQ(0, waitpid(b, &st, WNOHANG));
	ret = arrive_raw(fd, &w[8], 2, 0);
	ASSERT_EQ(b, waitpid(b, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, ret + WEXITSTATUS(st));

	bad = bad_ioctls();
	EXPECT_EQ(-EINVAL, arrive_raw(fd, &w[3], 0, 0));
	EXPECT_EQ(-EINVAL, arrive_raw(fd, &w[3], DSM_BARRIER_MAX_PARTIES + 1, 0));
	EXPECT_EQ(-EINVAL, arrive_raw(fd, &w[3], 1, 1));
	EXPECT_EQ(-EINVAL, arrive_raw(fd, (char *)&w[3] + 2, 1, 0));
	EXPECT_EQ(-EINVAL, arrive_raw(fd, &local, 1, 0));	/* the stack */
	EXPECT_EQ(-EFAULT, arrive_raw(fd, (void *)16, 1, 0));
	EXPECT_EQ(bad + 6, bad_ioctls());
	munmap(w, 2 * PAGE);
	close(fd);
	EXPECT_EQ(0, dsm_remove(KEY(21)));
}

TEST(zero_filled_on_first_touch)
{
	struct dsm_region r;
	unsigned char *p;
	size_t i, nonzero = 0;

	dsm_remove(KEY(3));
	ASSERT_EQ(0, dsm_attach(KEY(3), 64 * PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	for (i = 0; i < r.size; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(0, nonzero);
	dsm_unmap(&r, p);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(3)));
}

TEST(data_persists_across_munmap_and_close)
{
	struct dsm_region r;
	unsigned char *p;

	dsm_remove(KEY(4));
	ASSERT_EQ(0, dsm_attach(KEY(4), 16 * PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	fill(p, r.size, 4);
	ASSERT_EQ(0, dsm_unmap(&r, p));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	EXPECT_TRUE(check(p, r.size, 4));
	dsm_unmap(&r, p);
	dsm_detach(&r);

	/* no file and no mapping left: the region still holds the data */
	ASSERT_EQ(0, dsm_attach(KEY(4), 0, DSM_ATTACH_NOCREATE, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	EXPECT_TRUE(check(p, r.size, 4));
	dsm_unmap(&r, p);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(4)));
}

TEST(shared_between_processes)
{
	struct dsm_region r;
	volatile uint32_t *p;
	pid_t pid;
	int status;

	dsm_remove(KEY(5));
	ASSERT_EQ(0, dsm_attach(KEY(5), 2 * PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	p[0] = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the child attaches on its own, as an unrelated process would */
		struct dsm_region c;
		volatile uint32_t *q;

		if (dsm_attach(KEY(5), 0, DSM_ATTACH_NOCREATE, &c) ||
		    dsm_map(&c, (void **)&q))
			_exit(2);
		q[1024] = 0xc0ffee;	/* second page */
		q[0] = 1;		/* flag */
		while (q[0] != 2)	/* wait for the parent's answer */
			usleep(100);
		_exit(q[1] == 0xfeed ? 0 : 3);
	}
	while (p[0] != 1)
		usleep(100);
	EXPECT_EQ(0xc0ffee, p[1024]);
	p[1] = 0xfeed;
	p[0] = 2;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	dsm_unmap(&r, (void *)p);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(5)));
}

TEST(bad_mappings)
{
	int fd = open_dev(), unattached = open_dev();
	void *p;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, unattached);
	dsm_remove(KEY(6));
	ASSERT_EQ(0, attach_raw(fd, KEY(6), 4 * PAGE, 0, 0));

	errno = 0;
	EXPECT_EQ(MAP_FAILED, map(unattached, PAGE, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, map(fd, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map(fd, 5 * PAGE, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map(fd, PAGE, PROT_READ, MAP_SHARED, 4 * PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map(fd, 2 * PAGE, PROT_READ, MAP_SHARED, 3 * PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map(fd, PAGE, PROT_READ, MAP_SHARED, 100));
	EXPECT_EQ(EINVAL, errno);

	/* a window inside the region is fine, and may not grow */
	p = map(fd, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 2 * PAGE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE));
	munmap(p, 2 * PAGE);
	close(fd);
	close(unattached);
	EXPECT_EQ(0, dsm_remove(KEY(6)));
}

TEST(offset_window_sees_the_right_pages)
{
	struct dsm_region r;
	uint32_t *whole, *win;

	dsm_remove(KEY(7));
	ASSERT_EQ(0, dsm_attach(KEY(7), 4 * PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&whole));
	whole[2 * PAGE / 4] = 0xabcd;
	win = map(r.fd, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 2 * PAGE);
	ASSERT_NE(MAP_FAILED, win);
	EXPECT_EQ(0xabcd, win[0]);
	win[1] = 0x1234;
	EXPECT_EQ(0x1234, whole[2 * PAGE / 4 + 1]);
	munmap(win, PAGE);
	dsm_unmap(&r, whole);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(7)));
}

TEST(read_only_file)
{
	struct dsm_attach a = { .key = KEY(8), .size = PAGE };
	int fd = open(DSM_DEVICE_PATH, O_RDONLY);
	void *p;

	ASSERT_LE(0, fd);
	dsm_remove(KEY(8));
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_ATTACH, &a));
	p = map(fd, PAGE, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, *(volatile char *)p);
	munmap(p, PAGE);
	EXPECT_EQ(MAP_FAILED, map(fd, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 0));
	EXPECT_EQ(EACCES, errno);
	close(fd);
	EXPECT_EQ(0, dsm_remove(KEY(8)));
}

TEST(remove_refused_while_mapped)
{
	struct dsm_region r;
	void *p;
	pid_t pid;
	int status, pipefd[2];
	char c;

	dsm_remove(KEY(9));
	ASSERT_EQ(0, dsm_attach(KEY(9), PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, &p));
	EXPECT_EQ(-EBUSY, dsm_remove(KEY(9)));

	/* a forked child's copy of the mapping counts too */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[1]);
		read(pipefd[0], &c, 1);	/* until the parent is done */
		_exit(0);
	}
	close(pipefd[0]);
	dsm_unmap(&r, p);
	EXPECT_EQ(-EBUSY, dsm_remove(KEY(9)));
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, dsm_remove(KEY(9)));

	/* still attached: the file keeps it alive, but it cannot be mapped */
	EXPECT_EQ(-EIDRM, dsm_map(&r, &p));
	dsm_detach(&r);
}

TEST(removed_key_starts_afresh)
{
	struct dsm_region r;
	unsigned char *p;

	dsm_remove(KEY(10));
	ASSERT_EQ(0, dsm_attach(KEY(10), PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	p[0] = 42;
	dsm_unmap(&r, p);
	dsm_detach(&r);
	ASSERT_EQ(0, dsm_remove(KEY(10)));
	ASSERT_EQ(0, dsm_attach(KEY(10), 2 * PAGE, DSM_ATTACH_EXCL, &r));
	ASSERT_EQ(0, dsm_map(&r, (void **)&p));
	EXPECT_EQ(0, p[0]);
	dsm_unmap(&r, p);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(10)));
}

/*
 * 4097 attaches and 4096 removals: near the harness's default 30 s under
 * the debug kernel (KASAN, lockdep) in emulation, so it gets more.
 */
FIXTURE(limit) {};
FIXTURE_SETUP(limit) {}
FIXTURE_TEARDOWN(limit) {}

TEST_F_TIMEOUT(limit, region_limit, 180)
{
	int i, n = 0, fd = open_dev();

	ASSERT_LE(0, fd);
	/* files can be closed: regions outlive them */
	for (i = 0; i < DSM_MAX_REGIONS + 1; i++) {
		int f = open_dev(), err;

		ASSERT_LE(0, f);
		err = attach_raw(f, KEY(0x10000 + i), PAGE, DSM_ATTACH_EXCL, 0);
		close(f);
		if (err == -ENOSPC)
			break;
		ASSERT_EQ(0, err);
		n++;
	}
	EXPECT_LE(n, DSM_MAX_REGIONS);
	EXPECT_EQ(DSM_MAX_REGIONS + 1, i + 1);	/* stopped by ENOSPC */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, dsm_remove(KEY(0x10000 + i)));
	close(fd);
}

struct toucher {
	volatile uint64_t *p;
	size_t words;
	int id;
};

static void *touch_all(void *arg)
{
	struct toucher *t = arg;

	for (size_t i = t->id; i < t->words; i += 512)
		t->p[i] = i;
	return NULL;
}

TEST(concurrent_first_touch)
{
	struct toucher t[4];
	pthread_t th[4];
	struct dsm_region r;
	void *p;
	size_t i, bad = 0;

	dsm_remove(KEY(11));
	ASSERT_EQ(0, dsm_attach(KEY(11), 256 * PAGE, 0, &r));
	ASSERT_EQ(0, dsm_map(&r, &p));
	for (i = 0; i < 4; i++) {
		t[i] = (struct toucher){ p, r.size / 8, (int)i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, touch_all, &t[i]));
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < r.size / 8; i++)
		bad += ((uint64_t *)p)[i] != ((i % 512) < 4 ? i : 0);
	EXPECT_EQ(0, bad);
	dsm_unmap(&r, p);
	dsm_detach(&r);
	EXPECT_EQ(0, dsm_remove(KEY(11)));
}

/* The memory cgroup v2 file @name of @cg, as a number; -1 if unreadable. */
static long long cg_read(const char *cg, const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static int cg_write(const char *cg, const char *name, const char *value)
{
	char path[256];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", cg, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	err = fputs(value, f) < 0;
	return fclose(f) || err ? -1 : 0;
}

/*
 * A region's pages are charged to the memory cgroup of the process whose
 * fault allocates them (on 6ea7a80 they were charged to nobody: a process
 * in a cgroup could take all of the machine's memory through dsm). A child in
 * a fresh cgroup touches 16 MiB of a region: the cgroup's memory.current
 * grows by at least that; once the region is removed it is back down.
 */
TEST(pages_charged_to_the_memory_cgroup)
{
	const char *root = "/sys/fs/cgroup", *cg = "/sys/fs/cgroup/dsm_charge";
	const size_t size = 16 << 20;
	struct dsm_remove rm = { .key = KEY(90) };
	long long before, touched = -1, after;
	int fd = open_dev(), pipefd[2], status;
	char pid[16];
	pid_t child;

	ASSERT_LE(0, fd);
	if (cg_read(root, "cgroup.procs") < 0)
		mount("none", root, "cgroup2", 0, NULL);
	if (cg_write(root, "cgroup.subtree_control", "+memory") || (mkdir(cg, 0755) && errno != EEXIST))
		SKIP(return, "no memory cgroup controller in this kernel");
	before = cg_read(cg, "memory.current");
	ASSERT_LE(0, before);
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		volatile char *p;

		snprintf(pid, sizeof(pid), "%d", getpid());
		if (cg_write(cg, "cgroup.procs", pid) || attach_raw(fd, rm.key, size, 0, 0))
			_exit(1);
		p = map(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
		if (p == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < size; i += PAGE)
			p[i] = 1;
		touched = cg_read(cg, "memory.current");
		_exit(write(pipefd[1], &touched, sizeof(touched)) != sizeof(touched));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(touched), read(pipefd[0], &touched, sizeof(touched)));
	EXPECT_LE(before + (long long)size, touched);
	ASSERT_EQ(0, ioctl(fd, DSM_IOC_REMOVE, &rm));
	close(fd);
	after = cg_read(cg, "memory.current");
	EXPECT_GT(before + (long long)size / 4, after);
	TH_LOG("memory.current: %lld before, %lld with 16 MiB touched, %lld after the removal",
	       before, touched, after);
	rmdir(cg);
}

TEST_HARNESS_MAIN
