"""test_content_bounds - what one message can cost the worker.

- A 50 MiB header line without a line end costs about what 50 MiB of body
  costs (linear time): the header scan resumes where it stopped instead of
  starting over with every piece that arrives.  Worker CPU time, two runs
  side by side in one test; the margin is wide, the quadratic scan was 60
  times slower.
- The core stops keeping content once a plugin has refused the message
  (size's limit below message_size_limit): a 40 MB message over a 1 MB
  limit leaves the worker's peak memory (VmHWM) a few MB up, not 40 MB,
  and the client still gets 552 5.3.4 at the end.
"""

import os

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, status_kb

MIB = 1024 * 1024


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); 12 and 13 here
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send_data(server, content):
    """MAIL, RCPT, DATA, content and the end of data; the reply."""
    with server.raw(timeout=120) as s:
        ehlo(s)
        s.cmd("MAIL FROM:<s@x.test>")
        s.cmd("RCPT TO:<u@example.org>")
        r = s.cmd("DATA")
        if r.code != 354:
            raise AssertionError("DATA answered %r" % r)
        s.send(content)
        s.send(b".\r\n")
        return s.reply(timeout=120)


class ContentBoundsTest(EhlodTestCase):

    timeout = 240

    def test_long_header_line_costs_linear_time(self):
        with Ehlod(plugins=[("discard", {})],
                   message_size_limit=64 * MIB) as server:
            worker = server.started_workers()[0]
            line = b"a" * 998 + b"\r\n"
            body = b"Subject: x\r\n\r\n" + line * (50 * MIB // len(line))
            t0 = cpu_seconds(worker)
            self.assertCode(send_data(server, body), 250)
            t1 = cpu_seconds(worker)
            header = b"X-Long: " + b"a" * (50 * MIB) + b"\r\n\r\nbody\r\n"
            self.assertCode(send_data(server, header), 250)
            t2 = cpu_seconds(worker)
        body_cpu, header_cpu = t1 - t0, t2 - t1
        print("worker CPU: 50 MiB of body lines %.2fs, one 50 MiB header "
              "line %.2fs" % (body_cpu, header_cpu))
        self.assertLess(header_cpu, 4 * body_cpu + 1.0,
                        "the header line cost %.2fs against %.2fs for the "
                        "same octets as body" % (header_cpu, body_cpu))

    def test_refused_content_is_not_kept(self):
        # The sanitizer build keeps freed memory in quarantine, so every
        # octet read would count toward the peak; without quarantine it
        # measures the worker, not ASan.  (Ignored by a plain build.)
        asan = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
            "quarantine_size_mb=0"
        try:
            self.refused_content_is_not_kept()
        finally:
            if asan is None:
                del os.environ["ASAN_OPTIONS"]
            else:
                os.environ["ASAN_OPTIONS"] = asan

    def refused_content_is_not_kept(self):
        with Ehlod(plugins=[("size", {"limit": MIB}),
                            ("enhancedstatuscodes", {}), ("discard", {})],
                   message_size_limit=64 * MIB) as server:
            worker = server.started_workers()[0]
            before = status_kb(worker, "VmHWM")
            line = b"b" * 998 + b"\r\n"
            r = send_data(server, b"Subject: big\r\n\r\n" +
                          line * (40 * 1000 * 1000 // len(line)))
            self.assertCode(r, 552)
            self.assertEnhanced(r, "5.3.4")
            growth = status_kb(worker, "VmHWM") - before
            print("worker peak memory (VmHWM) grew %d KiB for a 40 MB "
                  "message over a 1 MiB limit" % growth)
            self.assertLess(growth, 12 * 1024,
                            "the worker kept %d KiB of a refused message"
                            % growth)
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("NOOP"), 250)


if __name__ == "__main__":
    main()
