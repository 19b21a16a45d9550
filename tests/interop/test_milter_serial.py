"""test_milter_serial - ehlod-milter never runs two plugin calls at once.

A private Postfix (tests/interop/postfixtest.py, the discard transport)
with smtpd_milters pointing at ehlod-milter running the serial test
plugin (tests/plugins/serial.c): each of its hooks and host-timer
callbacks sleeps a little while marked busy, and once any call landed in
another the plugin rejects every message at end of data.  smtp-source
sends 60 messages over 10 parallel connections, so libmilter's callback
threads and the event loop's timer callbacks all compete.  Checked: every
message passed the milter (60 "status=passed", no rejection), which holds
only when the plugin lock serialises them all.

Postfix must run as root; without root or the postfix package the test is
skipped (77).
"""

import os
import subprocess

from ehlodtest import EhlodTestCase, free_port, main, test_plugin_dir
from milterharness import Milter, need_program
from postfixtest import Postfix, need_postfix

MESSAGES = 60
SESSIONS = 10
SOURCE_TIMEOUT = 120


class MilterSerialTest(EhlodTestCase):
    timeout = 170

    @classmethod
    def setUpClass(cls):
        cls.source = need_program("smtp-source", "postfix")
        need_postfix()
        serial = ("serial", {"path": os.path.join(test_plugin_dir(),
                                                  "serial.so")})
        cls.milter = Milter([serial])
        cls.addClassCleanup(cls.milter.cleanup)
        cls.port = free_port()
        cls.postfix = Postfix(
            services=[Postfix.smtpd(cls.port)],
            main={"smtpd_milters": "inet:127.0.0.1:%d" % cls.milter.port,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6", "in_flow_delay": "0"})
        cls.addClassCleanup(cls.postfix.close)
        cls.postfix.wait_listening(cls.port)

    def test_parallel_connections_never_overlap_in_plugins(self):
        p = subprocess.run(
            [self.source, "-s", str(SESSIONS), "-m", str(MESSAGES),
             "-l", "2000", "-M", "serial.test", "-f", "a@x.test",
             "-t", "u@example.org", "127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=SOURCE_TIMEOUT)
        out = p.stdout.decode(errors="replace")
        log = self.milter.log()
        diag = "\n---- smtp-source\n%s\n---- milter log\n%s" % (out, log)
        self.assertNotIn("overlapping", log, diag)
        self.assertEqual(log.count("status=passed"), MESSAGES, diag)
        self.assertEqual(p.returncode, 0, diag)


if __name__ == "__main__":
    main()
