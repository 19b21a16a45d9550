"""Plugin verbs, MAIL/RCPT parameters and hook verdicts through the core,
with the fixture plugin built from tests/unit/test_fixture_plugin.c.

The keyword XFIXTURE with its per-session parameter (or not offered at
all); verbs dispatched case-insensitively in their states (503 outside),
with the argument rules (501); a parameter's value rule (501) checked by
the host before its handler, the handler's own 501, 555 when the keyword
was not offered or after HELO; a hook's REJECT (550 5.1.1) and TEMPFAIL
(450) with the reply the plugin set, and the plugin named in the log.
With the replier test plugin: a reply a plugin set before answering
CONTINUE is neither a later plugin's REJECT reply nor the final 250.
"""

import os

from ehlodtest import Ehlod, EhlodTestCase, main, ehlo, test_plugin_dir


def fixture(**options):
    return [("pipelining", {}), ("enhancedstatuscodes", {}),
            ("fixture", options), ("maildir", {})]


class PluginApiTest(EhlodTestCase):

    def test_keyword_with_session_params_250(self):
        with Ehlod(plugins=fixture(param="p1")) as server, server.raw() as s:
            r = ehlo(s)
            self.assertEqual(r.lines[1:], ["PIPELINING", "ENHANCEDSTATUSCODES",
                                           "XFIXTURE p1"])

    def test_keyword_without_params_250(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            self.assertIn("XFIXTURE", ehlo(s).lines[1:])

    def test_keyword_not_offered_param_555(self):
        with Ehlod(plugins=fixture(offer=False)) as server, server.raw() as s:
            r = ehlo(s)
            self.assertFalse(any(l.startswith("XFIXTURE") for l in r.lines))
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XFIX=1"), 555)

    def test_verb_after_ehlo_250(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            r = s.cmd("XHELLO world")
            self.assertCode(r, 250)
            self.assertIn("hello world", r.text)
            self.assertCode(s.cmd("xhello"), 250)

    def test_verb_in_its_states_250_else_503(self):
        # XHELLO is allowed greeted and with recipients, not in between.
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("XHELLO"), 503)
            self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            self.assertCode(s.cmd("XHELLO"), 250)
            self.assertCode(s.cmd("RSET"), 250)
            self.assertCode(s.cmd("XHELLO"), 250)

    def test_verb_before_ehlo_502_or_503(self):
        # Nothing is offered before EHLO, and XHELLO's states exclude it.
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            self.assertIn(s.cmd("XHELLO").code, (502, 503))

    def test_verb_argument_rules_501(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("XARG"), 501)
            self.assertCode(s.cmd("XARG something"), 250)
            self.assertCode(s.cmd("XNOARG something"), 501)
            self.assertCode(s.cmd("XNOARG"), 250)

    def test_verb_not_offered_after_helo_5xx(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            r = s.cmd("XHELLO")
            self.assertEqual(r.code // 100, 5, r)

    def test_param_value_rules_501(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XFIX"), 501)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XFIX=bad"), 501)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> xfix=good"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> XFLAG=1"), 501)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> XFLAG"), 250)
            self.assertCode(s.cmd("RCPT TO:<v@example.org> xflag"), 250)

    def test_mail_param_on_rcpt_555(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XFLAG"), 555)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            self.assertCode(s.cmd("RCPT TO:<u@example.org> XFIX=1"), 555)

    def test_param_after_helo_555(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            self.assertCode(s.cmd("HELO client.test"), 250)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test> XFIX=1"), 555)

    def test_hook_reject_550(self):
        with Ehlod(plugins=fixture()) as server:
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
                r = s.cmd("RCPT TO:<reject-me@example.org>")
                self.assertCode(r, 550)
                self.assertEnhanced(r, "5.1.1")
                self.assertIn("fixture: no such user", r.text)
                self.assertCode(s.cmd("RCPT TO:<u@example.org>"), 250)
            log = server.log()
        self.assertTrue([l for l in log.splitlines()
                         if "plugin=fixture" in l
                         and "reject-me@example.org" in l], log)

    def test_hook_tempfail_450(self):
        with Ehlod(plugins=fixture()) as server, server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("RCPT TO:<tempfail-me@example.org>")
            self.assertCode(r, 450)
            self.assertEnhanced(r, "4.2.0")


    def repliers(self, second_verdict):
        path = os.path.join(test_plugin_dir(), "replier.so")
        return [("enhancedstatuscodes", {}),
                ("replier_a", {"path": path, "rcpt_reply": True,
                               "rcpt_verdict": "continue"}),
                ("replier_b", {"path": path, "rcpt_verdict": second_verdict}),
                ("maildir", {})]

    def test_reply_left_by_a_continue_is_not_a_later_reject(self):
        with Ehlod(plugins=self.repliers("reject")) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("RCPT TO:<u@example.org>")
        self.assertCode(r, 550)
        self.assertNotIn("left behind", r.text)
        self.assertIn("Recipient rejected", r.text)	# the step's default

    def test_reply_left_by_a_continue_is_not_the_final_250(self):
        with Ehlod(plugins=self.repliers("continue")) as server, \
                server.raw() as s:
            ehlo(s)
            self.assertCode(s.cmd("MAIL FROM:<s@x.test>"), 250)
            r = s.cmd("RCPT TO:<u@example.org>")
        self.assertCode(r, 250)
        self.assertNotIn("left behind", r.text)


if __name__ == "__main__":
    main()
