#!/usr/bin/env python3
"""
NAME
    test_client_delivery - the message as delivered, per-recipient results
    and sysexits codes

DESCRIPTION
    aiosmtpd stores what it received: LF line ends arrive as CRLF and a
    line starting with "." arrives intact (the client dot-stuffed it).
    smtp-sink refusing RCPT (-f hard, -r soft) gives one stderr line per
    recipient and exit 69 or 75.
"""
import base64
import unittest

from test_client_support import (Aiosmtpd, ScriptServer, SmtpSink,
                                 message, send)


class Content(unittest.TestCase):
    def test_dot_stuffing_and_crlf(self):
        body = "first\n.leading dot\n..two dots\n.\nlast"
        with Aiosmtpd() as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y"],
                                message(body))
            got = srv.received()
        self.assertEqual(rc, 0, err)
        content = base64.b64decode(got[0]["content"])
        self.assertEqual(content,
                         message(body + "\n").replace(b"\n", b"\r\n"))
        self.assertEqual(got[0]["rcpt_tos"], ["b@y", "c@y"])

    def test_message_from_file(self):
        import os
        import tempfile
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(message("from a file\n"))
        try:
            with Aiosmtpd() as srv:
                rc, out, err = send(["--server", srv.server, "--from", "",
                                     "--to", "b@y", f.name])
                got = srv.received()
        finally:
            os.unlink(f.name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(got[0]["mail_from"], "<>")
        self.assertIn(b"from a file", base64.b64decode(got[0]["content"]))


class Results(unittest.TestCase):
    def test_recipients_refused_permanently(self):
        with SmtpSink("-f", "RCPT", "-B", "550 5.1.1 no such user") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y", "-v"],
                                message())
        self.assertEqual(rc, 69, err)
        self.assertIn("ehlod-send: b@y: bounced at RCPT: 550 5.1.1 no such"
                      " user", err)
        self.assertIn("ehlod-send: c@y: bounced at RCPT: 550", err)

    def test_recipients_refused_temporarily(self):
        with SmtpSink("-r", "RCPT") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 75, err)
        self.assertIn("b@y: deferred at RCPT: 450", err)
        self.assertNotIn("C: .", out)

    def test_mixed_recipients(self):
        """One recipient accepted, one refused: the message goes to the
        first, and the refusal is reported for the second alone."""
        script = {"EHLO": "250-s.example\r\n250 ENHANCEDSTATUSCODES",
                  "RCPT": ["250 2.1.5 ok", "550 5.1.1 unknown user"]}
        with ScriptServer([script]) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y", "-v"],
                                message())
            seen = srv.seen[0]
        self.assertEqual(rc, 69, err)
        self.assertIn(".", seen)	# the message went out
        self.assertNotIn("b@y", err)
        self.assertIn("ehlod-send: c@y: bounced at RCPT: 550 5.1.1 unknown"
                      " user", err)

    def test_data_refused(self):
        with SmtpSink("-f", ".", "-B", "554 5.6.0 content refused") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 69, err)
        self.assertIn("b@y: bounced at end of data: 554 5.6.0 content"
                      " refused", err)

    def test_policy_refusal_is_noperm(self):
        with SmtpSink("-f", "MAIL", "-B", "550 5.7.1 relay denied") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 77, err)
        self.assertIn("bounced at MAIL: 550 5.7.1 relay denied", err)

    def test_connection_refused_is_tempfail(self):
        from test_client_support import free_port
        rc, out, err = send(["--server", "127.0.0.1:%d" % free_port(),
                             "--from", "a@x", "--to", "b@y"], message())
        self.assertEqual(rc, 75, err)
        self.assertIn("deferred at connect", err)


if __name__ == "__main__":
    unittest.main()
