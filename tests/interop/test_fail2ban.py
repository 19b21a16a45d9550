"""The shipped fail2ban filter (etc/fail2ban/filter.d/ehlod.conf) against
the log of real sessions, read by Debian's fail2ban-regex: AUTH failures
(swaks with a wrong password) and relay denials match, with the client's
address; accepted mail, accepted recipients and other lines do not.  Both
shapes of the log: ehlod's own standard error (RFC 3339 time stamps) and
the same lines as syslog writes them.
"""

import os
import re
import subprocess
import tempfile

import test_auth
from ehlodtest import Ehlod, EhlodTestCase, env_path, main

FAIL2BAN_REGEX = "/usr/bin/fail2ban-regex"


def filter_path():
    return os.path.join(env_path("EHLOD_SRCDIR"), "etc", "fail2ban",
                        "filter.d", "ehlod.conf")


def run_filter(log_text):
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.write(log_text)
        f.flush()
        out = subprocess.run([FAIL2BAN_REGEX, "--print-all-matched",
                              f.name, filter_path()],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=60).stdout.decode()
    m = re.search(r"^Lines: \d+ lines, \d+ ignored, (\d+) matched", out,
                  re.M)
    if m is None:
        raise AssertionError("fail2ban-regex said:\n" + out)
    matched = [l for l in out.splitlines() if l.startswith("|  ") and
               "ehlod[" in l]
    return int(m.group(1)), matched, out


def as_syslog(log_text):
    """ehlod's stderr lines as rsyslog would write them."""
    return re.sub(r"(?m)^\S+ ", "Dec  3 06:55:25 mx1 ", log_text)


def setUpModule():
    test_auth.setUpModule()


def tearDownModule():
    test_auth.tearDownModule()


class Fail2banTest(EhlodTestCase):

    def session_log(self):
        with Ehlod(plugins=test_auth.auth_plugins()) as server:
            for _ in range(2):
                rc, out = test_auth.swaks_auth(server.port, "PLAIN", "bad")
                self.assertIn("535", out)
            rc, out = test_auth.swaks(server.port, "--to", "u@other.test")
            self.assertIn("Relay access denied", out)
            rc, out = test_auth.swaks(server.port, "--to", "u@example.org")
            self.assertEqual(rc, 0, out)
            rc, out = test_auth.swaks_auth(server.port, "PLAIN")
            self.assertEqual(rc, 0, out)
            return server.log()

    def check(self, log_text):
        count, matched, out = run_filter(log_text)
        self.assertEqual(count, 3, out)
        self.assertEqual(sum("SASL PLAIN authentication failed" in l
                             for l in matched), 2, out)
        self.assertEqual(sum("Relay access denied" in l for l in matched),
                         1, out)
        for line in matched:
            self.assertNotIn("status=sent", line)
            self.assertIn("unknown[127.0.0.1]", line)

    def test_filter_matches_auth_failures_and_relay_denials(self):
        if not os.path.exists(FAIL2BAN_REGEX):
            self.fail("fail2ban-regex missing: install the Debian package "
                      "fail2ban")
        log_text = self.session_log()
        self.assertRegex(log_text.splitlines()[0],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d "
                         r"ehlod\[\d+\]: ")
        self.check(log_text)
        self.check(as_syslog(log_text))


if __name__ == "__main__":
    main()
