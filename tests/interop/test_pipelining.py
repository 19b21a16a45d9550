"""PIPELINING (RFC 2920): commands sent in one write are answered in order.

MAIL/RCPT/RCPT/DATA in one write gives 250 250 250 354; several whole
transactions (with their messages) in one write give every reply in order
and one Maildir file each; a failing command inside a batch does not
disturb the replies to the others; a long batch of NOOPs loses nothing.
"""

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, sample_message,
                       dot_stuff, lf)


class PipeliningTest(EhlodTestCase):

    def test_pipelining_offered_250(self):
        with Ehlod() as server, server.raw() as s:
            self.assertIn("PIPELINING", ehlo(s).lines[1:])

    def test_mail_rcpt_rcpt_data_in_one_write_250_250_250_354(self):
        message = sample_message()
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<u@example.org>\r\n"
                   "RCPT TO:<v@example.org>\r\nDATA\r\n")
            self.assertEqual(s.codes(4), [250, 250, 250, 354])
            s.send(dot_stuff(message))
            self.assertCode(s.reply(), 250)
        files = server.delivered()
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(lf(message)))

    def test_whole_transactions_in_one_write_in_order(self):
        messages = [sample_message(subject="batch %d" % i) for i in range(3)]
        batch = b""
        for i, message in enumerate(messages):
            batch += (b"MAIL FROM:<s%d@x.test>\r\nRCPT TO:<u%d@example.org>"
                      b"\r\nDATA\r\n" % (i, i)) + dot_stuff(message)
        batch += b"QUIT\r\n"
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send(batch)
            codes = s.codes(3 * 4 + 1)
            self.assertEqual(codes, [250, 250, 354, 250] * 3 + [221])
        files = server.delivered()
        self.assertEqual(len(files), 3)
        for message in messages:
            self.assertEqual(sum(f.endswith(lf(message)) for f in files), 1)

    def test_errors_inside_batch_keep_order(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("MAIL FROM:<s@x.test>\r\n"
                   "RCPT TO:<u@other.test>\r\n"
                   "RCPT TO:<u@@example.org>\r\n"
                   "RCPT TO:<u@example.org>\r\n"
                   "BOGUS\r\n"
                   "DATA\r\n")
            self.assertEqual(s.codes(6), [250, 554, 501, 250, 500, 354])
            s.send(dot_stuff(sample_message()))
            self.assertCode(s.reply(), 250)
        self.assertEqual(len(server.delivered()), 1)

    def test_failed_mail_then_pipelined_rcpt_data_503(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("MAIL FROM:<s@x.test> SIZE=5000000\r\n"
                   "RCPT TO:<u@example.org>\r\n"
                   "DATA\r\n"
                   "NOOP\r\n")
            self.assertEqual(s.codes(4), [552, 503, 503, 250])
        self.assertEqual(server.delivered(), [])

    def test_many_noops_in_one_write_250(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("NOOP\r\n" * 500 + "QUIT\r\n")
            codes = s.codes(501)
            self.assertEqual(codes, [250] * 500 + [221])

    def test_ehlo_and_transaction_in_one_write(self):
        with Ehlod() as server, server.raw() as s:
            s.send(b"EHLO client.test\r\nMAIL FROM:<s@x.test>\r\n"
                   b"RCPT TO:<u@example.org>\r\nDATA\r\n"
                   + dot_stuff(sample_message()) + b"QUIT\r\n")
            self.assertEqual(s.codes(6), [250, 250, 250, 354, 250, 221])
        self.assertEqual(len(server.delivered()), 1)

    def test_byte_by_byte_commands_250(self):
        with Ehlod() as server, server.raw() as s:
            for ch in b"EHLO client.test\r\n":
                s.send(bytes([ch]))
            self.assertCode(s.reply(), 250)
            for ch in b"NOOP\r\n":
                s.send(bytes([ch]))
            self.assertCode(s.reply(), 250)


if __name__ == "__main__":
    main()
