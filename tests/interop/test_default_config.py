"""The default configuration, as make builds and installs it.

etc/ehlod.conf from the build tree is used with only the three settings
that must differ in a test rewritten: plugin_dir (the built plugins),
listen (a free loopback port) and the maildir's directory (a temporary
folder).  Each rewrite must match exactly once, so a change to the shape of
the default file fails here instead of being tested silently with other
values.

"ehlod -t" must accept the file and list every plugin section it holds, in
the file's order; the server started with it must accept a message for
one of its local domains, deliver it into Maildir/new, and refuse a
recipient in any other domain (no open relay).
"""

import os
import re

from ehlodtest import (Ehlod, EhlodTestCase, main, run_ehlod, env_path,
                       plugin_dir)

LOCAL_RECIPIENT = "postmaster@localhost"


def default_config_text():
    path = os.path.join(env_path("EHLOD_BUILDDIR"), "etc", "ehlod.conf")
    with open(path) as f:
        return f.read()


def without_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.split("\n"))


def plugin_sections(text):
    """The plugin names of the file's sections, in order."""
    return re.findall(r"(?m)^\s*plugin\s+([A-Za-z0-9_-]+)\s*\{",
                      without_comments(text))


def rewrite(text, pattern, replacement):
    new, count = re.subn(pattern, replacement, text, flags=re.M)
    if count != 1:
        raise AssertionError("default config: %r matched %d times, not once"
                             % (pattern, count))
    return new


def quoted(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rewritten_config(port, maildir):
    text = default_config_text()
    text = rewrite(text, r"^listen\s*=.*$",
                   "listen = {%s}" % quoted("127.0.0.1:%d" % port))
    text = rewrite(text, r"^plugin_dir\s*=.*$",
                   "plugin_dir = %s" % quoted(plugin_dir()))
    text = rewrite(text, r"^(\s*)directory\s*=.*$",
                   lambda m: "%sdirectory = %s" % (m.group(1),
                                                   quoted(maildir)))
    return text


class DefaultConfigServer(Ehlod):
    """The harness's server, run with the rewritten default file."""

    def write_config(self):
        text = rewritten_config(self.port, self.maildir)
        with open(self.conf_path, "w") as f:
            f.write(text)
        os.chmod(self.conf_path, 0o644)
        return text


class DefaultConfigTest(EhlodTestCase):

    def test_file_has_plugins(self):
        names = plugin_sections(default_config_text())
        self.assertIn("maildir", names)
        self.assertEqual(len(names), len(set(names)))

    def test_check_lists_every_plugin_in_order_exit_0(self):
        server = DefaultConfigServer(plugins=[], start=False)
        try:
            code, out = server.check()
        finally:
            server.cleanup()
        self.assertEqual(code, 0, out)
        self.assertIn("configuration is valid", out)
        names = plugin_sections(default_config_text())
        listed = re.findall(r"(?m)^plugin (\d+): (\S+) ", out)
        self.assertEqual([name for _n, name in listed], names, out)
        self.assertEqual([int(n) for n, _name in listed],
                         list(range(1, len(names) + 1)))
        self.assertIn("%d plugins, in the order" % len(names), out)

    def test_commented_instance_examples_are_valid(self):
        """The file's examples of two instances of one plugin (dnsbl and
        dnsbl_rcpt, relay and relay_net), uncommented, pass ehlod -t."""
        text = rewritten_config(2525, "/tmp/unused-maildir")
        blocks = []
        for name in ("dnsbl", "dnsbl_rcpt", "relay", "relay_net"):
            m = re.search(r"(?ms)^#plugin %s \{\n(.*?)^#\}\n" % name, text)
            self.assertIsNotNone(m, "no commented section %s" % name)
            body = re.sub(r"(?m)^#", "", m.group(1))
            blocks.append("plugin %s {\n%s}\n" % (name, body))
        server = DefaultConfigServer(plugins=[], start=False)
        server.port = 2525
        server.write_config()
        try:
            with open(server.conf_path, "a") as f:
                f.write("".join(blocks))
            code, out = run_ehlod(["-t", "-c", server.conf_path])
        finally:
            server.cleanup()
        self.assertEqual(code, 0, out)
        listed = re.findall(r"(?m)^plugin \d+: (\S+) ", out)
        for name in ("dnsbl", "dnsbl_rcpt", "relay", "relay_net"):
            self.assertIn(name, listed, out)

    def test_accepts_mail_for_local_domain_250(self):
        message = ("From: sender@example.net\r\nTo: %s\r\n"
                   "Subject: default config\r\n\r\nhello\r\n"
                   % LOCAL_RECIPIENT)
        with DefaultConfigServer(plugins=[]) as server:
            with server.smtp() as c:
                code, _ = c.ehlo()
                self.assertEqual(code, 250)
                self.assertEqual(c.mail("sender@example.net")[0], 250)
                code, text = c.rcpt("someone@example.com")
                self.assertEqual(code, 554, text)
                self.assertIn(b"Relay access denied", text)
                self.assertEqual(c.rcpt(LOCAL_RECIPIENT)[0], 250)
                code, text = c.data(message)
                self.assertEqual(code, 250, text)
            files = server.delivered()
        self.assertEqual(len(files), 1)
        self.assertIn(b"Subject: default config\n", files[0])
        self.assertIn(b"Delivered-To: %s\n" % LOCAL_RECIPIENT.encode(),
                      files[0])
        self.assertRegex(files[0], rb"with ESMTP id ")


if __name__ == "__main__":
    main()
