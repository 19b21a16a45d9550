#!/usr/bin/env python3
"""
NAME
    test_relay_recipients - the relay plugin answers each step with the
    next hop's verdict (aiosmtpd as the next hop)

DESCRIPTION
    ehlod with plugins/relay.so in front of aiosmtpd (Debian's
    python3-aiosmtpd, a server we did not write) whose handler refuses
    chosen recipients: "bad@" with 550 5.1.1 and "busy@" with 450 4.2.1.
    Our SMTP client must see those codes and texts at its own RCPT, the
    recipients the next hop accepted must be the ones in its dump, and
    RSET, SIZE and a next hop that is down must behave as the relay's
    manual says.
"""
import os
import smtplib
import unittest

from ehlodtest import Ehlod, EhlodTestCase, sample_message
from test_client_support import Aiosmtpd, free_port

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)

# The next hop: the shared aiosmtpd helper, refusing chosen recipients
# on their local part.
REFUSE = {"bad": "550 5.1.1 <%s>: no such mailbox here",
          "busy": "450 4.2.1 <%s>: mailbox busy, try later"}


def NextHop(size=1000000):
    """aiosmtpd on a loopback port that refuses "bad@" with 550 and
    "busy@" with 450; received() lists what it stored."""
    return Aiosmtpd(refuse=REFUSE, size=size)


def relay_server(hop_port, domains=("example.org",), **relay_opts):
    relay = {"next_hop": "smtp://127.0.0.1:%d" % hop_port, "timeout": 10,
             "domains": list(domains)}
    relay.update(relay_opts)
    return Ehlod(plugins=[("pipelining", {}), ("size", {"limit": 10000000}),
                          ("8bitmime", {}), ("enhancedstatuscodes", {}),
                          ("relay", relay)])


def two_relays(port_org, port_net):
    """relay for example.org, a second instance of relay.so for
    example.net, each to its own next hop."""
    return Ehlod(local_domains=["example.org", "example.net"],
                 plugins=[("pipelining", {}), ("enhancedstatuscodes", {}),
                          ("relay", {"next_hop": "smtp://127.0.0.1:%d"
                                     % port_org, "timeout": 10,
                                     "domains": ["example.org"]}),
                          ("relay_net", {"path": "relay",
                                         "next_hop": "smtp://127.0.0.1:%d"
                                         % port_net, "timeout": 10,
                                         "domains": ["example.net"]})])


class Recipients(EhlodTestCase):
    def test_two_relay_instances_one_per_domain(self):
        with NextHop() as org, NextHop() as net, \
                two_relays(org.port, net.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                # Mixed: each instance delivers its own share.
                self.assertEqual(c.sendmail(
                    "s@x.test", ["a@example.org", "b@example.net"],
                    sample_message()), {})
                # One domain: only that instance's next hop.
                self.assertEqual(c.sendmail(
                    "s@x.test", ["c@example.net"], sample_message()), {})
            got_org, got_net = org.received(), net.received()
            log = srv.log()
        self.assertEqual([m["rcpt_tos"] for m in got_org],
                         [["a@example.org"]])
        self.assertEqual([m["rcpt_tos"] for m in got_net],
                         [["b@example.net"], ["c@example.net"]])
        self.assertIn("plugin=relay_net: relay=smtp://127.0.0.1:%d"
                      % net.port, log)

    def test_per_recipient_verdicts(self):
        with NextHop() as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test")[0], 250)
                good = c.rcpt("good@example.org")
                bad = c.rcpt("bad@example.org")
                busy = c.rcpt("busy@example.org")
                good2 = c.rcpt("good2@example.org")
                code, text = c.data(sample_message())
            got = hop.received()
        self.assertEqual(good[0], 250, good)
        self.assertIn(b"welcome", good[1])
        self.assertEqual(bad[0], 550, bad)
        self.assertEqual(bad[1], b"5.1.1 <bad@example.org>: no such mailbox here")
        self.assertEqual(busy[0], 450, busy)
        self.assertIn(b"4.2.1 <busy@example.org>: mailbox busy", busy[1])
        self.assertEqual(good2[0], 250, good2)
        self.assertEqual(code, 250, text)
        self.assertIn(b"stored as msg000", text)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["mail_from"], "s@x.test")
        self.assertEqual(got[0]["rcpt_tos"],
                         ["good@example.org", "good2@example.org"])
        self.assertIn(b".a line that starts with a dot",
                      __import__("base64").b64decode(got[0]["content"]))

    def test_every_recipient_refused(self):
        with NextHop() as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                self.assertEqual(c.rcpt("bad@example.org")[0], 550)
                c.putcmd("data")
                code, _ = c.getreply()
            got = hop.received()
        self.assertEqual(code // 100, 5)    # no valid recipients
        self.assertEqual(got, [])

    def test_rset_and_second_transaction(self):
        """RSET from our client resets the next hop: the first envelope
        never reaches it; the second transaction reuses the session."""
        with NextHop() as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("first@x.test")
                c.rcpt("good@example.org")
                self.assertEqual(c.rset()[0], 250)
                self.assertEqual(c.mail("second@x.test")[0], 250)
                self.assertEqual(c.rcpt("other@example.org")[0], 250)
                self.assertEqual(c.data(sample_message())[0], 250)
                self.assertEqual(c.mail("third@x.test")[0], 250)
                self.assertEqual(c.rcpt("good@example.org")[0], 250)
                self.assertEqual(c.data(sample_message())[0], 250)
            got = hop.received()
        self.assertEqual([(m["mail_from"], m["rcpt_tos"]) for m in got],
                         [("second@x.test", ["other@example.org"]),
                          ("third@x.test", ["good@example.org"])])

    def test_late_recipient_refused_at_data(self):
        """domains = {} : the core accepts example.org recipients without
        the relay; they reach the next hop at DATA, and a refusal there
        refuses DATA, so our client keeps every recipient."""
        with NextHop() as hop, relay_server(hop.port, domains=()) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                c.mail("s@x.test")
                self.assertEqual(c.rcpt("good@example.org")[0], 250)
                self.assertEqual(c.rcpt("bad@example.org")[0], 250)
                c.putcmd("data")
                code, text = c.getreply()
            got = hop.received()
        self.assertEqual(code, 554, text)
        self.assertIn(b"bad@example.org", text)
        self.assertIn(b"no such mailbox here", text)
        self.assertEqual(got, [])

    def test_size_over_next_hop_limit(self):
        """The next hop hears of the transaction at the first recipient
        ours to forward, so its SIZE answers that RCPT."""
        with NextHop(size=1000) as hop, relay_server(hop.port) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test", ["SIZE=5000"])[0], 250)
                code, text = c.rcpt("good@example.org")
        self.assertEqual(code, 552, text)
        self.assertIn(b"5.3.4", text)
        self.assertIn(b"SIZE", text)

    def test_next_hop_down(self):
        with relay_server(free_port()) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=15) as c:
                c.ehlo("client.test")
                self.assertEqual(c.mail("s@x.test")[0], 250)
                code, text = c.rcpt("good@example.org")
                self.assertEqual(c.noop()[0], 250)   # our session goes on
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.4.1", text)
        self.assertIn(b"not reachable", text)


if __name__ == "__main__":
    unittest.main()
