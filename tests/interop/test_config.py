"""The command line and config checking: ehlod -V, ehlod -t, config errors.

"ehlod -t -c CONF" exits 0 and lists every plugin in load order with its
EHLO keyword, parameters and hooks; a misspelled option (core or inside a
plugin section) exits 1 naming the file and the line; a plugin that does
not exist, a conflicting keyword or a bad value exit 1 with a clear
message; the server itself refuses to start on such a config.
"""

import os
import re
import unittest

from ehlodtest import (Ehlod, EhlodTestCase, main, run_ehlod, free_port,
                       DEFAULT_PLUGINS, plugin_dir)


class ConfigTest(EhlodTestCase):

    def write(self, text=None, plugins=None, **core):
        """Write a config (text, or one rendered by the harness) into a
        fresh directory; return (path, text)."""
        server = Ehlod(plugins=plugins, start=False, **core)
        server.port = free_port()
        rendered = server.write_config()
        server.cleanup()  # the directory stays until the program ends
        if text is None:
            return server.conf_path, rendered
        with open(server.conf_path, "w") as f:
            f.write(text)
        return server.conf_path, text

    def base_text(self, plugins=None, **core):
        return self.write(plugins=plugins, **core)[1]

    def line_of(self, text, needle):
        for number, line in enumerate(text.split("\n"), 1):
            if needle in line:
                return number
        raise AssertionError("%r not in config" % needle)

    def assertNamesFileAndLine(self, output, path, line):
        # "FILE:LINE" or "FILE, line LINE"
        self.assertRegex(output, r"%s\D{1,8}%d(?![0-9])"
                         % (re.escape(os.path.basename(path)), line),
                         "file and line %d not named in: %s" % (line, output))

    def test_version_exit_0(self):
        code, out = run_ehlod(["-V"])
        self.assertEqual(code, 0, out)
        self.assertIn("1.0.0", out)
        self.assertIn("ehlod", out.lower())

    def test_check_lists_plugins_in_order_exit_0(self):
        path, _ = self.write()
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 0, out)
        positions = []
        for name, _opts in DEFAULT_PLUGINS:
            # the name at the start of a line, perhaps after "plugin N:"
            m = re.search(r"(?m)^\W*(plugin\W+)?(\d+\W+)?%s(?![\w-])"
                          % re.escape(name), out)
            self.assertIsNotNone(m, "plugin %s not listed:\n%s" % (name, out))
            positions.append(m.start())
        self.assertEqual(positions, sorted(positions),
                         "plugins not in load order:\n" + out)
        for keyword in ("PIPELINING", "SIZE", "8BITMIME",
                        "ENHANCEDSTATUSCODES"):
            self.assertIn(keyword, out)
        self.assertIn("1000000", out, "SIZE's EHLO parameter")
        self.assertIn("BODY", out, "8bitmime's MAIL parameter")
        self.assertRegex(out, r"(?i)eom", "maildir's end-of-message hook")

    def test_check_order_follows_config_exit_0(self):
        plugins = [("maildir", {}), ("enhancedstatuscodes", {}),
                   ("size", {"limit": 5}), ("pipelining", {})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 0, out)
        positions = [out.find(k) for k in ("ENHANCEDSTATUSCODES", "SIZE",
                                           "PIPELINING")]
        self.assertNotIn(-1, positions, out)
        self.assertEqual(positions, sorted(positions), out)

    def test_check_lists_delay_hooks_exit_0(self):
        plugins = [("delay", {"rcpt_delay_ms": 10}), ("maildir", {})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 0, out)
        self.assertIn("delay", out)
        self.assertRegex(out, r"(?i)rcpt")

    def test_misspelled_core_option_exit_1(self):
        text = self.base_text().replace("max_recipients =",
                                        "max_recipents =")
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("max_recipents", out)
        self.assertNamesFileAndLine(out, path,
                                    self.line_of(text, "max_recipents"))

    def test_misspelled_plugin_option_exit_1(self):
        text = self.base_text().replace("limit = 1000000", "limt = 1000000")
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("limt", out)
        self.assertNamesFileAndLine(out, path, self.line_of(text, "limt"))

    def test_option_of_unloaded_plugin_in_other_section_exit_1(self):
        # "rcpt_delay_ms" belongs to delay, not to size.
        text = self.base_text().replace("limit = 1000000",
                                        "limit = 10\n    rcpt_delay_ms = 5")
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertNamesFileAndLine(out, path,
                                    self.line_of(text, "rcpt_delay_ms"))

    def test_syntax_error_exit_1(self):
        text = self.base_text() + "plugin broken {\n"
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn(os.path.basename(path), out)

    def test_unclosed_section_exit_1(self):
        text = self.base_text() + "plugin pipelining {\n"
        text = text.replace("plugin pipelining {}\n", "")
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn(os.path.basename(path), out)

    def test_line_named_after_comments_exit_1(self):
        # Real configs have comments; the line must still be the right one.
        text = ("# ehlod configuration\n# second comment line\n\n"
                + self.base_text().replace("hostname =", "hostnme ="))
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertNamesFileAndLine(out, path, self.line_of(text, "hostnme"))

    def test_environment_references_in_values(self):
        # ehlod.conf(5): ${NAME} and ${NAME:-DEFAULT} in a bare value and
        # in double quotes, not in single quotes.
        base = self.base_text()
        self.assertRegex(base, r"(?m)^hostname = ")
        cases = [
            ("${EHLOD_TEST_MX:-fallback.example}", None, "fallback.example"),
            ("${EHLOD_TEST_MX:-fallback.example}", "mx.env.example",
             "mx.env.example"),
            ('"${EHLOD_TEST_MX}.quoted"', "mx.env.example",
             "mx.env.example.quoted"),
            ('"a${EHLOD_TEST_MX}b"', None, "ab"),
            ("'${EHLOD_TEST_MX}'", "mx.env.example", "${EHLOD_TEST_MX}"),
        ]
        saved = os.environ.pop("EHLOD_TEST_MX", None)
        self.addCleanup(self._restore_env, "EHLOD_TEST_MX", saved)
        for value, env, expected in cases:
            if env is None:
                os.environ.pop("EHLOD_TEST_MX", None)
            else:
                os.environ["EHLOD_TEST_MX"] = env
            text = re.sub(r"(?m)^hostname = .*$",
                          lambda _m: "hostname = " + value, base)
            path, _ = self.write(text=text)
            code, out = run_ehlod(["-t", "-c", path])
            self.assertEqual(code, 0, out)
            self.assertIn("hostname %s," % expected, out,
                          "%s with EHLOD_TEST_MX=%r" % (value, env))

    @staticmethod
    def _restore_env(name, value):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def test_bad_value_type_exit_1(self):
        text = self.base_text().replace("max_recipients = 100",
                                        'max_recipients = "many"')
        path, text = self.write(text=text)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertNamesFileAndLine(out, path,
                                    self.line_of(text, "max_recipients"))

    def test_missing_plugin_exit_1(self):
        plugins = list(DEFAULT_PLUGINS) + [("nosuchplugin", {})]
        path, text = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("plugin 'nosuchplugin': cannot load", out)
        self.assertNamesFileAndLine(out, path,
                                    self.line_of(text, "plugin nosuchplugin"))

    def test_section_errors_name_the_line_it_opens(self):
        # libconfuse only knows where a section ends; a section that
        # spans lines is named where it starts.
        base = self.base_text()
        for section, needle in [
                ('plugin nosuchplugin {\n  x = 1\n\n}\n',
                 "plugin 'nosuchplugin': cannot load"),
                ('plugin maildir2 {\n  path = "maildir"\n  fsync = no\n'
                 '\n}\n', "option 'directory': required, but not set"),
                ('listener "sub" {\n  tls = "none"\n\n}\n',
                 "option 'listen' is required")]:
            path, text = self.write(text=base + "\n" + section)
            code, out = run_ehlod(["-t", "-c", path])
            self.assertEqual(code, 1, out)
            self.assertIn(needle, out)
            self.assertNamesFileAndLine(out, path, len(base.split("\n")) + 1)

    def test_same_section_twice_exit_1(self):
        """Two sections of one plugin under one name: the error says how
        to load a plugin twice."""
        path, text = self.write()
        with open(path, "a") as f:
            f.write("plugin size {}\n")
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("duplicate title 'size'", out)
        self.assertIn('path = "PLUGIN"', out)
        self.assertNamesFileAndLine(out, path, text.count("\n") + 1)

    def test_missing_plugin_path_exit_1(self):
        plugins = [("maildir", {}),
                   ("extra", {"path": "/nonexistent/dir/extra.so"})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("/nonexistent/dir/extra.so", out)

    def test_not_a_plugin_exit_1(self):
        # A file that is no shared object at all.
        path, text = self.write()
        bogus = os.path.join(os.path.dirname(path), "bogus.so")
        with open(bogus, "w") as f:
            f.write("not an ELF file\n")
        with open(path, "a") as f:
            f.write('plugin bogus { path = "%s" }\n' % bogus)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("bogus.so", out)

    def check_refused(self, fixture, *needles):
        plugins = list(DEFAULT_PLUGINS) + [(fixture, {})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn(fixture + ".so", out, "the file is named")
        for needle in needles:
            self.assertIn(needle, out)
        return out

    def test_abi_major_mismatch_exit_1(self):
        out = self.check_refused("fixture_badmajor", "99")
        self.assertRegex(out, r"(?i)abi")

    def test_abi_minor_newer_exit_1(self):
        self.assertRegex(self.check_refused("fixture_newminor"), r"(?i)abi")

    def test_descriptor_too_small_exit_1(self):
        self.check_refused("fixture_small")

    def test_missing_symbol_exit_1(self):
        self.check_refused("fixture_nosym", "ehlod_plugin")

    def test_conflicting_keyword_exit_1(self):
        self.check_refused("fixture_dupsize", "SIZE")

    def test_conflicting_mail_param_exit_1(self):
        self.check_refused("fixture_dupbody", "BODY")

    def test_conflicting_verb_exit_1(self):
        plugins = [("fixture", {}), ("fixture_dupverb", {}), ("maildir", {})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("XHELLO", out.upper())

    def test_core_verb_claimed_exit_1(self):
        self.check_refused("fixture_coreverb", "DATA")

    def test_section_name_differs_from_plugin_exit_1(self):
        plugins = list(DEFAULT_PLUGINS) + [
            ("size2", {"path": os.path.join(plugin_dir(), "size.so")})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("size2", out)

    def test_check_lists_verbs_and_params_exit_0(self):
        plugins = list(DEFAULT_PLUGINS) + [("fixture", {"param": "p1"})]
        path, _ = self.write(plugins=plugins)
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 0, out)
        for needle in ("fixture", "XFIXTURE", "XHELLO", "XARG", "XNOARG",
                       "XFIX", "XFLAG"):
            self.assertIn(needle, out)
        self.assertRegex(out, r"(?i)rcpt")
        self.assertLess(out.find("maildir"), out.find("XFIXTURE"),
                        "load order")

    def test_missing_config_file_exit_1(self):
        code, out = run_ehlod(["-t", "-c", "/nonexistent/ehlod.conf"])
        self.assertEqual(code, 1, out)
        self.assertIn("/nonexistent/ehlod.conf", out)

    def test_server_refuses_bad_config_exit_1(self):
        text = self.base_text().replace("hostname =", "hostnme =")
        path, text = self.write(text=text)
        code, out = run_ehlod(["-c", path], timeout=10)
        self.assertEqual(code, 1, out)
        self.assertNamesFileAndLine(out, path, self.line_of(text, "hostnme"))

    def test_bad_second_ehlo_value_exit_1(self):
        path, _ = self.write(second_ehlo="sometimes")
        code, out = run_ehlod(["-t", "-c", path])
        self.assertEqual(code, 1, out)
        self.assertIn("second_ehlo", out)

    def test_plugin_path_override_250(self):
        plugins = [("pipelining", {}),
                   ("size", {"path": os.path.join(plugin_dir(), "size.so"),
                             "limit": 4242}),
                   ("maildir", {})]
        with Ehlod(plugins=plugins) as server, server.raw() as s:
            r = s.cmd("EHLO client.test")
            self.assertCode(r, 250)
            self.assertIn("SIZE 4242", r.lines)


class IncludeTest(EhlodTestCase):
    """include "PATTERN": a glob relative to the including file's
    directory, matches in sorted order, errors naming the included file
    and its own line, the trust rule for every included file."""

    def setUp(self):
        self.server = Ehlod(start=False, plugins=[("pipelining", {}),
                                                  ("maildir", {})])
        self.server.port = free_port()
        self.dir = self.server.dir
        self.confd = os.path.join(self.dir, "conf.d")
        os.mkdir(self.confd)
        os.chmod(self.confd, 0o755)

    def tearDown(self):
        self.server.cleanup()

    def put(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def check(self, include_line='include "conf.d/*.conf"'):
        self.server.extra_config = include_line + "\n"
        self.server.write_config()
        return run_ehlod(["-t", "-c", self.server.conf_path])

    def test_glob_sorted_and_listed(self):
        self.put("conf.d/20-size.conf", "plugin size { limit = 4242 }\n")
        self.put("conf.d/10-8bit.conf", "# a comment\nplugin 8bitmime {}\n")
        self.put("conf.d/notes.txt", "this is not config\n")
        code, out = self.check()
        self.assertEqual(code, 0, out)
        self.assertIn("4242", out)
        self.assertLess(out.find("8BITMIME"), out.find("SIZE"), out)

    def test_empty_glob_is_fine_missing_plain_file_is_not(self):
        code, out = self.check()
        self.assertEqual(code, 0, out)
        code, out = self.check('include "conf.d/missing.conf"')
        self.assertEqual(code, 1, out)
        with open(self.server.conf_path) as f:
            line = len(f.read().splitlines())
        self.assertIn("%s:%d: include \"conf.d/missing.conf\": no such "
                      "file" % (self.server.conf_path, line), out)

    def test_core_error_names_included_file_and_line(self):
        path = self.put("conf.d/a.conf", "\n# two\n\nno_such_option = 1\n")
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn("%s:4:" % path, out)
        self.assertIn("no_such_option", out)

    def test_plugin_value_error_names_included_file_and_line(self):
        path = self.put("conf.d/b.conf",
                        "/* a\n block */\nplugin size {\n limit = -5\n}\n")
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"%s:\d+: plugin 'size': option 'limit'"
                         % re.escape(path))

    def test_nested_relative_to_the_including_file(self):
        os.mkdir(os.path.join(self.confd, "sub"))
        os.chmod(os.path.join(self.confd, "sub"), 0o755)
        self.put("conf.d/a.conf", 'include "sub/*.conf"\n')
        self.put("conf.d/sub/x.conf", "plugin size { limit = 777 }\n")
        code, out = self.check()
        self.assertEqual(code, 0, out)
        self.assertIn("777", out)

    def test_self_include_stops_at_depth(self):
        path = self.put("conf.d/loop.conf", 'include "loop.conf"\n')
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn("%s:1: includes nested more than" % path, out)

    @unittest.skipUnless(os.geteuid() == 0, "the trust rule binds root")
    def test_included_file_writable_by_group_refused(self):
        path = self.put("conf.d/w.conf", "plugin 8bitmime {}\n", 0o664)
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn(path, out)
        self.assertIn("writable by group", out)

    def test_server_runs_with_included_plugin(self):
        self.put("conf.d/size.conf", "plugin size { limit = 5000 }\n")
        self.server.extra_config = 'include "conf.d/*.conf"\n'
        self.server.start()
        with self.server.raw() as s:
            reply = s.cmd("EHLO client.test")
        self.assertIn("SIZE 5000", reply.text)


if __name__ == "__main__":
    main()
