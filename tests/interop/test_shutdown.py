"""SIGTERM: idle sessions get 421, the server exits 0 within a few
seconds, a message in the middle of DATA is either delivered and answered
250 or not delivered at all, and no worker process is left behind.
"""

import os
import signal
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, sample_message,
                       dot_stuff, ConnectionClosed)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


class ShutdownTest(EhlodTestCase):

    def test_sigterm_without_sessions_exits_0(self):
        with Ehlod(workers=2) as server:
            server.signal(signal.SIGTERM)
            self.assertEqual(server.wait(10), 0)
            deadline = time.monotonic() + 5
            while group_alive(server.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertFalse(group_alive(server.pid), "workers left behind")

    def test_sigterm_idle_session_421_and_exit_0(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("NOOP"), 250)
            start = time.monotonic()
            server.signal(signal.SIGTERM)
            r = s.reply(timeout=10)
            self.assertCode(r, 421)
            self.assertTrue(s.wait_closed(5))
            self.assertEqual(server.wait(10), 0)
            self.assertLess(time.monotonic() - start, 10)

    def test_sigterm_greeted_only_session_421(self):
        with Ehlod() as server, server.raw() as s:
            server.signal(signal.SIGTERM)
            self.assertCode(s.reply(timeout=10), 421)
            self.assertEqual(server.wait(10), 0)

    def test_sigterm_during_data_no_lost_message(self):
        message = sample_message()
        wire = dot_stuff(message)
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(wire[:40])
            time.sleep(0.3)
            server.signal(signal.SIGTERM)
            time.sleep(0.3)
            code = None
            try:
                s.send(wire[40:])
                code = s.reply(timeout=10).code
            except (ConnectionClosed, OSError):
                pass
            self.assertEqual(server.wait(10), 0)
        files = server.delivered()
        if code == 250:
            self.assertEqual(len(files), 1, "250 was given: it must be there")
        else:
            self.assertIn(code, (None, 421, 451), "unexpected reply")
            self.assertEqual(files, [], "no 250, so no delivery")
        self.assertEqual(server.leftovers(), [])

    def test_no_new_connections_after_sigterm(self):
        import socket
        with Ehlod() as server:
            port = server.port
            server.signal(signal.SIGTERM)
            self.assertEqual(server.wait(10), 0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2)


if __name__ == "__main__":
    main()
