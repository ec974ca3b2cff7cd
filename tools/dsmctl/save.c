// SPDX-License-Identifier: GPL-2.0
/*
 * dsmctl region save KEY FILE, region load FILE [KEY].
 *
 * save attaches the region, freezes it cluster-wide (DSM_IOC_FREEZE: no
 * node is granted write access meanwhile), reads every page through a
 * mapping into a new file beside FILE (mode 0600), and thaws it
 * (DSM_IOC_THAW). If the thaw says the
 * freeze did not hold everywhere (the membership changed meanwhile), the
 * copy is made again, a few times. The copy is then the region's contents
 * at one moment: every page as it was when the last one was read. Only a
 * complete copy replaces FILE (rename). A page that cannot be read (its
 * only copy was lost: SIGBUS) fails the save.
 *
 * load checks the whole file first (header and data checksums), then
 * creates the region (it must not exist) and writes it. Both show their
 * progress on a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dsm.h>

#include "image.h"
#include "save.h"

#define CHUNK		(1u << 20)	/* copied at a time */
#define SAVE_TRIES	5

static int fail(int err, const char *what, const char *path)
{
	fprintf(stderr, "dsmctl: %s%s%s: %s\n", what, path ? " " : "",
		path ? path : "", strerror(-err));
	return err;
}

/* On a terminal: how far a copy of @total bytes is. */
static void progress(const char *verb, uint64_t done, uint64_t total)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%s %.1f of %.1f MiB", verb, done / 1048576.0,
		total / 1048576.0);
	if (done == total)
		fputc('\n', stderr);
}

/* Attach a file of /dev/dsm to region @key (@size 0: existing, any size). */
static int attach(uint64_t key, uint64_t *size, uint32_t flags)
{
	struct dsm_attach a = { .key = key, .size = *size, .flags = flags };
	int fd = open("/dev/dsm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (ioctl(fd, DSM_IOC_ATTACH, &a)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*size = a.size;
	return fd;
}

/* pwrite (@out) or pread all @len bytes at @off. Return: 0 or -errno. */
static int io_all(int fd, void *buf, size_t len, off_t off, bool out)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = out ? pwrite(fd, p, len, off) : pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;	/* EIO: the file is short */
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/* Make a rename into @path's directory durable. */
static int sync_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, err = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';	/* "/x" -> "/" */
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return err;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Copy @len bytes of the region; -EIO if a page is lost (SIGBUS). */
static int copy_pages(uint8_t *to, const uint8_t *from, size_t len)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int err = 0;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(bus_jmp, 1))
		memcpy(to, from, len);	/* read faults: shared copies */
	else
		err = -EIO;
	sigaction(SIGBUS, &old, NULL);
	return err;
}

/*
 * One copy of the mapped region into @out, frozen for @frozen seconds.
 * Return: 0 or -errno.
 */
static int save_once(int dev, const uint8_t *map, uint64_t size, int out,
		     uint8_t *buf, struct image_header *h, double *frozen)
{
	double t0 = seconds();
	struct dsm_members m = {};
	uint64_t off;
	int err = 0;

	if (ioctl(dev, DSM_IOC_FREEZE))
		return -errno;
	if (ioctl(dev, DSM_IOC_MEMBERS, &m))
		err = -errno;
	h->epoch = m.epoch;
	h->data_crc = 0;
	for (off = 0; !err && off < size; off += CHUNK) {
		size_t len = size - off < CHUNK ? size - off : CHUNK;

		err = copy_pages(buf, map + off, len);
		if (err) {
			fprintf(stderr, "dsmctl: a page at offset %llu..%llu cannot be read: its data is lost\n",
				(unsigned long long)off, (unsigned long long)(off + len));
			break;
		}
		h->data_crc = image_crc32(h->data_crc, buf, len);
		err = io_all(out, buf, len, IMAGE_HEADER_SIZE + off, true);
		progress("saved", off + len, size);
	}
	if (ioctl(dev, DSM_IOC_THAW) && !err)
		err = -errno;
	*frozen = seconds() - t0;
	h->time = time(NULL);
	return err;
}

int region_save(uint64_t key, const char *path)
{
	struct image_header h = { .key = key };
	uint8_t hdr[IMAGE_HEADER_SIZE];
	uint8_t *map = MAP_FAILED, *buf = NULL;
	uint64_t size = 0;
	int dev, out = -1, err, tries;
	double frozen = 0;
	char *tmp = NULL;

	dev = attach(key, &size, DSM_ATTACH_NOCREATE);
	if (dev < 0)
		return dev == -ENODEV ? dev :
		       fail(dev, dev == -ENOENT ? "no such region in the cluster" :
			    "cannot attach the region", NULL);
	h.size = size;
	h.pages = size / IMAGE_PAGE_SIZE;
	buf = malloc(CHUNK);
	if (!buf) {
		err = fail(-ENOMEM, "cannot save region", NULL);
		goto out;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, dev, 0);
	if (map == MAP_FAILED) {
		err = fail(-errno, "cannot map the region", NULL);
		goto out;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		tmp = NULL;
	out = tmp ? mkostemp(tmp, O_CLOEXEC) : -1;	/* new, mode 0600 */
	if (out < 0) {
		err = fail(tmp ? -errno : -ENOMEM, "cannot write", tmp ?: path);
		goto out;
	}
	for (tries = 1; tries <= SAVE_TRIES; tries++) {
		err = save_once(dev, map, size, out, buf, &h, &frozen);
		if (err != -EAGAIN)
			break;
		fprintf(stderr, "dsmctl: the cluster changed during the copy; copying again\n");
		usleep(200000 * tries);
	}
	if (err == -ETIME)
		fprintf(stderr, "dsmctl: the copy took longer than a freeze may last (module parameter freeze_max_ms)\n");
	if (err) {
		fail(err, "cannot save region", NULL);
		goto out;
	}
	image_header_encode(&h, hdr);
	err = io_all(out, hdr, sizeof(hdr), 0, true);
	if (!err && fsync(out))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		err = sync_dir(path);
	if (err) {
		fail(err, "cannot write", path);
		goto out;
	}
	printf("saved region %#llx: %llu pages, frozen %.3f s, epoch %llu, crc %08x%s\n",
	       (unsigned long long)key, (unsigned long long)h.pages, frozen,
	       (unsigned long long)h.epoch, h.data_crc,
	       tries > 1 ? " (copied again after a membership change)" : "");
out:
	if (out >= 0) {
		close(out);
		if (err)
			unlink(tmp);
	}
	if (map != MAP_FAILED)
		munmap(map, size);
	free(tmp);
	free(buf);
	close(dev);
	return err;
}

/* The data's CRC, read from @in; optionally copied to @map meanwhile. */
static int load_pass(int in, const struct image_header *h, uint8_t *buf,
		     uint8_t *map, uint32_t *crc)
{
	uint64_t off;
	int err;

	*crc = 0;
	for (off = 0; off < h->size; off += CHUNK) {
		size_t len = h->size - off < CHUNK ? h->size - off : CHUNK;

		err = io_all(in, buf, len, IMAGE_HEADER_SIZE + off, false);
		if (err)
			return err;
		*crc = image_crc32(*crc, buf, len);
		if (map) {
			memcpy(map + off, buf, len);
			progress("loaded", off + len, h->size);
		}
	}
	return 0;
}

int region_load(const char *path, const uint64_t *key)
{
	uint8_t hdr[IMAGE_HEADER_SIZE], *buf = NULL, *map = MAP_FAILED;
	struct dsm_remove rm;
	struct image_header h;
	const char *why = NULL;
	struct stat st;
	uint32_t crc;
	int in, dev = -1, err;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fail(-errno, "cannot read", path);
	err = io_all(in, hdr, sizeof(hdr), 0, false);
	if (err == -EIO)
		why = "too short for a saved region";
	else if (!err && image_header_decode(hdr, &h, &why))
		err = -EINVAL;
	else if (!err && (fstat(in, &st) ||
			  (uint64_t)st.st_size != IMAGE_HEADER_SIZE + h.size))
		why = "its length is not the header's size", err = -EINVAL;
	if (err) {
		fprintf(stderr, "dsmctl: %s: %s\n", path, why ? why : strerror(-err));
		goto out;
	}
	buf = malloc(CHUNK);
	err = buf ? load_pass(in, &h, buf, NULL, &crc) : -ENOMEM;
	if (!err && crc != h.data_crc) {
		fprintf(stderr, "dsmctl: %s: the data is damaged (checksum mismatch)\n", path);
		err = -EINVAL;
	}
	if (err)
		goto out;
	if (key)
		h.key = *key;
	dev = attach(h.key, &h.size, DSM_ATTACH_EXCL);
	if (dev < 0) {
		err = dev;
		if (err != -ENODEV)
			fail(err, err == -EEXIST ?
			     "the region exists (remove it, or load under another KEY)" :
			     "cannot create the region", NULL);
		goto out;
	}
	map = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0);
	if (map == MAP_FAILED)
		err = fail(-errno, "cannot map the region", NULL);
	else
		err = load_pass(in, &h, buf, map, &crc);
	if (!err && crc != h.data_crc) {
		fprintf(stderr, "dsmctl: %s changed while it was loaded\n", path);
		err = -EINVAL;
	}
	if (err) {	/* no half-loaded region */
		if (map != MAP_FAILED)
			munmap(map, h.size);
		map = MAP_FAILED;
		rm.key = h.key;
		if (ioctl(dev, DSM_IOC_REMOVE, &rm))
			fprintf(stderr, "dsmctl: region %#llx is left half-loaded: remove it (%s)\n",
				(unsigned long long)h.key, strerror(errno));
		goto out;
	}
	printf("loaded region %#llx: %llu pages, crc %08x\n",
	       (unsigned long long)h.key, (unsigned long long)h.pages, crc);
out:
	if (map != MAP_FAILED)
		munmap(map, h.size);
	if (dev >= 0)
		close(dev);
	free(buf);
	close(in);
	return err;
}
