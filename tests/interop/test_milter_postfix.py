"""test_milter_postfix - ehlod plugins inside a real Postfix, through
ehlod-milter.

A private Postfix instance (its own config directory, queue and log file
under a temporary directory; smtpd on a free loopback port with
"smtpd_milters = inet:127.0.0.1:PORT") relays every message it accepts to
smtp-sink, which dumps each one to a file.  swaks is the client.  The
milter runs the milterprobe test plugin.  Checked: a plugin's rejection
(one line and multi-line) reaches the client with its code, enhanced code
and text; a pending recipient verdict; an accepted message arrives with
the plugin's header changes and the MTA's queue id; with the milter down,
milter_default_action = tempfail gives 451.

Postfix must run as root (it switches to its mail_owner); when this test
is not root it is skipped (77), as when postfix, smtp-sink or swaks are
not installed.  Every process is stopped in the class cleanups.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from ehlodtest import EhlodTestCase, free_port, main
from milterharness import Milter, need_program, probe_plugin, skip

POSTFIX_TIMEOUT = 20
SWAKS_TIMEOUT = 30

MASTER_CF = """\
127.0.0.1:{smtpd_port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# Everything Postfix accepts goes to smtp-sink; no DNS, no local mail.
MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
myhostname = mx.postfix-test.invalid
mydomain = postfix-test.invalid
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink_port}
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_dns_support_level = disabled
alias_maps =
alias_database =
smtpd_milters = inet:127.0.0.1:{milter_port}
milter_default_action = tempfail
milter_protocol = 6
"""

PROBE = {
    "reject_rcpt": ["bad@example.org", "slowbad@example.org"],
    "pend_rcpt": ["slowbad@example.org"],
    "pend_ms": 1000,
}


def wait_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def run(cmd, timeout=POSTFIX_TIMEOUT):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)


class PostfixInstance:
    """A private Postfix: started by start(), always stopped by stop()."""

    def __init__(self, dir, milter_port, sink_port):
        self.dir = dir
        self.conf = os.path.join(dir, "conf")
        self.port = free_port()
        os.makedirs(self.conf)
        os.makedirs(os.path.join(dir, "queue"))
        os.makedirs(os.path.join(dir, "data"))
        shutil.chown(os.path.join(dir, "data"), "postfix")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtpd_port=self.port))
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=dir, sink_port=sink_port,
                                   milter_port=milter_port))

    def postfix(self, *args):
        return run(["postfix", "-c", self.conf] + list(args))

    def start(self):
        for step in (("check",), ("start",)):
            p = self.postfix(*step)
            if p.returncode != 0:
                raise RuntimeError("postfix %s failed: %s\n%s" % (
                    step[0], p.stdout.decode(errors="replace"), self.log()))
        if not wait_port(self.port):
            raise RuntimeError("postfix smtpd did not listen:\n" +
                               self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "queue", "pid",
                                   "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.master_pid()
        try:
            self.postfix("stop")
        except subprocess.TimeoutExpired:
            pass
        if pid is None:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            self.postfix("abort")
            os.kill(pid, signal.SIGKILL)
        except (OSError, subprocess.TimeoutExpired):
            pass


def swaks(port, *args):
    cmd = ["swaks", "--server", "127.0.0.1:%d" % port, "--timeout", "20",
           "--helo", "client.example.com"] + list(args)
    p = run(cmd, timeout=SWAKS_TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace")


class PostfixMilterTest(EhlodTestCase):
    timeout = 55

    @classmethod
    def setUpClass(cls):
        need_program("swaks", "swaks")
        need_program("smtp-sink", "postfix")
        need_program("postfix", "postfix")
        if os.geteuid() != 0:
            skip("Postfix runs only as root (it switches to its "
                 "mail_owner)")
        cls.dir = tempfile.mkdtemp(prefix="ehlod-postfix-")
        os.chmod(cls.dir, 0o755)    # Postfix's daemons reach the queue
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.sink_dir = os.path.join(cls.dir, "sink")
        os.makedirs(cls.sink_dir)
        os.chmod(cls.sink_dir, 0o777)    # smtp-sink runs as nobody
        cls.sink_port = free_port()
        cls.sink = subprocess.Popen(
            ["smtp-sink", "-u", "nobody", "-h", "sink.test", "-d",
             os.path.join(cls.sink_dir, "%Y%m%d%H%M%S."),
             "127.0.0.1:%d" % cls.sink_port, "10"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        cls.addClassCleanup(cls.stop_sink)
        cls.milter = Milter([probe_plugin(PROBE)])
        cls.addClassCleanup(cls.milter.cleanup)
        cls.postfix = PostfixInstance(cls.dir, cls.milter.port,
                                      cls.sink_port)
        cls.addClassCleanup(cls.postfix.stop)
        cls.postfix.start()
        if not wait_port(cls.sink_port):
            raise RuntimeError("smtp-sink did not listen")

    @classmethod
    def stop_sink(cls):
        if cls.sink.poll() is None:
            cls.sink.terminate()
            try:
                cls.sink.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(cls.sink.pid, signal.SIGKILL)
                cls.sink.wait()

    def diagnostics(self):
        return "\n---- milter log\n%s\n---- postfix log\n%s" % (
            self.milter.log(), self.postfix.log())

    def sent(self, *args):
        return swaks(self.postfix.port, *args)

    def test_a_rcpt_reject_reaches_client_with_code_and_text(self):
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "bad@example.org")
        self.assertIn("<** 550 5.7.1 milterprobe: <bad@example.org> "
                      "rejected", out, out + self.diagnostics())
        self.assertNotEqual(rc, 0)

    def test_b_pending_rcpt_verdict_reaches_client(self):
        t0 = time.monotonic()
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "slowbad@example.org")
        self.assertIn("<** 550 5.7.1 milterprobe: <slowbad@example.org> "
                      "rejected", out, out + self.diagnostics())
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)

    def test_c_multiline_reject_at_end_of_message(self):
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org",
                            "--body", "PROBE-MULTILINE\n")
        self.assertIn("<** 550-5.7.1 milterprobe: first line\n"
                      "<** 550 5.7.1 milterprobe: second line", out,
                      out + self.diagnostics())

    def delivered(self, marker, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in glob.glob(os.path.join(self.sink_dir, "*")):
                with open(path, errors="replace") as f:
                    text = f.read()
                if marker in text:
                    return text
            time.sleep(0.2)
        self.fail("no message with %s reached smtp-sink%s" % (
            marker, self.diagnostics()))

    def test_d_accepted_message_arrives_with_plugin_header(self):
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org",
                            "--header", "Subject: delivery check",
                            "--header", "X-Probe-Delete: remove me",
                            "--header", "X-Test-Marker: accepted-d")
        self.assertEqual(rc, 0, out + self.diagnostics())
        m = re.search(r"<-  250 2\.0\.0 Ok: queued as (\w+)", out)
        self.assertIsNotNone(m, out)
        queue_id = m.group(1)
        text = self.delivered("X-Test-Marker: accepted-d")
        head = text.split("\n\n", 1)[0]
        probe = re.search(r"^X-Ehlod-Probe: (.*)$", head, re.M)
        self.assertIsNotNone(probe, text)
        for part in ("host=ehlod-milter", "helo=client.example.com",
                     "client=127.0.0.1", "from=<sender@example.org>",
                     "rcpts=1", "first=<good@example.org>",
                     "id=" + queue_id):
            self.assertIn(part, probe.group(1))
        self.assertIn("\nSubject: [probe] delivery check\n", head)
        self.assertIn("X-Probe-First: yes", head)
        self.assertNotIn("X-Probe-Delete", head)

    def test_z_milter_down_gives_default_action_tempfail(self):
        self.milter.stop()
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org")
        self.assertRegex(out, r"<\*\* 451 4\.7\.1 ", out)
        self.assertIn("connect to Milter service inet:127.0.0.1:%d" %
                      self.milter.port, self.postfix.log())


if __name__ == "__main__":
    main()
