#!/usr/bin/env python3
"""
NAME
    test_client_tls - RFC 1869 / RFC 3207 client: STARTTLS, then EHLO again

DESCRIPTION
    aiosmtpd with a throw-away certificate offers STARTTLS.  The client
    must issue EHLO again after the handshake (the extension list may
    change, and here it does: STARTTLS is no longer offered), verify the
    certificate by default, and skip verification only when told to; a
    CA file that cannot be loaded is named as the cause.
"""
import shutil
import tempfile
import unittest

from test_client_support import Aiosmtpd, SmtpSink, client_lines, message, \
    self_signed, send


class StartTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        cls.dir = tempfile.mkdtemp(prefix="ehlod-tls-")
        cls.cert, cls.key = self_signed(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_ehlo_again_after_starttls(self):
        with Aiosmtpd(cert=self.cert, key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls",
                                 "--tls-ca-file", self.cert,
                                 "--tls-server-name", "localhost", "-v"],
                                message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        verbs = [c.split()[0] for c in client_lines(out)]
        self.assertEqual(verbs[:4], ["EHLO", "STARTTLS", "EHLO", "MAIL"])
        self.assertIn("certificate verified", out)
        # the second EHLO reply, not the first, governs: no STARTTLS now
        second = out.split("TLS established", 1)[1]
        self.assertNotIn("STARTTLS", second)
        self.assertTrue(got[0]["tls"])

    def test_verification_on_by_default(self):
        with Aiosmtpd(cert=self.cert, key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls", "-v"],
                                message())
            got = srv.received()
        self.assertEqual(rc, 75, err)
        self.assertIn("deferred at STARTTLS", err)
        self.assertIn("certificate", err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])
        self.assertEqual(got, [])

    def test_unreadable_ca_file_named(self):
        """A CA file that cannot be loaded is said to be the cause, not
        a certificate the server sent."""
        missing = self.dir + "/no-such-ca.pem"
        with Aiosmtpd(cert=self.cert, key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls",
                                 "--tls-ca-file", missing], message())
            got = srv.received()
        self.assertEqual(rc, 75, err)
        self.assertIn("cannot load the CA file %s: No such file or "
                      "directory" % missing, err)
        self.assertEqual(got, [])

    def test_verification_off_when_asked(self):
        with Aiosmtpd(cert=self.cert, key=self.key) as srv:
            rc, out, err = send(["--server", srv.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls",
                                 "--tls-verify=no", "-v"], message())
        self.assertEqual(rc, 0, err)
        self.assertIn("not verified", out)

    def test_required_but_not_offered(self):
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls", "-v"],
                                message())
        self.assertEqual(rc, 75, err)
        self.assertIn("does not offer STARTTLS", err)
        self.assertNotIn("MAIL", [c.split()[0] for c in client_lines(out)])

    def test_may_goes_on_in_the_clear(self):
        with SmtpSink() as sink:
            rc, out, err = send(["--server", sink.server, "--from", "a@x",
                                 "--to", "b@y", "--starttls=may", "-v"],
                                message())
        self.assertEqual(rc, 0, err)
        self.assertNotIn("STARTTLS", client_lines(out))


if __name__ == "__main__":
    unittest.main()
