"""Outcome reports: every plugin hears how each transaction and the
session ended.

The ticker test plugin logs each report it gets (outcome as the enum's
number, the deciding instance, the reply code, the recipients).  Checked
against real sessions: a delivered message (by maildir, 250), a
transaction given up with RSET, a message refused at end of data by the
core (552: over message_size_limit), a session that says QUIT, a client
that hangs up inside a transaction (aborted; disconnect), and a session
that times out.
"""

import os
import re
import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, test_plugin_dir

TXN_DELIVERED, TXN_DISCARDED, TXN_REFUSED, TXN_TEMPFAILED, TXN_RESET, \
    TXN_ABORTED, SESSION_QUIT, SESSION_DISCONNECT, SESSION_TIMEOUT, \
    SESSION_CLOSED = range(1, 11)


def plugins():
    path = os.path.join(test_plugin_dir(), "ticker.so")
    return [("ticker", {"path": path, "interval_ms": 10000}),
            ("maildir", {})]


def reports(log):
    """The reports of the test's own session: the harness's probe (a
    connection closed before a command) is left out."""
    probes = set(re.findall(r"(\S+): lost connection after CONNECT", log))
    return [(k, o, rest) for sid, k, o, rest in re.findall(
        r"(\S+): plugin=ticker: report (txn|session) (\d+)(.*)", log)
        if sid not in probes]


def wait_for(server, timeout=10):
    """The log once the test's session has had its session report."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        if any(k == "session" for k, _o, _r in reports(log)):
            return log
        time.sleep(0.05)
    return server.log()


class ReportsTest(EhlodTestCase):

    def test_delivered_reset_refused_quit(self):
        with Ehlod(plugins=plugins(), message_size_limit=2000) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            self.assertCode(s.cmd("Subject: a\r\n\r\nbody\r\n."), 250)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            self.assertCode(s.cmd("Subject: big\r\n\r\n" +
                                  "x" * 70 + "\r\n" * 1 +
                                  ("y" * 70 + "\r\n") * 60 + "."), 552)
            self.assertCode(s.cmd("QUIT"), 221)
            log = wait_for(server)
        got = reports(log)
        self.assertEqual([(k, int(o)) for k, o, _ in got],
                         [("txn", TXN_DELIVERED), ("txn", TXN_RESET),
                          ("txn", TXN_REFUSED),
                          ("session", SESSION_QUIT)], log)
        self.assertIn("by=maildir me=0 code=250 rcpts=1", got[0][2])
        self.assertIn("code=552", got[2][2])
        self.assertIn("code=221", got[3][2])

    def test_hang_up_inside_transaction_aborted(self):
        with Ehlod(plugins=plugins()) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            log = wait_for(server)
        got = [(k, int(o)) for k, o, _ in reports(log)]
        self.assertEqual(got, [("txn", TXN_ABORTED),
                               ("session", SESSION_DISCONNECT)], log)

    def test_timeout(self):
        with Ehlod(plugins=plugins(), command_timeout=1) as server:
            with server.raw() as s:
                ehlo(s)
                log = wait_for(server, timeout=15)
        got = [(k, int(o)) for k, o, _ in reports(log)]
        self.assertEqual(got, [("session", SESSION_TIMEOUT)], log)


if __name__ == "__main__":
    main()
