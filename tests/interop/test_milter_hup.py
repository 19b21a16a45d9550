"""test_milter_hup - ehlod-milter reloads on SIGHUP, as ehlod does.

libmilter's own signal thread would stop a milter on SIGHUP, after which
the MTA applies milter_default_action to every message.  ehlod-milter's
master (milter/milter_master.c) takes SIGHUP itself: it checks the file,
starts a new generation with it, and lets the old one drain.  Checked with
miltertest and the milterprobe plugin, which rejects a client address:

  - the file is changed to reject another address and SIGHUP sent: the
    master is the same process, the new address is rejected and the old
    one passes, and the old generation exits once drained;
  - a connection open across the reload (a RCPT pending for pend_ms)
    keeps the configuration it started with and finishes (the drain
    waits for it); the next one has the new pend_ms;
  - a broken file on SIGHUP is refused with a log line and the running
    configuration stays in force;
  - a generation does not outlive a master killed with SIGKILL (it would
    keep the socket from the next master);
  - a reload moves milter_socket: an inet socket to another port, a unix
    socket to another path.  The new policy is served there at once; the
    old socket is still served (by the old generation) until the MTA has
    left it alone for 10 s, then it closes (the port refuses, the unix
    file is removed; the new file goes when the milter stops).  A move
    to another family, or to a port another process holds, fails the
    reload and the old socket serves.
"""

import os
import signal
import socket
import subprocess
import time

from ehlodtest import (EhlodTestCase, children_of, free_port, main, refused,
                       wait_for)
from milterharness import (Milter, connect_answer, miltertest,
                           miltertest_cmd, probe_plugin)


def generations(m):
    """PIDs of the master's children (the generations)."""
    return children_of(m.proc.pid)


class MilterHupTest(EhlodTestCase):
    timeout = 120

    def connect_verdict(self, m, ip, want):
        rc, out = miltertest("milter_connect.lua", port=m.port, ip=ip,
                             want=want)
        self.assertEqual(rc, 0, out + "\n---- milter log\n" + m.log())

    def rewrite(self, m, old, new):
        with open(m.conf) as f:
            text = f.read()
        with open(m.conf, "w") as f:
            f.write(text.replace(old, new))

    def test_reload_applies_milter_timeout(self):
        """libmilter drops an MTA that stops in the middle of a command
        for milter_timeout seconds; a new generation takes the new
        value.  (Between commands libmilter waits without a bound.)"""
        with Milter([probe_plugin()], milter_timeout=600) as m:
            self.rewrite(m, "milter_timeout = 600", "milter_timeout = 1")
            m.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "reloaded:" in m.log()),
                            m.log())
            self.assertNotIn("restart only", m.log())
            with socket.create_connection(("127.0.0.1", m.port)) as s:
                s.settimeout(10)
                s.sendall(b"\x00\x00")    # half a command's length
                start = time.monotonic()
                try:
                    data = s.recv(1)
                except socket.timeout:
                    self.fail("the stalled connection was kept 10 s:\n"
                              + m.log())
                self.assertEqual(data, b"")
                self.assertLess(time.monotonic() - start, 8)

    def test_sighup_applies_the_new_configuration(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            pid = m.proc.pid
            self.connect_verdict(m, "192.0.2.9", "replycode")
            first = generations(m)
            self.assertEqual(len(first), 1, m.log())
            self.rewrite(m, "192.0.2.9", "192.0.2.8")
            m.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "reloaded:" in m.log()),
                            m.log())
            self.assertEqual(m.proc.pid, pid)
            self.connect_verdict(m, "192.0.2.8", "replycode")
            self.connect_verdict(m, "192.0.2.9", "continue")
            self.assertTrue(wait_for(lambda: first[0] not in
                                     generations(m)), m.log())
            self.assertIn("drained", m.log())
            self.assertEqual(len(generations(m)), 1, m.log())
            self.assertTrue(m.running(), m.log())

    def test_open_connection_finishes_on_its_configuration(self):
        # milterprobe keeps the RCPT of slow@ pending for pend_ms: the
        # connection is open while the reload changes pend_ms.
        probe = probe_plugin({"pend_rcpt": ["slow@example.org"],
                              "pend_ms": 3000})
        with Milter([probe]) as m:
            slow = subprocess.Popen(
                miltertest_cmd("milter_pending.lua", port=m.port,
                               rcpt="slow@example.org", want="continue"),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT)
            try:
                time.sleep(0.5)
                self.rewrite(m, "3000", "20")
                m.proc.send_signal(signal.SIGHUP)
                self.assertTrue(wait_for(lambda: "reloaded:" in m.log()),
                                m.log())
                out, _ = slow.communicate(timeout=30)
            finally:
                if slow.poll() is None:
                    slow.kill()
                    slow.wait()
            self.assertEqual(slow.returncode, 0, out.decode() + m.log())
            self.assertIn("pending verdict for <slow@example.org> after "
                          "3000 ms", m.log())
            self.assertTrue(wait_for(lambda: "drained" in m.log()), m.log())
            rc, out = miltertest("milter_pending.lua", port=m.port,
                                 rcpt="slow@example.org", want="continue")
            self.assertEqual(rc, 0, out + m.log())
            self.assertIn("pending verdict for <slow@example.org> after "
                          "20 ms", m.log())

    def test_broken_file_keeps_the_running_configuration(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            first = generations(m)
            self.rewrite(m, "reject_client", "reject_klient")
            m.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "stays in force" in m.log()),
                            m.log())
            self.assertEqual(generations(m), first, m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")
            self.assertTrue(m.running(), m.log())

    def reload_to(self, m, old, new):
        gens = generations(m)
        self.rewrite(m, old, new)
        m.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reloaded:" in m.log() or
                                 "reload failed" in m.log()), m.log())
        return gens

    def test_reload_moves_inet_socket(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            old, new = m.port, free_port()
            first = self.reload_to(m, "inet:%d@127.0.0.1" % old,
                                   "inet:%d@localhost" % new)
            self.assertIn("reload: now listening on inet:%d@localhost "
                          "(was inet:%d@127.0.0.1)" % (new, old), m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")   # old
            m.port = new
            self.connect_verdict(m, "192.0.2.9", "replycode")
            self.assertTrue(wait_for(lambda: first[0] not in
                                     generations(m), timeout=30), m.log())
            # Its leader shows as a zombie while its other threads still
            # hold the socket for a moment.
            self.assertTrue(wait_for(lambda: refused(old), timeout=10),
                            "the old port still accepts:\n" + m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")

    def test_same_address_written_otherwise_is_no_move(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            self.reload_to(m, "@127.0.0.1", "@localhost")
            self.assertIn("reloaded:", m.log())
            self.assertNotIn("now listening", m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")

    def test_reload_moves_unix_socket(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})],
                    start=False) as m:
            a = os.path.join(m.dir, "a.sock")
            b = os.path.join(m.dir, "b.sock")
            self.rewrite(m, m.socket, "unix:" + a)
            m.start()
            first = self.reload_to(m, "a.sock", "b.sock")
            self.assertIn("reload: now listening on unix:%s" % b, m.log())
            for path in (a, b):     # the old one until the MTA leaves it
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(10)
                    s.connect(path)
                    self.assertEqual(connect_answer(s, "192.0.2.9"), b"y")
            self.assertTrue(wait_for(lambda: first[0] not in
                                     generations(m), timeout=30), m.log())
            # removed when the master reaps it
            self.assertTrue(wait_for(lambda: not os.path.exists(a)),
                            m.log())
            m.stop()
            self.assertFalse(os.path.exists(b), m.log())

    def test_move_to_other_family_fails_the_reload(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m:
            first = self.reload_to(
                m, m.socket, "unix:" + os.path.join(m.dir, "m.sock"))
            self.assertIn("another kind of socket", m.log())
            self.assertIn("reload failed", m.log())
            self.assertEqual(generations(m), first, m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")

    def test_move_to_taken_port_fails_the_reload(self):
        with Milter([probe_plugin({"reject_client": ["192.0.2.9"]})]) as m, \
                socket.socket() as squatter:
            squatter.bind(("127.0.0.1", free_port()))
            squatter.listen()
            taken = squatter.getsockname()[1]
            first = self.reload_to(m, "inet:%d@" % m.port,
                                   "inet:%d@" % taken)
            self.assertIn("cannot listen on inet:%d@127.0.0.1: Address "
                          "already in use" % taken, m.log())
            self.assertIn("reload failed", m.log())
            self.assertEqual(generations(m), first, m.log())
            self.connect_verdict(m, "192.0.2.9", "replycode")

    def test_generation_ends_when_the_master_dies(self):
        with Milter([probe_plugin({})]) as m:
            kids = generations(m)
            self.assertEqual(len(kids), 1, m.log())
            os.kill(m.proc.pid, signal.SIGKILL)
            m.proc.wait()

            def gone():
                return not os.path.exists("/proc/%d" % kids[0])
            self.assertTrue(wait_for(gone, timeout=20), m.log())


if __name__ == "__main__":
    main()
