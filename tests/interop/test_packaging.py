"""What an admin deploying ehlod relies on beyond SMTP:

- readiness for systemd: with $NOTIFY_SOCKET set (as systemd does for
  Type=notify) the master sends READY=1 once its workers run, RELOADING=1
  and READY=1 around SIGHUP, STOPPING=1 on SIGTERM;
- the installed unit (etc/ehlod.service, paths filled in by the build)
  passes systemd-analyze verify (no systemd runs here to start it);
- user = "root" is refused with FILE:LINE; "ehlod -t -q" prints only
  errors; pid_file holds the master's pid while it runs.
"""

import os
import signal
import subprocess
import tempfile
import unittest

from ehlodtest import (Ehlod, EhlodTestCase, NotifySocket, env_path, main,
                       run_ehlod)

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


class PackagingTest(EhlodTestCase):

    def test_sd_notify_ready_reloading_stopping(self):
        notify = NotifySocket()
        os.environ["NOTIFY_SOCKET"] = notify.path
        try:
            with Ehlod() as server:
                notify.wait_for("READY=1")
                server.signal(signal.SIGHUP)
                notify.wait_for("RELOADING=1")
                notify.wait_for("READY=1")
                server.signal(signal.SIGTERM)
                notify.wait_for("STOPPING=1")
                self.assertEqual(server.wait(15), 0)
        finally:
            del os.environ["NOTIFY_SOCKET"]
            notify.close()

    def test_unit_file_verifies(self):
        if not os.path.exists(SYSTEMD_ANALYZE):
            self.fail("systemd-analyze missing: install the Debian package "
                      "systemd")
        unit = os.path.join(env_path("EHLOD_BUILDDIR"), "etc",
                            "ehlod.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn("Type=notify", text)
        self.assertNotIn("@sbindir@", text)
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.write_config()
            # The unit names the installed paths; point them at this build.
            exec_path = text.split("ExecStart=")[1].split()[0]
            conf_path = text.split("ExecStart=")[1].split()[2]
            text = text.replace(exec_path, env_path("EHLOD_BIN"))
            text = text.replace(conf_path, server.conf_path)
            copy = os.path.join(server.dir, "ehlod.service")
            with open(copy, "w") as f:
                f.write(text)
            p = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", copy],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout.decode())
        finally:
            server.cleanup()

    def test_root_user_refused_with_file_line(self):
        server = Ehlod(start=False, user="root")
        try:
            server.port = 2525
            server.write_config()
            code, out = run_ehlod(["-t", "-c", server.conf_path])
            self.assertEqual(code, 1, out)
            self.assertRegex(out, r"%s:\d+: option 'user' must not be root"
                             % server.conf_path)
        finally:
            server.cleanup()

    def test_check_quiet_prints_only_errors(self):
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.write_config()
            code, out = run_ehlod(["-t", "-q", "-c", server.conf_path])
            self.assertEqual((code, out.strip()), (0, ""))
            with open(server.conf_path, "a") as f:
                f.write("no_such_option = 1\n")
            code, out = run_ehlod(["-t", "-q", "-c", server.conf_path])
            self.assertEqual(code, 1)
            self.assertIn("no_such_option", out)
        finally:
            server.cleanup()

    def test_check_creates_nothing(self):
        """ehlod -t checks the maildir without making it (no side
        effects); a real start then makes it; a file in the way of a
        folder is an error naming it."""
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.maildir = os.path.join(server.dir, "deep", "Maildir")
            server.plugins = [(n, dict(o, directory=server.maildir)
                               if n == "maildir" else o)
                              for n, o in server.plugins]
            server.write_config()
            code, out = run_ehlod(["-t", "-q", "-c", server.conf_path])
            self.assertEqual((code, out.strip()), (0, ""))
            self.assertFalse(os.path.exists(os.path.join(server.dir,
                                                         "deep")))
            with open(os.path.join(server.dir, "deep"), "w") as f:
                f.write("in the way\n")
            code, out = run_ehlod(["-t", "-q", "-c", server.conf_path])
            self.assertEqual(code, 1, out)
            self.assertRegex(out, r"(?i)/deep\S*: not a directory")
            os.unlink(os.path.join(server.dir, "deep"))
            server.start()
            self.assertTrue(os.path.isdir(os.path.join(server.maildir,
                                                       "new")))
        finally:
            server.cleanup()

    def test_pid_file_while_running(self):
        tmp = tempfile.mkdtemp(prefix="ehlod-pid-")
        path = os.path.join(tmp, "ehlod.pid")
        try:
            with Ehlod(pid_file=path) as server:
                with open(path) as f:
                    self.assertEqual(int(f.read()), server.pid)
                server.signal(signal.SIGTERM)
                self.assertEqual(server.wait(15), 0)
            self.assertFalse(os.path.exists(path))
        finally:
            if os.path.exists(path):
                os.unlink(path)
            os.rmdir(tmp)


if __name__ == "__main__":
    main()
