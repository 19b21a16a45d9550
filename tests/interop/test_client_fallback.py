#!/usr/bin/env python3
"""
NAME
    test_client_fallback - RFC 1869 client: HELO after a refused EHLO,
    the RSET-before-HELO workaround, and QUIT when the job needs an
    extension

DESCRIPTION
    smtp-sink -f EHLO refuses EHLO with its hard-bounce reply, which -B
    sets to each code RFC1869.md lists (500, 501, 502, 504, 550, 554);
    smtp-sink -e plays a server without extensions.  Each test asserts
    the transcript: HELO right after the failed EHLO, the message then
    delivered with no ESMTP parameters.
"""
import unittest

from test_client_support import (ScriptServer, SmtpSink, client_lines,
                                 message, send)


def verbs(out):
    return [c.split()[0] for c in client_lines(out)]


class HeloFallback(unittest.TestCase):
    def test_each_refusal_code_falls_back_to_helo(self):
        for code in (500, 501, 502, 504, 550, 554):
            with self.subTest(code=code):
                with SmtpSink("-f", "EHLO", "-B",
                              "%d 5.5.1 no EHLO here" % code) as sink:
                    rc, out, err = send(["--server", sink.server,
                                         "--from", "a@x", "--to", "b@y",
                                         "-v"], message())
                    dump = sink.dumped()
                self.assertEqual(rc, 0, err)
                # the next command after the refusal is HELO
                self.assertRegex(out, r"S: %d 5\.5\.1 no EHLO here\n"
                                 r"(\*: [^\n]*\n)*C: HELO " % code)
                self.assertEqual(verbs(out)[:3], ["EHLO", "HELO", "MAIL"])
                self.assertIn("X-Client-Proto: SMTP", dump)
                # after HELO no parameter may be used (SIZE, BODY ...)
                self.assertIn("X-Mail-Args: <a@x>\n", dump)

    def test_server_without_esmtp(self):
        """smtp-sink -e answers EHLO 500: HELO, then plain SMTP."""
        with SmtpSink("-e") as sink:
            rc, out, err = send(["--server", sink.server, "--probe"])
        self.assertEqual(rc, 0, err)
        self.assertIn("esmtp: no (EHLO failed, fell back to HELO)", out)

    def test_other_codes_do_not_fall_back(self):
        """A 4xx to EHLO (not 421) is a temporary failure, not a reason
        to drop the extensions: QUIT and report it."""
        with SmtpSink("-r", "EHLO", "-b", "451 4.3.0 try later") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 75, err)
        self.assertEqual(verbs(out), ["EHLO", "QUIT"])
        self.assertIn("deferred at EHLO: 451", err)

    def test_8bit_message_quits_instead_of_helo(self):
        """An 8-bit message needs 8BITMIME: no HELO fallback, QUIT, and a
        clear reason (exit 65)."""
        with SmtpSink("-f", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"],
                                message("gr\u00fc\u00dfe\n"))
        self.assertEqual(rc, 65, err)
        self.assertEqual(verbs(out), ["EHLO", "QUIT"])
        self.assertIn("needs 8BITMIME", err)

    def test_utf8_address_quits_instead_of_helo(self):
        with SmtpSink("-f", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "j\u00f6rg@example.org", "-v"],
                                message())
        self.assertEqual(rc, 65, err)
        self.assertEqual(verbs(out), ["EHLO", "QUIT"])
        self.assertIn("needs SMTPUTF8", err)


class RsetBeforeHelo(unittest.TestCase):
    def test_rset_refused_by_smtp_sink(self):
        """RFC 1869 4.7: RSET after the failed EHLO; its failure reply is
        accepted and HELO follows."""
        with SmtpSink("-f", "EHLO,RSET") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--rset-before-helo", "-v"],
                                message())
        self.assertEqual(rc, 0, err)
        self.assertEqual(verbs(out)[:4], ["EHLO", "RSET", "HELO", "MAIL"])
        self.assertIn("C: RSET\nS: 500 5.3.0", out)

    def test_rset_answered_503(self):
        """The RFC's own example: 503 to that RSET, and on with HELO."""
        script = {"EHLO": "502 5.5.2 EHLO not implemented",
                  "RSET": "503 5.5.1 Bad sequence of commands"}
        with ScriptServer([script]) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--rset-before-helo", "-v"],
                                message())
            seen = [l.split()[0] for l in srv.seen[0]]
        self.assertEqual(rc, 0, err)
        self.assertEqual(seen[:4], ["EHLO", "RSET", "HELO", "MAIL"])
        self.assertIn("RSET answered 503: going on with HELO", out)

    def test_no_rset_unless_asked(self):
        with SmtpSink("-f", "EHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 0, err)
        self.assertNotIn("RSET", verbs(out))


if __name__ == "__main__":
    unittest.main()
