#!/usr/bin/env python3
"""
NAME
    test_client_reconnect - RFC 1869 client: the server closes the
    connection after EHLO

DESCRIPTION
    RFC 1869 4.5: some old servers drop the connection on EHLO, before
    or after replying.  The client decides whether the job can be done
    without extensions; if so it opens a second connection and uses HELO,
    if not it fails and says what the job needed.  smtp-sink -q EHLO
    disconnects without replying; a scripted server replies (554, 250 or
    451) and then closes (smtp-sink cannot do both).  Whatever the code,
    the close is what counts: after a 250 the client has already sent
    MAIL, and still reconnects with HELO for a 7-bit message and fails
    clearly for an 8-bit one.
"""
import unittest

from test_client_support import (CLOSE, ScriptServer, SmtpSink, client_lines,
                                 message, send)


class CloseAfterEhlo(unittest.TestCase):
    def test_reconnect_with_helo(self):
        with SmtpSink("-q", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertIn("connection 2 to 127.0.0.1", out)
        first, second = out.split("connection 2 to")
        self.assertEqual([c.split()[0] for c in client_lines(first)], ["EHLO"])
        self.assertEqual([c.split()[0] for c in client_lines(second)][:2],
                         ["HELO", "MAIL"])
        self.assertIn("X-Client-Proto: SMTP", dump)

    def test_probe_reports_the_reconnect(self):
        with SmtpSink("-q", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--probe"])
        self.assertEqual(rc, 0, err)
        self.assertIn("fell back to HELO on a new connection", out)

    def test_8bit_message_fails_clearly(self):
        with SmtpSink("-q", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message("caf\u00e9\n"))
        self.assertEqual(rc, 65, err)
        self.assertNotIn("connection 2", out)
        self.assertIn("closed the connection after EHLO", err)
        self.assertIn("8BITMIME", err)

    def test_utf8_address_fails_clearly(self):
        with SmtpSink("-q", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server,
                                 "--from", "\u00e5sa@example.org",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 65, err)
        self.assertNotIn("connection 2", out)
        self.assertIn("SMTPUTF8", err)

    def test_close_after_error_reply(self):
        """Reply 554 to EHLO, then close: the HELO on the same connection
        finds it gone, so the client reconnects with HELO."""
        conns = [{"EHLO": "554 5.5.1 no EHLO", "HELO": CLOSE}, {}]
        with ScriptServer(conns) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            seen = srv.seen
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen[1][0].split()[0], "HELO")
        self.assertIn("MAIL FROM:<a@x>", seen[1])

    def test_250_then_close_7bit_delivered_with_helo(self):
        conns = [{"EHLO": ("250-script.example\r\n250 8BITMIME", CLOSE)},
                 {}]
        with ScriptServer(conns) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            seen = srv.seen
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen[0][0].split()[0], "EHLO")
        self.assertEqual(seen[1][0].split()[0], "HELO")
        self.assertIn("MAIL FROM:<a@x>", seen[1])
        self.assertIn(".", seen[1])	# the message went on connection 2
        self.assertIn("reconnecting to use HELO", out)

    def test_250_then_close_8bit_fails_clearly(self):
        conns = [{"EHLO": ("250-script.example\r\n250 8BITMIME", CLOSE)},
                 {}]
        with ScriptServer(conns) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message("caf\u00e9\n"))
            seen = srv.seen
        self.assertEqual(rc, 65, err)
        self.assertEqual(len(seen), 1)
        self.assertIn("closed the connection after EHLO", err)
        self.assertIn("needs 8BITMIME", err)

    def test_451_then_close_reconnects(self):
        """A code that is no HELO fall-back code, then the close."""
        conns = [{"EHLO": ("451 4.3.0 try later", CLOSE)}, {}]
        with ScriptServer(conns) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            seen = srv.seen
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen[1][0].split()[0], "HELO")

    def test_only_one_reconnect(self):
        """A server that drops HELO too: a temporary failure, not a loop."""
        with ScriptServer([{"EHLO": CLOSE, "HELO": CLOSE}]) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            n = len(srv.seen)
        self.assertEqual(rc, 75, err)
        self.assertEqual(n, 2)


if __name__ == "__main__":
    unittest.main()
