"""Delivery into Maildir/new, driven by smtplib and raw SMTP.

Checks that a message accepted with 250 lands as exactly one file in
Maildir/new with LF line ends, a Return-Path and a Received header of the
form "from HELO (... [127.0.0.1]) by mx.test (ehlod) with ESMTP id ... for
<rcpt>; date" ("with SMTP" after HELO), and the body byte for byte.
"""

import os
import re

from ehlodtest import (Ehlod, EhlodTestCase, main, sample_message, lf,
                       split_added_headers, unfold, transaction, ehlo)

RECEIVED_RE = (r"Received: from %s \([^)]*\[127\.0\.0\.1\][^)]*\)\s+"
               r"by mx\.test \(ehlod\) with %s id \S+\s+"
               r"for <%s>; \S.*")


class DeliveryTest(EhlodTestCase):

    def check_added_headers(self, prefix, helo, proto, rcpt, sender):
        text = unfold(prefix.decode("utf-8", "replace"))
        lines = text.split("\n")
        self.assertEqual(lines[-1], "", "added headers end with a newline")
        lines = lines[:-1]
        # Return-Path and Received must be there; Delivered-To (as
        # Postfix's local delivery writes it) may be.
        for line in lines:
            self.assertRegex(line, r"^(Return-Path|Received|Delivered-To):",
                             "only trace headers are added")
            if line.startswith("Delivered-To:"):
                self.assertEqual(line, "Delivered-To: " + rcpt)
        self.assertIn("Return-Path: <%s>" % sender, lines)
        received = [l for l in lines if l.startswith("Received:")]
        self.assertEqual(len(received), 1, lines)
        self.assertRegex(received[0], RECEIVED_RE % (
            re.escape(helo), proto, re.escape(rcpt)))

    def test_smtplib_message_delivered_250(self):
        message = sample_message()
        with Ehlod() as server:
            with server.smtp(helo="client.test") as client:
                refused = client.sendmail("s@x.test", ["u@example.org"],
                                          message)
                self.assertEqual(refused, {})
                code, _ = client.noop()
                self.assertEqual(code, 250)
            files = server.delivered()
            self.assertEqual(len(files), 1, "one file per message")
            delivered = files[0]
            self.assertNotIn(b"\r", delivered, "Maildir uses LF line ends")
            prefix = split_added_headers(delivered, lf(message))
            self.check_added_headers(prefix, "client.test", "ESMTP",
                                     "u@example.org", "s@x.test")
            self.assertEqual(server.leftovers(), [], "nothing left in tmp/")

    def test_helo_session_received_with_smtp_250(self):
        message = sample_message()
        with Ehlod() as server:
            with server.raw() as s:
                self.assertCode(s.cmd("HELO oldclient.test"), 250)
                self.assertCode(transaction(s, message=message), 250)
                self.assertCode(s.cmd("QUIT"), 221)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            prefix = split_added_headers(files[0], lf(message))
            self.check_added_headers(prefix, "oldclient.test", "SMTP",
                                     "u@example.org", "s@x.test")

    def test_null_sender_return_path_250(self):
        message = sample_message()
        with Ehlod() as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(s, sender="", message=message),
                                250)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            prefix = split_added_headers(files[0], lf(message))
            self.assertIn(b"Return-Path: <>\n", prefix)

    def test_two_messages_two_files_250(self):
        first = sample_message(subject="first")
        second = sample_message(subject="second")
        with Ehlod() as server:
            with server.smtp() as client:
                client.sendmail("s@x.test", ["u@example.org"], first)
                client.sendmail("s@x.test", ["v@example.org"], second)
            files = server.delivered_files()
            self.assertEqual(len(files), 2)
            self.assertNotEqual(files[0][0], files[1][0])
            bodies = sorted(content for _n, content in files)
            self.assertTrue(any(b.endswith(lf(first)) for b in bodies))
            self.assertTrue(any(b.endswith(lf(second)) for b in bodies))

    def test_two_recipients_one_file_250(self):
        message = sample_message()
        with Ehlod() as server:
            with server.smtp() as client:
                refused = client.sendmail(
                    "s@x.test", ["u@example.org", "v@example.org"], message)
                self.assertEqual(refused, {})
            files = server.delivered()
            self.assertEqual(len(files), 1, "one file per accepted message")
            self.assertTrue(files[0].endswith(lf(message)))

    def test_8bit_body_byte_for_byte_250(self):
        body = "Grüße aus Köln, ½ € \u00e9t\u00e9\r\n".encode("utf-8") * 3
        message = sample_message(body=body)
        with Ehlod() as server:
            with server.smtp() as client:
                client.ehlo()
                self.assertTrue(client.has_extn("8bitmime"))
                refused = client.sendmail("s@x.test", ["u@example.org"],
                                          message,
                                          mail_options=["BODY=8BITMIME"])
                self.assertEqual(refused, {})
            files = server.delivered()
            self.assertEqual(len(files), 1)
            self.assertTrue(files[0].endswith(lf(message)))

    def test_large_message_250(self):
        body = b"".join(b"%06d %s\r\n" % (i, b"x" * 70)
                        for i in range(8000))
        message = sample_message(body=body)
        with Ehlod() as server:
            with server.smtp() as client:
                refused = client.sendmail("s@x.test", ["u@example.org"],
                                          message)
                self.assertEqual(refused, {})
            files = server.delivered()
            self.assertEqual(len(files), 1)
            self.assertTrue(files[0].endswith(lf(message)))

    def test_maildir_layout_created_250(self):
        with Ehlod() as server:
            with server.smtp() as client:
                client.sendmail("s@x.test", ["u@example.org"],
                                sample_message())
            for sub in ("tmp", "new", "cur"):
                self.assertTrue(os.path.isdir(os.path.join(server.maildir,
                                                           sub)), sub)

    def test_maildir_failure_4xx_nothing_partial(self):
        # After a first delivery made the folders, new/ is replaced by a
        # file: the rename fails, so the client must hear 451/452 and
        # neither new/ nor tmp/ may keep a piece of the message.
        with Ehlod() as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(s), 250)
                new = os.path.join(server.maildir, "new")
                os.rename(new, new + ".saved")
                with open(new, "w") as f:
                    f.write("not a directory\n")
                r = transaction(s)
                self.assertIn(r.code, (451, 452), r)
                # the session goes on after the failure
                self.assertCode(s.cmd("NOOP"), 250)
            self.assertEqual(server.leftovers(), [], "partial file in tmp/")
            self.assertEqual(len(os.listdir(new + ".saved")), 1)

    def test_discard_accepts_and_drops_250(self):
        plugins = [("pipelining", {}), ("discard", {})]
        with Ehlod(plugins=plugins) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(s), 250)
                self.assertCode(transaction(s), 250)
            self.assertEqual(server.delivered(), [])

    def test_no_delivery_plugin_refuses_message_4xx_or_5xx(self):
        # Without a plugin that stores the message nothing may say 250.
        with Ehlod(plugins=[("pipelining", {})]) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
                self.assertCode(s.cmd("DATA"), 354)
                s.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
                r = s.reply()
                self.assertIn(r.code // 100, (4, 5), r)


if __name__ == "__main__":
    main()
