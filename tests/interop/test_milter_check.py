"""test_milter_check - ehlod-milter -t, its config options, and ehlod's
indifference to them.

-t lists per plugin what runs in a milter (hooks) and what is inert
(keyword, verbs, MAIL/RCPT parameters), from what each plugin declared,
and the protocol steps the milter will ask the MTA for; milter_socket is
checked with file and line; ehlod itself accepts a config carrying the
milter options.
"""

import os
import subprocess

from ehlodtest import (EhlodTestCase, ehlod_bin, main, make_tempdir,
                       plugin_dir, render_config)
from ehlodtest import fixture_path
from milterharness import delay_plugin, milter_bin, probe_plugin


def write_conf(tmp, plugins, **core):
    settings = {"plugin_dir": plugin_dir()}
    settings.update(core)
    path = os.path.join(tmp, "ehlod.conf")
    with open(path, "w") as f:
        f.write(render_config(settings, plugins))
    return path


def run(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))


def section(listing, name):
    """The lines of one plugin's entry in the -t listing."""
    out, inside = [], False
    for line in listing.splitlines():
        if line.startswith("plugin "):
            inside = (": %s " % name) in line
        elif inside:
            out.append(line)
    return "\n".join(out)


class MilterCheckTest(EhlodTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = make_tempdir("ehlod-milter-check-")

    def tearDown(self):
        super().tearDown()
        subprocess.run(["rm", "-rf", self.tmp])

    def test_messages_name_ehlod_milter(self):
        """A plugin refused by the shared loader is reported as refused
        by ehlod-milter, not by ehlod."""
        conf = write_conf(self.tmp, [("fixture_badmajor", {
            "path": fixture_path("fixture_badmajor")})])
        rc, out, err = run([milter_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("this ehlod-milter has ABI 1.", err)
        self.assertIn("ehlod-milter[", err)

    def test_maildir_refuses_to_start_in_milter_exit_1(self):
        maildir = os.path.join(self.tmp, "Maildir")
        conf = write_conf(self.tmp, [("maildir", {"directory": maildir})],
                          milter_socket="inet:8891@127.0.0.1")
        rc, out, err = run([milter_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("maildir delivers only inside ehlod", err)

    def test_t_lists_what_runs_and_what_is_inert(self):
        conf = write_conf(self.tmp, [probe_plugin(), ("pipelining", {}),
                                     delay_plugin()],
                          milter_socket="inet:8891@127.0.0.1")
        rc, out, err = run([milter_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration is valid for ehlod-milter", out)
        self.assertIn("milter_socket inet:8891@127.0.0.1", out)
        probe = section(out, "milterprobe")
        self.assertRegex(probe, r"runs +connect helo mail rcpt data header "
                         r"eoh body eom rset close unknown")
        self.assertRegex(probe, r"inert +keyword X-PROBE; verbs XPROBE; "
                         r"mail params XPROBE")
        self.assertIn("declared useful in a milter", probe)
        pipelining = section(out, "pipelining")
        self.assertRegex(pipelining, r"runs +nothing")
        self.assertRegex(pipelining, r"inert +keyword PIPELINING")
        self.assertIn("warning: pipelining does not declare", pipelining)
        delay = section(out, "delay")
        self.assertRegex(delay, r"runs +connect rcpt")
        self.assertRegex(delay, r"inert +-")
        self.assertIn("hook-only plugin", delay)

    def test_t_shows_the_steps_declined(self):
        conf = write_conf(self.tmp, [delay_plugin()])
        rc, out, err = run([milter_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 0, err)
        self.assertIn("steps asked of the MTA: connect helo mail rcpt eom",
                      out)
        self.assertIn("steps declined (SMFIP_NO*): data header eoh body "
                      "unknown", out)

    def test_bad_milter_socket_is_a_config_error_with_line(self):
        conf = write_conf(self.tmp, [delay_plugin()],
                          milter_socket="8891@localhost")
        rc, out, err = run([milter_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"ehlod\.conf:\d+: milter_socket: "
                         r"'8891@localhost' is not inet:PORT@HOST")

    def test_missing_milter_socket_refuses_to_serve(self):
        conf = write_conf(self.tmp, [delay_plugin()])
        rc, out, err = run([milter_bin(), "-c", conf])
        self.assertEqual(rc, 1)
        self.assertIn("milter_socket is not set", err)

    def test_ehlod_accepts_the_milter_options(self):
        conf = write_conf(self.tmp, [("pipelining", {})],
                          milter_socket="unix:/run/ehlod-milter.sock",
                          milter_timeout=600, milter_hook_timeout=20)
        rc, out, err = run([ehlod_bin(), "-t", "-c", conf])
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration is valid", out)

    def test_version(self):
        rc, out, err = run([milter_bin(), "-V"])
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^ehlod-milter \S+ \(plugin ABI \d+\.\d+\)")


if __name__ == "__main__":
    main()
