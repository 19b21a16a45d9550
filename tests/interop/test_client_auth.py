#!/usr/bin/env python3
"""
NAME
    test_client_auth - client AUTH (RFC 4954) through Cyrus SASL

DESCRIPTION
    aiosmtpd offers AUTH PLAIN and LOGIN with a test authenticator.  The
    client authenticates only when AUTH is offered, keeps the secret out
    of the transcript, and exits EX_NOPERM (77) when refused.  AUTH goes
    only over TLS unless --auth-plaintext allows it on a plain connection
    (the plain-connection cases below say so explicitly).  A server that
    offers STARTTLS and refuses it (aiosmtpd made to answer 454) gets no
    AUTH either: a temporary failure (75), or AUTH in the clear when
    --auth-plaintext allows it.
"""
import tempfile
import shutil
import unittest

from test_client_support import Aiosmtpd, SmtpSink, client_lines, message, \
    self_signed, send


class Auth(unittest.TestCase):
    def test_auth_plain(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice", "--auth-plaintext",
                                 "--auth-password", "s3cret",
                                 "--auth-mech", "PLAIN", "-v"], message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertIn("C: AUTH PLAIN ****", out)
        self.assertIn("S: 235", out)
        self.assertNotIn("s3cret", out)
        self.assertTrue(got[0]["auth"])

    def test_auth_login_challenges(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice", "--auth-plaintext",
                                 "--auth-mech", "LOGIN", "-v"], message())
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
                                     "--to", "b@y", "--auth-user", "alice", "--auth-plaintext",
                                     "--auth-mech", "LOGIN", "-v"], message())
        finally:
            del os.environ["EHLOD_AUTH_PASSWORD"]
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count("C: ****"), 2)
        self.assertNotIn("s3cret", out)

    def test_wrong_password(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice", "--auth-plaintext",
                                 "--auth-password", "wrong", "-v"], message())
            got = srv.received()
        self.assertEqual(rc, 77, err)
        self.assertIn("bounced at AUTH: 535", err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertEqual(got, [])

    def test_auth_not_offered(self):
        with SmtpSink("-a") as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice", "--auth-plaintext",
                                 "--auth-password", "x", "-v"], message())
        self.assertEqual(rc, 77, err)
        self.assertIn("does not offer AUTH", err)
        self.assertNotIn("AUTH", [c.split()[0] for c in client_lines(out)])


class PlaintextAuth(unittest.TestCase):
    def assert_no_auth_sent(self, rc, out, err, got):
        self.assertEqual(rc, 77, err)
        self.assertIn("AUTH refused without TLS", err)
        self.assertNotIn("AUTH", [c.split()[0] for c in client_lines(out)])
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertEqual(got, [])

    def test_no_auth_without_tls(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--auth-user", "alice",
                                 "--auth-password", "s3cret", "-v"],
                                message())
            got = srv.received()
        self.assert_no_auth_sent(rc, out, err, got)

    def test_no_auth_when_starttls_may_is_not_offered(self):
        with Aiosmtpd(user="alice", password="s3cret") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls=may",
                                 "--auth-user", "alice",
                                 "--auth-password", "s3cret", "-v"],
                                message())
            got = srv.received()
        self.assert_no_auth_sent(rc, out, err, got)

    def test_auth_under_tls_needs_no_option(self):
        tmp = tempfile.mkdtemp(prefix="ehlod-auth-tls-")
        try:
            cert, key = self_signed(tmp)
            with Aiosmtpd(user="alice", password="s3cret", cert=cert,
                          key=key) as srv:
                rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                     "--to", "b@y", "--starttls",
                                     "--tls-ca-file", cert,
                                     "--tls-server-name", "localhost",
                                     "--auth-user", "alice",
                                     "--auth-password", "s3cret", "-v"],
                                    message())
                got = srv.received()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(rc, 0, err)
        self.assertIn("C: AUTH PLAIN ****", out)
        self.assertTrue(got[0]["tls"] and got[0]["auth"])


class StartTlsRefused(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ehlod-auth-tls-")
        cls.cert, cls.key = self_signed(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_refused(self, *extra):
        with Aiosmtpd(user="alice", password="s3cret", cert=self.cert,
                      key=self.key,
                      starttls_reply="454 4.7.0 TLS not available") as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls=may",
                                 "--auth-user", "alice",
                                 "--auth-password", "s3cret", "-v"] +
                                list(extra), message())
            return rc, out, err, srv.received()

    def test_refused_starttls_no_auth(self):
        rc, out, err, got = self.run_refused()
        self.assertEqual(rc, 75, err)
        self.assertIn("S: 454 4.7.0 TLS not available", out)
        self.assertIn("AUTH refused without TLS: STARTTLS was refused", err)
        self.assertEqual([c.split()[0] for c in client_lines(out)],
                         ["EHLO", "STARTTLS", "QUIT"])
        self.assertEqual(got, [])

    def test_refused_starttls_plaintext_allowed(self):
        rc, out, err, got = self.run_refused("--auth-plaintext")
        self.assertEqual(rc, 0, err)
        self.assertEqual([c.split()[0] for c in client_lines(out)][:3],
                         ["EHLO", "STARTTLS", "AUTH"])
        self.assertTrue(got[0]["auth"])
        self.assertFalse(got[0]["tls"])

    def test_starttls_may_offered_then_auth(self):
        with Aiosmtpd(user="alice", password="s3cret", cert=self.cert,
                      key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls=may",
                                 "--tls-ca-file", self.cert,
                                 "--tls-server-name", "localhost",
                                 "--auth-user", "alice",
                                 "--auth-password", "s3cret", "-v"],
                                message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertEqual([c.split()[0] for c in client_lines(out)][:4],
                         ["EHLO", "STARTTLS", "EHLO", "AUTH"])
        self.assertTrue(got[0]["tls"] and got[0]["auth"])


if __name__ == "__main__":
    unittest.main()
