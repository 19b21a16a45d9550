"""test_systemd_live - the installed units under a running systemd.

test_packaging and test_milter_service check the units with
systemd-analyze verify and speak the notify protocol by hand; here a real
systemd runs them, as on an admin's machine: a Debian 12 root made by
mmdebstrap, this build installed into it as "make install" puts it
(DESTDIR), booted by systemd-nspawn with a network of its own (only its
loopback), and driven from outside through nsenter.

  - ehlod.service with the shipped ehlod.conf (its status_socket example
    taken in): systemctl start takes it to active with the master's
    status text; swaks's message is answered 250 and lands in the
    default maildir, and "ehlod -s" counts it; the journal has the log
    with ehlod's priorities and no second time stamp.
  - systemctl reload with a changed file: the same master serves the
    change (a plugin taken out is gone from EHLO); with a broken file the
    reload fails, the journal has the error at priority err with file and
    line, and the running configuration serves on.
  - the shipped fail2ban jail: its filter, reading the journal through
    the jail's own journalmatch, finds every relay denial and failed
    login and nothing else.
  - syslog = true reaches the journal through the unit's private /dev.
  - the shipped STARTTLS example, with Debian's root-only snakeoil key:
    swaks's message goes through TLS.  Then the shipped AUTH example,
    with a sasldb made by saslpasswd2: PLAIN under TLS gets 235 with
    the right password and 535 with a wrong one.  Then the shipped relay
    example in place of maildir, to the container's Postfix with
    STARTTLS required: the message reaches root's mailbox over TLS.
  - systemctl stop ends the unit "success", not killed at its timeout.
  - systemd-analyze security rates both units' sandbox 3.0 or better
    (OK), and everything above runs inside that sandbox.
  - ehlod-milter.service: start, a miltertest session through its socket,
    reload, stop.
  - the shipped unix socket example for Postfix: Postfix's chrooted
    smtpd, running as postfix, reaches the milter through the socket's
    group.
  - ehlod-milter beside Debian's Postfix, both enabled at boot: Postfix
    (postfix@-.service) starts only once the milter serves; a message
    sent to Postfix passes the milter and lands in the mailbox, and the
    milter's refusal (its size limit lowered by a reload) reaches the
    client as Postfix's answer.

Needs root, systemd-nspawn (Debian package systemd-container), mmdebstrap
and the package mirror this machine installs from; skipped inside a chroot
without a cgroup file system (CI's fresh root, a chroot), where no
systemd can boot.
"""

import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

from ehlodtest import EhlodTestCase, env_path, main

SMTP = "127.0.0.1:2525"
# What the root holds besides the libraries the build links against.
TOOLS = ["systemd", "systemd-sysv", "dbus", "swaks", "fail2ban",
         "python3-systemd", "miltertest", "postfix", "libnet-ssleay-perl",
         "sasl2-bin", "libsasl2-modules", "dnsmasq-base"]
# Run inside by python3 -c: the A records of a name from 127.0.0.1:53,
# one per line (none for an error or NXDOMAIN).
DNS_CLIENT = r"""
import socket, struct, sys
q = b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[1].split("."))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(struct.pack(">6H", 7, 0x100, 1, 0, 0, 0) + q + b"\0\0\1\0\1",
         ("127.0.0.1", 53))
r = s.recv(512)
if (r[3] & 15) == 0 and r[7]:
    print(".".join(map(str, r[-4:])))
"""
# Run inside by python3 -c: one message to Postfix, "CODE TEXT" of the
# answer to its data on standard output.
POSTFIX_CLIENT = r"""
import smtplib, sys
marker, lines = sys.argv[1], int(sys.argv[2])
body = marker + "\r\n" + ("x" * 70 + "\r\n") * lines
s = smtplib.SMTP("127.0.0.1", 25, timeout=30)
s.ehlo()
s.mail("sender@localhost")
s.rcpt("root@localhost")
try:
    code, text = s.data("Subject: through the milter\r\n\r\n" + body)
except smtplib.SMTPDataError as e:
    code, text = e.smtp_code, e.smtp_error
s.quit()
print(code, text.decode())
"""
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C.UTF-8"}


def run(cmd, timeout=120, check=True, env=None):
    """(exit status, output) of cmd; a failure raises unless check is
    off."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, env=env)
    out = p.stdout.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s" % (" ".join(cmd),
                                                   p.returncode, out))
    return p.returncode, out


def file_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def have_cgroups():
    """systemd needs a cgroup hierarchy at /sys/fs/cgroup, which a chroot
    (CI's fresh root) has not."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")
            if len(fields) == 2 and fields[1].split()[0] in \
               ("cgroup", "cgroup2") and \
               fields[0].split()[4].startswith("/sys/fs/cgroup"):
                return True
    return False


def apt_source():
    """The file this machine installs its packages from."""
    for f in (sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) +
              ["/etc/apt/sources.list"]):
        try:
            with open(f) as src:
                if re.search(r"^[^#]*deb", src.read(), re.M):
                    return f
        except OSError:
            continue
    raise AssertionError("no apt source list on this machine")


def installed_files(destdir):
    for top, _, names in os.walk(destdir):
        for name in names:
            yield os.path.join(top, name)


def linked_libraries(destdir):
    """Every library the installed programs and plugins load."""
    libs = set()
    for f in installed_files(destdir):
        if os.path.islink(f) or not (os.access(f, os.X_OK) or
                                     f.endswith(".so")):
            continue
        _, out = run(["ldd", f], check=False)
        libs.update(re.findall(r"=> (/\S+)", out))
    return libs


def installed_path(destdir, tail):
    """Where the install put the file or folder ending in tail (the
    build's configure chose the prefix and the folders)."""
    for top, dirs, names in os.walk(destdir):
        for name in dirs + names:
            path = os.path.join(top, name)
            if path.endswith(tail):
                return path[len(destdir):]
    raise AssertionError("the install has no %s" % tail)


def unit_config(destdir, unit):
    """The configuration file the installed unit starts with (-c)."""
    with open(destdir + installed_path(destdir, "/systemd/system/" + unit)) \
            as f:
        return re.search(r"^ExecStart=\S+ -c (\S+)$", f.read(), re.M).group(1)


def owning_package(path):
    """The Debian package that ships path (with or without /usr, which
    Debian 12 merged), or None."""
    bare = path[4:] if path.startswith("/usr/") else path
    for candidate in (path, bare, "/usr" + bare,
                      os.path.realpath(path)):
        rc, out = run(["dpkg", "-S", candidate], check=False)
        if rc == 0:
            return out.split(":")[0].strip()
    return None


def runtime_packages(destdir):
    names = {owning_package(lib) for lib in linked_libraries(destdir)}
    return sorted(n for n in names if n)


class Container:
    """A Debian 12 root with this build installed, booted by
    systemd-nspawn; run() executes a command inside it."""

    def __init__(self, top):
        self.top = top
        self.root = os.path.join(top, "root")
        self.nspawn = None
        self.leader = None
        stage = os.path.join(top, "stage")
        run(["make", "-s", "-C", env_path("EHLOD_BUILDDIR"), "install",
             "DESTDIR=" + stage], timeout=300)
        self.conf = unit_config(stage, "ehlod.service")
        self.milter_conf = unit_config(stage, "ehlod-milter.service")
        with open(stage + self.conf) as f:
            self.maildir = re.search(r'^\s*directory = "([^"]+)"', f.read(),
                                     re.M).group(1)
        self.fail2ban = installed_path(stage, "/ehlod/fail2ban")
        packages = TOOLS + runtime_packages(stage)
        run(["mmdebstrap", "--quiet", "--variant=apt",
             "--aptopt=Acquire::Check-Valid-Until \"false\"",
             "--aptopt=Acquire::Check-Date \"false\"",
             "--include=" + ",".join(packages),
             "bookworm", self.root, apt_source()], timeout=600)
        run(["cp", "-a", stage + "/.", self.root])
        shutil.rmtree(stage)
        # fail2ban's own service is not under test: only its filter.
        self.mask("fail2ban.service")
        self.pass_sanitizer_options()
        self.postfix_with_milter()

    def path(self, inside):
        return os.path.join(self.root, inside.lstrip("/"))

    def milter_port(self):
        """The port of the shipped ehlod-milter.conf's milter_socket."""
        with open(self.path(self.milter_conf)) as f:
            port = re.search(r'^milter_socket\s*=\s*"inet:(\d+)@127\.0\.0\.1"',
                             f.read(), re.M)
        assert port is not None, "no inet milter_socket in the shipped file"
        return port.group(1)

    def postfix_with_milter(self):
        """Postfix (its package enables it) sends every message through
        the shipped milter socket, and ehlod-milter is enabled: both
        start at boot, in the order their units give.  Should the milter
        not answer, Postfix defers rather than taking mail unfiltered."""
        run(["chroot", self.root, "postconf", "-e",
             "smtpd_milters = inet:127.0.0.1:" + self.milter_port(),
             "milter_default_action = tempfail",
             "inet_interfaces = loopback-only",
             # Received: says whether a message came over TLS.
             "smtpd_tls_received_header = yes"])
        run(["systemctl", "--root=" + self.root, "--quiet", "enable",
             "ehlod-milter.service"])

    def mask(self, unit):
        os.symlink("/dev/null", self.path("/etc/systemd/system/" + unit))

    def pass_sanitizer_options(self):
        """A sanitizer build runs under the options the suite runs with.
        Its leak check stops the process's threads with ptrace, which
        the units' system call filter leaves out: the drop-in lets it
        in, and nothing else."""
        env = ["%s=%s" % (k, os.environ[k]) for k in
               ("ASAN_OPTIONS", "UBSAN_OPTIONS") if k in os.environ]
        if not env:
            return
        for unit in ("ehlod.service", "ehlod-milter.service"):
            d = self.path("/etc/systemd/system/%s.d" % unit)
            os.makedirs(d)
            with open(os.path.join(d, "sanitizers.conf"), "w") as f:
                f.write("[Service]\n" + "".join(
                    'Environment="%s"\n' % e for e in env)
                    + "SystemCallFilter=ptrace\n")

    def boot(self):
        log = open(os.path.join(self.top, "nspawn.log"), "w")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--directory", self.root,
             "--register=no", "--keep-unit", "--private-network", "--boot"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.leader = self.find_leader()
        self.wait_booted()

    def wait_booted(self):
        """Until systemd has started its units; systemctl cannot reach
        it before its own socket is there."""
        deadline = time.monotonic() + 120
        while True:
            _, out = self.run(["systemctl", "is-system-running", "--wait"],
                              check=False, timeout=120)
            if out.strip() in ("running", "degraded"):
                return
            if time.monotonic() > deadline:
                raise AssertionError("the container did not boot: %s\n%s"
                                     % (out, self.boot_log()))
            time.sleep(0.2)

    def find_leader(self):
        """The container's PID 1 (systemd), a child of systemd-nspawn."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                raise AssertionError("systemd-nspawn exited:\n"
                                     + self.boot_log())
            for pid in children(self.nspawn.pid):
                if comm(pid) == "systemd":
                    return pid
            time.sleep(0.1)
        raise AssertionError("no systemd in the container:\n"
                             + self.boot_log())

    def boot_log(self):
        with open(os.path.join(self.top, "nspawn.log"),
                  errors="replace") as f:
            return f.read()[-3000:]

    def run(self, cmd, check=True, timeout=120):
        # A plain environment: nothing of the suite's own (its
        # PYTHONPATH, its EHLOD_*) leaks into the container.
        return run(["nsenter", "--target", str(self.leader), "--all",
                    "--"] + cmd, timeout, check, ENV)

    def stop(self):
        if self.nspawn is None:
            return
        try:
            if self.nspawn.poll() is None and self.leader is not None:
                self.run(["systemctl", "poweroff", "--no-block"],
                         check=False, timeout=30)
            self.nspawn.wait(60)
        except subprocess.TimeoutExpired:
            # Killing the container's PID 1 ends everything inside.
            for pid in (self.leader, self.nspawn.pid):
                if pid is not None:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.nspawn.wait(30)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


class SystemdLiveTest(EhlodTestCase):

    timeout = 900

    @classmethod
    def setUpClass(cls):
        cls.box = None
        if os.geteuid() != 0:
            raise unittest.SkipTest("booting a container needs root")
        if not have_cgroups():
            raise unittest.SkipTest("no cgroup file system at /sys/fs/cgroup"
                                    " (a chroot?): no systemd boots here")
        for program, package in (("systemd-nspawn", "systemd-container"),
                                 ("mmdebstrap", "mmdebstrap")):
            if shutil.which(program) is None:
                raise AssertionError("%s missing: install the Debian "
                                     "package %s" % (program, package))
        cls.top = tempfile.mkdtemp(prefix="ehlod-systemd-", dir="/var/tmp")
        try:
            cls.box = Container(cls.top)
            cls.box.boot()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.box is not None:
            cls.box.stop()
        shutil.rmtree(cls.top, ignore_errors=True)

    # ---- helpers --------------------------------------------------------

    def systemctl(self, *args, check=True):
        """systemctl ARGS inside; a failure that was not expected comes
        with the unit's (the last argument's) journal."""
        rc, out = self.box.run(["systemctl"] + list(args), check=False)
        if check and rc != 0:
            _, journal = self.box.run(["journalctl", "-u", args[-1], "-n",
                                       "40", "--no-pager"], check=False)
            self.fail("systemctl %s: exit %d\n%s\n%s"
                      % (" ".join(args), rc, out, journal))
        return rc, out

    def show(self, unit, *props):
        _, out = self.systemctl("show", unit, "-p", ",".join(props))
        return dict(line.split("=", 1) for line in out.splitlines()
                    if "=" in line)

    def swaks(self, *args):
        return self.box.run(["swaks", "--server", SMTP] + list(args),
                            check=False, timeout=60)[1]

    def ehlo_keywords(self):
        out = self.swaks("--quit-after", "EHLO")
        return set(re.findall(r"^<-  250[- ](\S+)", out, re.M))

    def journal(self, unit):
        """The unit's journal entries as dicts (journalctl -o json)."""
        _, out = self.box.run(["journalctl", "-u", unit, "-o", "json",
                               "--no-pager"])
        return [json.loads(line) for line in out.splitlines()
                if line.startswith("{")]

    def journal_entries(self, unit, predicate, count, what):
        """The unit's entries that satisfy predicate, once there are
        count of them: journald files a line a moment after it was
        written."""
        found = []

        def enough():
            found[:] = [e for e in self.journal(unit) if predicate(e)]
            return len(found) >= count
        self.wait_for(what, enough)
        return found

    def wait_for(self, what, predicate, seconds=20):
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("still not the case after %d s: %s"
                          % (seconds, what))
            time.sleep(0.2)

    def write_conf(self, path, text):
        with open(self.box.path(path), "w") as f:
            f.write(text)

    def read_conf(self, path):
        with open(self.box.path(path)) as f:
            return f.read()

    # ---- ehlod.service --------------------------------------------------

    def test_ehlod_unit_start_mail_reload_stop(self):
        self.check_start_and_mail()
        self.check_journal_priorities()
        pid = self.show("ehlod", "MainPID")["MainPID"]
        self.check_reload_takes()
        self.check_broken_reload_keeps_serving()
        self.assertEqual(self.show("ehlod", "MainPID")["MainPID"], pid,
                         "a reload must not restart the master")
        self.check_syslog_reaches_journal()
        self.check_starttls_example()
        self.check_auth_example()
        self.check_relay_example()
        self.check_fail2ban_finds_denials()
        self.check_saslauthd()
        self.check_dnsbl_example()
        self.check_stop()
        self.assert_nothing_refused("ehlod")

    def test_units_keep_their_sandbox(self):
        """systemd's own rating of the units' sandbox, 0 (closed) to 10
        (open): 8.9 for each with ProtectSystem, ProtectHome and
        PrivateTmp alone, 5.4 with the kernel, device and namespace
        protections, 2.7 with the capability bounding set, the system
        call filter, no_new_privs and a private /proc they have now."""
        for unit in ("ehlod.service", "ehlod-milter.service"):
            _, out = self.box.run(["systemd-analyze", "security", unit,
                                   "--no-pager"])
            level = re.search(r"Overall exposure level for \S+: ([\d.]+)",
                              out)
            self.assertIsNotNone(level, out)
            self.assertLessEqual(float(level.group(1)), 3.0, out[-3000:])

    def check_start_and_mail(self):
        # The shipped example of a status socket, taken as it is.
        shipped = self.read_conf(self.box.conf)
        example = re.search(r"^#(status_socket = .*)$", shipped, re.M)
        self.assertIsNotNone(example, "ehlod.conf shows a status_socket")
        self.write_conf(self.box.conf, shipped.replace(example.group(0),
                                                       example.group(1)))
        self.systemctl("start", "ehlod")
        state = self.show("ehlod", "ActiveState", "StatusText")
        self.assertEqual(state["ActiveState"], "active")
        self.assertEqual(state["StatusText"], "accepting mail")
        out = self.swaks("--from", "alice@example.org", "--to",
                         "root@localhost", "--body", "systemd-live-token")
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as ")
        new = glob.glob(self.box.path(self.box.maildir + "/new/*"))
        self.assertEqual(len(new), 1, "one message in the default maildir")
        self.assertIn("systemd-live-token", file_text(new[0]))
        _, out = self.box.run(["ehlod", "-s", "-c", self.box.conf])
        self.assertIn('ehlod_messages_total{status="sent"} 1\n', out)

    def check_starttls_example(self):
        """The shipped STARTTLS example taken in, with the key Debian
        keeps readable by root alone (0640 root:ssl-cert, the snakeoil
        pair): the reload reads it as root under the unit's reduced
        capabilities, and a message goes through TLS."""
        self.take_example("starttls", {
            "cert": '"/etc/ssl/certs/ssl-cert-snakeoil.pem"',
            "key": '"/etc/ssl/private/ssl-cert-snakeoil.key"'})
        self.wait_for("STARTTLS offered after the reload",
                      lambda: "STARTTLS" in self.ehlo_keywords())
        out = self.swaks("--tls", "--from", "alice@example.org", "--to",
                         "root@localhost", "--body", "systemd-live-tls")
        self.assertIn("=== TLS started with cipher ", out)
        self.assertRegex(out, r"<~  250 2\.0\.0 Ok: queued as ")
        self.assertRegex(self.delivered("systemd-live-tls"), r"with ESMTPS ")

    def take_example(self, plugin, values, instead_of=None):
        """The shipped ehlod.conf's commented "plugin NAME { ... }"
        example taken in, the options in values set to theirs (as
        written in the file: strings quoted), the section of plugin
        instead_of commented out, and the server reloaded."""
        conf = self.read_conf(self.box.conf)
        example = re.search(r"^#plugin %s \{\n(#.*\n)*?#\}\n" % plugin,
                            conf, re.M)
        self.assertIsNotNone(example, "ehlod.conf shows " + plugin)
        section = re.sub(r"^#", "", example.group(0), flags=re.M)
        for option, value in values.items():
            section, n = re.subn(r"(?m)^(\s*%s = ).*$" % option,
                                 lambda m: m.group(1) + value, section)
            self.assertEqual(n, 1, "%s in the %s example" % (option, plugin))
        conf = conf.replace(example.group(0), section)
        if instead_of is not None:
            active = re.search(r"^plugin %s \{\n(.*\n)*?\}\n" % instead_of,
                               conf, re.M)
            self.assertIsNotNone(active, "ehlod.conf runs " + instead_of)
            conf = conf.replace(active.group(0), re.sub(
                r"(?m)^", "#", active.group(0)[:-1]) + "\n")
        self.write_conf(self.box.conf, conf)
        self.systemctl("reload", "ehlod")

    def delivered(self, token):
        """The one message in the maildir's new/ that holds token."""
        found = [text for text in map(file_text, glob.glob(
            self.box.path(self.box.maildir + "/new/*"))) if token in text]
        self.assertEqual(len(found), 1, "messages with " + token)
        return found[0]

    def check_auth_example(self):
        """The shipped AUTH example taken in as it is (sasldb at the
        path it names, made by saslpasswd2 and readable by the run user
        only through its group): PLAIN under TLS with the right password
        gets 235 and the message is marked ESMTPSA; a wrong one 535."""
        sasldb = re.search(r'^#\s*sasldb_path = "([^"]+)"',
                           self.read_conf(self.box.conf), re.M).group(1)
        self.box.run(["mkdir", "-p", os.path.dirname(sasldb)])
        self.box.run(["sh", "-c", "echo live-secret | saslpasswd2 -p -c "
                      "-f %s -u live.test alice && chgrp nogroup %s && "
                      "chmod 0640 %s" % (sasldb, sasldb, sasldb)])
        self.take_example("auth", {})
        self.wait_for("AUTH offered under TLS after the reload",
                      lambda: "AUTH" in self.ehlo_keywords_tls())
        auth = ["--tls", "--auth", "PLAIN", "--auth-user",
                "alice@live.test", "--from", "alice@live.test", "--to",
                "root@localhost"]
        out = self.swaks(*auth, "--auth-password", "live-secret",
                         "--body", "systemd-live-auth")
        self.assertRegex(out, r"<~  235 ")
        self.assertRegex(out, r"<~  250 2\.0\.0 Ok: queued as ")
        self.assertRegex(self.delivered("systemd-live-auth"),
                         r"with ESMTPSA ")
        out = self.swaks(*auth, "--auth-password", "wrong",
                         "--quit-after", "AUTH")
        self.assertRegex(out, r"<~\* 535 ")

    def check_relay_example(self):
        """The shipped relay example in place of maildir, its next hop
        the container's Postfix with STARTTLS required: the worker's
        outbound SMTP and TLS run under the sandbox, the client gets
        the next hop's 250, and Postfix delivers the message, received
        over TLS, to root's mailbox.  (Postfix's snakeoil certificate
        names no one: the example's tls_verify is turned off.)"""
        self.take_example("relay", {"next_hop": '"smtp://127.0.0.1:25"',
                                    "starttls": '"must"',
                                    "tls_verify": "false",
                                    "helo_name": '"relay.live.test"',
                                    "xforward": "false"},
                          instead_of="maildir")
        out = self.swaks("--from", "alice@example.org", "--to",
                         "root@localhost", "--body", "systemd-live-relay")
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: relayed: .*queued as ")
        self.wait_for("the relayed message in root's mailbox",
                      lambda: "systemd-live-relay" in self.mailbox("root"))
        message = [m for m in re.split(r"(?m)^From ", self.mailbox("root"))
                   if "systemd-live-relay" in m]
        self.assertEqual(len(message), 1)
        self.assertRegex(message[0], r"from relay\.live\.test \(localhost "
                         r"\[127\.0\.0\.1\]\)\s+\(using TLS")

    def check_saslauthd(self):
        """The AUTH example with pwcheck_method = "saslauthd", Debian's
        saslauthd started by its own init script (mechanism pam, socket
        in /run/saslauthd, root:sasl 0710) and the run user added to
        group sasl: a system user logs in through PAM (235), a wrong
        password gets 535.  The workers keep the user's groups."""
        self.box.run(["sh", "-c", "useradd carol && echo carol:carol-pw | "
                      "chpasswd && adduser --quiet nobody sasl && echo "
                      "START=yes >> /etc/default/saslauthd"])
        self.systemctl("start", "saslauthd")
        conf, n = re.subn(r'(?m)^(\s*pwcheck_method = )"auxprop"$',
                          r'\1"saslauthd"', self.read_conf(self.box.conf))
        self.assertEqual(n, 1, "the auth example's pwcheck_method")
        self.write_conf(self.box.conf, conf)
        self.systemctl("reload", "ehlod")
        login = ["--tls", "--auth", "PLAIN", "--auth-user", "carol",
                 "--quit-after", "AUTH"]
        # The reload has taken once a login goes to saslauthd: carol is
        # not in the sasldb.
        self.wait_for("a login through saslauthd", lambda: re.search(
            r"<~  235 ", self.swaks(*login, "--auth-password",
                                    "carol-pw")) is not None)
        out = self.swaks(*login, "--auth-password", "wrong")
        self.assertRegex(out, r"<~\* 535 ")
        self.journal_entries("ehlod", lambda e: "sasl_username=carol" in
                             str(e.get("MESSAGE")), 1, "carol's login logged")

    def check_dnsbl_example(self):
        """The shipped DNSBL example taken in, its zone one that dnsmasq
        answers on the name server the example names: the lookups leave
        the worker through the unit's sandbox.  127.0.0.1 is listed and
        gets 554 at connect; 127.0.0.2 (also loopback) is not listed and
        is served, its lookup answered (NXDOMAIN), not failed."""
        self.box.run(["systemd-run", "--unit=live-dns", "--quiet",
                      "/usr/sbin/dnsmasq", "--keep-in-foreground",
                      "--conf-file=/dev/null", "--pid-file=", "--user=root",
                      "--listen-address=127.0.0.1", "--bind-interfaces",
                      "--no-resolv", "--no-hosts", "--log-queries",
                      "--log-facility=-",
                      "--address=/1.0.0.127.bl.live.test/127.0.0.2",
                      "--local=/bl.live.test/"])
        self.wait_for("dnsmasq answering", lambda: "127.0.0.2" in self.box.run(
            ["python3", "-c", DNS_CLIENT, "1.0.0.127.bl.live.test"],
            check=False)[1])
        self.take_example("dnsbl", {"zones": '{"bl.live.test"}'})
        self.wait_for("the listed client refused after the reload",
                      lambda: re.search(r"<\*\* 554 ", self.swaks(
                          "--quit-after", "CONNECT")) is not None)
        out = self.swaks("--quit-after", "CONNECT")
        self.assertRegex(out, r"<\*\* 554 .*listed by bl\.live\.test")
        out = self.swaks("--local-interface", "127.0.0.2", "--from",
                         "alice@example.org", "--to", "root@localhost",
                         "--body", "systemd-live-dnsbl")
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: ")
        # The relay example is still in place of maildir.
        self.wait_for("the unlisted client's message in root's mailbox",
                      lambda: "systemd-live-dnsbl" in self.mailbox("root"))
        # The resolver asks in mixed case (0x20 bits against spoofing).
        self.journal_entries("live-dns", lambda e: "query[a] 2.0.0.127.bl."
                             "live.test" in str(e.get("MESSAGE")).lower(), 1,
                             "dnsmasq asked about 127.0.0.2")
        self.journal_entries("ehlod", lambda e: "client [127.0.0.1] listed "
                             "by bl.live.test" in str(e.get("MESSAGE")), 1,
                             "the listing logged")
        failed = [e["MESSAGE"] for e in self.journal("ehlod")
                  if "DNSBL lookup failed" in str(e.get("MESSAGE"))]
        self.assertEqual(failed, [])

    def ehlo_keywords_tls(self):
        out = self.swaks("--tls", "--quit-after", "EHLO")
        return set(re.findall(r"^<~  250[- ](\S+)", out, re.M))

    def assert_nothing_refused(self, unit):
        """The system call filter answers a call it leaves out with
        EPERM: no line of the unit may report one."""
        refused = [e["MESSAGE"] for e in self.journal(unit)
                   if "Operation not permitted" in str(e.get("MESSAGE"))]
        self.assertEqual(refused, [])

    def check_journal_priorities(self):
        started = self.journal_entries(
            "ehlod", lambda e: " started: " in e["MESSAGE"], 1,
            "the start line in the journal")
        # journald stamps the entry itself: the message starts with
        # ehlod's own text, and the priority is ehlod's.
        self.assertRegex(started[0]["MESSAGE"], r"^ehlod \S+ started: ")
        self.assertEqual(started[0]["PRIORITY"], "6")
        sent = self.journal_entries(
            "ehlod", lambda e: "status=sent" in e["MESSAGE"], 1,
            "the message's status=sent line in the journal")
        self.assertEqual(len(sent), 1, "one status=sent line")
        self.assertNotRegex(sent[0]["MESSAGE"], r"^\d{4}-\d\d-\d\dT")

    def check_reload_takes(self):
        good = self.read_conf(self.box.conf)
        self.assertIn("SMTPUTF8", self.ehlo_keywords())
        changed = good.replace("plugin smtputf8 {}\n", "")
        self.assertNotEqual(changed, good, "the shipped file loads smtputf8")
        self.write_conf(self.box.conf, changed)
        self.systemctl("reload", "ehlod")
        # The reload returns once the master has its SIGHUP; new workers
        # take over the listening socket a moment later.
        self.wait_for("EHLO without SMTPUTF8 after the reload",
                      lambda: "SMTPUTF8" not in self.ehlo_keywords())
        self.assertEqual(self.show("ehlod", "ActiveState")["ActiveState"],
                         "active")

    def check_broken_reload_keeps_serving(self):
        running = self.read_conf(self.box.conf)
        lines = running.count("\n")
        self.write_conf(self.box.conf, running + "no_such_option = 1\n")
        rc, out = self.systemctl("reload", "ehlod", check=False)
        self.assertNotEqual(rc, 0, "a broken file fails the reload")
        self.assertEqual(self.show("ehlod", "ActiveState")["ActiveState"],
                         "active")
        # The check prints its summary last.
        summary = "ehlod: %s: configuration not usable" % self.box.conf
        self.journal_entries("ehlod", lambda e: e["MESSAGE"] == summary, 1,
                             "the check's summary in the journal")
        errors = [e["MESSAGE"] for e in self.journal("ehlod")
                  if e.get("PRIORITY") == "3"]
        where = "%s:%d: no such option 'no_such_option'" % (self.box.conf,
                                                             lines + 1)
        self.assertTrue(any(where in m for m in errors),
                        "error lines in the journal: %r" % errors)
        self.assertIn(summary, errors)
        # The configuration that was running serves on.
        self.assertNotIn("SMTPUTF8", self.ehlo_keywords())
        out = self.swaks("--from", "alice@example.org", "--to",
                         "root@localhost", "--body", "after-broken-reload")
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as ")
        self.write_conf(self.box.conf, running)

    def check_syslog_reaches_journal(self):
        """syslog = true goes through /dev/log, which the unit's private
        /dev keeps, with the mail facility."""
        running = self.read_conf(self.box.conf)
        self.assertIn("\nsyslog = false\n", running)
        self.write_conf(self.box.conf, running.replace(
            "\nsyslog = false\n", "\nsyslog = true\n"))
        self.systemctl("reload", "ehlod")
        def sent_by_syslog():
            self.swaks("--from", "alice@example.org", "--to",
                       "root@localhost", "--body", "by-syslog")
            return [e for e in self.journal("ehlod")
                    if e.get("_TRANSPORT") == "syslog" and
                    "status=sent" in e["MESSAGE"]]
        self.wait_for("a status=sent line through syslog", sent_by_syslog)
        entry = sent_by_syslog()[0]
        self.assertEqual(entry["SYSLOG_FACILITY"], "2")	# mail
        self.assertEqual(entry["SYSLOG_IDENTIFIER"], "ehlod")
        self.write_conf(self.box.conf, running)
        self.systemctl("reload", "ehlod")

    def check_fail2ban_finds_denials(self):
        """The jail's filter over the journal finds the two relay
        denials sent here and the failed login of check_auth_example,
        and nothing else."""
        for _ in range(2):
            out = self.swaks("--from", "spam@example.org", "--to",
                             "victim@elsewhere.example")
            self.assertIn("554 5.7.1", out)
        self.journal_entries(
            "ehlod", lambda e: "Relay access denied" in e["MESSAGE"], 2,
            "both relay denials in the journal")
        jail = self.read_conf(self.box.fail2ban + "/jail.d/ehlod.conf")
        match = re.search(r"^journalmatch\s*=\s*(.+)$", jail, re.M)
        self.assertIsNotNone(match, "the jail reads the journal")
        _, out = self.box.run(["fail2ban-regex", "--print-all-matched",
                               "-m", match.group(1).strip(),
                               "systemd-journal",
                               self.box.fail2ban + "/filter.d/ehlod.conf"])
        lines = re.search(r"^Lines: \d+ lines, \d+ ignored, (\d+) matched",
                          out, re.M)
        self.assertIsNotNone(lines, out)
        self.assertEqual(int(lines.group(1)), 3, out)
        self.assertEqual(len(re.findall(r"unknown\[127\.0\.0\.1\].*Relay "
                                        r"access denied", out)), 2, out)
        self.assertEqual(len(re.findall(r"unknown\[127\.0\.0\.1\]: SASL "
                                        r"PLAIN authentication failed", out)),
                         1, out)

    def check_stop(self):
        started = time.monotonic()
        self.systemctl("stop", "ehlod")
        state = self.show("ehlod", "ActiveState", "Result", "ExecMainStatus")
        self.assertEqual(state["ActiveState"], "inactive")
        self.assertEqual(state["Result"], "success")
        self.assertEqual(state["ExecMainStatus"], "0")
        self.assertLess(time.monotonic() - started, 40,
                        "stopped by the master's drain, not TimeoutStopSec")

    # ---- ehlod-milter.service -------------------------------------------

    def miltertest_connect(self):
        script = "/root/milter_connect.lua"
        shutil.copy(os.path.join(env_path("EHLOD_SRCDIR"), "tests",
                                 "interop", "milter_connect.lua"),
                    self.box.path(script))
        rc, out = self.box.run(["miltertest", "-D",
                                "port=" + self.box.milter_port(),
                                "-D", "ip=127.0.0.1", "-D", "want=continue",
                                "-s", script], check=False, timeout=60)
        self.assertEqual(rc, 0, out)

    def send_through_postfix(self, marker, lines):
        """smtplib (inside) hands Postfix a message of about 72 * lines
        body octets, marker on its first line: (code, text) of the
        answer to its data."""
        rc, out = self.box.run(["python3", "-c", POSTFIX_CLIENT, marker,
                                str(lines)], check=False, timeout=60)
        self.assertEqual(rc, 0, out)
        code, text = out.strip().split(" ", 1)
        return int(code), text

    def test_milter_serves_postfix_from_boot(self):
        """Both enabled at boot: Debian runs Postfix as postfix@-.service,
        which must start only once ehlod-milter serves; then every
        message goes through the milter, whose verdict reaches the
        client."""
        after = self.show("postfix@-.service", "After")["After"].split()
        self.assertIn("ehlod-milter.service", after,
                      "Postfix is not ordered after the milter")
        milter = self.show("ehlod-milter", "ActiveState",
                           "ActiveEnterTimestampMonotonic")
        postfix = self.show("postfix@-.service", "ActiveState",
                            "InactiveExitTimestampMonotonic")
        self.assertEqual(milter["ActiveState"], "active")
        self.assertEqual(postfix["ActiveState"], "active")
        self.assertLessEqual(int(milter["ActiveEnterTimestampMonotonic"]),
                             int(postfix["InactiveExitTimestampMonotonic"]),
                             "Postfix started before the milter served")

        marker = "ehlod-milter-passed-%d" % time.time_ns()
        self.passes_milter_through_postfix(marker)
        self.wait_for("the message in root's mailbox",
                      lambda: marker in self.mailbox("root"))

        # The milter's own verdict: its size plugin's limit lowered.
        shipped = self.read_conf(self.box.milter_conf)
        lowered, n = re.subn(r"(plugin size \{ limit = )\d+", r"\g<1>1000",
                             shipped)
        self.assertEqual(n, 1, "the shipped size plugin section")
        try:
            self.write_conf(self.box.milter_conf, lowered)
            self.systemctl("reload", "ehlod-milter")
            code, text = self.send_through_postfix("too big", 40)
            self.assertEqual(code, 552, text)
            self.assertTrue(text.startswith("5.3.4 "), text)
            self.journal_entries(
                "postfix@-.service",
                lambda e: "milter-reject: END-OF-MESSAGE" in
                e.get("MESSAGE", ""), 1, "Postfix's milter-reject line")
        finally:
            self.write_conf(self.box.milter_conf, shipped)
            self.systemctl("reload", "ehlod-milter")

    def test_milter_via_unix_socket_example(self):
        """The shipped ehlod-milter.conf's unix socket example for
        Postfix, taken in as it stands (its directory made as it says,
        main.cf's smtpd_milters as it says): Postfix's chrooted smtpd,
        running as postfix, reaches the milter through the socket's
        group."""
        shipped = self.read_conf(self.box.milter_conf)
        example = re.search(r'^#(milter_socket = "unix:([^"]+)")\n'
                            r'#(milter_socket_group = .*)$', shipped, re.M)
        self.assertIsNotNone(example, "ehlod-milter.conf shows a unix "
                             "socket for Postfix")
        main_cf = re.search(r"smtpd_milters = (unix:\S+)", shipped)
        self.assertIsNotNone(main_cf, "the example names main.cf's line")
        socket_path = example.group(2)
        changed = re.sub(r'(?m)^milter_socket = "inet:', '#milter_socket '
                         '= "inet:', shipped).replace(
            example.group(0), example.group(1) + "\n" + example.group(3))
        try:
            self.write_conf(self.box.milter_conf, changed)
            self.box.run(["mkdir", "-p", os.path.dirname(socket_path)])
            self.systemctl("restart", "ehlod-milter")
            self.box.run(["postconf", "-e", "smtpd_milters = "
                          + main_cf.group(1)])
            self.systemctl("restart", "postfix@-.service")
            st = os.stat(self.box.path(socket_path))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
            self.assertEqual(st.st_gid, self.box_gid("postfix"))
            self.passes_milter_through_postfix("over-unix-socket")
            # A reload's generation takes the socket as it is.
            self.systemctl("reload", "ehlod-milter")
            self.passes_milter_through_postfix("over-unix-socket-reloaded")
        finally:
            self.write_conf(self.box.milter_conf, shipped)
            self.box.run(["postconf", "-e", "smtpd_milters = "
                          "inet:127.0.0.1:" + self.box.milter_port()])
            self.systemctl("restart", "ehlod-milter")
            self.systemctl("restart", "postfix@-.service")
        self.assert_nothing_refused("ehlod-milter")

    def passes_milter_through_postfix(self, marker):
        """A message with marker is accepted by Postfix, and the milter
        logged it as passed under Postfix's queue id."""
        code, text = self.send_through_postfix(marker, 2)
        self.assertEqual(code, 250, text)
        queue_id = re.search(r"queued as (\w+)", text).group(1)
        self.journal_entries(
            "ehlod-milter",
            lambda e: re.search(r"\b%s: from=<sender@localhost>, .*"
                                r"status=passed" % queue_id,
                                e.get("MESSAGE", "")), 1,
            "the milter's status=passed line for " + queue_id)

    def box_gid(self, group):
        """A group's id inside the container."""
        for line in file_text(self.box.path("/etc/group")).splitlines():
            fields = line.split(":")
            if fields[0] == group:
                return int(fields[2])
        self.fail("no group %s in the container" % group)

    def mailbox(self, user):
        try:
            return file_text(self.box.path("/var/mail/" + user))
        except FileNotFoundError:
            return ""

    def test_milter_unit_start_session_reload_stop(self):
        self.systemctl("start", "ehlod-milter")
        state = self.show("ehlod-milter", "ActiveState", "MainPID")
        self.assertEqual(state["ActiveState"], "active")
        self.miltertest_connect()
        self.systemctl("reload", "ehlod-milter")
        self.miltertest_connect()
        after = self.show("ehlod-milter", "ActiveState", "MainPID")
        self.assertEqual(after, state, "the reload keeps the master")
        self.systemctl("stop", "ehlod-milter")
        state = self.show("ehlod-milter", "ActiveState", "Result",
                          "ExecMainStatus")
        self.assertEqual(state, {"ActiveState": "inactive",
                                 "Result": "success", "ExecMainStatus": "0"})
        self.assert_nothing_refused("ehlod-milter")


if __name__ == "__main__":
    main()
