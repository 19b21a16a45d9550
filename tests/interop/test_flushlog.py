"""The bench plugin "flushlog" (tests/plugins/flushlog.c), driven by smtplib.

bench/throughput measures it as the floor of durable delivery, so it has
to do what it says: every message accepted is in the worker's log file
(FILE.PID, made at the log's full size before the first message), the
ring wraps when it is full and still accepts, a log that cannot be made
answers 451 and keeps nothing, and the log is removed when the server
stops.
"""

import os
import smtplib

from ehlodtest import (Ehlod, EhlodTestCase, main, make_tempdir,
                       test_plugin_dir)


def flushlog(path, size_mib=1):
    return ("flushlog", {"path": os.path.join(test_plugin_dir(),
                                              "flushlog.so"),
                         "file": path, "size": size_mib})


def plugins(path, size_mib=1):
    return [("pipelining", {}), ("8bitmime", {}),
            ("enhancedstatuscodes", {}), flushlog(path, size_mib)]


def body(tag, length):
    line = ("%s " % tag) * 15 + "\r\n"
    text = (line * (length // len(line) + 1))[:length]
    return "Subject: %s\r\n\r\n%s\r\n" % (tag, text.rstrip("\r\n"))


class FlushlogTest(EhlodTestCase):

    def send(self, server, messages):
        replies = []
        with smtplib.SMTP("127.0.0.1", server.port, timeout=20) as c:
            c.ehlo("client.test")
            for tag, text in messages:
                c.mail("a@x.test")
                c.rcpt("u@example.org")
                replies.append((tag, c.data(text.encode())))
        return replies

    def log_of(self, server, base):
        workers = server.workers()
        self.assertEqual(len(workers), 1, workers)
        return "%s.%d" % (base, workers[0])

    def test_each_message_is_in_the_log_after_its_250(self):
        base = os.path.join(make_tempdir(), "log")
        messages = [("msg%d" % i, body("msg%d" % i, 3000)) for i in range(5)]
        with Ehlod(plugins=plugins(base)) as server:
            replies = self.send(server, messages)
            for tag, (code, text) in replies:
                self.assertEqual(code, 250, (tag, text))
                self.assertIn(b"on disk", text)
            path = self.log_of(server, base)
            self.assertEqual(os.path.getsize(path), 1024 * 1024)
            with open(path, "rb") as f:
                log = f.read()
            for tag, text in messages:
                self.assertIn(text.encode(), log, tag)
        self.assertFalse(os.path.exists(path), "log left behind")

    def test_the_ring_wraps_and_keeps_accepting(self):
        base = os.path.join(make_tempdir(), "log")
        # Six messages of 300 KiB in a 1 MiB ring: the fourth starts it
        # over, the fifth overwrites the second.
        messages = [("big%d" % i, body("big%d" % i, 300 * 1024))
                    for i in range(6)]
        with Ehlod(plugins=plugins(base)) as server:
            replies = self.send(server, messages)
            self.assertEqual([r[1][0] for r in replies], [250] * 6)
            with open(self.log_of(server, base), "rb") as f:
                log = f.read()
            self.assertEqual(len(log), 1024 * 1024)
            self.assertIn(messages[5][1].encode(), log)
            self.assertNotIn(messages[1][1].encode(), log)

    def test_a_log_that_cannot_be_made_answers_451(self):
        missing = os.path.join(make_tempdir(), "no", "such", "log")
        with Ehlod(plugins=plugins(missing)) as server:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=20) as c:
                c.ehlo("client.test")
                c.mail("a@x.test")
                c.rcpt("u@example.org")
                code, text = c.data(body("lost", 100).encode())
                self.assertEqual(code, 451, text)
                self.assertIn(b"4.3.0", text)
            self.assertIn("log write: No such file or directory",
                          server.log())

    def test_a_relative_file_is_refused_at_start(self):
        server = Ehlod(plugins=plugins("relative/log"), start=False)
        try:
            code, out = server.check()
            self.assertNotEqual(code, 0, out)
            self.assertRegex(out, r"ehlod\.conf:\d+: .*file.*"
                             r"must be an absolute path")
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
