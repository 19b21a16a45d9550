"""Bad command sequences are answered 503 (RFC 5321 4.3.2).

MAIL before HELO/EHLO, RCPT before MAIL, DATA before RCPT (503 or 554),
MAIL inside a transaction, RSET ending a transaction; after each refusal
the session carries on normally.
"""

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, transaction


class SequenceTest(EhlodTestCase):

    def test_mail_before_ehlo_503(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 503)
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_rcpt_before_ehlo_503(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)

    def test_data_before_ehlo_503(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("DATA"), 503)

    def test_rcpt_before_mail_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)

    def test_data_before_mail_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("DATA"), 503)

    def test_data_before_rcpt_503_or_554(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("DATA")
            self.assertIn(r.code, (503, 554), r)
            # not in DATA mode: the next line is a command again
            self.assertCode(s.cmd("NOOP"), 250)

    def test_nested_mail_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("MAIL FROM:<t@x.test>"), 503)
            # the first transaction is intact
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_rset_ends_transaction_250(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)
            self.assertCode(s.cmd("DATA"), 503)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_transaction_ends_after_message_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(transaction(s), 250)
            # the recipients of the last message are gone
            self.assertCode(s.cmd("DATA"), 503)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_rset_before_ehlo_250(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("NOOP"), 250)


if __name__ == "__main__":
    main()
