#!/usr/bin/env python3
"""
NAME
    test_xforward - XFORWARD from trusted proxies (Postfix's extension)

DESCRIPTION
    Direct: the keyword is offered and the command taken only from a peer
    in xforward_trusted (others get 550 5.7.0 and no keyword); the client
    address it names is the one logged and given to plugins; not inside
    a transaction (503); a bad ADDR is 501, and a command answered 501
    changes nothing, not even the good attributes before the bad one.

    Through a real Postfix: swaks, bound to 127.0.0.2, talks to Postfix's
    smtpd, whose smtpd_proxy_filter is ehlod (dnsbl at the rcpt stage,
    relay to smtp-sink).  dnsmasq lists 127.0.0.2 in bl.test, never
    127.0.0.1 (Postfix's own address).  With xforward_trusted the listed
    client is refused at RCPT, through the chain, with the blocklist's
    554; without it ehlod sees only Postfix and the mail goes through --
    the blindness XFORWARD removes.
"""
import subprocess

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, transaction
from postfixtest import Parts, Postfix, free_port
from test_client_support import SmtpSink
from test_dnsbl import Dnsmasq

SWAKS = "/usr/bin/swaks"
DOMAIN = "example.test"


def xtext(text):
    """RFC 3461 xtext: "+", "=", controls and space as +HEX."""
    return "".join(c if "!" <= c <= "~" and c not in "+=" else
                   "+%02X" % ord(c) for c in text)


class XforwardDirect(EhlodTestCase):

    def test_trusted_peer_names_the_client(self):
        with Ehlod(xforward_trusted=["127.0.0.1"]) as server, \
                server.raw() as s:
            r = ehlo(s)
            self.assertIn("XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE",
                          r.lines)
            self.assertCode(s.cmd("XFORWARD NAME=spike.example ADDR=192.0.2.7 "
                                  "PORT=4321 PROTO=ESMTP "
                                  "HELO=spike.example"), 250)
            self.assertCode(s.cmd("XFORWARD ADDR=IPV6:2001:db8::1 "
                                  "IDENT=[UNAVAILABLE]"), 250)
            self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
            self.assertCode(s.cmd("XFORWARD ADDR=192.0.2.8"), 503)
            self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            log = server.log()
        self.assertIn("xforward from [127.0.0.1]: client=[192.0.2.7]:4321 "
                      "helo=<spike.example>", log)
        self.assertIn("reject: RCPT from unknown[2001:db8::1]", log)

    def test_bad_value_501(self):
        with Ehlod(xforward_trusted=["127.0.0.0/8"]) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("XFORWARD ADDR=not-an-address"), 501)
            self.assertCode(s.cmd("XFORWARD COLOR=blue"), 501)
            self.assertCode(s.cmd("XFORWARD"), 501)

    def test_helo_controls_become_question_marks(self):
        # xtext can carry a CR and an LF; passed on as they are, they
        # would forge a log line and break the Received header.
        forged = "2026-01-01T00:00:00.000+00:00 ehlod[1]: forged"
        with Ehlod(xforward_trusted=["127.0.0.1"]) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("XFORWARD HELO=" +
                                  xtext("bad\r\n%s\x1b[0m" % forged)),
                            250)
            self.assertCode(transaction(s), 250)
            log = server.log()
            message = server.delivered()[0]
        name = "bad??%s?[0m" % forged.replace(" ", "?")
        self.assertIn("helo=<%s>" % name, log)
        self.assertNotRegex(log, r"(?m)^2026-01-01")
        head = message.split(b"\n\n", 1)[0].decode()
        self.assertIn("Received: from %s (" % name, head)
        self.assertNotRegex(head, r"(?m)^2026-01-01")

    def test_empty_helo_is_ignored(self):
        with Ehlod(xforward_trusted=["127.0.0.1"]) as server, \
                server.raw() as s:
            ehlo(s, "proxy.example")
            self.assertCode(s.cmd("XFORWARD HELO="), 250)
            log = server.log()
        self.assertIn("helo=<proxy.example>", log)

    def test_refused_command_changes_nothing(self):
        # A good ADDR before a bad attribute must not be kept: the proxy
        # was told 501, so it believes nothing changed.
        with Ehlod(xforward_trusted=["127.0.0.1"]) as server, \
                server.raw() as s:
            ehlo(s, "proxy.example")
            r = s.cmd("XFORWARD ADDR=192.0.2.9 HELO=evil.example "
                      "COLOR=blue")
            self.assertCode(r, 501)
            self.assertIn("COLOR=blue", r.text)
            self.assertCode(s.cmd("XFORWARD HELO=ok.example ADDR=nowhere"),
                            501)
            self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            log = server.log()
        self.assertNotIn("192.0.2.9", log)
        self.assertNotIn("evil.example", log)
        self.assertNotIn("ok.example", log)
        self.assertIn("reject: RCPT from unknown[127.0.0.1]", log)

    def test_untrusted_peer_550_and_no_keyword(self):
        with Ehlod(xforward_trusted=["192.0.2.0/24"]) as server, \
                server.raw() as s:
            r = ehlo(s)
            self.assertFalse([l for l in r.lines if l.startswith("XFORWARD")])
            r = s.cmd("XFORWARD ADDR=192.0.2.7")
            self.assertCode(r, 550)
            self.assertIn("5.7.0", r.text)


class Chain(Parts):
    """smtp-sink <- ehlod (dnsbl at rcpt, relay) <- Postfix smtpd."""

    def __init__(self, dns_port, trusted):
        super().__init__()
        try:
            self.sink = self._add(SmtpSink())
            self.port = free_port()
            core = {"local_domains": [DOMAIN]}
            if trusted:
                core["xforward_trusted"] = ["127.0.0.1"]
            self.ehlod = self._add(Ehlod(
                plugins=[("pipelining", {}), ("enhancedstatuscodes", {}),
                         ("dnsbl", {"zones": ["bl.test"], "stage": "rcpt",
                                    "nameservers": ["127.0.0.1:%d"
                                                    % dns_port]}),
                         ("relay", {"next_hop": "smtp://127.0.0.1:%d"
                                    % self.sink.port,
                                    "domains": [DOMAIN], "timeout": 20})],
                **core))
            self.postfix = self._add(Postfix(
                services=[Postfix.smtpd(self.port,
                                        "smtpd_proxy_filter=127.0.0.1:%d"
                                        % self.ehlod.port,
                                        "smtpd_proxy_timeout=30s")],
                main={"relay_domains": DOMAIN}))
            self.postfix.wait_listening(self.port)
        except BaseException:
            self.close()
            raise

    def swaks(self):
        return subprocess.run(
            [SWAKS, "--server", "127.0.0.1", "--port", str(self.port),
             "--local-interface", "127.0.0.2", "--from", "s@x.test",
             "--to", "user@" + DOMAIN, "--helo", "listed.test",
             "--timeout", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=45).stdout.decode(errors="replace")


class XforwardThroughPostfix(EhlodTestCase):
    timeout = 90

    def test_listed_client_refused_through_the_proxy_chain(self):
        with Dnsmasq(listed="2.0.0.127") as dns:
            ch = Chain(dns.port, trusted=True)
            try:
                out = ch.swaks()
                log = ch.ehlod.log()
            finally:
                ch.close()
        self.assertRegex(out, r"<\*\* 554[ -]5\.7\.1 .*bl\.test", out + log)
        self.assertIn("xforward from [127.0.0.1]: client=[127.0.0.2]", log)

    def test_without_xforward_the_proxy_hides_the_client(self):
        with Dnsmasq(listed="2.0.0.127") as dns:
            ch = Chain(dns.port, trusted=False)
            try:
                out = ch.swaks()
                dump = ch.sink.dumped(timeout=20)
            finally:
                ch.close()
        self.assertNotRegex(out, r"<\*\* 554", out)
        self.assertIn("X-Client-Addr:", dump, out)	# relayed onwards


if __name__ == "__main__":
    main()
