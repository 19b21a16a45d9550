"""test_milter_miltertest - ehlod-milter's callbacks, driven by miltertest.

Each test starts ehlod-milter with a test plugin (milterprobe or delay),
runs a Lua script of Debian's miltertest against it (the MTA's side of the
milter protocol), and checks what the script saw (verdicts, header
changes, negotiated steps) and what the milter logged (the replies the
plugin gave, the rset and close hooks).
"""

import subprocess
import time
import unittest

from ehlodtest import EhlodTestCase, main
from milterharness import (Milter, delay_plugin, miltertest, miltertest_cmd,
                           need_program, probe_plugin)

PROBE = {
    "reject_client": ["192.0.2.66"],
    "reject_helo": ["bad.helo.example"],
    "reject_from": ["spammer@example.net"],
    "reject_rcpt": ["bad@example.org", "slowbad@example.org"],
    "tempfail_rcpt": ["later@example.org"],
    "discard_rcpt": ["drop@example.org"],
    "pend_rcpt": ["slow@example.org", "slowbad@example.org"],
}


def probe(**extra):
    opts = dict(PROBE)
    opts.update(extra)
    return [probe_plugin(opts)]


class MiltertestCase(EhlodTestCase):
    timeout = 50

    def setUp(self):
        super().setUp()
        need_program("miltertest", "miltertest")

    def run_script(self, milter, script, **defines):
        rc, out = miltertest(script, port=milter.port, **defines)
        self.assertEqual(rc, 0, "miltertest %s failed:\n%s\n---- log\n%s" %
                         (script, out, milter.log()))
        return out

    def test_every_callback_verdict_and_header_change(self):
        with Milter(probe()) as m:
            out = self.run_script(m, "milter_steps.lua")
            self.assertIn("all steps checked", out)
            time.sleep(0.3)     # the close job runs after the reply
            log = m.log()
        # The replies the plugin set, as the milter handed them over.
        for line in (
                "RCPT to=<bad@example.org> from [192.0.2.7]:40000: 550 "
                "5.7.1 milterprobe: <bad@example.org> rejected",
                "450 4.7.1 milterprobe: <later@example.org> deferred",
                "MAIL from [192.0.2.7]:40000: 550 5.7.1 milterprobe: "
                "sender <spammer@example.net> rejected",
                "HEADER from [192.0.2.7]:40000: 554 5.7.1 milterprobe: "
                "header X-Probe-Reject refused",
                "550 5.7.1 milterprobe: first line/milterprobe: second line",
                "UNKNOWN from [192.0.2.7]:40000: 502 5.5.1 milterprobe: "
                "unknown command",
                "CONNECT from [192.0.2.66]:40000: 554 5.7.1 milterprobe: "
                "client 192.0.2.66 refused",
                "HELO from [192.0.2.8]:40000: 550 5.7.1 milterprobe: HELO "
                "bad.helo.example refused",
                "discard: RCPT to=<drop@example.org> plugin=milterprobe",
                "4QUEUEID: from=<sender@example.org>, rcpts=1, size=13, "
                "status=passed",
                "plugin=milterprobe: rset hook ran",
                "plugin=milterprobe: close hook ran"):
            self.assertIn(line, log)
        self.assertEqual(log.count("close hook ran"), 3, log)

    def test_negotiation_asks_only_for_needed_steps(self):
        plugins = [delay_plugin({"rcpt_delay_ms": 200,
                                 "rcpt_verdict": "reject"})]
        with Milter(plugins) as m:
            self.run_script(m, "milter_negotiate.lua")
            self.assertIn("550 5.7.1 delay: rejected after 200 ms",
                          m.log())

    def test_pending_rcpt_does_not_stall_other_connections(self):
        with Milter(probe(pend_ms=2000)) as m:
            start = time.monotonic()
            slow = subprocess.Popen(
                miltertest_cmd("milter_pending.lua", port=m.port,
                               rcpt="slow@example.org", want="continue"),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT)
            try:
                time.sleep(0.4)
                t0 = time.monotonic()
                rc, out = miltertest("milter_pending.lua", port=m.port,
                                     rcpt="quick@example.org",
                                     want="continue")
                quick = time.monotonic() - t0
                self.assertEqual(rc, 0, out)
                self.assertLess(quick, 1.2, "a pending hook stalled "
                                "another connection")
                self.assertIsNone(slow.poll(), "the pending RCPT finished "
                                  "before the other connection")
                out, _ = slow.communicate(timeout=20)
            finally:
                if slow.poll() is None:
                    slow.kill()
                    slow.wait()
            elapsed = time.monotonic() - start
            self.assertEqual(slow.returncode, 0, out.decode())
            self.assertGreaterEqual(elapsed, 2.0)
            self.assertIn("pending verdict for <slow@example.org> after "
                          "2000 ms", m.log())

    def test_pending_rcpt_reject_arrives_after_timer(self):
        with Milter(probe(pend_ms=500)) as m:
            t0 = time.monotonic()
            self.run_script(m, "milter_pending.lua",
                            rcpt="slowbad@example.org", want="replycode",
                            extra="good@example.org")
            self.assertGreaterEqual(time.monotonic() - t0, 0.5)
            self.assertIn("550 5.7.1 milterprobe: <slowbad@example.org> "
                          "rejected", m.log())

    def test_hook_timeout_bounds_a_pending_hook(self):
        with Milter(probe(pend_ms=4000), milter_hook_timeout=1) as m:
            t0 = time.monotonic()
            self.run_script(m, "milter_pending.lua",
                            rcpt="slow@example.org", want="replycode",
                            extra="good@example.org")
            self.assertLess(time.monotonic() - t0, 3.5)
            log = m.log()
            self.assertIn("no verdict within milter_hook_timeout (1 s); "
                          "answered 451 4.4.3", log)
            self.assertIn("plugin milterprobe did not finish RCPT within "
                          "milter_hook_timeout", log)
            self.assertIn("to=<good@example.org>", log)
            self.assertTrue(m.running())


if __name__ == "__main__":
    main()
