"""test_milter_postfix - ehlod plugins inside a real Postfix, through
ehlod-milter.

A private Postfix instance (tests/interop/postfixtest.py; smtpd on a free
loopback port with "smtpd_milters = inet:127.0.0.1:PORT") relays every
message it accepts to smtp-sink, which dumps them to a file.  swaks is
the client.  The milter runs the milterprobe test plugin.  Checked: a
plugin's rejection (one line and multi-line) reaches the client with its
code, enhanced code and text; a pending recipient verdict; an accepted
message arrives with the plugin's header changes and the MTA's queue id;
with the milter down, milter_default_action = tempfail gives 451.

Postfix must run as root (it switches to its mail_owner); when this test
is not root it is skipped (77), as when postfix, smtp-sink or swaks are
not installed.  Every process is stopped in the class cleanups.
"""

import re

from ehlodtest import EhlodTestCase, free_port, main
from milterharness import (MTA_PROBE, Milter, MtaMilterChecks, mta_swaks,
                          probe_header_parts, probe_plugin, relay_sink_for)
from postfixtest import Postfix, need_postfix


class PostfixMilterTest(MtaMilterChecks, EhlodTestCase):
    QUEUED_RE = r"<-  250 2\.0\.0 Ok: queued as (\w+)"
    timeout = 55

    @classmethod
    def setUpClass(cls):
        need_postfix()
        relay_sink_for(cls)
        cls.milter = Milter([probe_plugin(MTA_PROBE)])
        cls.addClassCleanup(cls.milter.cleanup)
        # Everything Postfix accepts goes to smtp-sink.
        cls.port = free_port()
        cls.postfix = Postfix(
            services=[Postfix.smtpd(cls.port)],
            main={"default_transport": "smtp",
                  "relayhost": "[127.0.0.1]:%d" % cls.sink.port,
                  "smtpd_milters": "inet:127.0.0.1:%d" % cls.milter.port,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6"})
        cls.addClassCleanup(cls.postfix.close)
        cls.postfix.wait_listening(cls.port)

    def diagnostics(self):
        return "\n---- milter log\n%s\n---- postfix log\n%s" % (
            self.milter.log(), self.postfix.log())

    def sent(self, *args):
        return mta_swaks(self.port, *args)

    def refusal(self, rcpt):
        return "milterprobe: <%s> rejected" % rcpt

    def delivered(self, marker):
        text = self.sink.transaction_with(marker)
        if text is None:
            self.fail("no message with %s reached smtp-sink%s" % (
                marker, self.diagnostics()))
        return text

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
