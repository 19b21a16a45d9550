"""PROXY protocol (v1 and v2) behind a real HAProxy.

A client on 127.0.0.2 goes through HAProxy (which connects to ehlod from
127.0.0.1 and sends "send-proxy" or "send-proxy-v2"); ehlod's log and the
Received header of the delivered message must name 127.0.0.2, the real
client, while the log's "connect from" names the proxy.  A connection
that does not begin with a header, or comes from a peer not in
proxy_trusted, is closed without a greeting.

Implicit TLS (port 465) behind the proxy: HAProxy in TCP mode passes the
client's TLS through after its header; smtplib.SMTP_SSL delivers, and the
session is the real client's and under TLS (ESMTPS).  And with the header
and the ClientHello in one send (Python's ssl over a MemoryBIO), the
handshake still completes: the reader takes only the header's octets.
"""

import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from ehlodtest import (DEFAULT_PLUGINS, Ehlod, EhlodTestCase, IO_TIMEOUT,
                       free_port, lf, main, sample_message,
                       wait_for)

HAPROXY = "/usr/sbin/haproxy"
CLIENT = "127.0.0.2"


class HAProxy:
    """haproxy -db in the foreground, one TCP frontend to one server."""

    def __init__(self, backend_port, option):
        self.dir = tempfile.mkdtemp(prefix="ehlod-haproxy-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        with open(self.conf, "w") as f:
            f.write("global\n"
                    "    maxconn 64\n"
                    "defaults\n"
                    "    mode tcp\n"
                    "    timeout connect 5s\n"
                    "    timeout client 20s\n"
                    "    timeout server 20s\n"
                    "frontend smtp\n"
                    "    bind 127.0.0.1:%d\n"
                    "    default_backend ehlod\n"
                    "backend ehlod\n"
                    "    server e1 127.0.0.1:%d %s\n"
                    % (self.port, backend_port, option))
        self.log = open(os.path.join(self.dir, "haproxy.log"), "wb")
        self.proc = subprocess.Popen([HAPROXY, "-f", self.conf, "-db"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self):
        # A bare connect would reach ehlod as a real session, so the
        # frontend is probed by looking for the listening socket instead.
        deadline = time.monotonic() + 10
        needle = ":%04X " % self.port
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("haproxy exited: %s" % self.log_text())
            with open("/proc/net/tcp") as f:
                if any(needle in line and line.split()[3] == "0A"
                       for line in f):
                    return
            time.sleep(0.05)
        raise RuntimeError("haproxy did not listen: %s" % self.log_text())

    def log_text(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def closed_without_greeting(port, source=None, send=b""):
    """Connect, optionally send, and return what came back before close."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT,
                                    source_address=source)
    data = b""
    try:
        if send:
            sock.sendall(send)
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data
            data += chunk
    except ConnectionResetError:
        return data
    finally:
        sock.close()


@unittest.skipUnless(os.access(HAPROXY, os.X_OK), "no " + HAPROXY)
class ProxyTest(EhlodTestCase):

    def through_haproxy(self, option):
        with Ehlod(proxy_protocol=True) as server:
            proxy = HAProxy(server.port, option)
            try:
                client = smtplib.SMTP("127.0.0.1", proxy.port,
                                      local_hostname="client.test",
                                      timeout=IO_TIMEOUT,
                                      source_address=(CLIENT, 0))
                try:
                    code, _ = client.ehlo()
                    self.assertEqual(code, 250)
                    client.sendmail("s@x.test", ["u@example.org"],
                                    sample_message())
                    client_port = client.sock.getsockname()[1]
                finally:
                    client.quit()
            finally:
                proxy.stop()
            self.assertTrue(wait_for(lambda: server.delivered()))
            # The disconnect line comes once the worker sees the close.
            wait_for(lambda: "disconnect from" in server.log())
            log = server.log()
            # The proxy is the peer, the client is who HAProxy says.
            self.assertRegex(log, r"connect from \[127\.0\.0\.1\]:\d+ "
                             r"client=\[127\.0\.0\.2\]:%d\b" % client_port)
            self.assertIn("disconnect from [127.0.0.2]:%d" % client_port,
                          log)
            self.assertNotIn("proxy: closed connection from [127.0.0.1]:"
                             + str(client_port), log)
            message = lf(server.delivered()[0]).decode("utf-8", "replace")
            received = re.search(r"^Received: .*?(?=^\S)", message,
                                 re.M | re.S).group(0)
            self.assertIn("[127.0.0.2]", received)
            self.assertNotIn("[127.0.0.1]", received)

    def test_send_proxy_v1(self):
        self.through_haproxy("send-proxy")

    def test_send_proxy_v2(self):
        self.through_haproxy("send-proxy-v2")

    def test_no_header_closed_without_greeting(self):
        with Ehlod(proxy_protocol=True) as server:
            # A client that waits for the greeting sends nothing: it is
            # closed at command_timeout, never greeted.
            with Ehlod(proxy_protocol=True, command_timeout=1) as quick:
                self.assertEqual(closed_without_greeting(quick.port), b"")
                self.assertTrue(wait_for(lambda: "timeout waiting for the "
                                         "PROXY header" in quick.log()))
            # SMTP instead of a header: closed at once, nothing answered.
            data = closed_without_greeting(server.port,
                                           send=b"EHLO client.test\r\n")
            self.assertEqual(data, b"")
            self.assertTrue(wait_for(lambda: "no PROXY header"
                                     in server.log()))
            self.assertNotIn("connect from", server.log())

    def test_trickled_header_times_out_as_a_whole(self):
        # command_timeout bounds the whole header, not each read: a peer
        # sending an octet every 0.3 s is closed after about 1 s.
        header = b"PROXY TCP4 127.0.0.2 127.0.0.1 4000 25\r\n"
        with Ehlod(proxy_protocol=True, command_timeout=1) as server, \
                socket.create_connection(("127.0.0.1", server.port),
                                         timeout=IO_TIMEOUT) as sock:
            start = time.monotonic()
            closed_after = None
            for octet in header[:-2]:
                try:
                    sock.sendall(bytes([octet]))
                except (BrokenPipeError, ConnectionResetError):
                    closed_after = time.monotonic() - start
                    break
                if wait_for(lambda: "timeout waiting for the PROXY header"
                            in server.log(), 0.3):
                    closed_after = time.monotonic() - start
                    break
            self.assertIsNotNone(closed_after, "never closed: "
                                 + server.log())
            self.assertLess(closed_after, 2.5, server.log())
            self.assertNotIn("connect from", server.log())

    def test_bad_header_closed(self):
        with Ehlod(proxy_protocol=True) as server:
            data = closed_without_greeting(
                server.port,
                send=b"PROXY TCP4 127.0.0.2 127.0.0.1 99999 25\r\n")
            self.assertEqual(data, b"")
            self.assertTrue(wait_for(lambda: "v1 header has a bad port"
                                     in server.log()))
            self.assertNotIn("connect from", server.log())

    def test_untrusted_peer_closed(self):
        with Ehlod(proxy_protocol=True,
                   proxy_trusted=["127.0.0.9"]) as server:
            data = closed_without_greeting(
                server.port,
                send=b"PROXY TCP4 127.0.0.2 127.0.0.1 4000 25\r\n")
            self.assertEqual(data, b"")
            self.assertTrue(wait_for(lambda: "peer not in proxy_trusted"
                                     in server.log()))
            self.assertNotIn("connect from", server.log())

    def test_direct_header_local_v2(self):
        # v2 LOCAL (HAProxy's health checks): the session is the peer's.
        with Ehlod(proxy_protocol=True) as server:
            sig = b"\r\n\r\n\x00\r\nQUIT\n"
            with socket.create_connection(("127.0.0.1", server.port),
                                          timeout=IO_TIMEOUT) as sock:
                sock.sendall(sig + b"\x20\x00\x00\x00")
                self.assertTrue(sock.recv(512).startswith(b"220 "))
                sock.sendall(b"QUIT\r\n")
                self.assertTrue(sock.recv(512).startswith(b"221"))
            self.assertRegex(server.log(), r"connect from \[127\.0\.0\.1\]:"
                             r"(\d+) client=\[127\.0\.0\.1\]:\1\b")

    def test_bad_config_values(self):
        server = Ehlod(start=False, proxy_trusted=["127.0.0.1/33"])
        try:
            code, out = server.check()
            self.assertEqual(code, 1, out)
            self.assertIn(server.conf_path, out)
            self.assertIn("proxy_trusted: '127.0.0.1/33'", out)
        finally:
            server.cleanup()


def tls_client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@unittest.skipUnless(os.access(HAPROXY, os.X_OK), "no " + HAPROXY)
@unittest.skipUnless(shutil.which("openssl"), "no openssl")
class ImplicitTlsProxyTest(EhlodTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ehlod-proxy-tls-")
        cls.key = os.path.join(cls.dir, "key.pem")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-subj", "/CN=mx.test", "-days", "2", "-keyout",
                        cls.key, "-out", cls.cert], check=True, timeout=60,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def server(self):
        """ehlod with proxy_protocol and an implicit-TLS listener; its
        port is .tls_port."""
        plugins = [p for p in DEFAULT_PLUGINS if p[0] != "maildir"]
        plugins += [("starttls", {"cert": self.cert, "key": self.key}),
                    ("maildir", {})]
        port = free_port()
        extra = ('listener "submissions" {\n'
                 '    listen = {"127.0.0.1:%d"}\n'
                 '    tls = "implicit"\n}\n' % port)
        server = Ehlod(plugins=plugins, proxy_protocol=True,
                       extra_config=extra)
        server.tls_port = port
        return server

    def through_haproxy(self, option):
        with self.server() as server:
            proxy = HAProxy(server.tls_port, option)
            try:
                with smtplib.SMTP_SSL("127.0.0.1", proxy.port,
                                      local_hostname="client.test",
                                      timeout=IO_TIMEOUT,
                                      source_address=(CLIENT, 0),
                                      context=tls_client_context()) as c:
                    code, _ = c.ehlo()
                    self.assertEqual(code, 250)
                    self.assertFalse(c.has_extn("starttls"))
                    self.assertEqual(c.sendmail(
                        "s@x.test", ["u@example.org"],
                        sample_message("tls " + option)), {})
                    client_port = c.sock.getsockname()[1]
            finally:
                proxy.stop()
            self.assertTrue(wait_for(lambda: server.delivered()))
            self.assertRegex(server.log(), r"connect from \[127\.0\.0\.1\]:"
                             r"\d+ client=\[127\.0\.0\.2\]:%d\b"
                             % client_port)
            message = lf(server.delivered()[0]).decode("utf-8", "replace")
            received = re.sub(r"\r?\n[ \t]+", " ", re.search(
                r"^Received: .*?(?=^\S)", message, re.M | re.S).group(0))
            self.assertIn("[127.0.0.2]", received)
            self.assertRegex(received, r"with ESMTPS id")

    def test_haproxy_send_proxy_v1_implicit_tls(self):
        self.through_haproxy("send-proxy")

    def test_haproxy_send_proxy_v2_implicit_tls(self):
        self.through_haproxy("send-proxy-v2")

    def test_header_and_client_hello_in_one_send(self):
        with self.server() as server, socket.create_connection(
                ("127.0.0.1", server.tls_port), timeout=IO_TIMEOUT) as sock:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = tls_client_context().wrap_bio(incoming, outgoing)
            with self.assertRaises(ssl.SSLWantReadError):
                tls.do_handshake()
            hello = outgoing.read()
            self.assertTrue(hello.startswith(b"\x16\x03"), hello[:8])
            sock.sendall(b"PROXY TCP4 127.0.0.2 127.0.0.1 4000 465\r\n"
                         + hello)

            def pump(step):
                while True:
                    try:
                        return step()
                    except ssl.SSLWantReadError:
                        sock.sendall(outgoing.read())
                        data = sock.recv(16384)
                        self.assertNotEqual(data, b"", "closed by ehlod: "
                                            + server.log()[-2000:])
                        incoming.write(data)

            pump(tls.do_handshake)
            sock.sendall(outgoing.read())
            self.assertTrue(pump(lambda: tls.read(4096)).startswith(b"220 "))
            tls.write(b"QUIT\r\n")
            sock.sendall(outgoing.read())
            self.assertTrue(pump(lambda: tls.read(4096)).startswith(b"221"))
            self.assertRegex(server.log(), r"connect from \[127\.0\.0\.1\]:"
                             r"\d+ client=\[127\.0\.0\.2\]:4000\b")


if __name__ == "__main__":
    main()
