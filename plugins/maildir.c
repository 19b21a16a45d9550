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
 *	written, its data written to disk, renamed into new/, then fsynced,
 *	which on a Linux file system with a metadata journal makes the
 *	rename durable too (with fsync_before_rename, which it takes by
 *	itself on a file system without one: fsynced in tmp/, renamed,
 *	then new/ fsynced; maildir_flush.c explains both).  A
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
 *	The disk work (create, write, fsync, close, rename, fsync of new/)
 *	runs in maildir_flush.c's threads: on_eom puts the whole file
 *	together in memory (the threads may not call the host), hands it
 *	over and answers PENDING; the session resumes with 250 once the
 *	flush of new/ that covers its rename has returned (group commit).
 *	When the host keeps the body in its spool file (message_spool, ABI
 *	1.3), on_eom copies only the head and what follows the spooled part,
 *	and the thread reads the body from a dup of the spool file itself.
 *
 *	When anything fails the file in tmp/ is removed, the cause is
 *	logged, and the client is told to try again later: 452 4.3.1 when
 *	the disk or quota is full, 451 4.3.0 otherwise.  MAIL is already
 *	answered 452 4.3.1 when the file system lacks room for the size the
 *	client declared with SIZE= plus 64 KiB, or has no free inode
 *	(maildir_space.c: the threads measure, and MAIL waits for a measure
 *	when the last is from an earlier second).  At start-up, files in
 *	tmp/ older than 36 hours, left by deliveries that never finished,
 *	are removed (maildir_tidy.c).
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
 *		Flush each message to disk before answering 250.  Turning
 *		it off is only for benchmarks: a crash may then lose mail
 *		that the client was told is delivered.
 *	fsync_before_rename (auto, yes or no; default auto)
 *		yes: fsync each file in tmp/, rename it, then fsync new/:
 *		what POSIX alone promises, at the cost of a second disk
 *		wait per message.  no: the default order above, safe only
 *		with a metadata journal.  auto: yes where the maildir is
 *		on a file system known to lack one (ext4 without a
 *		journal, NFS: maildir_fs.c), no elsewhere; said at start.
 *		no on such a file system is warned about at start.
 *	threads (integer, 1 to 64, default 4)
 *		Threads per worker process that write and flush messages.
 * SEE ALSO
 *	ehlod-plugin-maildir(5), the plugin's manual
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <limits.h>

#include <ehlod/plugin.h>

#include "crlf.h"
#include "maildir.h"
#include "plugin_threads.h"
#include "xmalloc.h"

/* Room for a host name of HOST_NAME_MAX octets, each possibly escaped as
 * a four-octet "\057". */
#define HOSTPART_MAX (4 * 255 + 1)

static const struct ehlod_host *host;
static char *maildir;
static ehlod_ctx *self;

struct maildir_conf {
	const char *directory;
	int fsync;
	const char *fsync_before_rename;	/* auto, yes or no */
	long long threads;
};
static char hostpart[HOSTPART_MAX];

/* One message being put together in memory, the file as the threads
 * will write it: the loop may call the host, they may not, and the loop
 * itself never touches the disk. */
struct delivery {
	struct crlf crlf;
	unsigned char *buf;
	size_t used, size;
	int err;		/* ENOMEM, EIO, or 0 */
};

/* ---- the file's content --------------------------------------------- */

static int
grow(struct delivery *d, size_t more)
{
	size_t size = d->size;
	unsigned char *p;

	while (size - d->used < more)
		size = size * 2 + more;
	p = realloc(d->buf, size);
	if (p == NULL)
		return -1;
	d->buf = p;
	d->size = size;
	return 0;
}

/* Append octets, as they are or with CRLF turned into LF (which is
 * never longer than what comes in). */
static int
append(struct delivery *d, const unsigned char *p, size_t len, int to_lf)
{
	if (d->size - d->used < len && grow(d, len) < 0) {
		d->err = ENOMEM;
		return -1;
	}
	if (to_lf) {
		d->used += crlf_to_lf(&d->crlf, p, len, d->buf + d->used);
		return 0;
	}
	memcpy(d->buf + d->used, p, len);
	d->used += len;
	return 0;
}

/* Append octets as they are, without CRLF conversion. */
static int
put_raw(struct delivery *d, const unsigned char *p, size_t len)
{
	return append(d, p, len, 0);
}

/* The lines this plugin writes itself already end in LF. */
static int
put(struct delivery *d, const char *s)
{
	return put_raw(d, (const unsigned char *)s, strlen(s));
}

/* The host's sink: append message octets, CRLF turned into LF (never
 * longer than what comes in). */
static int
sink(void *arg, const void *data, size_t len)
{
	return append(arg, data, len, 1);
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

/* Every field zero but the descriptors (-1).  The path buffers, more
 * than 8 KiB, are only made empty: calloc() zeroed them for every
 * message, a tenth of the plugin's instructions. */
static struct maildir_job *
job_new(void)
{
	struct maildir_job *j = malloc(sizeof(*j));

	if (j == NULL)
		return NULL;
	memset(j, 0, offsetof(struct maildir_job, name));
	j->name[0] = j->tmp[0] = j->dst[0] = '\0';
	j->fd = -1;
	j->spool_fd = -1;
	return j;
}

/* The threads close the file of every job they hand back. */
void
maildir_job_free(struct maildir_job *j)
{
	if (j->spool_fd >= 0)
		close(j->spool_fd);
	free(j->data);
	free(j->tail);
	free(j);
}

/* Octets from..to of the message, as the host has them, into memory. */
static unsigned char *
read_range(ehlod_ctx *s, size_t from, size_t to)
{
	unsigned char *buf = malloc(to > from ? to - from : 1);
	size_t got = 0;

	while (buf != NULL && from + got < to) {
		long n = host->message_pread(s, buf + got, to - from - got,
		    from + got);

		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	return buf;
}

/* The message from octet from to its end, as the host has it, into
 * memory; *len its length.  NULL when it cannot be read or held. */
static unsigned char *
read_to_end(ehlod_ctx *s, size_t from, size_t *len)
{
	size_t size = 4096, got = 0;
	unsigned char *buf = malloc(size), *more;

	while (buf != NULL) {
		long n;

		if (got == size) {
			more = realloc(buf, size * 2);
			if (more == NULL)
				break;
			buf = more;
			size *= 2;
		}
		n = host->message_pread(s, buf + got, size - got, from + got);
		if (n < 0)
			break;
		if (n == 0) {
			*len = got;
			return buf;
		}
		got += (size_t)n;
	}
	free(buf);
	return NULL;
}

/* When the host has the body in its spool file: the envelope and the
 * head go into memory, converted; the tail (what the host still has in
 * memory) is kept as it is; a thread copies the spooled part itself from
 * a dup of the file.  1 when j is set up that way, 0 when the body is
 * not spooled, -1 with d->err on failure. */
static int
spool_job(struct delivery *d, struct maildir_job *j, ehlod_ctx *s)
{
	size_t offset, len;
	unsigned char *head;
	int fd;

	if (!EHLOD_HOST_HAS(host, message_spool) ||
	    (fd = host->message_spool(s, &offset, &len)) < 0)
		return 0;
	d->size = offset + 4096;
	if ((d->buf = malloc(d->size)) == NULL || put_envelope(d, s) < 0)
		goto nomem;
	if ((head = read_range(s, 0, offset)) == NULL)
		goto io;
	if (sink(d, head, offset) < 0) {
		free(head);
		goto nomem;
	}
	free(head);
	if ((j->tail = read_to_end(s, offset + len, &j->tail_len)) == NULL)
		goto io;
	if ((j->spool_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		d->err = errno;
		return -1;
	}
	j->spool_len = len;
	j->crlf = d->crlf;
	j->data = d->buf;
	j->len = d->used;
	d->buf = NULL;
	return 1;
nomem:
	d->err = ENOMEM;
	return -1;
io:
	d->err = EIO;
	host->log(s, LOG_ERR, "cannot read the message from the host");
	return -1;
}

/* The whole file in memory, or its start with the body left in the
 * host's spool file: a job for the threads, or NULL with *err.  What
 * the host keeps in memory is bounded by its spool_threshold, so the
 * copy is too. */
static struct maildir_job *
make_job(ehlod_ctx *s, int *err)
{
	struct maildir_job *j = job_new();
	struct delivery d = { 0 };
	unsigned char tail[1];

	if (j == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	switch (spool_job(&d, j, s)) {
	case 1:
		j->s = s;
		return j;
	case -1:
		goto fail;
	}
	d.size = host->message_size(s) + 4096;
	if ((d.buf = malloc(d.size)) == NULL || put_envelope(&d, s) < 0)
		goto fail;
	if (host->message_read(s, sink, &d) < 0) {
		if (d.err == 0) {
			host->log(s, LOG_ERR, "cannot read the message from "
			    "the host");
			d.err = EIO;
		}
		goto fail;
	}
	/* A CR ending the message was held back; it is content. */
	if (put_raw(&d, tail, crlf_finish(&d.crlf, tail)) < 0)
		goto fail;
	j->s = s;
	j->data = d.buf;
	j->len = d.used;
	return j;
fail:
	*err = d.err != 0 ? d.err : ENOMEM;
	free(d.buf);
	maildir_job_free(j);
	return NULL;
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

static ehlod_verdict
delivered(ehlod_ctx *s, const char *name)
{
	const char *from = host->get(s, EHLOD_ITEM_MAIL_FROM);
	const char *id = host->get(s, EHLOD_ITEM_TXN_ID);

	/* The core's status=sent line (plugin=maildir) records the
	 * delivery; the file's name (its Received header holds the queue
	 * id) costs a log write per message, so only with debug. */
	host->log(s, LOG_DEBUG, "delivered: from=<%s>, nrcpt=%zu, file=new/%s",
	    from != NULL ? from : "", host->rcpt_count(s), name);
	if (id != NULL)
		host->reply(s, 250, "2.0.0", "Ok: queued as %s", id);
	else
		host->reply(s, 250, "2.0.0", "Ok: delivered");
	return EHLOD_ACCEPT;
}

/* The session's job in flight, so that on_close can let go of it. */
static struct maildir_job **
slot(ehlod_ctx *s)
{
	return host->session_data(s);
}

/* In the loop: a job is done, the file durable in new/ or gone.  A
 * session that ended meanwhile hears nothing: its client retries, and
 * the message may then arrive twice, never not at all. */
static void
finished(struct maildir_job *j)
{
	ehlod_ctx *s = j->s;

	if (s != NULL) {
		*slot(s) = NULL;
		if (j->measure)
			host->resume(s, maildir_space_check(host, s, maildir));
		else if (j->err != 0)
			host->resume(s, failed(s, j->err, j->what, j->tmp));
		else
			host->resume(s, delivered(s, j->name));
	}
	maildir_job_free(j);
}

/* The message goes to the threads; the session waits (PENDING) until
 * it is on disk, and the loop serves the others meanwhile. */
static ehlod_verdict
maildir_on_eom(ehlod_ctx *s)
{
	struct maildir_job **pending = slot(s);
	struct maildir_job *j;
	int err;

	if (pending == NULL)
		return failed(s, ENOMEM, "prepare", "message");
	j = make_job(s, &err);
	if (j == NULL)
		return failed(s, err, "prepare", "message");
	if (maildir_flush_submit(j) < 0) {
		err = errno;
		maildir_job_free(j);
		return failed(s, err, "start", "delivery threads");
	}
	*pending = j;
	return EHLOD_PENDING;
}

static void
maildir_on_close(ehlod_ctx *s)
{
	struct maildir_job **j = slot(s);

	if (j != NULL && *j != NULL)
		(*j)->s = NULL;
}

/* ---- start-up ----------------------------------------------------- */

/* The maildir itself or one of its folders. */
static int
join(char *buf, size_t len, const char *sub)
{
	int n;

	if (sub[0] == '\0')
		n = snprintf(buf, len, "%s", maildir);
	else
		n = snprintf(buf, len, "%s/%s", maildir, sub);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

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

/* The maildir itself first: the others go inside it. */
static const struct folder folders[] = {
	{ "", 0 }, { "tmp", 1 }, { "new", 1 }, { "cur", 0 }
};

static int
make_folder(const struct folder *f, int have_user, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];

	if (join(path, sizeof(path), f->sub) < 0) {
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

/* "ehlod -t": the folders that exist must be folders (and tmp/, new/
 * the run user's); a missing one is made at start, so its nearest
 * existing parent must be a folder.  Nothing is created or chowned. */
static int
check_missing(const char *path)
{
	char up[PATH_MAX];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof(up))
		return -1;
	strcpy(up, path);
	while ((slash = strrchr(up, '/')) != NULL && slash != up) {
		*slash = '\0';
		if (stat(up, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			return 0;
		host->log(self, LOG_ERR, "%s: not a directory, so %s cannot "
		    "be created", up, path);
		return -1;
	}
	return 0;
}

static int
check_maildir(void)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int have_user = run_user(&uid, &gid) == 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		const struct folder *f = &folders[i];
		struct stat st;

		if (join(path, sizeof(path), f->sub) < 0) {
			host->log(self, LOG_ERR, "path too long: %s", maildir);
			return -1;
		}
		if (stat(path, &st) == 0) {
			if (check_existing(path, have_user && f->written,
			    uid) < 0)
				return -1;
			continue;
		}
		if (errno != ENOENT) {
			host->log(self, LOG_ERR, "%s: %s", path,
			    strerror(errno));
			return -1;
		}
		return check_missing(path);
	}
	return 0;
}

static int
only_checking(void)
{
	return EHLOD_HOST_HAS(host, checking) && host->checking != NULL &&
	    host->checking();
}

static int
make_maildir(void)
{
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
	unsigned left = maildir_flush_stop();

	if (left > 0) {
		host->log(inst, LOG_WARNING, "%u delivery thread%s still "
		    "waiting for %s %d s after the last session; leaving %s "
		    "behind", left, left == 1 ? "" : "s", maildir,
		    THREADS_STOP_WAIT, left == 1 ? "it" : "them");
		return;
	}
	free(maildir);
	maildir = NULL;
}

/* The spellings libconfuse takes for a boolean, and auto. */
enum order_setting { ORDER_AUTO, ORDER_YES, ORDER_NO, ORDER_INVALID };

static enum order_setting
order_setting(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };

	if (strcasecmp(v, "auto") == 0)
		return ORDER_AUTO;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return ORDER_YES;
		if (strcasecmp(v, no[i]) == 0)
			return ORDER_NO;
	}
	return ORDER_INVALID;
}

static const char *
check_order(const void *value)
{
	const char *v = *(const char *const *)value;

	return order_setting(v) == ORDER_INVALID ?
	    "must be auto, yes or no" : NULL;
}

/* The flush order, and in *unjournalled why the file system is not
 * known to journal its metadata (NULL when it is). */
static enum maildir_flush
flush_mode(const struct maildir_conf *conf, const char **unjournalled)
{
	enum order_setting set = order_setting(conf->fsync_before_rename);

	*unjournalled = maildir_fs_no_known_journal(maildir);
	if (!conf->fsync)
		return MAILDIR_FLUSH_NONE;
	if (set == ORDER_YES ||
	    (set == ORDER_AUTO && *unjournalled != NULL))
		return MAILDIR_FLUSH_BEFORE_RENAME;
	return MAILDIR_FLUSH_AFTER_RENAME;
}

/* Say what the file system means for a 250: nothing survives a reboot
 * on one in memory; the default order needs a metadata journal, so
 * auto leaves it where none is known, and an explicit no is warned
 * about there. */
static enum maildir_flush
choose_order(const struct maildir_conf *conf)
{
	const char *fs = maildir_fs_volatile(maildir), *unjournalled;
	enum maildir_flush mode = flush_mode(conf, &unjournalled);

	if (fs != NULL && conf->fsync)
		host->log(self, LOG_WARNING, "%s is on %s: messages answered "
		    "250 are lost at the next reboot", maildir, fs);
	if (fs != NULL || unjournalled == NULL ||
	    mode == MAILDIR_FLUSH_NONE)
		return mode;
	if (mode == MAILDIR_FLUSH_BEFORE_RENAME &&
	    order_setting(conf->fsync_before_rename) == ORDER_AUTO)
		host->log(self, LOG_INFO, "%s is on %s: each file is "
		    "flushed in tmp/ before its rename, then new/ "
		    "(fsync_before_rename = auto)", maildir, unjournalled);
	if (mode == MAILDIR_FLUSH_AFTER_RENAME)
		host->log(self, LOG_WARNING, "%s is on %s: a crash may leave "
		    "a partial message in new/; set fsync_before_rename = "
		    "auto or yes", maildir, unjournalled);
	return mode;
}

/* init failed after naming the maildir; fini runs only after a start
 * that succeeded. */
static int
forget_maildir(void)
{
	free(maildir);
	maildir = NULL;
	return -1;
}

static int
maildir_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct maildir_conf *conf = h->instance(inst);
	const char *dir = conf->directory;
	enum maildir_flush mode;

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
	maildir = xstrdup(dir);
	trim_slashes(maildir);
	init_hostpart();
	if (only_checking()) {
		if (check_maildir() < 0)
			return forget_maildir();
		(void)choose_order(conf);
		return 0;
	}
	if (make_maildir() < 0)
		return forget_maildir();
	mode = choose_order(conf);
	maildir_tidy_tmp(host, maildir);
	maildir_space_measure(maildir);	/* start-up may wait */
	maildir_flush_setup(host, self, maildir, hostpart, mode,
	    (unsigned)conf->threads, finished);
	return 0;
}

/* RFC 1870 section 6.1: no room now for the declared size is 452.  The
 * free space is measured by the threads (maildir_space.c says why); when
 * the last measure is from an earlier second, MAIL waits for a new one. */
static ehlod_verdict
maildir_on_mail(ehlod_ctx *s, const char *reverse_path)
{
	struct maildir_job **pending = slot(s);
	struct maildir_job *j;

	(void)reverse_path;
	if (maildir_space_fresh() || pending == NULL)
		return maildir_space_check(host, s, maildir);
	if ((j = job_new()) == NULL)
		return maildir_space_check(host, s, maildir);
	j->measure = 1;
	j->s = s;
	if (maildir_flush_submit(j) < 0) {
		host->log(s, LOG_ERR, "cannot start the delivery threads: "
		    "%s", strerror(errno));
		maildir_job_free(j);
		return maildir_space_check(host, s, maildir);
	}
	*pending = j;
	return EHLOD_PENDING;
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
	{ "fsync_before_rename", EHLOD_OPT_STRING, offsetof(struct
	  maildir_conf, fsync_before_rename), "auto", 0, 0, 0, check_order },
	{ "threads", EHLOD_OPT_INT, offsetof(struct maildir_conf, threads),
	  "4", 0, 1, 64, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "maildir",
	.version = PACKAGE_VERSION,
	.description = "deliver into a maildir: tmp/, fsync, rename to new/",
	.options = maildir_options,
	.instance_size = sizeof(struct maildir_conf),
	.session_data_size = sizeof(struct maildir_job *),
	.init = maildir_init,
	.fini = maildir_fini,
	.on_mail = maildir_on_mail,
	.on_eom = maildir_on_eom,
	.on_close = maildir_on_close,
};
