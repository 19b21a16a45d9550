"""The example examples/hello/localuser.c, built out of tree.

Built by the example's own Makefile with nothing but pkg-config (see
test_example_plugin.py, which also checks that the build warns about
nothing).  It checks RCPT TO's local part with getpwnam_r() in threads of
its own, so these tests prove the pattern the example teaches:

- the answers: a user of this host is accepted, an unknown one gets
  550 5.1.1, Postmaster is always accepted (Python's smtplib);
- the loop does not wait for a lookup: with one worker and slow lookups
  (delay_ms), another client is served meanwhile, and four lookups run
  at once in four threads;
- a client that hangs up while its lookup runs costs nothing (the
  answer is dropped; the suite's ASan run would see a use after free),
  and a server stopped during a lookup ends cleanly;
- the same .so inside ehlod-milter, driven by Debian's miltertest.
"""

import os
import signal
import smtplib
import threading
import time

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo
from test_example_plugin import build_example

UNKNOWN = "no-such-user-ehlod-q7"
DELAY_MS = 1200  # long enough for a slow, loaded test machine


def localuser_so():
    hello, _out = build_example()
    return os.path.join(os.path.dirname(hello), "localuser.so")


def plugins(**options):
    opts = {"path": localuser_so()}
    opts.update(options)
    return [("enhancedstatuscodes", {}), ("localuser", opts),
            ("maildir", {})]


class LocalUserAnswers(EhlodTestCase):

    def test_known_unknown_and_postmaster(self):
        with Ehlod(plugins=plugins()) as server:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as c:
                c.ehlo("client.example.com")
                self.assertEqual(c.mail("s@example.com")[0], 250)
                self.assertEqual(c.rcpt("root@example.org")[0], 250)
                code, text = c.rcpt(UNKNOWN + "@example.org")
                self.assertEqual(code, 550)
                self.assertIn(b"5.1.1 No such user here: " +
                              UNKNOWN.encode(), text)
                self.assertEqual(c.rcpt("Postmaster")[0], 250)
                self.assertEqual(c.rcpt("POSTMASTER@example.org")[0], 250)
                self.assertEqual(c.rset()[0], 250)
                refused = c.sendmail("s@example.com",
                                     ["root@example.org",
                                      UNKNOWN + "@example.org"],
                                     b"Subject: t\r\n\r\nbody\r\n")
                self.assertEqual(list(refused), [UNKNOWN + "@example.org"])
            msgs = server.delivered()
        self.assertEqual(len(msgs), 1)

    def test_threads_option_is_checked(self):
        server = Ehlod(start=False, plugins=plugins(threads=0))
        self.addCleanup(server.cleanup)
        code, out = server.check()
        self.assertEqual(code, 1, out)
        self.assertIn(server.conf_path + ":", out)
        self.assertIn("threads", out)


class LocalUserOffTheLoop(EhlodTestCase):

    def pending_rcpt(self, server, results, key):
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", server.port, timeout=20) as c:
            c.ehlo("client.example.com")
            c.mail("s@example.com")
            code, _text = c.rcpt("root@example.org")
        results[key] = (code, time.monotonic() - t0)

    def test_other_clients_are_served_during_a_lookup(self):
        with Ehlod(plugins=plugins(delay_ms=DELAY_MS), workers=1) as server:
            results = {}
            slow = threading.Thread(target=self.pending_rcpt,
                                    args=(server, results, "slow"))
            slow.start()
            time.sleep(0.2)
            t0 = time.monotonic()
            with server.raw() as s:
                self.assertEqual(ehlo(s).code, 250)
                self.assertEqual(s.cmd("NOOP").code, 250)
                self.assertEqual(s.cmd("QUIT").code, 221)
            quick = time.monotonic() - t0
            still_waiting = slow.is_alive()
            slow.join(20)
        self.assertTrue(still_waiting, "the lookup ended before the other "
                        "client was served")
        self.assertLess(quick, DELAY_MS / 1000 - 0.4)
        code, took = results["slow"]
        self.assertEqual(code, 250)
        self.assertGreaterEqual(took, DELAY_MS / 1000 - 0.05)

    def test_four_lookups_run_at_once(self):
        with Ehlod(plugins=plugins(delay_ms=DELAY_MS, threads=4),
                   workers=1) as server:
            results = {}
            clients = [threading.Thread(target=self.pending_rcpt,
                                        args=(server, results, i))
                       for i in range(4)]
            t0 = time.monotonic()
            for t in clients:
                t.start()
            for t in clients:
                t.join(30)
            took = time.monotonic() - t0
        self.assertEqual(sorted(code for code, _ in results.values()),
                         [250] * 4)
        # One after another they would take 4 x DELAY_MS.
        self.assertLess(took, 3 * DELAY_MS / 1000)

    def test_client_gone_during_lookup(self):
        with Ehlod(plugins=plugins(delay_ms=DELAY_MS), workers=1) as server:
            for _ in range(3):
                with server.raw() as s:
                    ehlo(s)
                    self.assertEqual(s.cmd("MAIL FROM:<s@example.com>").code,
                                     250)
                    s.send("RCPT TO:<root@example.org>\r\n")
            # Their answers come and are dropped; the worker lives on.
            time.sleep(DELAY_MS / 1000 + 0.5)
            workers = server.workers()
            with smtplib.SMTP("127.0.0.1", server.port, timeout=20) as c:
                c.ehlo("client.example.com")
                c.mail("s@example.com")
                self.assertEqual(c.rcpt(UNKNOWN + "@example.org")[0], 550)
            self.assertEqual(server.workers(), workers)
            self.assertNotIn("worker exited", server.log())

    def test_stop_during_a_lookup(self):
        """SIGTERM while a lookup runs: the worker drains, the session
        gets its answer, and fini stops the threads (the exit is clean)."""
        with Ehlod(plugins=plugins(delay_ms=DELAY_MS), workers=1) as server:
            s = server.raw()
            ehlo(s)
            s.cmd("MAIL FROM:<s@example.com>")
            s.send("RCPT TO:<root@example.org>\r\n")
            time.sleep(0.2)
            server.signal(signal.SIGTERM)
            self.assertEqual(s.reply(timeout=10).code, 250)
            s.send("QUIT\r\n")
            s.close()
            code = server.wait(10)
            log = server.log()
        self.assertEqual(code, 0, log[-3000:])
        self.assertNotIn("still running", log)


class LocalUserInMilter(EhlodTestCase):
    timeout = 50

    def test_answers_through_ehlod_milter(self):
        from milterharness import Milter, miltertest, need_program
        need_program("miltertest", "miltertest")
        opts = {"path": localuser_so(), "delay_ms": 300}
        with Milter([("localuser", opts)]) as m:
            rc, out = miltertest("milter_pending.lua", port=m.port,
                                 rcpt=UNKNOWN + "@example.org",
                                 want="replycode", extra="root@example.org")
            self.assertEqual(rc, 0, out + m.log())
            self.assertIn("550 5.1.1 No such user here: " + UNKNOWN,
                          m.log())


if __name__ == "__main__":
    main()
