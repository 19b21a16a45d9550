"""test_milter_hup - SIGHUP no longer stops ehlod-milter.

libmilter's own signal thread stops a milter on SIGHUP as on SIGTERM,
after which the MTA applies milter_default_action to every message.
ehlod-milter waits for SIGHUP itself (milter/milter_main.c): it logs that it
cannot reload and goes on serving with the configuration it started
with.  Checked with miltertest and the milterprobe plugin: the probe
rejects a client address; the file is changed to reject another one and
SIGHUP sent twice; the process is the same one, still answers a new
connection, and still rejects the first address (the running
configuration stays in force), and its log says so.
"""

import os
import signal
import time

from ehlodtest import EhlodTestCase, main
from milterharness import Milter, miltertest, probe_plugin

WARNING = "cannot reload"


class MilterHupTest(EhlodTestCase):
    timeout = 90

    def connect_verdict(self, m, ip, want):
        rc, out = miltertest("milter_connect.lua", port=m.port, ip=ip,
                             want=want)
        self.assertEqual(rc, 0, out + "\n---- milter log\n" + m.log())

    def test_sighup_keeps_the_milter_serving(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            pid = m.proc.pid
            self.connect_verdict(m, "192.0.2.9", "replycode")
            with open(m.conf) as f:
                text = f.read()
            with open(m.conf, "w") as f:
                f.write(text.replace("192.0.2.9", "192.0.2.8"))
            for n in (1, 2):
                m.proc.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 10
                while (m.log().count(WARNING) < n and
                       time.monotonic() < deadline):
                    time.sleep(0.05)
                self.assertEqual(m.log().count(WARNING), n, m.log())
            self.assertTrue(m.running(), m.log())
            self.assertEqual(m.proc.pid, pid)
            self.connect_verdict(m, "192.0.2.9", "replycode")
            self.connect_verdict(m, "192.0.2.10", "continue")
            self.assertTrue(m.running(), m.log())
            self.assertNotIn("stopped", m.log())


if __name__ == "__main__":
    main()
