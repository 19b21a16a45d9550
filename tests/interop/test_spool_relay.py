"""test_spool_relay - a spooled message relayed to the next hop.

With spool_threshold at 4096 octets, a message of about 1 MiB goes through
the unlinked spool file and the relay plugin reads it back from there:
aiosmtpd, the next hop, gets a body byte-identical (sha256) to what was
sent, and the spool directory is empty afterwards.

A 32 MiB message with lines that start with a dot goes the same way,
and the relay holds no copy of it: the client library pulls it from the
spool as the next hop takes it (host->message_pread), so the worker's
peak resident set stays under 16 MiB (before, it held the whole
message).  The memory check is skipped under AddressSanitizer, whose
quarantine keeps freed pieces resident by design.  Nor does the event
loop read the spool: the worker's main thread reads about each octet
once (the client's socket), while its spool thread reads the file twice
(the client library measures the message, then sends it), through
host->message_pread_nowait (per-thread /proc/PID/task/TID/io).
"""

import base64
import hashlib
import os
import shutil
import smtplib

from ehlodtest import (Ehlod, EhlodTestCase, main,
                       make_tempdir)
from test_client_support import Aiosmtpd
from test_spool import big_body, split, thread_io

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)


class SpoolRelayTest(EhlodTestCase):

    timeout = 240

    def test_relayed_body_identical_250(self):
        spool = make_tempdir("ehlod-spool-")
        self.addCleanup(shutil.rmtree, spool, True)
        content = big_body()
        with Aiosmtpd(size=10000000) as hop:
            relay = {"next_hop": "smtp://127.0.0.1:%d" % hop.port,
                     "timeout": 60, "domains": ["example.org"]}
            with Ehlod(plugins=[("size", {"limit": 10000000}),
                                ("8bitmime", {}), ("relay", relay)],
                       spool_threshold=4096, spool_directory=spool) as srv:
                with smtplib.SMTP("127.0.0.1", srv.port, timeout=120) as c:
                    c.ehlo("client.test")
                    c.mail("s@x.test")
                    c.rcpt("u@example.org")
                    code, _text = c.data(content)
                self.assertEqual(code, 250)
                self.assertEqual(os.listdir(spool), [],
                                 "a spool file was left behind")
            got = hop.received()
        self.assertEqual(len(got), 1)
        data = base64.b64decode(got[0]["content"])
        head, body = split(data, b"\r\n")
        self.assertIn(b"Subject: spool", head)
        sent = split(content, b"\r\n")[1]
        self.assertEqual(len(body), len(sent))
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(sent).hexdigest(),
                         "the relayed body differs from what was sent")

    def test_large_message_streamed_not_held(self):
        spool = make_tempdir("ehlod-spool-")
        self.addCleanup(shutil.rmtree, spool, True)
        content = dotted_body(32)
        with Aiosmtpd(size=40000000) as hop:
            relay = {"next_hop": "smtp://127.0.0.1:%d" % hop.port,
                     "timeout": 120, "domains": ["example.org"]}
            with Ehlod(plugins=[("size", {"limit": 40000000}),
                                ("relay", relay)],
                       spool_threshold=65536, spool_directory=spool) as srv:
                worker = srv.started_workers()[0]
                peak = PeakWatch(worker)
                before = thread_io(worker)
                with smtplib.SMTP("127.0.0.1", srv.port, timeout=240) as c:
                    c.ehlo("client.test")
                    c.mail("s@x.test")
                    c.rcpt("u@example.org")
                    code, _text = c.data(content)
                peak.stop()
                after = thread_io(worker)
                self.assertEqual(code, 250)
            got = hop.received()
        self.assertEqual(len(got), 1)
        data = base64.b64decode(got[0]["content"])
        body = split(data, b"\r\n")[1]
        sent = split(content, b"\r\n")[1]
        self.assertEqual(len(body), len(sent))
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(sent).hexdigest(),
                         "the relayed body differs from what was sent")
        loop = after[worker]["rchar"] - before.get(worker, {}).get(
            "rchar", 0)
        others = sum(io["rchar"] - before.get(tid, {}).get("rchar", 0)
                     for tid, io in after.items() if tid != worker)
        self.assertLess(loop, 1.25 * len(content),
                        "the event loop read the spool file")
        self.assertGreater(others, 1.9 * len(content),
                           "the spool thread did not read the message")
        if peak.asan:
            return
        self.assertLess(peak.kib, 16 * 1024,
                        "the worker held the message: peak %d KiB" % peak.kib)


def dotted_body(mib):
    """mib MiB of lines, every third starting with a dot (stuffed on the
    wire, and unstuffed again by the next hop)."""
    lines = []
    size = 0
    i = 0
    while size < mib * 1024 * 1024:
        line = b"%s%08d relayed without a copy of the whole\r\n" % (
            b"." if i % 3 == 0 else b"", i)
        lines.append(line)
        size += len(line)
        i += 1
    return b"Subject: stream\r\nFrom: <s@x.test>\r\n\r\n" + b"".join(lines)


class PeakWatch:
    """The worker's VmHWM (peak resident set) once stopped; asan says
    whether AddressSanitizer runs in it (its RSS then means little)."""

    def __init__(self, pid):
        self.pid = pid
        with open("/proc/%d/maps" % pid) as f:
            self.asan = "libasan" in f.read()
        self.kib = 0

    def stop(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    self.kib = int(line.split()[1])


if __name__ == "__main__":
    main()
