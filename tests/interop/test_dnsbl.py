#!/usr/bin/env python3
"""
NAME
    test_dnsbl - the dnsbl plugin against a real DNS server

DESCRIPTION
    Each test starts dnsmasq (Debian's dnsmasq-base) on a free loopback
    port as the blocklists' name server:

        *.1.0.0.127.bl.test   A 127.0.0.2         the client 127.0.0.1 is listed
        1.0.0.127.refuse.test A 127.255.255.254   "query refused"
        clean.test, bl.test   NXDOMAIN            nobody else is listed

    and ehlod with plugins/dnsbl.so asks it about the test client,
    127.0.0.1 (query name 1.0.0.127.ZONE).  A listed client must get 554
    at the configured stage, naming the zone; an unlisted one must be
    served; the "query refused" answer and a name server that is down
    (a port nobody listens on) must follow on_error; and, the point of
    the plugin, while a lookup waits on a name server that never answers
    (a UDP socket the test holds and never reads), another session on
    the same single worker must be served from start to QUIT.

    At the rcpt stage a client that has authenticated is not looked up
    (the auth plugin with a sasldb made by saslpasswd2; that test is
    skipped when either is missing).

    Exit 77 when dnsmasq is not installed.
"""
import base64
import os
import re
import shutil
import socket
import struct
import subprocess
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, make_tempdir,
                       free_port, RawSession, sample_message,
                       plugin_dir)

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
if not os.access(DNSMASQ, os.X_OK):
    print("skipped: dnsmasq is not installed (Debian package dnsmasq-base)")
    raise SystemExit(77)

CLIENT_NAME = "1.0.0.127"       # the test client, 127.0.0.1, reversed


def free_udp_port():
    return free_port(kind=socket.SOCK_DGRAM)


def dns_query(port, name, timeout=0.5):
    """Ask 127.0.0.1:port for name's A record; return the rcode or None."""
    labels = b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
    packet = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + \
        labels + b"\0" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", port))
        try:
            answer = s.recv(512)
        except (socket.timeout, ConnectionRefusedError):
            return None
    return struct.unpack(">H", answer[2:4])[0] & 0xf


class Dnsmasq:
    """dnsmasq answering for the test zones on a free loopback port."""

    def __init__(self, listed=CLIENT_NAME):
        self.listed = listed	# the reversed address bl.test lists
        self.dir = make_tempdir("ehlod-dnsmasq-")
        self.log_path = os.path.join(self.dir, "dnsmasq.log")
        self.proc = None
        for _attempt in range(3):
            self.port = free_udp_port()
            if self._start():
                return
        self.close()
        raise RuntimeError("dnsmasq did not start:\n" + self.log())

    def _start(self):
        args = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null",
                "--pid-file=", "--port=%d" % self.port,
                "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--log-queries",
                "--log-facility=" + self.log_path,
                "--address=/%s.bl.test/127.0.0.2" % self.listed,
                "--address=/%s.refuse.test/127.255.255.254" % CLIENT_NAME,
                "--local=/bl.test/", "--local=/clean.test/"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if dns_query(self.port, "clean.test", 0.2) is not None:
                return True
        self._stop()
        return False

    def queries(self, name):
        """How many A queries for name dnsmasq has seen (any case: the
        resolver randomizes the case of the names it sends)."""
        pattern = re.compile(r"query\[A\] %s from" % re.escape(name), re.I)
        return len(pattern.findall(self.log()))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def close(self):
        self._stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SilentServer:
    """A name server that never answers: a UDP socket nobody reads."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def asked(self):
        """True when a query has arrived (and is left unanswered)."""
        self.sock.setblocking(False)
        try:
            return len(self.sock.recv(512, socket.MSG_PEEK)) > 0
        except BlockingIOError:
            return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def dnsbl_server(port, core=None, **options):
    """ehlod with dnsbl asking 127.0.0.1:port; options are dnsbl's, core
    the server's."""
    opts = {"zones": ["bl.test"], "nameservers": ["127.0.0.1:%d" % port]}
    opts.update(options)
    return Ehlod(plugins=[("pipelining", {}), ("enhancedstatuscodes", {}),
                          ("dnsbl", opts), ("maildir", {})], **(core or {}))


class Dnsbl(EhlodTestCase):

    def test_listed_client_at_connect_554(self):
        with Dnsmasq() as dns, dnsbl_server(dns.port) as server:
            with server.raw() as s:
                g = s.greeting
                self.assertCode(g, 554)
                self.assertIn("[127.0.0.1]", g.text)
                self.assertIn("bl.test", g.text)
                # A refused session serves QUIT only.
                self.assertCode(s.cmd("EHLO client.test"), 503)
                self.assertCode(s.cmd("QUIT"), 221)
            self.assertIn("listed by bl.test (127.0.0.2)", server.log())

    def test_unlisted_client_served_250(self):
        with Dnsmasq() as dns, \
                dnsbl_server(dns.port, zones=["clean.test"]) as server:
            with server.smtp() as client:
                self.assertEqual(client.sendmail(
                    "s@x.test", ["u@example.org"], sample_message()), {})
            self.assertEqual(len(server.delivered()), 1)
            # At least once: the harness's own probe of the port is a
            # connection too.
            self.assertGreaterEqual(dns.queries(CLIENT_NAME + ".clean.test"),
                                    1)

    def test_listing_zone_named_among_several_554(self):
        with Dnsmasq() as dns, dnsbl_server(
                dns.port, zones=["clean.test", "bl.test"]) as server:
            with server.raw() as s:
                self.assertCode(s.greeting, 554)
                self.assertIn("bl.test", s.greeting.text)
                self.assertNotIn("clean.test", s.greeting.text)

    def test_listed_client_at_rcpt_554_asked_once(self):
        with Dnsmasq() as dns, dnsbl_server(
                dns.port, stage="rcpt",
                message="Blocked: %s is on %s (100%% sure)") as server:
            with server.raw() as s:
                self.assertCode(s.greeting, 220)
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                r = s.cmd("RCPT TO:<u@example.org>")
                self.assertCode(r, 554)
                self.assertEnhanced(r, "5.7.1")
                self.assertIn("Blocked: 127.0.0.1 is on bl.test (100% sure)",
                              r.text)
                # The answer is kept for the session: no second query.
                self.assertCode(s.cmd("RCPT TO:<v@example.org>"), 554)
                self.assertCode(s.cmd("QUIT"), 221)
            self.assertEqual(dns.queries(CLIENT_NAME + ".bl.test"), 1)

    def test_authenticated_client_not_looked_up_at_rcpt_250(self):
        saslpasswd2 = shutil.which("saslpasswd2")
        if saslpasswd2 is None or not os.path.exists(
                os.path.join(plugin_dir(), "auth.so")):
            self.skipTest("saslpasswd2 or auth.so missing")
        directory = make_tempdir("ehlod-dnsbl-auth-")
        sasldb = os.path.join(directory, "sasldb")
        subprocess.run([saslpasswd2, "-p", "-f", sasldb, "-c", "-u",
                        "mx.test", "alice"], input=b"secret", check=True,
                       timeout=30)
        os.chmod(sasldb, 0o644)
        auth = {"pwcheck_method": "auxprop", "auxprop_plugin": "sasldb",
                "sasldb_path": sasldb, "mech_list": "PLAIN",
                "allow_plaintext": True}
        try:
            with Dnsmasq() as dns, Ehlod(plugins=[
                    ("enhancedstatuscodes", {}), ("auth", auth),
                    ("dnsbl", {"zones": ["bl.test"], "stage": "rcpt",
                               "nameservers": ["127.0.0.1:%d" % dns.port]}),
                    ("maildir", {})]) as server:
                with server.raw() as s:
                    ehlo(s)
                    token = base64.b64encode(b"\0alice@mx.test\0secret")
                    self.assertCode(s.cmd("AUTH PLAIN " + token.decode()),
                                    235)
                    self.assertCode(s.cmd("MAIL FROM:<alice@mx.test>"), 250)
                    self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
                # The same client without AUTH is listed.
                with server.raw() as s:
                    ehlo(s)
                    self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                    self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 554)
                self.assertEqual(dns.queries(CLIENT_NAME + ".bl.test"), 1)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def test_refused_query_with_tempfail_at_rcpt_451(self):
        with Dnsmasq() as dns, dnsbl_server(
                dns.port, zones=["refuse.test"], stage="rcpt",
                on_error="tempfail") as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                r = s.cmd("RCPT TO:<u@example.org>")
                self.assertCode(r, 451)
                self.assertEnhanced(r, "4.7.1")

    def test_dead_name_server_tempfail_at_connect_421(self):
        dead = free_udp_port()
        with dnsbl_server(dead, on_error="tempfail",
                          timeout_ms=1000) as server:
            start = time.monotonic()
            s = RawSession(server.port, timeout=10)
            elapsed = time.monotonic() - start
            try:
                self.assertCode(s.greeting, 421)
                self.assertTrue(s.wait_closed(5), "421 closes the session")
            finally:
                s.close()
            self.assertLess(elapsed, 5, "the lookup ends by timeout_ms")

    def test_dead_name_server_accept_is_default_220(self):
        dead = free_udp_port()
        with dnsbl_server(dead, timeout_ms=500) as server:
            with server.raw() as s:
                self.assertCode(s.greeting, 220)
                ehlo(s)
            self.assertIn("on_error = accept", server.log())

    def test_other_sessions_served_meanwhile(self):
        timeout_ms = 3000
        with SilentServer() as silent, dnsbl_server(
                silent.port, stage="rcpt", on_error="tempfail",
                timeout_ms=timeout_ms, core={"workers": 1}) as server:
            with server.raw(timeout=15) as a:
                ehlo(a)
                self.assertCode(a.cmd("MAIL FROM:<s@x.test>"), 250)
                a.send("RCPT TO:<u@example.org>\r\n")
                asked = time.monotonic()
                # The only worker waits for DNS on a's behalf; b must be
                # served from greeting to QUIT all the same.
                with server.raw() as b:
                    self.assertCode(b.greeting, 220)
                    ehlo(b)
                    self.assertCode(b.cmd("NOOP"), 250)
                    self.assertCode(b.cmd("QUIT"), 221)
                b_done = time.monotonic()
                self.assertTrue(a.quiet(0.05),
                                "a's RCPT was answered before b was done")
                r = a.reply()
                a_done = time.monotonic()
                self.assertCode(r, 451)
                self.assertEnhanced(r, "4.7.1")
            self.assertLess(b_done - asked, timeout_ms / 1000.0 / 2)
            self.assertGreater(a_done - asked, timeout_ms / 1000.0 * 0.8)
            self.assertLess(b_done, a_done)

    def test_client_gone_while_lookup_pending(self):
        # The session ends with its query out and its deadline set; the
        # deadline passes, then the server must still serve, and the log
        # show no worker lost.
        with SilentServer() as silent, dnsbl_server(
                silent.port, stage="rcpt", timeout_ms=500,
                core={"workers": 1}) as server:
            with server.raw() as a:
                ehlo(a)
                self.assertCode(a.cmd("MAIL FROM:<s@x.test>"), 250)
                a.send("RCPT TO:<u@example.org>\r\n")
                time.sleep(0.2)
                self.assertTrue(silent.asked(), "no query went out")
            time.sleep(1.0)
            with server.raw() as b:
                self.assertCode(b.greeting, 220)
                ehlo(b)
                self.assertCode(b.cmd("QUIT"), 221)
            log = server.log()
            # Still in MAIL: the RCPT was being decided when a left.
            self.assertIn("lost connection after MAIL", log)
            self.assertNotIn("ended unexpectedly", log)
            self.assertNotIn("DNSBL lookup failed", log,
                             "a finished session was still resumed")

    def test_two_instances_each_with_own_options(self):
        """Two dnsbl sections: one at connect on a clean zone, one at
        RCPT on the listing zone with its own message."""
        with Dnsmasq() as dns:
            ns = ["127.0.0.1:%d" % dns.port]
            plugins = [("enhancedstatuscodes", {}),
                       ("dnsbl", {"zones": ["clean.test"],
                                  "nameservers": ns}),
                       ("dnsbl_rcpt", {"path": "dnsbl", "stage": "rcpt",
                                       "zones": ["bl.test"],
                                       "nameservers": ns,
                                       "message": "second: %s on %s"}),
                       ("maildir", {})]
            with Ehlod(plugins=plugins) as server, server.raw() as s:
                self.assertCode(s.greeting, 220)
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                r = s.cmd("RCPT TO:<u@example.org>")
                self.assertCode(r, 554)
                self.assertIn("second: 127.0.0.1 on bl.test", r.text)
                self.assertCode(s.cmd("QUIT"), 221)
                log = server.log()
            self.assertIn("plugin=dnsbl_rcpt: client [127.0.0.1] listed "
                          "by bl.test", log)
            self.assertGreaterEqual(dns.queries(CLIENT_NAME + ".clean.test"),
                                    1)

    def check_config(self, options, expect):
        srv = Ehlod(plugins=[("dnsbl", options)], start=False)
        try:
            code, out = srv.check()
        finally:
            srv.cleanup()
        if expect is None:
            self.assertEqual(code, 0, out)
            return out
        self.assertEqual(code, 1, out)
        self.assertIn(expect, out)
        return out

    def test_config_checked_by_ehlod_t(self):
        ok = {"zones": ["bl.test"], "nameservers": ["127.0.0.1:53"]}
        out = self.check_config(ok, None)
        self.assertRegex(out, r"hooks\s+connect rcpt close")
        self.check_config({}, "zones")
        self.check_config(dict(ok, zones=["bad zone"]), "zones")
        out = self.check_config(dict(ok, stage="data"), "stage")
        # FILE:LINE, the instance and the option, as for core options.
        self.assertRegex(out, r"ehlod\.conf:\d+: plugin 'dnsbl': option "
                         r"'stage': must be")
        self.check_config(dict(ok, on_error="maybe"), "on_error")
        self.check_config(dict(ok, timeout_ms=10), "timeout_ms")
        self.check_config(dict(ok, message="listed: %d"), "message")
        self.check_config(dict(ok, nameservers=["ns.example"]),
                          "nameservers")


if __name__ == "__main__":
    main()
