"""The example plugin examples/hello, built out of tree as an author would.

The example's own Makefile builds hello.so in a temporary directory with
nothing but "pkg-config --cflags --libs ehlod-plugin": PKG_CONFIG_PATH
points at the build tree's api/ (the generated ehlod-plugin.pc) and
includedir is redefined to the source tree's api/, where <ehlod/plugin.h>
lives before it is installed.  The source tree is never written to.

The compiler must print no warning (C11, -Wall -Wextra); the .so must
export ehlod_plugin and nothing else; ehlod -t must list the plugin; and a
server with the plugin loaded must offer XHELLO, answer the verb, refuse
the configured sender domain with its 550, make RCPT wait delay_ms, and
deliver the message with the X-Hello header.

Author mistakes are caught early: with ehlod-plugin.pc's flags, a call to
a function nothing defines fails at link time; a descriptor built without
EHLOD_PLUGIN_EXPORT under -fvisibility=hidden is refused by ehlod -t with
a hint naming both.
"""

import os
import shutil
import subprocess
import tempfile
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, env_path,
                       remove_at_exit)

GREETING = "Hello from the example"
REJECT_DOMAIN = "spam.test"
DELAY_MS = 400
SLACK = 0.05

# Symbols a linker may define in any shared object; none is ours.
LINKER_SYMBOLS = {"_init", "_fini", "__bss_start", "_edata", "_end"}

_built = {}


def build_example():
    """Build hello.so once per run; return (path, compiler output)."""
    if "so" in _built:
        return _built["so"], _built["out"]
    src = os.path.join(env_path("EHLOD_SRCDIR"), "examples", "hello")
    work = remove_at_exit(tempfile.mkdtemp(prefix="ehlod-hello-"))
    for name in ("hello.c", "tour.c", "localuser.c", "Makefile"):
        shutil.copy(os.path.join(src, name), work)
        os.chmod(os.path.join(work, name), 0o644)
    env = dict(os.environ)
    # An author's own build, not part of ours: no jobserver or flags
    # inherited from the make that runs the tests.
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    env["PKG_CONFIG_PATH"] = os.path.join(env_path("EHLOD_BUILDDIR"), "api")
    pkg_config = "pkg-config --define-variable=includedir=%s" % (
        os.path.join(env_path("EHLOD_SRCDIR"), "api"))
    proc = subprocess.run(["make", "-C", work, "PKG_CONFIG=" + pkg_config],
                          env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise AssertionError("make failed (%d):\n%s" % (proc.returncode, out))
    # The directory holds the plugin the server loads; it must be
    # readable after the server drops root.
    os.chmod(work, 0o755)
    os.chmod(os.path.join(work, "hello.so"), 0o755)
    os.chmod(os.path.join(work, "tour.so"), 0o755)
    os.chmod(os.path.join(work, "localuser.so"), 0o755)
    _built["so"] = os.path.join(work, "hello.so")
    _built["out"] = out
    _built["dir"] = work
    return _built["so"], out


def hello_plugins(so, **options):
    opts = {"path": so, "greeting": GREETING,
            "reject_domain": REJECT_DOMAIN, "delay_ms": DELAY_MS}
    opts.update(options)
    return [("pipelining", {}), ("enhancedstatuscodes", {}),
            ("hello", opts), ("maildir", {})]


def pkg_config_flags():
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = os.path.join(env_path("EHLOD_BUILDDIR"), "api")
    p = subprocess.run(
        ["pkg-config", "--define-variable=includedir=%s" %
         os.path.join(env_path("EHLOD_SRCDIR"), "api"),
         "--cflags", "--libs", "ehlod-plugin"],
        env=env, stdout=subprocess.PIPE, check=True, timeout=30)
    return p.stdout.decode().split()


def build_plugin(source):
    """Build source as an author would; return (returncode, output, .so)."""
    work = remove_at_exit(tempfile.mkdtemp(prefix="ehlod-mistake-"))
    os.chmod(work, 0o755)
    src = os.path.join(work, "p.c")
    with open(src, "w") as f:
        f.write(source)
    so = os.path.join(work, "p.so")
    p = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-o", so, src]
                       + pkg_config_flags(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), so


class AuthorMistakesTest(EhlodTestCase):

    def test_undefined_symbol_is_a_link_error(self):
        """ehlod-plugin.pc's -z defs: calling a function nothing defines
        (a host function by name instead of through the table) fails at
        link time, not when ehlod loads the plugin."""
        rc, out, _so = build_plugin(
            "#include <ehlod/plugin.h>\n"
            "void ehlod_reply(int code);\n"
            "static ehlod_verdict\n"
            "on_helo(ehlod_ctx *c, const char *d)\n"
            "{\n\t(void)c; (void)d;\n\tehlod_reply(550);\n"
            "\treturn EHLOD_CONTINUE;\n}\n"
            "EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {\n"
            "\tEHLOD_PLUGIN_HEADER, .name = \"m\", .on_helo = on_helo };\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("ehlod_reply", out)

    def test_unexported_descriptor_gets_a_hint(self):
        rc, out, so = build_plugin(
            "#include <ehlod/plugin.h>\n"
            "const struct ehlod_plugin ehlod_plugin = {\n"
            "\tEHLOD_PLUGIN_HEADER, .name = \"m\" };\n")
        self.assertEqual(rc, 0, out)
        srv = Ehlod(plugins=[("m", {"path": so})], start=False)
        try:
            code, text = srv.check()
        finally:
            srv.cleanup()
            shutil.rmtree(os.path.dirname(so), True)
        self.assertEqual(code, 1, text)
        self.assertIn("EHLOD_PLUGIN_EXPORT", text)
        self.assertIn("-fvisibility=hidden", text)


class ExamplePluginTest(EhlodTestCase):

    @classmethod
    def setUpClass(cls):
        cls.so, cls.build_output = build_example()

    def test_build_has_no_warnings(self):
        self.assertIn("ehlod-plugin", self.build_output,
                      "the build did not use pkg-config")
        self.assertNotRegex(self.build_output, r"(?m)^hello\.c:.*warning:")
        self.assertNotIn("warning:", self.build_output)

    def test_exports_only_the_descriptor(self):
        out = subprocess.run(["nm", "-D", "--defined-only", self.so],
                             stdout=subprocess.PIPE, check=True).stdout
        names = set()
        for line in out.decode().splitlines():
            parts = line.split()
            if parts:
                names.add(parts[-1])
        self.assertIn("ehlod_plugin", names)
        self.assertEqual(names - LINKER_SYMBOLS, {"ehlod_plugin"})

    def test_check_lists_the_plugin_exit_0(self):
        server = Ehlod(plugins=hello_plugins(self.so), start=False)
        try:
            code, out = server.check()
        finally:
            server.cleanup()
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"(?m)^plugin 3: hello 1\.0 \(%s\)$"
                         % self.so.replace(".", r"\."))
        self.assertRegex(out, r"(?m)^\s+keyword\s+XHELLO$")
        self.assertRegex(out, r"(?m)^\s+verbs\s+XHELLO \(greeted,mail,rcpt\)$")
        self.assertRegex(out, r"(?m)^\s+hooks\s+mail rcpt eoh$")
        self.assertNotIn("warning", out)

    def test_misspelled_option_exit_1(self):
        server = Ehlod(plugins=hello_plugins(self.so, greting="x"),
                       start=False)
        try:
            code, out = server.check()
        finally:
            server.cleanup()
        self.assertEqual(code, 1, out)
        self.assertIn("greting", out)

    def test_verb_answers_with_greeting_250(self):
        with Ehlod(plugins=hello_plugins(self.so)) as server:
            with server.smtp(helo="client.test") as c:
                c.ehlo()
                self.assertTrue(c.has_extn("xhello"), c.esmtp_features)
                code, text = c.docmd("XHELLO", "world")
                self.assertEqual(code, 250)
                self.assertEqual(text.decode(), "2.0.0 %s, world" % GREETING)
                code, text = c.docmd("XHELLO")
                self.assertEqual(code, 250)
                self.assertEqual(text.decode(),
                                 "2.0.0 %s, client.test" % GREETING)

    def test_verb_before_ehlo_503_after_helo_502(self):
        with Ehlod(plugins=hello_plugins(self.so)) as server:
            with server.raw() as s:
                self.assertCode(s.cmd("XHELLO"), 503)
                self.assertCode(s.cmd("HELO client.test"), 250)
                self.assertCode(s.cmd("XHELLO"), 502)

    def test_sender_domain_rejected_550(self):
        with Ehlod(plugins=hello_plugins(self.so)) as server:
            with server.smtp() as c:
                c.ehlo()
                code, text = c.mail("someone@SPAM.test")
                self.assertEqual(code, 550)
                self.assertEqual(text.decode(), "5.7.1 hello: mail from %s "
                                 "is not welcome" % REJECT_DOMAIN)
                code, _ = c.mail("someone@not-spam.test")
                self.assertEqual(code, 250)
            log = server.log()
        self.assertIn("plugin=hello: refusing sender <someone@SPAM.test>", log)
        self.assertIn("reject: MAIL", log)
        self.assertIn("plugin=hello", log)

    def test_rcpt_waits_then_message_has_header_250(self):
        body = ("From: a@sender.test\r\nTo: u@example.org\r\n"
                "Subject: example plugin\r\n\r\nbody line\r\n")
        with Ehlod(plugins=hello_plugins(self.so)) as server:
            with server.smtp() as c:
                c.ehlo()
                self.assertEqual(c.mail("a@sender.test")[0], 250)
                start = time.monotonic()
                code, _ = c.rcpt("u@example.org")
                waited = time.monotonic() - start
                self.assertEqual(code, 250)
                self.assertGreaterEqual(waited, DELAY_MS / 1000.0 - SLACK)
                self.assertEqual(c.data(body)[0], 250)
            files = server.delivered()
        self.assertEqual(len(files), 1)
        head, _, rest = files[0].partition(b"\n\n")
        lines = head.split(b"\n")
        self.assertIn(b"X-Hello: " + GREETING.encode(), lines)
        # add_header appends after the message's own last header
        self.assertEqual(lines[-1], b"X-Hello: " + GREETING.encode())
        self.assertEqual(rest, b"body line\n")

    def test_no_delay_when_zero(self):
        with Ehlod(plugins=hello_plugins(self.so, delay_ms=0)) as server:
            with server.smtp() as c:
                c.ehlo()
                self.assertEqual(c.mail("a@sender.test")[0], 250)
                start = time.monotonic()
                self.assertEqual(c.rcpt("u@example.org")[0], 250)
                self.assertLess(time.monotonic() - start,
                                DELAY_MS / 1000.0)


if __name__ == "__main__":
    try:
        main()
    finally:
        if "dir" in _built and not os.environ.get("EHLOD_TEST_KEEP"):
            shutil.rmtree(_built["dir"], ignore_errors=True)
