"""Enhanced status codes (RFC 2034, RFC 3463).

With enhancedstatuscodes loaded and offered (an EHLO session), every 2xx,
4xx and 5xx reply but the greeting and the EHLO/HELO reply carries an
enhanced code of the same class, with the usual values (5.7.1 relay
refused, 4.5.3 too many recipients, 5.3.4 too big, 5.5.4 bad parameter).
Without the plugin, or in a HELO session, no reply carries one.
"""

from ehlodtest import (Ehlod, EhlodTestCase, main, sample_message,
                       dot_stuff)

NO_ENHANCED = [("pipelining", {}), ("size", {"limit": 1000000}),
               ("8bitmime", {}), ("maildir", {})]


def exercise(s):
    """A session touching most replies; returns [(command, Reply)]."""
    seen = []

    def cmd(line):
        r = s.cmd(line)
        seen.append((line, r))
        return r

    cmd("NOOP")
    cmd("MAIL FROM:<s@x.test>")
    cmd("MAIL FROM:<s@x.test>")            # 503 nested
    cmd("RCPT TO:<u@example.org>")
    cmd("RCPT TO:<u@other.test>")          # relay refused
    cmd("RCPT TO:<u@@example.org>")        # 501
    cmd("RCPT TO:<v@example.org> FOO=1")   # 555 (or 555 after HELO)
    cmd("VRFY u@example.org")
    cmd("BOGUS")
    if cmd("DATA").code == 354:
        s.send(dot_stuff(sample_message()))
        seen.append(("end of data", s.reply()))
    cmd("RSET")
    cmd("HELP")
    cmd("QUIT")
    return seen


class EnhancedTest(EhlodTestCase):

    def test_every_reply_has_matching_enhanced_code(self):
        with Ehlod() as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertIn("ENHANCEDSTATUSCODES", r.lines)
            for line, reply in exercise(s):
                if reply.code // 100 in (2, 4, 5):
                    with self.subTest(command=line):
                        self.assertIsNotNone(reply.enhanced,
                                             "%s -> %r" % (line, reply))
                        self.assertEqual(reply.enhanced[0],
                                         str(reply.code // 100), reply)

    def test_usual_values(self):
        with Ehlod(max_recipients=2) as server, server.raw() as s:
            s.cmd("EHLO client.test")
            self.assertEnhanced(s.cmd("MAIL FROM:<s@x.test>"), "2.1.0")
            self.assertEnhanced(s.cmd("RCPT TO:<u@example.org>"), "2.1.5")
            self.assertEnhanced(s.cmd("RCPT TO:<u@other.test>"), "5.7.1")
            self.assertEnhanced(s.cmd("RCPT TO:<v@example.org> FOO=1"),
                                "5.5.4")
            self.assertEnhanced(s.cmd("RCPT TO:<v@example.org>"), "2.1.5")
            self.assertEnhanced(s.cmd("RCPT TO:<w@example.org>"), "4.5.3")
            self.assertEnhanced(s.cmd("MAIL FROM:<s@x.test>"), "5.5.1")
            self.assertCode(s.cmd("DATA"), 354)
            s.send(dot_stuff(sample_message()))
            self.assertEnhanced(s.reply(), "2.0.0")
            self.assertEnhanced(s.cmd("MAIL FROM:<s@x.test> SIZE=2000000"),
                                "5.3.4")
            self.assertEnhanced(s.cmd("QUIT"), "2.0.0")

    def test_not_loaded_no_enhanced_codes(self):
        with Ehlod(plugins=NO_ENHANCED) as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertNotIn("ENHANCEDSTATUSCODES", r.lines)
            for line, reply in exercise(s):
                with self.subTest(command=line):
                    self.assertIsNone(reply.enhanced,
                                      "%s -> %r" % (line, reply))

    def test_helo_session_no_enhanced_codes(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            for line, reply in exercise(s):
                with self.subTest(command=line):
                    self.assertIsNone(reply.enhanced,
                                      "%s -> %r" % (line, reply))

    def test_helo_after_ehlo_stops_enhanced_codes(self):
        with Ehlod() as server, server.raw() as s:
            s.cmd("EHLO client.test")
            self.assertIsNotNone(s.cmd("NOOP").enhanced)
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.assertIsNone(s.cmd("NOOP").enhanced)


if __name__ == "__main__":
    main()
