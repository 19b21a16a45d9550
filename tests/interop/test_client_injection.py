#!/usr/bin/env python3
"""
NAME
    test_client_injection - the client sends no command it was not asked to

DESCRIPTION
    A sender, recipient, HELO name or DSN value holding CR, LF, a stray
    '>' or a space would otherwise end the command early and start another
    one (an extra RCPT TO) or add a parameter (SIZE=1).  ehlod-send must
    refuse each before connecting, with the reason, and the server (a real
    aiosmtpd) must see no command from it at all.
"""
import unittest

from test_client_support import Aiosmtpd, client_lines, message, send

EVIL = [
    ("--from", "a@b.example>\r\nRCPT TO:<inj@evil.example"),
    ("--from", "a@b.example>\nRCPT TO:<inj@evil.example"),
    ("--from", "a@b.example> SIZE=1"),
    ("--from", "a@b.example\rx"),
    ("--to", "u@c.example>\r\nRCPT TO:<inj@evil.example"),
    ("--to", "u@c.example> NOTIFY=NEVER"),
    ("--to", "<u@c.example>"),
    ("--helo", "client.example\r\nRCPT TO:<inj@evil.example>"),
    ("--helo", "client.example extra"),
    ("--dsn-notify", "NEVER\r\nRSET"),
    ("--dsn-ret", "FULL ENVID=x"),
    # a source route is text inside the path too
    ("--to", "@evil.example>\r\nRCPT TO:<inj@evil.example:u@c.example"),
    ("--to", "@evil.example> NOTIFY=NEVER:u@c.example"),
]


class Injection(unittest.TestCase):
    def test_each_unsafe_value_is_refused_before_connecting(self):
        with Aiosmtpd() as srv:
            for option, value in EVIL:
                with self.subTest(option=option, value=value):
                    args = {"--from": "a@b.example", "--to": "u@c.example"}
                    args[option] = value
                    argv = ["--server", srv.server, "-v"]
                    for k, v in args.items():
                        argv += [k, v]
                    rc, out, err = send(argv, message())
                    self.assertNotEqual(rc, 0, err)
                    self.assertEqual(client_lines(out), [], out)
                    self.assertRegex(err, r"not a valid|HELO name|DSN")
            got = srv.received()
        self.assertEqual(got, [])

    def test_safe_values_still_deliver(self):
        with Aiosmtpd() as srv:
            rc, out, err = send(["--server", srv.server, "-v",
                                 "--from", "", "--to", "Postmaster",
                                 "--to", "user+tag@[192.0.2.1]",
                                 "--helo", "[127.0.0.1]"], message())
            got = srv.received()
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["mail_from"], "<>")
        self.assertEqual(sorted(got[0]["rcpt_tos"]),
                         sorted(["Postmaster", "user+tag@[192.0.2.1]"]))


if __name__ == "__main__":
    unittest.main()
