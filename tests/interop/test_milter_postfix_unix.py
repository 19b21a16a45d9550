"""test_milter_postfix_unix - ehlod-milter on a unix socket, reached by a
real Postfix, as the shipped ehlod-milter.conf suggests for Postfix.

Postfix's smtpd runs as its mail_owner (postfix) and connects to the
milter's socket as that user.  ehlod-milter, started as root, gives a
unix milter_socket to its run user and to milter_socket_group, mode
0660.  A private Postfix instance (tests/interop/postfixtest.py,
"smtpd_milters = unix:PATH", milter_default_action = tempfail) relays
what it accepts to smtp-sink:

  - with milter_socket_group = "postfix": the socket is 0660, owned by
    the run user and group postfix; swaks's message is accepted and
    arrives with the milter plugin's header;
  - without it the socket's group is the run user's: Postfix cannot
    connect ("Permission denied" in its log) and answers 451, so the
    option is what makes the socket usable;
  - "ehlod-milter -t" refuses a milter_socket_group that names no group,
    with file and line.

Needs root, postfix (smtp-sink) and swaks: skipped (77) otherwise.
"""

import grp
import os
import pwd
import stat
import subprocess

from ehlodtest import EhlodTestCase, free_port, main, make_tempdir
from milterharness import (MTA_PROBE, Milter, milter_bin, mta_swaks,
                           probe_plugin, relay_sink_for)
from postfixtest import Postfix, need_postfix


class PostfixUnixSocketTest(EhlodTestCase):
    timeout = 60

    @classmethod
    def setUpClass(cls):
        need_postfix()
        relay_sink_for(cls)

    def milter_and_postfix(self, **milter_options):
        """ehlod-milter on a unix socket and a Postfix using it: the
        socket's path and the Postfix's smtpd port."""
        path = os.path.join(make_tempdir("ehlod-msock-"), "milter")
        milter = Milter([probe_plugin(MTA_PROBE)],
                        milter_socket="unix:" + path, **milter_options)
        self.addCleanup(milter.cleanup)
        port = free_port()
        postfix = Postfix(
            services=[Postfix.smtpd(port)],
            main={"default_transport": "smtp",
                  "relayhost": "[127.0.0.1]:%d" % self.sink.port,
                  "smtpd_milters": "unix:" + path,
                  "milter_default_action": "tempfail",
                  "milter_protocol": "6"})
        self.addCleanup(postfix.close)
        postfix.wait_listening(port)
        self.postfix = postfix
        return path, port

    def send(self, port, marker):
        return mta_swaks(port, "--from", "sender@example.org", "--to",
                         "good@example.org", "--header",
                         "X-Test-Marker: " + marker)

    def test_group_postfix_lets_postfix_in(self):
        path, port = self.milter_and_postfix(milter_socket_group="postfix")
        st = os.stat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_uid, pwd.getpwnam("nobody").pw_uid)
        self.assertEqual(st.st_gid, grp.getgrnam("postfix").gr_gid)
        rc, out = self.send(port, "unix-socket-1")
        self.assertEqual(rc, 0, out + self.postfix.log())
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as ")
        text = self.sink.transaction_with("X-Test-Marker: unix-socket-1")
        self.assertIsNotNone(text, "nothing reached smtp-sink\n"
                             + self.postfix.log())
        self.assertRegex(text, r"(?m)^X-Ehlod-Probe: ")

    def test_without_the_group_postfix_is_refused(self):
        path, port = self.milter_and_postfix()
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, pwd.getpwnam("nobody").pw_gid)
        rc, out = self.send(port, "unix-socket-2")
        self.assertRegex(out, r"<\*\* 451 4\.7\.1 ")
        self.assertRegex(self.postfix.log(), r"connect to Milter service "
                         r"unix:\S+: Permission denied")

    def test_check_names_a_missing_group(self):
        conf = os.path.join(make_tempdir(), "ehlod-milter.conf")
        with open(conf, "w") as f:
            f.write('milter_socket = "unix:/run/m.sock"\n'
                    'milter_socket_group = "no-such-group-here"\n')
        p = subprocess.run([milter_bin(), "-t", "-c", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("%s:2: milter_socket_group: no group "
                      "'no-such-group-here' on this system" % conf, p.stdout)


if __name__ == "__main__":
    main()
