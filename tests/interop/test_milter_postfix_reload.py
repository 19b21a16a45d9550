"""test_milter_postfix_reload - ehlod-milter reloads under a busy Postfix
without a gap.

A private Postfix (tests/interop/postfixtest.py) runs every message
through ehlod-milter ("smtpd_milters", milter_default_action = tempfail,
so any moment without a milter would refuse mail with 451) and discards
what it accepts.  Postfix's smtp-source sends 1000 messages over 4
parallel sessions while the test sends SIGHUP to the milter's master five
times, each reload starting a new generation and draining the old one.
Asserted: every message was accepted (Postfix queued 1000, smtp-source
saw no error), Postfix logged no milter trouble, the milter logged five
reloads and its old generations drained.

Postfix must run as root; when this test is not root it is skipped (77),
as when postfix or miltertest's milterprobe are not there.
"""

import re
import signal
import subprocess
import time

from ehlodtest import EhlodTestCase, free_port, main
from milterharness import Milter, need_program, probe_plugin
from postfixtest import Postfix, need_postfix

MESSAGES = 1000
RELOADS = 5


class MilterReloadUnderPostfix(EhlodTestCase):
    timeout = 150

    def test_reloads_under_load_lose_nothing(self):
        need_program("smtp-source", "postfix")
        need_postfix()
        milter = Milter([probe_plugin({"reject_rcpt": ["bad@example.org"]})])
        self.addCleanup(milter.cleanup)
        port = free_port()
        postfix = Postfix(
            services=[Postfix.smtpd(port)],
            main={"smtpd_milters": "inet:127.0.0.1:%d" % milter.port,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6"})
        self.addCleanup(postfix.close)
        postfix.wait_listening(port)

        def reload_now_and_then():
            for _ in range(RELOADS):
                time.sleep(0.4)
                milter.proc.send_signal(signal.SIGHUP)

        src = subprocess.Popen(
            ["smtp-source", "-s", "4", "-m", str(MESSAGES), "-l", "2048",
             "-f", "s@client.test", "-t", "u@example.org",
             "127.0.0.1:%d" % port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self.addCleanup(lambda: src.poll() is None and src.kill())
        reload_now_and_then()
        # Every reload happened while mail was flowing.
        self.assertIsNone(src.poll(), "smtp-source ended before the "
                          "reloads did; raise MESSAGES")
        out = src.communicate(timeout=120)[0].decode(errors="replace")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and \
                milter.log().count("reloaded:") < RELOADS:
            time.sleep(0.1)
        plog = postfix.log()
        mlog = milter.log()
        diag = "%s\n---- milter\n%s\n---- postfix\n%s" % (
            out, mlog[-4000:], plog[-4000:])
        self.assertEqual(src.returncode, 0, diag)
        self.assertNotRegex(out, r"(?i)error|4\d\d ", diag)
        queued = len(re.findall(r"postfix/qmgr\[\d+\]: \w+: from=<", plog))
        self.assertEqual(queued, MESSAGES, diag)
        self.assertNotRegex(plog, r"milter.*(?:default_action|"
                            r"can't read|timeout|error)", diag)
        self.assertEqual(mlog.count("reloaded:"), RELOADS, diag)
        self.assertGreaterEqual(mlog.count("drained"), 1, diag)


if __name__ == "__main__":
    main()
