"""The 60-line example examples/hello/tour.c, built out of tree.

Built by the example's own Makefile with nothing but pkg-config (as in
test_example_plugin.py), under -std=c11 -Wall -Wextra with no warning.
In ehlod: EHLO offers "XTOUR V1"; MAIL's XTAG=xtext comes out decoded as
the X-Tag header of the delivered message; each RCPT waits wait_ms; and
XCOUNT counts only what was delivered in the session -- a transaction
given up with RSET does not count (outcome reports).
In ehlod-milter under a private Postfix (the hook part): the RCPT timer
holds the recipient, the message reaches smtp-sink, and the report hook
counts it as delivered.
"""

import os
import subprocess
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo,
                       free_port)
from test_example_plugin import build_example

WAIT_MS = 300


def tour_so():
    hello, _out = build_example()
    return os.path.join(os.path.dirname(hello), "tour.so")


class TourInEhlod(EhlodTestCase):

    def test_build_60_lines_no_warnings(self):
        _so, out = build_example()
        self.assertNotIn("warning", out)
        src = os.path.join(os.environ["EHLOD_SRCDIR"], "examples", "hello",
                           "tour.c")
        with open(src) as f:
            self.assertLessEqual(len(f.read().splitlines()), 60)

    def test_everything_in_one_session(self):
        plugins = [("enhancedstatuscodes", {}),
                   ("tour", {"path": tour_so(), "wait_ms": WAIT_MS}),
                   ("maildir", {})]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            r = ehlo(s)
            self.assertIn("XTOUR V1", r.lines)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XTAG=a+2Bb+3Dc"),
                            250)
            start = time.monotonic()
            self.assertCode(s.cmd("RCPT TO:<u@example.org>", timeout=10),
                            250)
            self.assertGreaterEqual(time.monotonic() - start,
                                    WAIT_MS / 1000 - 0.05)
            self.assertCode(s.cmd("DATA"), 354)
            self.assertCode(s.cmd("Subject: t\r\n\r\nbody\r\n."), 250)
            self.assertIn("1 delivered", s.cmd("XCOUNT").text)
            # Given up: no count.
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>", timeout=10),
                            250)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertIn("1 delivered", s.cmd("XCOUNT").text)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XTAG=bad+zz"), 501)
            self.assertCode(s.cmd("QUIT"), 221)
            msgs = server.delivered()
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"X-Tag: a+b=c", msgs[0])


class TourInMilter(EhlodTestCase):
    """The hook part through ehlod-milter in a private Postfix."""
    timeout = 55

    def test_rcpt_timer_and_report_under_postfix(self):
        from milterharness import Milter, need_program
        from postfixtest import Postfix, need_postfix
        from test_client_support import SmtpSink
        need_program("swaks", "swaks")
        need_program("smtp-sink", "postfix")
        need_postfix()
        sink = SmtpSink()
        self.addCleanup(sink.close)
        milter = Milter([("tour", {"path": tour_so(), "wait_ms": WAIT_MS})])
        self.addCleanup(milter.cleanup)
        port = free_port()
        postfix = Postfix(
            services=[Postfix.smtpd(port)],
            main={"default_transport": "smtp",
                  "relayhost": "[127.0.0.1]:%d" % sink.port,
                  "smtpd_milters": "inet:127.0.0.1:%d" % milter.port,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6"})
        self.addCleanup(postfix.close)
        postfix.wait_listening(port)
        start = time.monotonic()
        p = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % port, "--timeout", "20",
             "--helo", "client.example.com", "--from", "s@example.com",
             "--to", "u@example.org", "--header", "Subject: tour"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=40)
        waited = time.monotonic() - start
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out)
        self.assertGreaterEqual(waited, WAIT_MS / 1000 - 0.05)
        self.assertIsNotNone(sink.transaction_with("Subject: tour"), out)
        deadline = time.monotonic() + 10
        while "plugin=tour: delivered 1" not in milter.log() and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertIn("plugin=tour: delivered 1", milter.log())


if __name__ == "__main__":
    main()
