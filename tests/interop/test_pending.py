"""Pending hooks and resume, with the test-only "delay" plugin.

With workers = 1 and rcpt_delay_ms = 1500, a RCPT is answered only after
the timer fired, while a second client on another connection is served
completely in the meantime (nothing blocks the worker).  The verdict given
at resume decides the reply (250, 550 for reject, 4xx for tempfail);
pipelined commands after a pending one wait their turn; a client that
goes away while its hook is pending does not disturb the server;
connect_delay_ms delays the greeting without serialising connections.
"""

import threading
import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, RawSession

DELAY = 1.5
SLACK = 0.1


def delay_plugins(**options):
    opts = {"rcpt_delay_ms": int(DELAY * 1000)}
    opts.update(options)
    return [("pipelining", {}), ("enhancedstatuscodes", {}),
            ("delay", opts), ("maildir", {})]


class TimedReply(threading.Thread):
    """Reads one reply in the background and notes when it arrived."""

    def __init__(self, session):
        super().__init__(daemon=True)
        self.session = session
        self.reply = None
        self.error = None
        self.at = None

    def run(self):
        try:
            self.reply = self.session.reply(timeout=15)
            self.at = time.monotonic()
        except Exception as e:  # reported by the test
            self.error = e


class PendingTest(EhlodTestCase):

    def test_rcpt_answered_after_delay_250(self):
        with Ehlod(plugins=delay_plugins()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            start = time.monotonic()
            r = s.cmd("RCPT TO:<u@example.org>", timeout=15)
            waited = time.monotonic() - start
            self.assertCode(r, 250)
            self.assertGreaterEqual(waited, DELAY - SLACK)
            self.assertLess(waited, DELAY + 5)

    def test_other_session_served_while_pending_250(self):
        with Ehlod(plugins=delay_plugins(), workers=1) as server:
            with server.raw() as first:
                ehlo(first)
                self.assertCode(first.cmd("MAIL FROM:<s@x.test>"), 250)
                start = time.monotonic()
                first.send("RCPT TO:<u@example.org>\r\n")
                waiter = TimedReply(first)
                waiter.start()
                time.sleep(0.1)
                with RawSession(server.port) as second:
                    self.assertCode(second.greeting, 220)
                    self.assertCode(second.cmd("EHLO other.test"), 250)
                    self.assertCode(second.cmd("NOOP"), 250)
                    self.assertCode(second.cmd("QUIT"), 221)
                    second_done = time.monotonic()
                waiter.join(15)
                self.assertIsNone(waiter.error)
                self.assertIsNotNone(waiter.reply, "RCPT never answered")
                self.assertCode(waiter.reply, 250)
                self.assertLess(second_done - start, DELAY - SLACK,
                                "second client waited for the pending hook")
                self.assertLess(second_done, waiter.at)
                self.assertGreaterEqual(waiter.at - start, DELAY - SLACK)

    def test_reject_after_delay_550(self):
        plugins = delay_plugins(rcpt_verdict="reject")
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            start = time.monotonic()
            r = s.cmd("RCPT TO:<u@example.org>", timeout=15)
            self.assertGreaterEqual(time.monotonic() - start, DELAY - SLACK)
            self.assertCode(r, 550)
            self.assertEqual(r.enhanced[0], "5", r)
            # rejected recipient: no transaction with recipients
            r = s.cmd("DATA")
            self.assertIn(r.code, (503, 554), r)

    def test_tempfail_after_delay_4xx(self):
        plugins = delay_plugins(rcpt_verdict="tempfail")
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            start = time.monotonic()
            r = s.cmd("RCPT TO:<u@example.org>", timeout=15)
            self.assertGreaterEqual(time.monotonic() - start, DELAY - SLACK)
            self.assertEqual(r.code // 100, 4, r)
            self.assertNotEqual(r.code, 421, "a tempfail does not close")
            self.assertCode(s.cmd("NOOP"), 250)

    def test_pipelined_commands_wait_for_pending_in_order(self):
        with Ehlod(plugins=delay_plugins(rcpt_delay_ms=700)) as server:
            with server.raw() as s:
                ehlo(s)
                start = time.monotonic()
                s.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<u@example.org>\r\n"
                       "RCPT TO:<v@example.org>\r\nNOOP\r\nDATA\r\n")
                codes = s.codes(5, timeout=15)
                elapsed = time.monotonic() - start
                self.assertEqual(codes, [250, 250, 250, 250, 354])
                self.assertGreaterEqual(elapsed, 1.4 - SLACK,
                                        "two RCPTs, 0.7 s each, one by one")
                s.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
                self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def test_client_gone_while_pending_server_fine_250(self):
        with Ehlod(plugins=delay_plugins(rcpt_delay_ms=500)) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                s.send("RCPT TO:<u@example.org>\r\n")
            time.sleep(1.0)  # the timer fires for a closed session
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
                self.assertCode(s.cmd("QUIT"), 221)
            self.assertTrue(server.running())

    def test_quit_while_pending_221(self):
        with Ehlod(plugins=delay_plugins(rcpt_delay_ms=500)) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                s.send("RCPT TO:<u@example.org>\r\nQUIT\r\n")
                self.assertEqual(s.codes(2, timeout=10), [250, 221])
            self.assertTrue(server.running())

    def test_connect_delay_greetings_concurrent_220(self):
        plugins = [("delay", {"connect_delay_ms": 1000}), ("maildir", {})]
        with Ehlod(plugins=plugins, workers=1) as server:
            start = time.monotonic()
            sessions = [RawSession(server.port, read_greeting=False)
                        for _ in range(3)]
            try:
                waiters = [TimedReply(s) for s in sessions]
                for w in waiters:
                    w.start()
                for w in waiters:
                    w.join(15)
                for w in waiters:
                    self.assertIsNone(w.error)
                    self.assertCode(w.reply, 220)
                    self.assertGreaterEqual(w.at - start, 1.0 - SLACK)
                last = max(w.at for w in waiters) - start
                self.assertLess(last, 2.0,
                                "greetings were delayed one after another")
            finally:
                for s in sessions:
                    s.close()


if __name__ == "__main__":
    main()
