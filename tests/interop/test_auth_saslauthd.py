#!/usr/bin/env python3
"""
NAME
    test_auth_saslauthd - AUTH through saslauthd and PAM, off the loop

DESCRIPTION
    A real saslauthd (Debian's sasl2-bin, "-a pam") checks the logins
    through a PAM service of the test's own, /etc/pam.d/ehlod-test-PID
    (removed afterwards), named by the auth plugin's service option.  Its
    one auth step, pam_exec, runs a script that sleeps 2 s and then
    accepts the user alice only: a slow check, as PAM's delay after a
    wrong password is.

    - smtplib logs in as alice (235) and fails as bob (535): the login
      goes through saslauthd and PAM, and the service option names the
      PAM service.
    - With one worker, while one client's AUTH waits for PAM, a second
      client connects and gets its greeting, EHLO and NOOP answered
      while the first client's 535 has not come yet.  When SASL's check
      ran in the event loop, the second client's greeting came only
      after the first client's 535.
    - A check that never comes back (PAM hangs for the user "hang")
      does not keep a stopping server from ending: the worker waits
      STOP_WAIT s for it after the last session, says so in the log and
      ends.  It used to wait for as long as PAM did.
    - A client that leaves while its check runs costs nothing: the
      next login in the same worker succeeds, the worker lives on, and
      under valgrind (ehlod itself run by it) no process reports an
      error: ASan cannot see the reads of libsasl2, which it did not
      build, and this is how a use after free of the session's SASL
      callbacks was found.
    - Debian keeps saslauthd's socket in a directory of group sasl, mode
      0710, and the admin adds the server's user to that group: with the
      socket's directory so, a user of the test's own (made by useradd,
      in a group of its own made by groupadd, both removed afterwards)
      logs alice in, through that group; "ehlod -t" refuses the
      configuration for nobody, who is not in the group, naming the
      socket and the user, and lets a socket that is not there yet
      (saslauthd not started) pass with a warning.

    A run killed half way leaves its PAM file, user and group behind
    (ehlod-test-PID): the next run removes those whose PID has gone.

    Skipped (exit 77) without root, saslauthd or pam_exec.
"""
import base64
import glob
import grp
import os
import re
import shutil
import signal
import smtplib
import subprocess
import time
import unittest

from ehlodtest import (DEFAULT_PLUGINS, Ehlod, EhlodTestCase, check_config,
                       ehlo, main, make_tempdir)

SASLAUTHD = shutil.which("saslauthd") or (
    "/usr/sbin/saslauthd" if os.path.exists("/usr/sbin/saslauthd")
    else None)
PAM_EXEC = glob.glob("/lib/*/security/pam_exec.so") + \
    glob.glob("/usr/lib/*/security/pam_exec.so")
SERVICE = "ehlod-test-%d" % os.getpid()
PAM_FILE = os.path.join("/etc/pam.d", SERVICE)
SLOW = 2	# seconds PAM takes for every login
HANG = 60	# and for the user "hang": longer than any test waits
STOP_WAIT = 5	# auth_step.h: AUTH_STEP_STOP_WAIT
WAIT = 20
FILES = {}


def plain(user, password):
    raw = ("\0%s\0%s" % (user, password)).encode()
    return base64.b64encode(raw).decode()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_leftovers():
    """What a run killed half way left: its PAM file, user and group,
    each named ehlod-test-PID (the user with a "u"), PID no longer
    running."""
    stale = re.compile(r"ehlod-test-(\d+)(u?)$")
    for path in glob.glob("/etc/pam.d/ehlod-test-*"):
        m = stale.match(os.path.basename(path))
        if m and not m.group(2) and not pid_alive(int(m.group(1))):
            os.unlink(path)
    for db, cmd in (("/etc/passwd", "userdel"), ("/etc/group", "groupdel")):
        with open(db) as f:
            names = [line.split(":", 1)[0] for line in f]
        for name in names:
            m = stale.match(name)
            if m and not pid_alive(int(m.group(1))):
                subprocess.run([cmd, name], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, timeout=WAIT)


def setUpModule():
    if os.geteuid() != 0 or SASLAUTHD is None or not PAM_EXEC:
        raise unittest.SkipTest("needs root, saslauthd (sasl2-bin) and "
                                "pam_exec")
    remove_leftovers()
    d = make_tempdir("ehlod-saslauthd-")
    FILES["dir"] = d
    # The workers run as nobody: they must reach saslauthd's socket.
    os.chmod(d, 0o755)
    check = os.path.join(d, "check")
    with open(check, "w") as f:
        # saslauthd serves one check at a time: a test that hangs it
        # ends the hang (hang.pid) before the next one logs in.
        f.write("#!/bin/sh\n[ \"$PAM_USER\" = hang ] && "
                "{ echo $$ > %s/hang.pid; exec sleep %s; }\n"
                "sleep %s\n[ \"$PAM_USER\" = alice ]\n" % (d, HANG, SLOW))
    os.chmod(check, 0o755)
    with open(PAM_FILE, "w") as f:
        f.write("auth required pam_exec.so quiet %s\n"
                "account required pam_permit.so\n" % check)
    run = os.path.join(d, "run")
    os.mkdir(run)
    os.chmod(run, 0o755)
    FILES["mux"] = os.path.join(run, "mux")
    FILES["log"] = open(os.path.join(d, "saslauthd.log"), "w")
    FILES["saslauthd"] = subprocess.Popen(
        [SASLAUTHD, "-a", "pam", "-m", run, "-n", "0", "-d"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=FILES["log"],
        # At SIGTERM saslauthd signals its whole process group.
        start_new_session=True)
    deadline = time.monotonic() + WAIT
    while not os.path.exists(FILES["mux"]):
        if time.monotonic() > deadline or \
                FILES["saslauthd"].poll() is not None:
            tearDownModule()
            raise AssertionError("saslauthd did not start")
        time.sleep(0.05)


def tearDownModule():
    proc = FILES.get("saslauthd")
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if "log" in FILES:
        FILES["log"].close()
    if os.path.exists(PAM_FILE):
        os.unlink(PAM_FILE)
    shutil.rmtree(FILES.get("dir", "/nonexistent"), ignore_errors=True)


def plugins():
    auth = {"pwcheck_method": "saslauthd",
            "saslauthd_path": FILES["mux"],
            "mech_list": "PLAIN",
            "allow_plaintext": True,
            "service": SERVICE}
    return [p for p in DEFAULT_PLUGINS if p[0] != "maildir"] + \
        [("auth", auth), ("maildir", {})]


def leave_then_login(test, server, settle=0.2):
    """A client sends AUTH and leaves while PAM checks; once the step is
    back, another client logs in (235)."""
    with server.raw() as gone:
        ehlo(gone)
        gone.send("AUTH PLAIN %s\r\n" % plain("alice", "x"))
        time.sleep(settle)	# the check is under way
    time.sleep(SLOW + 0.5)	# the step is back by now
    with smtplib.SMTP("127.0.0.1", server.port, timeout=WAIT) as c:
        code, _ = c.login("alice", "anything")
        test.assertEqual(code, 235)


class SaslauthdTest(EhlodTestCase):

    def test_login_through_pam(self):
        with Ehlod(plugins=plugins()) as server:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=WAIT) as c:
                code, _ = c.login("alice", "anything")
                self.assertEqual(code, 235)
            with smtplib.SMTP("127.0.0.1", server.port, timeout=WAIT) as c:
                with self.assertRaises(smtplib.SMTPAuthenticationError) \
                        as caught:
                    c.login("bob", "anything")
                self.assertEqual(caught.exception.smtp_code, 535)
            log = server.log()
        self.assertIn("sasl_method=PLAIN, sasl_username=alice", log)
        self.assertIn("SASL PLAIN authentication failed", log)

    def test_other_sessions_go_on_while_pam_checks(self):
        with Ehlod(plugins=plugins(), workers=1) as server, \
                server.raw() as slow:
            ehlo(slow)
            slow.send("AUTH PLAIN %s\r\n" % plain("bob", "wrong"))
            time.sleep(0.2)	# the check is under way in PAM
            with server.raw() as other:
                ehlo(other)
                self.assertCode(other.cmd("NOOP"), 250)
                # Nothing for the first client yet: PAM still sleeps.
                self.assertTrue(slow.quiet(0.05),
                                "the second session was served only "
                                "after the first one's check")
            self.assertCode(slow.reply(timeout=WAIT), 535)

    def test_client_gone_during_the_check(self):
        # The session ends while a thread still has its SASL connection:
        # the step comes back to nobody, and the connection is disposed
        # of then.
        with Ehlod(plugins=plugins(), workers=1) as server:
            worker = server.started_workers()
            leave_then_login(self, server)
            # The same worker served the login: none crashed.
            self.assertEqual(server.workers(), worker)
            log = server.log()
        self.assertEqual(log.count("sasl_username=alice"), 1, log)
        self.assertNotIn("ERROR", log)
        self.assertNotIn("signal", log)


def sh(*cmd):
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, timeout=WAIT)


class SocketGroupTest(EhlodTestCase):
    """saslauthd's socket reached through the user's supplementary group,
    as Debian lays it out (root:sasl, 0710)."""

    def setUp(self):
        self.group = "ehlod-test-%d" % os.getpid()
        self.user = self.group + "u"
        sh("groupadd", "--system", self.group)
        self.addCleanup(sh, "groupdel", self.group)
        sh("useradd", "--system", "--no-create-home", "--home-dir",
           "/nonexistent", "--shell", "/usr/sbin/nologin", "--groups",
           self.group, self.user)
        self.addCleanup(sh, "userdel", self.user)
        run = os.path.dirname(FILES["mux"])
        os.chown(run, 0, grp.getgrnam(self.group).gr_gid)
        os.chmod(run, 0o710)
        self.addCleanup(os.chmod, run, 0o755)
        self.addCleanup(os.chown, run, 0, 0)

    def test_login_through_the_users_group(self):
        with Ehlod(plugins=plugins(), user=self.user) as server:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=WAIT) as c:
                code, _ = c.login("alice", "anything")
                self.assertEqual(code, 235)
            log = server.log()
        self.assertIn("sasl_username=alice", log)

    def test_check_refuses_a_user_outside_the_group(self):
        code, out = check_config(plugins(), user="nobody")
        self.assertEqual(code, 1, out)
        self.assertIn("saslauthd_path %s: user nobody cannot connect: "
                      "Permission denied" % FILES["mux"], out)

    def test_check_lets_a_socket_not_there_yet_pass(self):
        absent = os.path.join(FILES["dir"], "not-started", "mux")
        auth = dict(plugins()[-2][1], saslauthd_path=absent)
        self.assertEqual(plugins()[-2][0], "auth")
        code, out = check_config([p if p[0] != "auth" else ("auth", auth)
                                  for p in plugins()], user=self.user)
        self.assertEqual(code, 0, out)
        self.assertIn("saslauthd_path %s: No such file or directory "
                      "(saslauthd not running yet?)" % absent, out)


class HungCheckTest(EhlodTestCase):

    def end_hang(self):
        path = os.path.join(FILES["dir"], "hang.pid")
        try:
            with open(path) as f:
                os.kill(int(f.read()), signal.SIGKILL)
            os.unlink(path)
        except (OSError, ValueError):
            pass

    def test_stop_does_not_wait_for_a_hung_check(self):
        self.addCleanup(self.end_hang)
        with Ehlod(plugins=plugins(), workers=1) as server:
            with server.raw() as gone:
                ehlo(gone)
                gone.send("AUTH PLAIN %s\r\n" % plain("hang", "x"))
                time.sleep(0.5)	# the check is under way, and hangs
            # The 2 s a stopping worker gives plugins' own events, then
            # STOP_WAIT, and some room; past it stop() kills the server.
            limit = 2 + STOP_WAIT + 5
            start = time.monotonic()
            server.stop(timeout=limit)
            took = time.monotonic() - start
            log = server.log()
        self.assertEqual(server.returncode, 0, "killed after %.1f s: %s"
                         % (took, log))
        self.assertLess(took, limit, log)
        self.assertIn("1 password check still waiting %d s" % STOP_WAIT,
                      log)


class ValgrindTest(EhlodTestCase):
    """libsasl2 is not built with ASan, so ASan cannot see what SASL
    reads in a step's thread after the session ended; valgrind can.
    Under valgrind (when installed, and the build is not ASan's), a
    client leaves during its check, another logs in, and valgrind's log
    of every ehlod process holds no error and no definite leak."""

    def setUp(self):
        super().setUp()
        valgrind = shutil.which("valgrind")
        real = os.environ.get("EHLOD_BIN", "")
        if valgrind is None or not os.path.exists(real):
            self.skipTest("needs valgrind")
        ldd = subprocess.run(["ldd", real], capture_output=True, text=True)
        if "libasan" in ldd.stdout:
            self.skipTest("an ASan build cannot run under valgrind")
        self.logs = make_tempdir("ehlod-valgrind-")
        wrapper = os.path.join(self.logs, "ehlod")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s --quiet --leak-check=full "
                    "--show-possibly-lost=no --errors-for-leak-kinds=definite "
                    "--log-file=%s/%%p.log "
                    "%s \"$@\"\n" % (valgrind, self.logs, real))
        os.chmod(wrapper, 0o755)
        os.environ["EHLOD_BIN"] = wrapper
        self.addCleanup(os.environ.__setitem__, "EHLOD_BIN", real)
        self.addCleanup(shutil.rmtree, self.logs, True)

    def test_session_gone_during_check(self):
        with Ehlod(plugins=plugins(), workers=1) as server:
            leave_then_login(self, server, settle=0.5)
        reports = {}
        for name in os.listdir(self.logs):
            if name.endswith(".log"):
                with open(os.path.join(self.logs, name)) as f:
                    text = f.read()
                if text:
                    reports[name] = text
        self.assertTrue([n for n in os.listdir(self.logs)
                         if n.endswith(".log")], "valgrind wrote no log")
        self.assertEqual(reports, {})


if __name__ == "__main__":
    main()
