"""milterharness - start ehlod-milter for one test and drive it.

NAME
    milterharness - harness for the ehlod-milter interop tests

DESCRIPTION
    Milter(plugins, **core) writes a config (the same format ehlod reads,
    plus milter_socket on a free loopback port) into a fresh temporary
    directory, starts "$EHLOD_BUILDDIR/milter/ehlod-milter -c CONF" in its
    own process group with stderr captured, and waits for its "ready:" log
    line.  It is a context manager: the milter is stopped (SIGTERM, then
    SIGKILL of the group) even when the test fails, and a sanitizer report
    in its log fails the test.

    miltertest(script, **defines) runs Debian's miltertest on a Lua script
    from this directory, with "-D name=value" for each define, bounded in
    time.

ENVIRONMENT
    EHLOD_BUILDDIR, EHLOD_SRCDIR, EHLOD_TEST_PLUGIN_DIR (set by make check).
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

from ehlodtest import (SANITIZER_MARKS, TIMER_SLACK, env_path, free_port,
                       make_tempdir, render_config, test_plugin_dir,
                       plugin_dir)
from test_client_support import SmtpSink

START_TIMEOUT = 10
STOP_TIMEOUT = 10
MILTERTEST_TIMEOUT = 40


def milter_bin():
    return os.path.join(env_path("EHLOD_BUILDDIR"), "milter", "ehlod-milter")


def script_path(name):
    return os.path.join(env_path("EHLOD_SRCDIR"), "tests", "interop", name)


def skip(why):
    """Exit 77 (skipped): only for a peer that cannot run here at all."""
    print("SKIP: " + why)
    sys.exit(77)


def need_program(name, package):
    path = shutil.which(name) or (os.path.exists("/usr/sbin/" + name) and
                                  "/usr/sbin/" + name)
    if not path:
        skip("%s not installed (Debian package %s)" % (name, package))
    return path


def relay_sink_for(cls):
    """For an MTA test class: skip without swaks or smtp-sink, else the
    smtp-sink its MTA relays to, as cls.sink, closed with the class."""
    need_program("swaks", "swaks")
    need_program("smtp-sink", "postfix")
    cls.sink = SmtpSink()
    cls.addClassCleanup(cls.sink.close)


def probe_plugin(options=None):
    """The milterprobe test plugin's section."""
    opts = {"path": os.path.join(test_plugin_dir(), "milterprobe.so")}
    opts.update(options or {})
    return ("milterprobe", opts)


# The milterprobe options the MTA tests (Postfix, Sendmail) share: two
# recipients refused, one of them after a second's pending.
MTA_PROBE = {
    "reject_rcpt": ["bad@example.org", "slowbad@example.org"],
    "pend_rcpt": ["slowbad@example.org"],
    "pend_ms": 1000,
}


def mta_swaks(port, *args, timeout=30):
    """swaks to an MTA on 127.0.0.1:port; (exit code, its dialogue)."""
    cmd = ["swaks", "--server", "127.0.0.1:%d" % port, "--timeout", "20",
           "--helo", "client.example.com"] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


def probe_header_parts(queue_id):
    """What milterprobe's X-Ehlod-Probe says of a message swaks sent with
    mta_swaks from sender@ to good@example.org, which the MTA queued as
    queue_id."""
    return ("host=ehlod-milter", "helo=client.example.com",
            "client=127.0.0.1", "from=<sender@example.org>", "rcpts=1",
            "first=<good@example.org>", "id=" + queue_id)


class MtaMilterChecks:
    """The checks every MTA test runs through ehlod-milter with MTA_PROBE,
    mixed into its test case.  The class gives sent(*swaks_args),
    diagnostics(), refusal(rcpt): the text the MTA puts after "550
    5.7.1 " when the milter refuses rcpt, and QUEUED_RE: its 250 reply
    to the data, with the queue id as the first group."""

    def send_accepted(self, *headers):
        """Send from sender@ to good@example.org with these headers and
        the ones milterprobe changes; the MTA's queue id."""
        args = ["--from", "sender@example.org", "--to", "good@example.org",
                "--header", "Subject: delivery check",
                "--header", "X-Probe-Delete: remove me"]
        for header in headers:
            args += ["--header", header]
        rc, out = self.sent(*args)
        self.assertEqual(rc, 0, out + self.diagnostics())
        m = re.search(self.QUEUED_RE, out)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_a_rcpt_reject_reaches_client_with_code_and_text(self):
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "bad@example.org")
        self.assertIn("<** 550 5.7.1 " + self.refusal("bad@example.org"),
                      out, out + self.diagnostics())
        self.assertNotEqual(rc, 0)

    def test_b_pending_rcpt_verdict_reaches_client(self):
        t0 = time.monotonic()
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "slowbad@example.org")
        self.assertIn("<** 550 5.7.1 " + self.refusal("slowbad@example.org"),
                      out, out + self.diagnostics())
        self.assertGreaterEqual(time.monotonic() - t0, 1.0 - TIMER_SLACK)

    def test_c_multiline_reject_at_end_of_message(self):
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org",
                            "--body", "PROBE-MULTILINE\n")
        self.assertIn("<** 550-5.7.1 milterprobe: first line\n"
                      "<** 550 5.7.1 milterprobe: second line", out,
                      out + self.diagnostics())


def delay_plugin(options=None):
    opts = {"path": os.path.join(test_plugin_dir(), "delay.so")}
    opts.update(options or {})
    return ("delay", opts)


SMFI_VERSION = 6


def packet(cmd, data=b""):
    """One milter protocol packet, as the MTA sends it."""
    return struct.pack(">I", len(data) + 1) + cmd + data


def read_packet(sock):
    def take(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("milter closed the connection")
            buf += chunk
        return buf
    (length,) = struct.unpack(">I", take(4))
    body = take(length)
    return body[:1], body[1:]


def read_answer(sock):
    """The milter's answer to one command, skipping progress packets."""
    while True:
        cmd, data = read_packet(sock)
        if cmd != b"p":
            return cmd, data


def connect_answer(sock, ip):
    """Negotiate on a connected socket and send the connect step of a
    client at ip; the milter's answer to it (b"c" continue, b"y" a
    reply code...)."""
    sock.sendall(packet(b"O", struct.pack(">III", SMFI_VERSION, 0x1ff, 0)))
    cmd, _ = read_packet(sock)
    if cmd != b"O":
        raise AssertionError("no option negotiation: %r" % cmd)
    sock.sendall(packet(b"C", b"client.test\0" + b"4" +
                        struct.pack(">H", 4321) + ip.encode() + b"\0"))
    return read_answer(sock)[0]


class Milter:
    def __init__(self, plugins, start=True, **core):
        self.dir = make_tempdir("ehlod-milter-")
        self.port = free_port()
        self.socket = "inet:%d@127.0.0.1" % self.port
        self.conf = os.path.join(self.dir, "ehlod.conf")
        self.logfile = os.path.join(self.dir, "milter.log")
        settings = {"plugin_dir": plugin_dir(), "hostname": "milter.test",
                    "milter_socket": self.socket}
        settings.update(core)
        with open(self.conf, "w") as f:
            f.write(render_config(settings, plugins))
        self.proc = None
        if start:
            self.start()

    def start(self):
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([milter_bin(), "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "ready:" in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        text = self.log()
        self.stop()
        raise RuntimeError("ehlod-milter did not start:\n" + text)

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None

    def sanitizer_report(self):
        """The log, when ASan or UBSan reported something (make check
        with --enable-sanitizers), else None."""
        text = self.log()
        return text if any(m in text for m in SANITIZER_MARKS) else None

    def cleanup(self):
        self.stop()
        report = self.sanitizer_report()
        shutil.rmtree(self.dir, ignore_errors=True)
        if report:
            raise AssertionError("ehlod-milter: sanitizer report:\n" +
                                 report)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            sys.stderr.write("---- ehlod-milter log\n" + self.log())
        self.cleanup()
        return False


def miltertest_cmd(script, **defines):
    cmd = [need_program("miltertest", "miltertest")]
    for key, value in defines.items():
        cmd += ["-D", "%s=%s" % (key, value)]
    return cmd + ["-s", script_path(script)]


def miltertest(script, timeout=MILTERTEST_TIMEOUT, **defines):
    """Run a Lua script; returns (exit status, output)."""
    try:
        p = subprocess.run(miltertest_cmd(script, **defines),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if e.stdout else ""
        return -1, out + "\n(miltertest timed out)"
    return p.returncode, p.stdout.decode(errors="replace")
