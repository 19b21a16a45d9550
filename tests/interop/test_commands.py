"""Simple commands, unknown commands and the command line length limit.

VRFY 252, HELP 214, NOOP 250, RSET 250, QUIT 221 and close, an unknown
verb 500; a line longer than 512 octets plus the loaded plugins'
increments (SIZE adds 26) is answered 500 once and the session stays in
sync; too many errors end the session with 421.
"""

import re

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, run_ehlod

# Line increments (RFC 1869 section 3, item 7): SIZE 26 (RFC 1870);
# 8BITMIME at least 14 (" BODY=8BITMIME").
NO_INCREMENT = [("pipelining", {}), ("maildir", {})]
SIZE_ONLY = [("pipelining", {}), ("size", {"limit": 1000000}),
             ("maildir", {})]


def line_of(total, prefix):
    """A command line of exactly total octets, CRLF included."""
    pad = total - len(prefix) - 2
    assert pad > 0
    return prefix + "x" * pad + "\r\n"


class CommandsTest(EhlodTestCase):

    def test_noop_250(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("NOOP"), 250)
            ehlo(s)
            self.assertCode(s.cmd("NOOP"), 250)
            self.assertCode(s.cmd("NOOP some argument"), 250)

    def test_rset_250(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("RSET"), 250)

    def test_vrfy_252(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("VRFY u@example.org"), 252)

    def test_help_214(self):
        with Ehlod() as server, server.raw() as s:
            self.assertCode(s.cmd("HELP"), 214)
            self.assertCode(s.cmd("HELP MAIL"), 214)

    def test_quit_221_and_close(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("QUIT"), 221)
            self.assertTrue(s.wait_closed(5), "connection closed after 221")

    def test_unknown_command_500(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("FOOBAR baz"), 500)
            self.assertCode(s.cmd("XYZZY"), 500)
            self.assertCode(s.cmd("NOOP"), 250)

    def test_empty_line_500(self):
        with Ehlod() as server, server.raw() as s:
            r = s.cmd("")
            self.assertIn(r.code, (500, 501), r)
            self.assertCode(s.cmd("NOOP"), 250)

    def test_overlong_line_500_then_in_sync(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("NOOP " + "x" * 600 + "\r\n")
            self.assertCode(s.reply(), 500)
            self.assertCode(s.cmd("NOOP"), 250)
            self.assertTrue(s.quiet(0.3), "one reply per overlong line")

    def test_huge_line_one_500_then_in_sync(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("MAIL FROM:<" + "a" * 200000 + "@x.test>\r\n")
            self.assertCode(s.reply(), 500)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_overlong_mail_line_in_transaction_500(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            s.send(line_of(700, "RCPT TO:<u@example.org> X="))
            self.assertCode(s.reply(), 500)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)

    def test_512_octets_accepted_513_refused_500(self):
        # Without increments the limit is 512 octets, CRLF included.  The
        # long unknown parameter makes a line within the limit 555, not 500.
        with Ehlod(plugins=NO_INCREMENT) as server, server.raw() as s:
            ehlo(s)
            s.send(line_of(512, "MAIL FROM:<s@x.test> XLONG="))
            self.assertCode(s.reply(), 555)
            s.send(line_of(513, "MAIL FROM:<s@x.test> XLONG="))
            self.assertCode(s.reply(), 500)
            self.assertCode(s.cmd("NOOP"), 250)

    def test_size_increment_raises_limit_to_538_500(self):
        with Ehlod(plugins=SIZE_ONLY) as server, server.raw() as s:
            ehlo(s)
            s.send(line_of(538, "MAIL FROM:<s@x.test> XLONG="))
            self.assertCode(s.reply(), 555)
            s.send(line_of(539, "MAIL FROM:<s@x.test> XLONG="))
            self.assertCode(s.reply(), 500)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)

    def test_increments_add_up_500(self):
        # size (26) + 8bitmime (at least 14 for " BODY=8BITMIME"): the
        # limit ehlod -t reports must be that sum and enforced exactly.
        with Ehlod() as server:
            code, out = run_ehlod(["-t", "-c", server.conf_path])
            self.assertEqual(code, 0, out)
            m = re.search(r"line limit\D{0,20}(\d+)", out)
            self.assertIsNotNone(m, "ehlod -t shows no line limit:\n" + out)
            limit = int(m.group(1))
            self.assertGreaterEqual(limit, 512 + 26 + 14)
            with server.raw() as s:
                ehlo(s)
                s.send(line_of(limit, "MAIL FROM:<s@x.test> XLONG="))
                self.assertCode(s.reply(), 555)
                s.send(line_of(limit + 1, "MAIL FROM:<s@x.test> XLONG="))
                self.assertCode(s.reply(), 500)
                self.assertCode(s.cmd("NOOP"), 250)

    def test_pipelined_overlong_line_keeps_order_500(self):
        with Ehlod() as server, server.raw() as s:
            ehlo(s)
            s.send("NOOP\r\n" + "NOOP " + "y" * 2000 + "\r\n" + "RSET\r\n")
            self.assertEqual(s.codes(3), [250, 500, 250])

    def test_max_errors_421_and_close(self):
        with Ehlod(max_errors=3) as server, server.raw() as s:
            ehlo(s)
            codes = []
            try:
                for _ in range(6):
                    codes.append(s.cmd("BOGUS").code)
                    if codes[-1] == 421:
                        break
            except Exception as e:  # closed without a 421
                self.fail("connection ended without 421: %r %r" % (codes, e))
            self.assertIn(421, codes)
            self.assertTrue(s.wait_closed(5))


if __name__ == "__main__":
    main()
