"""The master and its workers under signals an admin or the system sends.

- SIGUSR1/SIGUSR2 never kill anything (they used to kill the master and
  leave a worker serving on its own, so a restart could not bind).
- A worker never outlives the master: SIGKILL the master and the workers
  exit.
- While a worker drains after SIGTERM (a session still in DATA), a new
  connection is refused at once instead of hanging in a backlog.
- A burst of worker crashes stops the server; the log says so.
"""

import os
import signal
import socket
import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, wait_for


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:	# gone, even between the open and the read
        return False


class SupervisionTest(EhlodTestCase):

    def test_sigusr1_and_sigusr2_kill_nothing_250(self):
        with Ehlod(workers=2) as server:
            workers = server.started_workers()
            server.signal(signal.SIGUSR1)
            server.signal(signal.SIGUSR2)
            for pid in workers:
                os.kill(pid, signal.SIGUSR1)	# started: they exist
            time.sleep(0.5)
            self.assertTrue(server.running(), server.log())
            self.assertEqual(server.workers(), workers)
            with server.raw() as s:
                self.assertCode(s.cmd("NOOP"), 250)
            self.assertIn("SIGUSR1 ignored", server.log())

    def test_workers_exit_when_master_dies(self):
        with Ehlod(workers=2) as server:
            workers = server.started_workers()
            self.assertEqual(len(workers), 2)
            os.kill(server.pid, signal.SIGKILL)
            server.proc.wait(10)
            self.assertTrue(wait_for(lambda: not any(alive(p)
                                                     for p in workers)),
                            "workers still running after the master died")

    def test_new_connection_refused_while_draining(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            server.signal(signal.SIGTERM)
            time.sleep(0.5)
            start = time.monotonic()
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port),
                                         timeout=5).close()
            self.assertLess(time.monotonic() - start, 2)
            s.send(b"Subject: drained\r\n\r\nbody\r\n")
            self.assertCode(s.cmd("."), 250)
            self.assertEqual(server.wait(15), 0)

    def test_crash_burst_stops_server(self):
        with Ehlod(workers=1) as server:
            killed = set()
            # Eleven crashes within the window stop it; each time wait for
            # the replacement before killing it.
            while len(killed) < 11 and server.running():
                fresh = []
                wait_for(lambda: fresh.extend(
                    p for p in server.workers() if p not in killed) or
                    fresh, 5)
                if not fresh:
                    continue
                killed.add(fresh[0])
                try:
                    os.kill(fresh[0], signal.SIGKILL)
                except ProcessLookupError:
                    pass	# already on its way out: still a crash
                wait_for(lambda: not alive(fresh[0]), 5)
            self.assertIsNotNone(server.wait(15), "still running")
            self.assertIn("workers ended unexpectedly within", server.log())


if __name__ == "__main__":
    main()
