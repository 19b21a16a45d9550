"""A plugin that never resumes does not hold a session for ever: after
command_timeout the client gets 421 and the connection closes, and the
message of that transaction is not delivered.
"""

import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo


class PendingTimeoutTest(EhlodTestCase):

    def test_never_resumed_rcpt_421_after_command_timeout(self):
        plugins = [("maildir", {}),
                   ("delay", {"rcpt_delay_ms": 60000})]
        with Ehlod(plugins=plugins, command_timeout=2) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            start = time.monotonic()
            r = s.cmd("RCPT TO:<u@example.org>", timeout=15)
            waited = time.monotonic() - start
            self.assertCode(r, 421)
            self.assertGreaterEqual(waited, 1.5)
            self.assertLess(waited, 10)
            self.assertTrue(s.wait_closed(5))
            self.assertIn("plugin delay did not answer", server.log())
            self.assertEqual(server.delivered(), [])


if __name__ == "__main__":
    main()
