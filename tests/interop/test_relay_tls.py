#!/usr/bin/env python3
"""
NAME
    test_relay_tls - the relay's STARTTLS to its next hop: the trust
    store is loaded once, at start, as root

DESCRIPTION
    The next hop is aiosmtpd (python3-aiosmtpd) offering STARTTLS with a
    throw-away certificate for 127.0.0.1; the relay has starttls =
    "must" and tls_verify on.

    - tls_ca_file names that certificate, readable by root alone (0600):
      the workers, which run as nobody, could not read it, but the relay
      loads it at start, as root, and the message is relayed over a
      verified session (aiosmtpd saw TLS).  Then the file is removed and
      a second message goes the same way: the trust store was loaded
      once, not at each session.  (A client that loaded it at each
      STARTTLS parsed it there, on the event loop: the system's bundle
      costs about 20 ms of CPU.)
    - The next sessions to the hop resume the TLS session it gave (as
      aiosmtpd's end of the connection reports it); a new hop on the
      same port, which knows none of the old tickets, gets a full
      handshake and the message all the same, then resumes in turn.
    - A CA file that cannot be loaded is a start-up error: "ehlod -t"
      fails, naming tls_ca_file and the file; with tls_verify off it is
      not loaded, and no error.
    - Without tls_ca_file the system's store does not know the
      certificate: the message is deferred (4xx), the log says why.
"""
import base64
import os
import shutil
import smtplib
import subprocess
import tempfile

from ehlodtest import (Ehlod, EhlodTestCase, check_config, main,
                       sample_message, wait_for)
from test_client_support import Aiosmtpd

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)
if shutil.which("openssl") is None:
    print("skipped: openssl is not installed")
    raise SystemExit(77)


def certificate_for_loopback(directory):
    """A self-signed certificate whose name is the address 127.0.0.1."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    return cert, key


def relay_plugins(port, **opts):
    relay = {"next_hop": "smtp://127.0.0.1:%d" % port, "timeout": 10,
             "domains": ["example.org"], "starttls": "must"}
    relay.update(opts)
    return [("pipelining", {}), ("enhancedstatuscodes", {}),
            ("relay", relay)]


def relay_server(port, **opts):
    return Ehlod(plugins=relay_plugins(port, **opts))


def send(port, marker):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
        c.ehlo("client.test")
        c.sendmail("s@x.test", ["u@example.org"],
                   sample_message(body=marker.encode() + b"\r\n"))


class RelayTls(EhlodTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ehlod-relay-tls-")
        cls.cert, cls.key = certificate_for_loopback(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def received_with_tls(self, hop, marker):
        def with_marker():
            return [m for m in hop.received()
                    if marker.encode() in base64.b64decode(m["content"])]
        self.assertTrue(wait_for(with_marker),
                        "the next hop has no message with " + marker)
        got = with_marker()
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"], "relayed without TLS")
        return got[0]

    def test_next_sessions_resume_tls(self):
        ca = os.path.join(self.dir, "ca-resume.pem")
        shutil.copy(self.cert, ca)
        plugins = relay_plugins(0, tls_ca_file=ca)
        with Aiosmtpd(cert=self.cert, key=self.key) as hop:
            port = hop.port
            plugins[-1][1]["next_hop"] = "smtp://127.0.0.1:%d" % port
            with Ehlod(plugins=plugins, workers=1) as srv:
                resumed = []
                for marker in ("resume-1", "resume-2", "resume-3"):
                    send(srv.port, marker)
                    resumed.append(self.received_with_tls(
                        hop, marker)["tls_resumed"])
                self.assertEqual(resumed, [False, True, True])
                hop.close()
                # A new hop on the same port knows none of the old
                # tickets: a full handshake, the message still goes.
                with Aiosmtpd(port=port, cert=self.cert,
                              key=self.key) as again:
                    send(srv.port, "resume-4")
                    got = self.received_with_tls(again, "resume-4")
                    self.assertFalse(got["tls_resumed"])
                    send(srv.port, "resume-5")
                    got = self.received_with_tls(again, "resume-5")
                    self.assertTrue(got["tls_resumed"])
                log = srv.log()
        self.assertNotIn("certificate", log)

    def test_ca_file_loaded_once_at_start_as_root(self):
        ca = os.path.join(self.dir, "ca-once.pem")
        shutil.copy(self.cert, ca)
        if os.geteuid() == 0:
            os.chmod(ca, 0o600)	# root's alone: no worker may read it
        with Aiosmtpd(cert=self.cert, key=self.key) as hop, \
                relay_server(hop.port, tls_ca_file=ca) as srv:
            send(srv.port, "relay-tls-first")
            self.received_with_tls(hop, "relay-tls-first")
            os.unlink(ca)
            send(srv.port, "relay-tls-second")
            self.received_with_tls(hop, "relay-tls-second")
            log = srv.log()
        self.assertNotIn("certificate", log)

    def test_unloadable_ca_file_is_a_startup_error(self):
        missing = os.path.join(self.dir, "no-such-ca.pem")
        code, out = check_config(relay_plugins(1, tls_ca_file=missing))
        self.assertEqual(code, 1, out)
        self.assertIn("tls_ca_file: cannot load the CA file %s: No such "
                      "file or directory" % missing, out)
        # Without verification no trust store is needed, nor loaded.
        code, out = check_config(relay_plugins(1, tls_ca_file=missing,
                                               tls_verify=False))
        self.assertEqual(code, 0, out)

    def test_unknown_certificate_defers(self):
        with Aiosmtpd(cert=self.cert, key=self.key) as hop, \
                relay_server(hop.port) as srv:
            with self.assertRaises(smtplib.SMTPException) as caught:
                send(srv.port, "relay-tls-unknown")
            code = getattr(caught.exception, "smtp_code", None)
            if code is None:	# refused at RCPT: smtplib's own exception
                code = list(caught.exception.recipients.values())[0][0]
            self.assertEqual(code // 100, 4, caught.exception)
            self.assertTrue(wait_for(lambda: "certificate" in srv.log()),
                            srv.log())
            self.assertEqual(hop.received(), [])


if __name__ == "__main__":
    main()
