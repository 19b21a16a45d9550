#!/usr/bin/env python3
"""
NAME
    test_relay_hop - how the relay plugin treats its next hop: a session
    only once a recipient is ours to forward, QUIT at the end, and the
    next hop's address never in a reply to the client

DESCRIPTION
    The next hop is a scripted SMTP server (test_client_support's
    ScriptServer) that records every line it receives, so the tests see
    exactly which commands reached it and when.
"""
import os
import signal
import smtplib
import time
import unittest

from ehlodtest import Ehlod, EhlodTestCase, sample_message, wait_for
from test_client_support import CLOSE, SILENT, ScriptServer, free_port

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)


def relay_server(port, **opts):
    relay = {"next_hop": "smtp://127.0.0.1:%d" % port, "timeout": 10,
             "domains": ["example.org"]}
    relay.update(opts)
    return Ehlod(plugins=[("pipelining", {}), ("enhancedstatuscodes", {}),
                          ("relay", relay)])


class NextHopSession(EhlodTestCase):

    def test_no_session_when_every_recipient_is_refused(self):
        """The core refuses relaying to another domain before the relay
        sees the recipient: the next hop is never contacted."""
        with ScriptServer([{}]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test")[0], 250)
                self.assertEqual(c.rcpt("u@elsewhere.test")[0] // 100, 5)
                self.assertEqual(c.rset()[0], 250)
                self.assertEqual(c.mail("s@x.test")[0], 250)
            time.sleep(0.3)
            self.assertEqual(hop.seen, [])

    def test_session_opens_at_first_accepted_rcpt(self):
        with ScriptServer([{}]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test")[0], 250)
                time.sleep(0.3)
                self.assertEqual(hop.seen, [])
                self.assertEqual(c.rcpt("u@elsewhere.test")[0] // 100, 5)
                self.assertEqual(c.rcpt("u@example.org")[0], 250)
                self.assertEqual(c.data(sample_message())[0], 250)
            self.assertTrue(wait_for(lambda: hop.seen and
                                     "QUIT" in hop.seen[0]), hop.seen)
            verbs = [line.split(" ")[0].split(":")[0].upper()
                     for line in hop.seen[0]]
            self.assertEqual(verbs, ["EHLO", "MAIL", "RCPT", "DATA", ".",
                                     "QUIT"])
            self.assertEqual(hop.seen[0][1], "MAIL FROM:<s@x.test>")

    def test_quit_after_client_quits_mid_transaction(self):
        with ScriptServer([{}]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                self.assertEqual(c.rcpt("u@example.org")[0], 250)
            self.assertTrue(wait_for(lambda: hop.seen and
                                     "QUIT" in hop.seen[0]), hop.seen)
            self.assertEqual(hop.seen[0][-1], "QUIT")

    def test_quit_when_the_server_stops_with_the_session_open(self):
        """SIGTERM ends the session (421) and the worker: the relay's
        QUIT to the next hop still goes out before the worker leaves."""
        with ScriptServer([{}]) as hop, relay_server(hop.port) as srv:
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=15)
            c.ehlo("client.test")
            c.mail("s@x.test")
            self.assertEqual(c.rcpt("u@example.org")[0], 250)
            self.assertEqual(c.data(sample_message())[0], 250)
            srv.signal(signal.SIGTERM)
            self.assertEqual(srv.wait(10), 0)
            c.close()
            self.assertTrue(wait_for(lambda: hop.seen and
                                     "QUIT" in hop.seen[0]), hop.seen)
            self.assertEqual(hop.seen[0][-1], "QUIT")

    def test_stop_waits_for_a_silent_next_hop_two_seconds_at_most(self):
        with ScriptServer([{"QUIT": SILENT}]) as hop, \
                relay_server(hop.port) as srv:
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=15)
            c.ehlo("client.test")
            c.mail("s@x.test")
            self.assertEqual(c.rcpt("u@example.org")[0], 250)
            self.assertEqual(c.rset()[0], 250)	# out of the transaction
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            self.assertEqual(srv.wait(10), 0)
            took = time.monotonic() - t0
            c.close()
            log = srv.log()
        self.assertEqual(hop.seen[0][-1], "QUIT")
        self.assertIn("plugins' own events (connections, timers) still "
                      "pending 2 s after the last session; leaving them", log)
        self.assertGreater(took, 1.5)
        self.assertLess(took, 6)

    def test_rset_then_second_transaction_on_the_same_session(self):
        with ScriptServer([{}]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("first@x.test")
                self.assertEqual(c.rcpt("u@example.org")[0], 250)
                self.assertEqual(c.rset()[0], 250)
                c.mail("second@x.test")
                self.assertEqual(c.rcpt("u@example.org")[0], 250)
                self.assertEqual(c.data(sample_message())[0], 250)
            self.assertTrue(wait_for(lambda: hop.seen and
                                     "QUIT" in hop.seen[0]), hop.seen)
        self.assertEqual(len(hop.seen), 1, hop.seen)
        self.assertEqual(hop.seen[0][1:], [
            "MAIL FROM:<first@x.test>", "RCPT TO:<u@example.org>", "RSET",
            "MAIL FROM:<second@x.test>", "RCPT TO:<u@example.org>", "DATA",
            ".", "QUIT"])

    def test_next_hop_refusing_mail_answers_the_rcpt(self):
        script = {"MAIL": "550 5.7.1 sender refused here"}
        with ScriptServer([script]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test")[0], 250)
                code, text = c.rcpt("u@example.org")
        self.assertEqual(code, 550, text)
        self.assertIn(b"sender refused here", text)


class NoAddressInReplies(EhlodTestCase):

    def test_250_after_data_does_not_name_the_next_hop(self):
        with ScriptServer([{".": "250 2.0.0 Ok: queued as 4XyZ"}]) as hop, \
                relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                c.rcpt("u@example.org")
                code, text = c.data(sample_message())
            log = srv.log()
        self.assertEqual(code, 250, text)
        self.assertIn(b"queued as 4XyZ", text)
        self.assertNotIn(b"127.0.0.1", text)
        self.assertNotIn(b"smtp://", text)
        self.assertNotIn(str(hop.port).encode(), text)
        # The log keeps it for the admin.
        self.assertIn("relay=smtp://127.0.0.1:%d" % hop.port, log)

    def test_next_hop_down_reply_does_not_name_it(self):
        port = free_port()
        with relay_server(port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                code, text = c.rcpt("u@example.org")
                self.assertEqual(c.noop()[0], 250)
            log = srv.log()
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.4.1", text)
        self.assertIn(b"not reachable", text)
        self.assertNotIn(b"127.0.0.1", text)
        self.assertNotIn(str(port).encode(), text)
        self.assertIn("relay=smtp://127.0.0.1:%d" % port, log)

    def test_next_hop_421_reply_does_not_name_it(self):
        script = {"RCPT": ("421 4.3.2 hop going down", CLOSE)}
        with ScriptServer([script]) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                code, text = c.rcpt("u@example.org")
        self.assertEqual(code, 451, text)
        self.assertNotIn(b"127.0.0.1", text)
        self.assertNotIn(b"smtp://", text)


if __name__ == "__main__":
    unittest.main()
