"""The auth plugin (RFC 4954, Cyrus SASL) against swaks, smtplib and a raw
socket, with a sasldb made by saslpasswd2 for each test.

swaks --auth PLAIN and --auth LOGIN with the good password get 235, relay
to a domain that is not local and the Received header says ESMTPA (or
ESMTPSA over TLS); the bad password gets 535; past max_failures the
session gets 421 and is closed; AUTH is not offered in plaintext unless
allow_plaintext, but is after STARTTLS; AUTH before EHLO, inside a
transaction and a second AUTH get 503; an unknown mechanism 504; "*"
cancels with 501; bad base64 is 501; an overlong response ends the
exchange with one 500; a client silent in the exchange times out with
421; MAIL FROM AUTH= takes xtext only.

User names and realms: "saslpasswd2 -u mx.test user" stores the entry
user@mx.test.  The server passes its hostname (mx.test) to SASL as the
default realm, so the client may log in as plain "user" (SASL looks it up
in realm mx.test) or as "user@mx.test"; both are tested.

Needs saslpasswd2 (package sasl2-bin), the sasldb auxprop plugin and the
PLAIN and LOGIN mechanisms (libsasl2-modules-db, libsasl2-modules),
swaks, and openssl for the TLS cases; exit 77 when saslpasswd2 or the
SASL plugins are missing, and the swaks or TLS cases skip alone.
"""

import base64
import glob
import os
import re
import shutil
import ssl
import subprocess
import sys
import unittest

from ehlodtest import (DEFAULT_PLUGINS, Ehlod, EhlodTestCase, HOSTNAME, ehlo,
                       main, sample_message, transaction, make_tempdir)

SASLPASSWD2 = shutil.which("saslpasswd2") or (
    "/usr/sbin/saslpasswd2" if os.path.exists("/usr/sbin/saslpasswd2")
    else None)
SWAKS = shutil.which("swaks")
OPENSSL = shutil.which("openssl")
SASL_PLUGIN_DIRS = glob.glob("/usr/lib/*/sasl2") + ["/usr/lib/sasl2"]

USER = "user"
PASSWORD = "secret"
FILES = {}


def sasl_plugin(name):
    return any(glob.glob(os.path.join(d, "lib%s.so*" % name))
               for d in SASL_PLUGIN_DIRS)


def setUpModule():
    FILES["dir"] = make_tempdir("ehlod-auth-")
    db = os.path.join(FILES["dir"], "sasldb")
    subprocess.run([SASLPASSWD2, "-p", "-c", "-f", db, "-u", HOSTNAME, USER],
                   input=PASSWORD.encode(), check=True, timeout=20,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The worker reads it after dropping root (to "nobody" by default).
    os.chmod(db, 0o644)
    FILES["db"] = db
    if OPENSSL:
        FILES["key"] = os.path.join(FILES["dir"], "key.pem")
        FILES["cert"] = os.path.join(FILES["dir"], "cert.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=" + HOSTNAME, "-days", "2",
                        "-keyout", FILES["key"], "-out", FILES["cert"]],
                       check=True, timeout=60, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tearDownModule():
    shutil.rmtree(FILES.get("dir", "/nonexistent"), ignore_errors=True)


def auth_plugins(tls=False, **options):
    """The default plugins, [starttls,] auth, then maildir."""
    opts = {
        "pwcheck_method": "auxprop",
        "auxprop_plugin": "sasldb",
        "sasldb_path": FILES["db"],
        "mech_list": "PLAIN LOGIN",
        "allow_plaintext": True,
    }
    opts.update(options)
    plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
    if tls:
        plugins.append(("starttls", {"cert": FILES["cert"],
                                     "key": FILES["key"]}))
    return plugins + [("auth", opts), ("maildir", {})]


def plain(user=USER, password=PASSWORD):
    """The base64 PLAIN response: authzid NUL authcid NUL password."""
    raw = ("\0%s\0%s" % (user, password)).encode()
    return base64.b64encode(raw).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def keywords(reply):
    return {line.split(" ")[0].upper(): line for line in reply.lines[1:]}


def swaks(port, *args):
    cmd = [SWAKS, "--server", "127.0.0.1:%d" % port, "--from", "s@x.test",
           "--helo", "swaks.test", "--timeout", "15"] + list(args)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=25)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def swaks_auth(port, mech, password=PASSWORD, user=USER, *more):
    return swaks(port, "--to", "u@other.test", "--auth", mech,
                 "--auth-user", user, "--auth-password", password, *more)


def reply_codes(out):
    """The reply codes swaks printed as the server's (lines such as
    "<~* 535 5.7.8 ..."), so a port or id in the transcript that happens
    to contain the digits is not taken for a reply."""
    return re.findall(r"^<[~*]*\s+(\d{3})[ -]", out, re.M)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(FILES["cert"])
    return ctx


class AuthTest(EhlodTestCase):

    def assertRelayedWith(self, server, proto):
        files = server.delivered()
        self.assertEqual(len(files), 1, server.log())
        text = files[0].decode("utf-8", "replace")
        self.assertRegex(text, r"by mx\.test \(ehlod\) with %s id \S+\s+"
                         r"for <u@other\.test>;" % proto)
        self.assertIn("Delivered-To: u@other.test", text)

    # ---- swaks: the good and the bad password ----

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_plain_good_password_235_relays_esmtpa(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "PLAIN")
            self.assertEqual(code, 0, out)
            self.assertIn("235 2.7.0 Authentication successful", out)
            self.assertRelayedWith(server, "ESMTPA")
            self.assertIn("sasl_method=PLAIN, sasl_username=user",
                          server.log())

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_login_good_password_235_relays_esmtpa(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "LOGIN")
            self.assertEqual(code, 0, out)
            self.assertRegex(out, r"<- +334 ")
            self.assertIn("235 2.7.0 Authentication successful", out)
            self.assertRelayedWith(server, "ESMTPA")
            self.assertIn("sasl_method=LOGIN", server.log())

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_user_with_realm_235(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "PLAIN", PASSWORD,
                                   USER + "@" + HOSTNAME)
            self.assertEqual(code, 0, out)
            self.assertIn("sasl_username=user@mx.test", server.log())

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_plain_bad_password_535(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "PLAIN", "wrong")
            self.assertNotEqual(code, 0, out)
            self.assertIn("535 5.7.8 Authentication credentials invalid",
                          out)
            self.assertEqual(server.delivered(), [])

    @unittest.skipIf(SWAKS is None, "swaks not installed (package swaks)")
    def test_swaks_login_bad_password_535(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "LOGIN", "wrong")
            self.assertNotEqual(code, 0, out)
            self.assertIn("535 5.7.8", out)
            self.assertEqual(server.delivered(), [])

    @unittest.skipIf(SWAKS is None or OPENSSL is None,
                     "swaks or openssl not installed")
    def test_swaks_tls_auth_235_relays_esmtpsa(self):
        plugins = auth_plugins(tls=True, allow_plaintext=False)
        with Ehlod(plugins=plugins) as server:
            code, out = swaks_auth(server.port, "PLAIN", PASSWORD, USER,
                                   "--tls")
            self.assertEqual(code, 0, out)
            self.assertIn("235 2.7.0", out)
            self.assertRelayedWith(server, "ESMTPSA")

    def test_smtplib_login_relays(self):
        with Ehlod(plugins=auth_plugins()) as server:
            client = server.smtp()
            try:
                client.ehlo()
                code, _ = client.login(USER, PASSWORD)
                self.assertEqual(code, 235)
                refused = client.sendmail("s@x.test", ["u@other.test"],
                                          sample_message("auth"))
                self.assertEqual(refused, {})
            finally:
                client.quit()
            self.assertRelayedWith(server, "ESMTPA")

    # ---- what is offered where ----

    def test_ehlo_lists_sasl_mechanisms(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            line = keywords(ehlo(raw)).get("AUTH")
            self.assertIsNotNone(line)
            self.assertEqual(set(line.split()[1:]), {"PLAIN", "LOGIN"})

    def test_relay_refused_without_auth_554(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(raw.cmd("RCPT TO:<u@other.test>"), 554)

    @unittest.skipIf(OPENSSL is None, "openssl not installed")
    def test_not_offered_in_plaintext_offered_after_starttls(self):
        plugins = auth_plugins(tls=True, allow_plaintext=False)
        with Ehlod(plugins=plugins) as server, server.raw() as raw:
            self.assertNotIn("AUTH", keywords(ehlo(raw)))
            r = raw.cmd("AUTH PLAIN " + plain())
            self.assertCode(r, 530)
            self.assertCode(raw.cmd("STARTTLS"), 220)
            raw.sock = tls_context().wrap_socket(raw.sock,
                                                 server_hostname=HOSTNAME)
            self.assertIn("AUTH", keywords(ehlo(raw)))
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 235)

    # ---- the exchange and its errors ----

    def test_plain_without_initial_response_334_then_235(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            r = raw.cmd("AUTH PLAIN")
            self.assertCode(r, 334)
            self.assertEqual(r.lines, [""])
            self.assertCode(raw.cmd(plain()), 235)
            # Commands are read again after the exchange.
            self.assertCode(raw.cmd("NOOP"), 250)

    def test_login_exchange_prompts(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            r = raw.cmd("AUTH LOGIN")
            self.assertCode(r, 334)
            self.assertEqual(base64.b64decode(r.lines[0]), b"Username:")
            r = raw.cmd(b64(USER))
            self.assertCode(r, 334)
            self.assertEqual(base64.b64decode(r.lines[0]), b"Password:")
            self.assertCode(raw.cmd(b64(PASSWORD)), 235)
            self.assertEqual(transaction(raw, rcpts=("u@other.test",)).code,
                             250)

    def test_max_failures_then_421_and_close(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            bad = "AUTH PLAIN " + plain(password="wrong")
            for _ in range(3):        # max_failures defaults to 3
                r = raw.cmd(bad)
                self.assertCode(r, 535)
                self.assertEnhanced(r, "5.7.8")
            r = raw.cmd(bad)
            self.assertCode(r, 421)
            self.assertEnhanced(r, "4.7.0")
            self.assertTrue(raw.wait_closed(5))

    def test_max_failures_option_1(self):
        plugins = auth_plugins(max_failures=1)
        with Ehlod(plugins=plugins) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain(password="x")),
                            535)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain(password="x")),
                            421)
            self.assertTrue(raw.wait_closed(5))

    def test_auth_before_ehlo_503(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 503)

    def test_auth_in_transaction_503(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 503)

    def test_second_auth_503(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 235)
            r = raw.cmd("AUTH PLAIN " + plain())
            self.assertCode(r, 503)
            self.assertEnhanced(r, "5.5.1")

    def test_unknown_mechanism_504(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            r = raw.cmd("AUTH X-NO-SUCH-MECH")
            self.assertCode(r, 504)
            self.assertEnhanced(r, "5.5.4")
            # Installed in SASL but not in mech_list: unknown here too.
            self.assertCode(raw.cmd("AUTH CRAM-MD5"), 504)

    def test_cancel_with_star_501_then_login_works(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH LOGIN"), 334)
            r = raw.cmd("*")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.0.0")
            self.assertCode(raw.cmd("NOOP"), 250)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 235)

    def test_bad_base64_501(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            r = raw.cmd("AUTH PLAIN !!!!")
            self.assertCode(r, 501)
            self.assertEnhanced(r, "5.5.2")
            self.assertCode(raw.cmd("AUTH LOGIN"), 334)
            self.assertCode(raw.cmd("not base64"), 501)

    def test_bad_auth_syntax_501(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH"), 501)
            self.assertCode(raw.cmd("AUTH PLAIN a b"), 501)
            self.assertCode(raw.cmd("AUTH PL/AIN"), 501)

    def test_overlong_response_one_500_then_commands(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH LOGIN"), 334)
            self.assertCode(raw.cmd("A" * 4000), 500)
            self.assertCode(raw.cmd("NOOP"), 250)
            self.assertTrue(raw.quiet(0.3), raw.buf)

    def test_silent_client_in_exchange_times_out_421(self):
        plugins = auth_plugins()
        with Ehlod(plugins=plugins, command_timeout=2) as server, \
                server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH LOGIN"), 334)
            r = raw.reply(timeout=10)
            self.assertCode(r, 421)
            self.assertTrue(raw.wait_closed(5))

    # ---- MAIL FROM AUTH= ----

    def test_mail_auth_param_xtext(self):
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 235)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test> AUTH=a+2Bb@x.test"),
                            250)
            self.assertCode(raw.cmd("RSET"), 250)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test> AUTH=<>"), 250)
            self.assertCode(raw.cmd("RSET"), 250)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test> AUTH=a+zzb"), 501)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test> AUTH"), 501)

    def test_mail_auth_param_after_new_ehlo(self):
        # The keyword stays offered after AUTH, so AUTH= stays valid.
        with Ehlod(plugins=auth_plugins()) as server, server.raw() as raw:
            ehlo(raw)
            self.assertCode(raw.cmd("AUTH PLAIN " + plain()), 235)
            ehlo(raw)
            self.assertCode(raw.cmd("MAIL FROM:<s@x.test> AUTH=s@x.test"),
                            250)
            self.assertCode(raw.cmd("RCPT TO:<u@other.test>"), 250)


def private_sasldb():
    """A copy of the test sasldb that only root can read (mode 0600)."""
    db = os.path.join(FILES["dir"], "sasldb-private")
    shutil.copyfile(FILES["db"], db)
    os.chmod(db, 0o600)
    return db


@unittest.skipUnless(os.geteuid() == 0, "needs root: the workers switch to "
                     "nobody, who must be unable to read the sasldb")
class BackendFailureTest(EhlodTestCase):
    """A sasldb the worker user cannot read is the server's fault: 454
    4.7.0 and an error line, never 535 (which fail2ban counts), and
    "ehlod -t" names the file and the user."""

    def test_unreadable_sasldb_454_and_error_logged(self):
        db = private_sasldb()
        # Readable when the server starts; unreadable at the login, as
        # when an admin re-creates it with saslpasswd2's 0600 mode.
        os.chmod(db, 0o644)
        with Ehlod(plugins=auth_plugins(sasldb_path=db)) as server:
            # A good login first: the worker's init (which refuses an
            # unreadable sasldb) has then surely run, and only then does
            # the file become unreadable.
            code, out = swaks_auth(server.port, "PLAIN")
            self.assertEqual(code, 0, out)
            os.chmod(db, 0o600)
            for mech in ("PLAIN", "LOGIN"):
                code, out = swaks_auth(server.port, mech)
                self.assertNotEqual(code, 0, out)
                self.assertIn("454 4.7.0 Temporary authentication failure",
                              out)
                self.assertIn("454", reply_codes(out), out)
                self.assertNotIn("535", reply_codes(out), out)
            log = server.log()
            self.assertRegex(log, r"error: \S+: plugin=auth: unknown\["
                             r"127\.0\.0\.1\]: SASL PLAIN authentication "
                             r"backend failure")
            self.assertNotIn("authentication failed", log)
            self.assertNotIn("max_auth_failure_rate", log)
            # The client may try again once the file is fixed.
            os.chmod(db, 0o644)
            code, out = swaks_auth(server.port, "PLAIN")
            self.assertEqual(code, 0, out)

    def test_wrong_password_still_535_not_454(self):
        with Ehlod(plugins=auth_plugins()) as server:
            code, out = swaks_auth(server.port, "PLAIN", "wrong")
            self.assertIn("535 5.7.8", out)
            self.assertIn("535", reply_codes(out), out)
            self.assertNotIn("454", reply_codes(out), out)
            code, out = swaks_auth(server.port, "PLAIN", PASSWORD, "nouser")
            self.assertIn("535 5.7.8", out)

    def check_config(self, db):
        server = Ehlod(start=False, user="nobody",
                       plugins=auth_plugins(sasldb_path=db))
        try:
            return server.check()
        finally:
            server.cleanup()

    def test_check_refuses_sasldb_the_user_cannot_read(self):
        code, out = self.check_config(private_sasldb())
        self.assertNotEqual(code, 0, out)
        self.assertRegex(out, r"sasldb_path \S+/sasldb-private: not readable "
                         r"by user nobody: Permission denied")

    def test_check_refuses_missing_sasldb(self):
        code, out = self.check_config(os.path.join(FILES["dir"], "none"))
        self.assertNotEqual(code, 0, out)
        self.assertIn("none: not readable by user nobody: No such file", out)

    def test_check_accepts_sasldb_the_user_can_read(self):
        code, out = self.check_config(FILES["db"])
        self.assertEqual(code, 0, out)


def sasl_ready():
    if SASLPASSWD2 is None:
        return "saslpasswd2 not installed (package sasl2-bin)"
    for name, package in (("sasldb", "libsasl2-modules-db"),
                          ("plain", "libsasl2-modules"),
                          ("login", "libsasl2-modules")):
        if not sasl_plugin(name):
            return "SASL plugin %s not installed (package %s)" % (name,
                                                                  package)
    return None


if __name__ == "__main__":
    why = sasl_ready()
    if why:
        print(why + ": skipped")
        sys.exit(77)
    main()
