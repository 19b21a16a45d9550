"""maildir flushes each file in the order its setting names, and never
from the event loop, seen by strace.

strace (-f -ttt -T -y) is attached to the only worker while Python's
smtplib delivers three messages one after another.  From the trace:

- fsync_before_rename = no (what auto takes on a journalled file
  system): each file's data is waited for (sync_file_range with
  WAIT_AFTER) before its rename into new/; after the rename the file
  itself is fsynced, and the client reads its 250 only after that fsync
  returned.  new/ is never fsynced (on ext4 that would force a second
  journal commit; the file's fsync made the rename durable).
- fsync_before_rename = yes: the file is fsynced while still in tmp/,
  before its rename, and no wait for its data alone is made; new/ is
  fsynced after the rename, before the 250.
- auto, the default: the second order exactly where the tests'
  temporary directory is on ext4 without a journal, else the first;
  the first on a journalled ext4, an XFS and a btrfs (each on a loop
  device),
  the second on overlay, a file system the plugin does not know.

The event loop never touches the maildir: with strace following each of
the only worker's threads into a file of its own (-ff, so that no call is
split between threads), smtplib delivers a small message, a 400 KiB one
whose body the server spools (the default spool_threshold) and a 400 KiB
one it keeps in memory (spool_threshold raised to 1 MiB).  The main
thread (the loop) names no path of the maildir in any call that creates,
writes, flushes, renames or measures (statfs, for MAIL's check of free
space) a file, while other threads do all of that for all three files.

At start, for a temporary directory and for /dev/shm (tmpfs), checked
against the kernel's own list of journals (/proc/fs/jbd2): with auto the
plugin says it takes POSIX's order exactly where the maildir is on ext4
without a journal, and warns about nothing; with no it warns there; a
value other than auto, yes or no is refused by ehlod -t with its line.
ehlod run where /sys/fs/ext4 is hidden (a mount namespace with an
empty tmpfs there) cannot tell whether ext4 has a journal, and says it
takes POSIX's order.

strace stamps a call's end before it lets the thread go on, and its start
before the call runs, so "ended before the other started" and "ended
before the client read 250" hold for the calls themselves too.
"""

import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

from ehlodtest import (Ehlod, EhlodTestCase, Strace, main,
                       sample_message, DEFAULT_PLUGINS)
from test_maildir_crash import LoopFs
import ehlodtest

WAIT = 20
POSIX = {"fsync_before_rename": True}
JOURNAL_ORDER = {"fsync_before_rename": "no"}
LINE = re.compile(r"^(?:(?P<tid>\d+)\s+)?(?P<t>\d+\.\d+) (?P<call>\w+)\((?P<args>.*)"
                  r"\) += (?P<ret>-?\d+)(?:<[^>]*>)?[^<]*"
                  r"<(?P<dur>\d+\.\d+)>$")
FD_PATH = re.compile(r"^\d+<(?P<path>[^>]*)>")


class Call:
    def __init__(self, m):
        self.tid = int(m.group("tid") or 0)	# -ff: none
        self.start = float(m.group("t"))
        self.end = self.start + float(m.group("dur"))
        self.name = m.group("call")
        self.args = m.group("args")
        self.ret = int(m.group("ret"))
        fd = FD_PATH.match(self.args)
        self.path = fd.group("path") if fd else None

    def __repr__(self):
        return "%s(%s) @%.6f" % (self.name, self.args, self.start)


def parse(trace):
    with open(trace) as f:
        return [Call(m) for m in map(LINE.match, f.read().splitlines())
                if m is not None]


FLUSHES = "trace=sync_file_range,fsync,fdatasync,rename,renameat,renameat2"
# The calls that create, change, flush or measure files: statfs too, the
# measure of free space that MAIL is answered from, since on a network
# file system it waits for the server.
FILE_WORK = "trace=open,openat,creat,rename,renameat,renameat2,link," \
    "linkat,unlink,unlinkat,mkdir,mkdirat,write,writev,pwrite64,pwritev," \
    "ftruncate,fallocate,fsync,fdatasync,sync_file_range,statfs,fstatfs"


def fs_magic(path):
    """The file system's statfs magic, in hex, as coreutils' stat says
    it ("ef53" for ext2/3/4, "1021994" for tmpfs)."""
    return subprocess.run(["stat", "-f", "-c", "%t", path], check=True,
                          capture_output=True, text=True).stdout.strip()


def temp_parents():
    """Where the tests put maildirs to see what the file system makes
    the plugin do: the tests' temporary directory, and /dev/shm (tmpfs)
    where there is one."""
    out = [tempfile.gettempdir()]
    if os.path.isdir("/dev/shm"):
        out.append("/dev/shm")
    return out


def ext4_without_journal(path):
    """From the device number alone (a chroot's mountinfo may not show
    the mount): ext4, and no journal of that device in /proc/fs/jbd2."""
    if fs_magic(path) != "ef53":
        return False
    st = os.stat(path)
    link = "/sys/dev/block/%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))
    name = os.path.basename(os.readlink(link))
    return not os.path.isdir("/proc/fs/jbd2/%s-8" % name)


# statfs magics (fs_magic's form) of the file systems where auto keeps
# the journal order: XFS, btrfs, and tmpfs and ramfs (nothing survives
# a reboot there whatever the order); ext4 only with its journal.
JOURNAL_ORDER_FS = ("58465342", "9123683e", "1021994", "858458f6")


def posix_order_expected(path):
    """Whether fsync_before_rename = auto takes POSIX's order at path."""
    magic = fs_magic(path)
    if magic == "ef53":
        return ext4_without_journal(path)
    return magic not in JOURNAL_ORDER_FS


class JournalWarningTest(EhlodTestCase):

    WARNING = "on ext4 without a journal: a crash may leave a partial " \
        "message in new/; set fsync_before_rename = auto or yes"
    AUTO = "on ext4 without a journal: each file is flushed in tmp/ " \
        "before its rename, then new/ (fsync_before_rename = auto)"

    def log_of(self, parent, maildir_options):
        plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
        top = tempfile.mkdtemp(prefix="ehlod-fs-", dir=parent)
        self.addCleanup(shutil.rmtree, top, True)
        options = dict(maildir_options, directory=os.path.join(top, "M"))
        with Ehlod(plugins=plugins + [("maildir", options)]) as server:
            return server.log()

    def test_no_warns_exactly_on_ext4_without_journal(self):
        for parent in temp_parents():
            with self.subTest(parent=parent):
                log = self.log_of(parent, JOURNAL_ORDER)
                self.assertEqual(self.WARNING in log,
                                 ext4_without_journal(parent),
                                 "%s: statfs magic %s" % (
                                     parent, fs_magic(parent)))
                self.assertNotIn(self.AUTO, log)

    def test_auto_takes_posix_order_exactly_without_journal(self):
        for parent in temp_parents():
            with self.subTest(parent=parent):
                log = self.log_of(parent, {})
                self.assertEqual(self.AUTO in log,
                                 ext4_without_journal(parent),
                                 "%s: statfs magic %s" % (
                                     parent, fs_magic(parent)))
                self.assertNotIn("fsync_before_rename = auto or yes", log)

    def test_auto_takes_posix_order_where_ext4_hides_its_journal(self):
        """ehlod in a mount namespace whose /sys/fs/ext4 is an empty
        tmpfs (as in a container): it cannot tell whether the ext4
        under the maildir has a journal, and must not guess that it
        has."""
        parent = tempfile.gettempdir()
        if fs_magic(parent) != "ef53":
            self.skipTest("%s is not on ext4" % parent)
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("a mount namespace needs root and unshare")
        # unshare's own "--propagation private" fails in a chroot (its /
        # is no mount point): /sys, a mount point, is made private
        # instead, so that the tmpfs stays in the namespace.
        hide = "mount --make-rprivate /sys && mount -t tmpfs none " \
            "/sys/fs/ext4"
        probe = subprocess.run(["unshare", "--mount", "--propagation",
                                "unchanged", "sh", "-c", hide],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("cannot hide /sys/fs/ext4 here: %s"
                          % probe.stderr.strip())
        top = tempfile.mkdtemp(prefix="ehlod-hide-")
        self.addCleanup(shutil.rmtree, top, True)
        wrapper = os.path.join(top, "ehlod")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec unshare --mount --propagation "
                    "unchanged sh -c '%s && exec \"$0\" \"$@\"' %s \"$@\"\n"
                    % (hide, ehlodtest.ehlod_bin()))
        os.chmod(wrapper, 0o755)
        os.chmod(top, 0o755)
        saved = os.environ["EHLOD_BIN"]
        self.addCleanup(os.environ.__setitem__, "EHLOD_BIN", saved)
        os.environ["EHLOD_BIN"] = wrapper
        log = self.log_of(parent, {})
        self.assertIn("is on ext4 whose journal this host does not show "
                      "(no /sys/fs/ext4/.../journal_task): each file is "
                      "flushed in tmp/ before its rename, then new/ "
                      "(fsync_before_rename = auto)", log)

    def test_other_values_refused_with_their_line(self):
        server = Ehlod(start=False, plugins=[
            ("maildir", {"fsync_before_rename": "maybe"})])
        code, out = server.check()
        self.assertNotEqual(code, 0, out)
        self.assertRegex(out, r"ehlod\.conf:\d+: .*fsync_before_rename.*"
                         r"must be auto, yes or no")

    def test_check_warns_once(self):
        """ehlod -t starts the plugins twice (to check them, then to
        describe them): the admin reads the warning once."""
        parent = tempfile.gettempdir()
        plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
        top = tempfile.mkdtemp(prefix="ehlod-fs-", dir=parent)
        self.addCleanup(shutil.rmtree, top, True)
        server = Ehlod(start=False, plugins=plugins + [
            ("maildir", dict(JOURNAL_ORDER,
                             directory=os.path.join(top, "M")))])
        code, out = server.check()
        self.assertEqual(code, 0, out)
        self.assertEqual(out.count(self.WARNING),
                         1 if ext4_without_journal(parent) else 0, out)

    def test_no_warning_with_fsync_before_rename(self):
        log = self.log_of(tempfile.gettempdir(), POSIX)
        self.assertNotIn("without a journal", log)


class FlushOrderTest(EhlodTestCase):

    def deliver_traced(self, maildir_options, directory=None):
        """Three messages delivered under strace: (calls, new/, the
        names in new/, when each 250 was read); the server's log in
        self.log.  directory: the maildir, else the server's own."""
        plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
        options = dict(maildir_options)
        if directory is not None:
            options["directory"] = directory
        plugins.append(("maildir", options))
        tmp = tempfile.mkdtemp(prefix="ehlod-strace-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "trace")
        acked = []
        with Ehlod(plugins=plugins, workers=1) as server:
            worker = server.started_workers()[0]
            strace = Strace(worker, trace, FLUSHES)
            try:
                for i in range(3):
                    with smtplib.SMTP("127.0.0.1", server.port,
                                      timeout=WAIT) as c:
                        c.ehlo("client.test")
                        message = sample_message("order %d" % i)
                        refused = c.sendmail("s@x.test", ["u@example.org"],
                                             message)
                        acked.append(time.time())
                        self.assertEqual(refused, {})
            finally:
                strace.detach()
            new = os.path.join(directory or server.maildir, "new")
            names = sorted(os.listdir(new))
            self.assertEqual(len(names), 3)
            self.log = server.log()
        return parse(trace), new, names, acked

    def renames(self, calls, new, names):
        """The rename of each delivered file, in delivery order."""
        done = []
        for c in calls:
            if c.name.startswith("rename") and c.ret == 0:
                for name in names:
                    if ("/new/%s\"" % name) in c.args:
                        done.append((name, c))
        self.assertEqual(sorted(n for n, _ in done), names,
                         "one rename into new/ per message")
        return sorted(done, key=lambda d: d[1].start)

    def dir_fsync_after(self, calls, new, t):
        for c in calls:
            if c.name == "fsync" and c.path == new and c.start >= t \
                    and c.ret == 0:
                return c
        self.fail("no fsync of new/ after the rename at %.6f" % t)

    def test_no_data_waited_for_then_rename_then_fsync(self):
        self.check_journal_order(*self.deliver_traced(JOURNAL_ORDER))

    def test_fsync_before_rename_file_flushed_in_tmp(self):
        self.check_posix_order(*self.deliver_traced(POSIX))

    def test_auto_order_follows_the_file_system(self):
        traced = self.deliver_traced({})
        if posix_order_expected(tempfile.gettempdir()):
            self.check_posix_order(*traced)
        else:
            self.check_journal_order(*traced)

    # Where auto must leave the journal order: the file systems known to
    # make a file's rename durable with its fsync.  Anywhere else, even
    # on a journalled one ehlod does not know, it takes POSIX's.

    def mount_top(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a file system needs root")
        top = tempfile.mkdtemp(prefix="ehlod-fs-")
        self.addCleanup(shutil.rmtree, top, True)
        os.chmod(top, 0o755)	# the workers' user goes through it
        return top

    def loop_fs(self, **how):
        top = self.mount_top()
        try:
            fs = LoopFs(top, **how)
        except subprocess.CalledProcessError as e:
            self.skipTest("no loop device with %s here: %s" % (
                how.get("fstype", "ext4"), (e.stderr or "").strip()[:200]))
        self.addCleanup(fs.remove)
        return os.path.join(fs.mnt, "Maildir")

    def check_journal_order_kept(self, program, package, **how):
        """auto on a file system of a kind it knows to journal (made by
        program, in Debian's package): no line, the journal order."""
        if shutil.which(program) is None:
            self.skipTest("no %s (Debian package %s)" % (program, package))
        traced = self.deliver_traced({}, self.loop_fs(**how))
        self.assertNotIn("(fsync_before_rename = auto)", self.log)
        self.check_journal_order(*traced)

    def test_auto_on_journalled_ext4_keeps_journal_order(self):
        self.check_journal_order_kept("mkfs.ext4", "e2fsprogs")

    def test_auto_on_xfs_keeps_journal_order(self):
        # 300 MiB is the least mkfs.xfs makes; the image is sparse.
        self.check_journal_order_kept(
            "mkfs.xfs", "xfsprogs", mkfs=("mkfs.xfs", "-q", "-f"),
            fstype="xfs", options="defaults", size=320 * 1024 * 1024)

    def test_auto_on_btrfs_keeps_journal_order(self):
        self.check_journal_order_kept(
            "mkfs.btrfs", "btrfs-progs", mkfs=("mkfs.btrfs", "-q", "-f"),
            fstype="btrfs", options="defaults", size=256 * 1024 * 1024)

    def test_auto_on_unknown_file_system_takes_posix_order(self):
        """overlay (what a container's files are on) journals nothing
        of its own and is not one the plugin knows."""
        top = self.mount_top()
        dirs = {n: os.path.join(top, n)
                for n in ("lower", "upper", "work", "mnt")}
        for d in dirs.values():
            os.mkdir(d)
        p = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o",
             "lowerdir=%(lower)s,upperdir=%(upper)s,workdir=%(work)s"
             % dirs, dirs["mnt"]], capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest("no overlay mount here: %s" % p.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", dirs["mnt"]],
                        capture_output=True)
        os.chmod(dirs["mnt"], 0o755)
        traced = self.deliver_traced({}, os.path.join(dirs["mnt"],
                                                      "Maildir"))
        self.assertIn("is on a file system not known to journal its "
                      "metadata (statfs type 0x794c7630): each file is "
                      "flushed in tmp/ before its rename, then new/ "
                      "(fsync_before_rename = auto)", self.log)
        self.check_posix_order(*traced)

    def check_journal_order(self, calls, new, names, acked):
        for (name, ren), ack in zip(self.renames(calls, new, names), acked):
            mine = [c for c in calls if c.tid == ren.tid]
            tmp = os.path.join(os.path.dirname(new), "tmp", name)
            wait = [c for c in mine if c.name == "sync_file_range"
                    and c.path == tmp
                    and "SYNC_FILE_RANGE_WAIT_AFTER" in c.args
                    and c.end <= ren.start]
            self.assertTrue(wait, "no wait for %s's data before its "
                            "rename: %r" % (name, mine))
            synced = [c for c in mine if c.name == "fsync"
                      and c.path == os.path.join(new, name) and c.ret == 0]
            self.assertTrue(synced, "%s never fsynced" % name)
            self.assertGreaterEqual(synced[0].start, ren.end,
                                    "%s fsynced before its rename" % name)
            self.assertLess(synced[0].end, ack,
                            "250 for %s before its flush" % name)
        self.assertFalse([c for c in calls if c.name == "fsync"
                          and c.path == new], "new/ fsynced")

    def check_posix_order(self, calls, new, names, acked):
        for (name, ren), ack in zip(self.renames(calls, new, names), acked):
            mine = [c for c in calls if c.tid == ren.tid]
            self.assertFalse([c for c in mine if c.name == "sync_file_range"
                              and "SYNC_FILE_RANGE_WAIT_AFTER" in c.args],
                             "waited for the data alone")
            synced = [c for c in mine if c.name == "fsync"
                      and c.ret == 0 and c.path is not None
                      and c.path.endswith("/" + name)
                      and c.end <= ren.start]
            self.assertTrue(synced, "%s not fsynced before its rename: %r"
                            % (name, mine))
            folder = self.dir_fsync_after(calls, new, ren.end)
            self.assertLess(folder.end, ack,
                            "250 for %s before new/ was flushed" % name)


class LoopTest(EhlodTestCase):

    BODY = (b"y" * 78 + b"\r\n") * 5200	# about 400 KiB

    def test_loop_never_touches_the_maildir(self):
        cases = [("default spool_threshold", {},
                  ["small", "spooled"]),
                 ("spool_threshold 1 MiB", {"spool_threshold": 1048576},
                  ["in memory"])]
        for label, core, subjects in cases:
            with self.subTest(label):
                self.check_loop(core, subjects)

    def check_loop(self, core, subjects):
        tmp = tempfile.mkdtemp(prefix="ehlod-strace-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "trace")
        with Ehlod(workers=1, **core) as server:
            worker = server.started_workers()[0]
            strace = Strace(worker, trace, FILE_WORK, per_thread=True)
            # Past the second of the measure taken at start-up, so that
            # the first MAIL asks for a new one.
            time.sleep(1.1)
            try:
                for subject in subjects:
                    body = None if subject == "small" else self.BODY
                    with smtplib.SMTP("127.0.0.1", server.port,
                                      timeout=WAIT) as c:
                        c.ehlo("client.test")
                        self.assertEqual(c.sendmail(
                            "s@x.test", ["u@example.org"],
                            sample_message(subject, body)), {})
            finally:
                strace.detach()
            maildir = server.maildir
            self.assertEqual(len(server.delivered()), len(subjects))
        traces = {int(name.rsplit(".", 1)[1]): os.path.join(tmp, name)
                  for name in os.listdir(tmp) if name.startswith("trace.")}
        self.assertIn(worker, traces, "no trace of the loop thread")
        with open(traces.pop(worker)) as f:
            loop = [line for line in f if maildir in line]
        self.assertEqual(loop, [], "the event loop touched the maildir")
        threads = [c for path in traces.values() for c in parse(path)]
        for call in ("openat", "write", "rename", "fsync"):
            done = [c for c in threads if c.name == call and c.ret >= 0
                    and maildir in c.args]
            self.assertGreaterEqual(len(done), len(subjects),
                                    "%s by the threads: %r" % (call, done))
        # One measure serves a second's MAILs.
        self.assertTrue([c for c in threads if c.name == "statfs"
                         and c.ret == 0 and maildir in c.args],
                        "no statfs by the threads")


if __name__ == "__main__":
    main()
