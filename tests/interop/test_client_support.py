"""
NAME
    test_client_support - peers and helpers for the client's interop tests

DESCRIPTION
    Not a test itself (it is not in TESTS): the test_client_*.py scripts
    import it.  It starts the peers the client is tested against, on
    127.0.0.1 and a free port, and stops them whatever happens:

      SmtpSink     Postfix's smtp-sink(1), made to misbehave with its own
                   options (-e no ESMTP, -f hard-reject, -q disconnect,
                   -Q 421, -p no PIPELINING, -8 no 8BITMIME, -L LMTP ...);
                   its -D dump shows the MAIL/RCPT arguments it received.
      Aiosmtpd     Python's aiosmtpd (Debian python3-aiosmtpd), run by
                   /usr/bin/python3 because that is where Debian installs
                   it; it records each envelope and message as JSON.
      ScriptServer a tiny scripted server for the few shapes no real peer
                   can be made to produce (an exact 503 to RSET, quirky
                   EHLO lines, a reply followed by a close).

    send() runs the built ehlod-send and returns its exit status, output
    and error output; every run is bounded in time.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ehlodtest import free_port  # noqa: F401 (tests import it from here)

SMTP_SINK = "/usr/sbin/smtp-sink"
DEBIAN_PYTHON = "/usr/bin/python3"
STEP_TIMEOUT = 25


def builddir():
    return os.environ.get("EHLOD_BUILDDIR", os.getcwd())


def ehlod_send():
    return os.path.join(builddir(), "client", "ehlod-send")


def wait_port(port, proc=None, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("peer exited early with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("peer did not listen on port %d" % port)


def wait_unix(path, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("peer exited early with %d" % proc.returncode)
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise RuntimeError("peer did not create %s" % path)


def stop(proc):
    """Stop a peer started in its own process group, for sure."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(3)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(3)


def message(body="hello\n", subject="test"):
    return ("From: a@example.org\nTo: b@example.org\nSubject: %s\n\n%s"
            % (subject, body)).encode("utf-8")


def send(args, data=None, timeout=STEP_TIMEOUT):
    """Run ehlod-send; returns (status, stdout, stderr) as text."""
    cmd = [ehlod_send()] + ["--timeout", "10"] + list(args)
    p = subprocess.run(cmd, input=data if data is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def client_lines(transcript):
    """The commands the client sent, in order."""
    return [l[3:] for l in transcript.splitlines() if l.startswith("C: ")]


def skip_unless(path):
    if not os.path.exists(path):
        print("skipped: %s is not installed" % path)
        sys.exit(77)


class SmtpSink:
    """smtp-sink on a loopback port (or a unix socket), dumping every
    transaction to one file."""

    def __init__(self, *options, unix=False):
        skip_unless(SMTP_SINK)
        self.dir = tempfile.mkdtemp(prefix="ehlod-sink-")
        os.chmod(self.dir, 0o777)	# smtp-sink writes as nobody
        self.dump = os.path.join(self.dir, "dump")
        self.port = free_port()
        self.path = os.path.join(self.dir, "lmtp.sock") if unix else None
        where = ("unix:" + self.path) if unix else "127.0.0.1:%d" % self.port
        cmd = [SMTP_SINK, "-D", self.dump] + list(options)
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]	# smtp-sink refuses to run as root
        cmd += [where, "16"]
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        try:
            if unix:
                wait_unix(self.path, self.proc)
            else:
                wait_port(self.port, self.proc)
        except Exception:
            self.close()
            raise

    @property
    def server(self):
        return ("unix:" + self.path) if self.path else "127.0.0.1:%d" % self.port

    def dumped(self, transactions=1, timeout=5.0):
        """The dump file once it holds that many transactions (smtp-sink
        writes it after the client may already have gone)."""
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            try:
                with open(self.dump, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            if text.count("X-Client-Addr:") >= transactions:
                time.sleep(0.1)	# let the last one be written out
                with open(self.dump, encoding="utf-8", errors="replace") as f:
                    return f.read()
            time.sleep(0.05)
        return text

    def transactions(self):
        """The transactions dumped so far, oldest first: each one
        smtp-sink's envelope lines (X-Client-Addr ... X-Rcpt-Args), its
        Received header, then the message."""
        try:
            with open(self.dump, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return [t for t in re.split(r"(?m)^(?=X-Client-Addr: )", text) if t]

    def transaction_with(self, text, timeout=20.0):
        """The first transaction that contains text, or None once
        timeout seconds passed without one."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in t for t in self.transactions()):
                time.sleep(0.1)	# let the rest of it be written out
                return next(t for t in self.transactions() if text in t)
            time.sleep(0.1)
        return None

    def close(self):
        stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


AIOSMTPD_RUNNER = r'''
import asyncio, base64, json, os, signal, ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, syntax

port, outdir, opts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        # opts["refuse"]: local part -> the reply that refuses it.
        refusal = opts.get("refuse", {}).get(address.split("@")[0])
        if refusal:
            return refusal % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 <%s> welcome" % address

    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(outdir) if f.startswith("msg")])
        rec = {"mail_from": envelope.mail_from,
               "mail_options": envelope.mail_options,
               "rcpt_tos": envelope.rcpt_tos,
               "rcpt_options": envelope.rcpt_options,
               "content": base64.b64encode(envelope.original_content).decode(),
               "tls": session.ssl is not None,
               "tls_resumed": bool(session.ssl and session.ssl.get(
                   "ssl_object") and session.ssl["ssl_object"].session_reused),
               "auth": bool(session.authenticated)}
        tmp = os.path.join(outdir, ".tmp%d" % n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(outdir, "msg%03d.json" % n))
        return "250 2.0.0 stored as msg%03d" % n

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login == opts["user"].encode() and
          auth_data.password == opts["password"].encode())
    # handled=False: let aiosmtpd send the 535 itself
    return AuthResult(success=ok, handled=False)

kw = {"decode_data": False,
      "enable_SMTPUTF8": opts.get("smtputf8", False),
      "data_size_limit": opts.get("size", 33554432)}
if "user" in opts:
    kw["authenticator"] = authenticator
    kw["auth_require_tls"] = False
if "cert" in opts:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(opts["cert"], opts["key"])
    kw["tls_context"] = ctx
class RefusingSMTP(SMTP):
    # opts["starttls_reply"]: STARTTLS offered but refused with that reply.
    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg):
        await self.push(opts["starttls_reply"])

class Server(Controller):
    def factory(self):
        cls = RefusingSMTP if "starttls_reply" in opts else SMTP
        return cls(self.handler, **self.SMTP_kwargs)

ctl = Server(Handler(), hostname="127.0.0.1", port=port,
             server_hostname="localhost", **kw)
ctl.start()
signal.signal(signal.SIGTERM, lambda *a: (ctl.stop(), os._exit(0)))
print("ready", flush=True)
while True:
    time.sleep(1)
'''


class Aiosmtpd:
    """aiosmtpd on a loopback port; received() lists what it stored."""

    def __init__(self, port=None, **opts):
        skip_unless(DEBIAN_PYTHON)
        probe = subprocess.run([DEBIAN_PYTHON, "-c", "import aiosmtpd"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            print("skipped: python3-aiosmtpd is not installed")
            sys.exit(77)
        self.dir = tempfile.mkdtemp(prefix="ehlod-aiosmtpd-")
        self.port = port or free_port()
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            [DEBIAN_PYTHON, "-c", AIOSMTPD_RUNNER, str(self.port), self.dir,
             json.dumps(opts)],
            stdout=self.log, stderr=self.log, start_new_session=True)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.close()
            raise

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def received(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("msg") and name.endswith(".json"):
                with open(os.path.join(self.dir, name)) as f:
                    out.append(json.load(f))
        return out

    def close(self):
        stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


CLOSE = object()
SILENT = object()	# no reply; the connection stays open


class ScriptServer:
    """A scripted SMTP server in a thread.  conns[i] describes the i-th
    connection: a dict from verb ("greeting", "EHLO", "HELO", "RSET",
    "MAIL", "RCPT", "DATA", ".", "QUIT", ...) to the reply text (lines
    joined by CRLF), a list of such texts for successive commands,
    CLOSE, or (text, CLOSE): that reply, then the close, or SILENT: no
    reply, and the connection stays until the peer closes.  Verbs not
    named get a plain success.
    seen[i] lists the lines received on connection i."""

    DEFAULTS = {"greeting": "220 script.example ESMTP",
                "EHLO": "250 script.example", "HELO": "250 script.example",
                "RSET": "250 ok", "MAIL": "250 ok", "RCPT": "250 ok",
                "DATA": "354 go on", ".": "250 queued", "QUIT": "221 bye",
                "NOOP": "250 ok"}

    def __init__(self, conns):
        self.conns = conns
        self.seen = []
        self.chunks = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def reply(self, conn, script, key):
        text = script.get(key, self.DEFAULTS.get(key, "500 unknown"))
        if isinstance(text, list):	# successive replies to that verb
            text = text.pop(0) if len(text) > 1 else text[0]
        if text is CLOSE:
            return False
        if text is SILENT:
            return True
        if isinstance(text, tuple):	# (reply, CLOSE)
            conn.sendall(text[0].encode() + b"\r\n")
            return False
        conn.sendall(text.encode() + b"\r\n")
        return True

    def serve(self, conn, script, seen):
        with conn.makefile("rb") as f:
            self.talk(conn, f, script, seen)

    def talk(self, conn, f, script, seen):
        if not self.reply(conn, script, "greeting"):
            return
        in_data = False
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    seen.append(".")
                    if not self.reply(conn, script, "."):
                        return
                continue
            seen.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "BDAT":	# RFC 3030: exactly that many octets follow
                self.chunks.append(f.read(int(line.split()[1])))
            if not self.reply(conn, script, verb):
                return
            if verb == "DATA" and script.get("DATA", "354").startswith("354"):
                in_data = True
            if verb == "QUIT" and script.get("QUIT") is not SILENT:
                return

    def run(self):
        i = 0
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            script = self.conns[min(i, len(self.conns) - 1)]
            seen = []
            self.seen.append(seen)
            i += 1
            conn.settimeout(10)
            try:
                self.serve(conn, script, seen)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(3)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def self_signed(directory, name="localhost"):
    """A throw-away certificate for name; returns (cert, key)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name,
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20)
    return cert, key
