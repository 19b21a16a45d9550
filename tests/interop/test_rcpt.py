"""RCPT TO: local domains, relay refusal, recipient limit, postmaster.

A domain outside local_domains is refused 554 5.7.1 (no open relay); the
recipient past max_recipients gets 452 4.5.3; <postmaster> is accepted;
syntax errors 501; an unknown RCPT parameter 555; only accepted
recipients take part in the message.
"""

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, sample_message,
                       dot_stuff)


class RcptTest(EhlodTestCase):

    def start_mail(self, s):
        ehlo(s)
        self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_local_domain_250(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("RCPT TO:<U.Ser+tag@EXAMPLE.ORG>"), 250)

    def test_relay_denied_554(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            for rcpt in ("u@other.test", "u@sub.example.org",
                         "u@example.org.evil.test", "u@example.org@evil.test"):
                with self.subTest(rcpt=rcpt):
                    r = s.cmd("RCPT TO:<%s>" % rcpt)
                    if rcpt.count("@") > 1:
                        self.assertIn(r.code, (501, 554), r)
                        continue
                    self.assertCode(r, 554)
                    self.assertEnhanced(r, "5.7.1")

    def test_source_route_to_other_domain_554(self):
        # RFC 5321: the source route is ignored; the mailbox decides.
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            r = s.cmd("RCPT TO:<@example.org:u@other.test>")
            self.assertCode(r, 554)

    def test_max_recipients_452(self):
        with Ehlod(max_recipients=3) as server, server.raw() as s:
            self.start_mail(s)
            for i in range(3):
                self.assertCode(s.cmd("RCPT TO:<u%d@example.org>" % i), 250)
            r = s.cmd("RCPT TO:<u3@example.org>")
            self.assertCode(r, 452)
            self.assertEnhanced(r, "4.5.3")
            # the transaction with three recipients goes on
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(sample_message()))
            self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def test_postmaster_250(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            self.assertCode(s.cmd("RCPT TO:<postmaster>"), 250)
            self.assertCode(s.cmd("RCPT TO:<Postmaster>"), 250)
            self.assertCode(s.cmd("RCPT TO:<POSTMASTER>"), 250)

    def test_rcpt_syntax_501(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            for line in ["RCPT TO:u@example.org", "RCPT TO <u@example.org>",
                         "RCPT TO:<u@@example.org>", "RCPT TO:<>",
                         "RCPT TO:", "RCPT FROM:<u@example.org>", "RCPT",
                         "RCPT TO:<user>"]:
                with self.subTest(line=line):
                    self.assertCode(s.cmd(line), 501)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_unknown_rcpt_param_555(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> FOO=bar"), 555)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> SIZE=10"), 555)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> FOO="), 501)

    def test_data_after_only_refused_rcpts_503_or_554(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            r = s.cmd("DATA")
            self.assertIn(r.code, (503, 554), r)
            self.assertCode(s.cmd("NOOP"), 250)
        self.assertEqual(server.delivered(), [])

    def test_only_accepted_rcpts_in_message_250(self):
        with Ehlod() as server, server.raw() as s:
            self.start_mail(s)
            self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(sample_message()))
            self.assertCode(s.reply(), 250)
        files = server.delivered()
        self.assertEqual(len(files), 1)
        self.assertIn(b"for <u@example.org>", files[0])
        self.assertNotIn(b"other.test>", files[0].split(b"\n\n")[0])


if __name__ == "__main__":
    main()
