#!/usr/bin/env python3
"""test_milter_sendmail - ehlod plugins inside a real Sendmail, through
ehlod-milter.

Debian's sendmail-bin conflicts with postfix, so .ci/deps unpacks it and
sendmail-cf under /opt/ehlod-peers/sendmail instead of installing them.
This test builds a configuration with m4 from those macros, with the
very INPUT_MAIL_FILTER line README.md and ehlod-milter(8) give admins,
and runs Sendmail as a private daemon in the foreground (-bD) on a free
loopback port, relaying what it accepts through its smtp mailer to
Postfix's smtp-sink, where the test reads the message as it arrived.
Sendmail sleeps a minute at start when its host name has no dot, so it
runs in a UTS namespace of its own named sendmail.test.  swaks is the
client, the milter runs the milterprobe test plugin.  Checked: a
plugin's rejection (one line, multi-line, and one that pends a second)
reaches the client with its code, enhanced code and text; an accepted
message is delivered with the plugin's header changes and Sendmail's
queue id; with the milter down, F=T gives a temporary failure.

Runs as root only (Sendmail's daemon binds and checks its files as
root), skipped (77) otherwise.
"""

import os
import re
import shutil
import signal
import subprocess

from ehlodtest import EhlodTestCase, free_port, main, make_tempdir
from milterharness import (MTA_PROBE, Milter, MtaMilterChecks, mta_swaks,
                          need_program, probe_header_parts, probe_plugin,
                          relay_sink_for, skip)
from postfixtest import wait_port

SENDMAIL_ROOT = os.environ.get("EHLOD_SENDMAIL_ROOT",
                               "/opt/ehlod-peers/sendmail")
SENDMAIL = os.path.join(SENDMAIL_ROOT, "usr/libexec/sendmail/sendmail")
CF_M4 = os.path.join(SENDMAIL_ROOT, "usr/share/sendmail/cf/m4/cf.m4")
START_TIMEOUT = 20

MC = """divert(-1)
divert(0)dnl
include(`{cf_m4}')dnl
VERSIONID(`ehlod interop test')dnl
OSTYPE(`linux')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`QUEUE_DIR', `{dir}/queue')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
define(`ALIAS_FILE', `')dnl
define(`HELP_FILE', `')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`confDELIVERY_MODE', `background')dnl
define(`SMART_HOST', `esmtp:[127.0.0.1]')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {sink_port}')dnl
define(`confTO_CONNECT', `10s')dnl
FEATURE(`nouucp', `reject')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`promiscuous_relay')dnl
FEATURE(`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
INPUT_MAIL_FILTER(`ehlod', `S=inet:{milter_port}@127.0.0.1, F=T, T=S:30s;R:60s')dnl
MAILER(`smtp')dnl
"""


class Sendmail:
    """One private Sendmail daemon, relaying to smtp-sink."""

    def __init__(self, milter_port, sink_port):
        self.dir = make_tempdir("ehlod-sendmail-")
        os.chmod(self.dir, 0o755)
        os.mkdir(os.path.join(self.dir, "queue"), 0o700)
        self.port = free_port()
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.output = os.path.join(self.dir, "sendmail.out")
        mc = MC.format(cf_m4=CF_M4, dir=self.dir, port=self.port,
                       milter_port=milter_port, sink_port=sink_port)
        with open(self.cf, "w") as f:
            subprocess.run(["m4"], input=mc.encode(), stdout=f, check=True,
                           stderr=subprocess.DEVNULL)
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                ["unshare", "--uts", "sh", "-c",
                 'hostname sendmail.test && exec "$0" -C "$1" -bD',
                 SENDMAIL, self.cf],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True)
        if not wait_port(self.port, START_TIMEOUT):
            text = self.log()
            self.close()
            raise RuntimeError("sendmail does not listen:\n" + text)

    def log(self):
        with open(self.output, errors="replace") as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# The lines smtp-sink writes above each message it dumps: the envelope.
SINK_ENVELOPE = ("X-Client-Addr", "X-Client-Proto", "X-Helo-Args",
                 "X-Mail-Args", "X-Rcpt-Args")


def delivered_headers(content):
    """The header lines of a message as Sendmail sent it to smtp-sink
    (continuation lines joined), without what smtp-sink added on top:
    its envelope lines and its Received header."""
    block = content.split("\n\n", 1)[0]
    headers = re.findall(r"^(\S.*(?:\n[ \t].*)*)", block, re.M)
    while headers and headers[0].split(":", 1)[0] in SINK_ENVELOPE:
        headers.pop(0)
    if headers and headers[0].startswith("Received: ") and \
            "(smtp-sink)" in headers[0]:
        headers.pop(0)
    return headers


class SendmailMilterTest(MtaMilterChecks, EhlodTestCase):
    QUEUED_RE = r"<-  250 2\.0\.0 (\w+) Message accepted"
    timeout = 55

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            skip("Sendmail's daemon runs as root")
        if not os.access(SENDMAIL, os.X_OK) or not os.path.exists(CF_M4):
            skip("no Sendmail under %s (.ci/deps unpacks Debian's "
                 "sendmail-bin and sendmail-cf there)" % SENDMAIL_ROOT)
        need_program("m4", "m4")
        need_program("unshare", "util-linux")
        relay_sink_for(cls)
        cls.milter = Milter([probe_plugin(MTA_PROBE)])
        cls.addClassCleanup(cls.milter.cleanup)
        cls.sendmail = Sendmail(cls.milter.port, cls.sink.port)
        cls.addClassCleanup(cls.sendmail.close)

    def diagnostics(self):
        return "\n---- milter log\n%s\n---- sendmail output\n%s" % (
            self.milter.log(), self.sendmail.log())

    def sent(self, *args):
        return mta_swaks(self.sendmail.port, *args)

    def refusal(self, rcpt):
        return "<%s>... milterprobe: <%s> rejected" % (rcpt, rcpt)

    def test_d_accepted_message_delivered_with_plugin_headers(self):
        mark = "X-Test-Mark: d-%d" % os.getpid()
        queue_id = self.send_accepted(mark)
        content = self.sink.transaction_with(mark)
        self.assertIsNotNone(content, "not delivered to smtp-sink" +
                             self.diagnostics())
        headers = delivered_headers(content)
        probe = [h for h in headers if h.startswith("X-Ehlod-Probe: ")]
        self.assertEqual(len(probe), 1, headers)
        for part in probe_header_parts(queue_id):
            self.assertIn(part, probe[0])
        self.assertIn("Subject: [probe] delivery check", headers)
        self.assertIn(mark, headers)
        names = [h.split(":", 1)[0] for h in headers]
        # Inserted at the top: above Sendmail's own Received header.
        self.assertEqual(names[:2], ["X-Probe-First", "Received"], headers)
        self.assertIn("by sendmail.test", headers[1])
        self.assertNotIn("X-Probe-Delete", names)

    def test_z_milter_down_gives_tempfail(self):
        self.milter.stop()
        rc, out = self.sent("--from", "sender@example.org",
                            "--to", "good@example.org")
        self.assertRegex(out, r"<\*\* 451 4\.3\.2 ", out)
        self.assertNotRegex(out, self.QUEUED_RE)
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    main()
