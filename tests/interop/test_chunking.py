#!/usr/bin/env python3
"""
NAME
    test_chunking - the chunking plugin (BDAT, RFC 3030) and binarymime

DESCRIPTION
    A raw-socket client sends BDAT chunks of 0, 1 and many octets, BDAT 0
    LAST, pipelined BDAT commands with their data in one write, and
    binary content with NUL octets, bare CR, bare LF and a lone "." line
    between CRLFs (which would end DATA but is plain content in a chunk).
    The project's own client, ehlod-send --chunking, sends one message
    through BDAT too.

    How "byte-identical" is checked.  The maildir plugin turns CRLF into
    LF, as maildir readers expect, so a maildir file can only show the
    content up to that mapping: file == trace headers + lf(sent).  That
    misses a server that adds or drops a CR before an LF.  So the
    content tests deliver through "capture" (tests/plugins/capture.c), a
    delivery step that writes what the server hands to delivery plugins
    without changing an octet; there the check is exact:
    file == the server's Received header + CRLF + the octets sent.
    (The header fields are rewritten by the server as "Name:value" CRLF,
    which for the "Name: value" CRLF fields sent here is the same octets.)

    Bad input, each with its reply: BDAT without RCPT 503 (and its chunk
    read and dropped, never taken for commands), bad sizes 501, DATA after
    BDAT 503, DATA with BODY=BINARYMIME 503, chunks over the size plugin's
    limit and over the server's message_size_limit 552.
"""
import os
import subprocess

from ehlodtest import (Capture, Ehlod, EhlodTestCase, main, lf, ehlo,
                       split_added_headers, env_path)

SIZE_LIMIT = 1000000


def plugins(delivery=None, size_limit=SIZE_LIMIT, binarymime=True):
    """pipelining, size, 8bitmime, codes, chunking[, binarymime], delivery."""
    out = [("pipelining", {}), ("size", {"limit": size_limit}),
           ("8bitmime", {}), ("enhancedstatuscodes", {}),
           ("chunking", {})]
    if binarymime:
        out.append(("binarymime", {}))
    out.append(delivery or ("maildir", {}))
    return out


def message(body):
    head = (b"From: Sender <s@x.test>\r\n"
            b"To: User <u@example.org>\r\n"
            b"Subject: chunks\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"\r\n")
    return head + body


# Every octet value, then the sequences a DATA reader would treat
# specially: bare CR, bare LF, NUL, CRLF.CRLF, a dot at a line start.
BINARY_BODY = (bytes(range(256)) + b"\r\n.\r\n" + b"\rbare CR\r" +
               b"\nbare LF\n" + b"\x00\x00NUL\x00" + b"\r\n..two dots\r\n" +
               b"no final line end")


def start_transaction(test, s, mail="MAIL FROM:<s@x.test>"):
    ehlo(s)
    test.assertCode(s.cmd(mail), 250)
    test.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)


def bdat(s, data, last=False):
    """One BDAT command with its chunk; returns the reply."""
    s.send(b"BDAT %d%s\r\n" % (len(data), b" LAST" if last else b"") +
           data)
    return s.reply()


def send_chunks(s, data, sizes):
    """BDAT each piece of data (sizes in order, LAST on the last one),
    one command at a time; returns the replies."""
    replies = []
    at = 0
    for i, n in enumerate(sizes):
        last = i == len(sizes) - 1
        piece = data[at:at + n]
        at += n
        s.send(b"BDAT %d%s\r\n" % (n, b" LAST" if last else b"") + piece)
        replies.append(s.reply())
    assert at == len(data), "sizes do not add up to the data"
    return replies


def received_prefix(test, captured, sent):
    """The captured file must be a Received header, CRLF, then sent."""
    test.assertTrue(captured.endswith(sent), "content changed in transit")
    prefix = captured[:len(captured) - len(sent)]
    test.assertRegex(prefix, rb"\AReceived: from [^\r\n]*\r\n"
                             rb"(\t[^\r\n]*\r\n)+\Z")
    return prefix


class Chunking(EhlodTestCase):

    def test_chunking_offered_250(self):
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            r = ehlo(s)
            self.assertIn("CHUNKING", r.lines)
            self.assertIn("BINARYMIME", r.lines)

    def test_one_last_chunk_delivered_to_maildir_250(self):
        data = message(b"line one\r\nline two\r\n")
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            start_transaction(self, s)
            self.assertCode(bdat(s, data, last=True), 250)
            files = server.delivered()
        self.assertEqual(len(files), 1)
        split_added_headers(files[0], lf(data))

    def test_chunks_of_0_1_and_many_octets_byte_identical(self):
        data = message(b"x" * 70000 + b"\r\n" + BINARY_BODY)
        sizes = [0, 1, 1, 0, 65536, len(data) - 65538 - 1, 1]
        cap = Capture()
        with Ehlod(plugins=plugins(cap.plugin())) as server, \
                server.raw() as s:
            start_transaction(self, s)
            replies = send_chunks(s, data, sizes + [0])
            for r, n in zip(replies[:-1], sizes):
                self.assertCode(r, 250)
                self.assertIn("%d octets" % n, r.text)
            self.assertCode(replies[-1], 250)
            self.assertCode(s.cmd("QUIT"), 221)
        files = cap.files()
        self.assertEqual(len(files), 1)
        received_prefix(self, files[0], data)

    def test_binary_content_maildir_equals_lf_of_sent_250(self):
        data = message(BINARY_BODY)
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            start_transaction(self, s, "MAIL FROM:<s@x.test> "
                              "BODY=BINARYMIME")
            replies = send_chunks(s, data, [100, len(data) - 100])
            self.assertEqual([r.code for r in replies], [250, 250])
            files = server.delivered()
        self.assertEqual(len(files), 1)
        # Up to maildir's CRLF -> LF, the file is what was sent; the
        # capture tests check the CRs exactly.
        added = split_added_headers(files[0], lf(data))
        self.assertIn(b"\nReceived: ", b"\n" + added)
        self.assertIn(b"\x00\x00NUL\x00", files[0])

    def test_pipelined_bdat_in_one_write_250(self):
        data = message(b"pipelined\r\n" + BINARY_BODY)
        half = len(data) // 2
        batch = (b"MAIL FROM:<s@x.test>\r\nRCPT TO:<u@example.org>\r\n" +
                 b"BDAT %d\r\n" % half + data[:half] +
                 b"BDAT %d\r\n" % (len(data) - half) + data[half:] +
                 b"BDAT 0 LAST\r\nNOOP\r\n")
        cap = Capture()
        with Ehlod(plugins=plugins(cap.plugin())) as server, \
                server.raw() as s:
            ehlo(s)
            s.send(batch)
            codes = s.codes(6)
            self.assertEqual(codes, [250] * 6)
            self.assertTrue(s.quiet(0.3), "no reply beyond the six")
        files = cap.files()
        self.assertEqual(len(files), 1)
        received_prefix(self, files[0], data)

    def test_bdat_0_last_only_250(self):
        cap = Capture()
        with Ehlod(plugins=plugins(cap.plugin())) as server, \
                server.raw() as s:
            start_transaction(self, s)
            self.assertCode(s.cmd("BDAT 0 LAST"), 250)
            self.assertCode(s.cmd("NOOP"), 250)
        files = cap.files()
        self.assertEqual(len(files), 1)
        # No content: the server's Received header and the empty line
        # that ends the (empty) header section.
        self.assertTrue(files[0].startswith(b"Received: "))
        self.assertTrue(files[0].endswith(b"\r\n\r\n"))

    def test_ehlod_send_chunking_delivered_250(self):
        path = os.path.join(env_path("EHLOD_BUILDDIR"), "client",
                            "ehlod-send")
        text = b"Subject: from ehlod-send\n\nsent with BDAT\n"
        with Ehlod(plugins=plugins()) as server:
            proc = subprocess.run(
                [path, "--server", "127.0.0.1:%d" % server.port,
                 "--from", "s@x.test", "--to", "u@example.org",
                 "--chunking", "--verbose"], input=text,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=20)
            out = proc.stdout.decode("utf-8", "replace")
            self.assertEqual(proc.returncode, 0, out)
            self.assertRegex(out, r"C: BDAT \d+ LAST")
            self.assertNotIn("C: DATA", out)
            files = server.delivered()
        self.assertEqual(len(files), 1)
        split_added_headers(files[0], text)

    def test_bdat_without_rcpt_503_and_chunk_dropped(self):
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            ehlo(s)
            # The chunk holds what would be commands; they must not run.
            r = bdat(s, b"QUIT\r\nRSET\r\n")
            self.assertCode(r, 503)
            self.assertEnhanced(r, "5.5.1")
            self.assertCode(s.cmd("NOOP"), 250)
            self.assertTrue(s.quiet(0.3), "the chunk was taken as commands")
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            # After MAIL without a recipient: refused, the "RSET" in the
            # chunk dropped, so the transaction is still there.
            self.assertCode(bdat(s, b"RSET\r\n", last=True), 503)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 503)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(bdat(s, b"hi\n", last=True), 250)
            self.assertEqual(len(server.delivered()), 1)

    def test_bad_size_501(self):
        bad = ["BDAT", "BDAT abc", "BDAT -1", "BDAT +1", "BDAT 1.5",
               "BDAT 1 LASTX", "BDAT 1 FIRST", "BDAT 1  LAST",
               "BDAT 1 LAST LAST", "BDAT 123456789012345678901",
               "BDAT 18446744073709551616"]
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            start_transaction(self, s)
            for line in bad:
                r = s.cmd(line)
                self.assertCode(r, 501, "%s answered %r" % (line, r))
                self.assertEnhanced(r, "5.5.4")
            # The transaction survived the errors.
            s.send(b"BDAT 5 last\r\nhello")
            self.assertCode(s.reply(), 250)

    def test_data_after_bdat_503(self):
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            start_transaction(self, s)
            self.assertCode(bdat(s, b"Subject: x\r\n"), 250)
            r = s.cmd("DATA")
            self.assertCode(r, 503)
            self.assertEnhanced(r, "5.5.1")
            self.assertCode(bdat(s, b"\r\nbody", last=True), 250)
            self.assertEqual(len(server.delivered()), 1)

    def test_bdat_after_helo_not_offered_502(self):
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("BDAT 0 LAST"), 502)

    def test_binarymime_with_data_503_with_bdat_250(self):
        data = message(BINARY_BODY)
        with Ehlod(plugins=plugins()) as server, server.raw() as s:
            start_transaction(self, s, "MAIL FROM:<s@x.test> "
                              "BODY=BINARYMIME")
            r = s.cmd("DATA")
            self.assertCode(r, 503)
            self.assertEnhanced(r, "5.5.1")
            self.assertIn("BDAT", r.text)
            # The same transaction goes on with BDAT.
            self.assertCode(bdat(s, data, last=True), 250)
            self.assertEqual(len(server.delivered()), 1)

    def test_binarymime_not_offered_without_chunking_501(self):
        plugs = [p for p in plugins() if p[0] != "chunking"]
        with Ehlod(plugins=plugs) as server, server.raw() as s:
            r = ehlo(s)
            self.assertNotIn("BINARYMIME", r.lines)
            r = s.cmd("MAIL FROM:<s@x.test> BODY=BINARYMIME")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.5.4")
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> BODY=8BITMIME"),
                            250)

    def test_chunks_over_size_plugin_limit_552(self):
        with Ehlod(plugins=plugins(size_limit=1000)) as server, \
                server.raw() as s:
            start_transaction(self, s)
            head = b"Subject: big\r\n\r\n"
            first = head + b"a" * (600 - len(head))
            self.assertCode(bdat(s, first), 250)
            # Together over 1000: this chunk, and the rest, get 552.
            r = bdat(s, b"b" * 600)
            self.assertCode(r, 552)
            self.assertEnhanced(r, "5.3.4")
            r = bdat(s, b"c" * 10, last=True)
            self.assertCode(r, 552)
            self.assertCode(s.cmd("NOOP"), 250)
            self.assertEqual(server.delivered(), [])

    def test_chunks_over_message_size_limit_552(self):
        with Ehlod(plugins=plugins(size_limit=0),
                   message_size_limit=2000) as server, server.raw() as s:
            start_transaction(self, s)
            self.assertCode(bdat(s, b"Subject: x\r\n\r\n" + b"a" * 1486),
                            250)
            r = bdat(s, b"b" * 1500)
            self.assertCode(r, 552)
            self.assertEnhanced(r, "5.3.4")
            self.assertCode(s.cmd("BDAT 0 LAST"), 552)
            self.assertEqual(server.delivered(), [])

    def test_on_data_hooks_run_for_first_chunk_554(self):
        # capture's on_data refuses: the refusal answers every chunk, and
        # nothing is delivered.
        cap = Capture(refuse_data=True)
        with Ehlod(plugins=plugins(cap.plugin())) as server, \
                server.raw() as s:
            start_transaction(self, s)
            r = bdat(s, b"hello")
            self.assertCode(r, 554)
            self.assertIn("refused at DATA", r.text)
            self.assertCode(bdat(s, b"world", last=True), 554)
            self.assertCode(s.cmd("NOOP"), 250)
        self.assertEqual(cap.files(), [])


if __name__ == "__main__":
    main()
