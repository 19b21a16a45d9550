"""Explicit context: a plugin's own timer acts for the plugin that set it.

Two plugins on one session: "delay" pends on RCPT with a timer, and
"ticker" keeps a timer firing every 50 ms from the connection on.  While
delay is pending, ticker's ticks still reach ticker's own session data
(its count keeps rising, and X-Ticks at the end of data shows it), log
under ticker's name, and cannot hijack the pending step: their reply and
resume are refused by the host, so RCPT gets delay's own answer.
"""

import os
import re

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


if __name__ == "__main__":
    main()
