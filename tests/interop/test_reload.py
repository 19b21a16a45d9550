"""SIGHUP reloads the config without dropping sessions: a session that
was open before the reload goes on and delivers through the old worker,
new sessions see the new config, and a broken config is refused while the
running one stays in force.
"""

import os
import signal
import smtplib
import socket
import stat
import time

from ehlodtest import (Ehlod, EhlodTestCase, RawSession, main, ehlo,
                       free_port, refused, run_ehlod, transaction, wait_for)


def wait_for_log(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return True
        time.sleep(0.05)
    return False


def set_size_limit(server, limit):
    server.plugins = [(n, dict(o, limit=limit) if n == "size" else o)
                      for n, o in server.plugins]
    server.write_config()


def size_offered(reply):
    for line in reply.lines:
        if line.upper().startswith("SIZE"):
            return line
    return None


class ReloadCase(EhlodTestCase):

    def assertRunningConfigKept(self, server):
        """After a failed reload: the server runs on, with the old SIZE
        offered, and takes a message."""
        self.assertTrue(server.running())
        with server.raw() as s:
            self.assertEqual(size_offered(ehlo(s)), "SIZE 1000000")
            self.assertCode(transaction(s), 250)


class ReloadTest(ReloadCase):

    def test_reload_keeps_open_session_250(self):
        with Ehlod() as server, server.raw() as old:
            self.assertEqual(size_offered(ehlo(old)), "SIZE 1000000")
            set_size_limit(server, 2000)
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            # The session begun before the reload is served to its end.
            self.assertCode(old.cmd("NOOP"), 250)
            self.assertCode(transaction(old), 250)
            self.assertEqual(len(server.delivered()), 1)
            with server.raw() as new:
                self.assertEqual(size_offered(ehlo(new)), "SIZE 2000")
                self.assertCode(new.cmd("QUIT"), 221)
            self.assertCode(old.cmd("QUIT"), 221)

    def test_old_worker_exits_after_its_last_session(self):
        with Ehlod(workers=1) as server:
            with server.raw() as old:
                ehlo(old)
                before = server.workers()
                self.assertEqual(len(before), 1)
                server.signal(signal.SIGHUP)
                self.assertTrue(wait_for_log(server, "reloaded"),
                                server.log())
                self.assertCode(old.cmd("QUIT"), 221)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                now = server.workers()
                if before[0] not in now and len(now) == 1:
                    break
                time.sleep(0.1)
            now = server.workers()
            self.assertNotIn(before[0], now, "old worker still running")
            self.assertEqual(len(now), 1, "one new worker")

    def test_broken_config_keeps_running_config(self):
        with Ehlod() as server:
            with open(server.conf_path, "a") as f:
                f.write("max_recipents = 5\n")
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reload failed"),
                            server.log())
            self.assertIn("no such option 'max_recipents'", server.log())
            self.assertRunningConfigKept(server)


def listening_inode(port):
    """The inode of the socket listening on 127.0.0.1:port, or None."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":     # LISTEN
                return fields[9]
    return None


class ListenChangeTest(ReloadCase):
    """A reload changes the listen addresses too: a new one is served, a
    dropped one refused once the old workers have seen the reload (a
    session open there goes on to its end), one both files name keeps its
    socket, and one that cannot be bound fails the whole reload."""

    def test_new_address_served_after_reload(self):
        with Ehlod() as server:
            new_port = free_port()
            server.extra_listen = ["127.0.0.1:%d" % new_port]
            server.write_config()
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            self.assertIn("reload: now listening on 127.0.0.1 port %d "
                          "(listener default)" % new_port, server.log())
            with smtplib.SMTP("127.0.0.1", new_port, timeout=10) as c:
                refused_rcpts = c.sendmail("s@x.test", ["u@example.org"],
                                           b"Subject: new\r\n\r\nhi\r\n")
            self.assertEqual(refused_rcpts, {})
            self.assertEqual(len(server.delivered()), 1)
            with server.raw() as s:
                self.assertCode(s.cmd("NOOP"), 250)

    def test_dropped_address_refused_its_open_session_ends_well(self):
        other = free_port()
        with Ehlod(extra_listen=["127.0.0.1:%d" % other]) as server:
            with RawSession(other) as old:
                ehlo(old)
                server.extra_listen = []
                server.write_config()
                server.signal(signal.SIGHUP)
                self.assertTrue(wait_for_log(server, "reloaded"),
                                server.log())
                self.assertIn("reload: no longer listening on 127.0.0.1 "
                              "port %d (listener default)" % other,
                              server.log())
                self.assertTrue(wait_for(lambda: refused(other)),
                                "port %d still accepts" % other)
                # Begun before the reload, served to its end.
                self.assertCode(transaction(old), 250)
                self.assertCode(old.cmd("QUIT"), 221)
            self.assertEqual(len(server.delivered()), 1)
            with server.raw() as s:
                self.assertCode(s.cmd("NOOP"), 250)

    def test_unchanged_address_keeps_its_socket(self):
        with Ehlod() as server:
            before = listening_inode(server.port)
            self.assertIsNotNone(before)
            set_size_limit(server, 3000)
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reloaded"), server.log())
            self.assertEqual(listening_inode(server.port), before)
            self.assertNotIn("listening on", server.log())
            with server.raw() as s:
                self.assertEqual(size_offered(ehlo(s)), "SIZE 3000")

    def test_address_taken_fails_the_reload(self):
        with Ehlod() as server, socket.socket() as squatter:
            squatter.bind(("127.0.0.1", free_port()))
            squatter.listen()
            taken = squatter.getsockname()[1]
            server.extra_listen = ["127.0.0.1:%d" % taken]
            set_size_limit(server, 3000)
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "reload failed"),
                            server.log())
            with open(server.conf_path) as f:
                line = next(n for n, text in enumerate(f, 1)
                            if text.startswith("listen"))
            self.assertIn("%s:%d: listener 'default': cannot listen on "
                          "127.0.0.1:%d: Address already in use"
                          % (server.conf_path, line, taken), server.log())
            self.assertNotIn("now listening", server.log())
            self.assertRunningConfigKept(server)


class SettingsReloadTest(ReloadCase):
    """The master's own settings follow a reload too: the pid file and
    the status socket move, and the log takes the new ident and debug."""

    def test_pid_file_and_status_socket_move(self):
        server = Ehlod(start=False)
        self.addCleanup(server.cleanup)
        first_pid, next_pid = (os.path.join(server.dir, n)
                               for n in ("first.pid", "next.pid"))
        first_status, next_status = (os.path.join(server.dir, n)
                                     for n in ("status1", "status2"))
        server.core.update(pid_file=first_pid, status_socket=first_status)
        server.start()
        with open(first_pid) as f:
            self.assertEqual(int(f.read()), server.pid)
        self.assertTrue(os.path.exists(first_status))
        server.core.update(pid_file=next_pid, status_socket=next_status)
        server.write_config()
        server.signal(signal.SIGHUP)
        self.assertTrue(wait_for_log(server, "reloaded"), server.log())
        self.assertFalse(os.path.exists(first_pid))
        with open(next_pid) as f:
            self.assertEqual(int(f.read()), server.pid)
        self.assertFalse(os.path.exists(first_status))
        self.assertEqual(stat.S_IMODE(os.stat(next_status).st_mode), 0o600)
        code, out = run_ehlod(["-s", "-c", server.conf_path])
        self.assertEqual(code, 0, out)
        self.assertIn("ehlod_reloads_total 1", out)
        server.stop()
        self.assertFalse(os.path.exists(next_pid))
        self.assertFalse(os.path.exists(next_status))

    def test_pid_file_that_cannot_be_written_fails_the_reload(self):
        server = Ehlod(start=False)
        self.addCleanup(server.cleanup)
        first_pid = os.path.join(server.dir, "first.pid")
        server.core["pid_file"] = first_pid
        server.start()
        server.core["pid_file"] = os.path.join(server.dir, "none", "x.pid")
        set_size_limit(server, 3000)
        server.signal(signal.SIGHUP)
        self.assertTrue(wait_for_log(server, "reload failed"), server.log())
        self.assertIn("pid_file %s: No such file or directory"
                      % server.core["pid_file"], server.log())
        with open(first_pid) as f:
            self.assertEqual(int(f.read()), server.pid)
        self.assertRunningConfigKept(server)

    def test_log_takes_the_new_name_and_debug(self):
        with Ehlod() as server:
            server.core.update(syslog_name="mx-in", debug=True)
            server.write_config()
            server.signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(server, "mx-in[%d]: reloaded"
                                         % server.pid), server.log())
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertTrue(wait_for_log(server, "from=<s@x.test>"),
                            server.log())
            line = [l for l in server.log().splitlines()
                    if "from=<s@x.test>" in l][0]
            self.assertRegex(line, r"mx-in\[\d+\]: debug: ")


if __name__ == "__main__":
    main()
