"""test_maildir_space - the maildir plugin and the disk it writes to.

- Full disk: with the maildir on a small tmpfs filled up to its last
  ~100 KiB, MAIL FROM with SIZE=1000000 is answered 452 4.3.1 (RFC 1870
  section 6.1) and logged, while a SIZE that fits and MAIL without SIZE
  still get 250, and a message that fits is delivered.  The plugin warns
  at start that a tmpfs loses its messages at a reboot.
- ENOSPC in the middle of a batch: six sessions deliver 200 KiB each at
  once into about 600 KiB of room (the threads write and flush them
  together): some get 452 4.3.1 (at the end of data, or at MAIL for a
  session that comes after the others filled the disk), every 250 is in
  new/ byte for byte, nothing else is in new/ and nothing is left in
  tmp/.  The same with
  400 KiB each, whose body the server keeps in its spool file: the
  threads copy it from there (host->message_spool) and ENOSPC comes from
  them.  And the same with 400 KiB each kept in memory (spool_threshold
  above their size): the loop hands maildir's copy to the threads, and
  ENOSPC comes from their writes too.
- Stale tmp files: a file in tmp/ older than 36 hours (a delivery killed
  in the middle) is removed at start-up and logged; a fresh one stays.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, transaction,
                       sample_message, lf, after_mail)

PLUGINS = [("pipelining", {}), ("size", {"limit": 10240000}),
           ("enhancedstatuscodes", {}), ("maildir", {})]


class MaildirSpaceTest(EhlodTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        self.mnt = tempfile.mkdtemp(prefix="ehlod-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                        "tmpfs", self.mnt], check=True)

    def tearDown(self):
        super().tearDown()
        subprocess.run(["umount", self.mnt])
        os.rmdir(self.mnt)

    def fill(self, leave):
        """Fill the tmpfs until about leave octets are free."""
        st = os.statvfs(self.mnt)
        free = st.f_bavail * st.f_frsize
        with open(os.path.join(self.mnt, "filler"), "wb") as f:
            f.write(b"\0" * (free - leave))
        st = os.statvfs(self.mnt)
        return st.f_bavail * st.f_frsize

    def test_mail_with_size_that_cannot_fit_452(self):
        maildir = os.path.join(self.mnt, "Maildir")
        plugins = [(n, dict(o, directory=maildir) if n == "maildir" else o)
                   for n, o in PLUGINS]
        with Ehlod(plugins=plugins) as server:
            self.assertRegex(server.log(), r"warning: plugin=maildir: "
                             + re.escape(maildir) + r" is on tmpfs: "
                             r"messages answered 250 are lost at the next "
                             r"reboot")
            free = self.fill(100 * 1024)
            time.sleep(1.1)	# past the worker's one-second cache
            with server.raw() as s:
                ehlo(s)
                r = s.cmd("MAIL FROM:<a@x.test> SIZE=1000000")
                self.assertCode(r, 452, "%d octets free: %r" % (free, r))
                self.assertEnhanced(r, "4.3.1")
                r = s.cmd("MAIL FROM:<a@x.test> SIZE=1000")
                self.assertCode(r, 250)
                s.cmd("RSET")
                r = transaction(s)
                self.assertCode(r, 250)
            self.assertEqual(len(os.listdir(os.path.join(maildir, "new"))),
                             1)
            self.assertIn("deferred at MAIL", server.log())


    def test_disk_full_during_batch_only_durable_acknowledged(self):
        self.disk_full_batch(2600)

    def test_disk_full_while_threads_copy_from_spool(self):
        # 400 KiB: past the default spool_threshold, so the body is in
        # the server's spool file and a thread copies it to tmp/NAME.
        log = self.disk_full_batch(5200)
        self.assertRegex(log, r"delivery failed: write \S+/Maildir/tmp/"
                         r"\S+: No space left on device")

    def test_disk_full_with_large_messages_in_memory(self):
        # 400 KiB kept in memory by the server: a thread writes maildir's
        # copy to tmp/NAME and ENOSPC comes from that write.
        log = self.disk_full_batch(5200, spool_threshold=1048576)
        self.assertRegex(log, r"delivery failed: write \S+/Maildir/tmp/"
                         r"\S+: No space left on device")

    def disk_full_batch(self, nlines, **core):
        maildir = os.path.join(self.mnt, "Maildir")
        plugins = [(n, dict(o, directory=maildir) if n == "maildir" else o)
                   for n, o in PLUGINS]
        line = b"x" * 78 + b"\r\n"
        results = []
        lock = threading.Lock()

        def client(n):
            message = sample_message("big %d" % n, line * nlines)
            with server.raw() as s:
                ehlo(s)
                # A client whose MAIL comes after the others filled the
                # disk is deferred there already (the check at MAIL):
                # refused, as at the end of data.
                r = s.cmd("MAIL FROM:<s@x.test>")
                if r.code == 250:
                    r = after_mail(s, message=message)
            with lock:
                results.append((r, lf(message)))

        with Ehlod(plugins=plugins, **core) as server:
            self.fill(600 * 1024)
            time.sleep(1.1)	# past the worker's one-second cache
            threads = [threading.Thread(target=client, args=(n,))
                       for n in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            self.assertEqual(len(results), 6)
            codes = sorted(r.code for r, _m in results)
            self.assertIn(452, codes, codes)
            self.assertIn(250, codes, codes)
            for r, _m in results:
                self.assertIn(r.code, (250, 452), r)
            new = os.path.join(maildir, "new")
            delivered = []
            for name in os.listdir(new):
                with open(os.path.join(new, name), "rb") as f:
                    delivered.append(f.read())
            acked = [m for r, m in results if r.code == 250]
            self.assertEqual(len(delivered), len(acked), codes)
            for m in acked:
                self.assertTrue(any(d.endswith(m) for d in delivered))
            self.assertEqual(os.listdir(os.path.join(maildir, "tmp")), [])
            return server.log()


class MaildirTidyTest(EhlodTestCase):

    def test_stale_tmp_files_removed_at_start(self):
        server = Ehlod()	# makes the maildir, as the workers' user
        server.stop()
        tmp = os.path.join(server.maildir, "tmp")
        old = os.path.join(tmp, "1.M1P1Q1.crashed")
        fresh = os.path.join(tmp, "2.M2P2Q2.inflight")
        for path in (old, fresh):
            with open(path, "wb") as f:
                f.write(b"Subject: partial\n")
        then = time.time() - 37 * 3600
        os.utime(old, (then, then))
        server.start()
        with server:
            self.assertFalse(os.path.exists(old), "stale tmp file kept")
            self.assertTrue(os.path.exists(fresh), "fresh tmp file removed")
            self.assertIn("removed %s" % old, server.log())


class HungDiskTest(EhlodTestCase):
    """A file system that stops answering does not keep a stopping
    server from ending.  The maildir is on bindfs (a FUSE file system,
    Debian's bindfs) whose process the test stops with SIGSTOP, as a
    file server that went away holds every call.  A message's delivery
    thread gets stuck in it; the client gives up; the server is told to
    stop.  The worker waits THREADS_STOP_WAIT (5) s for the thread after
    the last session, says so and ends; it used to wait for the file
    system for ever.  Once bindfs goes on, nothing of that message (no
    250 was given) is in new/."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or shutil.which("bindfs") is None or \
                not os.path.exists("/dev/fuse"):
            self.skipTest("needs root, bindfs and /dev/fuse")
        self.src = tempfile.mkdtemp(prefix="ehlod-hung-src-")
        self.mnt = tempfile.mkdtemp(prefix="ehlod-hung-")
        self.addCleanup(shutil.rmtree, self.src, True)
        self.addCleanup(os.rmdir, self.mnt)
        os.chmod(self.src, 0o777)	# the workers' user writes there
        # In the foreground (-f): its process is the test's own.
        self.proc = subprocess.Popen(["bindfs", "-f", self.src, self.mnt],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.addCleanup(self.unmount)
        deadline = time.monotonic() + 10
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.skipTest("bindfs did not mount: %s" %
                              self.proc.stderr.read().decode()[:200])
            time.sleep(0.05)
        self.bindfs = self.proc.pid
        self.addCleanup(self.resume)

    def unmount(self):
        self.resume()
        subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()

    def resume(self):
        try:
            os.kill(self.bindfs, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def test_stop_does_not_wait_for_a_hung_file_system(self):
        maildir = os.path.join(self.mnt, "Maildir")
        plugins = PLUGINS[:-1] + [("maildir", {"directory": maildir})]
        with Ehlod(plugins=plugins, workers=1) as server:
            # A first message, delivered: the worker is past its start
            # (where the plugin makes and measures the folder) and its
            # delivery threads run.
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(
                    s, message=sample_message("first")), 250)
            os.kill(self.bindfs, signal.SIGSTOP)
            with server.raw() as s:
                ehlo(s)
                # A thread gets stuck either measuring the free space
                # for MAIL (when the last measure is a second old) or
                # writing the message; no 250 comes for it either way.
                s.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<u@example.org>"
                       "\r\nDATA\r\n")
                try:
                    codes = s.codes(3, timeout=2)
                except (TimeoutError, OSError):
                    codes = None	# MAIL waits for the measure
                if codes is not None:
                    self.assertEqual(codes, [250, 250, 354])
                    s.send(sample_message("hung") + b".\r\n")
                self.assertTrue(s.quiet(1.0), "answered with the file "
                                "system stopped")
            # The 2 s a stopping worker gives plugins' own events, then
            # the wait for the thread, and some room; past it stop()
            # kills the server.
            limit = 2 + 5 + 5
            start = time.monotonic()
            server.stop(timeout=limit)
            took = time.monotonic() - start
            log = server.log()
        self.resume()
        self.assertEqual(server.returncode, 0, "killed after %.1f s: %s"
                         % (took, log))
        self.assertLess(took, limit, log)
        self.assertIn("1 delivery thread still waiting for %s 5 s"
                      % maildir, log)
        new = os.listdir(os.path.join(maildir, "new"))
        self.assertEqual(len(new), 1, new)	# the first message only


if __name__ == "__main__":
    main()
