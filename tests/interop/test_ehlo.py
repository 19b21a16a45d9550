"""Greeting, EHLO and HELO (RFC 5321 4.1.1.1, RFC 1869 section 4).

The 220 greeting; the multi-line EHLO reply with one keyword per loaded
plugin in config order; HELO's single line; 501 without an argument;
case-insensitive verbs; a second EHLO resets the session (250) or, with
second_ehlo = "refuse", is answered 503.
"""

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo

DEFAULT_KEYWORDS = ["PIPELINING", "SIZE 1000000", "8BITMIME",
                    "ENHANCEDSTATUSCODES"]


class EhloTest(EhlodTestCase):

    def test_greeting_220(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.greeting, 220)
            self.assertRegex(s.greeting.lines[0], r"^mx\.test ESMTP( |$)")

    def test_ehlo_keywords_in_config_order_250(self):
        with Ehlod() as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertCode(r, 250)
            self.assertRegex(r.lines[0], r"^mx\.test( |$)")
            self.assertEqual(r.lines[1:], DEFAULT_KEYWORDS)
            raw_lines = r.raw.split(b"\r\n")[:-1]
            for line in raw_lines[:-1]:
                self.assertTrue(line.startswith(b"250-"), line)
            self.assertTrue(raw_lines[-1].startswith(b"250 "), raw_lines)
            self.assertTrue(r.raw.endswith(b"\r\n"))

    def test_ehlo_order_follows_config_250(self):
        plugins = [("8bitmime", {}), ("enhancedstatuscodes", {}),
                   ("size", {"limit": 2000}), ("pipelining", {}),
                   ("maildir", {})]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertCode(r, 250)
            self.assertEqual(r.lines[1:], ["8BITMIME", "ENHANCEDSTATUSCODES",
                                           "SIZE 2000", "PIPELINING"])

    def test_ehlo_without_extensions_single_line_250(self):
        with Ehlod(plugins=[("maildir", {})]) as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertCode(r, 250)
            self.assertEqual(len(r.lines), 1, r)
            self.assertRegex(r.lines[0], r"^mx\.test( |$)")

    def test_smtplib_sees_extensions_250(self):
        with Ehlod() as server, server.smtp() as client:
            code, _ = client.ehlo()
            self.assertEqual(code, 250)
            self.assertTrue(client.does_esmtp)
            self.assertEqual(client.esmtp_features.get("size"), "1000000")
            for keyword in ("pipelining", "8bitmime", "enhancedstatuscodes"):
                self.assertTrue(client.has_extn(keyword), keyword)

    def test_helo_single_line_250(self):
        with Ehlod() as server, server.raw() as s:
            r = s.cmd("HELO client.test")
            self.assertCode(r, 250)
            self.assertEqual(len(r.lines), 1, r)
            self.assertRegex(r.lines[0], r"^mx\.test( |$)")

    def test_ehlo_without_argument_501(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("EHLO"), 501)
            self.assertCode(s.cmd("EHLO "), 501)
            # still not greeted: a transaction needs a good EHLO first
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 503)

    def test_helo_without_argument_501(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("HELO"), 501)

    def test_lower_case_ehlo_250(self):
        with Ehlod() as server, server.raw() as s:
            r = s.cmd("ehlo x")
            self.assertCode(r, 250)
            self.assertEqual(r.lines[1:], DEFAULT_KEYWORDS)

    def test_mixed_case_verbs_250(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("eHlO client.test"), 250)
            self.assertCode(s.cmd("mail from:<s@x.test> size=10"), 250)
            self.assertCode(s.cmd("Rcpt To:<u@example.org>"), 250)
            self.assertCode(s.cmd("rset"), 250)
            self.assertCode(s.cmd("nOoP"), 250)
            self.assertCode(s.cmd("quit"), 221)

    def test_ehlo_address_literal_250(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("EHLO [127.0.0.1]"), 250)

    def test_second_ehlo_resets_transaction_250(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("EHLO again.test")
            self.assertCode(r, 250)
            self.assertEqual(r.lines[1:], DEFAULT_KEYWORDS)
            # the transaction is gone: RCPT without MAIL
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)
            # and a new one can start
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_helo_after_ehlo_resets_transaction_250(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("HELO again.test"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)

    def test_second_ehlo_refused_503(self):
        with Ehlod(second_ehlo="refuse") as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("EHLO again.test"), 503)
            # the refused EHLO changed nothing: the transaction goes on
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_second_helo_refused_503(self):
        with Ehlod(second_ehlo="refuse") as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.assertCode(s.cmd("HELO again.test"), 503)


if __name__ == "__main__":
    main()
