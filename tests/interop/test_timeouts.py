"""Session timeouts (RFC 5321 4.5.3.2): an idle client gets 421 and the
connection is closed; activity keeps a session alive.
"""

import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo


class TimeoutsTest(EhlodTestCase):

    def test_idle_after_greeting_421(self):
        with Ehlod(command_timeout=2) as server, server.raw() as s:
            start = time.monotonic()
            r = s.reply(timeout=10)
            waited = time.monotonic() - start
            self.assertCode(r, 421)
            self.assertGreaterEqual(waited, 1.5)
            self.assertLess(waited, 8)
            self.assertTrue(s.wait_closed(5), "closed after 421")

    def test_idle_after_ehlo_421(self):
        with Ehlod(command_timeout=2) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.reply(timeout=10), 421)
            self.assertTrue(s.wait_closed(5))

    def test_partial_command_times_out_421(self):
        with Ehlod(command_timeout=2) as server, server.raw() as s:
            s.send(b"EHLO half-a-line")
            self.assertCode(s.reply(timeout=10), 421)
            self.assertTrue(s.wait_closed(5))

    def test_activity_keeps_session_250(self):
        with Ehlod(command_timeout=2) as server, server.raw() as s:
            ehlo(s)
            for _ in range(5):
                time.sleep(1)
                self.assertCode(s.cmd("NOOP"), 250)
            self.assertCode(s.cmd("QUIT"), 221)

    def test_timeout_does_not_stop_server_250(self):
        with Ehlod(command_timeout=1) as server:
            with server.raw() as s:
                self.assertCode(s.reply(timeout=10), 421)
            with server.raw() as s:
                self.assertCode(s.cmd("EHLO client.test"), 250)
                self.assertCode(s.cmd("QUIT"), 221)


if __name__ == "__main__":
    main()
