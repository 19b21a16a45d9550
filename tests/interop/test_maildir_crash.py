"""test_maildir_crash - what maildir answered 250 survives a crash of the
file system under it, and no file in new/ is left partial.

The maildir is on a small ext4 with its journal (mkfs.ext4's defaults),
on a loop device over a file.  Eight smtplib clients deliver messages as
fast as the server answers them, each message with a token of its own.
While they run, the test notes which tokens were answered 250 so far,
then shuts the file system down the way xfstests simulates a power cut
(the EXT4_IOC_SHUTDOWN ioctl with EXT4_GOING_FLAGS_NOLOGFLUSH: from that
moment ext4 writes nothing more, not even its journal; what it had not
committed is lost).  The server and clients are stopped, the file system
unmounted and mounted again, which replays its journal.  Then:

- every message answered 250 before the shutdown is in new/, exactly
  once, byte for byte (LF line ends, the plugin's own header lines
  before it);
- every file in new/, answered or not, is a whole message: a crash shows
  a message entirely or not at all;
- e2fsck then finds the file system clean;
- the same with fsync_before_rename = yes.

A control run with fsync = no shows that the test can see a loss: the
server then answers 250 before the data is on disk, and messages it
answered are missing after the same crash.  The file system is mounted
with commit=600 in every run, so that only the plugin's own flushes
commit anything before the shutdown.

Needs root (mount, losetup) and a loop device; skipped without them, as
in a chroot without /dev/loop-control.
"""

import fcntl
import os
import re
import shutil
import smtplib
import struct
import subprocess
import tempfile
import threading
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, DEFAULT_PLUGINS, lf)

# linux/ext4.h (uapi): _IOR('X', 125, __u32), and its "no log flush".
EXT4_IOC_SHUTDOWN = 0x8004587D
EXT4_GOING_FLAGS_NOLOGFLUSH = 2
CLIENTS = 8
ACKED_BEFORE_CRASH = 150	# answers to wait for before the shutdown
WAIT = 30
TOKEN = re.compile(rb"^Subject: crash (\d+-\d+)$", re.M)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


def message(token, size):
    """A message (CRLF) whose body is known from its token alone."""
    head = ("From: Sender <s@x.test>\r\nTo: User <u@example.org>\r\n"
            "Subject: crash %s\r\n\r\n" % token).encode()
    line = ("%s " % token).encode() * 8 + b"\r\n"
    return head + line * (size // len(line)) + b"end of " + \
        token.encode() + b"\r\n"


def size_of(token):
    """Sizes from 1 KiB to about 60 KiB, so that some files take more
    than one extent of blocks and writeback."""
    thread, n = (int(x) for x in token.split("-"))
    return 1024 + ((thread * 7919 + n * 104729) % 60) * 1024


class LoopFs:
    """A file system on a loop device, mounted at self.mnt: by default
    an ext4 with its journal (mkfs.ext4's defaults) that commits only
    when asked.  Its image is a sparse file in top."""

    def __init__(self, top, mkfs=("mkfs.ext4", "-q", "-F"), fstype="ext4",
                 options="commit=600", size=128 * 1024 * 1024):
        self.image = os.path.join(top, "fs.img")
        self.mnt = os.path.join(top, "mnt")
        self.device = None
        self.fstype = fstype
        self.options = options
        os.mkdir(self.mnt)
        with open(self.image, "wb") as f:
            f.truncate(size)
        run(*mkfs, self.image)
        self.device = run("losetup", "-f", "--show",
                          self.image).stdout.strip()
        self.mount()

    def mount(self):
        run("mount", "-t", self.fstype, "-o", self.options, self.device,
            self.mnt)

    def shutdown(self):
        """Cut the file system off, as a power cut would (its journal
        not flushed)."""
        fd = os.open(self.mnt, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN,
                        struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
        finally:
            os.close(fd)

    def umount(self, wait=5):
        """Unmount; True when done, False when something still held it
        after wait seconds (a test that failed midway): then it is let
        go lazily, so that the loop device is freed when that ends.  A
        file system shut down and let go lazily is not mounted again by
        mount(): the kernel would hand back the same shut-down one."""
        deadline = time.monotonic() + wait
        while subprocess.run(["umount", self.mnt],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                subprocess.run(["umount", "-l", self.mnt],
                               capture_output=True)
                return False
            time.sleep(0.1)
        return True

    def fsck(self):
        """e2fsck's verdict on the unmounted file system: (code, text)."""
        p = subprocess.run(["e2fsck", "-f", "-n", self.device],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr

    def remove(self):
        self.umount()
        if self.device:
            subprocess.run(["losetup", "-d", self.device],
                           capture_output=True)


class Clients:
    """CLIENTS smtplib sessions sending one message after another; each
    token answered 250 goes into acked, in the order the answers came.
    The client that reads the answer number ACKED_BEFORE_CRASH calls
    crash() at once, under the lock, so that no answer is noted between
    the list the test keeps (self.before) and the crash: a 250 that was
    sent too early, before its message was on disk, has its message
    still on the way when the file system stops."""

    def __init__(self, port, crash):
        self.port = port
        self.crash = crash
        self.lock = threading.Lock()
        self.acked = []
        self.refused = 0	# 4xx or 5xx at the end of data
        self.before = None	# (acked, refused) when crash() was called
        self.crashed = threading.Event()
        self.stopping = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self.client, args=(i,))
                        for i in range(CLIENTS)]
        for t in self.threads:
            t.start()

    def client(self, i):
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=WAIT,
                              local_hostname="crash.test") as smtp:
                self.deliver(i, smtp)
        except (OSError, smtplib.SMTPException) as e:
            if not self.stopping.is_set():
                self.errors.append("client %d: %r" % (i, e))

    def deliver(self, i, smtp):
        n = 0
        while not self.stopping.is_set():
            token = "%d-%d" % (i, n)
            n += 1
            try:
                smtp.sendmail("s@x.test", ["u@example.org"],
                              message(token, size_of(token)))
            except smtplib.SMTPDataError:
                with self.lock:
                    self.refused += 1	# not acked
                continue
            with self.lock:
                self.acked.append(token)
                self.crash_once()

    def crash_once(self):
        """With the lock held."""
        if self.before is not None or len(self.acked) < ACKED_BEFORE_CRASH:
            return
        self.before = (list(self.acked), self.refused)
        try:
            self.crash()
        finally:
            self.crashed.set()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(WAIT)


def maildir_plugins(directory, **options):
    plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
    return plugins + [("maildir", dict(options, directory=directory))]


class MaildirCrashTest(EhlodTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a loop device needs root")
        if shutil.which("mkfs.ext4") is None:
            self.skipTest("no mkfs.ext4")
        top = tempfile.mkdtemp(prefix="ehlod-crash-")
        self.addCleanup(shutil.rmtree, top, True)
        os.chmod(top, 0o755)	# the workers' user goes through it
        try:
            self.fs = LoopFs(top)
        except subprocess.CalledProcessError as e:
            self.skipTest("no loop device with ext4 here: %s"
                          % (e.stderr or "").strip()[:200])
        self.addCleanup(self.fs.remove)
        self.maildir = os.path.join(self.fs.mnt, "Maildir")

    def crash_under_load(self, **options):
        """Deliver, cut the file system off while the clients are busy,
        and mount it again: (tokens acked before the cut, {token: file
        contents} of new/, log of the server)."""
        with Ehlod(plugins=maildir_plugins(self.maildir, **options),
                   workers=2) as server:
            # The folders the plugin made are on disk: what is at stake
            # is the messages alone.
            os.sync()
            clients = Clients(server.port, self.fs.shutdown)
            try:
                deadline = time.monotonic() + WAIT
                while (not clients.crashed.wait(0.05) and
                       time.monotonic() < deadline and not clients.errors
                       and not clients.refused):
                    pass
            finally:
                clients.stop()
            self.assertEqual(clients.errors, [])
            self.assertIsNotNone(clients.before, "%d answers, %d refused, "
                                 "and no crash" % (len(clients.acked),
                                                   clients.refused))
            acked, refused = clients.before
            self.assertEqual(refused, 0, "refused before the cut")
            log = server.log()
        self.assertTrue(self.fs.umount(), "the file system is still busy "
                        "after the server stopped")
        self.fs.mount()		# replays the journal
        found = self.read_new()
        self.fs.umount()
        code, text = self.fs.fsck()
        self.assertEqual(code, 0, "e2fsck after the crash:\n" + text)
        return acked, found, log

    def read_new(self):
        found = {}
        new = os.path.join(self.maildir, "new")
        names = os.listdir(new) if os.path.isdir(new) else []
        for name in names:
            with open(os.path.join(new, name), "rb") as f:
                content = f.read()
            m = TOKEN.search(content)
            self.assertIsNotNone(m, "new/%s holds no whole message: %r"
                                 % (name, content[:200]))
            token = m.group(1).decode()
            self.assertNotIn(token, found, "delivered twice: " + token)
            found[token] = content
        return found

    def assert_whole(self, found):
        """Each file ends with its token's message, byte for byte."""
        for token, content in found.items():
            want = lf(message(token, size_of(token)))
            self.assertTrue(content.endswith(want),
                            "new/ holds a partial message for %s: %d "
                            "octets, %d expected at its end"
                            % (token, len(content), len(want)))

    def assert_survived(self, acked, found):
        lost = [t for t in acked if t not in found]
        self.assertEqual(lost, [], "%d of %d messages answered 250 before "
                         "the crash are gone" % (len(lost), len(acked)))

    def test_acknowledged_messages_survive_crash(self):
        acked, found, log = self.crash_under_load()
        self.assert_survived(acked, found)
        self.assert_whole(found)
        # After the cut the plugin's calls fail, and it says so.
        self.assertRegex(log, r"delivery failed: ")

    def test_acknowledged_messages_survive_crash_fsync_before_rename(self):
        acked, found, _log = self.crash_under_load(fsync_before_rename=True)
        self.assert_survived(acked, found)
        self.assert_whole(found)

    def test_control_without_fsync_the_crash_loses_acknowledged(self):
        acked, found, _log = self.crash_under_load(fsync=False)
        lost = [t for t in acked if t not in found]
        self.assertGreater(len(lost), 0, "fsync = no, yet all %d answered "
                           "messages survived: the test cannot see a loss"
                           % len(acked))


if __name__ == "__main__":
    main()
