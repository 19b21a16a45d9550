#!/usr/bin/env python3
"""
NAME
    test_relay_xforward - the relay tells its next hop who the client is

DESCRIPTION
    swaks, bound to 127.0.0.2 and saying HELO client.test
          -> ehlod with relay, next_hop = a private Postfix smtpd
          -> Postfix queue -> smtp to relayhost smtp-sink, which dumps
             the message.

    When Postfix offers XFORWARD (smtpd_authorized_xforward_hosts names
    ehlod's address), ehlod's relay sends it before MAIL: Postfix logs the
    message's client as "client=localhost[127.0.0.1],
    orig_client=unknown[127.0.0.2]" and counts "xforward=1" at the
    disconnect.  When Postfix does not offer it, nothing is sent (no
    xforward count, and an XFORWARD it did not offer would be refused and
    the mail would not go through): the mail is delivered.  With
    "xforward = no" nothing is sent either, even to a next hop that offers
    it.
"""
import os
import subprocess

from ehlodtest import Ehlod, EhlodTestCase, main
from postfixtest import Parts, Postfix, free_port
from test_client_support import SmtpSink

SWAKS = "/usr/bin/swaks"
DOMAIN = "example.test"

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)
if not os.path.exists(SWAKS):
    print("skipped: swaks is not installed")
    raise SystemExit(77)


class Chain(Parts):
    """smtp-sink <- Postfix <- ehlod (relay); started in order, stopped in
    reverse."""

    def __init__(self, authorized, xforward=True):
        super().__init__()
        try:
            self.sink = self._add(SmtpSink())
            self.port = free_port()
            relay = {"next_hop": "smtp://127.0.0.1:%d" % self.port,
                     "domains": [DOMAIN], "timeout": 20}
            if not xforward:
                relay["xforward"] = False
            self.postfix = self._add(Postfix(
                services=[Postfix.smtpd(
                    self.port, "smtpd_authorized_xforward_hosts=%s"
                    % ("127.0.0.1" if authorized else ""))],
                main={"relay_domains": DOMAIN,
                      "default_transport": "smtp",
                      "relayhost": "[127.0.0.1]:%d" % self.sink.port}))
            self.postfix.wait_listening(self.port)
            self.ehlod = self._add(Ehlod(
                plugins=[("pipelining", {}), ("enhancedstatuscodes", {}),
                         ("relay", relay)],
                local_domains=[DOMAIN]))
        except BaseException:
            self.close()
            raise

    def swaks(self):
        return subprocess.run(
            [SWAKS, "--server", "127.0.0.1", "--port", str(self.ehlod.port),
             "--local-interface", "127.0.0.2", "--from", "s@x.test",
             "--to", "user@" + DOMAIN, "--helo", "client.test",
             "--body", "who sent this", "--timeout", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=45).stdout.decode(errors="replace")

    def run(self):
        """swaks's transcript, the sink's dump, Postfix's log, ehlod's."""
        out = self.swaks()
        dump = self.sink.dumped(timeout=20)
        return out, dump, self.postfix.log(), self.ehlod.log()


class RelayXforward(EhlodTestCase):
    timeout = 90

    def run_chain(self, **kw):
        ch = Chain(**kw)
        self.addCleanup(ch.close)
        out, dump, plog, elog = ch.run()
        diag = out + "\n--- postfix\n" + plog[-3000:] + "\n--- ehlod\n" + \
            elog[-3000:]
        self.assertIn("who sent this", dump, diag)
        return plog, diag

    def test_offered_xforward_names_the_client(self):
        plog, diag = self.run_chain(authorized=True)
        self.assertRegex(plog, r"client=localhost\[127\.0\.0\.1\], "
                         r"orig_client=\S+\[127\.0\.0\.2\]", diag)
        self.assertRegex(plog, r"disconnect from .* xforward=1 mail=1", diag)

    def test_not_offered_nothing_sent(self):
        plog, diag = self.run_chain(authorized=False)
        self.assertNotIn("orig_client=", plog, diag)
        self.assertNotIn("xforward=", plog, diag)
        self.assertRegex(plog, r"disconnect from .* mail=1", diag)

    def test_option_off_nothing_sent(self):
        plog, diag = self.run_chain(authorized=True, xforward=False)
        self.assertNotIn("orig_client=", plog, diag)
        self.assertNotIn("xforward=", plog, diag)
        self.assertRegex(plog, r"disconnect from .* mail=1", diag)

if __name__ == "__main__":
    main()
