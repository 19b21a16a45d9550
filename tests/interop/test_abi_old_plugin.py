#!/usr/bin/env python3
"""test_abi_old_plugin - a plugin built against ABI 1.0 runs in this host.

tests/plugins/abi10.so is compiled against the frozen 1.0 header
(tests/plugins/abi-1.0/ehlod/plugin.h): its descriptor is 1.0's, shorter
than today's, with abi_minor 0, and it knows only 1.0's host table.  The
ABI's promise is that every later 1.x host loads and runs it.  Python's
smtplib, as the client, sees:
- its EHLO keyword XABI10 in the EHLO reply;
- its MAIL parameter ABI10=word taken (250), a message delivered with
  the header it adds, "X-ABI10: <its tag option> <the word>";
- its refusal of RCPT TO:<refuse@...> with its own reply text, which
  carries the option the config file set;
- "ehlod -t" accepting the config, and the log naming the plugin.
"""

import os
import smtplib

from ehlodtest import Ehlod, EhlodTestCase, main, test_plugin_dir


def abi10(tag):
    return ("abi10", {"path": os.path.join(test_plugin_dir(), "abi10.so"),
                      "tag": tag})


PLUGINS = [("size", {}), ("enhancedstatuscodes", {}), abi10("from-conf"),
           ("maildir", {})]


class OldPluginTest(EhlodTestCase):

    def test_abi_1_0_plugin_runs(self):
        with Ehlod(plugins=PLUGINS) as server:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as c:
                code, _ = c.ehlo("client.test")
                self.assertEqual(code, 250)
                self.assertTrue(c.has_extn("xabi10"), c.esmtp_features)
                code, text = c.docmd("MAIL FROM:<s@x.test> ABI10=hello")
                self.assertEqual(code, 250, text)
                code, text = c.docmd("RCPT TO:<refuse@example.org>")
                self.assertEqual(code, 550, text)
                self.assertIn(b"abi10 refuses (from-conf)", text)
                code, text = c.docmd("RCPT TO:<u@example.org>")
                self.assertEqual(code, 250, text)
                code, text = c.data(b"Subject: old plugin\r\n\r\nbody\r\n")
                self.assertEqual(code, 250, text)
            files = server.delivered()
            self.assertEqual(len(files), 1)
            self.assertIn(b"\nX-ABI10: from-conf hello\n", files[0])
            self.assertIn("abi10", server.log())

    def test_abi_1_0_plugin_passes_config_check(self):
        server = Ehlod(start=False, plugins=PLUGINS)
        self.addCleanup(server.cleanup)
        code, out = server.check()
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    main()
