#!/usr/bin/env python3
"""
NAME
    test_client_postfix - ehlod-send against a private Postfix smtpd,
    in the clear and with STARTTLS

DESCRIPTION
    A private Postfix (tests/interop/postfixtest.py) listens on a loopback
    port and relays example.test to smtp-sink on loopback, which dumps
    what it gets.  ehlod-send delivers to that smtpd:
      - in the clear: EHLO, and the message reaches the dump;
      - with STARTTLS offered (smtpd_tls_security_level = may and a
        throw-away certificate): STARTTLS, then EHLO again (RFC 3207 4.2,
        RFC 1869: never reuse the first list), visible in the --verbose
        transcript; once without verification, once verified against the
        certificate as the CA.
"""
import re
import unittest

from ehlodtest import EhlodTestCase
from postfixtest import Postfix, free_port
from test_client_support import SmtpSink, self_signed, send

DOMAIN = "example.test"


class PostfixPeer:
    def __init__(self, tls=False):
        self.parts = []
        try:
            self.sink = SmtpSink()
            self.parts.append(self.sink)
            self.port = free_port()
            main = {"relay_domains": DOMAIN, "default_transport": "smtp",
                    "relayhost": "[127.0.0.1]:%d" % self.sink.port}
            self.postfix = Postfix(services=[Postfix.smtpd(self.port)],
                                   main=main)
            self.parts.append(self.postfix)
            if tls:
                self.cert, key = self_signed(self.postfix.conf)
                self._enable_tls(self.cert, key)
            self.postfix.wait_listening(self.port)
        except BaseException:
            self.close()
            raise

    def _enable_tls(self, cert, key):
        """Turn TLS on and restart, so smtpd loads the key."""
        with open(self.postfix.path("main.cf"), "a") as f:
            f.write("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                    "smtpd_tls_security_level = may\n" % (cert, key))
        r = self.postfix.postfix("reload")
        if r.returncode != 0:
            raise RuntimeError(r.stdout.decode(errors="replace"))

    def close(self):
        for p in reversed(self.parts):
            p.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def message(body):
    return ("From: s@x.test\nTo: u@%s\nSubject: via postfix\n\n%s\n"
            % (DOMAIN, body)).encode()


class ClientPostfix(EhlodTestCase):
    timeout = 55

    def deliver(self, peer, body, *extra):
        st, out, err = send(["--server", "127.0.0.1:%d" % peer.port,
                             "--from", "s@x.test", "--to", "u@" + DOMAIN,
                             "--verbose"] + list(extra), message(body))
        transcript = out + err
        dump = peer.sink.dumped(timeout=20)
        return st, transcript, dump

    def test_plain(self):
        with PostfixPeer() as peer:
            st, tr, dump = self.deliver(peer, "plain body")
            log = peer.postfix.log()
        self.assertEqual(st, 0, tr + log)
        self.assertIn("C: EHLO", tr)
        self.assertNotIn("STARTTLS", "\n".join(
            l for l in tr.splitlines() if l.startswith("C:")))
        self.assertIn("plain body", dump, tr + log)

    def check_tls(self, tr):
        sent = [l for l in tr.splitlines() if l.startswith("C: ")]
        names = [l[3:].split()[0].upper() for l in sent if l[3:].strip()]
        self.assertIn("STARTTLS", names, tr)
        i = names.index("STARTTLS")
        self.assertEqual(names[:i].count("EHLO"), 1, tr)
        self.assertEqual(names[i + 1], "EHLO", tr)   # EHLO again after TLS
        self.assertRegex(tr, re.compile(r"TLS established", re.I))

    def test_starttls_no_verify(self):
        with PostfixPeer(tls=True) as peer:
            st, tr, dump = self.deliver(peer, "tls body",
                                        "--starttls=require",
                                        "--tls-verify=no")
            log = peer.postfix.log()
        self.assertEqual(st, 0, tr + log)
        self.check_tls(tr)
        self.assertIn("tls body", dump, tr + log)

    def test_starttls_verified_with_own_ca(self):
        with PostfixPeer(tls=True) as peer:
            st, tr, dump = self.deliver(peer, "verified body",
                                        "--starttls=require",
                                        "--tls-ca-file", peer.cert,
                                        "--tls-server-name", "localhost")
            log = peer.postfix.log()
        self.assertEqual(st, 0, tr + log)
        self.check_tls(tr)
        self.assertIn("certificate verified", tr)
        self.assertIn("verified body", dump, tr + log)


if __name__ == "__main__":
    unittest.main()
