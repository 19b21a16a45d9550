"""test_milter_service - ehlod-milter as systemd runs it.

What an admin deploying ehlod-milter beside Postfix or Sendmail relies on,
as test_packaging does for ehlod:

  - with $NOTIFY_SOCKET set (systemd's Type=notify) the master sends
    READY=1 once the first generation serves, with the socket in STATUS;
    RELOADING=1 then READY=1 around a SIGHUP, for a reload that took and
    for one that failed (the running configuration serves on, and STATUS
    says so); STOPPING=1 on SIGTERM.  The master alone speaks: every
    datagram comes from its pid (SO_PASSCRED), as NotifyAccess=main asks.
  - the installed unit (etc/ehlod-milter.service, paths filled in by the
    build) passes systemd-analyze verify, and its ExecStartPre and
    ExecReload check the file with "ehlod-milter -t -q";
  - "ehlod-milter -t -q" prints nothing for a good file, and the error for
    a bad one; -q without -t is a usage error.
"""

import os
import signal
import socket
import struct
import subprocess

from ehlodtest import (EhlodTestCase, NotifySocket, env_path, main,
                       unit_command, verify_unit)
from milterharness import Milter, milter_bin, probe_plugin

def run_milter(*args):
    p = subprocess.run([milter_bin()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    return p.returncode, p.stdout.decode(errors="replace")


class CredNotifySocket(NotifySocket):
    """The notify socket, also telling which pid sent each datagram."""

    def __init__(self):
        super().__init__()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.senders = set()

    def receive(self):
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                self.senders.add(struct.unpack("iII", payload[:12])[0])
        return data.decode()


class MilterServiceTest(EhlodTestCase):
    timeout = 90

    def test_sd_notify_ready_reloading_stopping(self):
        notify = CredNotifySocket()
        os.environ["NOTIFY_SOCKET"] = notify.path
        try:
            with Milter([probe_plugin()]) as m:
                ready = notify.wait_for("READY=1")
                self.assertIn("STATUS=serving " + m.socket, ready)
                m.proc.send_signal(signal.SIGHUP)
                notify.wait_for("RELOADING=1")
                ready = notify.wait_for("READY=1", timeout=30)
                self.assertIn("STATUS=serving " + m.socket, ready, m.log())
                self.assertIn("reloaded: generation", m.log())
                # A file that does not check: the reload fails, the
                # service still runs, and systemd hears both.
                with open(m.conf, "a") as f:
                    f.write("no_such_option = 1\n")
                m.proc.send_signal(signal.SIGHUP)
                notify.wait_for("RELOADING=1")
                ready = notify.wait_for("READY=1", timeout=30)
                self.assertIn("STATUS=reload failed", ready, m.log())
                self.assertTrue(m.running(), m.log())
                m.proc.send_signal(signal.SIGTERM)
                notify.wait_for("STOPPING=1")
                self.assertEqual(m.proc.wait(15), 0, m.log())
                self.assertEqual(notify.senders, {m.proc.pid})
        finally:
            del os.environ["NOTIFY_SOCKET"]
            notify.close()

    def test_unit_file_verifies(self):
        m = Milter([probe_plugin()], start=False)
        try:
            with open(os.path.join(env_path("EHLOD_BUILDDIR"), "etc",
                                   "ehlod-milter.service")) as f:
                text = "\n" + f.read()
            start = unit_command(text, "ExecStart")
            check = unit_command(text, "ExecStartPre")
            self.assertEqual(check, [start[0], "-t", "-q"] + start[1:])
            self.assertEqual(unit_command(text, "ExecReload"), check)
            # The unit names the installed paths; point them at this build.
            verify_unit(self, "ehlod-milter.service",
                        {start[0]: milter_bin(), start[2]: m.conf}, m.dir)
            # What ExecStartPre runs, on this build's paths.
            code, out = run_milter("-t", "-q", "-c", m.conf)
            self.assertEqual((code, out.strip()), (0, ""))
        finally:
            m.cleanup()

    def test_check_quiet_prints_only_errors(self):
        m = Milter([probe_plugin()], start=False)
        try:
            code, out = run_milter("-t", "-c", m.conf)
            self.assertEqual(code, 0, out)
            self.assertIn("milterprobe", out)
            code, out = run_milter("-t", "-q", "-c", m.conf)
            self.assertEqual((code, out.strip()), (0, ""))
            with open(m.conf, "a") as f:
                f.write("no_such_option = 1\n")
            code, out = run_milter("-t", "-q", "-c", m.conf)
            self.assertEqual(code, 1, out)
            self.assertIn("no_such_option", out)
            code, out = run_milter("-q", "-c", m.conf)
            self.assertEqual(code, 2, out)
            self.assertIn("usage", out)
        finally:
            m.cleanup()


if __name__ == "__main__":
    main()
