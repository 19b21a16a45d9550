#!/usr/bin/env python3
"""
NAME
    test_body_chunks - how the host cuts the body for on_body

DESCRIPTION
    The body hooks get the body in chunks of at least 64 KiB, the last
    one of the message excepted, so that a small message costs each
    plugin one on_body call whatever the reads it arrived in.  The
    capture test plugin logs each chunk's length and delivers the
    message as the host hands it over, so the chunks can be added up
    against the body delivered.

    - smtplib sends DATA content in three writes 0.3 s apart (each its
      own read): one on_body call, with the whole body.
    - smtplib sends a 200 KiB body in one write (many reads): every chunk
      but the last at least 64 KiB, all of them the whole body.
    - BDAT (raw socket: smtplib has none): the hooks see each chunk at
      its end, since the chunk's reply waits for them, so two BDAT
      chunks of 1,000 and 500 octets give two calls.
"""

import re
import time

from ehlodtest import Capture, Ehlod, EhlodTestCase, ehlo, main

CHUNK_MIN = 65536


def plugins(capture, chunking=False):
    out = [("pipelining", {}), ("8bitmime", {}), ("enhancedstatuscodes", {})]
    if chunking:
        out.append(("chunking", {}))
    return out + [capture.plugin()]


def chunks_logged(server):
    """The on_body lengths logged, once the session's end is logged."""
    log = server.log_when(r"disconnect from", timeout=10)
    return [int(n) for n in re.findall(r"plugin=capture: on_body (\d+) "
                                       r"octets", log)]


def body_of(eml):
    """The body of a delivered message: what follows the empty line."""
    return eml.split(b"\r\n\r\n", 1)[1]


class BodyChunksTest(EhlodTestCase):

    def test_small_body_in_three_reads_is_one_call(self):
        cap = Capture(log_body="yes")
        head = b"From: s@x.test\r\nSubject: reads\r\n\r\n"
        parts = [head + b"a" * 2000 + b"\r\n", b"b" * 2000 + b"\r\n",
                 b"c" * 100 + b"\r\n.\r\n"]
        with Ehlod(plugins=plugins(cap)) as server:
            client = server.smtp()
            client.ehlo("client.test")
            self.assertEqual(client.mail("s@x.test")[0], 250)
            self.assertEqual(client.rcpt("u@example.org")[0], 250)
            self.assertEqual(client.docmd("DATA")[0], 354)
            for part in parts:
                client.sock.sendall(part)
                time.sleep(0.3)
            code, text = client.getreply()
            self.assertEqual(code, 250, text)
            client.quit()
            chunks = chunks_logged(server)
        files = cap.files()
        self.assertEqual(len(files), 1)
        self.assertEqual(chunks, [len(body_of(files[0]))])

    def test_large_body_in_chunks_of_64k(self):
        cap = Capture(log_body="yes")
        body = b"".join(b"line %06d %s\r\n" % (i, b"x" * 60)
                        for i in range(200 * 1024 // 74))
        msg = b"From: s@x.test\r\nSubject: big\r\n\r\n" + body
        with Ehlod(plugins=plugins(cap)) as server:
            client = server.smtp()
            client.ehlo("client.test")
            client.sendmail("s@x.test", ["u@example.org"], msg)
            client.quit()
            chunks = chunks_logged(server)
        files = cap.files()
        self.assertEqual(len(files), 1)
        self.assertGreaterEqual(len(chunks), 2, chunks)
        for n in chunks[:-1]:
            self.assertGreaterEqual(n, CHUNK_MIN, chunks)
        self.assertEqual(sum(chunks), len(body_of(files[0])))

    def test_each_bdat_chunk_seen_at_its_end(self):
        cap = Capture(log_body="yes")
        head = b"From: s@x.test\r\nSubject: bdat\r\n\r\n"
        first = head + b"d" * (1000 - len(head))
        last = b"e" * 500
        with Ehlod(plugins=plugins(cap, chunking=True)) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            s.send(b"BDAT %d\r\n" % len(first) + first)
            self.assertCode(s.reply(), 250)
            s.send(b"BDAT %d LAST\r\n" % len(last) + last)
            self.assertCode(s.reply(), 250)
            self.assertCode(s.cmd("QUIT"), 221)
            chunks = chunks_logged(server)
        self.assertEqual(chunks, [1000 - len(head), 500])


if __name__ == "__main__":
    main()
