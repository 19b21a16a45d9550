"""What one client can make a session hold, and for how long.

- A client that never reads its replies stops being read: the worker's
  memory stays within the stated bound (256 KiB of input + 64 KiB of output
  per session) instead of growing with what it sends, and a write that
  makes no progress for command_timeout ends the session with no 421
  queued behind the ignored replies.
- A command line must be whole within command_timeout; DATA content must
  keep up min_data_rate: a client dripping one octet at a time is cut off
  with 421 and "timeout after VERB from unknown[IP]" in the log.
- Overlong command lines count toward max_errors.
- greet_pause: a client that talks before the greeting gets 554 5.5.1.
"""

import socket
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, ehlo, status_kb,
                       under_asan)


def send_without_reading(port, payload, seconds):
    """Send payload on a socket that never reads, for at most seconds;
    returns (socket, octets the kernel took)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    sent = 0
    deadline = time.monotonic() + seconds
    view = memoryview(payload)
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            sent += sock.send(view[sent:sent + 65536])
        except socket.timeout:
            continue	# the server has stopped reading: keep pushing
        except OSError:
            break	# the server has ended the session
    return sock, sent


class SessionBoundsTest(EhlodTestCase):

    def test_unread_replies_bound_worker_memory(self):
        with Ehlod() as server:
            worker = server.started_workers()[0]
            before = status_kb(worker, "VmRSS")
            payload = b"HELP\r\n" * (20 * 1024 * 1024 // 6)
            sock, sent = send_without_reading(server.port, payload, 8)
            try:
                time.sleep(0.5)
                growth = status_kb(worker, "VmRSS") - before
                print("worker RSS growth: %d KiB after %d octets sent "
                      "without reading" % (growth, sent))
                # Unbounded, 20 MB of HELP cost hundreds of MB.  The
                # session's buffers are bounded at about 320 KiB; the
                # margin is for the allocator.  Under AddressSanitizer
                # RSS also holds its quarantine of freed memory, which
                # grows with the replies written (each one freed as the
                # socket takes it), not with what the session holds: a
                # looser bound there, still far below unbounded.
                limit = 32768 if under_asan(worker) else 8192
                self.assertLess(growth, limit,
                                "worker grew %d KiB after %d octets"
                                % (growth, sent))
                self.assertLess(sent, len(payload),
                                "the server kept reading a client that "
                                "reads nothing")
            finally:
                sock.close()
            with server.raw() as s:
                self.assertCode(s.cmd("NOOP"), 250)

    def test_stalled_writes_end_session_without_421(self):
        with Ehlod(command_timeout=2) as server:
            payload = b"HELP\r\n" * (4 * 1024 * 1024 // 6)
            sock, _ = send_without_reading(server.port, payload, 3)
            try:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and \
                        "timeout after HELP" not in server.log():
                    time.sleep(0.2)
                self.assertIn("timeout after HELP from unknown[127.0.0.1]",
                              server.log())
                # Now read everything: the replies that were queued, then
                # the end of the connection, and no 421 among them.
                sock.settimeout(10)
                got = b""
                try:
                    while True:
                        chunk = sock.recv(1 << 20)
                        if not chunk:
                            break
                        got += chunk
                except ConnectionResetError:
                    pass	# unread input on the server's side
                self.assertNotIn(b"421 4.4.2", got)
            finally:
                sock.close()

    def test_slow_command_line_deadline_421(self):
        with Ehlod(command_timeout=3) as server, server.raw() as s:
            start = time.monotonic()
            s.send(b"EHLO ")
            code = None
            for octet in b"dripping.example.org\r\n":
                time.sleep(0.5)
                try:
                    s.send(bytes([octet]))
                except OSError:
                    break
                if not s.quiet(0.01):
                    break
            try:
                code = s.reply(timeout=10).code
            except Exception as e:	# pragma: no cover - shows in failure
                self.fail("no reply: %r" % e)
            elapsed = time.monotonic() - start
            self.assertEqual(code, 421)
            # The whole line takes 11 s to drip in; a per-read timeout
            # would have answered it 250 at the end.
            self.assertLess(elapsed, 10,
                            "the line deadline restarted with each octet")
            self.assertTrue(s.wait_closed(5))
            self.assertIn("timeout after CONNECT from unknown[127.0.0.1]",
                          server.log())

    def test_slow_data_below_min_rate_421(self):
        with Ehlod(data_timeout=3, min_data_rate=500) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            start = time.monotonic()
            closed = False
            while time.monotonic() - start < 15 and not closed:
                try:
                    s.send(b"x")
                except OSError:
                    break
                closed = not s.quiet(0.5)
            self.assertCode(s.reply(timeout=5), 421)
            self.assertLess(time.monotonic() - start, 14)
            self.assertIn("timeout after DATA from unknown[127.0.0.1]",
                          server.log())

    def test_data_at_min_rate_outlives_data_timeout_250(self):
        with Ehlod(data_timeout=2, min_data_rate=500) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("DATA"), 354)
            s.send(b"Subject: steady\r\n\r\n")
            start = time.monotonic()
            while time.monotonic() - start < 5:
                s.send(b"y" * 1000 + b"\r\n")
                time.sleep(0.25)
            self.assertCode(s.cmd("."), 250)

    def test_overlong_lines_count_toward_max_errors_421(self):
        with Ehlod(max_errors=5) as server, server.raw() as s:
            codes = []
            for _ in range(5):
                s.send(b"NOOP " + b"x" * 5000 + b"\r\n")
                codes.append(s.reply().code)
            self.assertEqual(codes[:4], [500] * 4)
            self.assertIn(421, [codes[4]] + [s.reply().code])
            self.assertTrue(s.wait_closed(5))

    def test_greet_pause_early_talker_554(self):
        with Ehlod(greet_pause=2) as server:
            with server.raw(read_greeting=False) as s:
                s.send(b"EHLO bot.example\r\n")
                r = s.reply(timeout=10)
                self.assertCode(r, 554)
                # No enhanced code: nothing has been offered before EHLO.
                self.assertIn("talked before the greeting", r.text)
                self.assertTrue(s.wait_closed(5))
            self.assertIn("early talker", server.log())

    def test_greet_pause_patient_client_220(self):
        with Ehlod(greet_pause=1) as server:
            start = time.monotonic()
            with server.raw(read_greeting=False) as s:
                self.assertCode(s.reply(timeout=10), 220)
                self.assertGreaterEqual(time.monotonic() - start, 0.9)
                self.assertCode(s.cmd("EHLO patient.example"), 250)


if __name__ == "__main__":
    main()
