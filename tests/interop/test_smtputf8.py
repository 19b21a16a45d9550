#!/usr/bin/env python3
"""
NAME
    test_smtputf8 - the smtputf8 plugin (RFC 6531)

DESCRIPTION
    Python's smtplib sends mail with UTF-8 addresses and headers the way
    RFC 6531 clients do (sendmail(..., mail_options=["SMTPUTF8"])); it
    must be delivered, with "with UTF8SMTP" in the Received header.

    Raw sockets send what smtplib will not, each with the reply RFC 6531
    section 3.5 names: a UTF-8 address without SMTPUTF8 (550 5.6.7 at
    MAIL, 553 5.6.7 at RCPT), a UTF-8 header field in a transaction
    without SMTPUTF8 (554 5.6.9 after the data, with DATA and with BDAT),
    an address that is not UTF-8 at all (501), SMTPUTF8=value (501), and
    SMTPUTF8 where it was not offered (555).

    With the starttls and auth plugins (a certificate made by openssl and
    a sasldb made by saslpasswd2 in the test), the Received header must
    say UTF8SMTPS after STARTTLS and UTF8SMTPSA after AUTH as well; that
    test is skipped when those tools or plugins are missing.
"""
import os
import re
import shutil
import ssl
import subprocess

from ehlodtest import (Ehlod, EhlodTestCase, main, lf, ehlo, unfold,
                       split_added_headers, dot_stuff, make_tempdir,
                       plugin_dir)

PLUGINS = [
    ("pipelining", {}),
    ("8bitmime", {}),
    ("enhancedstatuscodes", {}),
    ("chunking", {}),
    ("smtputf8", {}),
    ("maildir", {}),
]

SENDER = "j\u00f6rg@b\u00fccher.example"
RCPT = "\u7528\u6237@example.org"


def utf8_message(subject="Gr\u00fc\u00dfe aus K\u00f6ln"):
    return ("From: J\u00f6rg <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n"
            "K\u00f6rper\r\n" % (SENDER, RCPT, subject)).encode("utf-8")


def utf8_server(**core):
    return Ehlod(plugins=PLUGINS, **core)


def received(added):
    text = unfold(added.decode("utf-8", "replace"))
    return [l for l in text.split("\n") if l.startswith("Received:")]


def tls_auth_plugins(directory):
    """PLUGINS plus starttls and auth, with a fresh certificate and a
    sasldb holding alice@mx.test / secret; None when that cannot be."""
    tools = [shutil.which("openssl"), shutil.which("saslpasswd2")]
    libs = [os.path.join(plugin_dir(), n) for n in ("starttls.so",
                                                    "auth.so")]
    if None in tools or not all(os.path.exists(l) for l in libs):
        return None
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    sasldb = os.path.join(directory, "sasldb")
    subprocess.run([tools[0], "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=mx.test"], check=True, timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([tools[1], "-p", "-f", sasldb, "-c", "-u", "mx.test",
                    "alice"], input=b"secret", check=True, timeout=30)
    for path in (cert, key, sasldb):
        os.chmod(path, 0o644)    # the workers read them as nobody
    return PLUGINS[:-1] + [
        ("starttls", {"cert": cert, "key": key}),
        ("auth", {"pwcheck_method": "auxprop", "auxprop_plugin": "sasldb",
                  "sasldb_path": sasldb, "mech_list": "PLAIN"}),
        PLUGINS[-1]]


class SmtpUtf8(EhlodTestCase):

    def test_smtputf8_offered_250(self):
        with utf8_server() as server, server.smtp() as client:
            self.assertEqual(client.ehlo("client.test")[0], 250)
            self.assertTrue(client.has_extn("smtputf8"))
            self.assertTrue(client.has_extn("8bitmime"))

    def test_smtplib_utf8_addresses_and_headers_delivered_250(self):
        message = utf8_message()
        with utf8_server() as server:
            with server.smtp() as client:
                refused = client.sendmail(SENDER, [RCPT], message,
                                          mail_options=["SMTPUTF8",
                                                        "BODY=8BITMIME"])
                self.assertEqual(refused, {})
            files = server.delivered()
        self.assertEqual(len(files), 1)
        added = split_added_headers(files[0], lf(message))
        self.assertIn(("Return-Path: <%s>\n" % SENDER).encode("utf-8"),
                      added)
        rec = received(added)
        self.assertEqual(len(rec), 1)
        self.assertRegex(rec[0], r" with UTF8SMTP id ")

    def test_ascii_transaction_says_esmtp_250(self):
        message = b"Subject: plain\r\n\r\nascii\r\n"
        with utf8_server() as server:
            with server.smtp() as client:
                client.sendmail("s@x.test", ["u@example.org"], message)
            files = server.delivered()
        rec = received(split_added_headers(files[0], lf(message)))
        self.assertRegex(rec[0], r" with ESMTP id ")

    def test_utf8_address_without_smtputf8_550_553(self):
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            r = s.cmd("MAIL FROM:<%s>" % SENDER)
            self.assertCode(r, 550)
            self.assertEnhanced(r, "5.6.7")
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("RCPT TO:<%s>" % RCPT)
            self.assertCode(r, 553)
            self.assertEnhanced(r, "5.6.7")
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_utf8_header_without_smtputf8_data_554(self):
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> BODY=8BITMIME"),
                            250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(utf8_message()))
            r = s.reply()
            self.assertCode(r, 554)
            self.assertEnhanced(r, "5.6.9")
            self.assertIn("SMTPUTF8", r.text)
            self.assertCode(s.cmd("NOOP"), 250)
            self.assertEqual(server.delivered(), [])

    def test_utf8_header_without_smtputf8_bdat_554(self):
        data = utf8_message()
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            s.send(b"BDAT %d LAST\r\n" % len(data) + data)
            r = s.reply()
            self.assertCode(r, 554)
            self.assertEnhanced(r, "5.6.9")
            self.assertEqual(server.delivered(), [])

    def test_utf8_body_without_smtputf8_250(self):
        # 8-bit content in the body is 8BITMIME's business, not SMTPUTF8's.
        message = b"Subject: plain\r\n\r\nK\xc3\xb6rper\r\n"
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> BODY=8BITMIME"),
                            250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(message))
            self.assertCode(s.reply(), 250)

    def test_address_not_utf8_501(self):
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            r = s.cmd(b"MAIL FROM:<j\xf6rg@x.test> SMTPUTF8")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.1.7")
            self.assertCode(s.cmd("MAIL FROM:<%s> SMTPUTF8" % SENDER), 250)
            r = s.cmd(b"RCPT TO:<\xc3\x28@example.org>")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.1.3")
            self.assertCode(s.cmd("RCPT TO:<%s>" % RCPT), 250)

    def test_smtputf8_with_value_501(self):
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            r = s.cmd("MAIL FROM:<s@x.test> SMTPUTF8=yes")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.5.4")

    def test_smtputf8_after_helo_555(self):
        with utf8_server() as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.assertCode(s.cmd("MAIL FROM:<%s> SMTPUTF8" % SENDER), 555)

    def test_received_says_utf8smtps_and_utf8smtpsa_250(self):
        directory = make_tempdir("ehlod-utf8tls-")
        try:
            plugs = tls_auth_plugins(directory)
            if plugs is None:
                self.skipTest("openssl, saslpasswd2, starttls.so or "
                              "auth.so missing")
            message = utf8_message()
            with Ehlod(plugins=plugs) as server:
                with server.smtp() as client:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    client.starttls(context=ctx)
                    client.sendmail(SENDER, [RCPT], message,
                                    mail_options=["SMTPUTF8"])
                    client.login("alice@mx.test", "secret")
                    client.sendmail(SENDER, [RCPT], message,
                                    mail_options=["SMTPUTF8"])
                files = server.delivered()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        self.assertEqual(len(files), 2)
        protocols = [re.search(r" with (\S+) id ", received(
            split_added_headers(f, lf(message)))[0]).group(1)
            for f in files]
        self.assertEqual(protocols, ["UTF8SMTPS", "UTF8SMTPSA"])

    def test_flag_ends_with_the_transaction(self):
        # SMTPUTF8 is per transaction: after RSET a UTF-8 address needs it
        # again.
        with utf8_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<%s> SMTPUTF8" % SENDER), 250)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("MAIL FROM:<%s>" % SENDER), 550)


if __name__ == "__main__":
    main()
