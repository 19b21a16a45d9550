"""test_spool - message content past spool_threshold goes to a file.

With spool_threshold at 4096 octets, messages of about 1 MiB go through
the unlinked spool file:
- by DATA and by BDAT, the maildir copy's body is byte-identical (sha256,
  LF line ends as maildir writes them) to what was sent, and the header a
  plugin added at the end of the headers (ticker's X-Ticks) is there;
- the spool directory is empty afterwards (the file never had a name, or
  lost it at once);
- the event loop writes no file: for an 8 MiB message the worker's main
  thread reads each octet about once (the client's socket) and writes
  next to nothing (its replies), while its other threads write every
  octet twice: the spool writer the spool file, maildir's threads the
  maildir file (per-thread /proc/PID/task/TID/io counters);
- a spool directory that goes away while the server runs gives 452 4.3.1
  for a large message, while a small one (below the threshold) is still
  taken, 250;
- a spool file system that fills up in the middle of a message (a 1 MiB
  tmpfs, a 3 MiB message, by DATA and by BDAT) gives 452 4.3.1 and
  delivers nothing of it; the session goes on, a small message and then
  a 600 KiB one (which needs the failed one's space back) are taken, 250,
  and arrive intact;
- a client that goes away in the middle of DATA while its writes are
  still in flight (strace delays them): once they are done the worker
  holds no descriptor of the spool directory, and it takes the next
  large message;
- a slow spool disk (strace delays each write of the worker's threads by
  10 ms) holds the client back instead of filling memory: a 16 MiB
  message, by DATA and by BDAT, raises the worker's peak RSS by under
  4 MiB (8 under ASan) and arrives intact, and the status socket's
  ehlod_spool_held_messages_total counts it;
- a spool disk that stops (strace holds each write for 20 s, data_timeout
  is 1 s) does not hold the session for ever, though the client filled
  the server's input and libevent suspended the read timeout with it:
  the client hears 421 4.3.0 within a few seconds, the log says the
  spool writer stalled, the file is closed once the write comes back,
  and the next large message is taken;
- at start ("ehlod -t"), a spool directory that is missing is refused
  naming the file, the line and the path, and (as root) one the workers'
  user cannot create files in is refused naming the user.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import unittest

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, make_tempdir,
                       run_ehlod, status_kb, test_plugin_dir, under_asan)

PLUGINS = [("size", {}), ("enhancedstatuscodes", {}), ("chunking", {}),
           ("maildir", {})]


def with_ticker():
    ticker = ("ticker", {"path": os.path.join(test_plugin_dir(),
                                              "ticker.so"),
                         "interval_ms": 1000})
    return PLUGINS[:-1] + [ticker] + PLUGINS[-1:]


def big_body(mib=1):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    n = mib * 1024 * 1024 // len(line)
    return b"Subject: spool\r\nFrom: <s@x.test>\r\n\r\n" + b"".join(
        b"%08d " % i + line for i in range(n))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def envelope(test, s):
    ehlo(s)
    test.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
    test.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)


def send_data(test, server, content):
    with server.raw(timeout=120) as s:
        envelope(test, s)
        test.assertCode(s.cmd("DATA"), 354)
        s.send(content + b".\r\n")
        return s.reply(timeout=120)


def send_bdat(test, server, content):
    with server.raw(timeout=120) as s:
        envelope(test, s)
        half = len(content) // 2
        s.send(b"BDAT %d\r\n" % half + content[:half])
        test.assertCode(s.reply(timeout=120), 250)
        rest = content[half:]
        s.send(b"BDAT %d LAST\r\n" % len(rest) + rest)
        return s.reply(timeout=120)


def thread_io(pid):
    """{tid: {"rchar": n, "wchar": n}} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/io" % (pid, tid)) as f:
                fields = dict(line.split(": ") for line in f.read().split(
                    "\n") if line)
        except OSError:
            continue
        out[int(tid)] = {k: int(fields[k]) for k in ("rchar", "wchar")}
    return out


def open_in(pid, directory):
    """The worker's descriptors of files in directory (an O_TMPFILE
    file shows as "DIR/#INODE (deleted)")."""
    found = []
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue
        if target.startswith(directory + "/"):
            found.append(target)
    return found


def closed_soon(pid, directory):
    """open_in once it is empty, or after 10 s: the session ends when
    the server reads the client's close, and the writer thread closes
    the file after that."""
    deadline = time.monotonic() + 10
    while open_in(pid, directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    return open_in(pid, directory)


def send_ignoring_errors(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass  # the server closed, as the test wants


def restore_env(key, value):
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def split(data, eol):
    head, sep, body = data.partition(eol + eol)
    if not sep:
        raise AssertionError("no end of the headers")
    return head, body


class SpoolTest(EhlodTestCase):

    timeout = 240

    def spool_dir(self):
        d = make_tempdir("ehlod-spool-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def run_one(self, send):
        spool = self.spool_dir()
        content = big_body()
        with Ehlod(plugins=with_ticker(), spool_threshold=4096,
                   spool_directory=spool) as server:
            self.assertCode(send(self, server, content), 250)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            head, body = split(files[0], b"\n")
            self.assertIn(b"\nSubject: spool\n", head)
            self.assertIn(b"\nX-Ticks: ", head,
                          "the header a plugin added is missing")
            sent = split(content, b"\r\n")[1].replace(b"\r\n", b"\n")
            self.assertEqual(len(body), len(sent))
            self.assertEqual(sha(body), sha(sent),
                             "the delivered body differs from what was sent")
            self.assertEqual(os.listdir(spool), [],
                             "a spool file was left behind")

    def test_data_large_message_identical_250(self):
        self.run_one(send_data)

    def test_bdat_large_message_identical_250(self):
        self.run_one(send_bdat)

    def test_threads_write_spool_and_maildir_not_the_loop(self):
        content = big_body(8)
        with Ehlod(plugins=PLUGINS, workers=1) as server:
            worker = server.started_workers()[0]
            before = thread_io(worker)
            self.assertCode(send_data(self, server, content), 250)
            after = thread_io(worker)
            self.assertEqual(len(server.delivered()), 1)
        main_thread = {k: after[worker][k] - before.get(worker, {}).get(k, 0)
                       for k in ("rchar", "wchar")}
        others = sum(io["wchar"] - before.get(tid, {}).get("wchar", 0)
                     for tid, io in after.items() if tid != worker)
        size = len(content)
        # The loop: the client's octets in, a few replies out.  It used
        # to write the spool file itself, and before ABI 1.3 it also read
        # the spool back and wrote the maildir file.
        self.assertLess(main_thread["rchar"], 1.25 * size, main_thread)
        self.assertLess(main_thread["wchar"], 0.01 * size, main_thread)
        self.assertGreater(others, 1.9 * size,
                           "the threads did not write both files")

    def test_unwritable_spool_452(self):
        spool = os.path.join(self.spool_dir(), "goes-away")
        os.mkdir(spool)
        os.chmod(spool, 0o1777)
        with Ehlod(plugins=PLUGINS, spool_threshold=4096,
                   spool_directory=spool) as server:
            os.rmdir(spool)
            r = send_data(self, server, big_body())
            self.assertCode(r, 452)
            self.assertIn("4.3.1", r.text)
            small = b"Subject: small\r\n\r\nhello\r\n"
            self.assertCode(send_data(self, server, small), 250)
            self.assertEqual(len(server.delivered()), 1)

    def slow_writes(self, worker, usec):
        """strace on every thread of worker, each pwrite64 delayed by
        usec; the caller kills it."""
        strace = subprocess.Popen(
            ["strace", "-f", "-o", "/dev/null", "-e", "trace=pwrite64",
             "-e", "inject=pwrite64:delay_enter=%d" % usec, "-p",
             str(worker)], stderr=subprocess.PIPE, text=True)
        self.addCleanup(strace.stderr.close)
        self.addCleanup(strace.kill)
        # The main thread first; the writer thread is started later,
        # from it, so -f follows it.
        line = strace.stderr.readline()
        self.assertIn("attached", line)
        return strace

    def test_client_gone_mid_data_spool_file_closed(self):
        # The session ends while its writes are still in flight (each
        # delayed 250 ms, so that a loaded machine still sees the close
        # before they are done): the writer must still close the file
        # once they are done (no descriptor of the spool directory left
        # in the worker), and the worker serves on.
        spool = self.spool_dir()
        with Ehlod(plugins=PLUGINS, workers=1, spool_threshold=4096,
                   spool_directory=spool) as server:
            worker = server.started_workers()[0]
            strace = self.slow_writes(worker, 250000)
            with server.raw() as s:
                envelope(self, s)
                self.assertCode(s.cmd("DATA"), 354)
                s.send(big_body(1)[:600000])
            # Gone while a write is still held up.
            deadline = time.monotonic() + 10
            while "lost connection after DATA" not in server.log() and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("lost connection after DATA", server.log())
            self.assertTrue(open_in(worker, spool),
                            "no write was in flight at the end")
            strace.kill()
            strace.wait()
            self.assertEqual(closed_soon(worker, spool), [])
            self.assertCode(send_data(self, server, big_body()), 250)
            self.assertEqual(len(server.delivered()), 1)
            self.assertEqual(closed_soon(worker, spool), [])

    def test_stalled_spool_421(self):
        spool = self.spool_dir()
        with Ehlod(plugins=PLUGINS, workers=1, spool_threshold=65536,
                   spool_directory=spool, data_timeout=1) as server:
            worker = server.started_workers()[0]
            strace = self.slow_writes(worker, 20000000)
            with server.raw(timeout=30) as s:
                envelope(self, s)
                self.assertCode(s.cmd("DATA"), 354)
                # More than the server takes in while its writer waits;
                # the sending thread stays blocked until the close.
                sender = threading.Thread(target=send_ignoring_errors,
                                          args=(s.sock, big_body(4)))
                sender.start()
                started = time.monotonic()
                r = s.reply(timeout=30)
                waited = time.monotonic() - started
                try:
                    s.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # reset by the server already
                sender.join()
            self.assertCode(r, 421)
            self.assertIn("4.3.0", r.text)
            self.assertLess(waited, 10, "the session waited too long")
            self.assertIn("spool writer stalled", server.log())
            strace.kill()
            strace.wait()
            self.assertEqual(closed_soon(worker, spool), [])
            self.assertEqual(server.delivered(), [])
            self.assertCode(send_data(self, server, big_body()), 250)
            self.assertEqual(len(server.delivered()), 1)

    def full_spool(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        spool = self.spool_dir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=1777",
                        "tmpfs", spool], check=True)
        self.addCleanup(subprocess.run, ["umount", spool])
        return spool

    def spool_fills_up(self, send):
        spool = self.full_spool()
        with Ehlod(plugins=PLUGINS, spool_threshold=4096,
                   spool_directory=spool) as server:
            r = send(self, server, big_body(3))
            self.assertCode(r, 452)
            self.assertIn("4.3.1", r.text)
            self.assertEqual(server.delivered(), [])
            small = b"Subject: small\r\n\r\nhello\r\n"
            self.assertCode(send(self, server, small), 250)
            # 600 KiB fits only once the failed message's file is gone.
            medium = big_body(1)[:600 * 1024] + b"\r\n"
            self.assertCode(send(self, server, medium), 250)
            files = server.delivered()
            self.assertEqual(len(files), 2)
            bodies = sorted(split(f, b"\n")[1] for f in files)
            sent = sorted(split(c, b"\r\n")[1].replace(b"\r\n", b"\n")
                          for c in (small, medium))
            self.assertEqual([sha(b) for b in bodies],
                             [sha(b) for b in sent])
            self.assertEqual(os.listdir(spool), [])

    def test_spool_full_mid_message_data_452(self):
        self.spool_fills_up(send_data)

    def test_spool_full_mid_message_bdat_452(self):
        self.spool_fills_up(send_bdat)

    def test_slow_spool_holds_data_memory_bounded(self):
        self.slow_spool(send_data)

    def test_slow_spool_holds_bdat_memory_bounded(self):
        self.slow_spool(send_bdat)

    def slow_spool(self, send):
        # Every write of the spool file made 10 ms slower (strace's fault
        # injection, on the worker's threads): the writer falls behind
        # the client, and the session must stop reading rather than keep
        # what it cannot write yet.  Without the hold the worker kept
        # 15.6 MiB of the 16 MiB; with it, under 1 MiB.
        # (The sanitizer build's quarantine would count every octet.)
        asan = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
            "quarantine_size_mb=0"
        self.addCleanup(restore_env, "ASAN_OPTIONS", asan)
        content = big_body(16)
        limit = 32 * 1024 * 1024
        plugins = [(n, {"limit": limit} if n == "size" else o)
                   for n, o in PLUGINS]
        status = os.path.join(self.spool_dir(), "status")
        with Ehlod(plugins=plugins, workers=1, spool_threshold=65536,
                   message_size_limit=limit, status_socket=status) as server:
            worker = server.started_workers()[0]
            before = status_kb(worker, "VmHWM")
            # AddressSanitizer's allocator and shadow take a few MiB more.
            bound = 8 if under_asan(worker) else 4
            strace = self.slow_writes(worker, 10000)
            self.assertCode(send(self, server, content), 250)
            growth = status_kb(worker, "VmHWM") - before
            strace.kill()
            strace.wait()
            files = server.delivered()
            code, out = run_ehlod(["-s", "-c", server.conf_path])
        self.assertEqual(code, 0, out)
        # The admin's view of it: the status socket counts the message.
        held = re.search(r"^ehlod_spool_held_messages_total (\d+)$", out,
                         re.M)
        self.assertIsNotNone(held, out)
        self.assertEqual(int(held.group(1)), 1, out)
        print("worker peak memory grew %d KiB for a 16 MiB message "
              "with a slow spool" % growth)
        self.assertEqual(len(files), 1)
        sent = split(content, b"\r\n")[1].replace(b"\r\n", b"\n")
        self.assertEqual(sha(split(files[0], b"\n")[1]), sha(sent))
        self.assertLess(growth, bound * 1024,
                        "the worker kept %d KiB" % growth)

    def check(self, spool, **opts):
        server = Ehlod(start=False, plugins=PLUGINS, spool_threshold=4096,
                       spool_directory=spool, **opts)
        self.addCleanup(server.cleanup)
        return server.check()

    def test_missing_spool_refused_at_start(self):
        spool = os.path.join(self.spool_dir(), "missing")
        code, out = self.check(spool)
        self.assertEqual(code, 1, out)
        self.assertRegex(out, re.escape(
            os.path.basename(spool)) + r".*No such file or directory")
        self.assertRegex(out, r"ehlod\.conf:\d+")
        self.assertIn("spool_directory", out)

    @unittest.skipUnless(os.geteuid() == 0, "only root switches users")
    def test_spool_the_workers_cannot_write_refused_at_start(self):
        spool = os.path.join(self.spool_dir(), "root-only")
        os.mkdir(spool, 0o755)		# root's: nobody cannot create files
        code, out = self.check(spool, user="nobody")
        self.assertEqual(code, 1, out)
        self.assertIn("user nobody cannot create files there", out)
        os.chmod(spool, 0o1777)
        code, out = self.check(spool, user="nobody")
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    main()
