"""test_logrotate - the shipped logrotate snippet against a running ehlod.

An admin who runs ehlod without systemd sends its standard error to a
file, with the shell's 2>> or 2>, and rotates that file with the
installed snippet (share/ehlod/logrotate/ehlod.logrotate: copytruncate,
since ehlod keeps no log file open by name).  Here logrotate itself (the
Debian package) forces a rotation of a running server's log, the
snippet's path pointed at that log:

  - the lines written before the rotation are in ehlod.log.1 (not yet
    compressed: delaycompress), and only there;
  - the next lines start the emptied ehlod.log at offset 0: no hole of
    NUL octets where the old file ended, even when the server's stderr
    was opened like 2> (without O_APPEND), which ehlod turns into
    appending itself.

Needs logrotate (Debian package logrotate).
"""

import os
import re
import shutil
import subprocess
import tempfile

from ehlodtest import (Ehlod, EhlodTestCase, ehlo, env_path, main,
                       make_tempdir, transaction)

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


def snippet_for(log_path):
    """The built snippet with its one file name replaced by log_path."""
    with open(os.path.join(env_path("EHLOD_BUILDDIR"), "etc",
                           "ehlod.logrotate")) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^\S+ \{$", log_path + " {", text)
    assert n == 1, "one file block in the snippet:\n" + text
    return text


class LogrotateTest(EhlodTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(LOGROTATE, os.X_OK):
            raise AssertionError("logrotate missing: install the Debian "
                                 "package logrotate")

    def send(self, server, helo):
        with server.raw() as s:
            ehlo(s, helo)
            self.assertCode(transaction(s, sender="s@x.test",
                                        rcpts=["u@example.org"]), 250)
            self.assertCode(s.cmd("QUIT"), 221)
        server.log_when(r"helo=<%s>" % re.escape(helo))

    def rotate(self, server):
        work = make_tempdir()
        conf = os.path.join(work, "ehlod.logrotate")
        with open(conf, "w") as f:
            f.write(snippet_for(server.log_path))
        # logrotate wants its configuration owned by the caller and
        # not writable by others.
        os.chmod(conf, 0o644)
        out = subprocess.run([LOGROTATE, "--force", "--state",
                              os.path.join(work, "state"), conf],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout)

    def rotation_keeps_every_line(self, log_mode):
        server = Ehlod(start=False)
        # Where an admin's log lives: a directory only its owner writes
        # (logrotate refuses others), not the server's world-writable one.
        server.log_path = os.path.join(tempfile.mkdtemp(
            prefix="ehlod-log-"), "ehlod.log")
        self.addCleanup(shutil.rmtree, os.path.dirname(server.log_path))
        server.log_mode = log_mode
        server.start()
        with server:
            self.send(server, "before-rotation.test")
            self.rotate(server)
            self.send(server, "after-rotation.test")
            with open(server.log_path, "rb") as f:
                now = f.read()
            with open(server.log_path + ".1", "rb") as f:
                rotated = f.read()
        self.assertEqual(now.count(b"\0"), 0,
                         "a hole of NULs where the old file ended, then %r"
                         % now.lstrip(b"\0")[:200])
        self.assertRegex(now, rb"^\d{4}-\d\d-\d\dT",
                         "the new log starts with a line at offset 0")
        self.assertIn(b"helo=<after-rotation.test>", now)
        self.assertNotIn(b"before-rotation.test", now)
        self.assertIn(b"helo=<before-rotation.test>", rotated)
        self.assertNotIn(b"after-rotation.test", rotated)

    def test_stderr_opened_for_appending(self):
        """As with 2>> (and as ehlodtest starts every server)."""
        self.rotation_keeps_every_line("ab")

    def test_stderr_opened_without_appending(self):
        """As with 2>: without ehlod's own O_APPEND the next line would
        land at the old end, behind a hole of NULs."""
        self.rotation_keeps_every_line("wb")


if __name__ == "__main__":
    main()
