"""Log lines an admin can grep (stderr in the foreground).

After a delivery the log has Postfix-like lines with a session id shared
by the session's lines, client=... with 127.0.0.1, helo=<name>,
from=<sender>, to=<recipient>, and the plugin that decided (plugin=maildir
for the delivery, plugin=size for a SIZE refusal, plugin=delay for a
delayed rejection).  Asserted loosely, by substrings.  A message costs
one line of its own (status=, which names sender and recipients), not one
per command; a transaction that ends without a message shows in the
disconnect line's mail= and rcpt= counts.  A plugin's warning at start
shows once per start or reload, not once more in every worker.  Under
systemd (JOURNAL_STREAM naming stderr) a line starts with its priority
for journald instead of a time stamp; test_systemd_live reads them back
from a real journal.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from ehlodtest import (DEFAULT_PLUGINS, Ehlod, EhlodTestCase, ehlod_bin,
                       main, ehlo, transaction)

ID_RE = re.compile(r"[A-Za-z0-9]*[0-9][A-Za-z0-9]*")


def lines_with(text, *needles):
    return [l for l in text.splitlines() if all(n in l for n in needles)]


def id_tokens(line):
    """Words of a line that could be a session id (letters and digits,
    at least one digit, at least 4 long), minus address-like ones."""
    words = re.findall(r"[A-Za-z0-9]+", line)
    return {w for w in words if len(w) >= 4 and ID_RE.fullmatch(w)
            and w not in ("127", "0000")}


def real_uid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_workers_past_init(server, exclude=(), timeout=10):
    """The workers (but those in exclude) once each has run its plugins'
    init: a worker switches to the run user right after it, so its uid
    is no longer root's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in server.workers() if p not in exclude]
        if len(pids) >= int(server.core["workers"]) and \
                all(real_uid(p) not in (None, 0) for p in pids):
            return pids
        time.sleep(0.05)
    raise AssertionError("workers not started:\n" + server.log())


class LoggingTest(EhlodTestCase):

    @unittest.skipUnless(os.geteuid() == 0,
                         "needs root: workers show the end of their init "
                         "by switching user")
    def test_init_warning_once_per_start_and_reload(self):
        marker = "init-warning-marker"
        plugins = DEFAULT_PLUGINS + [
            ("delay", {"rcpt_delay_ms": 0, "init_warning": marker})]
        with Ehlod(plugins=plugins, workers=3) as server:
            old = wait_workers_past_init(server)
            self.assertEqual(len(lines_with(server.log(), marker)), 1,
                             server.log())
            server.signal(signal.SIGHUP)
            server.log_when("reloaded")
            wait_workers_past_init(server, exclude=old)
            self.assertEqual(len(lines_with(server.log(), marker)), 2,
                             server.log())
            # the workers did run the plugin: it still answers
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(s), 250)

    def journal_run(self, names_stderr):
        """A server whose JOURNAL_STREAM names its stderr (as systemd sets
        it for a unit) or another file (stderr sent elsewhere by a shell
        inside the unit); a relay refusal and a plugin's warning logged.
        Returns the log."""
        marker = "journal-warning-marker"
        server = Ehlod(start=False, plugins=DEFAULT_PLUGINS + [
            ("delay", {"rcpt_delay_ms": 0, "init_warning": marker})])
        open(server.log_path, "ab").close()
        st = os.stat(server.log_path if names_stderr else server.dir)
        os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        try:
            server.start()
        finally:
            del os.environ["JOURNAL_STREAM"]
        with server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            return server.log_when(r"to=<u@other\.test>")

    def test_journal_gets_priorities_and_no_time_stamps(self):
        log = self.journal_run(names_stderr=True)
        lines = log.splitlines()
        self.assertTrue(all(re.match(r"<[0-7]>", l) for l in lines), log)
        self.assertRegex(log, r"(?m)^<4>warning: .*journal-warning-marker")
        self.assertRegex(log, r"(?m)^<6>\S+: .*reject: RCPT from .* 554 ")
        self.assertNotRegex(log, r"\d{4}-\d\d-\d\dT\d\d:\d\d")
        self.assertNotIn("ehlod[", log)

    def test_check_of_a_bad_file_in_journal_form(self):
        """ehlod -t as the units run it before a start or reload: every
        line of a refused file, its summary included, at priority err."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf, \
                tempfile.TemporaryFile() as err:
            conf.write('listen = {"127.0.0.1:1"}\nno_such_option = 1\n')
            conf.flush()
            st = os.fstat(err.fileno())
            env = dict(os.environ,
                       JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            rc = subprocess.run([ehlod_bin(), "-t", "-q", "-c", conf.name],
                                stdin=subprocess.DEVNULL, stdout=err,
                                stderr=err, env=env, timeout=30).returncode
            err.seek(0)
            lines = err.read().decode().splitlines()
        self.assertEqual(rc, 1)
        self.assertIn("<3>error: %s:2: no such option 'no_such_option'"
                      % conf.name, lines)
        self.assertEqual(lines[-1], "<3>ehlod: %s: configuration not usable"
                         % conf.name)
        self.assertTrue(all(l.startswith("<3>") for l in lines), lines)

    def test_journal_stream_of_another_file_keeps_time_stamps(self):
        log = self.journal_run(names_stderr=False)
        stamp = (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d "
                 r"ehlod\[\d+\]: ")
        self.assertTrue(all(re.match(stamp, l) for l in log.splitlines()),
                        log)
        self.assertNotRegex(log, r"(?m)^<\d>")

    def test_delivery_logged_250(self):
        with Ehlod() as server:
            with server.raw() as s:
                self.assertCode(s.cmd("EHLO client-name.test"), 250)
                self.assertCode(transaction(s, sender="s@x.test",
                                            rcpts=["u@example.org"]), 250)
                self.assertCode(s.cmd("QUIT"), 221)
            log = server.log_when(r"status=.*plugin=maildir")
        client_lines = lines_with(log, "client=", "127.0.0.1")
        self.assertTrue(client_lines, "no client= line:\n" + log)
        self.assertTrue(lines_with(log, "helo=", "client-name.test"),
                        "no helo= line:\n" + log)
        from_lines = lines_with(log, "from=<s@x.test>")
        self.assertTrue(from_lines, "no from=<...> line:\n" + log)
        to_lines = lines_with(log, "to=<u@example.org>")
        self.assertTrue(to_lines, "no to=<...> line:\n" + log)
        self.assertTrue(lines_with(log, "plugin=maildir"),
                        "the delivering plugin is not named:\n" + log)
        # one session id ties the session's lines together
        common = id_tokens(client_lines[-1]) & id_tokens(from_lines[-1]) \
            & id_tokens(to_lines[-1])
        self.assertTrue(common, "no shared session id in:\n%s\n%s\n%s"
                        % (client_lines[-1], from_lines[-1], to_lines[-1]))

    def test_relay_refusal_logged_554(self):
        with Ehlod() as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@other.test>"), 554)
            log = server.log_when(r"554.*to=<u@other\.test>|"
                                  r"to=<u@other\.test>.*554")
        lines = lines_with(log, "to=<u@other.test>")
        self.assertTrue(lines, "refused recipient not logged:\n" + log)
        self.assertTrue(any("554" in l for l in lines),
                        "the reply is not logged:\n" + log)

    def test_size_refusal_names_plugin_552(self):
        with Ehlod() as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test> SIZE=99999999"),
                                552)
            log = server.log_when(r"552.*plugin=size|plugin=size.*552")
        self.assertTrue(lines_with(log, "552", "plugin=size"),
                        "plugin=size not named:\n" + log)

    def test_delay_rejection_names_plugin_550(self):
        plugins = [("delay", {"rcpt_delay_ms": 100,
                              "rcpt_verdict": "reject"}),
                   ("maildir", {})]
        with Ehlod(plugins=plugins) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 550)
            log = server.log_when(r"plugin=delay.*to=<u@example\.org>|"
                                  r"to=<u@example\.org>.*plugin=delay")
        self.assertTrue(lines_with(log, "plugin=delay"),
                        "plugin=delay not named:\n" + log)
        self.assertTrue(lines_with(log, "to=<u@example.org>"), log)

    def test_two_sessions_two_ids(self):
        with Ehlod() as server:
            for name in ("first.test", "second.test"):
                with server.raw() as s:
                    self.assertCode(s.cmd("EHLO " + name), 250)
                    self.assertCode(s.cmd("MAIL FROM:<%s@x.test>"
                                          % name.split(".")[0]), 250)
                    self.assertCode(s.cmd("QUIT"), 221)
            log = server.log_when(r"disconnect from .* helo=<second\.test>")
        first = lines_with(log, "disconnect from", "helo=<first.test>",
                           " mail=1 rcpt=0 messages=0")
        second = lines_with(log, "disconnect from", "helo=<second.test>",
                            " mail=1 rcpt=0 messages=0")
        self.assertTrue(first and second, log)
        # One line per message: no from= or to= line of its own.
        self.assertEqual(lines_with(log, "from=<first@x.test>"), [], log)
        self.assertNotEqual(id_tokens(first[0]) - id_tokens(second[0]), set(),
                            "sessions are not told apart")


if __name__ == "__main__":
    main()
