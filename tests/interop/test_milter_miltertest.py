"""test_milter_miltertest - ehlod-milter's callbacks, driven by miltertest.

Each test starts ehlod-milter with a test plugin (milterprobe or delay),
runs a Lua script of Debian's miltertest against it (the MTA's side of the
milter protocol), and checks what the script saw (verdicts, header
changes, negotiated steps) and what the milter logged (the replies the
plugin gave, the rset and close hooks).
"""

import os
import socket
import struct
import subprocess
import threading
import time

from ehlodtest import (TIMER_SLACK, EhlodTestCase, main, plugin_dir,
                       wait_for_text)
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


class FakeDNSBL:
    """A DNS server on a free UDP port of 127.0.0.1 for the zone bl.test:
    the reversed address of each listed client has an A record 127.0.0.2,
    given after delay seconds; every other name is NXDOMAIN at once."""

    def __init__(self, listed, delay):
        self.listed = {".".join(reversed(ip.split("."))) + ".bl.test"
                       for ip in listed}
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @staticmethod
    def qname(packet):
        labels, i = [], 12
        while packet[i]:
            labels.append(packet[i + 1:i + 1 + packet[i]].decode())
            i += 1 + packet[i]
        return ".".join(labels).lower(), i + 5

    def answer(self, packet, peer):
        name, end = self.qname(packet)
        question = packet[12:end]
        if name in self.listed:
            time.sleep(self.delay)
            head = struct.pack(">HHHHHH", struct.unpack(">H", packet[:2])[0],
                               0x8180, 1, 1, 0, 0)
            rr = struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + \
                bytes([127, 0, 0, 2])
            reply = head + question + rr
        else:
            head = struct.pack(">HHHHHH", struct.unpack(">H", packet[:2])[0],
                               0x8183, 1, 0, 0, 0)
            reply = head + question
        self.sock.sendto(reply, peer)

    def serve(self):
        while self.running:
            try:
                packet, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.answer, args=(packet, peer),
                             daemon=True).start()

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


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
                "reject: RCPT from unknown[192.0.2.7]: 550 5.7.1 "
                "milterprobe: <bad@example.org> rejected; "
                "from=<sender@example.org> to=<bad@example.org>",
                "450 4.7.1 milterprobe: <later@example.org> deferred",
                "MAIL from unknown[192.0.2.7]: 550 5.7.1 milterprobe: "
                "sender <spammer@example.net> rejected",
                "HEADER from unknown[192.0.2.7]: 554 5.7.1 milterprobe: "
                "header X-Probe-Reject refused",
                "550 5.7.1 milterprobe: first line/milterprobe: second line",
                "UNKNOWN from unknown[192.0.2.7]: 502 5.5.1 milterprobe: "
                "unknown command",
                "CONNECT from unknown[192.0.2.66]: 554 5.7.1 milterprobe: "
                "client 192.0.2.66 refused",
                "HELO from unknown[192.0.2.8]: 550 5.7.1 milterprobe: HELO "
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
            self.assertGreaterEqual(elapsed, 2.0 - TIMER_SLACK)
            self.assertIn("pending verdict for <slow@example.org> after "
                          "2000 ms", m.log())

    def test_pending_rcpt_reject_arrives_after_timer(self):
        with Milter(probe(pend_ms=500)) as m:
            t0 = time.monotonic()
            self.run_script(m, "milter_pending.lua",
                            rcpt="slowbad@example.org", want="replycode",
                            extra="good@example.org")
            self.assertGreaterEqual(time.monotonic() - t0,
                                    0.5 - TIMER_SLACK)
            self.assertIn("550 5.7.1 milterprobe: <slowbad@example.org> "
                          "rejected", m.log())

    def test_hook_timeout_bounds_a_pending_hook(self):
        with Milter(probe(pend_ms=4000), milter_hook_timeout=1) as m:
            t0 = time.monotonic()
            self.run_script(m, "milter_pending.lua",
                            rcpt="slow@example.org", want="replycode",
                            extra="good@example.org")
            self.assertLess(time.monotonic() - t0, 3.5)
            log = wait_for_text(m.log, r"disconnect from .* rcpt=")
            self.assertIn("no verdict within milter_hook_timeout (1 s); "
                          "answered 451 4.4.3", log)
            self.assertIn("plugin milterprobe did not finish RCPT within "
                          "milter_hook_timeout", log)
            # The next recipient was taken (the disconnect line counts
            # the accepted ones; the refused one is not among them).
            self.assertRegex(log, r"disconnect from .* rcpt=1 ")
            self.assertTrue(m.running())

    def test_dnsbl_lookup_is_asynchronous_in_milter_mode(self):
        if not os.path.exists(os.path.join(plugin_dir(), "dnsbl.so")):
            self.skipTest("the dnsbl plugin is not built")
        dns = FakeDNSBL(["192.0.2.99"], delay=1.5)
        self.addCleanup(dns.stop)
        plugins = [("dnsbl", {"zones": ["bl.test"], "timeout_ms": 5000,
                              "nameservers": ["127.0.0.1:%d" % dns.port]})]
        with Milter(plugins) as m:
            start = time.monotonic()
            listed = subprocess.Popen(
                miltertest_cmd("milter_connect.lua", port=m.port,
                               ip="192.0.2.99", want="replycode"),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT)
            try:
                time.sleep(0.3)
                rc, out = miltertest("milter_connect.lua", port=m.port,
                                     ip="192.0.2.7", want="continue")
                self.assertEqual(rc, 0, out + m.log())
                self.assertIsNone(listed.poll(), "the slow lookup ended "
                                  "before the other connection's")
                out, _ = listed.communicate(timeout=20)
            finally:
                if listed.poll() is None:
                    listed.kill()
                    listed.wait()
            self.assertEqual(listed.returncode, 0, out.decode() + m.log())
            self.assertGreaterEqual(time.monotonic() - start,
                                    1.5 - TIMER_SLACK)
            self.assertIn("554 5.7.1", m.log())
            self.assertIn("bl.test", m.log())


if __name__ == "__main__":
    main()
