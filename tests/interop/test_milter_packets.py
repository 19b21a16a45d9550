"""ehlod-milter against malformed milter packets from the MTA side.

An MTA speaking the milter protocol is played here byte by byte, because
the real ones (Postfix, miltertest) always terminate their strings.  The
SMFIC_UNKNOWN case is the one libmilter hands over without a length: the
sanitizer build (make check with --enable-sanitizers) turns any read past
the packet into a report that fails the test; every build checks that the
milter answers, keeps running, and serves the next packets.
"""

import socket
import struct
import time
import unittest

from ehlodtest import main
from milterharness import (SMFI_VERSION, Milter, packet, probe_plugin,
                           read_answer, read_packet)

class MilterPacketsTest(unittest.TestCase):

    def session(self, milter):
        sock = socket.create_connection(("127.0.0.1", milter.port),
                                        timeout=10)
        sock.sendall(packet(b"O", struct.pack(">III", SMFI_VERSION,
                                              0x1ff, 0)))
        cmd, _ = read_packet(sock)
        self.assertEqual(cmd, b"O")
        sock.sendall(packet(b"C", b"client.test\0" + b"4" +
                            struct.pack(">H", 4321) + b"192.0.2.1\0"))
        self.assertEqual(read_answer(sock)[0], b"c")
        sock.sendall(packet(b"H", b"client.test\0"))
        self.assertEqual(read_answer(sock)[0], b"c")
        return sock

    def test_terminated_unknown_reaches_plugin_502(self):
        with Milter([probe_plugin()]) as milter:
            with self.session(milter) as sock:
                sock.sendall(packet(b"U", b"FOO\0"))
                cmd, data = read_answer(sock)
                self.assertEqual(cmd, b"y", data)
                self.assertIn(b"502", data)

    def test_unterminated_unknown_is_not_read_past(self):
        with Milter([probe_plugin()]) as milter:
            with self.session(milter) as sock:
                sock.sendall(packet(b"U", b"FOO"))
                cmd, _ = read_answer(sock)
                self.assertIn(cmd, (b"c", b"y"))
                # The connection still works afterwards.
                sock.sendall(packet(b"U", b"BAR\0"))
                self.assertIn(read_answer(sock)[0], (b"c", b"y"))
            time.sleep(0.2)
            self.assertTrue(milter.running(), milter.log())


if __name__ == "__main__":
    main()
