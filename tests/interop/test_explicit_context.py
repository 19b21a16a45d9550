"""Explicit context: a plugin's own timer acts for the plugin that set it.

Two plugins on one session: "delay" pends on RCPT with a timer, and
"ticker" keeps a timer firing every 50 ms from the connection on.  While
delay is pending, ticker's ticks still reach ticker's own session data
(its count keeps rising, and X-Ticks at the end of data shows it), log
under ticker's name, and cannot hijack the pending step: their reply and
resume are refused by the host, so RCPT gets delay's own answer.  And
host->watch() reports a pipe with a byte readable and an empty one timed
out, and host->watch_persistent() reports a pipe each time a byte arrives
until its own callback cancels it.
"""

import os
import re
import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, test_plugin_dir

DELAY_MS = 600


def plugins(verdict):
    path = os.path.join(test_plugin_dir(), "ticker.so")
    return [("enhancedstatuscodes", {}),
            ("ticker", {"path": path, "interval_ms": 50}),
            ("delay", {"rcpt_delay_ms": DELAY_MS, "rcpt_verdict": verdict}),
            ("maildir", {})]


class ExplicitContextTest(EhlodTestCase):

    def test_pending_step_keeps_its_own_reply_550(self):
        with Ehlod(plugins=plugins("reject")) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("RCPT TO:<u@example.org>", timeout=15)
            self.assertCode(r, 550)
            self.assertIn("delay: rejected after", r.text)
            self.assertCode(s.cmd("QUIT"), 221)
            log = server.log()
        ticks = [int(n) for n in
                 re.findall(r"plugin=ticker: tick (\d+) of ticker", log)]
        # About DELAY_MS / 50 ticks fell inside the pending RCPT alone.
        self.assertGreaterEqual(len(ticks), 5, log)
        self.assertEqual(ticks, list(range(1, len(ticks) + 1)))
        self.assertIn("plugin=ticker: reply 550 ignored", log)
        self.assertIn("plugin ticker resumed a hook of plugin delay; "
                      "ignored", log)
        self.assertNotIn("ticker must not decide", log.split(
            "reply 550 ignored")[-1].split("\n")[0])

    def test_ticks_counted_in_own_session_data_250(self):
        with Ehlod(plugins=plugins("continue")) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>", timeout=15),
                            250)
            self.assertCode(s.cmd("DATA"), 354)
            r = s.cmd("Subject: t\r\n\r\nbody\r\n.", timeout=15)
            self.assertCode(r, 250)
            self.assertCode(s.cmd("QUIT"), 221)
            msgs = server.delivered()
        self.assertEqual(len(msgs), 1)
        m = re.search(rb"^X-Ticks: (\d+)$", msgs[0], re.M)
        self.assertIsNotNone(m, msgs[0])
        self.assertGreaterEqual(int(m.group(1)), DELAY_MS // 50 // 2)

    def test_fd_watch_readable_and_timeout(self):
        """host->watch: a pipe with a byte in it is reported readable, an
        empty one times out after its 100 ms."""
        path = os.path.join(test_plugin_dir(), "ticker.so")
        plugins = [("ticker", {"path": path, "interval_ms": 1000,
                               "watch": True}), ("maildir", {})]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            ehlo(s)
            deadline = time.monotonic() + 5
            while "watch empty: timeout" not in server.log() and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertCode(s.cmd("QUIT"), 221)
            log = server.log()
        self.assertIn("plugin=ticker: watch full: readable", log)
        self.assertIn("plugin=ticker: watch empty: timeout", log)
        self.assertNotIn("watch empty: readable", log)

    def test_persistent_watch_fires_until_cancelled(self):
        """host->watch_persistent (ABI 1.5): one watch reports a pipe each
        time a tick writes to it, and stops once its callback cancelled
        it, though the ticks go on writing."""
        path = os.path.join(test_plugin_dir(), "ticker.so")
        plugins = [("ticker", {"path": path, "interval_ms": 50,
                               "watch": True}), ("maildir", {})]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            ehlo(s)
            # Six more ticks write six more bytes after the cancel.
            server.log_when(r"tick 9 of ticker")
            self.assertCode(s.cmd("QUIT"), 221)
            log = server.log()
        fires = re.findall(r"plugin=ticker: steady (\d+)", log)
        self.assertEqual(fires, ["1", "2", "3"], log[-3000:])
        self.assertEqual(log.count("plugin=ticker: steady cancelled"), 1)
        self.assertIn("plugin=ticker: tick 9 of ticker", log)


if __name__ == "__main__":
    main()
