/*
 * NAME
 *	maildir_fs.c - is the maildir on a file system without a journal?
 * DESCRIPTION
 *	The maildir's default flush order (maildir_flush.c) renames a file
 *	into new/ before its fsync, which is safe on a file system that
 *	journals its metadata: the file's blocks and size are committed no
 *	later than its name.  maildir_fs_no_known_journal() says why a
 *	file system is not known to do that, and so gets POSIX's order
 *	(fsync_before_rename = auto, the default): ext4 mounted without a
 *	journal (its sysfs journal_task reads "<none>"), ext4 whose journal
 *	the host does not show (no sysfs), NFS, whose server may lose
 *	written data that no fsync committed yet, and every file system it
 *	does not know (overlay, ZFS, FUSE...).  Only ext4 with its journal,
 *	XFS and btrfs keep the default order: a mail server that cannot
 *	tell pays a second flush rather than risk a partial message.
 *
 *	maildir_fs_volatile() names the file systems that keep nothing
 *	over a reboot (tmpfs, ramfs), whatever the flush order: there a
 *	250 cannot mean what the admin expects of it.
 *
 *	Both look at the nearest parent that exists while the maildir does
 *	not (ehlod -t before the first start made it).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "maildir.h"

#define EXT4_MAGIC 0xEF53	/* ext2, ext3 and ext4 alike */
#define XFS_MAGIC 0x58465342
#define BTRFS_MAGIC 0x9123683E
#define NFS_MAGIC 0x6969
#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6

/* The block device's kernel name ("vda", "sda1", "dm-0"), which is also
 * the name of its directory under /sys/fs/ext4. */
static int
device_name(dev_t dev, char *name, size_t len)
{
	char path[64], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(dev),
	    minor(dev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base != NULL ? base + 1 : link;
	if ((size_t)snprintf(name, len, "%s", base) >= len)
		return -1;
	return 0;
}

#define EXT4_HIDDEN "ext4 whose journal this host does not show "

/* NULL for an ext4 with its journal, else why not known to have one. */
static const char *
ext4_journal(dev_t dev)
{
	char name[NAME_MAX + 1], path[PATH_MAX], task[16] = "";
	ssize_t n = -1;
	int fd;

	if (device_name(dev, name, sizeof(name)) < 0)
		return EXT4_HIDDEN "(no /sys/dev/block)";
	snprintf(path, sizeof(path), "/sys/fs/ext4/%s/journal_task", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, task, sizeof(task) - 1);
		close(fd);
	}
	if (n <= 0)	/* a kernel before 5.10, or no sysfs here */
		return EXT4_HIDDEN "(no /sys/fs/ext4/.../journal_task)";
	return strncmp(task, "<none>", 6) == 0 ? "ext4 without a journal" :
	    NULL;
}

/* dir, or the nearest of its parents that exists: ehlod -t asks before
 * the first start has made the maildir, which will be made there. */
static const char *
nearest_existing(const char *dir, char *buf, size_t len)
{
	struct stat st;
	char *slash;

	if ((size_t)snprintf(buf, len, "%s", dir) >= len)
		return NULL;
	while (stat(buf, &st) < 0) {
		if (errno != ENOENT || strcmp(buf, "/") == 0 ||
		    (slash = strrchr(buf, '/')) == NULL)
			return NULL;
		slash[slash == buf] = '\0';	/* "/a" becomes "/" */
	}
	return buf;
}

const char *
maildir_fs_no_known_journal(const char *dir)
{
	/* Init runs in one thread, and the phrase is logged at once. */
	static char unknown[96];
	char path[PATH_MAX];
	struct statfs fs;
	struct stat st;

	if ((dir = nearest_existing(dir, path, sizeof(path))) == NULL ||
	    statfs(dir, &fs) < 0 || stat(dir, &st) < 0)
		return "a file system that cannot be looked at";
	switch ((unsigned long)fs.f_type) {
	case EXT4_MAGIC:
		return ext4_journal(st.st_dev);
	case XFS_MAGIC:
	case BTRFS_MAGIC:
		return NULL;
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
		return NULL;	/* no order keeps anything: warned about */
	case NFS_MAGIC:
		return "NFS";
	}
	snprintf(unknown, sizeof(unknown), "a file system not known to "
	    "journal its metadata (statfs type 0x%lx)",
	    (unsigned long)fs.f_type);
	return unknown;
}

const char *
maildir_fs_volatile(const char *dir)
{
	char path[PATH_MAX];
	struct statfs fs;

	if ((dir = nearest_existing(dir, path, sizeof(path))) == NULL ||
	    statfs(dir, &fs) < 0)
		return NULL;
	if (fs.f_type == TMPFS_MAGIC)
		return "tmpfs";
	if (fs.f_type == RAMFS_MAGIC)
		return "ramfs";
	return NULL;
}
