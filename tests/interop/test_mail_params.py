"""MAIL FROM syntax and ESMTP parameters (RFC 1869 section 6, RFC 1870,
RFC 6152).

Path syntax errors 501; esmtp-param grammar errors 501 (empty value,
missing keyword, bad keyword character, duplicates); an unknown parameter
555; a known parameter after HELO 555; SIZE over the limit 552, a bad SIZE
value 501; BODY=7BIT/8BITMIME accepted, any other BODY 501; parameter
keywords are case-insensitive.
"""

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo

NO_8BITMIME = [("size", {"limit": 1000000}), ("maildir", {})]


class MailParamsTest(EhlodTestCase):

    def mail(self, server, line, helo="EHLO"):
        with server.raw() as s:
            self.assertCode(s.cmd(helo + " client.test"), 250)
            r = s.cmd(line)
            # whatever happened, the session still answers
            self.assertCode(s.cmd("NOOP"), 250)
            return r

    def test_path_syntax_501(self):
        cases = ["MAIL FROM <s@x.test>",
                 "MAIL FROM:s@x.test",
                 "MAIL FROM:<s@x.test",
                 "MAIL FROM:<a@@b>",
                 "MAIL FROM:<@>",
                 "MAIL FROM:<a b@x.test>",
                 "MAIL FROM:",
                 "MAIL TO:<s@x.test>",
                 "MAIL"]
        with Ehlod() as server:
            for line in cases:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line), 501)

    def test_good_paths_250(self):
        cases = ["MAIL FROM:<s@x.test>",
                 "MAIL FROM:<>",
                 "MAIL FROM: <s@x.test>",
                 "MAIL FROM:<s@[127.0.0.1]>",
                 'MAIL FROM:<"quoted local"@x.test>',
                 "MAIL FROM:<@relay.test:s@x.test>"]
        with Ehlod() as server:
            for line in cases:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line), 250)

    def test_param_grammar_501(self):
        cases = ["MAIL FROM:<s@x.test> SIZE=",
                 "MAIL FROM:<s@x.test> =x",
                 "MAIL FROM:<s@x.test> SI_ZE=1",
                 "MAIL FROM:<s@x.test> SIZE=10 SIZE=10",
                 "MAIL FROM:<s@x.test> size=10 SIZE=20",
                 "MAIL FROM:<s@x.test> BODY=7BIT BODY=8BITMIME",
                 "MAIL FROM:<s@x.test> SIZE=1=2",
                 "MAIL FROM:<s@x.test> -SIZE=1"]
        with Ehlod() as server:
            for line in cases:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line), 501)

    def test_unknown_param_555(self):
        with Ehlod() as server:
            for line in ["MAIL FROM:<s@x.test> FOO=1",
                         "MAIL FROM:<s@x.test> XFOO",
                         "MAIL FROM:<s@x.test> SIZE=10 FOO=1"]:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line), 555)

    def test_param_of_unloaded_plugin_555(self):
        with Ehlod(plugins=NO_8BITMIME) as server:
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> BODY=8BITMIME"),
                            555)

    def test_param_after_helo_555(self):
        with Ehlod() as server:
            for line in ["MAIL FROM:<s@x.test> SIZE=10",
                         "MAIL FROM:<s@x.test> BODY=8BITMIME"]:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line, helo="HELO"),
                                    555)
            # without parameters a HELO session is fine
            self.assertCode(self.mail(server, "MAIL FROM:<s@x.test>",
                                      helo="HELO"), 250)

    def test_size_over_limit_552(self):
        with Ehlod() as server:
            r = self.mail(server, "MAIL FROM:<s@x.test> SIZE=1000001")
            self.assertCode(r, 552)
            self.assertEnhanced(r, "5.3.4")
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> SIZE=99999999999"
                                      "9999999999999999"), 552)

    def test_size_at_limit_250(self):
        with Ehlod() as server:
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> SIZE=1000000"),
                            250)
            self.assertCode(self.mail(server, "MAIL FROM:<s@x.test> SIZE=0"),
                            250)

    def test_size_bad_value_501(self):
        with Ehlod() as server:
            for line in ["MAIL FROM:<s@x.test> SIZE=abc",
                         "MAIL FROM:<s@x.test> SIZE=-1",
                         "MAIL FROM:<s@x.test> SIZE=12k",
                         "MAIL FROM:<s@x.test> SIZE"]:
                with self.subTest(line=line):
                    self.assertCode(self.mail(server, line), 501)

    def test_body_values(self):
        with Ehlod() as server:
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> BODY=8BITMIME"),
                            250)
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> BODY=7BIT"), 250)
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> body=8bitmime"),
                            250)
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> BODY=foo"), 501)
            self.assertCode(self.mail(server,
                                      "MAIL FROM:<s@x.test> BODY"), 501)

    def test_case_insensitive_params_250(self):
        with Ehlod() as server:
            self.assertCode(self.mail(server,
                                      "mail from:<s@x.test> size=10"), 250)
            self.assertCode(self.mail(
                server, "MAIL FROM:<s@x.test> Size=10 bOdY=8BitMime"), 250)

    def test_failed_mail_starts_no_transaction_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> FOO=1"), 555)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> SIZE=2000000"), 552)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 503)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> SIZE=20"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_smtplib_mail_options_250(self):
        with Ehlod() as server, server.smtp() as client:
            client.ehlo()
            code, _ = client.mail("s@x.test", ["SIZE=100", "BODY=8BITMIME"])
            self.assertEqual(code, 250)
            code, _ = client.rcpt("u@example.org")
            self.assertEqual(code, 250)


if __name__ == "__main__":
    main()
