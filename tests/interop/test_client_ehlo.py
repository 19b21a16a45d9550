#!/usr/bin/env python3
"""
NAME
    test_client_ehlo - RFC 1869 client: EHLO first, never cached, and the
    EHLO reply read tolerantly into a keyword table

DESCRIPTION
    Against Postfix's smtp-sink and Python's aiosmtpd (peers we did not
    write), and a scripted server for reply shapes real peers cannot be
    told to send (lower-case keywords, old-style AUTH=, extra blanks).
"""
import unittest

from test_client_support import (Aiosmtpd, ScriptServer, SmtpSink,
                                 client_lines, message, send)


class EhloFirst(unittest.TestCase):
    def test_session_starts_with_ehlo(self):
        """RFC 1869 4.1: the first command of a session is EHLO."""
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertEqual(client_lines(out)[0].split()[0], "EHLO")
        self.assertNotIn("HELO", [c.split()[0] for c in client_lines(out)])
        self.assertIn("X-Client-Proto: ESMTP", dump)

    def test_ehlo_first_with_aiosmtpd(self):
        with Aiosmtpd() as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            self.assertEqual(rc, 0, err)
            self.assertEqual(client_lines(out)[0].split()[0], "EHLO")
            self.assertEqual(len(srv.received()), 1)


class NeverCached(unittest.TestCase):
    def test_every_session_sends_ehlo(self):
        """RFC 1869 4.1: a client must not cache EHLO's answer; every
        session issues EHLO again, and sees the server's current list."""
        with SmtpSink() as sink:
            rc1, out1, _ = send(["--server", sink.server, "--probe", "-v"])
        with SmtpSink("-p", "-8") as sink2:
            # a different server now behind the same kind of address
            rc2, out2, _ = send(["--server", sink2.server, "--probe", "-v"])
        self.assertEqual((rc1, rc2), (0, 0))
        self.assertEqual(client_lines(out1)[0].split()[0], "EHLO")
        self.assertEqual(client_lines(out2)[0].split()[0], "EHLO")
        self.assertIn("\nPIPELINING\n", out1)
        self.assertNotIn("\nPIPELINING\n", out2)
        self.assertNotIn("\n8BITMIME\n", out2)


class TolerantTable(unittest.TestCase):
    def test_probe_lists_smtp_sink_extensions(self):
        """--probe prints one keyword a line with its parameters."""
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--probe"])
        self.assertEqual(rc, 0, err)
        self.assertIn("esmtp: yes", out)
        self.assertIn("\nAUTH PLAIN LOGIN\n", out)
        self.assertIn("\nPIPELINING\n", out)

    def test_quirky_ehlo_reply(self):
        """Lower-case keywords, AUTH= old style merged into AUTH, extra
        blanks, an empty and an invalid line: all read, none fatal."""
        ehlo = "\r\n".join([
            "250-quirky.example  says   hello",
            "250-size    1000000",
            "250-AUTH LOGIN",
            "250-AUTH=LOGIN PLAIN",
            "250-pipelining",
            "250-_not a keyword",
            "250 8bitmime"])
        with ScriptServer([{"EHLO": ehlo}]) as srv:
            rc, out, err = send(["--server", srv.server, "--probe"])
        self.assertEqual(rc, 0, err)
        self.assertIn("\nSIZE 1000000\n", out)
        self.assertIn("\nAUTH LOGIN PLAIN\n", out)
        self.assertIn("\nPIPELINING\n", out)
        self.assertIn("\n8BITMIME\n", out)
        self.assertNotIn("_not", out)

    def test_bare_250_domain(self):
        """A one-line "250 domain" is a valid EHLO reply with no
        extensions: the client stays in ESMTP and uses none."""
        with ScriptServer([{"EHLO": "250 bare.example"}]) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            self.assertEqual(rc, 0, err)
            self.assertEqual(srv.seen[0][0].split()[0], "EHLO")
            self.assertIn("MAIL FROM:<a@x>", srv.seen[0])
            self.assertNotIn("HELO", [l.split()[0] for l in srv.seen[0]])


if __name__ == "__main__":
    unittest.main()
