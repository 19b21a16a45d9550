#!/usr/bin/env python3
"""
NAME
    test_dsn - the dsn plugin: RET, ENVID, NOTIFY, ORCPT (RFC 3461)

DESCRIPTION
    Python's smtplib sends the DSN parameters the way mail programs do
    (mail_options, rcpt_options); raw sockets send the bad values smtplib
    would not.  Each bad value must be answered 501 5.5.4, a repeated
    parameter 501, a DSN parameter in a session without DSN 555, and the
    session must go on afterwards.

    Two deliveries show that the values travel with the transaction
    through the host API: maildir writes the one recipient's ORCPT as an
    Original-Recipient header (decoded), and ehlod's relay plugin passes
    RET, ENVID, NOTIFY and ORCPT on to a next hop, here a small SMTP
    listener in this file that offers DSN and records the command lines
    it gets.
"""
import socket
import threading

from ehlodtest import (Ehlod, EhlodTestCase, main, sample_message, lf,
                       split_added_headers, ehlo)

PLUGINS = [
    ("pipelining", {}),
    ("8bitmime", {}),
    ("enhancedstatuscodes", {}),
    ("dsn", {}),
    ("smtputf8", {}),
    ("maildir", {}),
]


def dsn_server(**core):
    return Ehlod(plugins=PLUGINS, **core)


class NextHop:
    """An SMTP listener offering DSN that records every command line.

    One connection at a time, in a thread; enough for the relay plugin,
    which keeps one session to its next hop per client session."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.messages = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self._session(conn.makefile("rwb"))
                except (OSError, ValueError):
                    pass

    def _session(self, f):
        def say(text):
            f.write(text.encode() + b"\r\n")
            f.flush()
        say("220 nexthop.test ESMTP")
        while True:
            line = f.readline()
            if not line:
                return
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            self.lines.append(text)
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-nexthop.test\r\n250-8BITMIME\r\n250 DSN")
            elif verb == "DATA":
                say("354 go ahead")
                self.messages.append(self._data(f))
                say("250 2.0.0 stored")
            elif verb == "QUIT":
                say("221 2.0.0 bye")
                return
            else:
                say("250 2.0.0 ok")

    @staticmethod
    def _data(f):
        out = []
        while True:
            line = f.readline()
            if not line or line == b".\r\n":
                return b"".join(out)
            out.append(line)

    def command(self, verb):
        return [l for l in self.lines if l.upper().startswith(verb)]

    def close(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Dsn(EhlodTestCase):

    def test_dsn_offered_in_ehlo_250(self):
        with dsn_server() as server, server.smtp() as client:
            code, _ = client.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertTrue(client.has_extn("dsn"), client.esmtp_features)

    def test_smtplib_parameters_accepted_and_orcpt_header_250(self):
        message = sample_message()
        with dsn_server() as server:
            with server.smtp() as client:
                refused = client.sendmail(
                    "s@x.test", ["u@example.org"], message,
                    mail_options=["RET=HDRS", "ENVID=QQ314159"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                                  "ORCPT=rfc822;Joe+2BUser@example.org"])
                self.assertEqual(refused, {})
            files = server.delivered()
            self.assertEqual(len(files), 1)
            added = split_added_headers(files[0], lf(message))
            # The xtext "+2B" is "+": the header carries the address
            # decoded, as RFC 3464 section 2.3.1 writes addresses.
            self.assertIn(b"\nOriginal-Recipient: "
                          b"rfc822;Joe+User@example.org\n", added)

    def test_no_original_recipient_without_orcpt_or_with_two_rcpts_250(self):
        with dsn_server() as server:
            with server.smtp() as client:
                client.sendmail("s@x.test", ["u@example.org"],
                                sample_message(),
                                rcpt_options=["NOTIFY=NEVER"])
                # Two recipients share one file, which cannot say which of
                # the two it is for: no Original-Recipient then.
                client.sendmail("s@x.test", ["u@example.org",
                                             "v@example.org"],
                                sample_message(),
                                rcpt_options=["ORCPT=rfc822;u@example.org"])
            files = server.delivered()
            self.assertEqual(len(files), 2)
            for content in files:
                self.assertNotIn(b"Original-Recipient:", content)

    def test_lower_and_mixed_case_values_250(self):
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> ret=full "
                                  "envid=a+2Bb"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> "
                                  "notify=delay,Failure "
                                  "orcpt=RFC822;u@example.org"), 250)
            self.assertCode(s.cmd("RCPT TO:<v@example.org> NOTIFY=NEVER"),
                            250)

    def check_refused(self, s, line, code, enhanced="5.5.4"):
        r = s.cmd(line)
        self.assertCode(r, code, "%s answered %r" % (line, r))
        if enhanced:
            self.assertEnhanced(r, enhanced)
        return r

    def test_bad_mail_values_501(self):
        bad = [
            "RET=ALL", "RET=FULL,HDRS", "ENVID=a+2", "ENVID=a+2bb",
            "ENVID=cr+0D", "ENVID=nul+00", "ENVID=" + "e" * 101,
            "ENVID=caf+C3+A9",
        ]
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            for param in bad:
                r = self.check_refused(s, "MAIL FROM:<s@x.test> " + param,
                                       501)
                self.assertIn(param.split("=")[0], r.text)
            # A 100-character ENVID is the longest allowed.
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> ENVID=" +
                                  "e" * 100), 250)

    def test_bad_rcpt_values_501(self):
        bad = [
            "NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,SUCCESS",
            "NOTIFY=SUCCESS,", "NOTIFY=ALWAYS", "NOTIFY=,DELAY",
            "ORCPT=u@example.org", "ORCPT=;u@example.org",
            "ORCPT=rfc(822);u@example.org", "ORCPT=rfc822;",
            "ORCPT=rfc822;u+0A@example.org",
            "ORCPT=rfc822;" + "a" * 494,
        ]
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            for param in bad:
                self.check_refused(s, "RCPT TO:<u@example.org> " + param,
                                   501)
            # "ORCPT=" and 494 more characters: the 500 RFC 3461 allows.
            self.assertCode(s.cmd("RCPT TO:<u@example.org> ORCPT=rfc822;" +
                                  "a" * 487), 250)

    def test_repeated_parameter_501(self):
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            self.check_refused(s, "MAIL FROM:<s@x.test> RET=FULL RET=HDRS",
                               501)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.check_refused(s, "RCPT TO:<u@example.org> NOTIFY=NEVER "
                               "NOTIFY=NEVER", 501)

    def test_parameter_without_value_501(self):
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            self.check_refused(s, "MAIL FROM:<s@x.test> RET", 501)

    def test_after_helo_555(self):
        with dsn_server() as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.check_refused(s, "MAIL FROM:<s@x.test> RET=FULL", 555,
                               None)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.check_refused(s, "RCPT TO:<u@example.org> NOTIFY=NEVER",
                               555, None)

    def test_without_dsn_plugin_555(self):
        plugins = [p for p in PLUGINS if p[0] != "dsn"]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            r = ehlo(s)
            self.assertNotIn("DSN", r.lines)
            self.check_refused(s, "MAIL FROM:<s@x.test> RET=FULL", 555)

    def test_utf8_orcpt_only_in_smtputf8_transaction(self):
        orcpt = "ORCPT=utf-8;j\u00f6rg@example.org"
        with dsn_server() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.check_refused(s, "RCPT TO:<u@example.org> " + orcpt, 501)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> SMTPUTF8"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> " + orcpt), 250)

    def test_relay_passes_values_to_next_hop_250(self):
        with NextHop() as hop:
            relay = {"next_hop": "smtp://127.0.0.1:%d" % hop.port,
                     "timeout": 10}
            plugins = [("enhancedstatuscodes", {}), ("dsn", {}),
                       ("relay", relay)]
            with Ehlod(plugins=plugins) as server, server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test> RET=HDRS "
                                      "ENVID=id+2B1"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@example.org> "
                                      "NOTIFY=FAILURE,DELAY "
                                      "ORCPT=rfc822;u+2Bx@example.org"),
                                250)
                self.assertCode(s.cmd("DATA"), 354)
                s.send(b"Subject: relayed\r\n\r\nbody\r\n.\r\n")
                self.assertCode(s.reply(), 250)
                self.assertCode(s.cmd("QUIT"), 221)
        mail = hop.command("MAIL")
        rcpt = hop.command("RCPT")
        self.assertEqual(len(mail), 1, hop.lines)
        self.assertIn(" RET=HDRS", mail[0])
        # ENVID was stored decoded ("id+1") and is sent as xtext again.
        self.assertIn(" ENVID=id+2B1", mail[0])
        self.assertEqual(len(rcpt), 1, hop.lines)
        self.assertIn(" NOTIFY=FAILURE,DELAY", rcpt[0])
        # ORCPT travels as the client sent it.
        self.assertIn(" ORCPT=rfc822;u+2Bx@example.org", rcpt[0])
        self.assertEqual(len(hop.messages), 1)


if __name__ == "__main__":
    main()
