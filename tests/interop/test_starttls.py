"""The starttls plugin (RFC 3207) against real TLS peers.

swaks --tls delivers and the Received header says ESMTPS with the TLS
version; smtplib's starttls() and "openssl s_client -starttls smtp"
complete the handshake and see the configured certificate; STARTTLS is
not offered under TLS and a second one is refused; STARTTLS with an
argument is 501; commands pipelined behind STARTTLS in plaintext are
never executed (CVE-2011-0411); the session starts over after the
handshake; the protocols option bounds the TLS version; and a missing
certificate, a key that does not match or a bad protocols value make
"ehlod -t" exit 1 naming the cause.

Needs openssl (certificates, s_client) and swaks (Debian packages openssl,
swaks); skipped (77) when openssl is missing, the swaks test is skipped
alone when swaks is.
"""

import pwd
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from ehlodtest import (DEFAULT_PLUGINS, Ehlod, EhlodTestCase, HOSTNAME, ehlo,
                       ehlod_bin, free_port, main, sample_message,
                       lf)

OPENSSL = shutil.which("openssl")
SWAKS = shutil.which("swaks")
CERTS = {}


def make_cert(directory, name):
    """A self-signed certificate for mx.test and its key, as PEM files."""
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=" + HOSTNAME, "-days", "2", "-keyout", key,
                    "-out", cert], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    return cert, key


def setUpModule():
    CERTS["dir"] = tempfile.mkdtemp(prefix="ehlod-tls-")
    CERTS["cert"], CERTS["key"] = make_cert(CERTS["dir"], "server")
    # A second pair, for the key that does not match the certificate.
    CERTS["other_cert"], CERTS["other_key"] = make_cert(CERTS["dir"], "other")


def tearDownModule():
    shutil.rmtree(CERTS.get("dir", "/nonexistent"), ignore_errors=True)


def tls_plugins(**options):
    """The default plugins with starttls before the delivery plugin."""
    opts = {"cert": CERTS["cert"], "key": CERTS["key"]}
    opts.update(options)
    plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
    return plugins + [("starttls", opts), ("maildir", {})]


def client_context(version=None):
    """A client context that trusts only the test certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(CERTS["cert"])
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def keywords(reply):
    """EHLO keywords (upper case) of a RawSession Reply."""
    return [line.split(" ")[0].upper() for line in reply.lines[1:]]


def start_tls(raw, ctx=None):
    """STARTTLS on a RawSession after EHLO; the socket is TLS after it."""
    r = raw.cmd("STARTTLS")
    if r.code != 220:
        raise AssertionError("STARTTLS answered %r" % r)
    if raw.buf:
        raise AssertionError("octets after the 220: %r" % raw.buf)
    raw.sock = (ctx or client_context()).wrap_socket(
        raw.sock, server_hostname=HOSTNAME)
    return r


def swaks(port, *args):
    cmd = [SWAKS, "--server", "127.0.0.1:%d" % port, "--from", "s@x.test",
           "--helo", "swaks.test", "--timeout", "15"] + list(args)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=25)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


RECEIVED_TLS = (r"Received: from %s \(unknown \[127\.0\.0\.1\]\)\n"
                r"\t\(using (TLSv1\.[23]) with cipher [A-Z0-9_-]+\)\n"
                r"\tby mx\.test \(ehlod\) with ESMTPS id ")


class StartTlsTest(EhlodTestCase):

    def test_ehlo_offers_starttls_in_plaintext(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            self.assertIn("STARTTLS", keywords(ehlo(raw)))

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_tls_delivers_received_esmtps_with_version(self):
        with Ehlod(plugins=tls_plugins()) as server:
            code, out = swaks(server.port, "--to", "u@example.org", "--tls")
            self.assertEqual(code, 0, out)
            self.assertIn("220 2.0.0 Ready to start TLS", out)
            self.assertRegex(out, r"<~ +250 ")
            files = server.delivered()
            self.assertEqual(len(files), 1, server.log())
            text = files[0].decode("utf-8", "replace")
            m = re.search(RECEIVED_TLS % r"swaks\.test", text)
            self.assertIsNotNone(m, text[:600])
            self.assertIn("TLS established", server.log())

    def test_failed_handshake_logged_with_reason(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("STARTTLS"), 220)
            raw.send(b"EHLO not-a-client-hello.test\r\n")
            self.assertTrue(raw.wait_closed(10))
            time.sleep(0.2)
            log = server.log()
        self.assertRegex(log, r"warning: \S+: TLS handshake failed with "
                         r"unknown\[127\.0\.0\.1\]:\d+: error:\S+")

    def test_smtplib_starttls_then_delivers(self):
        message = sample_message("over tls")
        with Ehlod(plugins=tls_plugins()) as server:
            client = server.smtp()
            try:
                client.ehlo()
                self.assertTrue(client.has_extn("starttls"))
                ctx = client_context()
                ctx.check_hostname = False   # smtplib names 127.0.0.1
                code, _ = client.starttls(context=ctx)
                self.assertEqual(code, 220)
                client.ehlo()
                self.assertFalse(client.has_extn("starttls"))
                refused = client.sendmail("s@x.test", ["u@example.org"],
                                          message)
                self.assertEqual(refused, {})
                version = client.sock.version()
            finally:
                client.quit()
            files = server.delivered()
            self.assertEqual(len(files), 1)
            m = re.search(RECEIVED_TLS % r"client\.test",
                          files[0].decode("utf-8", "replace"))
            self.assertIsNotNone(m, files[0][:600])
            self.assertEqual(m.group(1), version)
            self.assertTrue(files[0].endswith(lf(message)))

    def test_openssl_s_client_starttls_handshake(self):
        with Ehlod(plugins=tls_plugins()) as server:
            proc = subprocess.run(
                [OPENSSL, "s_client", "-starttls", "smtp", "-crlf",
                 "-connect", "127.0.0.1:%d" % server.port,
                 "-servername", HOSTNAME, "-CAfile", CERTS["cert"],
                 "-verify_return_error", "-ign_eof"],
                input=b"EHLO sclient.test\nQUIT\n",
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=20)
            out = proc.stdout.decode("utf-8", "replace")
            self.assertEqual(proc.returncode, 0, out)
            self.assertIn("Verify return code: 0 (ok)", out)
            self.assertRegex(out, r"Protocol *: *TLSv1\.[23]")
            self.assertIn("CN = mx.test", out)
            # The commands sent under TLS were answered.
            self.assertRegex(out, r"250-mx\.test Hello sclient\.test")
            self.assertIn("221 2.0.0", out)

    def test_not_offered_after_tls_and_second_starttls_refused(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            start_tls(raw)
            # Before the new EHLO the session is in its initial state.
            self.assertCode(raw.cmd("STARTTLS"), 503)
            r = ehlo(raw)
            self.assertNotIn("STARTTLS", keywords(r))
            again = raw.cmd("STARTTLS")
            self.assertIn(again.code, (502, 503), again)
            # The session goes on under TLS after the refusal.
            self.assertCode(raw.cmd("NOOP"), 250)

    def test_starttls_with_argument_501(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            r = raw.cmd("STARTTLS now")
            self.assertCode(r, 501)
            self.assertCode(raw.cmd("NOOP"), 250)

    def test_starttls_in_transaction_503_and_before_ehlo_503(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            self.assertCode(raw.cmd("STARTTLS"), 503)
            ehlo(raw)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(raw.cmd("STARTTLS"), 503)

    def test_session_starts_over_after_tls(self):
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            start_tls(raw)
            # RFC 3207 4.2: the EHLO before TLS is forgotten.
            r = raw.cmd("MAIL FROM:<s@x.test>")
            self.assertCode(r, 503)
            ehlo(raw)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test>"), 250)

    def injection(self, injected):
        """STARTTLS and injected commands in one write, then TLS."""
        with Ehlod(plugins=tls_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            raw.send(b"STARTTLS\r\n" + injected)
            r = raw.reply()
            self.assertCode(r, 220)
            # Nothing more in plaintext: the server waits for the
            # handshake and has answered none of the injected commands.
            self.assertTrue(raw.quiet(0.3), raw.buf)
            raw.sock = client_context().wrap_socket(
                raw.sock, server_hostname=HOSTNAME)
            # The first reply under TLS is the one to our EHLO ...
            first = raw.cmd("EHLO client.test")
            self.assertCode(first, 250)
            self.assertIn("Hello client.test", first.lines[0])
            # ... and there is no extra reply behind it.
            self.assertCode(raw.cmd("NOOP"), 250)
            self.assertTrue(raw.quiet(0.5), raw.buf)
            # No transaction was opened by an injected MAIL.
            self.assertCode(raw.cmd("RCPT TO:<u@example.org>"), 503)
            raw.cmd("QUIT")
            return server.log()

    def test_injected_rset_after_starttls_never_answered(self):
        self.injection(b"RSET\r\n")

    def test_injected_mail_after_starttls_never_executed(self):
        log = self.injection(b"MAIL FROM:<evil@x.test>\r\n"
                             b"RCPT TO:<u@example.org>\r\n")
        self.assertNotIn("evil@x.test", log)
        self.assertIn("TLS established", log)

    def test_protocols_option_bounds_the_version(self):
        plugins = tls_plugins(protocols="TLSv1.2")
        with Ehlod(plugins=plugins) as server:
            with server.raw() as raw:
                ehlo(raw)
                start_tls(raw)
                self.assertEqual(raw.sock.version(), "TLSv1.2")
            with server.raw() as raw:
                ehlo(raw)
                with self.assertRaises(ssl.SSLError):
                    start_tls(raw, client_context(ssl.TLSVersion.TLSv1_3))

    def check_config(self, **options):
        server = Ehlod(plugins=tls_plugins(**options), start=False)
        try:
            return server.check()
        finally:
            server.cleanup()

    def test_check_config_valid_exit_0(self):
        code, out = self.check_config()
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"keyword +STARTTLS")
        self.assertRegex(out, r"verbs +STARTTLS \(greeted\)")

    def test_bad_cert_path_check_exit_1_names_file(self):
        missing = os.path.join(CERTS["dir"], "no-such-cert.pem")
        code, out = self.check_config(cert=missing)
        self.assertEqual(code, 1, out)
        self.assertIn(missing, out)

    def test_bad_key_path_check_exit_1_names_file(self):
        missing = os.path.join(CERTS["dir"], "no-such-key.pem")
        code, out = self.check_config(key=missing)
        self.assertEqual(code, 1, out)
        self.assertIn(missing, out)

    def test_missing_cert_plain_language(self):
        missing = os.path.join(CERTS["dir"], "no-such-cert.pem")
        code, out = self.check_config(cert=missing)
        self.assertIn("cannot read certificate %s: No such file or "
                      "directory" % missing, out)
        self.assertNotIn("system lib", out)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to make a key "
                         "another user cannot read")
    def test_unreadable_key_says_permission_denied(self):
        # The folder (mkdtemp: 0700) lets nobody in; the key does not.
        os.chmod(CERTS["dir"], 0o755)
        key = os.path.join(CERTS["dir"], "root-only-key.pem")
        shutil.copyfile(CERTS["key"], key)
        os.chmod(key, 0o600)
        cert = os.path.join(CERTS["dir"], "public-cert.pem")
        shutil.copyfile(CERTS["cert"], cert)
        os.chmod(cert, 0o644)
        server = Ehlod(plugins=tls_plugins(cert=cert, key=key), start=False)
        server.port = free_port()
        server.write_config()
        nobody = pwd.getpwnam("nobody")

        def become_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        try:
            proc = subprocess.run([ehlod_bin(), "-t", "-c", server.conf_path],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=15,
                                  preexec_fn=become_nobody)
        finally:
            server.cleanup()
        out = proc.stdout.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("cannot read private key %s: Permission denied" % key,
                      out)

    def test_key_not_matching_cert_check_exit_1(self):
        code, out = self.check_config(key=CERTS["other_key"])
        self.assertEqual(code, 1, out)
        self.assertIn("does not match", out)
        self.assertIn(CERTS["other_key"], out)

    def test_missing_cert_option_check_exit_1(self):
        server = Ehlod(plugins=[("starttls", {"key": CERTS["key"]})],
                       start=False)
        code, out = server.check()
        server.cleanup()
        self.assertEqual(code, 1, out)
        self.assertIn("'cert'", out)

    def test_bad_protocols_check_exit_1(self):
        code, out = self.check_config(protocols="TLSv1.2 TLSv1.4")
        self.assertEqual(code, 1, out)
        self.assertIn("TLSv1.4", out)
        code, out = self.check_config(protocols="TLSv1 TLSv1.3")
        self.assertEqual(code, 1, out)
        self.assertIn("contiguous", out)

    def test_server_refuses_to_start_with_bad_cert(self):
        missing = os.path.join(CERTS["dir"], "gone.pem")
        with self.assertRaises(RuntimeError) as cm:
            Ehlod(plugins=tls_plugins(cert=missing))
        self.assertIn(missing, str(cm.exception))


if __name__ == "__main__":
    if OPENSSL is None:
        print("openssl not installed (Debian package openssl): skipped")
        sys.exit(77)
    main()
