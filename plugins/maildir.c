/*
 * NAME
 *	maildir - deliver each message into a maildir
 * SUMMARY
 *	plugin maildir {
 *		directory = "/var/mail/ehlod"
 *		fsync = true
 *	}
 * DESCRIPTION
 *	The default delivery step.  At the end of each message it writes the
 *	message into one maildir, the same for all recipients, and answers
 *	ACCEPT only once the message is safely on disk; the client gets its
 *	250 only then.
 *
 *	The file is created under a unique name in tmp/ (O_EXCL, mode 0600),
 *	written, flushed to disk, closed, renamed into new/, and finally the
 *	new/ directory is flushed so the rename itself survives a crash.  A
 *	reader of the maildir therefore never sees a partial message in
 *	new/.  The name follows the maildir convention
 *	"seconds.M<microseconds>P<pid>Q<count>R<random>.host", with '/' and
 *	':' in the host name written as \057 and \072.
 *
 *	The file starts with "Return-Path: <sender>" ("<>" for the null
 *	sender) and, when the message has exactly one recipient,
 *	"Delivered-To: recipient" and, if that recipient came with a DSN
 *	ORCPT (the dsn plugin's EHLOD_KEY_DSN_ORCPT_DECODED), "Original-Recipient:
 *	addr-type;address" as RFC 3798 writes it; with several recipients
 *	one file cannot say which of them it is for, so neither is written.
 *	Then follows the message as the host
 *	delivers it (its Received header, the headers with all changes, the
 *	body), with the CRLF line ends turned into LF as maildir readers
 *	expect.
 *
 *	When anything fails the file in tmp/ is removed, the cause is
 *	logged, and the client is told to try again later: 452 4.3.1 when
 *	the disk or quota is full, 451 4.3.0 otherwise.  MAIL is already
 *	answered 452 4.3.1 when the file system lacks room for the size the
 *	client declared with SIZE= plus 64 KiB, or has no free inode
 *	(maildir_space.c).  At start-up, files in tmp/ older than 36 hours,
 *	left by deliveries that never finished, are removed
 *	(maildir_tidy.c).
 *
 *	At start-up the plugin creates the maildir and its tmp/, new/ and
 *	cur/ folders (mode 0700) when they are missing, and the folders
 *	above it.  When the server
 *	starts as root, folders it creates are given to the user the server
 *	runs as, so that the worker processes can write to them once they
 *	have dropped their privileges.
 *
 *	The plugin refuses to start inside ehlod-milter: there the host MTA
 *	delivers the message, and a maildir would keep a second copy.
 * CONFIGURATION
 *	directory (string, required)
 *		The maildir, as an absolute path.  Missing folders above
 *		it are created too (mode 0755, left to root).
 *		(The option is not called "path": in every plugin section
 *		that names the plugin's shared object.)
 *	fsync (boolean, default true)
 *		Flush each message and the new/ folder to disk before
 *		answering 250.  Turning it off is only for benchmarks: a crash
 *		may then lose mail that the client was told is delivered.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>
#include <limits.h>

#include <ehlod/plugin.h>

#include "crlf.h"
#include "maildir.h"

/* Room for a host name of HOST_NAME_MAX octets, each possibly escaped as
 * a four-octet "\057". */
#define HOSTPART_MAX (4 * 255 + 1)
#define NAME_TRIES 5

static const struct ehlod_host *host;
static char *maildir;
static int do_fsync;
static ehlod_ctx *self;

struct maildir_conf {
	const char *directory;
	int fsync;
};
static char hostpart[HOSTPART_MAX];
static unsigned long deliveries;	/* the Q part of the names */

/* One message being written: a write buffer in front of the file. */
struct delivery {
	int fd;
	int err;		/* errno of the first failure, or 0 */
	struct crlf crlf;
	size_t used;
	unsigned char buf[64 * 1024];
};

/* ---- writing ------------------------------------------------------ */

/* write(2) until all is written: regular files may still write short
 * when a signal arrives or the disk fills up. */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
flush(struct delivery *d)
{
	if (d->err == 0)
		d->err = write_all(d->fd, d->buf, d->used);
	d->used = 0;
	return d->err == 0 ? 0 : -1;
}

/* Append octets as they are, without CRLF conversion. */
static int
put_raw(struct delivery *d, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t room = sizeof(d->buf) - d->used;
		size_t n = len < room ? len : room;

		memcpy(d->buf + d->used, p, n);
		d->used += n;
		p += n;
		len -= n;
		if (d->used == sizeof(d->buf) && flush(d) < 0)
			return -1;
	}
	return 0;
}

/* The lines this plugin writes itself already end in LF. */
static int
put(struct delivery *d, const char *s)
{
	return put_raw(d, (const unsigned char *)s, strlen(s));
}

/* The host's sink: append message octets, CRLF turned into LF.  Each
 * slice leaves one octet of room for a CR held from the slice before. */
static int
sink(void *arg, const void *data, size_t len)
{
	struct delivery *d = arg;
	const unsigned char *p = data;

	while (len > 0) {
		size_t room = sizeof(d->buf) - d->used;
		size_t n;

		if (room < 2) {
			if (flush(d) < 0)
				return -1;
			continue;
		}
		n = len < room - 1 ? len : room - 1;
		d->used += crlf_to_lf(&d->crlf, p, n, d->buf + d->used);
		p += n;
		len -= n;
	}
	return 0;
}

/* The ORCPT of the one recipient.  The dsn plugin stores it checked
 * (printable, no CR or LF), but any plugin may set the key: a value that
 * would break the header is left out. */
static int
put_orcpt(struct delivery *d, ehlod_ctx *s)
{
	const char *orcpt = host->rcpt_get(s, 0, EHLOD_KEY_DSN_ORCPT_DECODED);

	if (orcpt == NULL || strpbrk(orcpt, "\r\n") != NULL)
		return 0;
	if (put(d, "Original-Recipient: ") < 0 || put(d, orcpt) < 0 ||
	    put(d, "\n") < 0)
		return -1;
	return 0;
}

static int
put_envelope(struct delivery *d, ehlod_ctx *s)
{
	const char *from = host->get(s, EHLOD_ITEM_MAIL_FROM);
	const char *rcpt;

	/* Addresses have passed the core's path syntax check, which leaves
	 * no room for CR or LF, so they cannot break the header. */
	if (put(d, "Return-Path: <") < 0 ||
	    put(d, from != NULL ? from : "") < 0 || put(d, ">\n") < 0)
		return -1;
	/* With several recipients one copy cannot say which one it is for. */
	if (host->rcpt_count(s) != 1)
		return 0;
	rcpt = host->rcpt_address(s, 0);
	if (rcpt == NULL)
		return 0;
	if (put(d, "Delivered-To: ") < 0 || put(d, rcpt) < 0 ||
	    put(d, "\n") < 0)
		return -1;
	return put_orcpt(d, s);
}

/* Write the whole file.  Returns 0 or an errno value. */
static int
write_message(ehlod_ctx *s, int fd)
{
	struct delivery *d;
	unsigned char tail[1];
	int err;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ENOMEM;
	d->fd = fd;
	if (put_envelope(d, s) == 0 && host->message_read(s, sink, d) == 0) {
		/* A CR ending the message was held back; it is content. */
		if (put_raw(d, tail, crlf_finish(&d->crlf, tail)) == 0)
			flush(d);
	} else if (d->err == 0) {
		/* The host could not give us the message: no errno of ours. */
		host->log(s, LOG_ERR, "cannot read the message from the host");
		d->err = EIO;
	}
	err = d->err;
	free(d);
	return err;
}

/* ---- names and paths ---------------------------------------------- */

/* The maildir itself, one of its folders, or a file in a folder. */
static int
join(char *buf, size_t len, const char *sub, const char *name)
{
	int n;

	if (sub[0] == '\0')
		n = snprintf(buf, len, "%s", maildir);
	else if (name[0] == '\0')
		n = snprintf(buf, len, "%s/%s", maildir, sub);
	else
		n = snprintf(buf, len, "%s/%s/%s", maildir, sub, name);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int
make_name(char *buf, size_t len)
{
	struct timeval tv;
	unsigned long long rnd = 0;
	int n;

	gettimeofday(&tv, NULL);
	/* M, P and Q make the name unique on a sane host; R covers what
	 * they cannot see (a clock set back, a recycled pid).  Without
	 * entropy from the kernel it is 0 and O_EXCL still catches a clash. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = 0;
	n = snprintf(buf, len, "%lld.M%06ldP%ldQ%luR%016llx.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    ++deliveries, rnd, hostpart);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Create tmp/NAME under a fresh name.  Returns the descriptor, or -1 with
 * errno set. */
static int
open_unique(char *name, size_t namelen, char *tmp, size_t tmplen)
{
	for (int i = 0; i < NAME_TRIES; i++) {
		int fd;

		if (make_name(name, namelen) < 0 ||
		    join(tmp, tmplen, "tmp", name) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Flush a folder so that a rename into it is on disk. */
static int
sync_dir(const char *sub)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (join(path, sizeof(path), sub, "") < 0)
		return ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fsync(fd) < 0)
		err = errno;
	close(fd);
	return err;
}

/* ---- delivery ----------------------------------------------------- */

static ehlod_verdict
failed(ehlod_ctx *s, int err, const char *what, const char *path)
{
	host->log(s, LOG_ERR, "delivery failed: %s %s: %s", what, path,
	    strerror(err));
	if (err == ENOSPC || err == EDQUOT) {
		host->reply(s, 452, "4.3.1", "Insufficient system storage");
		return EHLOD_TEMPFAIL;
	}
	host->reply(s, 451, "4.3.0", "Local error in processing");
	return EHLOD_TEMPFAIL;
}

/* Fill tmp/NAME and make it durable.  Returns 0 or an errno value, with
 * *what naming the step that failed. */
static int
fill(ehlod_ctx *s, int fd, const char **what)
{
	int err;

	*what = "write";
	err = write_message(s, fd);
	if (err == 0 && do_fsync && fsync(fd) < 0) {
		*what = "fsync";
		err = errno;
	}
	/* close() reports late write errors (NFS), so it is checked too. */
	if (close(fd) < 0 && err == 0) {
		*what = "close";
		err = errno;
	}
	return err;
}

static ehlod_verdict
delivered(ehlod_ctx *s, const char *name)
{
	const char *from = host->get(s, EHLOD_ITEM_MAIL_FROM);
	const char *id = host->get(s, EHLOD_ITEM_TXN_ID);

	host->log(s, LOG_INFO, "delivered: from=<%s>, nrcpt=%zu, file=new/%s",
	    from != NULL ? from : "", host->rcpt_count(s), name);
	if (id != NULL)
		host->reply(s, 250, "2.0.0", "Ok: queued as %s", id);
	else
		host->reply(s, 250, "2.0.0", "Ok: delivered");
	return EHLOD_ACCEPT;
}

static ehlod_verdict
maildir_on_eom(ehlod_ctx *s)
{
	char name[NAME_MAX + 1], tmp[PATH_MAX], dst[PATH_MAX];
	const char *what;
	int fd, err;

	fd = open_unique(name, sizeof(name), tmp, sizeof(tmp));
	if (fd < 0)
		return failed(s, errno, "create", "tmp/");
	if (join(dst, sizeof(dst), "new", name) < 0) {
		close(fd);
		unlink(tmp);
		return failed(s, ENAMETOOLONG, "name", name);
	}
	err = fill(s, fd, &what);
	if (err == 0 && rename(tmp, dst) < 0) {
		what = "rename";
		err = errno;
	}
	if (err != 0) {
		unlink(tmp);
		return failed(s, err, what, tmp);
	}
	/* Without the folder on disk the rename may vanish in a crash: take
	 * the message back and let the client retry rather than answer 250
	 * for mail that could be lost. */
	if (do_fsync && (err = sync_dir("new")) != 0) {
		unlink(dst);
		return failed(s, err, "fsync", "new/");
	}
	return delivered(s, name);
}

/* ---- start-up ----------------------------------------------------- */

/* The host part of the names: '/' and ':' cannot appear in a maildir name
 * (':' starts the info part), so they are written as octal escapes. */
static void
init_hostpart(void)
{
	char name[256];
	size_t j = 0;

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		strcpy(name, "localhost");
	name[sizeof(name) - 1] = '\0';
	for (size_t i = 0; name[i] != '\0' && j + 5 < sizeof(hostpart); i++) {
		if (name[i] == '/' || name[i] == ':') {
			snprintf(hostpart + j, 5, "\\%03o", (unsigned)name[i]);
			j += 4;
		} else {
			hostpart[j++] = name[i];
		}
	}
	hostpart[j] = '\0';
}

/* The account the workers run as, when we are root and can hand folders
 * to it.  Returns 0 and fills uid/gid, or -1 when there is nobody to hand
 * them to (not root, no such setting, unknown user). */
static int
run_user(uid_t *uid, gid_t *gid)
{
	const char *user;
	struct passwd *pw;

	if (geteuid() != 0)
		return -1;
	user = host->get(NULL, EHLOD_ITEM_USER);
	if (user == NULL || user[0] == '\0')
		return -1;
	pw = getpwnam(user);
	if (pw == NULL) {
		host->log(self, LOG_WARNING, "user %s does not exist; the "
		    "maildir stays owned by root", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Give a folder we just made to the run user.  O_NOFOLLOW: hand over the
 * folder itself, never what a symlink put in its place points to. */
static int
give_away(const char *path, uid_t uid, gid_t gid)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fchown(fd, uid, gid);
	close(fd);
	return rc;
}

/* A folder that was there already.  The workers create files in tmp/ and
 * new/ only, so only those two must belong to the run user. */
static int
check_existing(const char *path, int must_own, uid_t uid)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		host->log(self, LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		host->log(self, LOG_ERR, "%s: not a directory", path);
		return -1;
	}
	if (must_own && st.st_uid != uid)
		host->log(self, LOG_WARNING, "%s is owned by uid %ld, not by "
		    "the user the server runs as: delivery may fail",
		    path, (long)st.st_uid);
	return 0;
}

struct folder {
	const char *sub;	/* "" for the maildir itself */
	int written;		/* the workers create files in it */
};

static int
make_folder(const struct folder *f, int have_user, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];

	if (join(path, sizeof(path), f->sub, "") < 0) {
		host->log(self, LOG_ERR, "path too long: %s", maildir);
		return -1;
	}
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			return check_existing(path, have_user && f->written,
			    uid);
		host->log(self, LOG_ERR, "mkdir %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (have_user && give_away(path, uid, gid) < 0) {
		host->log(self, LOG_ERR, "chown %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Create the missing folders above the maildir, so that a fresh install
 * with the default config starts.  Mode 0755 and left to root: the
 * workers only need to pass through them. */
static int
make_parents(void)
{
	char path[PATH_MAX];
	size_t len = strlen(maildir);

	if (len >= sizeof(path)) {
		host->log(self, LOG_ERR, "path too long: %s", maildir);
		return -1;
	}
	memcpy(path, maildir, len + 1);
	for (char *p = strchr(path + 1, '/'); p != NULL;
	    p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			host->log(self, LOG_ERR, "mkdir %s: %s", path,
			    strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int
make_maildir(void)
{
	/* The maildir itself first: the others go inside it. */
	static const struct folder folders[] = {
		{ "", 0 }, { "tmp", 1 }, { "new", 1 }, { "cur", 0 }
	};
	uid_t uid = 0;
	gid_t gid = 0;
	int have_user = run_user(&uid, &gid) == 0;

	if (make_parents() < 0)
		return -1;
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
		if (make_folder(&folders[i], have_user, uid, gid) < 0)
			return -1;
	return 0;
}

/* "/var/mail/x/" names the same folder as "/var/mail/x"; without the
 * slash the paths in the log read better. */
static void
trim_slashes(char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
}

static void
maildir_fini(ehlod_ctx *inst)
{
	(void)inst;
	free(maildir);
	maildir = NULL;
}

static int
maildir_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct maildir_conf *conf = h->instance(inst);
	const char *dir = conf->directory;

	host = h;
	self = inst;
	/* One maildir per process: the state below is the plugin's. */
	if (maildir != NULL) {
		host->log(self, LOG_ERR, "only one maildir instance per "
		    "configuration");
		return -1;
	}
	/* Inside a host MTA (ehlod-milter) the MTA delivers; a maildir
	 * there would silently keep a second copy of every message. */
	if (!(host->features & EHLOD_HOST_SMTP) ||
	    !(host->features & EHLOD_HOST_MESSAGE)) {
		host->log(self, LOG_ERR, "maildir delivers only inside ehlod "
		    "(in %s the MTA delivers): remove it from this config",
		    host->name);
		return -1;
	}
	/* A relative path would hang on the server's working directory,
	 * which a daemon does not keep. */
	if (dir[0] != '/') {
		host->log(self, LOG_ERR, "directory must be absolute, not %s",
		    dir);
		return -1;
	}
	maildir = strdup(dir);
	if (maildir == NULL) {
		host->log(self, LOG_ERR, "out of memory");
		return -1;
	}
	trim_slashes(maildir);
	do_fsync = conf->fsync;
	init_hostpart();
	if (make_maildir() < 0)
		return -1;
	maildir_tidy_tmp(host, maildir);
	return 0;
}

/* RFC 1870 section 6.1: no room now for the declared size is 452. */
static ehlod_verdict
maildir_on_mail(ehlod_ctx *s, const char *reverse_path)
{
	(void)reverse_path;
	return maildir_space_check(host, s, maildir);
}

static const char *
check_directory(const void *value)
{
	const char *dir = *(const char *const *)value;

	/* A relative path would hang on the server's working directory,
	 * which a daemon does not keep. */
	return dir[0] == '/' ? NULL : "must be an absolute path";
}

static const struct ehlod_option maildir_options[] = {
	{ "directory", EHLOD_OPT_STRING, offsetof(struct maildir_conf,
	  directory), NULL, EHLOD_OPT_REQUIRED, 0, 0, check_directory },
	{ "fsync", EHLOD_OPT_BOOL, offsetof(struct maildir_conf, fsync),
	  "yes", 0, 0, 0, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "maildir",
	.version = PACKAGE_VERSION,
	.description = "deliver into a maildir: tmp/, fsync, rename to new/",
	.options = maildir_options,
	.instance_size = sizeof(struct maildir_conf),
	.init = maildir_init,
	.fini = maildir_fini,
	.on_mail = maildir_on_mail,
	.on_eom = maildir_on_eom,
};
