"""Listener sections: one ehlod serving an MX, submission (587) and
implicit-TLS submission (465, RFC 8314) with a policy each.

swaks against the 587 listener (require_tls, require_auth): MAIL without
TLS gets 530 5.7.0 Must issue a STARTTLS command first, AUTH before
STARTTLS too; with --tls but no AUTH, MAIL gets 530 5.7.0 Authentication
required; with --tls --auth the message to a non-local domain is accepted
and stored with ESMTPSA in its Received header.  swaks --tlsc and
smtplib.SMTP_SSL against the 465 listener deliver with ESMTPS / ESMTPSA; a
plain-text client there gets no greeting and its failed handshake is
logged.  The MX listener's plugin subset leaves AUTH and SIZE out: no
keyword, AUTH is 500, SIZE= is 555.  relay_networks lets 127.0.0.1 relay
without AUTH on the listener that inherits it, and a listener with
relay_networks = {} refuses the same recipient with 554 5.7.1.  Bad
listener sections make "ehlod -t" exit 1 naming FILE:LINE; so does an
address another process holds when ehlod starts.

Needs openssl, swaks and saslpasswd2 with the sasldb, PLAIN and LOGIN SASL
plugins (Debian: openssl, swaks, sasl2-bin, libsasl2-modules,
libsasl2-modules-db); exit 77 when one is missing.
"""

import glob
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time

from ehlodtest import (Ehlod, EhlodTestCase, HOSTNAME, RawSession, ehlo,
                       free_port, main, make_tempdir, plugin_dir,
                       run_ehlod, sample_message)

OPENSSL = shutil.which("openssl")
SWAKS = shutil.which("swaks")
SASLPASSWD2 = shutil.which("saslpasswd2") or (
    "/usr/sbin/saslpasswd2" if os.path.exists("/usr/sbin/saslpasswd2")
    else None)
SASL_PLUGIN_DIRS = glob.glob("/usr/lib/*/sasl2") + ["/usr/lib/sasl2"]

USER = "user"
PASSWORD = "secret"
REMOTE = "someone@remote.test"      # not in local_domains
FILES = {}
SERVER = {}


def sasl_plugin(name):
    return any(glob.glob(os.path.join(d, "lib%s.so*" % name))
               for d in SASL_PLUGIN_DIRS)


def make_files():
    FILES["dir"] = make_tempdir("ehlod-listeners-")
    db = os.path.join(FILES["dir"], "sasldb")
    subprocess.run([SASLPASSWD2, "-p", "-c", "-f", db, "-u", HOSTNAME, USER],
                   input=PASSWORD.encode(), check=True, timeout=20,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(db, 0o644)
    FILES["db"] = db
    FILES["key"] = os.path.join(FILES["dir"], "key.pem")
    FILES["cert"] = os.path.join(FILES["dir"], "cert.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=" + HOSTNAME, "-days", "2", "-keyout",
                    FILES["key"], "-out", FILES["cert"]], check=True,
                   timeout=60, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def plugins():
    return [
        ("pipelining", {}),
        ("size", {"limit": 1000000}),
        ("8bitmime", {}),
        ("enhancedstatuscodes", {}),
        ("starttls", {"cert": FILES["cert"], "key": FILES["key"]}),
        ("auth", {"pwcheck_method": "auxprop", "auxprop_plugin": "sasldb",
                  "sasldb_path": FILES["db"], "mech_list": "PLAIN LOGIN"}),
        ("maildir", {}),
    ]


def listener(name, port, **options):
    lines = ['listener "%s" {' % name, '    listen = {"127.0.0.1:%d"}' % port]
    for key, value in options.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = "{" + ", ".join('"%s"' % v for v in value) + "}"
        else:
            value = '"%s"' % value
        lines.append("    %s = %s" % (key, value))
    return "\n".join(lines + ["}"]) + "\n"


def setUpModule():
    if not (OPENSSL and SWAKS and SASLPASSWD2 and sasl_plugin("sasldb")
            and sasl_plugin("plain") and sasl_plugin("login")):
        print("skipped: needs openssl, swaks, saslpasswd2 and the SASL "
              "sasldb/plain/login plugins", file=sys.stderr)
        sys.exit(77)
    make_files()
    ports = {n: free_port() for n in ("mx", "submission", "submissions",
                                      "internal")}
    extra = (listener("mx", ports["mx"], relay_networks=[],
                      plugins=["pipelining", "8bitmime",
                               "enhancedstatuscodes", "starttls",
                               "maildir"])
             + listener("submission", ports["submission"], require_tls=True,
                        require_auth=True, relay_networks=[])
             + listener("submissions", ports["submissions"], tls="implicit",
                        relay_networks=[])
             + listener("internal", ports["internal"], tls="none"))
    SERVER["ports"] = ports
    SERVER["ehlod"] = Ehlod(plugins=plugins(), extra_config=extra,
                            relay_networks=["127.0.0.1"])


def tearDownModule():
    if "ehlod" in SERVER:
        server = SERVER["ehlod"]
        server.stop()
        report = server.sanitizer_report()
        if report:
            raise AssertionError("sanitizer report:\n" + report[-8000:])
    shutil.rmtree(FILES.get("dir", "/nonexistent"), ignore_errors=True)


def swaks(port, *args):
    cmd = [SWAKS, "--server", "127.0.0.1:%d" % port, "--from", "s@x.test",
           "--helo", "swaks.test", "--timeout", "15"] + list(args)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=40)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def auth_args():
    return ["--auth", "PLAIN", "--auth-user", USER, "--auth-password",
            PASSWORD]


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(FILES["cert"])
    ctx.check_hostname = False      # mx.test, reached as 127.0.0.1
    return ctx


def keywords(reply):
    return {line.split(" ")[0].upper() for line in reply.lines[1:]}


class Listeners(EhlodTestCase):

    def setUp(self):
        super().setUp()
        self.srv = SERVER["ehlod"]
        self.ports = SERVER["ports"]

    def delivered_with(self, subject):
        """The stored message whose Subject is subject, waiting for it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for m in self.srv.delivered():
                if re.search(b"(?m)^Subject: " + subject.encode() +
                             b"\r?$", m):
                    return m.decode("utf-8", "replace")
            time.sleep(0.05)
        self.fail("no message with subject %r stored" % subject)

    def received_protocol(self, message):
        m = re.search(r"by %s \(ehlod\) with (\S+) id" % HOSTNAME,
                      re.sub(r"\r?\n[ \t]+", " ", message))
        self.assertIsNotNone(m, message[:600])
        return m.group(1)

    # ---- 587: require_tls, require_auth ----

    def test_submission_mail_before_starttls_is_530(self):
        rc, out = swaks(self.ports["submission"], "--to", "u@example.org")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("530 5.7.0 Must issue a STARTTLS command first", out)
        self.assertNotIn("RCPT TO", out)

    def test_submission_auth_before_starttls_is_530(self):
        with RawSession(self.ports["submission"]) as s:
            ehlo(s)
            r = s.cmd("AUTH PLAIN AHVzZXIAc2VjcmV0")
            self.assertEqual(r.code, 530, r)
            self.assertEqual(r.enhanced, "5.7.0")
            self.assertIn("STARTTLS", r.text)

    def test_submission_tls_without_auth_is_530(self):
        rc, out = swaks(self.ports["submission"], "--tls", "--to",
                        "u@example.org")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("530 5.7.0 Authentication required", out)
        self.assertIn("reject: MAIL from unknown[127.0.0.1]: 530 5.7.0 "
                      "Authentication required", self.srv.log())

    def test_submission_tls_and_auth_relays(self):
        rc, out = swaks(self.ports["submission"], "--tls", *auth_args(),
                        "--to", REMOTE, "--header", "Subject: sub587")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"(?m)^<~  235 ")
        self.assertRegex(out, r"250 2\.0\.0 Ok: queued as")
        self.assertEqual(self.received_protocol(
            self.delivered_with("sub587")), "ESMTPSA")

    # ---- 465: implicit TLS ----

    def test_implicit_tls_swaks_delivers_esmtps(self):
        rc, out = swaks(self.ports["submissions"], "--tlsc", "--to",
                        "u@example.org", "--header", "Subject: tlsc465")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("STARTTLS", out)
        self.assertEqual(self.received_protocol(
            self.delivered_with("tlsc465")), "ESMTPS")

    def test_implicit_tls_swaks_auth_delivers_esmtpsa(self):
        rc, out = swaks(self.ports["submissions"], "--tlsc", *auth_args(),
                        "--to", REMOTE, "--header", "Subject: tlscauth465")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.received_protocol(
            self.delivered_with("tlscauth465")), "ESMTPSA")

    def test_implicit_tls_smtplib_ssl(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.ports["submissions"],
                              local_hostname="client.test", timeout=10,
                              context=client_context()) as c:
            code, _ = c.ehlo()
            self.assertEqual(code, 250)
            self.assertTrue(c.has_extn("auth"))
            self.assertFalse(c.has_extn("starttls"))
            c.login(USER, PASSWORD)
            msg = sample_message("smtpssl465")
            refused = c.sendmail("s@x.test", [REMOTE], msg)
            self.assertEqual(refused, {})
        self.assertEqual(self.received_protocol(
            self.delivered_with("smtpssl465")), "ESMTPSA")

    def test_implicit_tls_plaintext_client_gets_no_greeting(self):
        with socket.create_connection(
                ("127.0.0.1", self.ports["submissions"]), timeout=10) as s:
            s.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                s.recv(100)     # the server waits for a ClientHello
            s.settimeout(10)
            s.sendall(b"EHLO client.test\r\n")
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
            self.assertNotIn(b"220", data)
        deadline = time.monotonic() + 10
        while "TLS handshake failed" not in self.srv.log():
            self.assertLess(time.monotonic(), deadline, self.srv.log())
            time.sleep(0.05)

    # ---- per-listener plugin subset ----

    def test_mx_subset_leaves_out_auth_and_size(self):
        with RawSession(self.ports["mx"]) as s:
            kw = keywords(ehlo(s))
            self.assertIn("STARTTLS", kw)
            self.assertIn("PIPELINING", kw)
            self.assertNotIn("SIZE", kw)
            self.assertNotIn("AUTH", kw)
            r = s.cmd("AUTH PLAIN AHVzZXIAc2VjcmV0")
            self.assertEqual(r.code, 500, r)
            r = s.cmd("MAIL FROM:<s@x.test> SIZE=100")
            self.assertEqual(r.code, 555, r)
        # The same plugins are live on the other listeners.
        with RawSession(self.srv.port) as s:
            kw = keywords(ehlo(s))
            self.assertIn("SIZE", kw)
            r = s.cmd("MAIL FROM:<s@x.test> SIZE=100")
            self.assertEqual(r.code, 250, r)

    def test_mx_after_starttls_still_no_auth(self):
        with smtplib.SMTP("127.0.0.1", self.ports["mx"], timeout=10,
                          local_hostname="client.test") as c:
            c.starttls(context=client_context())
            c.ehlo()
            self.assertFalse(c.has_extn("auth"))
        with smtplib.SMTP("127.0.0.1", self.ports["submission"], timeout=10,
                          local_hostname="client.test") as c:
            c.starttls(context=client_context())
            c.ehlo()
            self.assertTrue(c.has_extn("auth"))

    def test_tls_none_offers_no_starttls(self):
        with RawSession(self.ports["internal"]) as s:
            kw = keywords(ehlo(s))
            self.assertNotIn("STARTTLS", kw)
            self.assertIn("SIZE", kw)
            r = s.cmd("STARTTLS")
            self.assertEqual(r.code, 500, r)

    # ---- relay_networks ----

    def test_relay_networks_allow_relay_without_auth(self):
        rc, out = swaks(self.ports["internal"], "--to", REMOTE, "--header",
                        "Subject: internalrelay")
        self.assertEqual(rc, 0, out)
        self.delivered_with("internalrelay")
        self.assertIn("may relay: relay_networks of listener internal",
                      self.srv.log())

    def test_listener_without_relay_networks_refuses(self):
        for port in (self.ports["mx"], self.ports["submissions"]):
            if port == self.ports["submissions"]:
                rc, out = swaks(port, "--tlsc", "--to", REMOTE)
            else:
                rc, out = swaks(port, "--to", REMOTE)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("554 5.7.1 <%s>: Relay access denied" % REMOTE,
                          out)


class ListenerReload(EhlodTestCase):
    """SIGHUP applies a listener's new policy to new sessions; a listener
    the new file drops stops listening."""

    def test_reload_changes_policy(self):
        port, gone = free_port(), free_port()
        before = (listener("sub", port, require_auth=False)
                  + listener("old", gone))
        with Ehlod(plugins=plugins(), extra_config=before) as srv:
            with RawSession(port) as s:
                ehlo(s)
                self.assertEqual(s.cmd("MAIL FROM:<s@x.test>").code, 250)
            srv.extra_config = listener("sub", port, require_auth=True)
            srv.write_config()
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while True:
                # An old worker may take a connection until it has seen
                # the SIGHUP; the new policy must win within the deadline.
                with RawSession(port) as s:
                    ehlo(s)
                    r = s.cmd("MAIL FROM:<s@x.test>")
                if r.code == 530:
                    break
                self.assertLess(time.monotonic(), deadline, srv.log())
                time.sleep(0.1)
            self.assertIn("Authentication required", r.text)
            self.assertIn("reload: no longer listening on 127.0.0.1 port "
                          "%d (listener old)" % gone, srv.log())
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", gone), 2).close()
                except ConnectionRefusedError:
                    break
                self.assertLess(time.monotonic(), deadline,
                                "listener old's port still accepts")
                time.sleep(0.05)


class RelayBehindProxy(EhlodTestCase):
    """relay_networks judge the client XFORWARD names, not the proxy."""

    def test_xforward_client_outside_relay_networks(self):
        with Ehlod(plugins=plugins(), relay_networks=["127.0.0.1"],
                   xforward_trusted=["127.0.0.1"]) as srv:
            with srv.raw() as s:
                self.assertIn("XFORWARD", keywords(ehlo(s)))
                self.assertEqual(s.cmd("MAIL FROM:<s@x.test>").code, 250)
                self.assertEqual(s.cmd("RCPT TO:<%s>" % REMOTE).code, 250)
            with srv.raw() as s:
                ehlo(s)
                r = s.cmd("XFORWARD ADDR=192.0.2.9 NAME=[UNAVAILABLE]")
                self.assertEqual(r.code, 250, r)
                self.assertEqual(s.cmd("MAIL FROM:<s@x.test>").code, 250)
                r = s.cmd("RCPT TO:<%s>" % REMOTE)
                self.assertEqual(r.code, 554, r)
                self.assertIn("Relay access denied", r.text)


def wait_sessions_ended(server, timeout=10):
    """Until the harness's start-up probe (a session of 127.0.0.1 too,
    counted until the worker sees it close) has come and gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        opened = log.count(": connect from ")
        if opened >= 1 and opened == log.count(": disconnect from "):
            return
        time.sleep(0.05)
    raise AssertionError("sessions still open:\n" + server.log())


class AddressTaken(EhlodTestCase):
    """ehlod cannot bind a listener's address: it does not start, and the
    error names the file and line of that listener's listen, and the
    listener."""

    def test_start_names_file_line_and_listener(self):
        tmp = make_tempdir()
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "ehlod.conf")
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", free_port()))
            squatter.listen()
            taken = squatter.getsockname()[1]
            with open(conf, "w") as f:
                f.write('plugin_dir = "%s"\n'
                        'listen = {"127.0.0.1:%d"}\n'
                        'plugin size {}\n'
                        'listener submission {\n'
                        '    tls = "none"\n'
                        '    listen = {"127.0.0.1:%d"}\n'
                        '}\n' % (plugin_dir(), free_port(), taken))
            code, out = run_ehlod(["-c", conf])
        self.assertEqual(code, 1, out)
        self.assertIn("%s:6: listener 'submission': cannot listen on "
                      "127.0.0.1:%d: Address already in use" % (conf, taken),
                      out)


class ImplicitLimit(EhlodTestCase):
    """Over a limit, an implicit-TLS connection gets its 421 over
    TLS, once the handshake is done (Python's ssl as the client), not a
    plain-text one its client could not read, nor a bare close.  Those
    handshakes are bounded: past 16 of them in a worker, a connection
    over the limit is closed at once."""

    def test_over_limit_421_over_tls(self):
        port = free_port()
        with Ehlod(plugins=plugins(), max_sessions_per_client=1,
                   extra_config=listener("smtps", port, tls="implicit")) \
                as srv:
            wait_sessions_ended(srv)
            first = client_context().wrap_socket(socket.create_connection(
                ("127.0.0.1", port), timeout=10))
            try:
                self.assertTrue(first.recv(100).startswith(b"220 "))
                with client_context().wrap_socket(
                        socket.create_connection(("127.0.0.1", port),
                                                 timeout=10)) as s:
                    data = b""
                    while not data.endswith(b"\r\n"):
                        more = s.recv(200)
                        if not more:
                            break
                        data += more
                    self.assertRegex(data, rb"^421 \S+ Error: too "
                                     rb"many connections from your address"
                                     rb"\r\n$")
                    # Then the server closes; a TLS client sees the end.
                    try:
                        self.assertEqual(s.recv(100), b"")
                    except (ConnectionResetError, ssl.SSLError):
                        pass
                self.assertIn("limit: max_sessions_per_client reached",
                              srv.log())
            finally:
                first.close()

    def test_handshakes_over_limit_bounded(self):
        port = free_port()
        with Ehlod(plugins=plugins(), max_sessions_per_client=1, workers=1,
                   extra_config=listener("smtps", port, tls="implicit")) \
                as srv:
            wait_sessions_ended(srv)
            first = client_context().wrap_socket(socket.create_connection(
                ("127.0.0.1", port), timeout=10))
            self.addCleanup(first.close)
            self.assertTrue(first.recv(100).startswith(b"220 "))
            # Connections that never start their handshake.
            held = []
            for _ in range(16):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                self.addCleanup(s.close)
                held.append(s)
            deadline = time.monotonic() + 10
            while srv.log().count("answering 421 after the TLS "
                                  "handshake") < 16:
                self.assertLess(time.monotonic(), deadline, srv.log())
                time.sleep(0.05)
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=10) as s:
                try:
                    data = s.recv(100)
                except ConnectionResetError:
                    data = b""
                self.assertEqual(data, b"")
            self.assertIn("closed: too many such handshakes already",
                          srv.log())
            for s in held:
                s.close()
            first.close()
            wait_sessions_ended(srv)


class ListenerConfig(EhlodTestCase):
    """Bad listener sections: ehlod -t exits 1 naming FILE:LINE."""

    def check(self, text, pattern):
        path = os.path.join(FILES["dir"], "bad.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertRegex(out, re.escape(path) + r":\d+: " + pattern)
        return out

    def base(self):
        return ('plugin_dir = "%s"\nuser = "nobody"\n'
                'plugin starttls {\n cert = "%s"\n key = "%s"\n}\n'
                'plugin maildir {\n directory = "%s"\n}\n' % (
                    os.environ["EHLOD_PLUGIN_DIR"], FILES["cert"],
                    FILES["key"], os.path.join(FILES["dir"], "Maildir")))

    def test_unknown_plugin_name(self):
        out = self.check(self.base() + 'listener "mx" {\n listen = '
                         '{"127.0.0.1:2599"}\n plugins = {"maildir", '
                         '"nope"}\n\n}\n', r"listener 'mx': plugins: no "
                         r"plugin section 'nope'")
        self.assertIn(":12: ", out)     # the plugins line, not the end

    def test_bad_tls_value(self):
        out = self.check(self.base() + 'listener "mx" {\n listen = '
                         '{"127.0.0.1:2599"}\n tls = "smtps"\n}\n',
                         r"option 'tls' must be")
        self.assertIn(":12: ", out)

    def test_address_twice(self):
        self.check(self.base() + 'listen = {"127.0.0.1:2599"}\n'
                   'listener "mx" {\n listen = {"127.0.0.1:2599"}\n}\n',
                   r"listener 'mx': listen 127.0.0.1:2599 is already "
                   r"listener 'default''s")

    def test_implicit_needs_tls_plugin(self):
        out = self.check(self.base() + 'listener "s" {\n listen = '
                         '{"127.0.0.1:2599"}\n tls = "implicit"\n plugins = '
                         '{"maildir"}\n}\n', r"listener 's': tls = "
                         r"\"implicit\" needs an active plugin that "
                         r"provides TLS")
        self.assertIn(":12: ", out)     # the tls line

    def test_require_tls_with_tls_none(self):
        self.check(self.base() + 'listener "s" {\n listen = '
                   '{"127.0.0.1:2599"}\n tls = "none"\n require_tls = '
                   'true\n}\n', r"listener 's': require_tls = true needs")

    def test_listen_required_and_default_reserved(self):
        self.check(self.base() + 'listener "s" {\n tls = "none"\n}\n',
                   r"listener 's': option 'listen' is required")
        self.check(self.base() + 'listener "default" {\n listen = '
                   '{"127.0.0.1:2599"}\n}\n', r"listener 'default': the "
                   r"name 'default'")

    def test_bad_relay_network(self):
        self.check(self.base() + 'relay_networks = {"10.0.0.0/33"}\n',
                   r"relay_networks: '10.0.0.0/33' is not")

    def test_valid_listeners_listed_by_t(self):
        path = os.path.join(FILES["dir"], "good.conf")
        with open(path, "w") as f:
            f.write(self.base() + 'listener "s" {\n listen = '
                    '{"127.0.0.1:2599"}\n tls = "implicit"\n require_auth '
                    '= true\n relay_networks = {"10.0.0.0/8"}\n}\n')
        os.chmod(path, 0o644)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 0, out)
        self.assertIn("listener s: 127.0.0.1:2599; tls implicit, "
                      "require_auth; relay_networks 1; plugins all", out)
        self.assertNotIn("listener default", out)


if __name__ == "__main__":
    main()
