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
import shutil
import signal
import tempfile

from ehlodtest import (Ehlod, EhlodTestCase, NotifySocket, env_path, main,
                       run_ehlod, unit_command, verify_unit)

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
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.write_config()
            with open(os.path.join(env_path("EHLOD_BUILDDIR"), "etc",
                                   "ehlod.service")) as f:
                start = unit_command("\n" + f.read(), "ExecStart")
            # The unit names the installed paths; point them at this build.
            verify_unit(self, "ehlod.service",
                        {start[0]: env_path("EHLOD_BIN"),
                         start[2]: server.conf_path}, server.dir)
        finally:
            server.cleanup()

    def test_root_user_refused_with_file_line(self):
        server = Ehlod(start=False, user="root")
        try:
            code, out = server.check()
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

    def test_check_quiet_hides_warnings(self):
        """A usable configuration prints nothing under -t -q, its
        warnings included; without -q the warning is there."""
        if not os.path.isdir("/dev/shm"):
            self.skipTest("no /dev/shm")
        shm = tempfile.mkdtemp(prefix="ehlod-shm-", dir="/dev/shm")
        self.addCleanup(shutil.rmtree, shm, True)
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.plugins = [(n, dict(o, directory=os.path.join(
                shm, "Maildir")) if n == "maildir" else o)
                for n, o in server.plugins]
            server.write_config()
            code, out = run_ehlod(["-t", "-c", server.conf_path])
            self.assertEqual(code, 0, out)
            self.assertIn("is on tmpfs: messages answered 250 are lost",
                          out)
            code, out = run_ehlod(["-t", "-q", "-c", server.conf_path])
            self.assertEqual((code, out.strip()), (0, ""))
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
