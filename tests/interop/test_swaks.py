"""swaks as a real peer: plain, pipelined and HELO (SMTP) deliveries, and
a relay attempt that must be refused.  Skipped (77) when swaks is not
installed.
"""

import shutil
import subprocess
import sys

from ehlodtest import Ehlod, EhlodTestCase, main

SWAKS = shutil.which("swaks")


def swaks(port, *args):
    cmd = [SWAKS, "--server", "127.0.0.1:%d" % port,
           "--from", "s@x.test", "--helo", "swaks.test",
           "--timeout", "15"] + list(args)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=25)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


class SwaksTest(EhlodTestCase):

    def delivered_one(self, server, rcpt, proto):
        files = server.delivered()
        self.assertEqual(len(files), 1, server.log())
        self.assertRegex(files[0].decode("utf-8", "replace"),
                         r"Received: from swaks\.test \([^)]*"
                         r"\[127\.0\.0\.1\][^)]*\)\s+by mx\.test \(ehlod\) "
                         r"with %s id \S+\s+for <%s>;" % (proto, rcpt))
        self.assertNotIn(b"\r", files[0])

    def test_swaks_delivers_250(self):
        with Ehlod() as server:
            code, out = swaks(server.port, "--to", "u@example.org")
            self.assertEqual(code, 0, out)
            self.assertRegex(out, r"<-\s+250 ")
            self.delivered_one(server, "u@example.org", "ESMTP")

    def test_swaks_pipeline_delivers_250(self):
        with Ehlod() as server:
            code, out = swaks(server.port, "--to", "u@example.org",
                              "--pipeline")
            self.assertEqual(code, 0, out)
            self.delivered_one(server, "u@example.org", "ESMTP")

    def test_swaks_helo_delivers_with_smtp_250(self):
        with Ehlod() as server:
            code, out = swaks(server.port, "--to", "u@example.org",
                              "--protocol", "SMTP")
            self.assertEqual(code, 0, out)
            self.delivered_one(server, "u@example.org", "SMTP")

    def test_swaks_8bit_body_250(self):
        body = "Grüße\nline two\n"
        with Ehlod() as server:
            code, out = swaks(server.port, "--to", "u@example.org",
                              "--body", body)
            self.assertEqual(code, 0, out)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            self.assertIn("Grüße\nline two\n".encode("utf-8"), files[0])

    def test_swaks_relay_refused_554(self):
        with Ehlod() as server:
            code, out = swaks(server.port, "--to", "u@other.test")
            self.assertNotEqual(code, 0, out)
            self.assertIn("<** 554", out)
            self.assertEqual(server.delivered(), [])


if __name__ == "__main__":
    if SWAKS is None:
        print("swaks not installed (Debian package swaks): skipped")
        sys.exit(77)
    main()
