"""test_spool - message content past spool_threshold goes to a file.

With spool_threshold at 4096 octets, messages of about 1 MiB go through
the unlinked spool file:
- by DATA and by BDAT, the maildir copy's body is byte-identical (sha256,
  LF line ends as maildir writes them) to what was sent, and the header a
  plugin added at the end of the headers (ticker's X-Ticks) is there;
- the spool directory is empty afterwards (the file never had a name, or
  lost it at once);
- maildir's threads copy a spooled message, not the event loop: for an
  8 MiB message the worker's main thread reads and writes each octet
  about once (the client's socket, the spool file), while its other
  threads write the whole maildir file (per-thread /proc/PID/task/TID/io
  counters);
- a spool directory that goes away while the server runs gives 452 4.3.1
  for a large message, while a small one (below the threshold) is still
  taken, 250;
- at start ("ehlod -t"), a spool directory that is missing is refused
  naming the file, the line and the path, and (as root) one the workers'
  user cannot create files in is refused naming the user.
"""

import hashlib
import os
import re
import shutil
import unittest

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, make_tempdir,
                       run_ehlod, test_plugin_dir)

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

    def test_threads_copy_spooled_message_not_the_loop(self):
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
        # The loop: the client's octets in, the spool file out; before
        # ABI 1.3 it also read the spool back and wrote the maildir file.
        self.assertLess(main_thread["rchar"], 1.25 * size, main_thread)
        self.assertLess(main_thread["wchar"], 1.25 * size, main_thread)
        self.assertGreater(others, 0.9 * size,
                           "the threads did not write the file")

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

    def check(self, spool, **opts):
        server = Ehlod(start=False, plugins=PLUGINS, spool_threshold=4096,
                       spool_directory=spool, **opts)
        self.addCleanup(server.cleanup)
        server.port = 1
        server.write_config()
        return run_ehlod(["-t", "-c", server.conf_path])

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
