#!/usr/bin/env python3
"""
NAME
    test_client_relay - the relay delivery plugin, with Postfix's smtp-sink
    as the next hop

DESCRIPTION
    ehlod with plugins/relay.so forwards each message to smtp-sink during
    the client's session: the client's 250 comes only after the next hop
    took the message, and a refusal by the next hop (or its absence, or a
    missing extension the message needs) reaches the client as the reply
    to the step where it is known (RCPT or end of data: the next hop
    hears of the transaction at its first recipient).  The client library runs on the server's event
    loop (PENDING/resume), so a second session is served meanwhile.
"""
import os
import smtplib
import socket
import unittest

from ehlodtest import Ehlod, EhlodTestCase, sample_message
from test_client_support import SmtpSink, free_port

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)

RCPT = "u@example.org"


def relay_server(next_hop, **opts):
    relay = {"next_hop": next_hop, "timeout": 10, "domains": ["example.org"]}
    relay.update(opts)
    return Ehlod(plugins=[("pipelining", {}), ("8bitmime", {}),
                          ("enhancedstatuscodes", {}), ("relay", relay)])


def send(server, message, rcpts=(RCPT,), options=()):
    with smtplib.SMTP("127.0.0.1", server.port, timeout=15) as c:
        c.ehlo("client.test")
        code, text = c.mail("s@x.test", list(options))
        if code != 250:
            return code, text
        for r in rcpts:
            code, text = c.rcpt(r)
            if code != 250:
                return code, text
        return c.data(message)


class Relay(EhlodTestCase):
    def test_relayed_before_250(self):
        with SmtpSink() as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            code, text = send(srv, sample_message())
            dump = sink.dumped()
        self.assertEqual(code, 250, text)
        self.assertIn(b"relayed", text)
        self.assertNotIn(b"smtp://", text)     # the next hop stays private
        self.assertIn("X-Rcpt-Args: <%s>" % RCPT, dump)
        self.assertIn("X-Mail-Args: <s@x.test>", dump)
        self.assertIn(".a line that starts with a dot", dump)

    def test_next_hop_refusal_passed_on(self):
        with SmtpSink("-f", "RCPT", "-B", "550 5.1.1 no such user") as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            code, text = send(srv, sample_message())
        self.assertEqual(code, 550, text)
        self.assertIn(b"no such user", text)

    def test_next_hop_temporary_refusal(self):
        with SmtpSink("-r", "MAIL") as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            code, text = send(srv, sample_message())
        self.assertEqual(code // 100, 4, text)

    def test_next_hop_down_is_tempfail(self):
        with relay_server("smtp://127.0.0.1:%d" % free_port()) as srv:
            code, text = send(srv, sample_message())
        self.assertEqual(code, 451, text)
        self.assertIn(b"connect", text)

    def test_8bit_to_hop_without_8bitmime(self):
        msg = sample_message(body="caf\u00e9\r\n".encode("utf-8"))
        with SmtpSink("-8") as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            code, text = send(srv, msg, options=["BODY=8BITMIME"])
            dump = sink.dumped(timeout=1)
        self.assertEqual(code, 554, text)
        self.assertIn(b"8BITMIME", text)
        self.assertEqual(dump, "")

    def test_body_passed_on_when_offered(self):
        msg = sample_message(body="caf\u00e9\r\n".encode("utf-8"))
        with SmtpSink() as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            code, text = send(srv, msg, options=["BODY=8BITMIME"])
            dump = sink.dumped()
        self.assertEqual(code, 250, text)
        self.assertIn("X-Mail-Args: <s@x.test> BODY=8BITMIME", dump)

    def test_lmtp_next_hop(self):
        with SmtpSink("-L", unix=True) as sink, \
                relay_server("lmtp:unix:" + sink.path) as srv:
            code, text = send(srv, sample_message(),
                              rcpts=(RCPT, "v@example.org"))
            dump = sink.dumped()
        self.assertEqual(code, 250, text)
        self.assertIn("X-Client-Proto: LMTP", dump)
        self.assertIn("X-Rcpt-Args: <v@example.org>", dump)

    def test_other_sessions_go_on_while_pending(self):
        """The next hop stalls 3 s on DATA (smtp-sink -w); meanwhile a
        second client gets its greeting and EHLO answered at once."""
        with SmtpSink("-w", "3") as sink, \
                relay_server("smtp://127.0.0.1:%d" % sink.port) as srv:
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=15)
            try:
                c.ehlo("client.test")
                c.mail("s@x.test")
                c.rcpt(RCPT)
                c.putcmd("data")
                self.assertEqual(c.getreply()[0], 354)
                c.send(sample_message().replace(b"\r\n", b"\r\n") + b".\r\n")
                other = socket.create_connection(("127.0.0.1", srv.port), 2)
                other.settimeout(2)
                try:
                    self.assertTrue(other.recv(100).startswith(b"220"))
                finally:
                    other.close()
                code, text = c.getreply()
                self.assertEqual(code, 250, text)
            finally:
                c.close()


if __name__ == "__main__":
    unittest.main()
