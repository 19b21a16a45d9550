#!/usr/bin/env python3
"""
NAME
    test_client_binarymime - BODY=BINARYMIME with BDAT, from ehlod-send and
    through the relay plugin, octet for octet

DESCRIPTION
    RFC 3030 section 3: binary content goes only with BDAT and only to a
    server offering CHUNKING and BINARYMIME; nothing in it may be
    repaired (a bare CR or LF, a NUL, a lone "." line are content).

    The receiving server is ehlod with chunking, binarymime and the
    "capture" test plugin, which writes what delivery plugins get without
    changing an octet: a file is the trace headers, then exactly what
    was sent.  ehlod-send --body binarymime must deliver the message
    byte-identical there; a relay (a second ehlod with the relay plugin)
    must pass a BINARYMIME transaction on with BDAT so that it arrives
    byte-identical behind the relay's own Received header.  A next hop
    without BINARYMIME gets nothing: ehlod-send exits 65, the relay
    answers the first recipient with 554 5.6.3.
"""
import os
import subprocess

from ehlodtest import Capture, Ehlod, EhlodTestCase, ehlo, env_path, main

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)

HEAD = (b"From: Sender <s@x.test>\r\n"
        b"To: User <u@example.org>\r\n"
        b"Subject: binary\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"\r\n")
# Every octet value, and what DATA or a line-end repair would change.
BODY = (bytes(range(256)) + b"\r\n.\r\n" + b"\rbare CR\r" +
        b"\nbare LF\n" + b"\x00\x00NUL\x00" + b"\r\n..two dots\r\n" +
        b"no final line end")
MESSAGE = HEAD + BODY

TRACE = rb"Received: from [^\r\n]*\r\n(\t[^\r\n]*\r\n)+"


def receiver(capture, binarymime=True):
    plugins = [("pipelining", {}), ("8bitmime", {}),
               ("enhancedstatuscodes", {}), ("chunking", {})]
    if binarymime:
        plugins.append(("binarymime", {}))
    return Ehlod(plugins=plugins + [capture.plugin()])


def relay(next_port):
    return Ehlod(plugins=[
        ("pipelining", {}), ("8bitmime", {}), ("enhancedstatuscodes", {}),
        ("chunking", {}), ("binarymime", {}),
        ("relay", {"next_hop": "smtp://127.0.0.1:%d" % next_port,
                   "timeout": 10, "domains": ["example.org"]})])


def ehlod_send(port, *args):
    path = os.path.join(env_path("EHLOD_BUILDDIR"), "client", "ehlod-send")
    p = subprocess.run([path, "--server", "127.0.0.1:%d" % port,
                        "--from", "s@x.test", "--to", "u@example.org",
                        "--timeout", "10", "-v"] + list(args),
                       input=MESSAGE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


class BinaryMime(EhlodTestCase):
    def test_ehlod_send_byte_identical(self):
        cap = Capture()
        with receiver(cap) as server:
            rc, out, err = ehlod_send(server.port, "--body", "binarymime")
        self.assertEqual(rc, 0, err + out)
        self.assertIn("BODY=BINARYMIME", out)
        self.assertIn("C: BDAT %d LAST" % len(MESSAGE), out)
        self.assertNotIn("C: DATA", out)
        files = cap.files()
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(MESSAGE), "content changed")
        self.assertRegex(files[0][:-len(MESSAGE)],
                         rb"\A" + TRACE + rb"\Z")

    def test_ehlod_send_no_binarymime_offered_65(self):
        cap = Capture()
        with receiver(cap, binarymime=False) as server:
            rc, out, err = ehlod_send(server.port, "--body", "binarymime")
        self.assertEqual(rc, 65, err)
        self.assertIn("does not offer BINARYMIME with CHUNKING", err)
        self.assertNotIn("C: MAIL", out)
        self.assertEqual(cap.files(), [])

    def relay_one(self, next_port):
        """(reply to RCPT, final reply): the next hop hears of the
        transaction at its first recipient."""
        with relay(next_port) as front, front.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> BODY=BINARYMIME"),
                            250)
            rcpt = s.cmd("RCPT TO:<u@example.org>")
            if rcpt.code != 250:
                return rcpt, None
            s.send(b"BDAT %d LAST\r\n" % len(MESSAGE) + MESSAGE)
            return rcpt, s.reply()

    def test_relayed_byte_identical(self):
        cap = Capture()
        with receiver(cap) as hop:
            _rcpt, final = self.relay_one(hop.port)
            self.assertCode(final, 250)
            self.assertIn("relayed", final.text)
        files = cap.files()
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(MESSAGE), "content changed")
        # the next hop's Received header, then the relay's, then the
        # message exactly as the client sent it
        self.assertRegex(files[0][:-len(MESSAGE)],
                         rb"\A" + TRACE + TRACE + rb"\Z")

    def test_relay_next_hop_without_binarymime_554(self):
        cap = Capture()
        with receiver(cap, binarymime=False) as hop:
            rcpt, final = self.relay_one(hop.port)
        self.assertCode(rcpt, 554)
        self.assertEnhanced(rcpt, "5.6.3")
        self.assertIn("BINARYMIME", rcpt.text)
        self.assertEqual(cap.files(), [])


if __name__ == "__main__":
    main()
