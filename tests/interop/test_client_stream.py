#!/usr/bin/env python3
"""
NAME
    test_client_stream - ehlod_client_data_stream against aiosmtpd (DATA)
    and Postfix's smtpd (BDAT)

DESCRIPTION
    tests/unit/client_stream_send sends one generated message (lines of
    which every third starts with a dot) that the library pulls from a
    read callback as the connection drains.  With DATA (aiosmtpd) the
    message arrives byte-identical, dot-stuffing undone by the server, in
    the clear and under STARTTLS (where the TLS bufferevent drives the
    pulling); with BDAT (a private Postfix smtpd, CHUNKING on by default, relaying
    to smtp-sink) every line arrives.

    What the callback gives on its second pass, the one that sends, may
    go wrong: it fails halfway, it ends halfway (fewer octets than
    measured, and than BDAT announced), or it gives one line more.  Each
    time the client must drop the connection before the message ends, so
    that the server keeps nothing (aiosmtpd stores nothing; Postfix queues nothing and
    smtp-sink gets nothing), and report reason "local".

    When the first pass (the one that measures) fails, nothing of the
    message is sent and the step is deferred (4xx for a relay, not 5xx:
    a local read error may pass) with reason "local".  The driver also checks that the library never calls the
    read callback from inside ehlod_client_data_stream (it measures from
    the loop, 1 MiB a turn).
"""
import base64
import os
import re
import shutil
import subprocess
import tempfile
import time

from ehlodtest import EhlodTestCase, env_path, main
from postfixtest import Parts, Postfix, free_port
from test_client_support import Aiosmtpd, SmtpSink, self_signed

HEAD = b"Subject: stream\r\n\r\n"
LINE_LEN = 22


def message(kib):
    lines = kib * 1024 // LINE_LEN
    return HEAD + b"".join(b"%s%07d stream line\r\n" % (
        b"." if i % 3 == 0 else b"x", i) for i in range(lines))


def send(server, mode, kib, chunking=False, tls=False):
    prog = os.path.join(env_path("EHLOD_BUILDDIR"), "tests", "unit",
                        "client_stream_send")
    args = [prog, server, mode, str(kib)]
    args += (["chunking"] if chunking else []) + (["tls"] if tls else [])
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)


class DataStreamTest(EhlodTestCase):
    """DATA, dot-stuffed on the way, to aiosmtpd."""

    timeout = 180

    def test_message_arrives_byte_identical(self):
        with Aiosmtpd(size=20000000) as hop:
            r = send(hop.server, "ok", 4096)
            got = hop.received()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, rb"^end of data delivered none 250 ")
        self.assertEqual(len(got), 1)
        content = base64.b64decode(got[0]["content"])
        self.assertEqual(content, message(4096))

    def test_under_starttls_byte_identical(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        tmp = tempfile.mkdtemp(prefix="ehlod-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = self_signed(tmp)
        with Aiosmtpd(cert=cert, key=key, size=20000000) as hop:
            r = send(hop.server, "ok", 4096, tls=True)
            bad = send(hop.server, "fail", 2048, tls=True)
            got = hop.received()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertRegex(bad.stdout, rb"^end of data deferred local 0 ")
        self.assertEqual(len(got), 1, "a message cut short was kept")
        self.assertTrue(got[0]["tls"])
        self.assertEqual(base64.b64decode(got[0]["content"]), message(4096))

    def assert_dropped(self, mode):
        with Aiosmtpd(size=20000000) as hop:
            r = send(hop.server, mode, 2048)
            time.sleep(0.5)
            got = hop.received()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, rb"^end of data deferred local 0 ")
        self.assertEqual(got, [], "the server kept a message cut short")
        return r.stdout

    def test_read_error_while_measuring_sends_nothing(self):
        with Aiosmtpd(size=20000000) as hop:
            r = send(hop.server, "measurefail", 4096)
            time.sleep(0.5)
            got = hop.received()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, rb"^DATA deferred local 0 cannot read "
                         rb"the message to send")
        self.assertEqual(got, [], "a message was stored")

    def test_read_error_drops_connection(self):
        self.assertIn(b"cannot read the message", self.assert_dropped("fail"))

    def test_shrunk_message_drops_connection(self):
        self.assertIn(b"shrank", self.assert_dropped("shrink"))

    def test_grown_message_drops_connection(self):
        self.assertIn(b"grew", self.assert_dropped("grow"))


class BdatStreamTest(EhlodTestCase):
    """BDAT to a private Postfix smtpd, which relays to smtp-sink."""

    timeout = 240

    def setUp(self):
        super().setUp()
        self.parts = Parts()
        self.addCleanup(self.parts.close)
        self.sink = self.parts._add(SmtpSink())
        self.port = free_port()
        self.postfix = self.parts._add(Postfix(
            services=[Postfix.smtpd(self.port)],
            main={"relay_domains": "example.org",
                  "default_transport": "smtp",
                  "message_size_limit": "20000000",
                  "relayhost": "[127.0.0.1]:%d" % self.sink.port}))
        self.postfix.wait_listening(self.port)

    def server(self):
        return "127.0.0.1:%d" % self.port

    def test_every_line_arrives(self):
        kib = 1024
        r = send(self.server(), "ok", kib, chunking=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, rb"^BDAT delivered none 250 ")
        dump = self.sink.dumped(timeout=30)
        want = message(kib)[len(HEAD):].decode().split("\r\n")[:-1]
        lines = [l for l in dump.splitlines()
                 if re.search(r"\d{7} stream line$", l)]
        # smtp-sink dumps what Postfix sent it, dot-stuffed or not:
        # compare without the stuffing.
        lines = [l[1:] if l.startswith("..") else l for l in lines]
        self.assertEqual(lines, want)

    def assert_nothing_queued(self, mode, why):
        r = send(self.server(), mode, 1024, chunking=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, rb"^BDAT deferred local 0 ")
        self.assertIn(why, r.stdout)
        time.sleep(1.0)
        self.assertNotIn("X-Client-Addr:", self.sink.dumped(timeout=1.0),
                         "Postfix passed on a message cut short")
        with open(self.postfix.maillog, errors="replace") as f:
            log = f.read()
        self.assertNotIn("queued as", log)
        self.assertRegex(log, r"lost connection after BDAT")

    def test_read_error_queues_nothing(self):
        self.assert_nothing_queued("fail", b"cannot read the message")

    def test_shrunk_message_queues_nothing(self):
        self.assert_nothing_queued("shrink", b"shrank")

    def test_grown_message_queues_nothing(self):
        self.assert_nothing_queued("grow", b"grew")


if __name__ == "__main__":
    main()
