#!/usr/bin/env python3
"""
NAME
    test_client_offered - RFC 1869 client: only use an extension the
    server offered in this session

DESCRIPTION
    For each extension the client can use, one test against a server that
    offers it (the parameter or verb appears) and one against a server
    that does not (it does not, or the job fails with a clear reason
    before MAIL when it cannot go without it).  smtp-sink's dump shows the
    MAIL and RCPT arguments it received; aiosmtpd records them too.
"""
import unittest

from test_client_support import (Aiosmtpd, ScriptServer, SmtpSink,
                                 client_lines, message, send)


def mail_line(out):
    return [c for c in client_lines(out) if c.startswith("MAIL")][0]


class Size(unittest.TestCase):
    def test_no_size_param_when_not_offered(self):
        with SmtpSink() as sink:	# smtp-sink never offers SIZE
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertNotIn("SIZE=", mail_line(out))
        self.assertIn("X-Mail-Args: <a@x>\n", dump)

    def test_size_param_when_offered(self):
        data = message()
        with Aiosmtpd() as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], data)
            got = srv.received()
        self.assertEqual(rc, 0, err)
        size = len(data.replace(b"\n", b"\r\n"))
        self.assertIn("SIZE=%d" % size, mail_line(out))
        self.assertIn("SIZE=%d" % size, got[0]["mail_options"])

    def test_too_big_for_offered_size(self):
        with Aiosmtpd(size=100) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message("x" * 500))
            got = srv.received()
        self.assertEqual(rc, 65, err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertIn("exceeds the server's SIZE limit 100", err)
        self.assertEqual(got, [])


class EightBit(unittest.TestCase):
    def test_body_8bitmime_when_offered(self):
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message("na\u00efve\n"))
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertIn("BODY=8BITMIME", mail_line(out))
        self.assertIn("X-Mail-Args: <a@x> BODY=8BITMIME", dump)

    def test_7bit_message_has_no_body_param(self):
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 0, err)
        self.assertNotIn("BODY=", mail_line(out))

    def test_8bit_without_8bitmime_fails_before_mail(self):
        with SmtpSink("-8") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"], message("na\u00efve\n"))
        self.assertEqual(rc, 65, err)
        self.assertEqual([c.split()[0] for c in client_lines(out)],
                         ["EHLO", "QUIT"])
        self.assertIn("does not offer 8BITMIME", err)


class Smtputf8(unittest.TestCase):
    def test_smtputf8_when_offered(self):
        rcpt = "j\u00f6rg@example.org"
        with Aiosmtpd(smtputf8=True) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", rcpt, "-v"], message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertIn("SMTPUTF8", mail_line(out).split())
        self.assertEqual(got[0]["rcpt_tos"], [rcpt])

    def test_utf8_address_without_smtputf8_fails(self):
        with Aiosmtpd(smtputf8=False) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "j\u00f6rg@example.org", "-v"],
                                message())
        self.assertEqual(rc, 65, err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertIn("does not offer SMTPUTF8", err)


class Dsn(unittest.TestCase):
    ARGS = ["--dsn-ret", "HDRS", "--dsn-envid", "id+1=x", "--dsn-notify",
            "SUCCESS,FAILURE", "--dsn-orcpt"]

    def test_dsn_params_when_offered(self):
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"] + self.ARGS, message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertIn("X-Mail-Args: <a@x> RET=HDRS ENVID=id+2B1+3Dx", dump)
        self.assertIn("X-Rcpt-Args: <b@y> NOTIFY=SUCCESS,FAILURE"
                      " ORCPT=rfc822;b@y", dump)

    def test_no_dsn_params_when_not_offered(self):
        with SmtpSink("-N") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "-v"] + self.ARGS, message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertIn("X-Mail-Args: <a@x>\n", dump)
        self.assertIn("X-Rcpt-Args: <b@y>\n", dump)
        self.assertIn("DSN not offered", out)


class Pipelining(unittest.TestCase):
    def test_batched_when_offered(self):
        """RFC 2920: MAIL, RCPTs and DATA go out before any reply."""
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y", "-v"],
                                message())
        self.assertEqual(rc, 0, err)
        self.assertIn("C: MAIL FROM:<a@x>\nC: RCPT TO:<b@y>\n"
                      "C: RCPT TO:<c@y>\nC: DATA\nS: 250", out)

    def test_lock_step_when_not_offered(self):
        with SmtpSink("-p") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y", "-v"],
                                message())
        self.assertEqual(rc, 0, err)
        self.assertIn("C: MAIL FROM:<a@x>\nS: 250 2.1.0 Ok\n"
                      "C: RCPT TO:<b@y>\nS: 250 2.1.5 Ok\n"
                      "C: RCPT TO:<c@y>\nS: 250 2.1.5 Ok\nC: DATA\n", out)


class Chunking(unittest.TestCase):
    def test_bdat_when_offered(self):
        ehlo = "250-chunky.example\r\n250-PIPELINING\r\n250 CHUNKING"
        with ScriptServer([{"EHLO": ehlo, "BDAT": "250 2.0.0 chunk ok"}]) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--chunking", "-v"],
                                message("line\n.dot\n"))
            chunks = srv.chunks
            seen = srv.seen[0]
        self.assertEqual(rc, 0, err)
        # BDAT carries the octets as they are: CRLF, no dot-stuffing
        self.assertEqual(chunks, [message("line\n.dot\n").replace(b"\n", b"\r\n")])
        self.assertEqual(seen[-1], "QUIT")
        verbs = [c.split()[0] for c in client_lines(out)]
        self.assertIn("BDAT", verbs)
        self.assertNotIn("DATA", verbs)

    def test_no_bdat_when_not_offered(self):
        with SmtpSink() as sink:	# no CHUNKING in smtp-sink
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--chunking", "-v"],
                                message())
        self.assertEqual(rc, 0, err)
        verbs = [c.split()[0] for c in client_lines(out)]
        self.assertNotIn("BDAT", verbs)
        self.assertIn("DATA", verbs)


class AfterHelo(unittest.TestCase):
    def test_nothing_used_after_helo(self):
        """After a HELO fallback nothing is offered, so nothing is used,
        even what the job asked for (DSN, pipelining, BDAT)."""
        with SmtpSink("-e") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--to", "c@y", "--chunking",
                                 "-v"] + Dsn.ARGS, message())
            dump = sink.dumped()
        self.assertEqual(rc, 0, err)
        self.assertIn("X-Mail-Args: <a@x>\n", dump)
        self.assertIn("C: MAIL FROM:<a@x>\nS: 250", out)
        self.assertNotIn("BDAT", out)


if __name__ == "__main__":
    unittest.main()
