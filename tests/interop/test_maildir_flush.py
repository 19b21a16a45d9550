"""maildir delivers off the event loop, with group commit, and never early.

An LD_PRELOAD shim, tests/plugins/slowfsync.c, makes fsync wait for a
gate file: of new/ with fsync_before_rename (fsync in tmp/, rename, fsync
new/), of each message's file with fsync_before_rename = no (wait for the
data, rename, fsync the file: the order auto takes on a journalled file
system).  In both orders:

- While the flush of one message is held, the same single worker greets
  a second client and answers its EHLO and NOOP, and the first client
  hears nothing: no 250 before the flush that covers its file.
- kill -9 while six messages are renamed into new/ and their flushes
  held: none of the clients got a 250.
- kill -9 of the whole server while clients deliver in a loop without the
  shim: every message that got its 250 is in new/, byte for byte.

With fsync_before_rename, group commit: with the first flush of new/
held, five more messages are renamed into it; once the gate opens, all
six get 250 after at most two directory flushes in all (one each
before).
"""

import os
import signal
import threading

from ehlodtest import (Ehlod, EhlodTestCase, RawSession, ConnectionClosed,
                       main, DEFAULT_PLUGINS,
                       sample_message, lf, transaction, ehlo, dot_stuff,
                       test_plugin_dir, wait_for)

WAIT = 20


def send_message(s, message):
    """MAIL, RCPT, DATA and the message, without waiting for the answer."""
    for line, code in (("MAIL FROM:<s@x.test>", 250),
                       ("RCPT TO:<u@example.org>", 250), ("DATA", 354)):
        r = s.cmd(line)
        if r.code != code:
            raise AssertionError("%s answered %r" % (line, r))
    s.send(dot_stuff(message))


def with_maildir(options):
    """The tests' usual plugins, maildir with options."""
    return [p for p in DEFAULT_PLUGINS if p[0] != "maildir"] + \
        [("maildir", options)]


POSIX_ORDER = {"fsync_before_rename": True}


class GatedFlush:
    """The shim holds every fsync of a directory (FILES: of a regular
    file) until the gate exists."""

    FILES = False
    MAILDIR = {}

    def setUp(self):
        super().setUp()
        self.tmp = Ehlod(start=False)
        self.gate = os.path.join(self.tmp.dir, "gate")
        self.saved = {k: os.environ.get(k) for k in
                      ("LD_PRELOAD", "EHLOD_TEST_FSYNC_GATE",
                       "EHLOD_TEST_FSYNC_GATE_FILES", "ASAN_OPTIONS")}
        shim = os.path.join(test_plugin_dir(), "slowfsync.so")
        os.environ["LD_PRELOAD"] = shim
        os.environ["EHLOD_TEST_FSYNC_GATE"] = self.gate
        os.environ["EHLOD_TEST_FSYNC_GATE_FILES"] = "1" if self.FILES \
            else "0"
        # The shim is not built with the sanitizer: it may come first.
        asan = os.environ.get("ASAN_OPTIONS", "")
        os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
            "verify_asan_link_order=0"
        self.server = Ehlod(workers=1, plugins=with_maildir(self.MAILDIR))
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def tearDown(self):
        self.open_gate()
        self.server.cleanup()
        self.tmp.cleanup()
        super().tearDown()

    def open_gate(self):
        with open(self.gate, "w"):
            pass

    def flushes(self):
        try:
            with open(self.gate + ".log") as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def new_files(self):
        return len(os.listdir(os.path.join(self.server.maildir, "new")))

    def test_other_session_served_while_flush_held_no_early_250(self):
        with self.server.raw() as a:
            ehlo(a)
            message = sample_message("held")
            send_message(a, message)
            self.assertTrue(wait_for(lambda: self.flushes() >= 1, WAIT),
                            "the flush never started")
            # One worker, its flush held: the loop must still serve b.
            with RawSession(self.server.port, timeout=5) as b:
                ehlo(b)
                self.assertCode(b.cmd("NOOP"), 250)
                self.assertCode(b.cmd("QUIT"), 221)
            self.assertTrue(a.quiet(0.5), "250 before new/ was flushed")
            self.open_gate()
            self.assertCode(a.reply(), 250)
        self.assertEqual([lf(message)], [d[-len(lf(message)):]
                                         for d in self.server.delivered()])

    def start_six(self):
        """One message whose flush is held, then five more renamed."""
        sessions = [RawSession(self.server.port) for _ in range(6)]
        for s in sessions:
            ehlo(s)
        send_message(sessions[0], sample_message("first"))
        self.assertTrue(wait_for(lambda: self.flushes() >= 1, WAIT))
        for i, s in enumerate(sessions[1:]):
            send_message(s, sample_message("next %d" % i))
        self.assertTrue(wait_for(lambda: self.new_files() == 6, WAIT),
                        "the five did not reach new/ during the flush")
        for s in sessions:
            self.assertTrue(s.quiet(0.1), "250 before new/ was flushed")
        return sessions

    def release_six(self):
        """start_six, then open the gate: each gets its 250, all six are
        in new/."""
        sessions = self.start_six()
        self.open_gate()
        for s in sessions:
            self.assertCode(s.reply(), 250)
            s.close()
        self.assertEqual(len(self.server.delivered()), 6)

    def test_kill_during_held_flushes_nothing_acknowledged(self):
        sessions = self.start_six()
        os.killpg(self.server.pid, signal.SIGKILL)
        for s in sessions:
            s.sock.settimeout(5)
            data = b""
            try:
                while True:
                    chunk = s.sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            self.assertNotIn(b"250", data, "acknowledged before the flush")
            s.close()


class GatedDirFlushTest(GatedFlush, EhlodTestCase):
    """fsync_before_rename: the flushes of new/ are held."""

    MAILDIR = POSIX_ORDER

    def test_group_commit_one_flush_covers_the_batch_250(self):
        self.release_six()
        self.assertLessEqual(self.flushes(), 2,
                             "five renames must share one flush of new/")


class GatedFileFlushTest(GatedFlush, EhlodTestCase):
    """fsync_before_rename = no: the flushes of the files, renamed
    already, are held.  Eight threads, so that each of the six holds its
    own."""

    FILES = True
    MAILDIR = {"threads": 8, "fsync_before_rename": "no"}

    def test_all_six_acknowledged_once_their_flushes_return(self):
        self.release_six()


class KillTest(EhlodTestCase):

    def test_kill_9_loses_nothing_acknowledged(self):
        self.kill_while_delivering({})

    def test_kill_9_loses_nothing_acknowledged_fsync_before_rename(self):
        self.kill_while_delivering(POSIX_ORDER)

    def kill_while_delivering(self, maildir):
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(n):
            try:
                with RawSession(server.port, timeout=5) as s:
                    ehlo(s)
                    i = 0
                    while not stop.is_set():
                        message = sample_message("c%d m%d" % (n, i))
                        if transaction(s, message=message).code == 250:
                            with lock:
                                acked.append(lf(message))
                        i += 1
            except (OSError, AssertionError, ConnectionClosed):
                pass	# the server died under us

        with Ehlod(workers=2, plugins=with_maildir(maildir)) as server:
            threads = [threading.Thread(target=client, args=(n,))
                       for n in range(8)]
            for t in threads:
                t.start()
            self.assertTrue(wait_for(lambda: len(acked) >= 50, WAIT),
                            "too few deliveries before the kill")
            os.killpg(server.pid, signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(WAIT)
            with lock:
                got = list(acked)
            delivered = server.delivered()
            for message in got:
                self.assertTrue(any(d.endswith(message) for d in delivered),
                                "acknowledged but not in new/: %r"
                                % message[:200])


if __name__ == "__main__":
    main()
