#!/usr/bin/env python3
"""
NAME
    test_client_lmtp - client LMTP (RFC 2033): LHLO and one reply per
    recipient after the data, over TCP and a unix socket

DESCRIPTION
    smtp-sink -L speaks LMTP.  The transcript must show LHLO (never EHLO
    or HELO) and, after the final ".", one reply for each accepted
    recipient.
"""
import unittest

from test_client_support import SmtpSink, client_lines, message, send


def after_dot(out):
    return out.split("C: .\n", 1)[1]


class Lmtp(unittest.TestCase):
    def check(self, sink):
        rc, out, err = send(["--server", sink.server, "--lmtp", "--from",
                             "a@x", "--to", "b@y", "--to", "c@y", "-v"],
                            message())
        self.assertEqual(rc, 0, err)
        verbs = [c.split()[0] for c in client_lines(out)]
        self.assertEqual(verbs[0], "LHLO")
        self.assertNotIn("EHLO", verbs)
        self.assertNotIn("HELO", verbs)
        tail = after_dot(out)
        self.assertEqual(len([l for l in tail.splitlines()
                              if l.startswith("S: 250")]), 2)
        self.assertIn("X-Client-Proto: LMTP", sink.dumped())

    def test_lmtp_tcp(self):
        with SmtpSink("-L") as sink:
            self.check(sink)

    def test_lmtp_unix_socket(self):
        with SmtpSink("-L", unix=True) as sink:
            self.check(sink)

    def test_lhlo_refused_is_no_helo(self):
        """LMTP has no HELO: a refused LHLO ends the session."""
        with SmtpSink("-L", "-f", "LHLO") as sink:
            rc, out, err = send(["--server", sink.server, "--lmtp", "--from",
                                 "a@x", "--to", "b@y", "-v"], message())
        self.assertEqual(rc, 69, err)
        self.assertEqual([c.split()[0] for c in client_lines(out)],
                         ["LHLO", "QUIT"])
        self.assertIn("bounced at LHLO: 500", err)


if __name__ == "__main__":
    unittest.main()
