"""DATA: 354, dot-unstuffing, bare CR / bare LF (SMTP smuggling), size
limits while reading, data_timeout.

Bare LF or bare CR anywhere in the message makes the server refuse it
with a 5xx after the real end of data (CRLF.CRLF) and deliver nothing; a
"\\n.\\n" followed by MAIL FROM ... must not end the message nor start a
second transaction.  A message bigger than the SIZE limit or
message_size_limit is refused 552 and nothing is delivered.
"""

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, sample_message,
                       dot_stuff, lf)

HEAD = (b"From: s@x.test\r\nTo: u@example.org\r\nSubject: smuggling\r\n"
        b"\r\n")
INJECTED = (b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@example.org>\r\n"
            b"DATA\r\nFrom: evil@x.test\r\nSubject: injected\r\n\r\n"
            b"smuggled\r\n")


class DataTest(EhlodTestCase):

    def open_data(self, s, sender="s@x.test"):
        ehlo(s)
        self.assertCode(s.cmd("MAIL FROM:<%s>" % sender), 250)
        self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
        r = s.cmd("DATA")
        self.assertCode(r, 354)
        return r

    def test_data_354_then_250(self):
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(dot_stuff(sample_message()))
            self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def test_dot_unstuffing_250(self):
        body = (b"..x\r\n"
                b"...\r\n"
                b"..\r\n"
                b"a.b\r\n"
                b" .\r\n"
                b"end\r\n")
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(HEAD + body + b".\r\n")
            self.assertCode(s.reply(), 250)
        files = server.delivered()
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(lf(HEAD) + b".x\n..\n.\na.b\n .\n"
                                          b"end\n"), files[0])

    def test_smtplib_dot_stuffing_roundtrip_250(self):
        body = b".hidden\r\n.\r\n..two\r\nok\r\n"
        message = sample_message(body=body)
        with Ehlod() as server, server.smtp() as client:
            client.sendmail("s@x.test", ["u@example.org"], message)
        files = server.delivered()
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(lf(message)))

    def test_empty_message_250(self):
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(b".\r\n")
            self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def smuggle(self, payload):
        """Send payload after DATA; return the replies up to QUIT's."""
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(payload)
            first = s.reply()
            replies = [first]
            try:
                s.send(b"QUIT\r\n")
                while True:
                    r = s.reply(timeout=3)
                    replies.append(r)
                    if r.code == 221:
                        break
            except Exception:
                pass  # the server may close after refusing the message
        return server, replies

    def check_refused(self, server, replies):
        self.assertEqual(replies[0].code // 100, 5,
                         "message with bare CR/LF must be refused: %r"
                         % replies)
        for r in replies[1:]:
            self.assertNotIn(r.code, (250, 354),
                             "an injected command was answered: %r"
                             % replies)
        self.assertEqual(server.delivered(), [], "nothing is delivered")
        self.assertNotIn("from=<evil@x.test>", server.log(),
                         "no transaction for the injected MAIL FROM")

    def test_smuggling_lf_dot_lf_5xx(self):
        payload = HEAD + b"line\n.\n" + INJECTED + b".\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_smuggling_lf_dot_crlf_5xx(self):
        payload = HEAD + b"line\n.\r\n" + INJECTED + b".\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_smuggling_crlf_dot_lf_5xx(self):
        payload = HEAD + b"line\r\n.\n" + INJECTED + b".\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_smuggling_cr_dot_cr_5xx(self):
        payload = HEAD + b"line\r.\r" + INJECTED + b".\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_smuggling_cr_dot_crlf_5xx(self):
        payload = HEAD + b"line\r.\r\n" + INJECTED + b".\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_bare_cr_in_body_5xx(self):
        payload = HEAD + b"a\rb\r\n.\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_bare_lf_in_header_5xx(self):
        payload = b"Subject: x\nX-Other: y\r\n\r\nbody\r\n.\r\n"
        self.check_refused(*self.smuggle(payload))

    def test_after_refused_message_next_transaction_250(self):
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(HEAD + b"bad\nline\r\n.\r\n")
            r = s.reply()
            self.assertEqual(r.code // 100, 5, r)
            if r.code == 421:
                return
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(sample_message()))
            self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def test_over_size_limit_552(self):
        big = sample_message(body=(b"z" * 998 + b"\r\n") * 1100)
        self.assertGreater(len(big), 1000000)
        with Ehlod() as server, server.raw() as s:
            self.open_data(s)
            s.send(dot_stuff(big))
            r = s.reply()
            self.assertCode(r, 552)
            self.assertEnhanced(r, "5.3.4")
            self.assertCode(s.cmd("NOOP"), 250)
        self.assertEqual(server.delivered(), [])
        self.assertEqual(server.leftovers(), [])

    def test_declared_size_lie_552(self):
        big = sample_message(body=(b"z" * 998 + b"\r\n") * 1100)
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> SIZE=100"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(big))
            self.assertCode(s.reply(), 552)
        self.assertEqual(server.delivered(), [])

    def test_smtplib_over_size_limit_552(self):
        import smtplib
        big = sample_message(body=(b"q" * 500 + b"\r\n") * 2100)
        with Ehlod() as server, server.smtp() as client:
            client.ehlo()
            code, _ = client.mail("s@x.test")
            self.assertEqual(code, 250)
            self.assertEqual(client.rcpt("u@example.org")[0], 250)
            code, _ = client.data(big)
            self.assertEqual(code, 552)
            with self.assertRaises(smtplib.SMTPSenderRefused) as ctx:
                client.sendmail("s@x.test", ["u@example.org"], big)
            self.assertEqual(ctx.exception.smtp_code, 552)
        self.assertEqual(server.delivered(), [])

    def test_message_size_limit_without_size_plugin_552(self):
        plugins = [("pipelining", {}), ("maildir", {})]
        big = sample_message(body=(b"w" * 100 + b"\r\n") * 200)
        small = sample_message(body=b"short\r\n")
        with Ehlod(plugins=plugins, message_size_limit=10000) as server:
            with server.raw() as s:
                self.open_data(s)
                s.send(dot_stuff(big))
                self.assertCode(s.reply(), 552)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
                self.assertCode(s.cmd("DATA"), 354)
                s.send(dot_stuff(small))
                self.assertCode(s.reply(), 250)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            self.assertTrue(files[0].endswith(lf(small)))

    def test_data_timeout_421(self):
        with Ehlod(data_timeout=2) as server, server.raw() as s:
            self.open_data(s)
            s.send(HEAD + b"partial line\r\n")
            r = s.reply(timeout=8)
            self.assertCode(r, 421)
            self.assertTrue(s.wait_closed(5))
        self.assertEqual(server.delivered(), [])
        self.assertEqual(server.leftovers(), [])

    def test_client_disconnect_in_data_nothing_delivered(self):
        with Ehlod() as server:
            with server.raw() as s:
                self.open_data(s)
                s.send(HEAD + b"half a message\r\n")
            with server.raw() as s2:  # the server is still fine
                self.assertCode(s2.cmd("NOOP"), 250)
                self.assertCode(s2.cmd("QUIT"), 221)
        self.assertEqual(server.delivered(), [])
        self.assertEqual(server.leftovers(), [])


if __name__ == "__main__":
    main()
