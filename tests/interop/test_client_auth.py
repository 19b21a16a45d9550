#!/usr/bin/env python3
"""
NAME
    test_client_auth - client AUTH (RFC 4954) through Cyrus SASL

DESCRIPTION
    aiosmtpd offers AUTH PLAIN and LOGIN with a test authenticator.  The
    client authenticates only when AUTH is offered, keeps the secret out
    of the transcript, and exits EX_NOPERM (77) when refused.

    AUTH goes only under TLS unless --auth-plaintext allows the clear:
    without --starttls the job fails before AUTH (77); with
    --starttls=may and STARTTLS not offered, or refused (aiosmtpd made to
    answer 454), it is deferred (75) and no AUTH is sent; after a real
    STARTTLS it authenticates.
"""
import shutil
import tempfile
import unittest

from test_client_support import Aiosmtpd, SmtpSink, client_lines, message, \
    self_signed, send

PLAIN = ["--auth-plaintext"]


def verbs(out):
    return [c.split()[0] for c in client_lines(out)]


class Auth(unittest.TestCase):
    def test_auth_plain(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice",
                                 "--auth-password", "s3cret",
                                 "--auth-mech", "PLAIN", "-v"] + PLAIN, message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertIn("C: AUTH PLAIN ****", out)
        self.assertIn("S: 235", out)
        self.assertNotIn("s3cret", out)
        self.assertTrue(got[0]["auth"])

    def test_auth_login_challenges(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice",
                                 "--auth-mech", "LOGIN", "-v"] + PLAIN, message())
        # no password given (nor EHLOD_AUTH_PASSWORD): LOGIN sends ""
        self.assertEqual(rc, 77, err)
        self.assertIn("C: AUTH LOGIN", out)
        self.assertEqual(out.count("S: 334"), 2)	# user name, password
        self.assertIn("bounced at AUTH: 535", err)

    def test_password_from_environment(self):
        import os
        os.environ["EHLOD_AUTH_PASSWORD"] = "s3cret"
        try:
            with Aiosmtpd(user="alice", password="s3cret") as srv:
                rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                     "--to", "b@y", "--auth-user", "alice",
                                     "--auth-mech", "LOGIN", "-v"] + PLAIN, message())
        finally:
            del os.environ["EHLOD_AUTH_PASSWORD"]
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count("C: ****"), 2)
        self.assertNotIn("s3cret", out)

    def test_wrong_password(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice",
                                 "--auth-password", "wrong", "-v"] + PLAIN, message())
            got = srv.received()
        self.assertEqual(rc, 77, err)
        self.assertIn("bounced at AUTH: 535", err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertEqual(got, [])

    def test_auth_not_offered(self):
        with SmtpSink("-a") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice",
                                 "--auth-password", "x", "-v"] + PLAIN,
                                message())
        self.assertEqual(rc, 77, err)
        self.assertIn("does not offer AUTH", err)
        self.assertNotIn("AUTH", [c.split()[0] for c in client_lines(out)])


class NotInTheClear(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        cls.dir = tempfile.mkdtemp(prefix="ehlod-auth-tls-")
        cls.cert, cls.key = self_signed(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    AUTH = ["--from", "a@x", "--to", "b@y", "--auth-user", "alice",
            "--auth-password", "s3cret", "-v"]

    def test_no_starttls_no_auth(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server] + self.AUTH,
                                message())
            got = srv.received()
        self.assertEqual(rc, 77, err)
        self.assertIn("bounced at AUTH", err)
        self.assertIn("AUTH not sent", err)
        self.assertIn("250-AUTH", out)	# offered, and still not used
        self.assertNotIn("AUTH", verbs(out))
        self.assertNotIn("MAIL", verbs(out))
        self.assertNotIn("s3cret", out)
        self.assertEqual(got, [])

    def test_starttls_may_not_offered(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--starttls=may"] +
                                self.AUTH, message())
            got = srv.received()
        self.assertEqual(rc, 75, err)
        self.assertIn("STARTTLS was not offered", err)
        self.assertNotIn("AUTH", verbs(out))
        self.assertEqual(got, [])

    def test_starttls_may_refused(self):
        with Aiosmtpd(user="alice", password="s3cret", cert=self.cert,
                      key=self.key,
                      starttls_reply="454 4.7.0 TLS not available") as srv:
            rc, out, err = send(["--server", srv.server, "--starttls=may"] +
                                self.AUTH, message())
            got = srv.received()
        self.assertEqual(rc, 75, err)
        self.assertIn("S: 454 4.7.0 TLS not available", out)
        self.assertIn("STARTTLS was refused", err)
        self.assertEqual(verbs(out), ["EHLO", "STARTTLS", "QUIT"])
        self.assertEqual(got, [])

    def test_starttls_may_refused_plaintext_allowed(self):
        with Aiosmtpd(user="alice", password="s3cret", cert=self.cert,
                      key=self.key,
                      starttls_reply="454 4.7.0 TLS not available") as srv:
            rc, out, err = send(["--server", srv.server, "--starttls=may"] +
                                self.AUTH + PLAIN, message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertEqual(verbs(out)[:3], ["EHLO", "STARTTLS", "AUTH"])
        self.assertTrue(got[0]["auth"])
        self.assertFalse(got[0]["tls"])

    def test_auth_after_starttls(self):
        with Aiosmtpd(user="alice", password="s3cret", cert=self.cert,
                      key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--starttls=may",
                                 "--tls-ca-file", self.cert,
                                 "--tls-server-name", "localhost"] +
                                self.AUTH, message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertEqual(verbs(out)[:4], ["EHLO", "STARTTLS", "EHLO", "AUTH"])
        self.assertTrue(got[0]["auth"])
        self.assertTrue(got[0]["tls"])


if __name__ == "__main__":
    unittest.main()
