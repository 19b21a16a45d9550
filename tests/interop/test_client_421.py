#!/usr/bin/env python3
"""
NAME
    test_client_421 - RFC 1869 client: 421 means the server is closing;
    report a temporary failure and do not go on

DESCRIPTION
    smtp-sink -Q VERB sends "421" and disconnects after that command.
    The client must stop at once (no HELO fallback, no further command)
    and exit with EX_TEMPFAIL (75), naming the step and the server's text.
"""
import unittest

from test_client_support import SmtpSink, client_lines, message, send


def run(*sink_opts):
    with SmtpSink(*sink_opts) as sink:
        return send(["--server", sink.server, "--from", "a@x", "--to", "b@y",
                     "-v"], message())


class Closing421(unittest.TestCase):
    def test_421_to_ehlo(self):
        rc, out, err = run("-Q", "EHLO")
        self.assertEqual(rc, 75, err)
        self.assertEqual(client_lines(out), ["EHLO " + client_lines(out)[0][5:]])
        self.assertIn("S: 421", out)
        self.assertIn("deferred at EHLO: 421", err)
        self.assertIn("Server closing connection", err)

    def test_421_greeting(self):
        rc, out, err = run("-Q", "CONNECT")
        self.assertEqual(rc, 75, err)
        self.assertEqual(client_lines(out), [])
        self.assertIn("deferred at greeting: 421", err)

    def test_421_to_mail(self):
        rc, out, err = run("-p", "-Q", "MAIL")
        self.assertEqual(rc, 75, err)
        self.assertNotIn("DATA", [c.split()[0] for c in client_lines(out)])
        self.assertIn(": 421", err)


if __name__ == "__main__":
    unittest.main()
