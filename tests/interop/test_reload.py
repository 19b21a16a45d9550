"""SIGHUP reloads the config without dropping sessions: a session that
was open before the reload goes on and delivers through the old worker,
new sessions see the new config, and a broken config is refused while the
running one stays in force.
"""

import signal
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, free_port,
                       transaction)


def wait_for_log(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return True
        time.sleep(0.05)
    return False


def set_size_limit(server, limit):
    server.plugins = [(n, dict(o, limit=limit) if n == "size" else o)
                      for n, o in server.plugins]
    server.write_config()


def size_offered(reply):
    for line in reply.lines:
        if line.upper().startswith("SIZE"):
            return line
    return None


class ReloadTest(EhlodTestCase):

    def test_reload_keeps_open_session_250(self):
        with Ehlod() as server, server.raw() as old:
            self.assertEqual(size_offered(ehlo(old)), "SIZE 1000000")
            set_size_limit(server, 2000)
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            # The session begun before the reload is served to its end.
            self.assertCode(old.cmd("NOOP"), 250)
            self.assertCode(transaction(old), 250)
            self.assertEqual(len(server.delivered()), 1)
            with server.raw() as new:
                self.assertEqual(size_offered(ehlo(new)), "SIZE 2000")
                self.assertCode(new.cmd("QUIT"), 221)
            self.assertCode(old.cmd("QUIT"), 221)

    def test_old_worker_exits_after_its_last_session(self):
        with Ehlod(workers=1) as server:
            with server.raw() as old:
                ehlo(old)
                before = server.workers()
                self.assertEqual(len(before), 1)
                server.signal(signal.SIGHUP)
                self.assertTrue(wait_for_log(server, "reloaded"),
                                server.log())
                self.assertCode(old.cmd("QUIT"), 221)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                now = server.workers()
                if before[0] not in now and len(now) == 1:
                    break
                time.sleep(0.1)
            now = server.workers()
            self.assertNotIn(before[0], now, "old worker still running")
            self.assertEqual(len(now), 1, "one new worker")

    def test_broken_config_keeps_running_config(self):
        with Ehlod() as server:
            with open(server.conf_path, "a") as f:
                f.write("max_recipents = 5\n")
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reload failed"),
                            server.log())
            self.assertIn("no such option 'max_recipents'", server.log())
            self.assertTrue(server.running())
            with server.raw() as s:
                self.assertEqual(size_offered(ehlo(s)), "SIZE 1000000")
                self.assertCode(transaction(s), 250)


class ListenChangeTest(EhlodTestCase):
    """The sockets are bound at start: a reload that changes listen says
    it ignores the change, and the old address keeps serving."""

    def test_changed_listen_warned_old_address_still_served(self):
        with Ehlod() as server:
            old_port = server.port
            new_port = free_port()
            server.extra_listen = ["127.0.0.1:%d" % new_port]
            server.write_config()
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            log = server.log()
            self.assertIn("warning: reload ignores listen 127.0.0.1:%d, which "
                          "is new: restart ehlod to listen there" % new_port,
                          log)
            with server.raw() as s:
                self.assertCode(s.cmd("NOOP"), 250)
            self.assertEqual(server.port, old_port)

    def test_removed_listen_warned(self):
        other = free_port()
        with Ehlod(extra_listen=["127.0.0.1:%d" % other]) as server:
            server.extra_listen = []
            server.write_config()
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            self.assertIn("warning: reload ignores the removal of listen "
                          "127.0.0.1:%d" % other, server.log())

    def test_unchanged_listen_no_warning(self):
        with Ehlod() as server:
            set_size_limit(server, 3000)
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            self.assertNotIn("reload ignores", server.log())


if __name__ == "__main__":
    main()
