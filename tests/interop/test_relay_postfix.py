#!/usr/bin/env python3
"""
NAME
    test_relay_postfix - ehlod as Postfix's before-queue filter
    (smtpd_proxy_filter), end to end

DESCRIPTION
    swaks -> Postfix smtpd (port A, smtpd_proxy_filter = 127.0.0.1:B)
          -> ehlod with relay, next_hop = smtp://127.0.0.1:C
          -> Postfix smtpd (port C, the after-filter service, no proxy,
             refusing bad@example.test with check_recipient_access)
          -> Postfix queue -> smtp to relayhost [127.0.0.1]:D = smtp-sink,
             which dumps the message to a file.
    One private Postfix instance (tests/interop/postfixtest.py) runs both
    smtpd services.  Asserted: the message swaks sent is in smtp-sink's
    dump, and a recipient the final smtpd refuses is refused at swaks's
    own RCPT with that smtpd's code and text, through the proxy chain.
    And when ehlod stops with a client's session open, its session with
    the after-filter smtpd still ends with QUIT (Postfix logs quit=1).
"""
import os
import signal
import smtplib
import subprocess
import unittest

from ehlodtest import Ehlod, EhlodTestCase, wait_for_text
from postfixtest import Parts, Postfix, free_port
from test_client_support import SmtpSink

SWAKS = "/usr/bin/swaks"

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)
if not os.path.exists(SWAKS):
    print("skipped: swaks is not installed")
    raise SystemExit(77)

DOMAIN = "example.test"


def swaks(port, rcpts, body="hello through the proxy"):
    return subprocess.run(
        [SWAKS, "--server", "127.0.0.1", "--port", str(port),
         "--from", "sender@x.test", "--to", ",".join(rcpts),
         "--helo", "client.test", "--header", "Subject: proxy test",
         "--body", body, "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=45)


class Chain(Parts):
    """Start sink, ehlod and Postfix in order; stop all in reverse."""

    def __init__(self):
        super().__init__()
        try:
            self.sink = self._add(SmtpSink())
            self.port_a, self.port_c = free_port(), free_port()
            self.ehlod = self._add(Ehlod(
                plugins=[("pipelining", {}), ("size", {"limit": 10240000}),
                         ("8bitmime", {}), ("enhancedstatuscodes", {}),
                         ("relay", {"next_hop": "smtp://127.0.0.1:%d"
                                    % self.port_c,
                                    "domains": [DOMAIN], "timeout": 20})],
                local_domains=[DOMAIN]))
            access = "bad@%s 550 5.1.1 no such user here\n" % DOMAIN
            self.postfix = self._add(Postfix(
                services=[
                    Postfix.smtpd(self.port_a,
                                  "smtpd_proxy_filter=127.0.0.1:%d"
                                  % self.ehlod.port,
                                  "smtpd_proxy_timeout=30s"),
                    Postfix.smtpd(self.port_c,
                                  "smtpd_proxy_filter=",
                                  "smtpd_recipient_restrictions="
                                  "$after_filter_recipient_restrictions"),
                ],
                main={"relay_domains": DOMAIN,
                      "default_transport": "smtp",
                      "relayhost": "[127.0.0.1]:%d" % self.sink.port,
                      "after_filter_recipient_restrictions":
                          "check_recipient_access texthash:$config_directory"
                          "/rcpt_access, permit_mynetworks, reject"},
                files={"rcpt_access": access}))
            self.postfix.wait_listening(self.port_a)
            self.postfix.wait_listening(self.port_c)
        except BaseException:
            self.close()
            raise

    def diagnostics(self):
        return "--- postfix\n%s\n--- ehlod\n%s" % (
            self.postfix.log()[-4000:] if hasattr(self, "postfix") else "",
            self.ehlod.log()[-4000:] if hasattr(self, "ehlod") else "")


class ProxyFilter(EhlodTestCase):
    timeout = 55

    def test_end_to_end(self):
        with Chain() as ch:
            r = swaks(ch.port_a, ["user@" + DOMAIN])
            out = r.stdout.decode(errors="replace")
            dump = ch.sink.dumped(timeout=20)
            diag = ch.diagnostics()
        self.assertEqual(r.returncode, 0, out + diag)
        self.assertIn("hello through the proxy", dump, out + diag)
        self.assertIn("X-Rcpt-Args: <user@%s>" % DOMAIN, dump)
        self.assertIn("Subject: proxy test", dump)
        # ehlod's Received header shows the message went through it.
        self.assertIn("mx.test", dump)

    def test_refusal_reaches_client_at_rcpt(self):
        with Chain() as ch:
            r = swaks(ch.port_a, ["bad@" + DOMAIN])
            out = r.stdout.decode(errors="replace")
            dump = ch.sink.dumped(timeout=2)
            diag = ch.diagnostics()
        # swaks: the RCPT line gets the final smtpd's 550 and text.
        self.assertRegex(out, r"<\*\* 550[ -]5\.1\.1 .*no such user here",
                         out + diag)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("hello through the proxy", dump)


class StopEndsNextHopWithQuit(EhlodTestCase):
    """Postfix's smtpd is the next hop; ehlod stops (SIGTERM) while its
    client's session is open.  The session ends with 421, and relay's
    session with the next hop still ends with QUIT: Postfix logs quit=1
    rather than a lost connection."""
    timeout = 55

    def test_postfix_sees_quit(self):
        with Chain() as ch:
            c = smtplib.SMTP("127.0.0.1", ch.ehlod.port, timeout=20)
            c.ehlo("client.test")
            c.sendmail("sender@x.test", ["user@" + DOMAIN],
                       b"Subject: stop test\r\n\r\nbefore the stop\r\n")
            ch.ehlod.signal(signal.SIGTERM)
            self.assertEqual(ch.ehlod.wait(10), 0, ch.diagnostics())
            c.close()
            # (The harness's own probes of the ports connect and close
            # without a command: "lost connection after CONNECT".)
            log = wait_for_text(ch.postfix.log, r"disconnect from "
                                r"\S+\[127\.0\.0\.1\] ehlo=1 mail=1 ")
            diag = ch.diagnostics()
        self.assertRegex(log, r"disconnect from \S+\[127\.0\.0\.1\] "
                         r"ehlo=1 mail=1 .* quit=1 ", diag)


if __name__ == "__main__":
    unittest.main()
