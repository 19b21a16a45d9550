"""Limits on what clients can make the server hold, each answered
421 4.7.0 with a log line naming the limit (Postfix's anvil does the
same): max_sessions over all workers, max_sessions_per_worker,
max_sessions_per_client, max_connect_rate and max_auth_failure_rate
(counted per client across sessions and workers).  And out of file
descriptors a worker stops accepting for a moment and logs once per
episode instead of spinning on accept().
"""

import socket
import time

import test_auth
from ehlodtest import Ehlod, EhlodTestCase, main, ehlo


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0	# utime + stime


def setUpModule():
    test_auth.setUpModule()


def tearDownModule():
    test_auth.tearDownModule()


def wait_quiet(server, timeout=10):
    """Until every session so far has ended: the harness's start-up probe
    is a session too, counted until the worker sees it close."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        # The probe may still wait in the backlog: at least its session
        # must have been seen, and every session seen must have ended.
        opened = log.count(": connect from ")
        if opened >= 1 and opened == log.count(": disconnect from "):
            return
        time.sleep(0.05)
    raise AssertionError("sessions still open:\n" + server.log())


def wait_quiet_except(server, still_open, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        if log.count(": connect from ") - log.count(": disconnect from ") \
                <= still_open:
            return
        time.sleep(0.05)


class LimitsTest(EhlodTestCase):

    def assert_refused(self, server, limit):
        with server.raw(read_greeting=False) as s:
            r = s.reply(timeout=10)
            self.assertCode(r, 421)
            # No enhanced code before EHLO (RFC 2034: only once offered).
            self.assertRegex(r.text, r"^mx\.test (Too many|Error: too many)")
            self.assertTrue(s.wait_closed(5))
        time.sleep(0.1)
        self.assertIn("limit: %s reached for unknown[127.0.0.1]" % limit,
                      server.log())

    def open_sessions(self, server, n):
        wait_quiet(server)
        sessions = [server.raw() for _ in range(n)]
        for s in sessions:
            self.assertEqual(s.greeting.code, 220)
        return sessions

    def test_max_sessions_over_all_workers_421(self):
        with Ehlod(workers=2, max_sessions=3,
                   max_sessions_per_client=0) as server:
            held = self.open_sessions(server, 3)
            self.assert_refused(server, "max_sessions")
            held[0].cmd("QUIT")
            held[0].close()
            wait_quiet_except(server, len(held) - 1)
            with server.raw() as s:
                self.assertEqual(s.greeting.code, 220)
            for s in held[1:]:
                s.close()

    def test_max_sessions_per_worker_421(self):
        with Ehlod(workers=1, max_sessions_per_worker=2,
                   max_sessions_per_client=0) as server:
            held = self.open_sessions(server, 2)
            self.assert_refused(server, "max_sessions_per_worker")
            for s in held:
                s.close()

    def test_max_sessions_per_client_421(self):
        with Ehlod(workers=2, max_sessions_per_client=2) as server:
            held = self.open_sessions(server, 2)
            self.assert_refused(server, "max_sessions_per_client")
            for s in held:
                s.close()

    def test_max_connect_rate_421(self):
        with Ehlod(max_connect_rate=3, max_sessions_per_client=0) as server:
            # The harness's own start-up probe was the first connection.
            for _ in range(2):
                with server.raw() as s:
                    self.assertCode(s.cmd("QUIT"), 221)
            self.assert_refused(server, "max_connect_rate")

    def test_auth_failure_rate_across_sessions_421(self):
        with Ehlod(plugins=test_auth.auth_plugins(),
                   max_auth_failure_rate=2) as server:
            with server.raw() as s:
                ehlo(s)
                r = s.cmd("AUTH PLAIN " + test_auth.plain(password="bad"))
                self.assertCode(r, 535)
            with server.raw() as s:
                ehlo(s)
                r = s.cmd("AUTH PLAIN " + test_auth.plain(password="bad"))
                self.assertCode(r, 535)
                r = s.reply(timeout=10)
                self.assertCode(r, 421)
                self.assertIn("4.7.0", r.text)
            self.assert_refused(server, "max_auth_failure_rate")

    def test_out_of_descriptors_pauses_without_spinning(self):
        with Ehlod(workers=1, nofile=40, max_sessions_per_client=0,
                   max_sessions=0) as server:
            worker = server.started_workers()[0]
            held = []
            for _ in range(60):
                held.append(socket.create_connection(
                    ("127.0.0.1", server.port), timeout=5))
            time.sleep(1)
            before = cpu_seconds(worker)
            time.sleep(3)
            used = cpu_seconds(worker) - before
            log = server.log()
            self.assertLess(used, 0.15, "the worker spun: %.2f s of CPU "
                            "in 3 s" % used)
            self.assertEqual(log.count("accept: Too many open files"), 1,
                             log)
            self.assertNotIn("libevent:", log)
            for sock in held:
                sock.close()
            time.sleep(1.5)
            with server.raw() as s:
                self.assertEqual(s.greeting.code, 220)


if __name__ == "__main__":
    main()
