"""test_milter_postfix - ehlod plugins inside a real Postfix, through
ehlod-milter.

A private Postfix instance (tests/interop/postfixtest.py; smtpd on a free
loopback port with "smtpd_milters = inet:127.0.0.1:PORT") relays every
message it accepts to smtp-sink, which dumps each one to a file.  swaks is
the client.  The milter runs the milterprobe test plugin.  Checked: a
plugin's rejection (one line and multi-line) reaches the client with its
code, enhanced code and text; a pending recipient verdict; an accepted
message arrives with the plugin's header changes and the MTA's queue id;
with the milter down, milter_default_action = tempfail gives 451.

Postfix must run as root (it switches to its mail_owner); when this test
is not root it is skipped (77), as when postfix, smtp-sink or swaks are
not installed.  Every process is stopped in the class cleanups.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

from ehlodtest import EhlodTestCase, free_port, main, make_tempdir
from milterharness import (MTA_PROBE, Milter, MtaMilterChecks, mta_swaks,
                          need_program, probe_header_parts, probe_plugin)
from postfixtest import Postfix, need_postfix, wait_port

SINK_TIMEOUT = 15



class PostfixMilterTest(MtaMilterChecks, EhlodTestCase):
    QUEUED_RE = r"<-  250 2\.0\.0 Ok: queued as (\w+)"
    timeout = 55

    @classmethod
    def setUpClass(cls):
        need_program("swaks", "swaks")
        need_program("smtp-sink", "postfix")
        need_postfix()
        cls.sink_dir = make_tempdir("ehlod-sink-")   # smtp-sink is nobody
        cls.addClassCleanup(shutil.rmtree, cls.sink_dir, True)
        cls.sink_port = free_port()
        cls.sink = subprocess.Popen(
            ["smtp-sink", "-u", "nobody", "-h", "sink.test", "-d",
             os.path.join(cls.sink_dir, "%Y%m%d%H%M%S."),
             "127.0.0.1:%d" % cls.sink_port, "10"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        cls.addClassCleanup(cls.stop_sink)
        cls.milter = Milter([probe_plugin(MTA_PROBE)])
        cls.addClassCleanup(cls.milter.cleanup)
        # Everything Postfix accepts goes to smtp-sink.
        cls.port = free_port()
        cls.postfix = Postfix(
            services=[Postfix.smtpd(cls.port)],
            main={"default_transport": "smtp",
                  "relayhost": "[127.0.0.1]:%d" % cls.sink_port,
                  "smtpd_milters": "inet:127.0.0.1:%d" % cls.milter.port,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6"})
        cls.addClassCleanup(cls.postfix.close)
        cls.postfix.wait_listening(cls.port)
        if not wait_port(cls.sink_port, SINK_TIMEOUT):
            raise RuntimeError("smtp-sink did not listen")

    @classmethod
    def stop_sink(cls):
        if cls.sink.poll() is None:
            cls.sink.terminate()
            try:
                cls.sink.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(cls.sink.pid, signal.SIGKILL)
                cls.sink.wait()

    def diagnostics(self):
        return "\n---- milter log\n%s\n---- postfix log\n%s" % (
            self.milter.log(), self.postfix.log())

    def sent(self, *args):
        return mta_swaks(self.port, *args)

    def refusal(self, rcpt):
        return "milterprobe: <%s> rejected" % rcpt

    def delivered(self, marker, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in glob.glob(os.path.join(self.sink_dir, "*")):
                with open(path, errors="replace") as f:
                    text = f.read()
                if marker in text:
                    return text
            time.sleep(0.2)
        self.fail("no message with %s reached smtp-sink%s" % (
            marker, self.diagnostics()))

    def test_d_accepted_message_arrives_with_plugin_header(self):
        queue_id = self.send_accepted("X-Test-Marker: accepted-d")
        text = self.delivered("X-Test-Marker: accepted-d")
        head = text.split("\n\n", 1)[0]
        probe = re.search(r"^X-Ehlod-Probe: (.*)$", head, re.M)
        self.assertIsNotNone(probe, text)
        for part in probe_header_parts(queue_id):
            self.assertIn(part, probe.group(1))
        self.assertIn("\nSubject: [probe] delivery check\n", head)
        self.assertIn("X-Probe-First: yes", head)
        self.assertNotIn("X-Probe-Delete", head)

    def test_z_milter_down_gives_default_action_tempfail(self):
        self.milter.stop()
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org")
        self.assertRegex(out, r"<\*\* 451 4\.7\.1 ", out)
        self.assertIn("connect to Milter service inet:127.0.0.1:%d" %
                      self.milter.port, self.postfix.log())


if __name__ == "__main__":
    main()
