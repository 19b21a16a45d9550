"""Processes, sockets and signals: the worker count, privileges dropped
to "user" (nobody) when started as root, several listen addresses
(IPv4 and [IPv6]), SIGHUP reloading the config without cutting a
session, a bad config on reload keeping the old one, and many
concurrent sessions over several workers.
"""

import os
import pwd
import signal
import socket
import threading
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, transaction,
                       RawSession, sample_message, dot_stuff, free_port,
                       wait_for)


def proc_uids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def free_port6():
    return free_port(socket.AF_INET6)


class ProcessTest(EhlodTestCase):

    def test_worker_count(self):
        with Ehlod(workers=3) as server:
            workers = wait_for(lambda: len(server.workers()) == 3 and
                               server.workers())
            self.assertEqual(len(server.workers()), 3, workers)

    def test_privileges_dropped_to_nobody(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        nobody = pwd.getpwnam("nobody").pw_uid
        with Ehlod(workers=2) as server:
            workers = wait_for(server.workers)
            self.assertTrue(workers)
            for pid in workers:
                # A worker switches user once its plugins' init is done:
                # slower under the sanitizers.
                wait_for(lambda: proc_uids(pid) == [nobody] * 4)
                uids = proc_uids(pid)
                self.assertEqual(uids, [nobody] * 4,
                                 "worker %d runs as %r" % (pid, uids))
            with server.raw() as s:
                ehlo(s)
                self.assertCode(transaction(s), 250)
            new = os.path.join(server.maildir, "new")
            files = os.listdir(new)
            self.assertEqual(len(files), 1)
            self.assertEqual(os.stat(os.path.join(new, files[0])).st_uid,
                             nobody, "the message belongs to the run user")

    def test_ipv4_and_ipv6_listeners_220(self):
        try:
            port6 = free_port6()
        except OSError:
            self.skipTest("no IPv6 loopback")
        with Ehlod(extra_listen=["[::1]:%d" % port6]) as server:
            with server.raw() as s:
                self.assertCode(s.cmd("EHLO v4.test"), 250)
            sock = socket.create_connection(("::1", port6), timeout=10)
            try:
                greeting = sock.recv(512)
                self.assertTrue(greeting.startswith(b"220 "), greeting)
                sock.sendall(b"EHLO v6.test\r\n")
                reply = b""
                while not reply.endswith(b"\r\n") or b"250 " not in reply:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                self.assertTrue(reply.startswith(b"250-") or
                                reply.startswith(b"250 "), reply)
            finally:
                sock.close()
            self.assertIn("::1", server.log())

    def test_sighup_reload_keeps_session_250(self):
        with Ehlod() as server:
            with server.raw() as old:
                self.assertIn("SIZE 1000000", ehlo(old).lines)
                self.assertCode(old.cmd("MAIL FROM:<s@x.test>"), 250)
                server.plugins = [(n, dict(o, limit=2000) if n == "size"
                                   else o) for n, o in server.plugins]
                server.write_config()
                server.signal(signal.SIGHUP)

                def new_limit():
                    with server.raw() as s:
                        return "SIZE 2000" in ehlo(s).lines
                self.assertTrue(wait_for(new_limit, timeout=10),
                                "new sessions do not see the new config")
                # the old session was not cut and finishes its message
                self.assertCode(old.cmd("RCPT TO:<u@example.org>"), 250)
                self.assertCode(old.cmd("DATA"), 354)
                old.send(dot_stuff(sample_message()))
                self.assertCode(old.reply(), 250)
                # and is still not cut after it (DESIGN.md: a reload
                # drops no session)
                self.assertCode(old.cmd("NOOP"), 250)
                self.assertCode(old.cmd("QUIT"), 221)
            self.assertTrue(server.running())
            self.assertEqual(len(server.delivered()), 1)

    def test_sighup_bad_config_keeps_old_250(self):
        with Ehlod() as server:
            with open(server.conf_path, "a") as f:
                f.write("no_such_option = 1\n")
            server.signal(signal.SIGHUP)
            time.sleep(1.0)
            self.assertTrue(server.running(), "a bad reload stopped ehlod")
            with server.raw() as s:
                self.assertIn("SIZE 1000000", ehlo(s).lines)
                self.assertCode(transaction(s), 250)
            self.assertIn("no_such_option", server.log())

    def test_many_concurrent_sessions_250(self):
        sessions = 40
        results = [None] * sessions

        def client(i, port):
            try:
                with RawSession(port, timeout=20) as s:
                    ehlo(s, "c%d.test" % i)
                    results[i] = transaction(
                        s, sender="s%d@x.test" % i,
                        rcpts=["u%d@example.org" % i],
                        message=sample_message(subject="c%d" % i)).code
                    s.cmd("QUIT")
            except Exception as e:  # reported below
                results[i] = repr(e)

        with Ehlod(workers=2) as server:
            threads = [threading.Thread(target=client, args=(i, server.port),
                                        daemon=True)
                       for i in range(sessions)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(25)
            self.assertEqual(results, [250] * sessions)
            self.assertEqual(len(server.delivered()), sessions)


if __name__ == "__main__":
    main()
