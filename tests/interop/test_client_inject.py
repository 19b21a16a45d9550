#!/usr/bin/env python3
"""
NAME
    test_client_inject - the client never lets an argument change a command

DESCRIPTION
    An address, a HELO name or a DSN value with a CR, an LF, a space or a
    stray '>' would end the command early and add a parameter or a whole
    command of the caller's choosing (MAIL FROM:<a@b.example> SIZE=1>, an
    extra RCPT).  ehlod-send must refuse each before connecting, exit 65
    and say what was wrong.  The peer is Postfix's smtp-sink with -v,
    which logs every command line it receives: it must see none of them,
    while the control case shows it does log what the client sends.
"""
import unittest

from test_client_support import SmtpSink, message, send

GOOD = ["--from", "a@b.example", "--to", "c@d.example"]

# (what is wrong, the options that carry it, a word the error names)
CASES = [
    ("CRLF and a command in --from",
     ["--from", "a@b.example>\r\nRCPT TO:<inj@evil.example",
      "--to", "c@d.example"], "sender address"),
    ("a parameter in --from",
     ["--from", "a@b.example> SIZE=1", "--to", "c@d.example"],
     "sender address"),
    ("a bare LF in --from",
     ["--from", "a@b.example>\nRCPT TO:<inj@evil.example",
      "--to", "c@d.example"], "sender address"),
    ("CRLF and a command in --to",
     ["--from", "a@b.example",
      "--to", "c@d.example>\r\nRCPT TO:<inj@evil.example"],
     "recipient address"),
    ("a parameter in --to",
     ["--from", "a@b.example", "--to", "c@d.example> NOTIFY=NEVER"],
     "recipient address"),
    ("a command hidden in a source route",
     ["--from", "a@b.example",
      "--to", "@evil.example>\r\nRCPT TO:<inj@evil.example:c@d.example"],
     "source route"),
    ("unbalanced brackets in --to",
     ["--from", "a@b.example", "--to", "<c@d.example"],
     "recipient address"),
    ("CRLF and a command in --helo",
     GOOD + ["--helo", "me.example\r\nRCPT TO:<inj@evil.example>"],
     "HELO name"),
    ("a space in --helo",
     GOOD + ["--helo", "me.example RCPT"], "HELO name"),
    ("a parameter in --dsn-notify",
     GOOD + ["--dsn-notify", "NEVER ORCPT=rfc822;inj@evil.example"],
     "NOTIFY"),
    ("CRLF in --dsn-ret",
     GOOD + ["--dsn-ret", "FULL\r\nRSET"], "RET"),
]


class Injection(unittest.TestCase):
    def test_control_the_sink_logs_commands(self):
        """The negative cases below rely on this log: it must show what
        was sent, a quoted local part with a space included."""
        with SmtpSink("-v") as sink:
            rc, out, err = send(["--from", '"a b"@b.example',
                                 "--to", "c@d.example", "--helo",
                                 "me.example", "--server", sink.server],
                                message())
            cmds = sink.commands()
        self.assertEqual(rc, 0, err)
        self.assertIn("EHLO me.example", cmds)
        self.assertIn('MAIL FROM:<"a b"@b.example>', cmds)
        self.assertIn("RCPT TO:<c@d.example>", cmds)

    def test_injection_refused_before_connecting(self):
        for what, args, named in CASES:
            with self.subTest(what), SmtpSink("-v") as sink:
                rc, out, err = send(["--server", sink.server, "-v"] + args,
                                    message())
                cmds = sink.commands()
                self.assertEqual(rc, 65, err)
                self.assertIn("not sent: bad", err)
                self.assertIn(named, err)
                # the error line shows the control characters escaped
                self.assertNotIn("\r", err)
                self.assertNotIn("connection 1", out)
                # (the one connect logged is the test's readiness probe)
                self.assertFalse([c for c in cmds if "evil" in c or
                                  c.startswith(("MAIL", "RCPT", "EHLO",
                                                "HELO", "RSET", "DATA"))],
                                 cmds)


if __name__ == "__main__":
    unittest.main()
