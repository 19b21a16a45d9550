"""test_trust - as root, ehlod and ehlod-milter take code and configuration
only from files root alone can change (TRUST in ehlod(8)).

Each case builds a tree in a fresh root-owned 0700 directory (its parent,
/tmp, is root's and sticky, which the rule accepts), spoils one thing - a
plugin or config file writable by group or other or owned by nobody, a
directory above one of them writable by other, a symbolic link to a
spoiled file - and checks that "ehlod -t" exits 1 with one line naming
the file and why, while the same tree unspoiled passes.  A plugin path
without a slash is refused whatever LD_LIBRARY_PATH says.  ehlod-milter
applies the same rule, and workers run with no_new_privs.
"""

import os
import pwd
import shutil
import subprocess
import tempfile

from ehlodtest import (Ehlod, EhlodTestCase, RawSession, ehlod_bin, main,
                       plugin_dir, render_config, LOCAL_DOMAIN)
from milterharness import milter_bin

NOBODY = pwd.getpwnam("nobody").pw_uid


def run(args, env=None):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class TrustTest(EhlodTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("the trust rule applies to root only")
        self.top = tempfile.mkdtemp(prefix="ehlod-trust-")
        self.plugins = os.path.join(self.top, "plugins")
        os.mkdir(self.plugins, 0o755)
        self.so = os.path.join(self.plugins, "size.so")
        shutil.copy(os.path.join(plugin_dir(), "size.so"), self.so)
        os.chmod(self.so, 0o755)
        self.etc = os.path.join(self.top, "etc")
        os.mkdir(self.etc, 0o755)
        self.conf = self.write_conf()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.top, ignore_errors=True)

    def write_conf(self, path=None, **size_options):
        path = path or os.path.join(self.etc, "ehlod.conf")
        options = {"path": self.so}
        options.update(size_options)
        with open(path, "w") as f:
            f.write(render_config({"hostname": "mx.test",
                                   "local_domains": [LOCAL_DOMAIN],
                                   "plugin_dir": self.plugins,
                                   "milter_socket": "inet:8891@127.0.0.1"},
                                  [("size", options)]))
        os.chmod(path, 0o644)
        return path

    def assertRefused(self, culprit, why, conf=None, what="plugin"):
        code, out = run([ehlod_bin(), "-t", "-c", conf or self.conf])
        self.assertEqual(code, 1, out)
        lines = [l for l in out.splitlines() if "refusing " + what in l]
        self.assertEqual(len(lines), 1, out)
        self.assertIn(culprit, lines[0])
        self.assertRegex(lines[0], why)
        return lines[0]

    def assertAccepted(self, conf=None, env=None):
        code, out = run([ehlod_bin(), "-t", "-c", conf or self.conf], env)
        self.assertEqual(code, 0, out)

    def test_clean_tree_passes(self):
        self.assertAccepted()

    def test_plugin_writable_by_other_refused(self):
        os.chmod(self.so, 0o666)
        self.assertRefused(self.so, r"writable by other \(mode 0666\)")

    def test_plugin_writable_by_group_refused(self):
        os.chmod(self.so, 0o775)
        self.assertRefused(self.so, r"writable by group")

    def test_plugin_owned_by_nobody_refused(self):
        os.chown(self.so, NOBODY, 0)
        self.assertRefused(self.so, r"owned by uid %d, not root" % NOBODY)

    def test_plugin_in_world_writable_directory_refused(self):
        os.chmod(self.plugins, 0o777)
        line = self.assertRefused(self.so, r"writable by other")
        self.assertIn("directory %s " % self.plugins, line)

    def test_plugin_directory_owned_by_nobody_refused(self):
        os.chown(self.plugins, NOBODY, 0)
        line = self.assertRefused(self.so, r"owned by uid %d" % NOBODY)
        self.assertIn("directory %s " % self.plugins, line)

    def test_directory_two_levels_up_refused(self):
        os.chmod(self.top, 0o775)
        line = self.assertRefused(self.conf, r"writable by group",
                                  what="configuration file")
        self.assertIn("directory %s " % self.top, line)

    def test_root_sticky_directory_above_accepted(self):
        # as /tmp: others may add names but not replace root's
        os.chmod(self.top, 0o1777)
        self.assertAccepted()

    def test_sticky_directory_of_nobody_refused(self):
        os.chmod(self.plugins, 0o1777)
        os.chown(self.plugins, NOBODY, 0)
        self.assertRefused(self.so, r"owned by uid %d" % NOBODY)

    def test_symlink_to_spoiled_plugin_refused(self):
        target = os.path.join(self.top, "elsewhere.so")
        shutil.copy(self.so, target)
        os.chmod(target, 0o666)
        os.remove(self.so)
        os.symlink(target, self.so)
        line = self.assertRefused(self.so, r"writable by other")
        self.assertIn("target %s" % target, line)

    def test_config_writable_by_other_refused(self):
        os.chmod(self.conf, 0o646)
        self.assertRefused(self.conf, r"writable by other",
                           what="configuration file")

    def test_config_owned_by_nobody_refused(self):
        os.chown(self.conf, NOBODY, 0)
        self.assertRefused(self.conf, r"owned by uid %d" % NOBODY,
                           what="configuration file")

    def test_config_directory_writable_refused(self):
        os.chmod(self.etc, 0o777)
        line = self.assertRefused(self.conf, r"writable by other",
                                  what="configuration file")
        self.assertIn("directory %s " % self.etc, line)

    def test_bare_plugin_name_never_searched(self):
        # A copy in a directory LD_LIBRARY_PATH names must not be loaded.
        with open(self.conf, "w") as f:
            f.write(render_config({"hostname": "mx.test",
                                   "local_domains": [LOCAL_DOMAIN],
                                   "plugin_dir": self.plugins},
                                  [("size", {"path": "size.so"})]))
        env = dict(os.environ, LD_LIBRARY_PATH=self.plugins)
        code, out = run([ehlod_bin(), "-t", "-c", self.conf], env)
        self.assertEqual(code, 1, out)
        self.assertIn("path must be absolute", out)

    def test_plugin_dir_must_be_absolute(self):
        with open(self.conf, "w") as f:
            f.write(render_config({"hostname": "mx.test",
                                   "local_domains": [LOCAL_DOMAIN],
                                   "plugin_dir": "plugins"},
                                  [("size", {})]))
        code, out = run([ehlod_bin(), "-t", "-c", self.conf])
        self.assertEqual(code, 1, out)
        self.assertIn("'plugin_dir' must be an absolute path", out)

    def test_server_refuses_to_start(self):
        os.chmod(self.so, 0o666)
        with open(self.conf, "a") as f:
            f.write('listen = {"127.0.0.1:1"}\n')
        p = subprocess.run([ehlod_bin(), "-c", self.conf],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        out = p.stdout.decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("%s: refusing plugin: writable by other" % self.so, out)

    def test_milter_follows_the_same_rule(self):
        code, out = run([milter_bin(), "-t", "-c", self.conf])
        self.assertEqual(code, 0, out)
        os.chmod(self.so, 0o666)
        code, out = run([milter_bin(), "-t", "-c", self.conf])
        self.assertEqual(code, 1, out)
        self.assertIn("%s: refusing plugin: writable by other" % self.so, out)
        os.chmod(self.so, 0o755)
        os.chown(self.conf, NOBODY, 0)
        code, out = run([milter_bin(), "-t", "-c", self.conf])
        self.assertEqual(code, 1, out)
        self.assertIn("%s: refusing configuration file: owned by uid"
                      % self.conf, out)


class NoNewPrivsTest(EhlodTestCase):

    def test_workers_run_with_no_new_privs(self):
        # The master's listening socket accepts before a freshly forked
        # worker has finished its setup (user switch, no_new_privs, then
        # the event loop), so the worker is read only once it has greeted
        # a client (the test server runs one worker): a worker serving
        # sessions without the flag fails.
        with Ehlod() as server:
            client = RawSession(server.port)
            self.assertEqual(client.greeting.code, 220)
            workers = server.workers()
            self.assertEqual(len(workers), 1)
            with open("/proc/%d/status" % workers[0]) as f:
                status = f.read()
            client.close()
            self.assertRegex(status, r"(?m)^NoNewPrivs:\s+1$",
                             "worker %d" % workers[0])


if __name__ == "__main__":
    main()
